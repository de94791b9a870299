import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RegistrarCore
@testable import RegistrarFetch
import Testing

/// SSRF (issue 5, item 6): every URL form of the table is refused without a single connection —
/// proven by a canary listener that counts the connections it accepts — and the forms that lead
/// to the canary ARE fetched once the allow-list (`REGISTRAR_FETCH_ALLOW` semantics) names them.
@Suite("SSRF canary", .serialized)
struct SSRFCanaryTests {
    enum Outcome: CustomStringConvertible {
        /// `destination_forbidden`, no attempt, no socket.
        case forbidden
        /// `invalid_url`, no attempt, no socket.
        case invalidURL
        /// libcurl's reading of the URL names another host than a naive reading does; that host
        /// (the allowed fault server) is what is vetted and connected to: never the canary.
        case reachesAllowedServer
        /// libcurl's host is this name, which does not resolve offline: no connection anywhere.
        case unresolvable(String)

        var description: String {
            switch self {
            case .forbidden: return "destination_forbidden"
            case .invalidURL: return "invalid_url"
            case .reachesAllowedServer: return "the allowed server"
            case .unresolvable(let n): return "unresolvable \(n)"
            }
        }
    }

    struct Row {
        var url: String
        /// The allow-list the refusal is checked under ("" = strict).
        var refusedUnder: String = ""
        var outcome: Outcome = .forbidden
        /// An allow-list under which the same URL reaches the canary (nil: the form does not route
        /// to the canary on this machine, e.g. 10.0.0.1, or must never be fetched).
        var fetchedUnder: String? = nil
        var followRedirects = false
    }

    /// The machine's own name when it resolves to a loopback address only (/etc/hosts): a host
    /// name resolving to a non-public address, with no DNS needed.
    static func loopbackHostName() -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return nil }
        let name = String(cString: buf).lowercased()
        guard !name.isEmpty, name != "localhost", case .success(let addrs) = HostResolver.resolve(name), !addrs.isEmpty,
              addrs.allSatisfy({ $0 == IPAddress(v4: 127, 0, 0, 1) }) else { return nil }
        return name
    }

    func rows(canary c: Int, fault f: Int) -> [Row] {
        let loop = "127.0.0.0/8,::1/128"
        var rows: [Row] = []
        // Loopback in every spelling, all at the canary.
        for host in ["127.0.0.1", "127.1", "127.0.1", "0177.0.0.1", "0x7f.0.0.1", "0x7f.1", "0x7f000001", "2130706433",
                     "017700000001", "127.000.000.001", "127.0.0.1.", "127.0.0.2", "%31%32%37.0.0.1",
                     "[::1]", "[0:0:0:0:0:0:0:1]", "[0000:0000:0000:0000:0000:0000:0000:0001]",
                     "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::FFFF:7F00:1]", "[0:0:0:0:0:ffff:127.0.0.1]"] {
            rows.append(Row(url: "http://\(host):\(c)/x?X-Amz-Signature=SECRET", fetchedUnder: loop))
        }
        // Names: localhost in any case, with a trailing dot, percent-encoded; the machine's name.
        for host in ["localhost", "LOCALHOST.", "LocalHost", "%6c%6f%63%61%6c%68%6f%73%74"] {
            rows.append(Row(url: "http://\(host):\(c)/x", fetchedUnder: loop))
            rows.append(Row(url: "http://\(host):\(c)/x", fetchedUnder: "localhost"))  // allowed by name
        }
        if let me = Self.loopbackHostName() {
            rows.append(Row(url: "http://\(me):\(c)/x", fetchedUnder: loop))
            rows.append(Row(url: "http://\(me.uppercased()).:\(c)/x", fetchedUnder: me))
            rows.append(Row(url: "http://\(me):\(c)/x", refusedUnder: "localhost"))  // another name for the same address
        }
        // Unspecified: 0.0.0.0 and :: reach the local host.
        rows.append(Row(url: "http://0.0.0.0:\(c)/x", fetchedUnder: "0.0.0.0/32"))
        rows.append(Row(url: "http://0:\(c)/x", fetchedUnder: "0.0.0.0/32"))
        rows.append(Row(url: "http://[::]:\(c)/x", fetchedUnder: "::/128"))
        // Scheme and authority oddities that still name the canary.
        rows.append(Row(url: "HTTP://127.0.0.1:\(c)/x", fetchedUnder: loop))
        rows.append(Row(url: "http:/127.0.0.1:\(c)/x", fetchedUnder: loop))
        rows.append(Row(url: "http://user:password@127.0.0.1:\(c)/x", fetchedUnder: loop))
        rows.append(Row(url: "http://allowed.example@127.0.0.1:\(c)/", fetchedUnder: loop))
        rows.append(Row(url: "http://allowed.example:80\\@127.0.0.1:\(c)/", fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.1:\(c)#@allowed.example/", fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.1:\(c)?@allowed.example/", fetchedUnder: loop))
        rows.append(Row(url: "http://[::1]:\(c)#@allowed.example/", fetchedUnder: loop))
        // libcurl reads the host after the backslash's '@': allowed.example, not 127.0.0.1.
        rows.append(Row(url: "http://127.0.0.1:\(c)\\@allowed.example/", outcome: .unresolvable("allowed.example")))
        // Internationalised spellings libcurl would map (IDNA) onto loopback.
        for host in ["１２７.0.0.1", "127。0。0。1", "127．0．0．1", "ｌｏｃａｌｈｏｓｔ", "ⓛocalhost", "%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1"] {
            rows.append(Row(url: "http://\(host):\(c)/x"))
        }
        // A zone identifier.
        rows.append(Row(url: "http://[::1%25lo]:\(c)/x"))
        rows.append(Row(url: "http://[fe80::1%25eth0]:\(c)/x"))

        // Forbidden space that does not lead to the canary here.
        for host in ["10.0.0.1", "10.255.255.254", "012.0.0.1", "167772161", "172.16.0.1", "172.31.255.255", "0xac.0x10.0.1",
                     "192.168.0.1", "192.168.1", "3232235777", "[::ffff:10.0.0.1]", "[::ffff:192.168.0.1]",
                     "169.254.0.1", "169.254.169.254", "0xa9fea9fe", "0xA9.0xFE.0xA9.0xFE", "2852039166", "0251.0376.0251.0376",
                     "169.254.43518", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "169.254.170.2", "100.100.100.200",
                     "[fd00:ec2::254]", "[fd20:ce::254]", "metadata.google.internal", "METADATA.GOOGLE.INTERNAL.",
                     "metadata", "metadata.goog", "instance-data", "%6d%65%74%61%64%61%74%61.google.internal",
                     "100.64.0.1", "100.127.255.254", "[::ffff:100.64.0.1]",
                     "224.0.0.1", "239.255.255.250", "[ff02::1]", "[ff05::1:3]",
                     "240.0.0.1", "254.255.255.254", "255.255.255.255", "192.0.0.192", "192.0.2.2", "198.18.0.1",
                     "[64:ff9b::7f00:1]", "[64:ff9b::127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b::a00:1]", "[64:ff9b:1::1]",
                     "[2002:7f00:1::]", "[2002:7f00:1::1]", "[2002:a9fe:a9fe::]", "[2002:c0a8:1::]",
                     "[2001:0:4136:e378:8000:63bf:80ff:fffe]", "[2001::1]",
                     "[::127.0.0.1]", "[::7f00:1]", "[::ffff:0:7f00:1]", "[::ffff:0:127.0.0.1]",
                     "[fc00::1]", "[fd12:3456:789a::1]", "[fd00::2]", "[fe80::1]", "[fec0::1]", "[2001:db8::1]", "[100::1]"] {
            rows.append(Row(url: "http://\(host):\(c)/latest/meta-data/?X-Amz-Signature=SECRET"))
        }
        // A wide allow-list never unlocks metadata addresses.
        rows.append(Row(url: "http://169.254.169.254:\(c)/", refusedUnder: "169.254.0.0/16,0.0.0.0/0,::/0"))
        rows.append(Row(url: "http://[::ffff:169.254.169.254]:\(c)/", refusedUnder: "169.254.0.0/16,0.0.0.0/0,::/0"))
        rows.append(Row(url: "http://[fd00:ec2::254]:\(c)/", refusedUnder: "fd00::/8,::/0"))

        // Only http and https; malformed URLs.
        for url in ["gopher://127.0.0.1:\(c)/_x", "dict://127.0.0.1:\(c)/x", "ftp://127.0.0.1:\(c)/x", "file:///etc/passwd",
                    "ldap://127.0.0.1:\(c)/", "telnet://127.0.0.1:\(c)/", "http:\\\\127.0.0.1:\(c)\\x", "http://127.0.0.1 :\(c)/",
                    "http://127.0.0.1%00.allowed.example/", "http://a@b@127.0.0.1:\(c)/", "http://[::1:\(c)/", "http://127.0.0.1:\(c)0000/"] {
            rows.append(Row(url: url, outcome: .invalidURL))
        }

        // The allowed server (the fault server on 127.0.0.1, another port) next to the canary.
        let allowed = "127.0.0.1/32"
        let a = "http://127.0.0.1:\(f)"
        rows.append(Row(url: "http://[::1]:\(c)/x", refusedUnder: allowed, fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.2:\(c)/x", refusedUnder: allowed, fetchedUnder: loop))
        rows.append(Row(url: "http://[::ffff:127.0.0.2]:\(c)/x", refusedUnder: allowed, fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.1:\(f)@127.0.0.2:\(c)/x", refusedUnder: allowed, fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.2:\(c)#@127.0.0.1:\(f)/obj/10", refusedUnder: allowed, fetchedUnder: loop))
        rows.append(Row(url: "http://127.0.0.2:\(c)\\@127.0.0.1:\(f)/obj/10", refusedUnder: allowed, outcome: .reachesAllowedServer))
        rows.append(Row(url: "http://127.0.0.1:\(f)/obj/10#@127.0.0.2:\(c)/", refusedUnder: allowed, outcome: .reachesAllowedServer))
        rows.append(Row(url: "http://127.0.0.1:\(f)/obj/10?@127.0.0.2:\(c)/", refusedUnder: allowed, outcome: .reachesAllowedServer))

        // Redirects from the allowed server into forbidden space: every hop is vetted.
        func hop(_ to: String) -> String { "\(a)/redirect?to=" + to.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        for to in ["http://127.0.0.2:\(c)/x?X-Amz-Signature=SECRET", "http://[::1]:\(c)/x", "http://0x7f.0.0.2:\(c)/x", "http://2130706434:\(c)/x",
                   "http://[::ffff:127.0.0.2]:\(c)/x", "http://[::ffff:7f00:2]:\(c)/x", "http://127.0.0.1:\(f)@127.0.0.2:\(c)/x",
                   "http://%31%32%37.0.0.2:\(c)/x"] {
            rows.append(Row(url: hop(to), refusedUnder: allowed, fetchedUnder: loop, followRedirects: true))
        }
        for to in ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
                   "http://10.0.0.1/", "http://[fd00:ec2::254]/"] {
            rows.append(Row(url: hop(to), refusedUnder: allowed, followRedirects: true))
        }
        for to in ["gopher://127.0.0.2:\(c)/_x", "file:///etc/passwd", "dict://127.0.0.2:\(c)/"] {
            rows.append(Row(url: hop(to), refusedUnder: allowed, outcome: .invalidURL, followRedirects: true))
        }
        // The allowed server allowed by NAME (localhost): another name or a literal for the same
        // loopback address is not allowed by it.
        let byName = "http://localhost:\(f)/redirect?to="
        for to in ["http://127.0.0.1:\(c)/x", "http://0x7f000001:\(c)/x", "http://[::1]:\(c)/x"] + (Self.loopbackHostName().map { ["http://\($0):\(c)/x"] } ?? []) {
            rows.append(Row(url: byName + to.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, refusedUnder: "localhost",
                            fetchedUnder: "localhost," + loop, followRedirects: true))
        }
        return rows
    }

    func fetcher(_ allowList: String, follow: Bool) throws -> RangeFetcher {
        try RangeFetcher(policy: FetchPolicy(addressPolicy: try AddressPolicy(allowList: allowList), connectTimeout: 1, totalTimeout: 3,
                                             maxAttempts: 1, followRedirects: follow))
    }

    @Test func everyFormIsRefusedWithoutAConnectionAndFetchedOnlyWhenAllowed() throws {
        let fault = try TestServers.fault.get()
        let canary = try CanaryServer()
        defer { canary.stop() }
        let table = rows(canary: canary.port, fault: fault.port)
        var unexpected = 0, fetched = 0
        for row in table {
            let what = "\(row.url) [allow: '\(row.refusedUnder)']"
            let f = try fetcher(row.refusedUnder, follow: row.followRedirects)
            let before = canary.connections
            let r = f.fetch([FetchRequest(id: 0, url: row.url, rangeLength: 1024)])[0]
            try canary.barrier()
            unexpected += canary.connections - before
            #expect(canary.connections == before, "\(what): the canary was connected to (\(r.failure?.rawValue ?? "ok"))")
            let m = r.message ?? ""
            #expect(!m.contains("SECRET") && !m.contains("password"), "\(what): \(m)")
            switch row.outcome {
            case .forbidden, .invalidURL:
                let want: FetchFailure = { if case .forbidden = row.outcome { return .destinationForbidden }; return .invalidURL }()
                #expect(r.failure == want, "\(what): \(r.failure?.rawValue ?? "fetched") \(m)")
                #expect(r.attempts == (row.followRedirects ? 1 : 0), "\(what)")
                #expect(row.followRedirects || f.connectionsOpened == 0, "\(what): a socket was opened")
                if row.followRedirects {
                    #expect(f.connectionsOpened == 1, "\(what): only the allowed server's socket")
                } else if want == .destinationForbidden {
                    #expect(m.contains("refusing") || m.contains("zone"), "\(what): \(m)")
                }
            case .reachesAllowedServer:
                #expect(r.status > 0 && r.failure != .destinationForbidden, "\(what): \(r.failure?.rawValue ?? "") \(m)")
                #expect(r.bytes != Array(CanaryServer.body.utf8), "\(what)")
            case .unresolvable(let name):
                #expect(r.failure == .connectFailed && m.contains(name), "\(what): \(r.failure?.rawValue ?? "fetched") \(m)")
                #expect(f.connectionsOpened == 0, "\(what)")
            }

            // The same URL, allowed: it reaches the canary (so the refusal above was the policy's).
            if let allow = row.fetchedUnder {
                let g = try fetcher(allow, follow: row.followRedirects)
                let before = canary.connections
                let ok = g.fetch([FetchRequest(id: 0, url: row.url, rangeLength: 1024)])[0]
                #expect(ok.failure == nil && ok.status == 200 && ok.bytes == Array(CanaryServer.body.utf8),
                        "\(row.url) [allow: '\(allow)']: \(ok.failure?.rawValue ?? "") \(ok.message ?? "")")
                #expect(canary.connections >= before + 1, "\(row.url) [allow: '\(allow)']: the canary saw no connection")
                fetched += 1
            }
        }
        print("SSRF canary: \(table.count) rows checked under their refusing policy (\(unexpected) canary connections), \(fetched) fetched under their allow-list")
        #expect(canary.connections == fetched, "exactly one connection per allowed fetch, none for the refusals")
    }

    // MARK: - Redirects as the commands fetch (issue 20)

    /// `registrar probe` (the same `FetchOptions` as `worker`) follows redirects by default, and
    /// each hop goes through the address policy: a hop into refused space makes no connection
    /// to it; an allowed hop is followed; `--fetch-max-redirects 0` follows none.
    @Test func theFetchingCommandsFollowRedirectsVettingEveryHop() throws {
        let fault = try TestServers.fault.get()
        let canary = try CanaryServer()
        defer { canary.stop() }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("registrar")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "the registrar binary is built next to the tests")
        func probe(_ url: String, _ args: [String]) throws -> (status: Int32, out: String) {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["probe", url, "--json"] + args
            var env = ProcessInfo.processInfo.environment
            env["REGISTRAR_FETCH_ALLOW"] = nil
            env["REGISTRAR_FETCH_MAX_REDIRECTS"] = nil
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let target = "http://127.0.0.2:\(canary.port)/x?X-Amz-Signature=SECRET"
        let hop = "http://127.0.0.1:\(fault.port)/redirect?to=" + target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!

        var before = canary.connections
        let refused = try probe(hop, ["--fetch-allow", "127.0.0.1/32"])
        try canary.barrier()
        #expect(refused.status == 1 && refused.out.contains("destination_forbidden"), "\(refused.out)")
        #expect(!refused.out.contains("SECRET"), "\(refused.out)")
        #expect(canary.connections == before, "the refused hop was never connected to")

        before = canary.connections
        let off = try probe(hop, ["--fetch-allow", "127.0.0.0/8", "--fetch-max-redirects", "0"])
        try canary.barrier()
        #expect(off.status == 1 && off.out.contains("too_many_redirects"), "\(off.out)")
        #expect(canary.connections == before, "with redirects off the target is never asked")

        before = canary.connections
        let allowed = try probe(hop, ["--fetch-allow", "127.0.0.0/8"])
        try canary.barrier()
        #expect(allowed.status == 0 && allowed.out.contains("text/plain"), "the canary's text was probed: \(allowed.out)")
        #expect(canary.connections == before + 1, "the allowed hop was followed, once")
    }

    /// Signing headers and the original URL's query go only to the first origin: a redirect to
    /// another host (the canary) receives neither.
    @Test func signaturesAreNotForwardedToAnotherHost() throws {
        let fault = try TestServers.fault.get()
        let heads = HeadLog()
        let canary = try CanaryServer { head in heads.append(head); return CanaryServer.ok() }
        defer { canary.stop() }
        let f = try RangeFetcher(policy: FetchPolicy(addressPolicy: try AddressPolicy(allowList: "127.0.0.0/8"), totalTimeout: 3,
                                                     maxAttempts: 1, followRedirects: true))
        let target = "http://127.0.0.2:\(canary.port)/x"
        let url = "http://127.0.0.1:\(fault.port)/redirect?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            + "&X-Amz-Signature=QUERYSECRET"
        let r = f.fetch([FetchRequest(id: 0, url: url, headers: ["Authorization: AWS4-HMAC-SHA256 Credential=HEADERSECRET",
                                                                 "x-amz-security-token: HEADERSECRET", "x-ms-date: HEADERSECRET"])])[0]
        #expect(r.failure == nil && r.bytes == Array(CanaryServer.body.utf8), "\(r.failure?.rawValue ?? "") \(r.message ?? "")")
        try canary.barrier()
        let seen = heads.all
        #expect(seen.count == 1, "the canary was asked once")
        for head in seen {
            #expect(!head.contains("HEADERSECRET") && !head.contains("QUERYSECRET"), "forwarded: \(head)")
            #expect(!head.lowercased().contains("authorization"), "\(head)")
        }
    }

    // MARK: - Fetched bytes never reach a message

    @Test func errorBodiesNeverReachTheMessage() throws {
        let secret = "LEAKCANARY\(UInt64.random(in: 0...UInt64.max))"
        let canary = try CanaryServer { head in
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            let parts = path.split(separator: "/").map(String.init)
            let status = parts.count > 1 ? Int(parts[1]) ?? 500 : 500
            let body = "<Error><Code>\(parts.count > 2 ? parts[2] : "X")</Code><Message>\(secret)</Message><Region>\(secret)</Region>"
                + "<Key>\(secret)</Key></Error>\n\(secret)"
            var headers: [(String, String)] = [("Content-Type", "application/xml"), ("X-Debug", secret)]
            if status == 429 || status == 503 { headers.append(("Retry-After", "0")) }
            if status == 416 { headers.append(("Content-Range", "bytes */\(secret)")) }
            return CanaryServer.response(status, "X", headers: headers, body: body)
        }
        defer { canary.stop() }
        let base = "http://127.0.0.1:\(canary.port)/e"
        let paths = ["400/Bad", "400/AuthorizationHeaderMalformed", "301/PermanentRedirect", "302/Found", "401/Unauthorized",
                     "403/AccessDenied", "404/NoSuchKey", "405/X", "410/X", "416/X", "418/X", "429/X", "500/X", "502/X",
                     "503/SlowDown", "503/X", "504/X"]
        let f = try RangeFetcher(policy: FetchPolicy(addressPolicy: try AddressPolicy(allowList: "127.0.0.0/8"), totalTimeout: 3,
                                                     maxAttempts: 2, baseBackoff: 0, maxBackoff: 0))
        let results = f.fetch(paths.enumerated().map { FetchRequest(id: $0.offset, url: "\(base)/\($0.element)", rangeStart: 5) })
        #expect(canary.connections >= paths.count)
        for r in results {
            #expect(r.failure != nil, "\(paths[r.id])")
            #expect(r.bytes.isEmpty, "\(paths[r.id]): error bodies are not passed on")
            #expect(r.message?.contains(secret) == false, "\(paths[r.id]): \(r.message ?? "")")
            #expect(r.message?.contains("LEAKCANARY") == false)
        }
        let denied = try #require(results.first { paths[$0.id] == "403/AccessDenied" })
        #expect(denied.failure == .accessDenied && denied.status == 403)
        let region = try #require(results.first { paths[$0.id] == "400/AuthorizationHeaderMalformed" })
        #expect(region.failure == .wrongRegion, "a <Region> that is not a region name is dropped, the code stays")
    }

    // MARK: - Token endpoints go through the same vetting

    /// A service-account key file names its own `token_uri`: pointing it into forbidden space gets
    /// `destination_forbidden` from the authenticator, with no connection; allow-listed, the POST
    /// reaches the canary (which is no token endpoint, so no credentials come of it).
    @Test func serviceAccountTokenURIIsVettedLikeObjects() throws {
        let pem = Pipe()
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        openssl.standardOutput = pem
        try openssl.run()
        let keyPEM = String(decoding: pem.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0 && keyPEM.contains("PRIVATE KEY"))
        let canary = try CanaryServer()
        defer { canary.stop() }
        let c = canary.port
        func auth(_ tokenURI: String, _ allowList: String) throws -> (Result<RequestAuth, IntegrationAuthenticator.Failure>, RangeFetcher) {
            let key = GCPServiceAccountKey(clientEmail: "sa@p.iam.gserviceaccount.com", privateKeyPEM: keyPEM, privateKeyID: nil, tokenURI: tokenURI)
            let a = IntegrationAuthenticator(kind: .gcp, settings: IntegrationSettings(), secret: .gcpServiceAccount(key))
            let f = try fetcher(allowList, follow: false)
            return (a.currentAuth(using: f), f)
        }
        for uri in ["http://127.0.0.1:\(c)/token", "http://0x7f000001:\(c)/token", "http://[::1]:\(c)/token", "http://localhost:\(c)/token",
                    "http://[::ffff:127.0.0.1]:\(c)/token", "http://allowed.example@127.0.0.2:\(c)/token",
                    "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
                    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
                    "http://[fd20:ce::254]/token", "http://10.0.0.1/token"] {
            let before = canary.connections
            let (r, f) = try auth(uri, "")
            try canary.barrier()
            guard case .failure(let failure) = r else { Issue.record("\(uri): credentials were had"); continue }
            #expect(failure.code == "destination_forbidden", "\(uri): \(failure)")
            #expect(f.connectionsOpened == 0, "\(uri)")
            #expect(canary.connections == before, "\(uri): the canary was connected to")
        }
        let before = canary.connections
        let (r, _) = try auth("http://127.0.0.1:\(c)/token", "127.0.0.1/32")
        guard case .failure(let failure) = r else { Issue.record("the canary issued no token"); return }
        #expect(failure.code == "credentials_unavailable", "\(failure)")
        #expect(canary.connections == before + 1, "allow-listed, the token request reached the canary")
    }
}

/// Request heads a canary received (it serves on its own threads).
final class HeadLog: @unchecked Sendable {
    private let lock = NSLock()
    private var heads: [String] = []
    func append(_ h: String) { lock.lock(); heads.append(h); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return heads }
}
