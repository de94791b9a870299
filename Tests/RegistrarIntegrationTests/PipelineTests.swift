import Foundation
import RegistrarRedis
import Testing

/// The pipeline end to end on real servers: `registrar submit` → coordinator → RabbitMQ →
/// workers → PostgreSQL, progress in Redis, objects on the local nginx. Real processes, killed
/// for real. Serialized: the tests share the broker's queues.
extension LiveServers {
@Suite(.serialized) struct PipelineTests {
    /// A manifest of every type with known outcomes, and the objects behind it.
    struct Plan {
        var manifest: String
        var total = 0
        var ok = 0
        var errors = 0
        var skipped = 0
        var errorCodes: [String: Int] = [:]
    }

    /// Builds ~`scale` units of every type: most verify, some are 404 (never written), some 403
    /// (unreadable), some refused by the manifest reader, some repeat an earlier URL.
    func makePlan(_ h: PipelineHarness, scale: Int, skipDuplicates: Bool = true) throws -> Plan {
        var plan = Plan(manifest: "")
        var sections: [String: [String]] = [:]
        func add(_ section: String, _ item: String) { sections[section, default: []].append(item) }
        // Real media (the core tests' fixtures): workers sniff and parse every object.
        func ok(_ path: String) throws -> String {
            let sample: String
            switch path.split(separator: "/").first ?? "" {
            case "img": sample = "images/png-rgb8.png"
            case "groups": sample = "images/jpeg-baseline.jpg"
            case "videos": sample = "av/mp4_faststart.mp4"
            case "audio": sample = "av/wav_pcm16.wav"
            case "pdfs": sample = "documents/pdf-classic-3p.pdf"
            case "text": sample = "documents/text-plain-utf8.txt"
            case "nifti": sample = "documents/nifti1-8x6x4.nii.gz"
            case "dicom": sample = "documents/dicom-explicit-le.dcm"
            default: sample = "images/png-rgb8.png"
            }
            return try h.putObject(path, bytes: try MediaSamples.bytes(sample))
        }

        let images = scale * 55 / 100
        for i in 0..<images {
            switch i % 50 {
            case 7: // 404: never written
                add("images", #"{"objectUrl": "\#(h.objectURL("img/missing-\(i).jpg"))"}"#)
                plan.errors += 1; plan.errorCodes["not_found", default: 0] += 1
            case 13: // 403: written unreadable
                add("images", #"{"objectUrl": "\#(try h.putObject("img/locked-\(i).jpg", bytes: try MediaSamples.bytes("images/png-rgb8.png"), readable: false))"}"#)
                plan.errors += 1; plan.errorCodes["access_denied", default: 0] += 1
            case 21: // refused by the reader
                add("images", #"{"objectUrl": "relative/path-\#(i).jpg"}"#)
                plan.errors += 1; plan.errorCodes["invalid_url", default: 0] += 1
            case 33: // repeats the previous image's URL
                add("images", #"{"objectUrl": "\#(h.objectURL("img/\(i - 1).jpg"))", "title": "again"}"#)
                if skipDuplicates { plan.skipped += 1 } else { plan.ok += 1 }
            default:
                add("images", #"{"objectUrl": "\#(try ok("img/\(i).jpg"))", "clientMetadata": {"n": \#(i)}}"#)
                plan.ok += 1
            }
            plan.total += 1
        }
        let singles: [(String, String, Int)] = [("videos", "mp4", scale * 10 / 100), ("audio", "mp3", scale * 5 / 100),
                                               ("pdfs", "pdf", scale * 5 / 100), ("text", "txt", scale * 5 / 100),
                                               ("nifti", "nii.gz", scale * 2 / 100)]
        for (section, ext, n) in singles {
            for i in 0..<n {
                if section == "videos" && i % 40 == 3 {
                    // An image where a video is declared: refused by content, naming both types.
                    add(section, #"{"objectUrl": "\#(try h.putObject("videos/\(i).mp4", bytes: try MediaSamples.bytes("images/png-rgb8.png")))"}"#)
                    plan.errors += 1; plan.errorCodes["type_mismatch", default: 0] += 1
                } else {
                    add(section, #"{"objectUrl": "\#(try ok("\(section)/\(i).\(ext)"))", "title": "\#(section) \#(i)"}"#)
                    plan.ok += 1
                }
                plan.total += 1
            }
        }
        // A video with supplied metadata: trusted, its object is never read (it does not exist).
        add("videos", #"{"objectUrl": "\#(h.objectURL("videos/not-there.mp4"))", "videoMetadata": {"fps": 25, "duration": 2, "width": 640, "height": 480, "file_size": 1000, "mime_type": "video/mp4"}}"#)
        plan.ok += 1; plan.total += 1

        let groups = scale * 8 / 100
        for g in 0..<groups {
            let frames = try (0..<3).map { k -> String in
                if g % 40 == 5 && k == 1 { return h.objectURL("groups/\(g)/gone.jpg") } // one frame 404 fails the group
                return try ok("groups/\(g)/\(k).jpg")
            }
            let fields = frames.enumerated().map { #""objectUrl_\#($0.offset)": "\#($0.element)""# }.joined(separator: ", ")
            add("image_groups", #"{"title": "group \#(g)", "createVideo": \#(g % 2 == 0), \#(fields)}"#)
            if g % 40 == 5 { plan.errors += 1; plan.errorCodes["not_found", default: 0] += 1 } else { plan.ok += 1 }
            plan.total += 1
        }
        let series = scale * 5 / 100
        for s in 0..<series {
            let files = try (0..<2).map { try ok("dicom/\(s)/\($0).dcm") }
            add("dicom_series", #"{"title": "series \#(s)", "objectUrl_0": "\#(files[0])", "objectUrl_1": "\#(files[1])"}"#)
            plan.ok += 1
            plan.total += 1
        }
        var text = "{\n"
        for (k, items) in sections.sorted(by: { $0.key < $1.key }) {
            text += "\"\(k)\": [\n" + items.joined(separator: ",\n") + "\n],\n"
        }
        text += "\"skip_duplicate_urls\": \(skipDuplicates)\n}\n"
        plan.manifest = try h.writeManifest("manifest.json", text)
        return plan
    }

    func submit(_ h: PipelineHarness, _ manifest: String, folder: String, ignoreErrors: Bool = true, wait: Bool = false) throws -> (jobID: String, run: PipelineHarness.Run) {
        var args = ["submit", manifest, "--folder", folder, "--json"]
        if ignoreErrors { args.append("--ignore-errors") }
        if wait { args.append("--wait") }
        let r = try h.run(args)
        let j = try r.json()
        let id = j.string("id")
        #expect(!id.isEmpty, "submit printed no job id: \(r.stdout) \(r.stderr)")
        return (id, r)
    }

    /// Checks every counter and record against the plan: status JSON, PostgreSQL, and the CLI.
    func expectExact(_ h: PipelineHarness, job: String, folder: String, plan: Plan, final: [String: Any]) throws {
        #expect(final.int("total") == plan.total)
        #expect(final.int("done") == plan.ok)
        #expect(final.int("errors") == plan.errors)
        #expect(final.int("skipped") == plan.skipped)
        #expect(final.int("cancelled") == 0)
        #expect(final.int("pending") == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [job]) == plan.ok)
        #expect(try h.count("SELECT count(DISTINCT unit_index) FROM files WHERE job_id = $1", [job]) == plan.ok)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1", [job]) == plan.errors)
        let files = try h.run(["files", "--folder", folder, "--json"])
        let lines = files.stdout.split(separator: "\n")
        #expect(lines.count == plan.ok)
        let errors = try h.run(["errors", job, "--json"])
        var codes: [String: Int] = [:]
        for line in errors.stdout.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            codes[o?["code"] as? String ?? "?", default: 0] += 1
            #expect(o?["objectUrls"] as? [String] != nil && o?["action"] as? String != nil && o?["unit"] as? Int != nil)
        }
        #expect(codes == plan.errorCodes)
    }

    @Test func everyTypeWithFailuresAndDuplicatesGivesExactCounts() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 10_000)
        try h.startCoordinator()
        // The workers' default consume slots (several chunks in hand per process): counts stay exact.
        try h.startWorker("w1", extraEnv: ["REGISTRAR_WORKER_SLOTS": ""])
        try h.startWorker("w2", extraEnv: ["REGISTRAR_WORKER_SLOTS": ""])
        let (job, run) = try submit(h, plan.manifest, folder: "everything", wait: true)
        #expect(run.status == 0, "submit --wait: \(run.stderr)")
        let final = try run.json()
        #expect(final.string("status") == "DONE")
        #expect(final.string("phase") == "finished")
        try expectExact(h, job: job, folder: "everything", plan: plan, final: final)
        // A record carries the object's facts and the manifest's metadata.
        let sample = try h.scalar("SELECT client_metadata::text FROM files WHERE job_id = $1 AND type = 'image' ORDER BY unit_index LIMIT 1", [job])
        #expect(sample == #"{"n": 0}"#)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND size IS NULL", [job]) == 0)
        // Records carry what the probes derived from the bytes (values of the fixture files).
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'image' AND (width IS NULL OR format <> 'png')", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'video' AND NOT metadata_supplied AND (fps IS NULL OR codec IS NULL OR frame_count IS NULL)", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'audio' AND (sample_rate IS NULL OR duration IS NULL)", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'pdf' AND page_count = 3", [job]) == 10_000 * 5 / 100)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'dicom_series' AND dicom_series_uid IS NULL", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'nifti' AND nifti_dims IS NULL", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND NOT metadata_supplied AND (probe_requests IS NULL OR probe_bytes > 65536)", [job]) == 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'video' AND metadata_supplied AND width = 640", [job]) == 1)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'image_sequence'", [job]) > 0)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'dicom_series' AND cardinality(urls) = 2", [job]) == 10_000 * 5 / 100)

        // The same manifest again into the same folder: every registered URL is now a duplicate.
        let (job2, run2) = try submit(h, plan.manifest, folder: "everything", wait: true)
        let again = try run2.json()
        #expect(again.string("status") == "DONE")
        #expect(again.int("done") == 0)
        #expect(again.int("skipped") == plan.ok + plan.skipped)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [job2]) == 0)
    }

    @Test func withoutIgnoreErrorsAFailedUnitEndsTheJobInError() throws {
        let h = try PipelineHarness()
        let good = try h.putObject("a.jpg", bytes: try MediaSamples.bytes("images/jpeg-baseline.jpg"))
        let manifest = try h.writeManifest("m.json", #"{"images": [{"objectUrl": "\#(good)"}, {"objectUrl": "\#(h.objectURL("missing.jpg"))"}]}"#)
        try h.startCoordinator()
        try h.startWorker("w1")
        let (_, run) = try submit(h, manifest, folder: "strict", ignoreErrors: false, wait: true)
        #expect(run.status == 1)
        let final = try run.json()
        #expect(final.string("status") == "ERROR")
        #expect(final.int("done") == 1 && final.int("errors") == 1)

        let (_, lenient) = try submit(h, manifest, folder: "lenient", ignoreErrors: true, wait: true)
        #expect(lenient.status == 0)
        #expect(try lenient.json().string("status") == "DONE")
    }

    @Test func aManifestOverTheLimitsIsRefusedBeforeAnythingIsPublished() throws {
        let h = try PipelineHarness()
        let manifest = try h.writeManifest("bad.json", #"{"images": [{"objectUrl": "https://b/x.jpg"}], oops}"#)
        try h.startCoordinator()
        let (job, run) = try submit(h, manifest, folder: "bad", wait: true)
        #expect(run.status == 1)
        let final = try run.json()
        #expect(final.string("status") == "ERROR")
        #expect(final.int("total") == 0)
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1", [job]) == 0)
        #expect((final["error"] as? String)?.hasPrefix("invalid_json: ") == true)
    }

    @Test func cancelStopsUnprocessedUnitsAndKeepsProcessedOnes() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 6_000)
        try h.startCoordinator(extraArgs: ["--chunk-units", "50"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "30"])
        let (job, _) = try submit(h, plan.manifest, folder: "cancel")
        let mid = try h.waitUntil(job) { $0.int("done") > 100 }
        #expect(mid.string("status") == "PENDING", "the cancel must land mid-run")
        let c = try h.run(["cancel", job])
        #expect(c.status == 0)
        let final = try h.waitForJob(job)
        #expect(final.string("status") == "CANCELLED")
        #expect(final.int("cancelled") > 0)
        #expect(final.int("done") + final.int("errors") + final.int("skipped") + final.int("cancelled") == plan.total)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [job]) == final.int("done"))
    }

    @Test func aWorkerKilledMidRunLosesAndDuplicatesNothing() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 8_000)
        try h.startCoordinator(extraArgs: ["--chunk-units", "100"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "60"])
        try h.startWorker("w2", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "60"])
        let (job, _) = try submit(h, plan.manifest, folder: "kill9")
        let mid = try h.waitUntil(job) { $0.int("done") > 1000 }
        #expect(mid.string("status") == "PENDING", "the kill must land mid-run")
        h.kill9("w1")
        try h.startWorker("w3")
        let final = try h.waitForJob(job)
        #expect(final.string("status") == "DONE")
        try expectExact(h, job: job, folder: "kill9", plan: plan, final: final)
    }

    @Test func aWorkerDyingBetweenCommitAndAckLosesAndDuplicatesNothing() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 3_000)
        try h.startCoordinator(extraArgs: ["--chunk-units", "100"])
        // Registration only: a chunk another kind's test left in its queue must not be the commit it dies after.
        try h.startWorker("faulty", extraArgs: ["--kinds", "registration"], extraEnv: ["REGISTRAR_FAULT_WORKER": "exit-after-commit"])
        let (job, _) = try submit(h, plan.manifest, folder: "fault")
        // It commits its first chunk, then exits before the ack.
        #expect(h.waitForExit("faulty", timeout: 120) == 137)
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) >= 1)
        try h.startWorker("w1")
        try h.startWorker("w2")
        let final = try h.waitForJob(job)
        try expectExact(h, job: job, folder: "fault", plan: plan, final: final)
    }

    @Test func faultHooksAreIgnoredWithoutTheTestSwitch() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 300)
        try h.startCoordinator(extraArgs: ["--chunk-units", "50"], extraEnv: ["REGISTRAR_TEST_HOOKS": "0",
                                                                          "REGISTRAR_FAULT_COORDINATOR_EXIT_AFTER_CHUNKS": "1"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_HOOKS": "0", "REGISTRAR_FAULT_WORKER": "exit-after-commit"])
        let (job, _) = try submit(h, plan.manifest, folder: "no-hooks")
        let final = try h.waitForJob(job)
        try expectExact(h, job: job, folder: "no-hooks", plan: plan, final: final)
        // Neither process took the fault: both still run, and neither said a hook was on.
        #expect(h.processes["w1"]?.isRunning == true && h.processes["coordinator"]?.isRunning == true)
        #expect(!h.log("w1").contains("test hooks enabled") && !h.log("coordinator").contains("test hooks enabled"))
    }

    @Test func aCoordinatorKilledMidSplitResumesExactly() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 6_000)
        try h.startWorker("w1")
        try h.startCoordinator("c1", extraArgs: ["--chunk-units", "20"],
                               extraEnv: ["REGISTRAR_FAULT_COORDINATOR_EXIT_AFTER_CHUNKS": "64"])
        let (job, _) = try submit(h, plan.manifest, folder: "resume")
        #expect(h.waitForExit("c1", timeout: 120) == 137)
        let chunksBefore = try h.count("SELECT count(*) FROM chunks WHERE job_id = $1", [job])
        #expect(chunksBefore > 0)
        #expect(try h.scalar("SELECT split_done::text FROM upload_jobs WHERE id = $1", [job]) == "false")
        try h.startCoordinator("c2", extraArgs: ["--chunk-units", "20"])
        let final = try h.waitForJob(job)
        #expect(final.string("status") == "DONE")
        try expectExact(h, job: job, folder: "resume", plan: plan, final: final)
        // Chunk ids are deterministic: the resumed split recorded no chunk twice.
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1", [job])
                == h.count("SELECT total_chunks FROM upload_jobs WHERE id = $1", [job]))
    }

    @Test func progressSurvivesRedisBeingFlushed() throws {
        let h = try PipelineHarness()
        let plan = try makePlan(h, scale: 6_000)
        try h.startCoordinator(extraArgs: ["--chunk-units", "50"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "30"])
        let (job, _) = try submit(h, plan.manifest, folder: "flush")
        let before = try h.waitUntil(job) { $0.int("done") > 200 }
        #expect(before.string("status") == "PENDING", "the flush must land mid-run")
        let redis = try RedisFlush(url: h.env.redis)
        try redis.flush()
        // Right after the flush the status is rebuilt from PostgreSQL: never lower than before.
        let after = try h.run(["status", job, "--json"]).json()
        #expect(after.int("done") >= before.int("done"))
        let final = try h.waitForJob(job)
        try expectExact(h, job: job, folder: "flush", plan: plan, final: final)
    }

    @Test func staleRedisDuplicateAnswersAreConfirmedByPostgres() throws {
        let h = try PipelineHarness()
        let url = try h.putObject("one.png", bytes: try MediaSamples.bytes("images/png-rgb8.png")) + "?X-Amz-Signature=secret"
        let manifest = try h.writeManifest("m.json", #"{"images": [{"objectUrl": "\#(url)"}], "skip_duplicate_urls": true}"#)
        try h.startCoordinator()
        try h.startWorker("w1")
        let first = try submit(h, manifest, folder: "stale", wait: true).run.json()
        #expect(first.int("done") == 1)
        // Redis remembers the key as a digest, never the URL (its query string is a secret).
        let redis = try RedisConnection(url: h.env.redis)
        let keys = try redis.command(["KEYS", "registrar:folder:*:keys"])
        guard case .array(let names) = keys, case .string(let name)? = names.first else {
            Issue.record("no folder key set in Redis: \(keys)"); return
        }
        let members = try redis.command(["SMEMBERS", name])
        guard case .array(let values) = members else { Issue.record("\(members)"); return }
        #expect(values.count == 1)
        for v in values {
            guard case .string(let s) = v else { continue }
            #expect(s.count == 32 && !s.contains("secret"))
        }
        // The files go away in PostgreSQL (as when an operator deletes them); Redis still says "seen".
        try h.db.execute("DELETE FROM files; DELETE FROM folder_url_keys;")
        let second = try submit(h, manifest, folder: "stale", wait: true).run.json()
        #expect(second.int("done") == 1, "a stale Redis answer must not skip a unit PostgreSQL does not have")
        #expect(second.int("skipped") == 0)
        // …and it was verified, not recorded blind: the record carries the probed dimensions.
        #expect(try h.count("SELECT count(*) FROM files WHERE width = 61 AND height = 17 AND format = 'png'") == 1)
    }
}
}
