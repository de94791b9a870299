import Foundation
import Testing

/// How `registrar api` reads a manifest upload's body, against the real process: gzip bodies
/// split into body chunks of every size (the stored manifest must be the original, byte for
/// byte), gzip bombs (refused at the cap, without stalling other requests), declared lengths
/// over the cap, `application/gzip` without `format`, and 405 for a method a path does not take.
/// No coordinator or workers unless a test says so: the jobs wait in the (purged) queue; what is
/// checked is what the API stored and answered.
extension LiveServers {
@Suite(.serialized) struct UploadBodyTests {
    // MARK: Helpers

    func folder(_ api: APIHarness, key: String, name: String = "inbox") throws -> String {
        try api.json("POST", "/v1/folders", key: key, body: Data(#"{"name": "\#(name)"}"#.utf8),
                     headers: ["Content-Type": "application/json"], expect: 201).string("id")
    }

    /// `gzip -c` of a file (a single gzip member), as bytes.
    func gzip(_ h: PipelineHarness, _ path: String, level: Int = 6) throws -> [UInt8] {
        let out = path + ".gz"
        let r = try h.runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", "gzip -\(level) -c \"$0\" > \"$1\"", path, out])
        guard r.status == 0 else { throw HarnessError("gzip \(path): \(r.stderr)") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    func sha256(_ h: PipelineHarness, _ path: String) throws -> String {
        let r = try h.runProgram(URL(fileURLWithPath: "/usr/bin/sha256sum"), [path])
        guard r.status == 0, let digest = r.stdout.split(separator: " ").first else { throw HarnessError("sha256sum: \(r.stderr)") }
        return String(digest)
    }

    /// The stored manifest of a job, from PostgreSQL's blocks: "sha256 length".
    func stored(_ h: PipelineHarness, job: String) throws -> String {
        try h.scalar("""
            SELECT encode(sha256(string_agg(data, ''::bytea ORDER BY seq)), 'hex') || ' ' || sum(length(data))
            FROM manifest_blocks WHERE job_id = $1
            """, [job]) ?? "none"
    }

    /// A manifest of images, about `bytes` long. `varied` puts a pseudo-random token in every
    /// row (gzip then shrinks it ~4:1, not ~30:1), so bodies span many chunks and windows.
    /// `padding` lengthens each row's title (CSV) or metadata (JSON) by about that many
    /// characters: fewer units per megabyte, for the big cases (a debug build scans slowly).
    static func manifest(_ format: String, bytes: Int, base: String, varied: Bool, padding: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 512)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        var i = 0
        out.append(contentsOf: (format == "csv" ? "ObjectUrl,Image title\n" : "{\"images\": [\n").utf8)
        while out.count < bytes {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let token = varied ? String(x >> 20, radix: 16) : "scan"
            let pad = padding > 0 ? " " + String(repeating: "\(token) \(i % 89) ", count: padding / (token.count + 4) + 1) : ""
            if format == "csv" {
                out.append(contentsOf: "\(base)/\(i)-\(token).png,Patient cohort \(i % 97) slice \(i) \(token) of the 2026 study\(pad)\n".utf8)
            } else {
                out.append(contentsOf: (i == 0 ? "" : ",\n").utf8)
                out.append(contentsOf: #"  {"objectUrl": "\#(base)/\#(i)-\#(token).png", "title": "slice \#(i)", "clientMetadata": {"cohort": \#(i % 97), "token": "\#(token)", "note": "\#(pad)"}}"#.utf8)
            }
            i += 1
        }
        if format == "json" { out.append(contentsOf: "\n]}\n".utf8) }
        return out
    }

    /// Posts `zipped` (the gzip of the manifest at `path`) framed as asked, and checks the answer
    /// and the stored bytes against the original and `registrar validate`.
    func expectStoredIdentical(_ h: PipelineHarness, _ api: APIHarness, key: String, folderID: String, path: String, format: String,
                               zipped: [UInt8], units: Int, digest: String, framing: RawHTTP.Framing) throws {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
        let contentType = format == "csv" ? "text/csv" : "application/json"
        let r = try RawHTTP.request(port: api.port, "POST", "/v1/folders/\(folderID)/uploads",
                                 headers: [("Authorization", "Bearer \(key)"), ("Content-Type", contentType), ("Content-Encoding", "gzip")],
                                 body: zipped, framing: framing)
        let label = "\(URL(fileURLWithPath: path).lastPathComponent) (\(size) bytes, \(zipped.count) gzipped) sent as \(framing)"
        #expect(r.status == 202, "\(label): \(r.status) \(r.text.prefix(300))")
        guard r.status == 202 else { return }
        let id = r.json.string("id")
        #expect(r.json.int("total") == units, "\(label): total \(r.json.int("total")), validate says \(units)")
        #expect(r.json.int("manifestBytes") == size, "\(label): manifestBytes \(r.json.int("manifestBytes"))")
        #expect(try stored(h, job: id) == "\(digest) \(size)", "\(label): the stored manifest is not the original")
    }

    // MARK: gzip bodies in chunks

    /// The issue's defect: a gzip body that reached the server in more than one chunk was stored
    /// with bytes written twice (a 20,000-row CSV became 23,950 units). Each manifest — JSON and
    /// CSV, compressible and not, 1 KB to 5 MB — is sent in body pieces of many sizes, as
    /// separate writes (Content-Length) and as HTTP chunks; every stored copy must be the
    /// original byte for byte, with the totals of `registrar validate`.
    @Test func gzipManifestsAreStoredByteIdenticalWhateverTheBodyChunks() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        let base = h.objectURL("gz")
        let cases: [(format: String, bytes: Int, varied: Bool, framings: [RawHTTP.Framing])] = [
            ("json", 1_000, false, [.chunked(size: 1), .chunked(size: 7), .contentLength(piece: 100), .contentLength(piece: 1 << 20)]),
            ("csv", 1_000, true, [.chunked(size: 1), .chunked(size: 13), .contentLength(piece: 64), .contentLength(piece: 1 << 20)]),
            // The issue's sizes: a ~105 KB JSON (~5 KB gzipped) and a ~100 KB CSV.
            ("json", 105_000, false, [.chunked(size: 1), .chunked(size: 97), .chunked(size: 1000), .contentLength(piece: 4096),
                                      .contentLength(piece: 1 << 20)]),
            ("csv", 100_000, true, [.chunked(size: 3), .chunked(size: 1000), .chunked(size: 16_385), .contentLength(piece: 1500),
                                    .contentLength(piece: 65_537)]),
            ("json", 5_000_000, true, [.chunked(size: 4093), .chunked(size: 65_536), .contentLength(piece: 8192),
                                       .contentLength(piece: 1 << 20)]),
            ("csv", 5_000_000, false, [.chunked(size: 1000), .chunked(size: 100_000), .contentLength(piece: 32_768)]),
        ]
        for c in cases {
            let path = h.workDir.appendingPathComponent("m-\(c.bytes)-\(c.varied ? "varied" : "plain").\(c.format)").path
            try Data(Self.manifest(c.format, bytes: c.bytes, base: base, varied: c.varied)).write(to: URL(fileURLWithPath: path))
            let validate = try h.run(["validate", path, "--json"])
            let units = try validate.json().int("units")
            #expect(validate.status == 0 && units > 0, "validate \(path): \(validate.stdout)")
            let zipped = try gzip(h, path)
            let digest = try sha256(h, path)
            for framing in c.framings {
                try expectStoredIdentical(h, api, key: key, folderID: folderID, path: path, format: c.format,
                                          zipped: zipped, units: units, digest: digest, framing: framing)
            }
        }
    }

    /// The same at 50 MB, JSON and CSV (generated once, removed at the end). `registrar
    /// validate` runs beside the upload (both take a while in a debug build).
    @Test func fiftyMegabyteGzipManifestsAreStoredByteIdentical() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        let cases: [(format: String, framing: RawHTTP.Framing)] = [("csv", .chunked(size: 8191)), ("json", .contentLength(piece: 100_003))]
        for c in cases {
            var started = Date()
            func lap(_ what: String) { print("50 MB \(c.format): \(what) \(String(format: "%.1f", Date().timeIntervalSince(started))) s"); started = Date() }
            let path = h.workDir.appendingPathComponent("big.\(c.format)").path
            defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: path + ".gz") }
            try Data(Self.manifest(c.format, bytes: 50_000_000, base: h.objectURL("big"), varied: true, padding: 200)).write(to: URL(fileURLWithPath: path))
            lap("generated")
            let validate = Process()
            validate.executableURL = PipelineHarness.binary
            validate.arguments = ["validate", path, "--json"]
            let report = h.workDir.appendingPathComponent("validate-\(c.format).json")
            FileManager.default.createFile(atPath: report.path, contents: nil)
            validate.standardOutput = try FileHandle(forWritingTo: report)
            try validate.run()
            let zipped = try gzip(h, path), digest = try sha256(h, path)
            lap("gzipped (\(zipped.count) bytes)")
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
            let r = try RawHTTP.request(port: api.port, "POST", "/v1/folders/\(folderID)/uploads",
                                        headers: [("Authorization", "Bearer \(key)"), ("Content-Type", c.format == "csv" ? "text/csv" : "application/json"),
                                                  ("Content-Encoding", "gzip")],
                                        body: zipped, framing: c.framing)
            lap("uploaded")
            validate.waitUntilExit()
            lap("validated")
            let units = ((try? JSONSerialization.jsonObject(with: Data(contentsOf: report))) as? [String: Any])?.int("units") ?? -1
            #expect(validate.terminationStatus == 0 && units > 100_000, "validate \(path): \(units)")
            #expect(r.status == 202, "\(c.format): \(r.status) \(r.text.prefix(300))")
            #expect(r.json.int("total") == units && r.json.int("manifestBytes") == size, "\(c.format): \(r.json)")
            #expect(try stored(h, job: r.json.string("id")) == "\(digest) \(size)", "\(c.format): the stored manifest is not the original")
        }
    }

    /// The issue's repro, as written (curl, `Content-Encoding: gzip`, a 20,000-row CSV), end to
    /// end: the upload's total is 20,000, and the workers record exactly 20,000 units — each
    /// unit index once (the objects do not exist: every unit is a `not_found` error).
    @Test func theIssuesGzipReproRegistersExactly20000Units() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        try h.startWorker("w1")
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        var csv = "ObjectUrl,Image title\n"
        for i in 0..<20_000 { csv += "\(h.objectURL("gzc/\(i).png")),t\(i)\n" }
        let path = try h.writeManifest("m.csv", csv)
        _ = try gzip(h, path)
        let curl = try h.runProgram(URL(fileURLWithPath: "/usr/bin/curl"), [
            "-s", "-X", "POST", "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: text/csv", "-H", "Content-Encoding: gzip",
            "--data-binary", "@\(path).gz", api.base + "/v1/folders/\(folderID)/uploads?ignoreErrors=true",
        ])
        let upload = try #require(try JSONSerialization.jsonObject(with: Data(curl.stdout.utf8)) as? [String: Any], "curl: \(curl.stdout)")
        #expect(upload.int("total") == 20_000)
        let id = upload.string("id")
        var final: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            final = try api.json("GET", "/v1/uploads/\(id)?wait=10", key: key, expect: 200)
            if final.string("status") != "PENDING" { break }
        }
        #expect(final.string("status") == "DONE", "\(final)")
        #expect(final.int("total") == 20_000 && final.int("errors") == 20_000 && final.int("done") == 0, "\(final)")
        #expect(try h.count("SELECT count(DISTINCT unit_index) FROM unit_errors WHERE job_id = $1", [id]) == 20_000)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1", [id]) == 20_000)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [id]) == 0)
    }

    /// A gzip stream cut short, or followed by bytes that are not another gzip member, is a 400
    /// `invalid_gzip` that creates nothing (a truncated body used to be stored truncated; bytes
    /// after the end made the server spin on the request forever). Members in a row (`cat
    /// a.gz b.gz`) are one stream, as gunzip reads them.
    @Test func truncatedOrTrailingGarbageGzipIsRefusedAndMembersConcatenate() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        let path = h.workDir.appendingPathComponent("m.csv").path
        let original = Self.manifest("csv", bytes: 200_000, base: h.objectURL("t"), varied: true)
        try Data(original).write(to: URL(fileURLWithPath: path))
        let zipped = try gzip(h, path)
        let headers = [("Authorization", "Bearer \(key)"), ("Content-Type", "text/csv"), ("Content-Encoding", "gzip")]
        let uploads = "/v1/folders/\(folderID)/uploads"
        func post(_ body: [UInt8]) throws -> RawHTTP.Reply {
            try RawHTTP.request(port: api.port, "POST", uploads, headers: headers, body: body, framing: .contentLength(piece: 4096), timeout: 30)
        }
        for (what, body) in [("cut in the middle", Array(zipped.prefix(zipped.count / 2))), ("without its trailer", Array(zipped.dropLast(8))),
                             ("followed by garbage", zipped + Array("garbage".utf8)), ("followed by zeros", zipped + [UInt8](repeating: 0, count: 512)),
                             ("empty", [])] {
            let r = try post(body)
            #expect(r.status == 400 && r.json.errorCode == "invalid_gzip", "\(what): \(r.status) \(r.text)")
        }
        #expect(try h.count("SELECT count(*) FROM upload_jobs") == 0, "a refused gzip body left a job behind")

        let twice = try post(zipped + zipped)
        #expect(twice.status == 202, "\(twice.text)")
        let digest = try h.runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", "cat \"$0\" \"$0\" | sha256sum", path]).stdout.split(separator: " ")[0]
        #expect(try stored(h, job: twice.json.string("id")) == "\(digest) \(original.count * 2)")
    }

    // MARK: Caps

    /// Gzip bombs (a 256 MiB run of zeros in ~260 KB) from several clients at once, with the cap
    /// at 128 MiB: each is refused 413 once it inflates past the cap, and `/healthz` polled
    /// meanwhile stays fast — inflation runs on threads of its own, not on the cooperative pool
    /// that serves every request (there, four bombs held `/healthz` for seconds). And a bomb is
    /// refused as soon as it crosses the cap: with a 1 MiB cap the answer comes while the client
    /// has sent only the first 32 KiB and waits — the rest is never read, let alone inflated.
    @Test func gzipBombsAreRefusedAtTheCapWithoutStallingTheAPI() throws {
        let h = try PipelineHarness()
        let spool = h.workDir.appendingPathComponent("spool")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        let api = try APIHarness(h, extraArgs: ["--max-manifest-bytes", String(128 << 20)], extraEnv: ["TMPDIR": spool.path])
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        let bombPath = h.workDir.appendingPathComponent("bomb.gz").path
        let made = try h.runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", "head -c \(256 << 20) /dev/zero | gzip -6 -c > \"$0\"", bombPath])
        #expect(made.status == 0)
        let bomb = Array(try Data(contentsOf: URL(fileURLWithPath: bombPath)))
        let headers = [("Authorization", "Bearer \(key)"), ("Content-Type", "text/csv"), ("Content-Encoding", "gzip")]
        let uploads = "/v1/folders/\(folderID)/uploads"

        let base = api.base, port = api.port
        let lock = NSLock()
        nonisolated(unsafe) var replies: [RawHTTP.Reply] = []
        nonisolated(unsafe) var failures: [String] = []
        nonisolated(unsafe) var latencies: [Double] = []
        nonisolated(unsafe) var bombing = true
        let polling = DispatchGroup()
        polling.enter()
        Thread {
            while lock.withLock({ bombing }) {
                let start = Date()
                let ok = (try? HTTP.send("GET", base + "/healthz", timeout: 60))?.status == 200
                lock.withLock { latencies.append(ok ? Date().timeIntervalSince(start) : .infinity) }
                usleep(50_000)
            }
            polling.leave()
        }.start()
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread {
                do {
                    let r = try RawHTTP.request(port: port, "POST", uploads, headers: headers, body: bomb, framing: .contentLength(piece: 65_536))
                    lock.withLock { replies.append(r) }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
                group.leave()
            }.start()
        }
        group.wait()
        lock.withLock { bombing = false }
        polling.wait()
        #expect(failures.isEmpty, "\(failures)")
        #expect(replies.count == 4)
        for r in replies {
            #expect(r.status == 413 && r.json.errorCode == "payload_too_large" && r.text.contains("once decompressed"), "\(r.status) \(r.text)")
        }
        let worst = latencies.max() ?? .infinity
        #expect(latencies.count >= 3, "healthz was polled \(latencies.count) times")
        #expect(worst < 1.0, "GET /healthz took \(worst) s while the bombs inflated (\(latencies.count) polls)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty, "a refused upload left its spool file")
        #expect(try h.count("SELECT count(*) FROM upload_jobs") == 0)
        print("gzip bombs: 4 × 256 MiB (\(bomb.count) bytes each) at a 128 MiB cap; /healthz worst \(String(format: "%.3f", worst)) s over \(latencies.count) polls")

        // Refused at the crossing: a 1 MiB cap; 32 KiB of the bomb inflate to ~32 MiB.
        h.stopAll()
        let small = try APIHarness(h, name: "api-small", extraArgs: ["--max-manifest-bytes", String(1 << 20)], extraEnv: ["TMPDIR": spool.path])
        let client = try RawHTTP(port: small.port, timeout: 30)
        client.writeHead("POST", uploads, headers: headers + [("Content-Length", String(bomb.count))])
        client.write(bomb.prefix(32 << 10))
        let early = try client.readReply()
        #expect(early.status == 413 && early.json.errorCode == "payload_too_large", "\(early.status) \(early.text)")
        #expect(early.json.errorDetails["maxBytes"] as? Int == 1 << 20)
    }

    /// A declared `Content-Length` over the cap is answered 413 at once, from the header: the
    /// client sends no body at all and still gets its answer (the server used to read up to the
    /// cap first — 512 MiB by default).
    @Test func aContentLengthOverTheCapIsRefusedBeforeTheBody() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h, extraArgs: ["--max-manifest-bytes", "100000"])
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        for (type, encoding) in [("text/csv", nil), ("application/json", "gzip")] as [(String, String?)] {
            let client = try RawHTTP(port: api.port, timeout: 20)
            var headers = [("Authorization", "Bearer \(key)"), ("Content-Type", type), ("Content-Length", String(600 << 20))]
            if let encoding { headers.append(("Content-Encoding", encoding)) }
            client.writeHead("POST", "/v1/folders/\(folderID)/uploads", headers: headers)
            let r = try client.readReply()
            #expect(r.status == 413 && r.json.errorCode == "payload_too_large", "\(type): \(r.status) \(r.text)")
            #expect(r.json.errorDetails["contentLength"] as? Int == 600 << 20)
        }
        // At the cap exactly, the body is read (and here refused for what it is, not its size).
        let atCap = try RawHTTP.request(port: api.port, "POST", "/v1/folders/\(folderID)/uploads",
                                     headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "text/csv")],
                                     body: [UInt8](repeating: UInt8(ascii: "x"), count: 100_000), framing: .contentLength(piece: 65_536))
        #expect(atCap.status == 422, "\(atCap.status) \(atCap.text)")
    }

    // MARK: Content types and methods

    /// `Content-Type: application/gzip` without `format` (the README always said it works): the
    /// format comes from `fileName` (`.json[.gz]`, `.csv[.gz]`), else from the first non-blank
    /// byte of the inflated manifest (`{` or `[` → JSON, else CSV) — the rule `registrar submit`
    /// uses for a file.
    @Test func applicationGzipWithoutFormatIsDetected() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key)
        var bodies: [String: (path: String, zipped: [UInt8], units: Int)] = [:]
        for format in ["json", "csv"] {
            let path = h.workDir.appendingPathComponent("m.\(format)").path
            try Data(Self.manifest(format, bytes: 20_000, base: h.objectURL("sniff"), varied: true)).write(to: URL(fileURLWithPath: path))
            bodies[format] = (path, try gzip(h, path), try h.run(["validate", path, "--json"]).json().int("units"))
        }
        let cases: [(body: String, query: String, format: String, fileName: String)] = [
            ("json", "", "json", "upload.json"), ("csv", "", "csv", "upload.csv"),
            ("json", "?fileName=scans.json.gz", "json", "scans.json.gz"), ("csv", "?fileName=rows.CSV", "csv", "rows.CSV"),
            ("csv", "?format=csv", "csv", "upload.csv"),
        ]
        for c in cases {
            let b = try #require(bodies[c.body])
            let r = try api.call("POST", "/v1/folders/\(folderID)/uploads\(c.query)", key: key, body: Data(b.zipped),
                                 headers: ["Content-Type": "application/gzip"])
            #expect(r.status == 202, "\(c): \(r.status) \(r.text)")
            let upload = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:]
            #expect(upload.string("format") == c.format && upload.string("fileName") == c.fileName && upload.int("total") == b.units, "\(c): \(upload)")
        }
        let plain = try api.call("POST", "/v1/folders/\(folderID)/uploads", key: key, body: Data("x".utf8), headers: ["Content-Type": "text/plain"])
        #expect(plain.status == 415, "other types are still refused: \(plain.status)")
    }

    /// A method a known path does not take answers 405 with `Allow` and the API's error shape —
    /// for every path the server routes — while an unknown path stays 404.
    @Test func unsupportedMethodsOnKnownPathsAnswer405WithAllow() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        // The API's routes (as the OpenAPI test lists them) and the status page's.
        let routes = LiveAPI.routes.union(["GET /", "GET /uploads/{id}", "POST /login", "POST /logout"])
        var byPath: [String: Set<String>] = [:]
        for route in routes {
            let parts = route.split(separator: " ", maxSplits: 1)
            byPath[String(parts[1]), default: []].insert(String(parts[0]))
        }
        for (template, methods) in byPath.sorted(by: { $0.key < $1.key }) {
            let path = template.replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
            let allow = methods.sorted().joined(separator: ", ")
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] where !methods.contains(method) {
                let r = try api.call(method, path, key: key, body: method == "GET" ? nil : Data("{}".utf8), headers: ["Content-Type": "application/json"])
                let error = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["error"] as? [String: Any] ?? [:]
                #expect(r.status == 405 && r.header("Allow") == allow && error["code"] as? String == "method_not_allowed",
                        "\(method) \(template): \(r.status) Allow=\(r.header("Allow") ?? "none") \(r.text)")
            }
        }
        // Without a key too (the path's methods are public: the OpenAPI document lists them).
        #expect(try api.call("PUT", "/v1/folders", key: nil).status == 405)
        for path in ["/v1/nope", "/v1/folders/x/y/z", "/nope"] {
            #expect(try api.call("DELETE", path, key: key).status == 404, "\(path)")
        }
    }
}
}

extension Dictionary where Key == String, Value == Any {
    /// `error.code` of an API error body.
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    /// `error.details` of an API error body.
    var errorDetails: [String: Any] { (self["error"] as? [String: Any])?["details"] as? [String: Any] ?? [:] }
}
