import Foundation
import RegistrarRedis
import Testing

/// The operator procedures the runbooks rely on, against the real servers and processes:
/// dead-lettered chunks listed, replayed and discarded with exact counts, progress rebuilt
/// from PostgreSQL, the schema checked without being changed.
extension LiveServers {
@Suite(.serialized) struct OperatorCommandTests {
    /// 300 images in chunks of 50; the units whose URL holds "poison" crash the poisoned worker.
    func poisonedJob(_ h: PipelineHarness, poisonUnits: [Int]) throws -> (job: String, total: Int) {
        let png = try MediaSamples.bytes("images/png-rgb8.png")
        var items: [String] = []
        for i in 0..<300 {
            let url = try h.putObject("img/\(poisonUnits.contains(i) ? "poison-" : "")\(i).png", bytes: png)
            items.append(#"{"objectUrl": "\#(url)"}"#)
        }
        let manifest = try h.writeManifest("m.json", "{\"images\": [\n" + items.joined(separator: ",\n") + "\n]}\n")
        try h.startCoordinator(extraArgs: ["--chunk-units", "50"])
        let r = try h.run(["submit", manifest, "--folder", "dlq", "--ignore-errors", "--json"])
        return (try r.json().string("id"), 300)
    }

    /// Keeps a worker running (restarting it whenever the poison hook kills it) until the job ends.
    func superviseUntilDone(_ h: PipelineHarness, _ job: String, env: [String: String]) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(120)
        var restarts = 0
        while Date() < deadline {
            if h.processes["w"]?.isRunning != true {
                _ = h.waitForExit("w", timeout: 1)
                try h.start("w", ["worker", "--prefetch", "1", "--concurrency", "16"], extraEnv: env)
                restarts += 1
            }
            let s = try h.run(["status", job, "--json"]).json()
            if s.string("status") != "PENDING" { return s }
            usleep(100_000)
        }
        throw PipelineHarness.HarnessError("job \(job) did not finish; worker restarted \(restarts) times\n\(h.log("w").suffix(2000))")
    }

    /// Redis's hash for the job, as numbers.
    func redisCounts(_ h: PipelineHarness, _ job: String) throws -> [String: Int] {
        let redis = try RedisConnection(url: h.env.redis)
        defer { redis.close() }
        guard case .array(let items) = try redis.command(["HGETALL", "registrar:job:\(job)"]) else { return [:] }
        var out: [String: Int] = [:]
        var i = 0
        while i + 1 < items.count {
            if case .string(let k) = items[i], case .string(let v) = items[i + 1] { out[k] = Int(v) }
            i += 2
        }
        return out
    }

    @Test func deadChunksAreListedReplayedAndDiscardedWithExactCounts() throws {
        let h = try PipelineHarness()
        // Unit 10 is in chunk 0, unit 160 in chunk 3.
        let (job, total) = try poisonedJob(h, poisonUnits: [10, 160])
        let first = try superviseUntilDone(h, job, env: ["REGISTRAR_FAULT_POISON_UNIT": "poison-"])
        // Both poison chunks were dead-lettered after the delivery limit; the job still finished.
        #expect(first.string("status") == "DONE")
        #expect(first.int("errors") == 100 && first.int("done") == total - 100)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1 AND code = 'internal_error'", [job]) == 100)

        let list = try h.run(["dlq", "list", "--json"])
        #expect(list.status == 0)
        let dead = try list.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(dead.map { $0.int("seq") }.sorted() == [0, 3])
        for d in dead {
            #expect(d.string("job") == job && d.int("units") == 50 && d.string("state") == "dead")
            #expect(d.string("reason") == "delivery_limit" && d.int("deliveries") >= 5 && d.int("deaths") == 1)
        }
        #expect(try h.run(["dlq", "list"]).stdout.contains("2 chunk(s), 100 unit(s)"))

        // Replay chunk 0 with a healthy worker: the job re-opens, its units are verified, counts fixed.
        h.stopAll()
        try h.start("w", ["worker", "--concurrency", "16"])
        let replay = try h.run(["dlq", "replay", "--job", job, "--chunk", "0"])
        #expect(replay.status == 0, "\(replay.stdout) \(replay.stderr)")
        #expect(replay.stdout.contains("replayed 1 chunk(s), 50 unit(s)"))
        let replayed = try h.waitForJob(job, timeout: 60)
        #expect(replayed.string("status") == "DONE")
        #expect(replayed.int("done") == total - 50 && replayed.int("errors") == 50)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1", [job]) == total - 50)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND unit_index BETWEEN 0 AND 49", [job]) == 50)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1", [job]) == 50)
        #expect(try redisCounts(h, job)["done"] == total - 50)
        #expect(try redisCounts(h, job)["errors"] == 50)
        // Replaying it again is refused politely: it is no longer open.
        #expect(try h.run(["dlq", "replay", "--job", job, "--chunk", "0"]).stdout.contains("nothing to replay"))

        // Discard chunk 3: its units stay failed, it leaves the open list.
        let discard = try h.run(["dlq", "discard", "--all"])
        #expect(discard.status == 0 && discard.stdout.contains("discarded 1 chunk(s)"))
        #expect(try h.run(["dlq", "list", "--json"]).stdout.isEmpty)
        let states = try h.run(["dlq", "list", "--include-resolved", "--json"]).stdout
        #expect(states.contains(#""state":"replayed""#) && states.contains(#""state":"discarded""#))
        let final = try h.run(["status", job, "--json"]).json()
        #expect(final.int("done") + final.int("errors") == total && final.int("errors") == 50)
        // Usage errors: a selection is required.
        #expect(try h.run(["dlq", "replay"]).status == 2)
    }

    @Test func progressIsRebuiltFromPostgresAndTheSchemaIsCheckedWithoutChanges() throws {
        let h = try PipelineHarness()
        let png = try MediaSamples.bytes("images/png-rgb8.png")
        let items = try (0..<120).map { #"{"objectUrl": "\#(try h.putObject("p/\($0).png", bytes: png))"}"# }
        let manifest = try h.writeManifest("m.json", "{\"images\": [" + items.joined(separator: ",") + "]}")
        try h.startCoordinator(extraArgs: ["--chunk-units", "25"])
        try h.startWorker("w1")
        let r = try h.run(["submit", manifest, "--folder", "rebuild", "--json", "--wait"])
        let job = try r.json().string("id")
        #expect(try redisCounts(h, job)["done"] == 120)

        try RedisFlush(url: h.env.redis).flush()
        #expect(try redisCounts(h, job).isEmpty)
        let one = try h.run(["progress", "rebuild", job])
        #expect(one.status == 0 && one.stdout.contains("done 120, errors 0"))
        let hash = try redisCounts(h, job)
        #expect(hash["done"] == 120 && hash["errors"] == 0 && hash["total"] == 120 && hash["base"] == 1)
        #expect(try h.run(["progress", "rebuild", "--all"]).stdout.contains("rebuilt progress of 1 job(s)"))
        #expect(try h.run(["progress", "rebuild", "no-such-job"]).status == 2)

        #expect(try h.run(["migrate", "--check"]).status == 0)
        try h.db.execute("DELETE FROM schema_migrations WHERE version = 5")
        let behind = try h.run(["migrate", "--check"])
        #expect(behind.status == 1 && behind.stdout.contains("missing migrations 5"))
        #expect(try h.count("SELECT count(*) FROM schema_migrations WHERE version = 5") == 0, "--check changes nothing")
    }
}
}
