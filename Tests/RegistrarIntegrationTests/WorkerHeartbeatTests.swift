import Foundation
import RegistrarRabbitMQ
import Testing

/// A worker that vanishes mid-chunk (SIGSTOP: no FIN, no RST, as a frozen VM or a lost node) must
/// lose its chunks to the other workers after two to three AMQP heartbeats, while workers that are
/// merely busy for many heartbeats keep theirs. Real processes, real broker; part of the
/// serialized pipeline suite (the tests share the broker's queues).
extension LiveServers.PipelineTests {
    @Test func aFrozenWorkersChunksGoToAnotherWorkerAfterAFewHeartbeats() throws {
        let h = try PipelineHarness()
        let heartbeat = 2
        let env = ["REGISTRAR_AMQP_HEARTBEAT_SECONDS": "\(heartbeat)"]
        let plan = try makePlan(h, scale: 200)
        try h.startCoordinator(extraArgs: ["--chunk-units", "50"], extraEnv: env)
        // w1 holds each chunk 20 s before verifying it: it is frozen while holding two (prefetch 2:
        // one in hand, one prefetched, both must come back).
        try h.startWorker("w1", extraArgs: ["--prefetch", "2"], extraEnv: env.merging(["REGISTRAR_TEST_CHUNK_DELAY_MS": "20000"]) { $1 })
        let (job, _) = try submit(h, plan.manifest, folder: "frozen")

        let broker = try AMQPConnection(url: h.env.amqp)
        defer { broker.close() }
        var totalChunks = 0
        let split = Date().addingTimeInterval(60)
        while Date() < split {
            if try h.scalar("SELECT split_done::text FROM upload_jobs WHERE id = $1", [job]) == "true" {
                totalChunks = try h.count("SELECT total_chunks FROM upload_jobs WHERE id = $1", [job])
                if try broker.queueDepth(AMQPWorkQueue.chunksQueue) == totalChunks - 2 { break }
            }
            usleep(100_000)
        }
        #expect(totalChunks >= 4, "the plan should make several chunks")
        try #require(try broker.queueDepth(AMQPWorkQueue.chunksQueue) == totalChunks - 2, "w1 should hold two chunks")
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) == 0)

        let w1 = try #require(h.processes["w1"]).processIdentifier
        kill(w1, SIGSTOP)
        var continued = false
        defer { if !continued { kill(w1, SIGCONT) } }
        let frozenAt = ContinuousClock.now

        // The broker misses w1's heartbeats, closes its connection and puts both chunks back.
        let bound = Duration.seconds(15 * heartbeat)
        while ContinuousClock.now - frozenAt < bound, try broker.queueDepth(AMQPWorkQueue.chunksQueue) < totalChunks {
            usleep(100_000)
        }
        let returnedAfter = ContinuousClock.now - frozenAt
        print("frozen worker's chunks back in the queue after \(returnedAfter) (heartbeat \(heartbeat) s)")
        #expect(try broker.queueDepth(AMQPWorkQueue.chunksQueue) == totalChunks,
                "a frozen worker's chunks must be returned within \(bound), not when a long heartbeat runs out")

        // Two healthy workers, each busy 8 s (four heartbeats) per chunk without touching the
        // connection: their own heartbeat threads keep them connected, so no chunk is lost to a
        // closed connection (a chunk lost five times would be dead-lettered: counts would show it).
        let slow = env.merging(["REGISTRAR_TEST_CHUNK_DELAY_MS": "8000"]) { $1 }
        try h.startWorker("w2", extraEnv: slow)
        try h.startWorker("w3", extraEnv: slow)
        let final = try h.waitForJob(job, timeout: 300)
        #expect(final.string("status") == "DONE")
        try expectExact(h, job: job, folder: "frozen", plan: plan, final: final)
        #expect(!h.log("w2").contains("reconnecting") && !h.log("w3").contains("reconnecting"),
                "busy workers must keep their connections:\n\(h.log("w2").suffix(2000))\n\(h.log("w3").suffix(2000))")

        // w1 wakes up with its chunk in hand: it finishes it, finds it committed, and its ack
        // fails on the connection the broker closed; it reconnects. Nothing is counted twice.
        kill(w1, SIGCONT)
        continued = true
        let wake = Date().addingTimeInterval(120)
        while Date() < wake && !h.log("w1").contains("reconnecting") { usleep(200_000) }
        #expect(h.log("w1").contains("reconnecting"), "w1 should notice its connection is gone:\n\(h.log("w1").suffix(3000))")
        let after = try h.run(["status", job, "--json"]).json()
        try expectExact(h, job: job, folder: "frozen", plan: plan, final: after)
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) == totalChunks)
    }
}
