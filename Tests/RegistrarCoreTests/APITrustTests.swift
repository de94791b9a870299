import RegistrarCore
import Testing

/// The pure rules behind what the API trusts and shows (issue 20, weaknesses 2, 5 and 6):
/// page cursors, origins and forwarding headers, and credentials in URLs.
@Suite struct APITrustTests {

    // MARK: Page cursors

    @Test func aCursorRoundTripsInItsOwnScopeOnly() throws {
        let scope = ["uploads", "tenant-a"]
        let key = ["1764000000123456", "6f1c1f0e-9a57-4c2e-8f1e-2b1a0c9d8e7f"]
        let token = PageCursor(key: key).token(scope: scope)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(!token.contains("tenant-a") && !token.contains(key[1]), "the token shows its scope or key in clear: \(token)")
        #expect(PageCursor.decode(token, scope: scope, keyColumns: 2)?.key == key)
        // Another tenant's, another listing's, or another column count: refused like garbage.
        #expect(PageCursor.decode(token, scope: ["uploads", "tenant-b"], keyColumns: 2) == nil)
        #expect(PageCursor.decode(token, scope: ["folders", "tenant-a"], keyColumns: 2) == nil)
        #expect(PageCursor.decode(token, scope: scope, keyColumns: 1) == nil)
    }

    @Test func malformedTokensAreRefused() {
        let scope = ["errors", "t", "job"]
        let good = PageCursor(key: ["41"]).token(scope: scope)
        let bad = ["", "41", "6f1c1f0e-9a57-4c2e-8f1e-2b1a0c9d8e7f", "not a token", good + "=", good + "A", good + "/",
                   "+" + good, String(repeating: "A", count: PageCursor.maxTokenLength + 4), Base64URL.encode([0xFF, 0xFE, 0x1F])]
        for token in bad {
            #expect(PageCursor.decode(token, scope: scope, keyColumns: 1) == nil, "accepted \(token.debugDescription)")
        }
        #expect(PageCursor.decode(good, scope: scope, keyColumns: 1)?.key == ["41"])
    }

    @Test func base64URLIsStrictAndRoundTrips() {
        var rng = SplitMix64(seed: 20)
        for n in 0..<64 {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("QQ") == [0x41])
        #expect(Base64URL.decode("QR") == nil, "stray low bits decode to the same byte: not canonical")
        #expect(Base64URL.decode("Q") == nil)
        #expect(Base64URL.decode("QQ==") == nil)
    }

    // MARK: Origins and forwarding headers

    func request(_ host: String?, scheme: String = "http", peer: String? = "203.0.113.9",
                 xfHost: [String] = [], xfProto: [String] = []) -> OriginPolicy.Request {
        OriginPolicy.Request(scheme: scheme, host: host, forwardedHost: xfHost, forwardedProto: xfProto, peer: peer.flatMap { IPAddress($0) })
    }

    @Test func originsCompareSchemeHostAndPort() {
        let policy = OriginPolicy()
        let r = request("127.0.0.1:8097")
        #expect(policy.isSameOrigin("http://127.0.0.1:8097", r))
        #expect(policy.isSameOrigin("HTTP://127.0.0.1:8097", r))
        // The issue's second bypass: another scheme on the same host and port.
        #expect(!policy.isSameOrigin("https://127.0.0.1:8097", r))
        #expect(!policy.isSameOrigin("http://127.0.0.1:8098", r))
        #expect(!policy.isSameOrigin("http://127.0.0.1", r))
        #expect(!policy.isSameOrigin("http://evil.example", r))
        #expect(!policy.isSameOrigin("null", r))
        #expect(!policy.isSameOrigin("http://127.0.0.1:8097/", r), "an Origin never has a path")
        #expect(!policy.isSameOrigin("http://x@127.0.0.1:8097", r))
        // Default ports are the same origin written either way.
        #expect(policy.isSameOrigin("http://example.com", request("example.com:80")))
        #expect(policy.isSameOrigin("https://example.com:443", request("EXAMPLE.com", peer: nil, xfProto: ["https"])) == false,
                "X-Forwarded-Proto without a trusted peer is ignored")
        #expect(!policy.isSameOrigin("http://a", request(nil)), "no Host: nothing to compare with")
        #expect(policy.isSameOrigin("http://[::1]:8000", request("[::1]:8000")))
    }

    @Test func forwardedHeadersCountOnlyFromTrustedProxies() throws {
        // The issue's first bypass: X-Forwarded-Host naming the attacker's site.
        let untrusted = OriginPolicy()
        let forged = request("127.0.0.1:8097", peer: "127.0.0.1", xfHost: ["evil.example"])
        #expect(!untrusted.isSameOrigin("http://evil.example", forged))
        #expect(untrusted.isSameOrigin("http://127.0.0.1:8097", forged))

        let proxied = OriginPolicy(trustedProxies: try TrustedProxies(parsing: "10.0.0.0/8, 192.0.2.7"))
        let viaProxy = request("registrar-api:8000", peer: "10.1.2.3", xfHost: ["registrar.example.com"], xfProto: ["https"])
        #expect(proxied.requestOrigin(viaProxy)?.description == "https://registrar.example.com")
        #expect(proxied.isSameOrigin("https://registrar.example.com", viaProxy))
        #expect(!proxied.isSameOrigin("http://registrar.example.com", viaProxy))
        #expect(proxied.isHTTPS(viaProxy))
        let direct = request("registrar-api:8000", peer: "203.0.113.9", xfHost: ["registrar.example.com"], xfProto: ["https"])
        #expect(proxied.requestOrigin(direct)?.description == "http://registrar-api:8000")
        #expect(!proxied.isHTTPS(direct))
        // IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d.
        #expect(proxied.trustedProxies.contains(IPAddress("::ffff:10.9.9.9")!))
        #expect(throws: TrustedProxies.ParseError.self) { try TrustedProxies(parsing: "10.0.0.0/8,proxy.local") }
        #expect(try TrustedProxies(parsing: "").isEmpty)
    }

    @Test func aPublicOriginIsTheOnlyOneAccepted() throws {
        let policy = OriginPolicy(publicOrigin: WebOrigin(url: "https://registrar.example.com/status"),
                                  trustedProxies: try TrustedProxies(parsing: "10.0.0.1"))
        let good = request("registrar.example.com", peer: "10.0.0.1", xfProto: ["https"])
        #expect(policy.isAddressedToPublicOrigin(good))
        #expect(policy.isSameOrigin("https://registrar.example.com", good))
        #expect(!policy.isSameOrigin("https://evil.example", good))
        // Host validation: a request sent under another name (DNS rebinding) is not this site,
        // even when Origin matches that name.
        let rebound = request("evil.example", peer: "10.0.0.1", xfProto: ["https"])
        #expect(!policy.isAddressedToPublicOrigin(rebound))
        #expect(!policy.isSameOrigin("https://evil.example", rebound))
        #expect(policy.isHTTPS(request("x", peer: nil)))
        #expect(WebOrigin(url: "https://u:p@registrar.example.com") == nil)
        #expect(WebOrigin(url: "ftp://registrar.example.com") == nil)
        #expect(WebOrigin(url: "http://h:99999") == nil)
    }

    @Test func theClientAddressIsTheLastUntrustedHop() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8")
        let peer = IPAddress("10.0.0.5")!
        #expect(proxies.clientAddress(peer: peer, forwardedFor: ["198.51.100.1, 203.0.113.7, 10.0.0.4"]).description == "203.0.113.7")
        #expect(proxies.clientAddress(peer: peer, forwardedFor: ["198.51.100.1", "203.0.113.7:5555"]).description == "203.0.113.7")
        #expect(proxies.clientAddress(peer: peer, forwardedFor: []).description == "10.0.0.5")
        #expect(proxies.clientAddress(peer: peer, forwardedFor: ["garbage"]).description == "10.0.0.5")
        // A peer that is not a proxy: its X-Forwarded-For is whatever it wants it to be.
        #expect(proxies.clientAddress(peer: IPAddress("203.0.113.9")!, forwardedFor: ["1.2.3.4"]).description == "203.0.113.9")
        #expect(TrustedProxies().clientAddress(peer: IPAddress("::ffff:192.0.2.1")!, forwardedFor: []).description == "192.0.2.1")
    }

    // MARK: Credentials in URLs

    @Test func credentialsAreFoundAndMasked() {
        let cases: [(String, String?)] = [
            ("http://user:secret@host/a?x=1", "http://***@host/a?x=1"),
            ("https://token@github.com/o/r", "https://***@github.com/o/r"),
            ("s3://k:s@bucket/key", "s3://***@bucket/key"),
            ("http://a@b@host:8080/", "http://***@host:8080/"),
            ("//u:p@host/x", "//***@host/x"),
            ("http://host/path@x", nil),
            ("http://host?q=a@b", nil),
            ("http://host#a@b", nil),
            ("https://example.com/x", nil),
            ("mailto:a@example.com", nil),
            ("not a url @ all", nil),
            ("<http://bob:pw@host/x>", "<http://***@host/x>"),
            ("relative/p?u=http://a:b@c", nil),
        ]
        for (url, masked) in cases {
            #expect(URLCredentials.present(in: url) == (masked != nil), "\(url)")
            #expect(URLCredentials.masked(url) == (masked ?? url), "\(url)")
        }
    }

    @Test func aManifestWithCredentialsIsRefusedWholeWithoutEchoingThem() throws {
        let secret = "s3cr3t-canary"
        let json = """
            {"images": [{"objectUrl": "https://example.com/ok.png"},
                        {"objectUrl": "https://alice:\(secret)@example.com/b.png"},
                        {"objectUrl": "<http://bob:\(secret)@example.com/c.png>"}]}
            """
        let limits = ManifestLimits.default
        var reader = makeManifestReader(format: .json, source: MemoryByteSource(Array(json.utf8)), limits: limits)
        var rejected: [RejectedItem] = []
        let summary = ManifestScanner(limits: limits).scan(&reader, format: .json) { entry in
            if case .rejected(let r) = entry { rejected.append(r) }
        }
        #expect(summary.units == 3 && summary.rejectedUnits == 2)
        // A file error: the API, `submit` and the coordinator refuse the whole manifest, even
        // with ignore-errors, so the password is never stored.
        #expect(summary.fileErrors.map(\.code) == [.urlContainsCredentials, .urlContainsCredentials])
        #expect(summary.fileErrors.first?.item == "images[1]" && summary.fileErrors.first?.field == "objectUrl")
        for issue in summary.errors + summary.fileErrors {
            #expect(!issue.description.contains(secret), "\(issue.description)")
        }
        #expect(summary.fileErrors[0].message.contains("https://***@example.com/b.png"))
        for r in rejected { #expect(!r.urls.joined().contains(secret), "\(r.urls)") }
        #expect(rejected.map(\.urls) == [["https://***@example.com/b.png"], ["<http://***@example.com/c.png>"]])
    }
}
