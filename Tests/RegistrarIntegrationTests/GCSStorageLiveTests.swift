import Foundation
import RegistrarCore
import Testing

/// Registrar's own storage in a Google Cloud Storage bucket (the fake GCS of
/// `Support/gcs_fixture.py`: tokens and checksums checked), through a real `registrar api`,
/// coordinator and worker (docs/storage.md, docs/uploads.md): files uploaded with `registrar
/// upload` land in the bucket once each with the right SHA-256 and are registered as `gs://`
/// URLs that the worker reads with the storage's gcp integration.
extension LiveServers {
@Suite(.serialized) struct GCSStorageLiveTests {
    static let bucket = "registrar-gcs-objects"

    @Test func uploadsIntoAGCSBucketLandOnceAndRegisterAsGsURLs() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let gcs = try GCSFixture(workDir: h.workDir, bucket: Self.bucket)
        let keyRing = ["REGISTRAR_ENCRYPTION_KEYS": LiveServers.PipelineTests.keyRing]
        let added = try h.run(["integrations", "add", "gcp", "--name", "gstore", "--from-file", gcs.goodKey, "--endpoint", gcs.endpoint], extraEnv: keyRing)
        #expect(added.status == 0, "\(added.stderr)")
        let storage = keyRing.merging(["REGISTRAR_STORAGE_URL": "gs://\(Self.bucket)/reg?integration=gstore",
                                       "REGISTRAR_LINK_SECRET": "gcs-upload-secret-0123456789abcdef012345"]) { $1 }
        let a = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator(extraEnv: keyRing)
        try h.startWorker("w1", extraEnv: storage)
        let key = try a.tenantKey("gcs-\(h.id)")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]

        let kinds = FileUploadLiveTests.kinds
        let dir = h.workDir.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var local: [String: String] = [:]   // name → sha256
        for i in 0..<30 {
            let kind = kinds[i % kinds.count]
            let file = dir.appendingPathComponent(String(format: "f%03d.%@", i, (kind as NSString).pathExtension))
            try FileManager.default.copyItem(at: FileUploadLiveTests.media.appendingPathComponent(kind), to: file)
            local[file.lastPathComponent] = try BucketStorageLiveTests.sha256(file)
        }
        let total = local.count

        let run = try h.run(["upload", dir.path, "--folder", "gcs", "--concurrency", "4", "--wait", "--json"], extraEnv: api)
        let job = try run.json()
        #expect(job.string("status") == "DONE" && job.int("total") == total && job.int("done") == total && job.int("errors") == 0,
                "\(job) \(run.stderr) \(h.log("api").suffix(2000)) \(h.log("w1").suffix(2000))")
        let jobID = job.string("id")

        // In the bucket: each file once, at uploads/{folder}/{sha256}/{name}, its bytes hashing
        // to the local file's SHA-256, its metadata beside it; every PUT's checksum verified.
        let objects = try gcs.objects(prefix: "reg/uploads/")
        #expect(objects.count == total, "\(objects.count) objects for \(total) files")
        for (name, sha) in local {
            let matches = objects.filter { $0.key.hasSuffix("/\(sha)/\(name)") }
            #expect(matches.count == 1 && matches.first?.value == sha, "\(name): \(matches)")
        }
        #expect(try gcs.objects(prefix: "reg/.meta/uploads/").count == total)
        let stats = try gcs.stats()
        #expect(stats["puts_unverified"] as? Int == 0 && (stats["puts_verified"] as? Int ?? 0) >= 2 * total, "\(stats)")
        #expect(stats["unauthenticated"] as? Int == 0 && stats["unknown_token"] as? Int == 0 && stats["forbidden"] as? Int == 0, "\(stats)")

        // Registered as gs:// URLs with the storage's integration, probed through it: the
        // worker's ranged GETs reached the bucket for every file.
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID]) == total)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND url LIKE 'gs://\(Self.bucket)/reg/uploads/%' AND size IS NOT NULL AND mime_type IS NOT NULL", [jobID]) == total)
        #expect(try h.count("SELECT count(*) FROM upload_jobs u JOIN integrations i ON i.id = u.integration_id WHERE u.id = $1 AND i.name = 'gstore'", [jobID]) == 1)
        let gets = try gcs.getsPerKey()
        for name in objects.keys { #expect((gets[name] ?? 0) >= 1, "\(name) was never read from the bucket") }

        // Again: nothing uploaded, nothing registered twice.
        let again = try h.run(["upload", dir.path, "--folder", "gcs", "--wait", "--json"], extraEnv: api)
        #expect(again.stderr.contains("\(total) already stored"), "\(again.stderr)")
        #expect(try h.count("SELECT count(*) FROM files") == total, "every file registered exactly once")

        // No token and no key in any log.
        let seen = h.log("api") + h.log("w1") + h.log("coordinator") + run.stderr + again.stderr
        for token in try gcs.stats()["issued"] as? [String] ?? [] { #expect(!seen.contains(token), "an access token leaked") }
        let pem = try String(contentsOfFile: gcs.goodKey, encoding: .utf8)
        let body = try #require(pem.components(separatedBy: "\\n").dropFirst().first)
        #expect(!seen.contains(body), "the private key leaked")
    }
}
}
