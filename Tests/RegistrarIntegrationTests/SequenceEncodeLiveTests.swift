import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Image sequences into videos on the real servers (docs/sequences.md): a real coordinator
/// registers a sequence whose frames nginx serves, its dispatcher starts the `sequence-encode`
/// job, a real worker streams the frames into ffmpeg and writes the MP4 to a storage directory;
/// ffprobe reads the video back. Frames come from `scripts/media-fixtures.py --sequence`.
@Suite(.serialized) struct SequenceEncodeLiveTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/media-fixtures.py").path
    static let python = "/opt/registrar-tools-venv/bin/python"

    struct World {
        let h: PipelineHarness
        let storageRoot: String
        let scratch: String
        var env: [String: String] { ["REGISTRAR_STORAGE_URL": "file://" + storageRoot, "REGISTRAR_ENCODE_TMPDIR": scratch] }
    }

    func world() throws -> World {
        let h = try PipelineHarness()
        try h.emptyQueues([SequenceEncode.queues])
        let base = h.workDir.path
        return World(h: h, storageRoot: base + "/storage", scratch: base + "/scratch")
    }

    /// Generates `n` frames (sizes vary; frame 0 is 321×241) and serves them; returns their URLs
    /// and the manifest of one image sequence holding them.
    func sequence(_ w: World, frames n: Int, corrupt: Int? = nil, title: String = "seq") throws -> (urls: [String], manifest: String) {
        let dir = w.h.workDir.appendingPathComponent("frames-\(title)").path
        var args = [Self.fixtures, "--sequence", String(n), dir]
        if let corrupt { args += ["--corrupt", String(corrupt)] }
        let gen = try w.h.runProgram(URL(fileURLWithPath: Self.python), args)
        guard gen.status == 0 else { throw PipelineHarness.HarnessError("media-fixtures.py --sequence: \(gen.stderr)") }
        var urls: [String] = []
        for i in 0..<n {
            let name = String(format: "frame-%05d.jpg", i)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            urls.append(try w.h.putObject("\(title)/\(name)", bytes: bytes))
        }
        var item = "{\"title\": \"\(title)\", \"createVideo\": true"
        for (i, u) in urls.enumerated() { item += ", \"objectUrl_\(i)\": \"\(u)\"" }
        item += "}"
        let manifest = try w.h.writeManifest("\(title).json", "{\"image_groups\": [\(item)]}\n")
        return (urls, manifest)
    }

    func submit(_ w: World, _ manifest: String, folder: String, extra: [String] = []) throws -> String {
        let r = try w.h.run(["submit", manifest, "--folder", folder, "--json", "--wait"] + extra)
        let j = try r.json()
        #expect(j.string("status") == "DONE", "registration: \(r.stdout) \(r.stderr)")
        return j.string("id")
    }

    /// The encode job the dispatcher started for a registration job (waits for it to exist).
    func encodeJob(_ w: World, for registration: String, timeout: Double = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let id = try w.h.scalar("SELECT encode_job_id FROM sequence_encodes WHERE registration_job_id = $1", [registration]) { return id }
            usleep(200_000)
        }
        throw PipelineHarness.HarnessError("no sequence-encode job for \(registration)\n\(w.h.log("coordinator").suffix(2000))")
    }

    func objects(_ w: World, under prefix: String) -> [String] {
        let dir = w.storageRoot + "/" + prefix
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func scratchFiles(_ w: World) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for d in (try? fm.contentsOfDirectory(atPath: w.scratch)) ?? [] {
            for f in (try? fm.contentsOfDirectory(atPath: w.scratch + "/" + d)) ?? [] { out.append(d + "/" + f) }
        }
        return out
    }

    /// ffprobe's frame count (decoded), size and rate of a stored video.
    func probe(_ w: World, _ path: String) throws -> (frames: Int, width: Int, height: Int, fps: String, faststart: Bool) {
        let r = try w.h.runProgram(URL(fileURLWithPath: "/usr/bin/ffprobe"),
                                   ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                    "stream=nb_read_frames,width,height,r_frame_rate,codec_name,pix_fmt", "-of", "json", path])
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let s = try #require((obj?["streams"] as? [[String: Any]])?.first, "ffprobe: \(r.stdout) \(r.stderr)")
        #expect(s["codec_name"] as? String == "h264" && s["pix_fmt"] as? String == "yuv420p", "\(s)")
        // +faststart: the moov box comes before mdat.
        let head = Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(1 << 16))
        let moov = head.indices.dropLast(4).first { head[$0...$0 + 3] == [0x6D, 0x6F, 0x6F, 0x76] }
        let mdat = head.indices.dropLast(4).first { head[$0...$0 + 3] == [0x6D, 0x64, 0x61, 0x74] }
        return (Int(s["nb_read_frames"] as? String ?? "") ?? -1, s["width"] as? Int ?? -1, s["height"] as? Int ?? -1,
                s["r_frame_rate"] as? String ?? "", moov != nil && (mdat == nil || moov! < mdat!))
    }

    @Test func aThreeHundredFrameSequenceIsEncodedAndRecorded() throws {
        let w = try world()
        let (urls, manifest) = try sequence(w, frames: 300)
        try w.h.startCoordinator(extraEnv: w.env)
        try w.h.startWorker("w1", extraEnv: w.env)
        let registration = try submit(w, manifest, folder: "seqs", extra: ["--sequence-fps", "30"])
        let job = try encodeJob(w, for: registration)
        let final = try w.h.waitForJob(job, timeout: 240)
        #expect(final.string("status") == "DONE" && final.int("total") == 1 && final.int("done") == 1 && final.int("errors") == 0, "\(final)")

        let file = try #require(try w.h.scalar("SELECT id FROM files WHERE job_id = $1", [registration]))
        let folder = try #require(try w.h.scalar("SELECT folder_id FROM files WHERE id = $1", [file]))
        let row = try w.h.db.query("""
            SELECT object_key, width, height, fps, frame_count, duration, size, array_to_json(frame_sources)::text FROM sequence_videos WHERE file_id = $1
            """, [file])
        try #require(row.count == 1)
        let key = row[row: 0, column: 0] ?? ""
        #expect(key == "sequences/\(folder)/\(file)/video.mp4")
        #expect(row[row: 0, column: 1] == "320" && row[row: 0, column: 2] == "240", "the first frame's 321×241, rounded to even")
        #expect(row[row: 0, column: 3] == "30" && row[row: 0, column: 4] == "300" && row[row: 0, column: 5] == "10")
        let sources = try JSONSerialization.jsonObject(with: Data((row[row: 0, column: 7] ?? "[]").utf8)) as? [String]
        #expect(sources == urls, "frame i maps to source image i")
        // The file now describes the video.
        #expect(try w.h.scalar("SELECT width || 'x' || height || '@' || fps || '/' || frame_count || ' ' || codec FROM files WHERE id = $1", [file])
                == "320x240@30/300 h264")

        // ffprobe agrees with what was recorded.
        let path = w.storageRoot + "/" + key
        let p = try probe(w, path)
        #expect(p.frames == 300 && p.width == 320 && p.height == 240 && p.fps == "30/1", "\(p)")
        #expect(p.faststart, "moov before mdat")
        #expect(String(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1) == row[row: 0, column: 6])
        #expect(objects(w, under: "sequences/\(folder)/\(file)") == ["video.mp4"])
        #expect(scratchFiles(w).isEmpty, "no temporary file left: \(scratchFiles(w))")

        // The encode job's progress through the API, like any kind's.
        let api = try APIHarness(w.h, extraEnv: w.env)
        let key2 = try api.tenantKey("default")
        let viaAPI = try api.json("GET", "/v1/jobs/\(job)", key: key2, expect: 200)
        #expect(viaAPI.string("kind") == "sequence-encode" && viaAPI.string("status") == "DONE", "\(viaAPI)")
        // The coordinator started exactly one encode job for the registration.
        #expect(try w.h.count("SELECT count(*) FROM jobs WHERE kind = 'sequence-encode'") == 1)
    }

    @Test func aWorkerKilledMidEncodeLeavesOneVideoAndNoTemporaries() throws {
        let w = try world()
        let (_, manifest) = try sequence(w, frames: 300, title: "killed")
        try w.h.startCoordinator(extraEnv: w.env)
        try w.h.startWorker("reg", extraArgs: ["--kinds", "registration"], extraEnv: w.env)
        // Paced: 30 ms a frame, so the encode takes ~9 s and the kill lands mid-encode.
        try w.h.startWorker("slow", extraArgs: ["--kinds", "sequence-encode"], extraEnv: w.env.merging(["REGISTRAR_TEST_FRAME_DELAY_MS": "30"]) { $1 })
        let registration = try submit(w, manifest, folder: "kill")
        let job = try encodeJob(w, for: registration)
        // Mid-encode: the encoder's temporary file exists.
        let deadline = Date().addingTimeInterval(60)
        while scratchFiles(w).isEmpty && Date() < deadline { usleep(50_000) }
        #expect(!scratchFiles(w).isEmpty, "the encode never started")
        usleep(1_500_000)
        #expect(try w.h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) == 0, "the kill must land mid-encode")
        w.h.kill9("slow")
        // The broker gives the chunk back (the connection closed); another worker encodes it.
        try w.h.startWorker("w2", extraArgs: ["--kinds", "sequence-encode"], extraEnv: w.env)
        let final = try w.h.waitForJob(job, timeout: 240)
        #expect(final.string("status") == "DONE" && final.int("done") == 1 && final.int("errors") == 0, "\(final)")
        let file = try #require(try w.h.scalar("SELECT id FROM files WHERE job_id = $1", [registration]))
        let folder = try #require(try w.h.scalar("SELECT folder_id FROM files WHERE id = $1", [file]))
        #expect(try w.h.count("SELECT count(*) FROM sequence_videos WHERE file_id = $1", [file]) == 1)
        #expect(objects(w, under: "sequences/\(folder)/\(file)") == ["video.mp4"], "exactly one object under the sequence's prefix")
        #expect(objects(w, under: "sequences/\(folder)") == [file], "no other sequence prefix")
        let p = try probe(w, w.storageRoot + "/sequences/\(folder)/\(file)/video.mp4")
        #expect(p.frames == 300 && p.width == 320 && p.height == 240 && p.fps == "25/1", "\(p)")
        // The killed worker's directory is swept by the next encode (its orphaned ffmpeg may
        // still have been writing when w2 started: wait for it to end, then ask for a sweep).
        usleep(2_000_000)
        _ = try EncodeScratch(root: w.scratch)
        #expect(scratchFiles(w).isEmpty, "temporary files left: \(scratchFiles(w))")
        #expect(try w.h.count("SELECT count(*) FROM jobs WHERE kind = 'sequence-encode'") == 1)
    }

    /// The worst moment: the video is written and committed, the worker dies before the ack. The
    /// chunk is redelivered, encoded and written again (the commit then changes nothing): the
    /// fixed key means the second write replaces the first, never a second object.
    @Test func aWorkerDyingAfterItsCommitLeavesOneObject() throws {
        let w = try world()
        let (_, manifest) = try sequence(w, frames: 30, title: "commit")
        try w.h.startCoordinator(extraEnv: w.env)
        try w.h.startWorker("reg", extraArgs: ["--kinds", "registration"], extraEnv: w.env)
        let registration = try submit(w, manifest, folder: "commit")
        try w.h.startWorker("faulty", extraArgs: ["--kinds", "sequence-encode"],
                            extraEnv: w.env.merging(["REGISTRAR_FAULT_WORKER": "exit-after-commit"]) { $1 })
        let job = try encodeJob(w, for: registration)
        #expect(w.h.waitForExit("faulty", timeout: 120) == 137)
        let file = try #require(try w.h.scalar("SELECT id FROM files WHERE job_id = $1", [registration]))
        let folder = try #require(try w.h.scalar("SELECT folder_id FROM files WHERE id = $1", [file]))
        let path = w.storageRoot + "/sequences/\(folder)/\(file)/video.mp4"
        let firstInode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
        try w.h.startWorker("w2", extraArgs: ["--kinds", "sequence-encode"], extraEnv: w.env)
        let final = try w.h.waitForJob(job, timeout: 120)
        #expect(final.string("status") == "DONE" && final.int("done") == 1, "\(final)")
        // w2 takes the redelivered chunk and encodes it again before its commit finds it done:
        // the video is replaced (a new file renamed over the key), not added beside it.
        let deadline = Date().addingTimeInterval(60)
        var inode = firstInode
        while inode == firstInode && Date() < deadline {
            usleep(100_000)
            inode = (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int) ?? firstInode
        }
        #expect(inode != firstInode, "the redelivered chunk was encoded again and wrote the same key")
        usleep(500_000)
        #expect(objects(w, under: "sequences/\(folder)/\(file)") == ["video.mp4"], "one object under the sequence's prefix")
        #expect(try w.h.count("SELECT count(*) FROM sequence_videos") == 1)
        #expect(try w.h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) == 1)
        let p = try probe(w, path)
        #expect(p.frames == 30 && p.width == 320 && p.height == 240, "\(p)")
    }

    @Test func aCorruptFrameFailsTheSequenceNamingTheFrame() throws {
        let w = try world()
        let (urls, manifest) = try sequence(w, frames: 20, corrupt: 7, title: "corrupt")
        // Registration probes every frame and would refuse the corrupt one; the encoder must
        // catch frames that change after registration, so the frame is broken afterwards.
        try w.h.startCoordinator(extraEnv: w.env)
        try w.h.startWorker("reg", extraArgs: ["--kinds", "registration"], extraEnv: w.env)
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: w.h.workDir.appendingPathComponent("frames-corrupt/frame-00006.jpg").path)))
        let corrupt = Array(try Data(contentsOf: URL(fileURLWithPath: w.h.workDir.appendingPathComponent("frames-corrupt/frame-00007.jpg").path)))
        try w.h.putObject("corrupt/frame-00007.jpg", bytes: good)
        let registration = try submit(w, manifest, folder: "bad")
        try w.h.putObject("corrupt/frame-00007.jpg", bytes: corrupt)
        try w.h.startWorker("enc", extraArgs: ["--kinds", "sequence-encode"], extraEnv: w.env)
        let job = try encodeJob(w, for: registration)
        let final = try w.h.waitForJob(job, timeout: 120)
        #expect(final.string("status") == "ERROR" && final.int("errors") == 1 && final.int("done") == 0, "\(final)")
        let err = try w.h.db.query("SELECT code, message, action FROM unit_errors WHERE job_id = $1", [job])
        try #require(err.count == 1)
        #expect(err[row: 0, column: 0] == "frame_decode_failed")
        #expect(err[row: 0, column: 1]?.hasPrefix("frame 7 (\(urls[7])) ") == true, "\(err[row: 0, column: 1] ?? "")")
        #expect(err[row: 0, column: 2] == "Encoding image sequence")
        #expect(try w.h.count("SELECT count(*) FROM sequence_videos") == 0)
        #expect(objects(w, under: "sequences").isEmpty, "nothing written for a failed sequence")
        #expect(scratchFiles(w).isEmpty)
        // `registrar errors` shows it.
        let shown = try w.h.run(["errors", job])
        #expect(shown.stdout.contains("frame_decode_failed") && shown.stdout.contains("frame 7"), "\(shown.stdout)")

        // A frame that cannot be read (gone since registration): frame_unreadable with its index.
        w.h.kill9("enc")
        let (urls2, manifest2) = try sequence(w, frames: 5, title: "gone")
        let registration2 = try submit(w, manifest2, folder: "gone")
        let job2 = try encodeJob(w, for: registration2)
        try FileManager.default.removeItem(at: w.h.objectsDir.appendingPathComponent("gone/frame-00004.jpg"))
        try w.h.startWorker("enc2", extraArgs: ["--kinds", "sequence-encode"], extraEnv: w.env)
        let final2 = try w.h.waitForJob(job2, timeout: 120)
        #expect(final2.string("status") == "ERROR" && final2.int("errors") == 1, "\(final2)")
        let err2 = try w.h.db.query("SELECT code, message FROM unit_errors WHERE job_id = $1", [job2])
        try #require(err2.count == 1)
        #expect(err2[row: 0, column: 0] == "frame_unreadable")
        #expect(err2[row: 0, column: 1]?.hasPrefix("frame 4 (\(urls2[4])) could not be read: not_found") == true, "\(err2[row: 0, column: 1] ?? "")")
        #expect(objects(w, under: "sequences").isEmpty)
    }

    @Test func virtualSequencesAreNotEncodedAndNothingIsWritten() throws {
        let w = try world()
        let (_, manifest) = try sequence(w, frames: 10, title: "virtual")
        try w.h.startCoordinator(extraEnv: w.env)
        try w.h.startWorker("w1", extraEnv: w.env)
        let registration = try submit(w, manifest, folder: "virtual", extra: ["--virtual-sequences"])
        // The dispatcher looks at the job and records it as virtual: no encode job.
        let deadline = Date().addingTimeInterval(30)
        while try w.h.scalar("SELECT reason FROM sequence_encodes WHERE registration_job_id = $1", [registration]) == nil && Date() < deadline { usleep(200_000) }
        #expect(try w.h.scalar("SELECT reason FROM sequence_encodes WHERE registration_job_id = $1", [registration]) == "virtual")
        usleep(2_000_000)
        #expect(try w.h.count("SELECT count(*) FROM jobs WHERE kind = 'sequence-encode'") == 0)
        #expect(try w.h.count("SELECT count(*) FROM sequence_videos") == 0)
        #expect(!FileManager.default.fileExists(atPath: w.storageRoot + "/sequences"), "nothing written to storage")
        // Still registered as a sequence of its original frames.
        #expect(try w.h.scalar("SELECT type || ':' || cardinality(urls) FROM files WHERE job_id = $1", [registration]) == "image_sequence:10")

        // An image group (createVideo false) is never encoded either.
        let group = try w.h.writeManifest("group.json", try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "\"createVideo\": true", with: "\"createVideo\": false"))
        let r2 = try submit(w, group, folder: "group")
        while try w.h.scalar("SELECT reason FROM sequence_encodes WHERE registration_job_id = $1", [r2]) == nil && Date() < deadline.addingTimeInterval(30) { usleep(200_000) }
        #expect(try w.h.scalar("SELECT reason FROM sequence_encodes WHERE registration_job_id = $1", [r2]) == "no_sequences")
        #expect(try w.h.count("SELECT count(*) FROM jobs WHERE kind = 'sequence-encode'") == 0)
    }
}
}
