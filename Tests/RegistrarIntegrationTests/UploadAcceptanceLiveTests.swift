import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Issue 15's acceptance run (docs/uploads.md): files of every type Registrar registers —
/// image, video, audio, PDF, text, NIfTI, DICOM — uploaded with `registrar upload` into a
/// folder, the CLI killed at about half, then run again: every file registered exactly once,
/// every object stored once under its content address with bytes that hash to it, nothing
/// half-written left in the storage. Once into a local directory, once into a moto S3 bucket
/// that checks signatures.
///
/// Sizes: the local directory runs the issue's 1,000 files (~21 s here); the bucket 300 (~40 s:
/// moto answers ~10 PUTs/s; 1,000 take ~100 s). `REGISTRAR_TEST_UPLOAD_FILES=N` sets both
/// (`=1000` is the issue's run for the bucket too). `REGISTRAR_TEST_MOTO_PORT` pins moto's port
/// (else a free one).
extension LiveServers {
@Suite(.serialized) struct UploadAcceptanceLiveTests {
    static func fileCount(default n: Int) -> Int { ProcessInfo.processInfo.environment["REGISTRAR_TEST_UPLOAD_FILES"].flatMap(Int.init) ?? n }
    /// Every type: the ten of FileUploadLiveTests, NIfTI (plain and gzipped) and DICOM (a
    /// series of one file each, as a `.dcm` outside --dicom-series registers).
    static let kinds = FileUploadLiveTests.kinds + ["documents/nifti1-8x6x4.nii", "documents/nifti2-4x4x3x5.nii.gz",
                                                    "documents/dicom-explicit-le.dcm", "documents/dicom-implicit-le.dcm"]

    struct Disk {
        var dir: URL
        /// name (the file's last path segment) → SHA-256.
        var files: [String: String]
    }

    /// `n` files of every kind in directories of 100: `disk/d00/f00000.png`, ….
    static func makeDisk(_ h: PipelineHarness, _ n: Int) throws -> Disk {
        let dir = h.workDir.appendingPathComponent("disk")
        var files: [String: String] = [:]
        var hashes: [String: String] = [:]
        for i in 0..<n {
            let kind = kinds[i % kinds.count]
            let sub = dir.appendingPathComponent(String(format: "d%02d", i / 100))
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let name = String(format: "f%05d.", i) + (kind.hasSuffix(".nii.gz") ? "nii.gz" : (kind as NSString).pathExtension)
            try FileManager.default.copyItem(at: FileUploadLiveTests.media.appendingPathComponent(kind), to: sub.appendingPathComponent(name))
            if hashes[kind] == nil { hashes[kind] = try BucketStorageLiveTests.sha256(FileUploadLiveTests.media.appendingPathComponent(kind)) }
            files[name] = hashes[kind]
        }
        return Disk(dir: dir, files: files)
    }

    /// Starts `registrar upload` on the disk and SIGKILLs it once `stored()` reaches half the
    /// files; how many were stored then (measured after the API finished any write in flight).
    static func interrupt(_ h: PipelineHarness, _ disk: Disk, api: [String: String], stored: () throws -> Int) throws -> Int {
        let p = Process()
        p.executableURL = PipelineHarness.binary
        p.arguments = ["upload", disk.dir.path, "--folder", "acceptance", "--concurrency", "4", "--quiet"]
        p.environment = h.environment.merging(api) { $1 }.merging(["REGISTRAR_TEST_UPLOAD_DELAY_MS": "10"]) { $1 }
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while try stored() < disk.files.count / 2, Date() < deadline, p.isRunning { usleep(100_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        sleep(1)
        return try stored()
    }

    /// The resumed run, then the checks common to both storages: the job registered every file
    /// once, the resumed run sent only what was missing, a third run registers nothing.
    static func resumeAndCheck(_ h: PipelineHarness, _ disk: Disk, api: [String: String], before: Int) throws -> String {
        let n = disk.files.count
        #expect(before >= n / 2 && before < n, "killed at about half: \(before) of \(n) stored")
        #expect(try h.count("SELECT count(*) FROM jobs WHERE kind = 'registration'") == 0, "nothing registered before the uploads finished")
        let started = Date()
        let resumed = try h.run(["upload", disk.dir.path, "--folder", "acceptance", "--concurrency", "8", "--wait", "--json"], extraEnv: api)
        print("upload acceptance: \(n) files, killed with \(before) stored; resumed run (upload + registration) \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        #expect(resumed.stderr.contains("(\(before) already stored)"), "only the missing files were uploaded: \(resumed.stderr.suffix(500))")
        let job = try resumed.json()
        #expect(resumed.status == 0 && job.string("status") == "DONE" && job.int("total") == n && job.int("done") == n && job.int("errors") == 0,
                "\(job) \(h.log("w1").suffix(1500))")
        let jobID = job.string("id")
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID]) == n)
        #expect(try h.count("SELECT count(DISTINCT url) FROM files WHERE job_id = $1 AND size IS NOT NULL AND mime_type IS NOT NULL", [jobID]) == n)
        // Every type arrived as its own type.
        let types = try h.db.query("SELECT type, count(*) FROM files WHERE job_id = $1 GROUP BY type ORDER BY type", [jobID])
        let byType = Dictionary(uniqueKeysWithValues: (0..<types.count).map { (types[row: $0, column: 0] ?? "", Int(types[row: $0, column: 1] ?? "") ?? 0) })
        #expect(Set(byType.keys) == ["image", "video", "audio", "pdf", "text", "nifti", "dicom_series"], "\(byType)")
        let again = try h.run(["upload", disk.dir.path, "--folder", "acceptance", "--wait", "--json"], extraEnv: api)
        let second = try again.json()
        #expect(second.int("skipped") == n && second.int("done") == 0 && again.stderr.contains("(\(n) already stored)"), "\(second)")
        #expect(try h.count("SELECT count(*) FROM files") == n, "every file registered exactly once")
        return jobID
    }

    /// Each local file is one stored key `…/{sha256}/{name}`, and the stored bytes hash to it.
    static func checkKeys(_ keys: [String: String], _ disk: Disk, prefix: String) {
        #expect(keys.count == disk.files.count, "\(keys.count) objects for \(disk.files.count) files")
        var byName: [String: [String]] = [:]
        for key in keys.keys { byName[String(key.split(separator: "/").last!), default: []].append(key) }
        for (name, sha) in disk.files {
            let mine = byName[name] ?? []
            #expect(mine.count == 1 && mine.first.map { $0.hasPrefix(prefix) && $0.hasSuffix("/\(sha)/\(name)") } == true, "\(name): \(mine)")
            #expect(mine.first.flatMap { keys[$0] } == sha, "\(name): stored bytes hash to \(mine.first.flatMap { keys[$0] } ?? "nothing")")
        }
    }

    @Test func everyTypeIntoLocalStorageInterruptedAndResumed() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let root = h.workDir.appendingPathComponent("objects").path
        let a = try APIHarness(h, extraEnv: ["REGISTRAR_STORAGE_URL": "file://" + root, "REGISTRAR_LINK_SECRET": "acceptance-local-secret-0123456789abcdef"])
        try h.startCoordinator()
        try h.startWorker("w1")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": try a.tenantKey("acceptance-\(h.id)")]
        let disk = try Self.makeDisk(h, Self.fileCount(default: 1000))
        let storage = try LocalObjectStorage(root: root)
        let before = try Self.interrupt(h, disk, api: api) { try storage.keys(prefix: "uploads/").count }
        _ = try Self.resumeAndCheck(h, disk, api: api, before: before)

        // The directory: one file per key whose bytes hash to it, no temporary file left.
        var stored: [String: String] = [:]
        for key in try storage.keys(prefix: "uploads/") {
            stored[key.text] = try BucketStorageLiveTests.sha256(URL(fileURLWithPath: root + "/" + key.text))
        }
        Self.checkKeys(stored, disk, prefix: "uploads/")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/.tmp").isEmpty, "no half-written object")
    }

    @Test func everyTypeIntoAnS3BucketInterruptedAndResumed() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let seed = h.workDir.appendingPathComponent("seed.txt")
        try Data("seed".utf8).write(to: seed)
        let port = ProcessInfo.processInfo.environment["REGISTRAR_TEST_MOTO_PORT"].flatMap(Int.init)
        let moto = try MotoServer(bucket: BucketStorageLiveTests.bucket, files: [seed], workDir: h.workDir, port: port)
        let storage = try moto.storageEnvironment(h, bucket: BucketStorageLiveTests.bucket, prefix: "acc", linkSecret: "acceptance-bucket-secret-0123456789abcdef")
        let a = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: storage)
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": try a.tenantKey("acceptance-\(h.id)")]
        let disk = try Self.makeDisk(h, Self.fileCount(default: 300))
        // Stored = committed: the metadata object is written after the object itself.
        let before = try Self.interrupt(h, disk, api: api) { try Self.listing(moto, prefix: "acc/.meta/uploads/").keys.count }
        let jobID = try Self.resumeAndCheck(h, disk, api: api, before: before)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND url LIKE 's3://\(BucketStorageLiveTests.bucket)/acc/uploads/%'", [jobID]) == disk.files.count)

        // The bucket: one object per key whose bytes hash to it, its metadata beside it,
        // nothing else under the prefix and no multipart upload left open.
        Self.checkKeys(try BucketStorageLiveTests.bucketObjects(moto, prefix: "acc/uploads/"), disk, prefix: "acc/uploads/")
        let all = try Self.listing(moto, prefix: "acc/")
        #expect(all.keys.count == 2 * disk.files.count, "objects and their metadata only: \(all.keys.count)")
        #expect(all.openMultipart == 0, "no half-written multipart upload")
    }

    /// The keys under `prefix` (no bodies read) and how many multipart uploads are open.
    static func listing(_ moto: MotoServer, prefix: String) throws -> (keys: [String], openMultipart: Int) {
        let script = """
            import boto3, json, sys
            from botocore.config import Config
            ep, kid, sec, bucket, prefix = sys.argv[1:6]
            s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=sec,
                              config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
            keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])]
            print(json.dumps({"keys": keys, "multipart": len(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))}))
            """
        let text = try MotoServer.output([MotoServer.python, "-c", script, moto.endpoint, moto.credentials["access_key_id"]!,
                                          moto.credentials["secret_access_key"]!, BucketStorageLiveTests.bucket, prefix])
        let d = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return ((d?["keys"] as? [String]) ?? [], (d?["multipart"] as? Int) ?? -1)
    }
}
}
