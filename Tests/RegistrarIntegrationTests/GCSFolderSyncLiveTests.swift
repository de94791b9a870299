import Foundation
import Testing

/// Cloud-synced gs:// folders against the fake GCS of `Support/gcs_fixture.py` (docs/sync.md):
/// the JSON API listing in pages of 100 with the service account's bearer token, a few hundred
/// mixed objects with sidecars recorded listing first and probed; then objects added, deleted
/// and overwritten: the next sync creates, tombstones and re-probes exactly those and opens no
/// unchanged object (the fixture counts GETs per name); a returning object is restored unopened;
/// an append-only binding lists from `startOffset` and opens only the new objects.
///
/// Part of `PipelineTests` (serialized with the other pipeline tests: they share queues and Redis).
extension LiveServers.PipelineTests {
    @Test func gcsSyncedFolderListsFirstThenSyncsExactlyWhatChanged() throws {
        let h = try PipelineHarness()
        let bucket = "synced-gcs"
        let gcs = try GCSFixture(workDir: h.workDir, bucket: bucket, pageSize: 100)
        let samples = Self.syncSamples.map { MediaSamples.root.appendingPathComponent($0).path }
        let sidecarDir = h.workDir.appendingPathComponent("sidecars")
        try FileManager.default.createDirectory(at: sidecarDir, withIntermediateDirectories: true)
        func name(_ i: Int) -> String { String(format: "data/obj-%07d.%@", i, (Self.syncSamples[i % 5] as NSString).pathExtension) }
        /// Objects i..<i+count (every 10th with a sidecar); their names.
        func fill(_ first: Int, _ count: Int, prefix: String = "data/") throws -> [String] {
            var puts: [(String, String)] = []
            var names: [String] = []
            for i in first..<(first + count) {
                let n = prefix + String(name(i).dropFirst("data/".count))
                names.append(n)
                puts.append((n, samples[i % 5]))
                if i % 10 == 0 {
                    let side = sidecarDir.appendingPathComponent("\(i).json")
                    try Data(#"{"source": "sidecar", "i": \#(i)}"#.utf8).write(to: side)
                    puts.append((n + ".metadata.json", side.path))
                }
            }
            try gcs.put(puts)
            return names
        }
        let n = 300
        let media = try fill(0, n)
        let junk = h.workDir.appendingPathComponent("junk.bin")
        try Data([1, 2, 3]).write(to: junk)
        try gcs.put([("data/skip.bin", junk.path), ("elsewhere/x.png", samples[0])])

        let keys = ["REGISTRAR_ENCRYPTION_KEYS": Self.keyRing]
        #expect(try h.run(["integrations", "add", "gcp", "--name", "gsync", "--from-file", gcs.goodKey, "--endpoint", gcs.endpoint], extraEnv: keys).status == 0)
        // The integration must match the URI's store.
        let mismatch = try h.run(["folders", "sync-create", "--folder", "gsynced", "--integration", "gsync", "--uri", "s3://synced-gcs/data/"], extraEnv: keys)
        #expect(mismatch.status != 0 && mismatch.stderr.contains("--integration: 'gsync' is gcp; an s3:// binding"), "\(mismatch.stderr)")
        let created = try h.run(["folders", "sync-create", "--folder", "gsynced", "--integration", "gsync", "--uri", "gs://\(bucket)/data/",
                                 "--sidecar-suffix", ".metadata.json", "--json"], extraEnv: keys)
        #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
        let binding = try created.json()
        #expect(binding["uri"] as? String == "gs://\(bucket)/data/", "\(binding)")
        let folderID = try #require(binding["folderId"] as? String)

        try h.startCoordinator(extraEnv: keys)
        try h.startWorker("w1", extraEnv: keys.merging(["REGISTRAR_WORKER_SLOTS": "4"]) { $1 })

        // First sync: every media object becomes a gs:// file, verified by probing through the
        // integration; sidecars are client metadata; other extensions and prefixes are not files.
        let first = try h.run(["folders", "sync", "gsynced", "--wait", "--json"], extraEnv: keys)
        let s1 = try first.json()
        #expect(s1.string("status") == "DONE" && s1.int("done") == n && s1.int("total") == n && s1.int("errors") == 0, "\(s1) \(h.log("coordinator").suffix(1500))")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND url LIKE 'gs://synced-gcs/data/obj-%' AND verified_at IS NOT NULL", [folderID]) == n)
        #expect(try h.count("SELECT count(DISTINCT type) FROM files WHERE folder_id = $1", [folderID]) == 5)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND type = 'image' AND (width IS NULL OR height IS NULL)", [folderID]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND client_metadata->>'source' = 'sidecar'", [folderID]) == n / 10)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND (sync_key LIKE '%.metadata.json' OR sync_key LIKE '%.bin' OR sync_key LIKE 'elsewhere/%')", [folderID]) == 0)
        var stats = try gcs.stats()
        // 300 objects + 30 sidecars + 1 ignored, 100 a page: 4 pages.
        #expect(stats["json_list_pages"] as? Int == 4, "\(stats["json_list_pages"] ?? "-") listing pages")
        #expect(stats["unauthenticated"] as? Int == 0 && stats["unknown_token"] as? Int == 0 && stats["expired"] as? Int == 0)
        var gets = try gcs.getsPerKey()
        #expect(Set(media).isSubset(of: Set(gets.keys)))
        #expect(gets.keys.filter { $0.hasSuffix(".metadata.json") }.count == n / 10)
        #expect(gets["data/skip.bin"] == nil && gets["elsewhere/x.png"] == nil)

        // Nothing changed: nothing opened.
        try gcs.control("POST", "reset-counts")
        let idle = try h.run(["folders", "sync", "gsynced", "--wait", "--json"], extraEnv: keys)
        #expect(try idle.json().string("status") == "DONE" && (try idle.json().int("total")) == 0, "\(idle.stdout)")
        #expect(try gcs.getsPerKey().isEmpty, "an unchanged object was opened")

        // 20 added, 10 deleted, 5 overwritten (PNGs with other PNG bytes: a new md5Hash).
        let added = try fill(n, 20)
        let deleted = (0..<10).map { name(3 + $0 * 7) }
        for d in deleted { try gcs.control("DELETE", "object/\(d)") }
        let overwritten = (0..<5).map { name(100 + $0 * 5) }
        let otherPNG = MediaSamples.root.appendingPathComponent("images/png-gray16.png").path
        try gcs.put(overwritten.map { ($0, otherPNG) })
        try gcs.control("POST", "reset-counts")
        let second = try h.run(["folders", "sync", "gsynced", "--wait", "--json"], extraEnv: keys)
        let s2 = try second.json()
        #expect(s2.string("status") == "DONE" && s2.int("done") == added.count + overwritten.count && s2.int("errors") == 0, "\(s2)")
        gets = try gcs.getsPerKey()
        let opened = Set(gets.keys.filter { !$0.hasSuffix(".metadata.json") })
        let changed = Set(added + overwritten)
        #expect(opened == changed, "opened \(opened.subtracting(changed).sorted().prefix(5)) unexpectedly; missed \(changed.subtracting(opened).sorted().prefix(5))")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND tombstoned_at IS NOT NULL", [folderID]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND tombstoned_at IS NOT NULL",
                            [folderID, "{" + deleted.map { "\"\($0)\"" }.joined(separator: ",") + "}"]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND probe_job = $3 AND verified_at IS NOT NULL",
                            [folderID, "{" + overwritten.map { "\"\($0)\"" }.joined(separator: ",") + "}", s2.string("id")]) == overwritten.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [folderID]) == n + added.count, "no duplicates")
        let shown = try h.run(["folders", "sync-show", "gsynced"], extraEnv: keys)
        let listing = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["listing"] as? [String: Any])
        #expect(listing["created"] as? Int == added.count && listing["reprobed"] as? Int == overwritten.count && listing["tombstoned"] as? Int == deleted.count, "\(listing)")

        // A returning object (same bytes: same md5Hash) is restored without being opened.
        let back = deleted[1]
        try gcs.put([(back, samples[(3 + 7) % 5])])
        try gcs.control("POST", "reset-counts")
        let third = try h.run(["folders", "sync", "gsynced", "--wait", "--json"], extraEnv: keys)
        #expect(try third.json().string("status") == "DONE")
        #expect(try h.scalar("SELECT tombstoned_at IS NULL FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, back]) == "t")
        #expect(try gcs.getsPerKey().isEmpty, "the restored object was re-opened though its md5Hash is unchanged")

        // Append-only: the next sync lists from startOffset = the last name seen and opens only
        // the new objects.
        let appendFirst = try fill(1000, 30, prefix: "app/")
        #expect(try h.run(["folders", "sync-create", "--folder", "gappend", "--integration", "gsync", "--uri", "gs://\(bucket)/app/",
                           "--sidecar-suffix", ".metadata.json", "--append-only"], extraEnv: keys).status == 0)
        let a1 = try h.run(["folders", "sync", "gappend", "--wait", "--json"], extraEnv: keys)
        #expect(try a1.json().int("done") == appendFirst.count, "\(a1.stdout.split(separator: "\n").last ?? "")")
        let appended = try fill(1030, 7, prefix: "app/")
        try gcs.control("POST", "reset-counts")
        let a2 = try h.run(["folders", "sync", "gappend", "--wait", "--json"], extraEnv: keys)
        #expect(try a2.json().string("status") == "DONE" && (try a2.json().int("done")) == appended.count, "\(a2.stdout.split(separator: "\n").last ?? "")")
        stats = try gcs.stats()
        #expect(stats["start_offsets"] as? [String] == [appendFirst.last!], "\(stats["start_offsets"] ?? "-")")
        #expect(stats["json_list_pages"] as? Int == 1)
        #expect(Set((try gcs.getsPerKey()).keys.filter { !$0.hasSuffix(".metadata.json") }) == Set(appended))

        // No token in any log.
        h.stopAll()
        let seen = h.log("coordinator") + h.log("w1") + first.stderr + second.stderr
        for token in try gcs.stats()["issued"] as? [String] ?? [] { #expect(!seen.contains(token), "an access token leaked") }
    }
}
