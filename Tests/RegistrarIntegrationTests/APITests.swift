import Foundation
import RegistrarCore
import RegistrarRabbitMQ
import Testing

/// The operator API end to end on the real servers: `registrar api` as a process, uploads
/// through HTTP, workers and coordinator for real, every answer compared with PostgreSQL.
/// Serialized with the pipeline suite's rules (each test purges the shared queues).
extension LiveServers {
@Suite(.serialized) struct APITests {
    let pipeline = PipelineTests()

    /// Polls with `?wait=` until the upload ends; checks that counters never go backwards.
    func follow(_ api: APIHarness, _ id: String, key: String, wait: Int = 10) throws -> [String: Any] {
        var last = -1
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            let u = try api.json("GET", "/v1/uploads/\(id)?wait=\(wait)", key: key, expect: 200)
            let finished = u.int("done") + u.int("errors") + u.int("skipped") + u.int("cancelled")
            #expect(finished >= last, "counters went backwards: \(finished) after \(last)")
            last = finished
            if u.string("status") != "PENDING" { return u }
        }
        throw HarnessError("upload \(id) did not finish")
    }

    func folder(_ api: APIHarness, key: String, name: String) throws -> String {
        try api.json("POST", "/v1/folders", key: key, body: Data(#"{"name": "\#(name)"}"#.utf8),
                     headers: ["Content-Type": "application/json"], expect: 201).string("id")
    }

    func upload(_ api: APIHarness, key: String, folder: String, manifest: String, query: String = "ignoreErrors=true") throws -> String {
        try api.json("POST", "/v1/folders/\(folder)/uploads?\(query)", key: key, body: try Data(contentsOf: URL(fileURLWithPath: manifest)),
                     headers: ["Content-Type": "application/json"], expect: 202).string("id")
    }

    @Test func anUploadThroughTheAPIMatchesPostgreSQLAndRetriesOnlyItsFailures() throws {
        let h = try PipelineHarness()
        let plan = try pipeline.makePlan(h, scale: 300)
        try h.startCoordinator()
        try h.startWorker("w1")
        try h.startWorker("w2")
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key, name: "scans")
        let id = try upload(api, key: key, folder: folderID, manifest: plan.manifest)
        let final = try follow(api, id, key: key)

        // Counters: the plan, PostgreSQL and the API agree exactly.
        #expect(final.string("status") == "DONE")
        #expect(final.int("total") == plan.total)
        #expect(final.int("done") == plan.ok)
        #expect(final.int("errors") == plan.errors)
        #expect(final.int("skipped") == plan.skipped)
        #expect(final.int("pending") == 0)
        #expect(final["totalKnown"] as? Bool == true)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [id]) == plan.ok)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1", [id]) == plan.errors)

        // Errors: paged JSON covers every error once; per-code counts; filter; downloads.
        var seen = Set<Int>()
        var cursor: String?
        var codes: [String: Any] = [:]
        repeat {
            let page = try api.json("GET", "/v1/uploads/\(id)/errors?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key, expect: 200)
            for item in page["items"] as? [[String: Any]] ?? [] { #expect(seen.insert(item.int("unit")).inserted) }
            codes = page["codes"] as? [String: Any] ?? [:]
            cursor = page["nextCursor"] as? String
        } while cursor != nil
        #expect(seen.count == plan.errors)
        for (code, n) in plan.errorCodes { #expect((codes[code] as? Int) == n, "code \(code)") }
        let notFound = try api.json("GET", "/v1/uploads/\(id)/errors?code=not_found&limit=1000", key: key, expect: 200)
        let onlyNotFound = notFound["items"] as? [[String: Any]] ?? []
        #expect(onlyNotFound.count == plan.errorCodes["not_found"] ?? 0)
        #expect(onlyNotFound.allSatisfy { $0.string("code") == "not_found" })
        let csv = try api.call("GET", "/v1/uploads/\(id)/errors?format=csv", key: key)
        #expect(csv.status == 200 && csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.split(separator: "\r\n").count == plan.errors + 1)
        #expect(csv.text.hasPrefix("unit,code,message,action,object_urls\r\n"))
        let jsonl = try api.call("GET", "/v1/uploads/\(id)/errors?format=jsonl", key: key)
        #expect(jsonl.text.split(separator: "\n").count == plan.errors)

        // Files and the folder's summary.
        var fileCount = 0
        cursor = nil
        repeat {
            let page = try api.json("GET", "/v1/folders/\(folderID)/files?limit=50" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key, expect: 200)
            fileCount += (page["items"] as? [Any])?.count ?? 0
            cursor = page["nextCursor"] as? String
        } while cursor != nil
        #expect(fileCount == plan.ok)
        let folder = try api.json("GET", "/v1/folders/\(folderID)", key: key, expect: 200)
        #expect(folder.int("fileCount") == plan.ok)
        let videos = try api.json("GET", "/v1/folders/\(folderID)/files?type=video&limit=1000", key: key, expect: 200)
        let videoItems = videos["items"] as? [[String: Any]] ?? []
        #expect(!videoItems.isEmpty && videoItems.allSatisfy { $0.string("type") == "video" })
        let one = try api.json("GET", "/v1/files/\(videoItems[0].string("id"))", key: key, expect: 200)
        #expect(one.string("type") == "video")

        // Retry: a new upload of exactly the failed units, keeping their indexes.
        let retry = try api.json("POST", "/v1/uploads/\(id)/retry", key: key, expect: 202)
        #expect(retry.string("retryOf") == id)
        #expect(retry.int("total") == plan.errors)
        let retried = try follow(api, retry.string("id"), key: key)
        #expect(retried.int("done") + retried.int("errors") == plan.errors)
        let units = try h.count("""
            SELECT count(*) FROM (SELECT unit_index FROM unit_errors WHERE job_id = $1 UNION ALL SELECT unit_index FROM files WHERE job_id = $1) r
            WHERE unit_index IN (SELECT unit_index FROM unit_errors WHERE job_id = $2)
            """, [retry.string("id"), id])
        #expect(units == plan.errors)

        // Health and metrics.
        #expect(try api.call("GET", "/readyz", key: nil).status == 200)
        let metrics = try api.call("GET", "/metrics", key: nil).text
        #expect(metrics.contains(#"registrar_jobs{status="DONE"} 2"#))
        #expect(metrics.contains("registrar_queue_messages{queue=\"registrar.chunks\"}"))
    }

    @Test func longPollEventsAndCancelFollowALiveUpload() throws {
        let h = try PipelineHarness()
        let plan = try pipeline.makePlan(h, scale: 400)
        try h.startCoordinator(extraArgs: ["--chunk-units", "40"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "150"])
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key, name: "live")
        let id = try upload(api, key: key, folder: folderID, manifest: plan.manifest)

        // A long-poll returns as soon as something changes, well before its deadline.
        let before = try api.json("GET", "/v1/uploads/\(id)", key: key, expect: 200)
        let started = Date()
        let changed = try api.json("GET", "/v1/uploads/\(id)?wait=30", key: key, expect: 200)
        #expect(Date().timeIntervalSince(started) < 25)
        let moved = changed.int("done") + changed.int("errors") + changed.int("skipped") != before.int("done") + before.int("errors") + before.int("skipped")
            || changed.string("phase") != before.string("phase") || changed.string("status") != before.string("status")
        #expect(moved, "the long-poll answered without a change: \(changed)")

        // Server-sent events: progress events with growing counters, then `end`.
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sN", "--max-time", "120", "-H", "Authorization: Bearer \(key)", api.base + "/v1/uploads/\(id)/events"]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let stream = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        var events: [(String, [String: Any])] = []
        for block in stream.components(separatedBy: "\n\n") {
            var name = "", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            if !data.isEmpty, let obj = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] { events.append((name, obj)) }
        }
        #expect(events.count >= 3, "too few events: \(stream.prefix(500))")
        #expect(events.last?.0 == "end")
        let dones = events.map { $0.1.int("done") + $0.1.int("errors") + $0.1.int("skipped") }
        #expect(dones == dones.sorted())
        let end = try #require(events.last?.1)
        #expect(end.int("done") == plan.ok && end.int("errors") == plan.errors && end.int("skipped") == plan.skipped)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [id]) == plan.ok)

        // Cancel mid-run: the rest is cancelled, the counts still add up.
        let second = try upload(api, key: key, folder: folderID, manifest: plan.manifest)
        _ = try api.json("GET", "/v1/uploads/\(second)?wait=20", key: key, expect: 200)
        let cancel = try api.json("POST", "/v1/uploads/\(second)/cancel", key: key, expect: 202)
        #expect(cancel.string("id") == second)
        let cancelled = try follow(api, second, key: key)
        #expect(cancelled.string("status") == "CANCELLED")
        #expect(cancelled.int("cancelled") > 0)
        #expect(cancelled.int("done") + cancelled.int("errors") + cancelled.int("skipped") + cancelled.int("cancelled") == plan.total)
        // Cancelled units are not failures: a retry takes only the errors, if there were any.
        let retry = try api.call("POST", "/v1/uploads/\(second)/retry", key: key)
        #expect(retry.status == (cancelled.int("errors") > 0 ? 202 : 409), "\(retry.text)")
    }

    @Test func tenantsSeeOnlyTheirOwnObjects() throws {
        let h = try PipelineHarness()
        let plan = try pipeline.makePlan(h, scale: 60)
        try h.startCoordinator()
        try h.startWorker("w1")
        let api = try APIHarness(h)
        let a = try api.tenantKey("tenant-a")
        let b = try api.tenantKey("tenant-b")
        let folderA = try folder(api, key: a, name: "private")
        let jobA = try upload(api, key: a, folder: folderA, manifest: plan.manifest)
        _ = try follow(api, jobA, key: a)
        let fileA = try #require((try api.json("GET", "/v1/folders/\(folderA)/files?limit=1", key: a, expect: 200)["items"] as? [[String: Any]])?.first)
            .string("id")

        let manifest = try Data(contentsOf: URL(fileURLWithPath: plan.manifest))
        let foreign: [(String, String, Data?)] = [
            ("GET", "/v1/folders/\(folderA)", nil), ("DELETE", "/v1/folders/\(folderA)", nil),
            ("GET", "/v1/folders/\(folderA)/files", nil), ("POST", "/v1/folders/\(folderA)/uploads", manifest),
            ("GET", "/v1/uploads/\(jobA)", nil), ("GET", "/v1/uploads/\(jobA)?wait=1", nil), ("GET", "/v1/uploads/\(jobA)/events", nil),
            ("GET", "/v1/uploads/\(jobA)/errors", nil), ("GET", "/v1/uploads/\(jobA)/errors?format=csv", nil),
            ("POST", "/v1/uploads/\(jobA)/cancel", nil), ("POST", "/v1/uploads/\(jobA)/retry", nil), ("GET", "/v1/files/\(fileA)", nil),
        ]
        for (method, path, body) in foreign {
            let r = try api.call(method, path, key: b, body: body, headers: ["Content-Type": "application/json"])
            #expect(r.status == 404, "\(method) \(path) as tenant B: \(r.status) \(r.text)")
            let missing = try api.call(method, path, key: nil, body: body, headers: ["Content-Type": "application/json"])
            #expect(missing.status == 401, "\(method) \(path) without a key: \(missing.status)")
            let wrong = try api.call(method, path, key: "rgk_" + String(repeating: "x", count: 40), body: body)
            #expect(wrong.status == 401, "\(method) \(path) with a wrong key: \(wrong.status)")
        }
        for path in ["/v1/folders", "/v1/uploads"] {
            let list = try api.call("GET", path, key: b)
            #expect(list.status == 200)
            #expect(!list.text.contains(folderA) && !list.text.contains(jobA), "tenant B's \(path) shows tenant A's objects")
        }
        // Tenant A still sees its own.
        #expect(try api.call("GET", "/v1/uploads/\(jobA)", key: a).status == 200)
        #expect(try api.call("GET", "/v1/uploads", key: a).text.contains(jobA))
    }

    @Test func badBodiesAndTooManyRequestsGetPreciseErrors() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        let api = try APIHarness(h, extraArgs: ["--max-manifest-bytes", "4000", "--rate-limit", "20"])
        let key = try api.tenantKey("acme")
        let folderID = try folder(api, key: key, name: "inbox")
        let path = "/v1/folders/\(folderID)/uploads"
        let url = h.objectURL("x.png")

        let big = Data(#"{"images": [\#(Array(repeating: #"{"objectUrl": "\#(url)"}"#, count: 200).joined(separator: ","))]}"#.utf8)
        let tooLarge = try api.call("POST", path, key: key, body: big, headers: ["Content-Type": "application/json"])
        #expect(tooLarge.status == 413 && tooLarge.text.contains("payload_too_large"))
        let wrongType = try api.call("POST", path, key: key, body: Data("x".utf8), headers: ["Content-Type": "text/plain"])
        #expect(wrongType.status == 415 && wrongType.text.contains("unsupported_media_type"))
        let broken = try api.call("POST", path, key: key, body: Data("{\"images\": [{\"objectUrl\": nope}]}".utf8),
                                  headers: ["Content-Type": "application/json"])
        #expect(broken.status == 422 && broken.text.contains("manifest_invalid"), "\(broken.text)")
        let nothing = try api.json("GET", "/v1/uploads", key: key, expect: 200)
        #expect((nothing["items"] as? [Any])?.isEmpty == true, "a refused manifest left a job behind")

        // gzip bodies are accepted and decompressed on the fly.
        let small = try h.writeManifest("small.json", #"{"images": [{"objectUrl": "\#(url)"}]}"#)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-kf", small]
        try gzip.run()
        gzip.waitUntilExit()
        let zipped = try Data(contentsOf: URL(fileURLWithPath: small + ".gz"))
        let accepted = try api.call("POST", path, key: key, body: zipped, headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        #expect(accepted.status == 202, "\(accepted.text)")
        let garbage = try api.call("POST", path, key: key, body: Data("not gzip".utf8), headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        #expect(garbage.status == 400)

        // Folders: 409 on a duplicate name, 409 deleting a folder with a running upload, 204 for an empty one.
        #expect(try api.call("POST", "/v1/folders", key: key, body: Data(#"{"name": "inbox"}"#.utf8), headers: ["Content-Type": "application/json"]).status == 409)
        #expect(try api.call("DELETE", "/v1/folders/\(folderID)", key: key).status == 409)
        let empty = try folder(api, key: key, name: "empty")
        #expect(try api.call("DELETE", "/v1/folders/\(empty)", key: key).status == 204)
        #expect(try api.call("GET", "/v1/folders/\(empty)", key: key).status == 404)

        // Rate limit: 20 requests/s with a burst of 40; a quick 80 must meet a 429 with Retry-After.
        var limited: HTTP.Reply?
        for _ in 0..<80 {
            let r = try api.call("GET", "/v1/folders", key: key)
            if r.status == 429 { limited = r; break }
        }
        let l = try #require(limited, "no request was rate limited")
        #expect(l.header("Retry-After") != nil)
        #expect(l.text.contains("rate_limited"))
    }

    @Test func theCLIWorksThroughTheAPIWithoutDatabaseAccess() throws {
        let h = try PipelineHarness()
        let plan = try pipeline.makePlan(h, scale: 80)
        try h.startCoordinator()
        try h.startWorker("w1")
        let api = try APIHarness(h)
        let key = try api.tenantKey("ops")
        // No server URLs that work: everything must go through the API.
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key,
                   "REGISTRAR_POSTGRES_URL": "postgresql://nobody@127.0.0.1:1/none", "REGISTRAR_REDIS_URL": "redis://127.0.0.1:1",
                   "REGISTRAR_AMQP_URL": "amqp://x:y@127.0.0.1:1/%2F"]
        let submit = try h.run(["submit", plan.manifest, "--folder", "via-api", "--ignore-errors", "--wait", "--json"], extraEnv: env)
        #expect(submit.status == 0, "\(submit.stdout) \(submit.stderr)")
        let final = try submit.json()
        let id = final.string("id")
        #expect(final.int("done") == plan.ok && final.int("errors") == plan.errors && final.int("skipped") == plan.skipped)
        let status = try h.run(["status", id, "--json"], extraEnv: env)
        #expect(try status.json().int("done") == plan.ok)
        let errors = try h.run(["errors", id, "--json"], extraEnv: env)
        #expect(errors.stdout.split(separator: "\n").count == plan.errors)
        let files = try h.run(["files", "--folder", "via-api"], extraEnv: env)
        #expect(files.stdout.split(separator: "\n").count == plan.ok)
        let retry = try h.run(["retry", id, "--wait", "--json"], extraEnv: env)
        #expect(try retry.json().int("total") == plan.errors, "\(retry.stdout) \(retry.stderr)")
        let cancel = try h.run(["cancel", id], extraEnv: env)
        #expect(cancel.status == 0 && cancel.stdout.contains("already ended"))
        // The key is never printed, and a wrong key is a clear refusal.
        #expect(![submit, status, errors, files, retry, cancel].contains { $0.stdout.contains(key) || $0.stderr.contains(key) })
        var wrong = env
        wrong["REGISTRAR_API_KEY"] = "rgk_" + String(repeating: "0", count: 40)
        let refused = try h.run(["status", id], extraEnv: wrong)
        #expect(refused.status == 1 && refused.stderr.contains("unauthorized"))
    }

    @Test func integrationsThroughTheAPINeverShowTheirSecrets() throws {
        let h = try PipelineHarness()
        try h.startCoordinator()
        let ring = ["REGISTRAR_ENCRYPTION_KEYS": "k1:" + Data(repeating: 42, count: 32).base64EncodedString(),
                    "REGISTRAR_FETCH_ALLOW": "127.0.0.0/8"]
        try h.startWorker("w1", extraEnv: ring)
        let api = try APIHarness(h, extraEnv: ring)
        let key = try api.tenantKey("acme")
        let other = try api.tenantKey("other")
        let canary = "CANARYsecret" + String(UUID().uuidString.prefix(8))
        let json = ["Content-Type": "application/json"]

        // An s3-compatible integration with a canary secret: 201, and the secret never comes back.
        let body = #"{"kind": "s3-compatible", "name": "minio", "credentials": {"endpoint": "http://127.0.0.1:9", "region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "\#(canary)"}}"#
        let created = try api.call("POST", "/v1/integrations", key: key, body: Data(body.utf8), headers: json)
        #expect(created.status == 201, "\(created.text)")
        #expect(!created.text.contains(canary))
        let id = try #require((try JSONSerialization.jsonObject(with: created.body) as? [String: Any])?["id"] as? String)
        for path in ["/v1/integrations", "/v1/integrations/\(id)"] {
            let r = try api.call("GET", path, key: key)
            #expect(r.status == 200 && r.text.contains("minio") && !r.text.contains(canary), "\(path): \(r.text)")
        }
        #expect(try api.call("POST", "/v1/integrations", key: key, body: Data(body.utf8), headers: json).status == 409)
        let bad = try api.call("POST", "/v1/integrations", key: key, body: Data(#"{"kind": "aws", "name": "x", "credentials": {}}"#.utf8), headers: json)
        #expect(bad.status == 422, "\(bad.text)")
        // Another tenant neither sees nor reaches it.
        #expect(try api.call("GET", "/v1/integrations/\(id)", key: other).status == 404)
        #expect(!(try api.call("GET", "/v1/integrations", key: other).text.contains(id)))
        #expect(try api.call("DELETE", "/v1/integrations/\(id)", key: other).status == 404)

        // A direct integration: test reads an object; an upload names it and registers.
        let direct = try api.json("POST", "/v1/integrations", key: key, body: Data(#"{"kind": "direct", "name": "plain"}"#.utf8),
                                  headers: json, expect: 201)
        let object = try h.putObject("int/a.png", bytes: try MediaSamples.bytes("images/png-rgb8.png"))
        let test = try api.json("POST", "/v1/integrations/\(direct.string("id"))/test", key: key,
                                body: Data(#"{"url": "\#(object)"}"#.utf8), headers: json, expect: 200)
        #expect(test["ok"] as? Bool == true, "\(test)")
        let folderID = try folder(api, key: key, name: "via-integration")
        let manifest = try h.writeManifest("int.json", #"{"images": [{"objectUrl": "\#(object)"}]}"#)
        let unknown = try api.call("POST", "/v1/folders/\(folderID)/uploads?integration=nope", key: key,
                                   body: try Data(contentsOf: URL(fileURLWithPath: manifest)), headers: json)
        #expect(unknown.status == 422 && unknown.text.contains("unknown_integration"))
        let id2 = try upload(api, key: key, folder: folderID, manifest: manifest, query: "integration=plain")
        let done = try follow(api, id2, key: key)
        #expect(done.string("status") == "DONE" && done.int("done") == 1, "\(done)")
        #expect(try h.count("SELECT count(*) FROM upload_jobs WHERE id = $1 AND integration_id IS NOT NULL", [id2]) == 1)

        // Removal: 204, then gone; the canary is in no log of the API or the worker.
        #expect(try api.call("DELETE", "/v1/integrations/\(id)", key: key).status == 204)
        #expect(try api.call("GET", "/v1/integrations/\(id)", key: key).status == 404)
        for log in ["api", "w1", "coordinator"] { #expect(!h.log(log).contains(canary), "\(log) log holds the secret") }
    }

    @Test func aChunkWhoseJobIsGoneIsDroppedNotRetriedForever() throws {
        let h = try PipelineHarness()
        try h.startWorker("w1")
        let queue = try AMQPWorkQueue(url: h.env.amqp, role: .publisher)
        defer { queue.close() }
        let ghost = UUID().uuidString.lowercased()
        try queue.publishChunk(ChunkCodec.encode(Chunk(jobID: ghost, seq: 0, folderID: UUID().uuidString.lowercased(),
                                                       skipDuplicates: false, entries: [])), to: .registration)
        try queue.waitForConfirms()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !h.log("w1").contains("chunk of a job that no longer exists") { usleep(100_000) }
        #expect(h.log("w1").contains("chunk of a job that no longer exists"))
        usleep(500_000)
        #expect(try queue.chunkBacklog() == 0)
        #expect(try queue.depth(of: AMQPWorkQueue.deadQueue) == 0)
        #expect(h.log("w1").components(separatedBy: "no longer exists").count == 2, "the chunk came back")
    }

    @Test func coordinatorAndWorkerExposeTheMetricsTheAlertsUse() throws {
        let h = try PipelineHarness()
        let plan = try pipeline.makePlan(h, scale: 40)
        let wport = try APIHarness.freePort(), cport = try APIHarness.freePort()
        try h.start("coordinator", ["coordinator", "--metrics-port", String(cport), "--metrics-host", "127.0.0.1"])
        try h.start("w1", ["worker", "--metrics-port", String(wport), "--metrics-host", "127.0.0.1"])
        let api = try APIHarness(h)
        let key = try api.tenantKey("ops")
        let id = try upload(api, key: key, folder: try folder(api, key: key, name: "metrics"), manifest: plan.manifest)
        let final = try follow(api, id, key: key)
        #expect(final.string("status") == "DONE")
        let worker = try HTTP.send("GET", "http://127.0.0.1:\(wport)/metrics").text
        let coordinator = try HTTP.send("GET", "http://127.0.0.1:\(cport)/metrics").text
        // The names deploy/prometheus/alerts.yaml and the chart's rules are written against.
        // Every engine series is labelled with its job kind (one name, one label set per registry).
        for name in [#"registrar_units_total{kind="registration",outcome="done"} \#(plan.ok)"#,
                     #"registrar_units_total{kind="registration",outcome="error"} \#(plan.errors)"#,
                     #"registrar_unit_errors_total{kind="registration",code="not_found"}"#, #"registrar_fetch_responses_total{status="404"}"#,
                     "registrar_probe_duration_seconds_bucket", "registrar_probe_bytes_bucket", "registrar_chunks_acked_total",
                     #"registrar_build_info{role="worker""#, "registrar_process_resident_memory_bytes"] {
            #expect(worker.contains(name), "worker metrics lack \(name)")
        }
        #expect(coordinator.contains("registrar_chunks_published_total"))
        #expect(coordinator.contains(#"registrar_build_info{role="coordinator""#))
        for port in [wport, cport] {
            #expect(try HTTP.send("GET", "http://127.0.0.1:\(port)/readyz").status == 200)
            #expect(try HTTP.send("GET", "http://127.0.0.1:\(port)/healthz").status == 200)
        }
        let apiMetrics = try api.call("GET", "/metrics", key: nil).text
        #expect(apiMetrics.contains(#"registrar_jobs{status="DONE"} 1"#))
        #expect(apiMetrics.contains(#"registrar_dependency_up{dependency="postgres"} 1"#))
    }
}
}
