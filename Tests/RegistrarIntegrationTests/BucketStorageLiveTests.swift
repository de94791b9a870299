import Foundation
import RegistrarCore
import Testing

/// Registrar's own storage in an S3 bucket (moto with signature checking on), through a real
/// `registrar api`, coordinator and worker (docs/storage.md, docs/uploads.md): files uploaded
/// with `registrar upload`, killed midway and resumed, land in the bucket once each with the
/// right SHA-256 and are registered as `s3://` URLs read with the storage's integration.
extension LiveServers {
@Suite(.serialized) struct BucketStorageLiveTests {
    static let bucket = "registrar-objects"

    /// `{key: sha256}` of every object under `prefix`, read back through boto3 (signed with the key).
    static func bucketObjects(_ moto: MotoServer, bucket: String = BucketStorageLiveTests.bucket, prefix: String) throws -> [String: String] {
        let script = """
            import boto3, hashlib, json, sys
            from botocore.config import Config
            ep, kid, sec, bucket, prefix = sys.argv[1:6]
            s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=sec,
                              config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
            out = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for o in page.get("Contents", []):
                    out[o["Key"]] = hashlib.sha256(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).hexdigest()
            print(json.dumps(out))
            """
        let text = try MotoServer.output([MotoServer.python, "-c", script, moto.endpoint, moto.credentials["access_key_id"]!,
                                          moto.credentials["secret_access_key"]!, bucket, prefix])
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
    }

    static func sha256(_ url: URL) throws -> String {
        var hasher = ContentHasher()
        let data = try Data(contentsOf: url)
        data.withUnsafeBytes { hasher.update($0) }
        return hasher.finalizeHex()
    }

    @Test func uploadsIntoAnS3BucketInterruptedAndResumedLandOnceWithTheirChecksums() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let seed = h.workDir.appendingPathComponent("seed.txt")
        try Data("seed".utf8).write(to: seed)
        let moto = try MotoServer(bucket: Self.bucket, files: [seed], workDir: h.workDir)
        let secret = try #require(moto.credentials["secret_access_key"])
        let storage = try moto.storageEnvironment(h, bucket: Self.bucket, prefix: "reg", linkSecret: "bucket-upload-secret-0123456789abcdef0123")
        let a = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: storage)
        let key = try a.tenantKey("bucket-\(h.id)")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]

        let kinds = FileUploadLiveTests.kinds
        let dir = h.workDir.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var local: [String: String] = [:]   // name → sha256
        for i in 0..<60 {
            let kind = kinds[i % kinds.count]
            let file = dir.appendingPathComponent(String(format: "f%03d.%@", i, (kind as NSString).pathExtension))
            try FileManager.default.copyItem(at: FileUploadLiveTests.media.appendingPathComponent(kind), to: file)
            local[file.lastPathComponent] = try Self.sha256(file)
        }
        let total = local.count

        // Interrupted: paced PUTs into the bucket, killed once some (not all) are committed.
        let p = Process()
        p.executableURL = PipelineHarness.binary
        p.arguments = ["upload", dir.path, "--folder", "bucket", "--concurrency", "2", "--quiet"]
        p.environment = h.environment.merging(api) { $1 }.merging(["REGISTRAR_TEST_UPLOAD_DELAY_MS": "60"]) { $1 }
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        var stored = 0
        while stored < 10, Date() < deadline, p.isRunning {
            stored = try Self.bucketObjects(moto, prefix: "reg/.meta/uploads/").count
            usleep(200_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try Self.bucketObjects(moto, prefix: "reg/.meta/uploads/").count
        #expect(before >= 10 && before < total, "killed midway: \(before) of \(total) stored")

        // Resumed: only the missing files go up; one job registers every file.
        let resumed = try h.run(["upload", dir.path, "--folder", "bucket", "--concurrency", "4", "--wait", "--json"], extraEnv: api)
        #expect(resumed.stderr.contains("\(before) already stored"), "\(resumed.stderr)")
        let job = try resumed.json()
        #expect(job.string("status") == "DONE" && job.int("total") == total && job.int("done") == total && job.int("errors") == 0, "\(job) \(h.log("w1").suffix(2000))")
        let jobID = job.string("id")

        // In the bucket: each file exactly once, at uploads/{folder}/{sha256}/{name}, its bytes
        // hashing to the local file's SHA-256, and its metadata beside it.
        let objects = try Self.bucketObjects(moto, prefix: "reg/uploads/")
        #expect(objects.count == total, "\(objects.count) objects for \(total) files")
        for (name, sha) in local {
            let matches = objects.filter { $0.key.hasSuffix("/\(sha)/\(name)") }
            #expect(matches.count == 1 && matches.first?.value == sha, "\(name): \(matches)")
        }
        #expect(try Self.bucketObjects(moto, prefix: "reg/.meta/uploads/").count == total)

        // Registered as s3:// URLs with the storage's integration, probed through it (sizes, types).
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID]) == total)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND url LIKE 's3://\(Self.bucket)/reg/uploads/%' AND size IS NOT NULL AND mime_type IS NOT NULL", [jobID]) == total)
        #expect(try h.count("SELECT count(*) FROM upload_jobs u JOIN integrations i ON i.id = u.integration_id WHERE u.id = $1 AND i.name = 'store'", [jobID]) == 1)

        // Again: nothing uploaded, nothing registered twice.
        let again = try h.run(["upload", dir.path, "--folder", "bucket", "--wait", "--json"], extraEnv: api)
        #expect(again.stderr.contains("\(total) already stored"), "\(again.stderr)")
        #expect(try h.count("SELECT count(*) FROM files") == total, "every file registered exactly once")

        // The secret never reaches a log.
        #expect(!(h.log("api") + h.log("w1") + h.log("coordinator") + resumed.stderr + again.stderr).contains(secret))
    }
}
}
