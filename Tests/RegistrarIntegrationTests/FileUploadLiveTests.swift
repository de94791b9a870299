import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Files from a disk through a real `registrar api`, coordinator and worker (docs/uploads.md):
/// `registrar upload` of 200 files of several types, killed midway and run again, registers
/// every file exactly once; bad files get precise errors; a traversal name stays inside storage.
extension LiveServers {
@Suite(.serialized) struct FileUploadLiveTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RegistrarCoreTests/Fixtures/media")
    static let kinds = ["images/png-rgb8.png", "images/jpeg-baseline.jpg", "images/webp-lossy.webp", "images/gif-static.gif",
                        "av/mp4_faststart.mp4", "av/webm_vp8.webm", "av/wav_pcm16.wav", "av/mp3_cbr.mp3",
                        "documents/pdf-classic-3p.pdf", "documents/text-ascii.txt",
                        "av/mp4_moov_end_big.mp4", "documents/pdf-large-4p.pdf"]   // over 64 KiB: read by ranges, the size from Content-Range

    @Test func uploadInterruptedAndResumedRegistersEveryFileOnce() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let root = h.workDir.appendingPathComponent("objects").path
        let a = try APIHarness(h, extraEnv: ["REGISTRAR_STORAGE_URL": "file://" + root, "REGISTRAR_LINK_SECRET": "live-upload-secret-0123456789abcdef0123"])
        try h.startCoordinator()
        try h.startWorker("w1")
        let key = try a.tenantKey("uploader-\(h.id)")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]

        // 200 files, 10 types, in two directories; one empty file and one that lies about its type.
        let dir = h.workDir.appendingPathComponent("disk")
        for i in 0..<200 {
            let kind = Self.kinds[i % Self.kinds.count]
            let sub = dir.appendingPathComponent(i < 100 ? "a" : "b")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let ext = (kind as NSString).pathExtension
            try FileManager.default.copyItem(at: Self.media.appendingPathComponent(kind), to: sub.appendingPathComponent(String(format: "f%03d.%@", i, ext)))
        }
        let bad = h.workDir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: bad.appendingPathComponent("empty.png").path, contents: Data())
        FileManager.default.createFile(atPath: bad.appendingPathComponent("fake.jpg").path, contents: Data("this is text, not a JPEG".utf8))

        // Interrupted: paced PUTs, killed once some (not all) are stored.
        let p = Process()
        p.executableURL = PipelineHarness.binary
        p.arguments = ["upload", dir.path, "--folder", "disk", "--concurrency", "2", "--quiet"]
        p.environment = h.environment.merging(api) { $1 }.merging(["REGISTRAR_TEST_UPLOAD_DELAY_MS": "40"]) { $1 }
        try p.run()
        let storage = try LocalObjectStorage(root: root)
        let deadline = Date().addingTimeInterval(120)
        while try storage.keys(prefix: "uploads/").count < 60, Date() < deadline, p.isRunning { usleep(20_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try storage.keys(prefix: "uploads/").count
        #expect(before >= 60 && before < 200, "killed midway: \(before) of 200 stored")
        #expect(try h.count("SELECT count(*) FROM jobs WHERE kind = 'registration'") == 0, "nothing registered before the uploads finished")

        // Resumed: only the missing files go up; one job registers all 200 (+ the liar, which fails).
        let resumeStarted = Date()
        let resumed = try h.run(["upload", dir.path, bad.path, "--folder", "disk", "--concurrency", "4", "--wait", "--json", "--ignore-errors"], extraEnv: api)
        #expect(resumed.stderr.contains("empty.png: the file is empty (0 bytes)"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("\(before) already stored"), "only the missing files were uploaded: \(resumed.stderr)")
        let job = try resumed.json()
        print("upload live: killed with \(before)/200 stored; resumed run (upload + registration) \(String(format: "%.1f", Date().timeIntervalSince(resumeStarted))) s")
        #expect(job.string("status") == "DONE" && job.int("total") == 201 && job.int("done") == 200 && job.int("errors") == 1, "\(job)")
        #expect(resumed.status == 1, "an empty file was refused: exit 1")
        #expect(try storage.keys(prefix: "uploads/").count == 201)
        let jobID = job.string("id")
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [jobID]) == 200)
        // Probed through the signed links by ranged GETs: sizes from Content-Range, types sniffed.
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND size IS NOT NULL AND mime_type IS NOT NULL", [jobID]) == 200)
        let errors = try a.json("GET", "/v1/uploads/\(jobID)/errors", key: key, expect: 200)
        let first = (errors["items"] as? [[String: Any]])?.first
        #expect(first?["code"] as? String == "type_mismatch" && (first?["objectUrls"] as? [String])?.first?.contains("/fake.jpg") == true, "\(errors)")
        #expect((errors["items"] as? [Any])?.count == 1, "\((errors["items"] as? [Any])?.prefix(2) ?? [])")

        // Run again: nothing uploaded, nothing registered twice.
        let again = try h.run(["upload", dir.path, "--folder", "disk", "--wait", "--json"], extraEnv: api)
        let second = try again.json()
        #expect(second.int("total") == 200 && second.int("skipped") == 200 && second.int("done") == 0, "\(second)")
        #expect(again.stderr.contains("200 already stored"))
        #expect(try h.count("SELECT count(*) FROM files") == 200, "every file registered exactly once")

        // A traversal in a name, straight to the API: the key keeps only the last segment.
        let folder = try a.json("GET", "/v1/folders", key: key, expect: 200)
        let folderID = try #require((folder["items"] as? [[String: Any]])?.first?["id"] as? String)
        let png = try Data(contentsOf: Self.media.appendingPathComponent("images/png-rgb8.png"))
        let r = try a.call("POST", "/v1/folders/\(folderID)/files", key: key, body: png,
                           headers: ["Content-Type": "image/png", "X-File-Name": "../../../../etc/cron.d/evil.png"])
        #expect(r.status == 202, "\(r.text)")
        #expect(!FileManager.default.fileExists(atPath: h.workDir.appendingPathComponent("etc").path))
        #expect(try storage.keys(prefix: "uploads/").contains { $0.text.hasPrefix("uploads/\(folderID)/") && $0.text.hasSuffix("/evil.png") })
        let traversal = try h.waitForJob(try #require(JSONValue.parse(Array(r.body))?["id"]?.stringValue))
        #expect(traversal.int("done") == 1, "\(traversal)")
    }
}
}
