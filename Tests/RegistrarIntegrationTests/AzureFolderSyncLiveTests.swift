import Foundation
import Testing

/// A cloud-synced folder bound to an Azure Blob container (docs/sync.md), against the fake Blob
/// service that checks every Shared Key signature with azure-storage-blob's code and counts the
/// Get Blob calls per blob: a few hundred mixed objects with sidecars synced listing first, then
/// adds, deletes and overwrites: the next sync creates, tombstones and re-probes exactly those
/// and opens no unchanged blob; a returning blob (same Content-MD5) is restored unopened.
///
/// Part of `PipelineTests` (serialized with the other pipeline tests: they share queues and Redis).
extension LiveServers.PipelineTests {
    /// `data/obj-NNNNNNN.ext` like the S3 sync fixture: samples in turn, every 97th `.bin`
    /// (never a file), every tenth with a JSON sidecar. `append` changes the bytes (media still parse).
    static func azureSyncBlobs(_ range: Range<Int>, samples: [String], append: String = "", sidecars: Bool = true) -> (media: [String], puts: [[String: Any]]) {
        var media: [String] = [], puts: [[String: Any]] = []
        for i in range {
            let sample = samples[i % samples.count]
            let ext = i % 97 == 96 ? ".bin" : "." + (sample as NSString).pathExtension
            let name = String(format: "data/obj-%07d", i) + ext
            if ext != ".bin" { media.append(name) }
            puts.append(["container": "synced", "name": name, "file": sample, "append": append])
            if sidecars && i % 10 == 0 {
                puts.append(["container": "synced", "name": name + ".metadata.json", "text": "{\"n\": \(i), \"source\": \"sidecar\"}"])
            }
        }
        return (media, puts)
    }

    @Test func azureContainerSyncedListingFirstThenExactlyWhatChanged() throws {
        let h = try PipelineHarness()
        let azure = try AzureFixtureServer(containers: ["synced"])
        let samples = Self.syncSamples.map { MediaSamples.root.appendingPathComponent($0).path }
        let n = 300
        let (media, puts) = Self.azureSyncBlobs(0..<n, samples: samples)
        // Pages of at most 64 blobs (the service may answer fewer than maxresults): the listing
        // follows NextMarker, and sidecars pair with their objects across page boundaries.
        try azure.bulk(["pageCap": 64, "put": puts + [["container": "synced", "name": "elsewhere/x.png", "file": samples[0]]]])

        let keys = ["REGISTRAR_ENCRYPTION_KEYS": Self.keyRing]
        let creds = try writeJSON(h, "azure.json", ["account": azure.account, "account_key": azure.key, "endpoint": azure.endpoint])
        #expect(try h.run(["integrations", "add", "azure", "--name", "blobs", "--from-file", creds], extraEnv: keys).status == 0)
        let uri = "https://\(azure.account).blob.core.windows.net/synced/data/"
        // Azure bindings cannot be append-only (List Blobs has no start-after); the field is named.
        let appendOnly = try h.run(["folders", "sync-create", "--folder", "azsync", "--integration", "blobs", "--uri", uri, "--append-only"], extraEnv: keys)
        #expect(appendOnly.status != 0 && appendOnly.stderr.contains("append-only"), "\(appendOnly.stderr)")
        let created = try h.run(["folders", "sync-create", "--folder", "azsync", "--integration", "blobs", "--uri", uri,
                                 "--sidecar-suffix", ".metadata.json", "--json"], extraEnv: keys)
        #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
        let binding = try created.json()
        let folderID = try #require(binding["folderId"] as? String)
        #expect(binding["uri"] as? String == uri, "\(binding)")

        try h.startCoordinator(extraEnv: keys)
        try h.startWorker("w1", extraEnv: keys.merging(["REGISTRAR_WORKER_SLOTS": "4"]) { $1 })

        // First sync: every media blob recorded and verified, probed like manifest units.
        let first = try h.run(["folders", "sync", "azsync", "--wait", "--json"], extraEnv: keys)
        let done1 = try first.json()
        #expect(done1.string("status") == "DONE" && done1.int("done") == media.count && done1.int("errors") == 0, "\(done1) \(h.log("w1").suffix(2000))")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND verified_at IS NOT NULL AND url LIKE $2", [folderID, uri + "obj-%"]) == media.count)
        #expect(try h.count("SELECT count(DISTINCT type) FROM files WHERE folder_id = $1", [folderID]) == 5)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND type = 'image' AND (width IS NULL OR height IS NULL)", [folderID]) == 0)
        let withSidecar = media.filter { Int($0.dropFirst("data/obj-".count).prefix(7))! % 10 == 0 }
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND client_metadata->>'source' = 'sidecar'", [folderID]) == withSidecar.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND (sync_key LIKE '%.metadata.json' OR sync_key LIKE '%.bin' OR sync_key LIKE 'elsewhere/%')", [folderID]) == 0)
        let listed = puts.count   // 300 objects and 30 sidecars under data/
        #expect(try azure.stats()["list_calls"] as? Int == (listed + 63) / 64, "one List Blobs call per page of 64")
        var gets = try azure.gets(reset: true)
        #expect(Set(media.map { "synced/" + $0 }).isSubset(of: Set(gets.keys)), "every media blob opened")
        #expect(gets.keys.filter { $0.hasSuffix(".metadata.json") }.count == withSidecar.count)
        #expect(gets.keys.filter { $0.hasSuffix(".bin") || $0.contains("elsewhere/") }.isEmpty)

        // Nothing changed: nothing opened.
        let idle = try h.run(["folders", "sync", "azsync", "--wait", "--json"], extraEnv: keys)
        #expect(try idle.json().string("status") == "DONE" && (try idle.json().int("total")) == 0, "\(idle.stdout)")
        #expect(try azure.gets(reset: true).isEmpty, "an unchanged blob was opened")

        // 20 added, 10 deleted (their sidecars too), 6 overwritten with other bytes (new Content-MD5).
        let (added, addPuts) = Self.azureSyncBlobs(n..<(n + 20), samples: samples)
        let deleted = Self.azureSyncBlobs(0..<10, samples: samples).media
        let (overwritten, overPuts) = Self.azureSyncBlobs(150..<156, samples: samples, append: "\n\n\n\n", sidecars: false)
        try azure.bulk(["put": addPuts + overPuts,
                        "delete": Self.azureSyncBlobs(0..<10, samples: samples).puts.map { ["container": "synced", "name": $0["name"]!] }])
        let second = try h.run(["folders", "sync", "azsync", "--wait", "--json"], extraEnv: keys)
        let s2 = try second.json()
        #expect(s2.string("status") == "DONE" && s2.int("done") == added.count + overwritten.count && s2.int("errors") == 0, "\(s2)")
        gets = try azure.gets(reset: true)
        let probed = Set(gets.keys.filter { !$0.hasSuffix(".metadata.json") }.map { String($0.dropFirst("synced/".count)) })
        let changed = Set(added + overwritten)
        #expect(probed == changed, "opened \(probed.subtracting(changed).sorted().prefix(5)) unexpectedly; missed \(changed.subtracting(probed).sorted().prefix(5))")
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND tombstoned_at IS NOT NULL", [folderID]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND tombstoned_at IS NOT NULL",
                            [folderID, "{" + deleted.map { "\"\($0)\"" }.joined(separator: ",") + "}"]) == deleted.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND probe_job = $3 AND verified_at IS NOT NULL",
                            [folderID, "{" + overwritten.map { "\"\($0)\"" }.joined(separator: ",") + "}", s2.string("id")]) == overwritten.count)
        #expect(try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [folderID]) == media.count + added.count, "no duplicates")

        // A returning blob with the same bytes (same Content-MD5) is restored without being opened.
        let back = deleted[1]
        try azure.bulk(["put": [["container": "synced", "name": back, "file": samples[1 % samples.count]]]])
        let third = try h.run(["folders", "sync", "azsync", "--wait", "--json"], extraEnv: keys)
        #expect(try third.json().string("status") == "DONE")
        #expect(try h.scalar("SELECT tombstoned_at IS NULL FROM files WHERE folder_id = $1 AND sync_key = $2", [folderID, back]) == "t")
        #expect(try azure.gets().isEmpty, "the restored blob was re-opened though its Content-MD5 is unchanged")

        // The API shows the binding's URI as given.
        let api = try APIHarness(h, extraEnv: keys)
        let viaAPI = try api.json("GET", "/v1/folders/\(folderID)/sync", key: try api.tenantKey("default"), expect: 200)
        #expect(viaAPI["uri"] as? String == uri, "\(viaAPI)")

        // Every request the sync made was correctly signed; the key never reached a log.
        #expect(try azure.stats()["auth_failures"] as? Int == 0)
        #expect(!(h.log("w1") + h.log("coordinator")).contains(azure.key))
        h.stopAll()
    }
}
