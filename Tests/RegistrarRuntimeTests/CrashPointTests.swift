import Foundation
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The engine's reliability rules at the worst moments, deterministic and in process: a worker
/// dying after its commit and before its ack, a coordinator dying mid-split, poison chunks,
/// cancellation while splitting and while working, and a draining worker. Each must end with
/// every unit counted exactly once.
@Suite struct CrashPointTests {
    @Test func workerCrashAfterCommitBeforeAck() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 4
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(20)))
        let crashes = Count()
        var hooks = EngineHooks()
        // Every other chunk's first commit is followed by a crash before its ack.
        hooks.afterCommit = { id in
            if id.seq % 2 == 0, crashes.current < 3 { crashes.next(); throw EngineRig.SimulatedCrash() }
        }
        #expect(try rig.runToEnd(workerHooks: hooks) == 3)
        let state = try rig.state(job)
        #expect(state.status == .done)
        #expect(state.counts == UnitCounts(done: 20))
        // Redelivered chunks found their commit and changed nothing: one file per unit.
        #expect(rig.registry.files(jobID: job).count == 20)
        #expect(try rig.tracker.counts(jobID: job)?.counts == UnitCounts(done: 20))
    }

    @Test func redeliveryAfterCommitRecordsProgressThatWasLost() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 10
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(10)))
        try rig.split()
        var hooks = EngineHooks()
        hooks.afterCommit = { _ in throw EngineRig.SimulatedCrash() }
        #expect(throws: EngineRig.SimulatedCrash.self) { try rig.work(hooks: hooks) }
        // Committed, not counted by the tracker, not acked.
        #expect(try rig.jobs.jobCounts(jobID: job).counts == UnitCounts(done: 10))
        #expect(try rig.tracker.counts(jobID: job)?.counts == UnitCounts())
        #expect(rig.broker.depth(KindQueues.registration.work) == 1)
        try rig.work()
        #expect(try rig.tracker.counts(jobID: job)?.counts == UnitCounts(done: 10))
        #expect(try rig.state(job).status == .done)
    }

    @Test func coordinatorCrashMidSplitResumesFromTheLedger() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 3
        rig.splitting.confirmWindow = 2
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(31)))
        let windows = Count()
        var hooks = EngineHooks()
        // Crash after the third confirmed window (6 chunks published), once.
        hooks.afterWindow = { _ in if windows.next() == 3 { throw EngineRig.SimulatedCrash() } }
        #expect(throws: EngineRig.SimulatedCrash.self) { try rig.split(hooks: hooks) }
        #expect(rig.broker.depth(KindQueues.registration.work) == 6)
        #expect(rig.broker.depth("registrar.jobs") == 1)
        // The job message comes back; the split resumes and publishes only the other 5 chunks.
        try rig.split(hooks: hooks)
        #expect(rig.broker.depth(KindQueues.registration.work) == 11)
        try rig.work()
        let state = try rig.state(job)
        #expect(state.status == .done)
        #expect(state.counts == UnitCounts(done: 31))
        #expect(rig.jobs.ledgerRows(jobID: job).count == 11)
        #expect(rig.registry.files(jobID: job).count == 31)
    }

    @Test func theConfirmWindowIsBoundedByBytesAsWellAsByChunks() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 2
        rig.splitting.confirmWindow = 64
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(12)))
        // Every chunk's body is larger than 1 byte: each window holds exactly one chunk.
        rig.splitting.confirmWindowBytes = 1
        let windows = Count(), lastPublished = Count()
        var hooks = EngineHooks()
        hooks.afterWindow = { published in
            windows.next()
            while lastPublished.current < published { lastPublished.next() }
        }
        try rig.split(hooks: hooks)
        #expect(windows.current == 6)
        #expect(lastPublished.current == 6)
        try rig.work()
        #expect(try rig.state(job).counts == UnitCounts(done: 12))
    }

    @Test func aPoisonChunkIsDeadLetteredAndItsUnitsFail() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 5
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(15)))
        var hooks = EngineHooks()
        // Chunk 1 kills every worker that takes it.
        hooks.beforeChunk = { d in
            if d.kind == .chunk, (try? ChunkCodec.decode(d.body).seq) == 1 { throw EngineRig.SimulatedCrash() }
        }
        let crashes = try rig.runToEnd(workerHooks: hooks)
        #expect(crashes == rig.broker.deliveryLimit + 1)
        let state = try rig.state(job)
        #expect(state.status == .error)
        #expect(state.counts == UnitCounts(done: 10, errors: 5))
        let errors = rig.jobs.unitErrors(jobID: job)
        #expect(errors.map(\.index) == [5, 6, 7, 8, 9])
        #expect(errors.allSatisfy { $0.code == .internalError && $0.action == "Processing chunk" })
        let letter = try #require(rig.jobs.deadLetters(jobID: job)[1])
        #expect(letter.reason == "delivery_limit")
        #expect(letter.deliveries > rig.broker.deliveryLimit)
    }

    @Test func anUndecodableChunkIsDeadLetteredAsRejected() throws {
        let rig = EngineRig()
        let queue = rig.broker.connect(.publisher)
        try queue.publishChunk(Array("not a chunk".utf8), to: .registration)
        try rig.work()
        #expect(rig.broker.depth(KindQueues.registration.dead) == 0)  // consumed: an unreadable dead chunk is dropped
        #expect(rig.broker.depth(KindQueues.registration.work) == 0)
    }

    @Test func cancelWhileSplittingRecordsTheRestCancelled() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 2
        rig.splitting.confirmWindow = 2
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(20)))
        var hooks = EngineHooks()
        let jobs = rig.jobs
        hooks.afterWindow = { published in if published == 4 { _ = try jobs.requestCancel(jobID: job) } }
        try rig.split(hooks: hooks)
        try rig.work()
        let state = try rig.state(job)
        #expect(state.status == .cancelled)
        // 6 of the 10 chunks were never published; the 4 that were are cancelled by the worker.
        #expect(state.counts == UnitCounts(cancelled: 20))
        #expect(rig.jobs.ledgerRows(jobID: job).values.filter(\.published).count == 4)
        #expect(rig.jobs.ledgerRows(jobID: job).count == 10)
    }

    @Test func cancelWhileWorkingStopsAChunkInFlight() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 1, to: 3000, chunk: 1000))
        try rig.split()
        let handler = TallyHandler(store: rig.tally)
        let jobs = rig.jobs
        // Midway through the first chunk, the job is cancelled: the chunk notices and stops.
        handler.onNumber = { n in if n == 500 { _ = try? jobs.requestCancel(jobID: job) } }
        try rig.work(tallyHandler: handler)
        let state = try rig.state(job)
        #expect(state.status == .cancelled)
        #expect(state.counts == UnitCounts(cancelled: 3000))
        #expect(rig.tally.squares(jobID: job).isEmpty)
    }

    @Test func aDrainingWorkerGivesItsChunkBackUnfinished() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 1, to: 100, chunk: 100))
        try rig.split()
        let handler = TallyHandler(store: rig.tally)
        let deadline = StopFlag()
        handler.onNumber = { n in if n == 50 { deadline.stop() } }
        #expect(try rig.work(limit: 1, tallyHandler: handler, stopping: { deadline.isStopped }) == 1)
        // Nothing committed; the chunk is back in its queue for another worker.
        #expect(try rig.jobs.jobCounts(jobID: job).counts == UnitCounts())
        #expect(rig.broker.depth(Tally.queues.work) == 1)
        try rig.work()
        #expect(try rig.state(job).counts == UnitCounts(done: 100))
    }

    @Test func aChunkOfADeletedJobIsDropped() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 1, to: 10, chunk: 5))
        try rig.split()
        rig.jobs.deleteJob(job)
        #expect(try rig.work() == 2)
        #expect(rig.broker.depth(Tally.queues.work) == 0)
        #expect(rig.broker.depth(Tally.queues.dead) == 0)
    }

    @Test func aCoordinatorGivesBackJobsOfKindsItDoesNotKnow() throws {
        let rig = EngineRig()
        let id = try rig.jobs.createJob(NewJob(kind: "export", tenantID: "t"))
        let (splitter, _) = rig.coordinator()
        #expect(try splitter.handle(jobID: id) == .unknownKind("export"))
        #expect(try rig.jobs.job(id)?.status == .pending)
    }
}
