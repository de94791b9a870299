import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The engine's second kind (`tally`, test-only) on the twins: planned from parameters, not a
/// manifest; its own queue; its own rows; the same exactness.
@Suite struct SecondKindTests {
    @Test func aTallyJobRunsOnItsOwnQueueWithExactCounts() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 10, to: 1009, chunk: 64, failMultiplesOf: 100), ignoreErrors: true)
        try rig.split()
        // Its chunks are on its own queue, none on registration's.
        #expect(rig.broker.depth(Tally.queues.work) == 16)
        #expect(rig.broker.depth(KindQueues.registration.work) == 0)
        try rig.work()
        let state = try rig.state(job)
        #expect(state.status == .done)
        #expect(state.total == 1000)
        #expect(state.counts == UnitCounts(done: 990, errors: 10))
        let squares = rig.tally.squares(jobID: job)
        #expect(squares.count == 990)
        #expect(squares[37] == 1369)
        #expect(rig.jobs.unitErrors(jobID: job).map(\.index) == stride(from: 90, through: 990, by: 100).map { $0 })
        #expect(rig.jobs.unitErrors(jobID: job).allSatisfy { $0.action == "Tallying" && $0.code == "not_tallied" })
    }

    @Test func invalidParametersAreRefusedNamingTheField() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 5, to: 1, chunk: 10))
        try rig.split()
        let state = try rig.state(job)
        #expect(state.status == .error)
        #expect(state.error == "invalid_params: params.to: must be an integer ≥ from")
    }

    @Test func crashesAfterCommitNeverDuplicateARow() throws {
        let rig = EngineRig()
        let job = try rig.submitTally(TallyParams(from: 1, to: 500, chunk: 50))
        let crashes = Count()
        var hooks = EngineHooks()
        hooks.afterCommit = { _ in if crashes.next() % 3 == 0 { throw EngineRig.SimulatedCrash() } }
        let crashed = try rig.runToEnd(workerHooks: hooks)
        #expect(crashed >= 3)
        #expect(try rig.state(job).counts == UnitCounts(done: 500))
        #expect(rig.tally.squares(jobID: job).count == 500)
        // The store was asked to write each row once: a redelivered chunk never reached it.
        #expect(rig.tally.maxWrites(jobID: job) == 1)
    }

    @Test func registrationAndTallyShareTheEngineButNotTheirRows() throws {
        let rig = EngineRig()
        let reg = try rig.submit(Fixtures.imagesManifest(rig.putImages(12)))
        let tally = try rig.submitTally(TallyParams(from: 1, to: 12, chunk: 5))
        _ = try rig.runToEnd()
        #expect(try rig.state(reg).counts == UnitCounts(done: 12))
        #expect(try rig.state(tally).counts == UnitCounts(done: 12))
        #expect(rig.registry.files(jobID: tally).isEmpty)
        #expect(rig.tally.squares(jobID: reg).isEmpty)
    }
}
