import Foundation
import RegistrarCore
import Testing

/// Registrar's own storage in an Azure Blob container (the fake Blob service that checks every
/// Shared Key signature with azure-storage-blob's code and every Content-MD5), through a real
/// `registrar api`, coordinator and worker: files uploaded with `registrar upload` land in the
/// container once each with the right bytes and are registered as their blob URLs, read (probed)
/// with the storage's azure integration.
extension LiveServers {
@Suite(.serialized) struct AzureStorageLiveTests {
    @Test func uploadsIntoAzureStorageAreStoredOnceAndRegisteredAsBlobURLs() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let azure = try AzureFixtureServer(containers: ["media"])
        let keyRing = ["REGISTRAR_ENCRYPTION_KEYS": LiveServers.PipelineTests.keyRing]
        let creds = h.workDir.appendingPathComponent("azure.json")
        try JSONSerialization.data(withJSONObject: ["account": azure.account, "account_key": azure.key, "endpoint": azure.endpoint]).write(to: creds)
        let added = try h.run(["integrations", "add", "azure", "--name", "blobs", "--from-file", creds.path], extraEnv: keyRing)
        #expect(added.status == 0, "\(added.stderr)")
        // blockMiB=1: the larger media files go up as Put Block + Put Block List.
        let storage = keyRing.merging(["REGISTRAR_STORAGE_URL": "https://\(azure.account).blob.core.windows.net/media/reg?integration=blobs&blockMiB=1",
                                       "REGISTRAR_LINK_SECRET": "azure-upload-secret-0123456789abcdef01234"]) { $1 }
        let a = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: storage)
        let key = try a.tenantKey("azure-\(h.id)")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]

        let kinds = FileUploadLiveTests.kinds
        let dir = h.workDir.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var local: [String: String] = [:]   // name → sha256
        for i in 0..<(2 * kinds.count) {
            let kind = kinds[i % kinds.count]
            let file = dir.appendingPathComponent(String(format: "f%03d.%@", i, (kind as NSString).pathExtension))
            try FileManager.default.copyItem(at: FileUploadLiveTests.media.appendingPathComponent(kind), to: file)
            local[file.lastPathComponent] = try BucketStorageLiveTests.sha256(file)
        }
        // 2.5 MiB of text: over the 1 MiB block threshold, so it goes up in three blocks.
        let big = dir.appendingPathComponent("big.txt")
        try Data(String(repeating: "a line of plain text for the block path\n", count: 65_536).utf8).write(to: big)
        local[big.lastPathComponent] = try BucketStorageLiveTests.sha256(big)
        let total = local.count

        let up = try h.run(["upload", dir.path, "--folder", "azure", "--concurrency", "4", "--wait", "--json"], extraEnv: api)
        let job = try up.json()
        #expect(job.string("status") == "DONE" && job.int("total") == total && job.int("done") == total && job.int("errors") == 0,
                "\(job) \(up.stderr) \(h.log("api").suffix(1500)) \(h.log("w1").suffix(1500))")
        let jobID = job.string("id")

        // In the container: each file once at reg/uploads/{folder}/{sha256}/{name} with its metadata
        // blob beside it; every request was correctly signed (the fixture refused none).
        let stats = try azure.stats()
        #expect((stats["blobs"] as? [String: Int])?["media"] == 2 * total, "\(stats)")
        #expect(stats["auth_failures"] as? Int == 0 && stats["md5_failures"] as? Int == 0, "\(stats)")
        #expect(stats["uncommitted_blocks"] as? Int == 0, "\(stats)")
        #expect(stats["block_lists"] as? Int == 1 && stats["blocks"] as? Int == 3, "big.txt in three blocks: \(stats)")

        // Registered as blob URLs with the storage's integration, probed through it (sizes, types).
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID]) == total)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND url LIKE 'https://acct.blob.core.windows.net/media/reg/uploads/%' AND size IS NOT NULL AND mime_type IS NOT NULL", [jobID]) == total)
        for (name, sha) in local {
            #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND url LIKE $2", [jobID, "%/\(sha)/\(name)"]) == 1, "\(name)")
        }
        #expect(try h.count("SELECT count(*) FROM upload_jobs u JOIN integrations i ON i.id = u.integration_id WHERE u.id = $1 AND i.name = 'blobs'", [jobID]) == 1)
        // The workers read the blobs through the integration (ranged, signed GETs).
        #expect(try azure.gets().keys.filter { $0.hasPrefix("media/reg/uploads/") }.count == total)

        // Again: nothing uploaded, nothing registered twice.
        let again = try h.run(["upload", dir.path, "--folder", "azure", "--wait", "--json"], extraEnv: api)
        #expect(again.stderr.contains("\(total) already stored"), "\(again.stderr)")
        #expect(try h.count("SELECT count(*) FROM files") == total, "every file registered exactly once")
        #expect(!(h.log("api") + h.log("w1") + h.log("coordinator") + up.stderr + again.stderr).contains(azure.key))
    }
}
}
