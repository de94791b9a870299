import Foundation
import Testing

/// Cloud-synced folders against moto with signature checking on (docs/sync.md), through a
/// counting proxy so the test sees every object GET a sync makes: a prefix synced listing
/// first (mixed types, sidecars), then adds, deletes and overwrites synced incrementally
/// (exactly those created, tombstoned and re-probed; no unchanged object opened), a returning
/// object restored, and a worker that dies mid-sync leaving every object recorded exactly once.
///
/// Part of `PipelineTests` (serialized with the other pipeline tests: they share queues and Redis).
extension LiveServers.PipelineTests {
    /// Objects in the first sync: 5,000 by default; `REGISTRAR_TEST_SYNC_OBJECTS=50000` (or
    /// `REGISTRAR_SYNC_TEST_OBJECTS`) runs the issue's acceptance at full size. The changes scale
    /// with it: n/50 added, n/100 deleted, n/250 overwritten (1,000, 500 and 200 at 50,000).
    static var syncObjects: Int {
        let env = ProcessInfo.processInfo.environment
        return Int(env["REGISTRAR_TEST_SYNC_OBJECTS"] ?? env["REGISTRAR_SYNC_TEST_OBJECTS"] ?? "") ?? 5_000
    }

    final class CountingProxy {
        let process = Process()
        let port: Int
        let log: URL
        var endpoint: String { "http://127.0.0.1:\(port)" }

        init(upstream: Int, workDir: URL) throws {
            let pick = try ProcessInfo.processInfo.environment["REGISTRAR_SYNC_PROXY_PORT"]
                ?? MotoServer.output([MotoServer.python, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            port = Int(pick.trimmingCharacters(in: .whitespacesAndNewlines))!
            log = workDir.appendingPathComponent("proxy-requests.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/counting_proxy.py").path
            process.executableURL = URL(fileURLWithPath: MotoServer.python)
            process.arguments = [script, String(port), String(upstream), log.path]
            try process.run()
            let deadline = Date().addingTimeInterval(15)
            while (try? MotoServer.output(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "\(endpoint)/moto-api/"]))?.hasPrefix("200") != true {
                guard Date() < deadline else { throw PipelineHarness.HarnessError("counting proxy did not start") }
                usleep(100_000)
            }
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        /// Every logged request since the last `reset`, as "METHOD PATH?QUERY".
        func requests() -> [String] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func reset() { try? Data().write(to: log) }
        /// Object GETs (not listings) by key, path-style `/bucket/key`.
        func objectGETs(bucket: String) -> [String: Int] {
            var out: [String: Int] = [:]
            for line in requests() where line.hasPrefix("GET /\(bucket)/") && !line.contains("list-type=2") {
                let path = String(line.dropFirst("GET /\(bucket)/".count))
                let key = (path.split(separator: "?").first.map(String.init) ?? path).removingPercentEncoding ?? path
                out[key, default: 0] += 1
            }
            return out
        }
        var listings: Int { requests().filter { $0.contains("list-type=2") }.count }
    }

    static let syncSamples = ["images/png-rgb8.png", "av/mp3_cbr.mp3", "documents/pdf-classic-3p.pdf", "documents/text-ascii.txt", "av/mp4_faststart.mp4"]

    @Test func cloudSyncedFolderListsFirstThenSyncsExactlyWhatChanged() throws {
        let h = try PipelineHarness()
        let seed = h.workDir.appendingPathComponent("seed.png")
        try Data(try MediaSamples.bytes("images/png-rgb8.png")).write(to: seed)
        let moto = try MotoServer(bucket: "synced", files: [seed], workDir: h.workDir,
                                  port: ProcessInfo.processInfo.environment["REGISTRAR_SYNC_MOTO_PORT"].flatMap(Int.init))
        let keyID = try #require(moto.credentials["access_key_id"]), secret = try #require(moto.credentials["secret_access_key"])
        let proxy = try CountingProxy(upstream: moto.port, workDir: h.workDir)
        let samples = Self.syncSamples.map { MediaSamples.root.appendingPathComponent($0).path }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/sync_fixture.py").path
        func bucket(_ cmd: String, _ first: Int, _ count: Int) throws -> [String] {
            let out = try MotoServer.output([MotoServer.python, fixture, cmd, moto.endpoint, keyID, secret, "synced", "data/", String(first), String(count)] + samples)
            let d = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
            return d["keys"] as! [String]
        }
        let n = Self.syncObjects
        // Waits scale with the prefix (the default size fits the first figures with room to spare).
        let scale = max(1.0, Double(n) / 5_000)
        let fillStarted = Date()
        let media = try bucket("fill", 0, n)
        print("bucket filled with \(n) objects (\(media.count) media) in \(String(format: "%.1f", Date().timeIntervalSince(fillStarted))) s")
        // Not under the prefix: never listed.
        _ = try MotoServer.output([MotoServer.python, fixture, "put", moto.endpoint, keyID, secret, "synced", "elsewhere/x.png", seed.path])

        let keys = ["REGISTRAR_ENCRYPTION_KEYS": Self.keyRing]
        let creds = try writeJSON(h, "sync.json", ["access_key_id": keyID, "secret_access_key": secret, "endpoint": proxy.endpoint])
        #expect(try h.run(["integrations", "add", "s3-compatible", "--name", "moto-sync", "--from-file", creds], extraEnv: keys).status == 0)
        // Bad input is refused with the field named.
        let bad = try h.run(["folders", "sync-create", "--folder", "synced", "--integration", "moto-sync", "--uri", "https://synced/data/"], extraEnv: keys)
        #expect(bad.status == 2 && bad.stderr.contains("--uri"), "\(bad.stderr)")
        let created = try h.run(["folders", "sync-create", "--folder", "synced", "--integration", "moto-sync", "--uri", "s3://synced/data/",
                                 "--sidecar-suffix", ".metadata.json", "--json"], extraEnv: keys)
        #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
        let binding = try created.json()
        let folderID = try #require(binding["folderId"] as? String)
        let notificationSecret = try #require(binding["notificationSecret"] as? String)
        #expect(try h.count("SELECT count(*) FROM folder_syncs WHERE encode(notify_secret_sha256, 'hex') = $1", [notificationSecret]) == 0,
                "only the secret's digest is stored")

        try h.startCoordinator(extraEnv: keys)
        try h.startWorker("w1", extraEnv: keys.merging(["REGISTRAR_TEST_CHUNK_DELAY_MS": "200", "REGISTRAR_WORKER_SLOTS": "4"]) { $1 })

        // First sync, listing first: every object is browsable (a file, not yet verified)
        // before the workers have verified them all.
        let started = Date()
        let first = try h.run(["folders", "sync", "synced"], extraEnv: keys)
        let firstJob = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var browsableAt: Double?, unverifiedWhenBrowsable = 0
        while Date().timeIntervalSince(started) < 100 * scale {
            if try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [folderID]) == media.count {
                browsableAt = Date().timeIntervalSince(started)
                unverifiedWhenBrowsable = try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND verified_at IS NULL", [folderID])
                break
            }
            usleep(50_000)
        }
        #expect(browsableAt != nil, "the listing never recorded every object")
        #expect(unverifiedWhenBrowsable > 0, "files were recorded only after verification (not listing first)")
        let done1 = try h.waitForJob(firstJob, timeout: 150 * scale)
        let verifiedAt = Date().timeIntervalSince(started)
        print("sync of \(n) objects: browsable after \(String(format: "%.1f", browsableAt ?? -1)) s, verified after \(String(format: "%.1f", verifiedAt)) s")
        #expect(done1.string("status") == "DONE" && done1.int("done") == media.count && done1.int("total") == media.count, "\(done1)")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND verified_at IS NOT NULL", [folderID]) == media.count)
        #expect(try h.count("SELECT count(DISTINCT type) FROM files WHERE folder_id = $1", [folderID]) == 5)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND type = 'image' AND (width IS NULL OR height IS NULL)", [folderID]) == 0,
                "images were probed like manifest units")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND type = 'pdf' AND page_count = 3", [folderID]) == media.filter { $0.hasSuffix(".pdf") }.count)
        // Sidecars: client metadata, never files; unregistrable extensions and other prefixes are not files.
        let withSidecar = media.filter { Int($0.dropFirst("data/obj-".count).prefix(7))! % 10 == 0 }
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND client_metadata->>'source' = 'sidecar'", [folderID]) == withSidecar.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND (sync_key LIKE '%.metadata.json' OR sync_key LIKE '%.bin' OR sync_key LIKE 'elsewhere/%')", [folderID]) == 0)
        // Every object opened once (ranged GETs of the probe; an MP4 may take a second round), every sidecar read once.
        var gets = proxy.objectGETs(bucket: "synced")
        #expect(Set(media).isSubset(of: Set(gets.keys)))
        #expect(gets.keys.filter { $0.hasSuffix(".metadata.json") }.count == withSidecar.count)
        #expect(gets.keys.filter { $0.hasSuffix(".bin") }.isEmpty)
        // n objects and n/10 sidecars, 1,000 keys a page (one more page when a page boundary falls at the end).
        let pages = (n + n / 10 + 999) / 1000
        #expect(proxy.listings == pages || proxy.listings == pages + 1, "\(proxy.listings) listing pages, \(pages) expected")

        // A second sync with nothing changed opens nothing.
        proxy.reset()
        let idle = try h.run(["folders", "sync", "synced", "--wait", "--json"], extraEnv: keys)
        #expect(try idle.json().string("status") == "DONE" && (try idle.json().int("total")) == 0, "\(idle.stdout)")
        #expect(proxy.objectGETs(bucket: "synced").isEmpty, "an unchanged object was opened")

        // Adds, deletes, overwrites: exactly those are created, tombstoned and re-probed.
        let added = try bucket("fill", n, n / 50)
        let deleted = try bucket("delete", 0, n / 100)
        let overwritten = try bucket("overwrite", n / 2, n / 250)
        // Not a PNG inside: its probe fails, a per-file error as for a manifest unit.
        _ = try MotoServer.output([MotoServer.python, fixture, "put", moto.endpoint, keyID, secret, "synced", "data/broken.png", samples[3]])
        proxy.reset()
        let secondStarted = Date()
        let second = try h.run(["folders", "sync", "synced", "--wait", "--json"], extraEnv: keys)
        print("incremental sync (+\(added.count) -\(deleted.count) ~\(overwritten.count)) in \(String(format: "%.1f", Date().timeIntervalSince(secondStarted))) s")
        let s2 = try second.json()
        #expect(s2.string("status") == "DONE" && s2.int("done") == added.count + overwritten.count && s2.int("errors") == 1, "\(s2)")
        let errors = try h.run(["errors", s2.string("id"), "--json"])
        #expect(errors.status == 0 && errors.stdout.contains("data/broken.png") && errors.stdout.split(separator: "\n").count == 1, "\(errors.stdout) \(errors.stderr)")
        #expect(try h.scalar("SELECT probe_error FROM files WHERE folder_id = $1 AND sync_key = 'data/broken.png' AND verified_at IS NULL", [folderID]) != nil)
        gets = proxy.objectGETs(bucket: "synced")
        let probedKeys = Set(gets.keys.filter { !$0.hasSuffix(".metadata.json") })
        let changed = added + overwritten + ["data/broken.png"]
        #expect(probedKeys == Set(changed), "opened \(probedKeys.subtracting(changed).sorted().prefix(5)) unexpectedly; missed \(Set(changed).subtracting(probedKeys).sorted().prefix(5))")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND tombstoned_at IS NOT NULL", [folderID]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND tombstoned_at IS NOT NULL",
                            [folderID, "{" + deleted.map { "\"\($0)\"" }.joined(separator: ",") + "}"]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND probe_job = $3 AND verified_at IS NOT NULL",
                            [folderID, "{" + overwritten.map { "\"\($0)\"" }.joined(separator: ",") + "}", s2.string("id")]) == overwritten.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [folderID]) == media.count + added.count + 1, "no duplicates")
        let shown = try h.run(["folders", "sync-show", "synced"], extraEnv: keys)
        let listing = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["listing"] as? [String: Any])
        #expect(listing["created"] as? Int == added.count + 1 && listing["reprobed"] as? Int == overwritten.count && listing["tombstoned"] as? Int == deleted.count, "\(listing)")

        // A returning object (same bytes, same ETag) is restored without being opened.
        let back = deleted[1]
        let sample = samples[Int(back.dropFirst("data/obj-".count).prefix(7))! % samples.count]
        _ = try MotoServer.output([MotoServer.python, fixture, "put", moto.endpoint, keyID, secret, "synced", back, sample])
        proxy.reset()
        let third = try h.run(["folders", "sync", "synced", "--wait", "--json"], extraEnv: keys)
        #expect(try third.json().string("status") == "DONE")
        #expect(try h.scalar("SELECT tombstoned_at IS NULL FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, back]) == "t")
        #expect(proxy.objectGETs(bucket: "synced").isEmpty, "the restored object was re-opened though its ETag is unchanged")

        // The API: the binding (tenancy like every folder route), a run, and bucket notifications
        // authenticated by the folder's secret, syncing just the keys they name.
        let api = try APIHarness(h, extraEnv: keys)
        let key = try api.tenantKey("default")
        let other = try api.tenantKey("someone-else")
        let viaAPI = try api.json("GET", "/v1/folders/\(folderID)/sync", key: key, expect: 200)
        #expect(viaAPI["uri"] as? String == "s3://synced/data/" && viaAPI["notificationSecret"] == nil, "\(viaAPI)")
        #expect(try api.call("GET", "/v1/folders/\(folderID)/sync", key: other).status == 404)
        // File records say which files are verified and which are tombstoned.
        let goneID = try #require(try h.scalar("SELECT id FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, deleted[5]]))
        let gone = try api.json("GET", "/v1/files/\(goneID)", key: key, expect: 200)
        #expect(gone["tombstoned"] as? Bool == true && gone["verified"] as? Bool == true, "\(gone)")
        let liveID = try #require(try h.scalar("SELECT id FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, media.last!]))
        #expect(try api.json("GET", "/v1/files/\(liveID)", key: key, expect: 200)["tombstoned"] as? Bool == false)
        #expect(try api.call("POST", "/v1/folders/\(folderID)/sync/run", key: other).status == 404)
        let notified = "data/notified one.png"
        _ = try MotoServer.output([MotoServer.python, fixture, "put", moto.endpoint, keyID, secret, "synced", notified, seed.path])
        let event = #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"synced"},"object":{"key":"data/notified+one.png","size":\#(try Data(contentsOf: seed).count)}}},{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"synced"},"object":{"key":"\#(added[0])"}}}]}"#
        #expect(try api.call("POST", "/v1/folders/\(folderID)/sync/notifications", key: nil, body: Data(event.utf8)).status == 401)
        #expect(try api.call("POST", "/v1/folders/\(folderID)/sync/notifications", key: "rsn_wrong", body: Data(event.utf8)).status == 401)
        let malformed = try api.call("POST", "/v1/folders/\(folderID)/sync/notifications", key: notificationSecret, body: Data(#"{"Records":[{}]}"#.utf8))
        #expect(malformed.status == 422 && malformed.text.contains("Records[0].eventName"), "\(malformed.text)")
        let notifiedAt = Date()
        let accepted = try api.json("POST", "/v1/folders/\(folderID)/sync/notifications", key: notificationSecret, body: Data(event.utf8), expect: 202)
        #expect(accepted["created"] as? Int == 1 && accepted["removed"] as? Int == 1, "\(accepted)")
        var registeredAfter: Double?
        while Date().timeIntervalSince(notifiedAt) < 20 {
            if try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = $2 AND verified_at IS NOT NULL", [folderID, notified]) == 1 {
                registeredAfter = Date().timeIntervalSince(notifiedAt)
                break
            }
            usleep(50_000)
        }
        #expect(registeredAfter != nil, "the notified key was not registered within 20 s")
        print("notified key registered after \(String(format: "%.2f", registeredAfter ?? -1)) s")
        #expect(try h.scalar("SELECT tombstoned_at IS NOT NULL FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, added[0]]) == "t",
                "a removal notification tombstones its key")
        proxy.reset()
        let run = try api.json("POST", "/v1/folders/\(folderID)/sync/run", key: key, expect: 202)
        _ = try h.waitForJob(try #require(run["id"] as? String), timeout: 60 * scale)
        #expect(proxy.objectGETs(bucket: "synced").isEmpty, "the notified object (its ETag learnt from its probe) or the restored one was re-opened")
        // The full listing restores it (the notification was wrong: it is still in the bucket, its ETag unchanged).
        #expect(try h.scalar("SELECT tombstoned_at IS NULL FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, added[0]]) == "t")

        // A worker that dies mid-sync (after a commit, before its ack; then one killed outright):
        // every object is still recorded and verified exactly once.
        let more = try bucket("fill", n + n / 50, 1_500)  // past `added` ([n, n + n/50)) at every size
        h.kill9("w1")
        try h.startWorker("w-crash", extraEnv: keys.merging(["REGISTRAR_FAULT_WORKER": "exit-after-commit"]) { $1 })
        let crashJob = try h.run(["folders", "sync", "synced"], extraEnv: keys).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = h.waitForExit("w-crash", timeout: 60 * scale)
        try h.startWorker("w2", extraEnv: keys.merging(["REGISTRAR_TEST_CHUNK_DELAY_MS": "300"]) { $1 })
        _ = try h.waitUntil(crashJob, timeout: 60 * scale) { $0.int("done") > 250 }
        h.kill9("w2")
        try h.startWorker("w3", extraEnv: keys)
        let crash = try h.waitForJob(crashJob, timeout: 120 * scale)
        #expect(crash.string("status") == "DONE" && crash.int("done") == more.count && crash.int("total") == more.count, "\(crash)")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [folderID]) == media.count + added.count + more.count + 2)
        #expect(try h.count("SELECT count(*) FROM (SELECT sync_key FROM files WHERE folder_id = $1 GROUP BY sync_key HAVING count(*) > 1) d", [folderID]) == 0)
        #expect(try h.count("SELECT coalesce(sum(done_count), 0) FROM chunks WHERE job_id = $1", [crashJob]) == more.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND verified_at IS NULL AND tombstoned_at IS NULL", [folderID]) == 1, "only the broken one")

        // The notification secret and the integration's secret appear nowhere an operator looks.
        h.stopAll()
        let seen = h.log("coordinator") + h.log("w2") + h.log("w3") + h.log("api") + shown.stdout
        #expect(!seen.contains(notificationSecret) && !seen.contains(secret))
    }
}
