import Foundation
import RegistrarCore
import RegistrarRedis
import Testing

/// What the API trusts and what it shows (issue 20, weaknesses 2, 3, 5 and 6), against real
/// `registrar` processes on the real servers: cursors, metrics, failed authentication, URLs
/// with credentials, and the same-origin rule of the status page's cookie.
extension LiveServers {
@Suite(.serialized) struct APITrustLiveTests {
    let api = APITests()

    /// One small finished upload per call: `good` readable images and `missing` 404s.
    func finishedUpload(_ h: PipelineHarness, _ a: APIHarness, key: String, folder: String, good: Int, missing: Int, tag: String) throws -> String {
        var items: [String] = []
        for i in 0..<good {
            let url = try h.putObject("\(tag)/ok-\(i).png", bytes: try MediaSamples.bytes("images/png-rgb8.png"))
            items.append(#"{"objectUrl": "\#(url)"}"#)
        }
        for i in 0..<missing { items.append(#"{"objectUrl": "\#(h.objectURL("\(tag)/missing-\(i).png"))"}"#) }
        let manifest = try h.writeManifest("\(tag).json", #"{"images": [\#(items.joined(separator: ","))]}"#)
        let id = try api.upload(a, key: key, folder: folder, manifest: manifest)
        let final = try api.follow(a, id, key: key)
        #expect(final.int("done") == good && final.int("errors") == missing, "\(final)")
        return id
    }

    /// Every page of a listing, following `nextCursor`; the tokens seen on the way.
    func allPages(_ a: APIHarness, _ path: String, key: String, limit: Int) throws -> (items: [[String: Any]], tokens: [String]) {
        var items: [[String: Any]] = []
        var tokens: [String] = []
        var cursor: String?
        repeat {
            let sep = path.contains("?") ? "&" : "?"
            let page = try a.json("GET", path + "\(sep)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key, expect: 200)
            items += page["items"] as? [[String: Any]] ?? []
            cursor = page["nextCursor"] as? String
            if let cursor { tokens.append(cursor) }
        } while cursor != nil
        return (items, tokens)
    }

    // MARK: Weak 2: cursors

    /// Another tenant's job id as a cursor used to page from that job's creation time (the
    /// lookup was not tenant-scoped), while an unknown id gave an empty page: now cursors are
    /// opaque tokens bound to the tenant and listing, and both answer the same 400.
    @Test func cursorsAreOpaqueAndATenantsIdsTellNothing() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        try h.startWorker("w1")
        let a = try APIHarness(h)
        let keyA = try a.tenantKey("cursor-a")
        let keyB = try a.tenantKey("cursor-b")
        let folderA = try api.folder(a, key: keyA, name: "a")
        var jobsA: [String] = []
        for i in 0..<3 { jobsA.append(try finishedUpload(h, a, key: keyA, folder: folderA, good: 2, missing: 3, tag: "a\(i)")) }
        // B's uploads come after A's: under the old lookup, B's id as A's cursor listed A's uploads.
        let folderB = try api.folder(a, key: keyB, name: "b")
        let jobB = try finishedUpload(h, a, key: keyB, folder: folderB, good: 1, missing: 0, tag: "b0")
        _ = try finishedUpload(h, a, key: keyB, folder: folderB, good: 1, missing: 0, tag: "b1")

        let foreign = try a.call("GET", "/v1/uploads?cursor=\(jobB)", key: keyA)
        let unknown = try a.call("GET", "/v1/uploads?cursor=\(UUID().uuidString.lowercased())", key: keyA)
        #expect(foreign.status == unknown.status && foreign.text == unknown.text,
                "another tenant's id: \(foreign.status) \(foreign.text); an unknown one: \(unknown.status) \(unknown.text)")
        #expect(foreign.status == 400 && foreign.text.contains("invalid_parameter"), "\(foreign.text)")

        // Paging with the tokens: every upload once, newest first; no id in clear in a token.
        let (uploads, tokens) = try allPages(a, "/v1/uploads", key: keyA, limit: 1)
        #expect(uploads.map { $0.string("id") } == jobsA.reversed(), "\(uploads.map { $0.string("id") })")
        #expect(tokens.count == 2)
        for t in tokens { #expect(!jobsA.contains { t.contains($0) }, "token \(t) shows an id") }
        // B's own token, given to A: the same answer as garbage.
        let tokenB = try #require(try a.json("GET", "/v1/uploads?limit=1", key: keyB, expect: 200)["nextCursor"] as? String)
        let stolen = try a.call("GET", "/v1/uploads?cursor=\(tokenB)", key: keyA)
        let garbage = try a.call("GET", "/v1/uploads?cursor=Zm9v", key: keyA)
        #expect(stolen.status == 400 && stolen.text == garbage.text && stolen.text == unknown.text, "\(stolen.text)")
        #expect(try a.call("GET", "/v1/uploads?cursor=\(tokenB)", key: keyB).status == 200)

        // Every other paged listing: tokens work, raw keys and foreign tokens do not.
        _ = try api.folder(a, key: keyA, name: "a2")
        let (folders, folderTokens) = try allPages(a, "/v1/folders", key: keyA, limit: 1)
        #expect(folders.map { $0.string("name") } == ["a", "a2"] && folderTokens.count == 1)
        #expect(try a.call("GET", "/v1/folders?cursor=a", key: keyA).status == 400)
        let (files, fileTokens) = try allPages(a, "/v1/folders/\(folderA)/files", key: keyA, limit: 4)
        #expect(files.count == 6 && Set(files.map { $0.string("id") }).count == 6 && fileTokens.count == 1)
        #expect(try a.call("GET", "/v1/folders/\(folderA)/files?cursor=1", key: keyA).status == 400)
        let (errors, errorTokens) = try allPages(a, "/v1/uploads/\(jobsA[0])/errors", key: keyA, limit: 2)
        #expect(errors.map { $0.int("unit") } == [2, 3, 4] && errorTokens.count == 1)
        #expect(try a.call("GET", "/v1/uploads/\(jobsA[0])/errors?cursor=2", key: keyA).status == 400)
        // A token of one upload's errors is no cursor for another's, nor for another listing.
        #expect(try a.call("GET", "/v1/uploads/\(jobsA[1])/errors?cursor=\(errorTokens[0])", key: keyA).status == 400)
        #expect(try a.call("GET", "/v1/folders?cursor=\(errorTokens[0])", key: keyA).status == 400)
        // The status page's uploads list uses the same tokens.
        let page = try a.call("GET", "/?cursor=\(jobB)", key: nil, headers: ["Cookie": "registrar_key=\(keyA)"])
        #expect(page.status == 400 && !page.text.contains(jobB), "\(page.status)")
    }

    // MARK: Weak 2: metrics

    /// A running job of any tenant used to appear on the unauthenticated `/metrics` as
    /// `job_id="…"`; now only with the operator's opt-in. A separate listener serves /metrics.
    @Test func metricsCarryNoJobIDsUnlessAskedAndCanListenApart() throws {
        let h = try PipelineHarness()
        // No coordinator: the upload stays PENDING, so it is a running job for the gauge.
        let plain = try APIHarness(h)
        let key = try plain.tenantKey("metrics")
        let folderID = try api.folder(plain, key: key, name: "m")
        let manifest = try h.writeManifest("m.json", #"{"images": [{"objectUrl": "\#(h.objectURL("m/x.png"))"}]}"#)
        let jobID = try api.upload(plain, key: key, folder: folderID, manifest: manifest)

        let scraped = try plain.call("GET", "/metrics", key: nil)
        #expect(scraped.status == 200)
        #expect(!scraped.text.contains(jobID) && !scraped.text.contains("job_id"), "job ids on /metrics:\n\(scraped.text)")
        let aggregate = scraped.text.split(separator: "\n").first { $0.hasPrefix("registrar_job_seconds_since_progress ") }
        #expect(aggregate != nil, "no aggregate series:\n\(scraped.text)")
        #expect(scraped.text.contains(#"registrar_jobs{status="PENDING"} 1"#))

        // Opt-in (env, as a deployment sets it): one series per running job.
        let opted = try APIHarness(h, name: "api-ids", extraEnv: ["REGISTRAR_METRICS_JOB_IDS": "true"])
        let withIDs = try opted.call("GET", "/metrics", key: nil).text
        #expect(withIDs.contains(#"registrar_job_seconds_since_progress{job_id="\#(jobID)"}"#), "\(withIDs)")

        // A listener of its own: /metrics there, not on the public port; health on both.
        let metricsPort = try APIHarness.freePort()
        let apart = try APIHarness(h, name: "api-apart", extraArgs: ["--metrics-port", String(metricsPort)])
        let separate = try HTTP.send("GET", "http://127.0.0.1:\(metricsPort)/metrics")
        #expect(separate.status == 200 && separate.text.contains(#"registrar_jobs{status="PENDING"} 1"#))
        #expect(!separate.text.contains(jobID))
        #expect(try apart.call("GET", "/metrics", key: nil).status == 404)
        #expect(try HTTP.send("GET", "http://127.0.0.1:\(metricsPort)/healthz").status == 200)
        #expect(try apart.call("GET", "/healthz", key: nil).status == 200)
        #expect(try apart.call("GET", "/v1/uploads/\(jobID)", key: key).status == 200)
    }

    // MARK: Weak 3: failed authentication

    /// curl from a chosen loopback source address (the whole 127/8 is local on Linux).
    func curlStatus(from source: String, _ url: String, key: String) throws -> (status: Int, retryAfter: String?) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-o", "/dev/null", "-D", "-", "--interface", source, "-H", "Authorization: Bearer \(key)", url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
        let retry = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after:") }
            .map { String($0.dropFirst("retry-after:".count)).trimmingCharacters(in: .whitespaces) }
        return (status, retry)
    }

    func counter(_ metrics: String, _ series: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    static func randomKey() -> String { APIKey.generate() }

    /// A burst of random well-formed keys from one address: 401 up to the burst, then 429 with
    /// Retry-After and no lookup per request (PostgreSQL lookups counted by the API's own
    /// counter); a valid key from another address keeps working, and one already known valid
    /// keeps working from the throttled address too.
    @Test func failedKeysFromOneAddressAreThrottledWithoutLookups() throws {
        let h = try PipelineHarness()
        let a = try APIHarness(h, extraArgs: ["--auth-failure-burst", "10", "--auth-failure-rate", "0.05"])
        let good = try a.tenantKey("auth")
        #expect(try a.call("GET", "/v1/folders", key: good).status == 200) // now cached as valid
        let before = try a.call("GET", "/metrics", key: nil).text
        let started = Date()
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<60 {
            let r = try a.call("GET", "/v1/folders", key: Self.randomKey())
            statuses.append(r.status)
            if r.status == 429, retryAfter == nil {
                retryAfter = r.header("Retry-After")
                #expect(r.text.contains("rate_limited"), "\(r.text)")
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        let after = try a.call("GET", "/metrics", key: nil).text
        #expect(statuses.prefix(10).allSatisfy { $0 == 401 }, "\(statuses)")
        let limited = statuses.filter { $0 == 429 }.count
        #expect(limited >= 60 - 10 - Int(elapsed * 0.05) - 1, "only \(limited) of 60 throttled in \(elapsed) s: \(statuses)")
        #expect(Int(retryAfter ?? "") ?? 0 >= 1, "Retry-After: \(retryAfter ?? "none")")
        let lookups = counter(after, #"registrar_api_key_lookups_total{result="unknown"}"#) - counter(before, #"registrar_api_key_lookups_total{result="unknown"}"#)
        #expect(lookups == Double(60 - limited), "\(lookups) lookups for \(60 - limited) answered keys")
        #expect(counter(after, "registrar_api_auth_throttled_total") >= Double(limited))

        // The throttled address: a key known valid still works; an uncached one waits.
        #expect(try a.call("GET", "/v1/folders", key: good).status == 200)
        let other = try a.tenantKey("auth-2")
        #expect(try a.call("GET", "/v1/folders", key: other).status == 429)
        // Another address: unaffected (its own budget), with either key.
        let elsewhere = try curlStatus(from: "127.0.0.2", a.base + "/v1/folders", key: other)
        #expect(elsewhere.status == 200, "from 127.0.0.2: \(elsewhere)")
        #expect(try curlStatus(from: "127.0.0.2", a.base + "/v1/folders", key: Self.randomKey()).status == 401)
    }

    /// An unknown key is remembered for a few seconds: a flood of one bad key costs one lookup.
    /// Shown by making the key valid behind the API's back: the first API still answers 401
    /// from its cache, a fresh API process accepts the key.
    @Test func unknownKeysAreCachedBriefly() throws {
        let h = try PipelineHarness()
        // Remembered 5 s by default; long here, so a slow machine cannot outlast it.
        let first = try APIHarness(h, extraArgs: ["--unknown-key-cache-seconds", "300"])
        let key = Self.randomKey()
        #expect(try first.call("GET", "/v1/folders", key: key).status == 401)
        // The key becomes valid: a second API process ensures it as its bootstrap key.
        let second = try APIHarness(h, name: "api-bootstrap", extraEnv: ["REGISTRAR_BOOTSTRAP_API_KEY": key])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try h.count("SELECT count(*) FROM api_keys WHERE key_hash = $1", [APIKey.hash(key)]) == 0 { usleep(100_000) }
        #expect(try second.call("GET", "/v1/folders", key: key).status == 200, "the bootstrap key does not work")
        let before = try first.call("GET", "/metrics", key: nil).text
        for _ in 0..<5 { #expect(try first.call("GET", "/v1/folders", key: key).status == 401, "the unknown key was looked up again") }
        let after = try first.call("GET", "/metrics", key: nil).text
        let series = #"registrar_api_key_lookups_total{result="unknown"}"#
        #expect(counter(after, series) == counter(before, series))
    }

    // MARK: Weak 5: credentials in URLs

    /// Everything stored and shown: the test database (every column, bytea included), Redis,
    /// and the processes' logs.
    func places(_ h: PipelineHarness, holding needle: String, logs: [String]) throws -> [String] {
        var found: [String] = []
        let columns = try h.db.query("""
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """)
        for i in 0..<columns.count {
            let table = columns[row: i, column: 0]!, column = columns[row: i, column: 1]!, type = columns[row: i, column: 2]!
            let test = type == "bytea" ? "position(convert_to($1, 'UTF8') in \"\(column)\") > 0" : "\"\(column)\"::text LIKE '%' || $1 || '%'"
            if try h.count("SELECT count(*) FROM \"\(table)\" WHERE \(test)", [needle]) > 0 { found.append("\(table).\(column)") }
        }
        let redis = try RedisConnection(url: h.env.redis)
        defer { redis.close() }
        if case .array(let keys) = try redis.command(["KEYS", "*"]) {
            for k in keys.map(redisText) {
                if k.contains(needle) { found.append("redis key \(k)") }
                let value: String
                switch redisText(try redis.command(["TYPE", k])) {
                case "string": value = redisText(try redis.command(["GET", k]))
                case "hash": value = redisText(try redis.command(["HGETALL", k]))
                case "set": value = redisText(try redis.command(["SMEMBERS", k]))
                case "zset": value = redisText(try redis.command(["ZRANGE", k, "0", "-1"]))
                case "list": value = redisText(try redis.command(["LRANGE", k, "0", "-1"]))
                default: value = ""
                }
                if value.contains(needle) { found.append("redis value \(k)") }
            }
        }
        for name in logs where h.log(name).contains(needle) { found.append("\(name).log") }
        return found
    }

    @Test func credentialsInObjectURLsAreRefusedAndNeverShown() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        try h.startWorker("w1")
        let a = try APIHarness(h)
        let key = try a.tenantKey("creds")
        let folderID = try api.folder(a, key: key, name: "creds")
        let canary = "CANARY\(UUID().uuidString.prefix(8))"
        let good = try h.putObject("creds/ok.png", bytes: try MediaSamples.bytes("images/png-rgb8.png"))
        let withPassword = good.replacingOccurrences(of: "http://", with: "http://alice:\(canary)@")
        let manifest = try h.writeManifest("creds.json", """
            {"images": [{"objectUrl": "\(good)"}, {"objectUrl": "\(withPassword)", "title": "secret"}]}
            """)

        // Refused whole, even with ignoreErrors, naming the item; the password in no answer.
        let refused = try a.call("POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true", key: key,
                                 body: try Data(contentsOf: URL(fileURLWithPath: manifest)), headers: ["Content-Type": "application/json"])
        #expect(refused.status == 422, "\(refused.status) \(refused.text)")
        #expect(refused.text.contains("manifest_invalid") && refused.text.contains("url_contains_credentials") && refused.text.contains("images[1]"))
        #expect(refused.text.contains("***@127.0.0.1") && !refused.text.contains(canary), "\(refused.text)")
        #expect((try a.json("GET", "/v1/uploads", key: key, expect: 200)["items"] as? [Any])?.isEmpty == true)
        // The CLI without the API: refused before anything is stored.
        let submit = try h.run(["submit", manifest, "--folder", "creds-cli", "--ignore-errors"])
        #expect(submit.status == 1 && submit.stderr.contains("url_contains_credentials"), "\(submit.stdout) \(submit.stderr)")
        #expect(!(submit.stdout + submit.stderr).contains(canary))
        // `validate` names it, masked.
        let validate = try h.run(["validate", manifest, "--json"])
        #expect(validate.stdout.contains("url_contains_credentials") && !validate.stdout.contains(canary), "\(validate.stdout)")
        let report = try h.run(["validate", manifest])
        #expect(report.stdout.contains("NOT VALID: url_contains_credentials (images[1])") && report.stdout.contains("even with --ignore-errors"),
                "\(report.stdout)")
        #expect(!report.stdout.contains(canary))
        // A clean manifest still goes through, and nothing anywhere holds the password.
        let clean = try h.writeManifest("clean.json", #"{"images": [{"objectUrl": "\#(good)"}]}"#)
        let ok = try api.upload(a, key: key, folder: folderID, manifest: clean)
        #expect(try api.follow(a, ok, key: key).int("done") == 1)
        let direct = try h.run(["submit", clean, "--folder", "creds-cli", "--wait", "--json"])
        #expect(direct.status == 0, "\(direct.stdout) \(direct.stderr)")
        #expect(try places(h, holding: canary, logs: ["api", "coordinator", "w1"]).isEmpty)

        // URLs stored before this rule (or by older versions) are shown masked everywhere.
        _ = try h.db.query("UPDATE files SET url = replace(url, 'http://', 'http://alice:\(canary)@'), urls = ARRAY[replace(urls[1], 'http://', 'http://alice:\(canary)@')] || urls[2:]")
        let failing = try h.writeManifest("failing.json", #"{"images": [{"objectUrl": "\#(h.objectURL("creds/missing.png"))"}]}"#)
        let failed = try api.upload(a, key: key, folder: folderID, manifest: failing)
        #expect(try api.follow(a, failed, key: key).int("errors") == 1)
        _ = try h.db.query("UPDATE unit_errors SET object_urls = ARRAY[replace(object_urls[1], 'http://', 'http://bob:\(canary)@')]")
        #expect(try places(h, holding: canary, logs: []).sorted() == ["files.url", "files.urls", "unit_errors.object_urls"])

        let fileID = try #require((try a.json("GET", "/v1/folders/\(folderID)/files", key: key, expect: 200)["items"] as? [[String: Any]])?.first)
            .string("id")
        let cookie = ["Cookie": "registrar_key=\(key)"]
        let shown: [(String, HTTP.Reply)] = [
            ("files", try a.call("GET", "/v1/folders/\(folderID)/files", key: key)),
            ("file", try a.call("GET", "/v1/files/\(fileID)", key: key)),
            ("errors", try a.call("GET", "/v1/uploads/\(failed)/errors", key: key)),
            ("errors jsonl", try a.call("GET", "/v1/uploads/\(failed)/errors?format=jsonl", key: key)),
            ("errors csv", try a.call("GET", "/v1/uploads/\(failed)/errors?format=csv", key: key)),
            ("uploads", try a.call("GET", "/v1/uploads", key: key)),
            ("status page", try a.call("GET", "/uploads/\(failed)", key: nil, headers: cookie)),
            ("status list", try a.call("GET", "/", key: nil, headers: cookie)),
        ]
        for (what, reply) in shown {
            #expect(reply.status == 200, "\(what): \(reply.status)")
            #expect(!reply.text.contains(canary), "\(what) shows the password:\n\(reply.text)")
        }
        #expect(shown[0].1.text.contains("http://***@127.0.0.1"), "\(shown[0].1.text)")
        #expect(shown[4].1.text.contains("http://***@127.0.0.1"), "\(shown[4].1.text)")
        #expect(shown[6].1.text.contains("http://***@127.0.0.1"))
        // The CLI, straight from PostgreSQL and through the API.
        let viaAPI = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]
        for (args, env) in [(["errors", failed], [:]), (["errors", failed, "--json"], viaAPI), (["files", "--folder", "creds-cli"], [:]),
                            (["files", "--folder", "creds-cli", "--json"], [:]), (["files", "--folder", "creds", "--json"], viaAPI)]
                as [([String], [String: String])] {
            let r = try h.run(args, extraEnv: env)
            #expect(r.status == 0 && !r.stdout.isEmpty, "\(args): \(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains(canary), "\(args) shows the password: \(r.stdout)")
        }
    }

    // MARK: Weak 6: same origin

    /// The issue's two bypasses, each of which created a retry job before: a forged
    /// `X-Forwarded-Host` naming the attacker's site, and an `https` Origin for an http server.
    /// The page's own writes still pass, and a trusted proxy's headers are believed.
    @Test func cookieWritesNeedTheRequestsOwnOrigin() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        try h.startWorker("w1")
        let a = try APIHarness(h)
        let key = try a.tenantKey("origin")
        let folderID = try api.folder(a, key: key, name: "o")
        let manifest = try h.writeManifest("o.json", #"{"images": [{"objectUrl": "\#(h.objectURL("o/missing.png"))"}]}"#)
        let job = try api.upload(a, key: key, folder: folderID, manifest: manifest)
        #expect(try api.follow(a, job, key: key).int("errors") == 1)
        let cookie = "registrar_key=\(key)"
        func retry(_ headers: [String: String], on target: APIHarness? = nil) throws -> HTTP.Reply {
            try (target ?? a).call("POST", "/v1/uploads/\(job)/retry", key: nil, headers: headers.merging(["Cookie": cookie]) { $1 })
        }
        let forgedHost = try retry(["Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"])
        #expect(forgedHost.status == 403 && forgedHost.text.contains("cross_site_request"), "\(forgedHost.status) \(forgedHost.text)")
        let otherScheme = try retry(["Origin": "https://127.0.0.1:\(a.port)"])
        #expect(otherScheme.status == 403, "\(otherScheme.status) \(otherScheme.text)")
        let forgedProto = try retry(["Origin": "https://127.0.0.1:\(a.port)", "X-Forwarded-Proto": "https"])
        #expect(forgedProto.status == 403, "\(forgedProto.status)")
        // The sign-in form, too.
        let login = try a.call("POST", "/login", key: nil, body: Data("key=\(key)".utf8),
                               headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"])
        #expect(login.status == 403 && login.header("Set-Cookie") == nil)
        #expect(try h.count("SELECT count(*) FROM upload_jobs WHERE retry_of = $1", [job]) == 0, "a refused request created a retry job")

        // Its own origin, exactly: accepted.
        let own = try retry(["Origin": "http://127.0.0.1:\(a.port)"])
        #expect(own.status == 202, "\(own.status) \(own.text)")

        // Behind a trusted proxy (here: loopback) the forwarded host and scheme are the origin,
        // and with a public URL only that origin is accepted, Host included.
        let proxied = try APIHarness(h, name: "api-proxied", extraEnv: ["REGISTRAR_TRUSTED_PROXIES": "127.0.0.1",
                                                                        "REGISTRAR_PUBLIC_URL": "https://registrar.example.com"])
        let firstRetry = try #require(try h.scalar("SELECT id FROM upload_jobs WHERE retry_of = $1", [job]))
        _ = try api.follow(a, firstRetry, key: key)
        let viaProxy = ["Origin": "https://registrar.example.com", "X-Forwarded-Host": "registrar.example.com", "X-Forwarded-Proto": "https"]
        let wrongHost = try proxied.call("POST", "/v1/uploads/\(firstRetry)/retry", key: nil,
                                         headers: ["Cookie": cookie, "Origin": "https://registrar.example.com"])
        #expect(wrongHost.status == 403, "Host 127.0.0.1 is not the public origin: \(wrongHost.status)")
        let accepted = try proxied.call("POST", "/v1/uploads/\(firstRetry)/retry", key: nil, headers: viaProxy.merging(["Cookie": cookie]) { $1 })
        #expect(accepted.status == 202, "\(accepted.status) \(accepted.text)")
        // Sign-in through the proxy: the cookie is Secure (curl: the 303 must not be followed).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-o", "/dev/null", "-D", "-", "--data", "key=\(key)", proxied.base + "/login"]
            + viaProxy.flatMap { ["-H", "\($0.key): \($0.value)"] }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let head = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(head.hasPrefix("HTTP/1.1 303") && head.lowercased().contains("set-cookie: registrar_key=") && head.contains("Secure"), "\(head)")
    }
}
}
