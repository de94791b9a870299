import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// A `JobStore` under test, with the adapter-specific parts the port leaves out: the
/// ledger-guarded commit a kind's store uses, and what it stored for unit errors.
public struct JobStoreUnderTest {
    public var store: any JobStore
    /// The adapter's guarded commit, with a body that returns the write (or throws).
    public var commit: (ChunkID, DeadLetter?, () throws -> ChunkWrite) throws -> CommitOutcome
    /// The unit errors stored for a job, in unit order.
    public var unitErrors: (String) throws -> [UnitError]

    public init(store: any JobStore, commit: @escaping (ChunkID, DeadLetter?, () throws -> ChunkWrite) throws -> CommitOutcome,
                unitErrors: @escaping (String) throws -> [UnitError]) {
        self.store = store
        self.commit = commit
        self.unitErrors = unitErrors
    }
}

/// Every promise of `JobStore`'s doc comments, checked against one implementation. Each
/// adapter's tests run it twice: on the twin (`MemoryJobStore`) and on the real server.
public enum JobStoreConformance {
    struct BodyFailure: Error {}

    public static func exercise(_ make: () throws -> JobStoreUnderTest) throws {
        try jobsAreCreatedAndRead(make())
        try theLedgerIsWrittenBeforePublishingAndIdempotent(make())
        try aChunkIsCommittedOnce(make())
        try cancellingRecordsChunksCancelled(make())
        try finishingDecidesTheStatusOnce(make())
        try refusingAJobEndsItWithTheReason(make())
    }

    static func newJob(_ s: JobStoreUnderTest, kind: String = "conformance", ignoreErrors: Bool = false,
                       params: JSONValue = .null) throws -> String {
        try s.store.createJob(NewJob(kind: kind, tenantID: "00000000-0000-0000-0000-000000000001", ignoreErrors: ignoreErrors, params: params))
    }

    static func jobsAreCreatedAndRead(_ s: JobStoreUnderTest) throws {
        let params = JSONValue.object([("from", .number("1")), ("name", .string("é \"quoted\""))])
        let id = try newJob(s, params: params)
        let job = try #require(try s.store.job(id))
        #expect(job.kind == "conformance")
        #expect(job.status == .pending && job.phase == .received)
        #expect(job.totalUnits == nil && !job.splitDone && !job.cancelRequested && job.startedAt == nil)
        #expect(job.params == params)
        #expect(try s.store.job(UUID().uuidString.lowercased()) == nil)
        #expect(try s.store.job("not-a-uuid") == nil)

        try s.store.recordTotal(jobID: id, units: 42)
        let counted = try #require(try s.store.job(id))
        #expect(counted.totalUnits == 42 && counted.phase == .splitting && counted.startedAt != nil)
        // A total counted while planning: started and splitting, the total unknown (NULL) until recorded.
        let growing = try newJob(s)
        try s.store.recordTotal(jobID: growing, units: nil)
        let uncounted = try #require(try s.store.job(growing))
        #expect(uncounted.totalUnits == nil && uncounted.phase == .splitting && uncounted.startedAt != nil)
        #expect(JobState(uncounted, counts: UnitCounts()).json.contains(#""totalKnown":false"#))
        try s.store.recordTotal(jobID: growing, units: 7)
        #expect(try s.store.job(growing)?.totalUnits == 7)

        #expect(try s.store.isCancelRequested(jobID: id) == false)
        #expect(try s.store.requestCancel(jobID: id) == .pending)
        #expect(try s.store.isCancelRequested(jobID: id))
        #expect(try s.store.requestCancel(jobID: UUID().uuidString.lowercased()) == nil)
    }

    static func theLedgerIsWrittenBeforePublishingAndIdempotent(_ s: JobStoreUnderTest) throws {
        let id = try newJob(s)
        #expect(try s.store.ledger(jobID: id).isEmpty)
        try s.store.recordChunks(jobID: id, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 5), LedgerChunk(seq: 1, firstUnit: 5, unitCount: 5)])
        // Idempotent: existing rows are left alone (their unit count included).
        try s.store.recordChunks(jobID: id, chunks: [LedgerChunk(seq: 1, firstUnit: 5, unitCount: 99), LedgerChunk(seq: 2, firstUnit: 10, unitCount: 2)])
        #expect(try s.store.ledger(jobID: id) == [0: false, 1: false, 2: false])
        try s.store.markPublished(jobID: id, seqs: [0, 2])
        #expect(try s.store.ledger(jobID: id) == [0: true, 1: false, 2: true])
        #expect(try s.commit(ChunkID(jobID: id, seq: 1), nil) { ChunkWrite() } == .committed(UnitCounts()))
        // Unit count 5, not 99: a cancelled commit counts the row's units.
        #expect(try s.store.commitCancelled(ChunkID(jobID: id, seq: 0)) == .committed(UnitCounts(cancelled: 5)))
    }

    static func aChunkIsCommittedOnce(_ s: JobStoreUnderTest) throws {
        let id = try newJob(s)
        try s.store.recordChunks(jobID: id, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 4), LedgerChunk(seq: 1, firstUnit: 4, unitCount: 3)])
        let chunk = ChunkID(jobID: id, seq: 0)

        // A body that fails writes nothing: the chunk stays pending.
        #expect(throws: BodyFailure.self) { try s.commit(chunk, nil) { throw BodyFailure() } }
        #expect(try s.store.chunkCounts(jobID: id).isEmpty)

        let errors = [UnitError(index: 2, urls: ["https://b.example/x.png?X-Amz-Signature=secret#frag"], code: .notFound, message: "HTTP 404"),
                      UnitError(index: 3, urls: [], code: "custom_code", message: "custom", action: "Doing it")]
        #expect(try s.commit(chunk, nil) { ChunkWrite(done: 1, skipped: 1, errors: errors) } == .committed(UnitCounts(done: 1, errors: 2, skipped: 1)))
        // Again (a redelivery): the counts as recorded, and the body is not run.
        var ran = false
        #expect(try s.commit(chunk, nil) { ran = true; return ChunkWrite(done: 4) } == .alreadyDone(UnitCounts(done: 1, errors: 2, skipped: 1)))
        #expect(!ran)
        #expect(try s.store.commitCancelled(chunk) == .alreadyDone(UnitCounts(done: 1, errors: 2, skipped: 1)))

        // Unit errors: URLs shown without their query or fragment; the action from the code unless given.
        let stored = try s.unitErrors(id)
        #expect(stored.map(\.index) == [2, 3])
        #expect(stored[0].urls == ["https://b.example/x.png"])
        #expect(stored[0].code == .notFound && stored[0].action == "Fetching object" && stored[0].message == "HTTP 404")
        #expect(stored[1].code == "custom_code" && stored[1].action == "Doing it")

        // A chunk the ledger does not have (its job was deleted): nothing recorded.
        #expect(try s.commit(ChunkID(jobID: id, seq: 9), nil) { ChunkWrite(done: 1) } == .unknownChunk)
        #expect(try s.store.commitCancelled(ChunkID(jobID: UUID().uuidString.lowercased(), seq: 0)) == .unknownChunk)

        // A dead chunk's commit is an ordinary commit (its letter is kept beside it).
        let letter = DeadLetter(deliveries: 6, reason: "delivery_limit", body: Array("message".utf8))
        let dead = (4..<7).map { UnitError(index: $0, urls: [], code: .internalError, message: letter.unitMessage) }
        #expect(try s.commit(ChunkID(jobID: id, seq: 1), letter) { ChunkWrite(errors: dead) } == .committed(UnitCounts(errors: 3)))

        #expect(try s.store.chunkCounts(jobID: id) == [0: UnitCounts(done: 1, errors: 2, skipped: 1), 1: UnitCounts(errors: 3)])
        let total = try s.store.jobCounts(jobID: id)
        #expect(total.counts == UnitCounts(done: 1, errors: 5, skipped: 1))
        #expect(total.doneChunks == [0, 1])
    }

    static func cancellingRecordsChunksCancelled(_ s: JobStoreUnderTest) throws {
        let id = try newJob(s)
        try s.store.recordChunks(jobID: id, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 2), LedgerChunk(seq: 1, firstUnit: 2, unitCount: 2)])
        _ = try s.commit(ChunkID(jobID: id, seq: 0), nil) { ChunkWrite(done: 2) }
        // Row 0 was finished by a worker: it stays; row 1 pending: cancelled; row 2 new: written cancelled.
        try s.store.recordCancelledChunks(jobID: id, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 2),
                                                             LedgerChunk(seq: 1, firstUnit: 2, unitCount: 2),
                                                             LedgerChunk(seq: 2, firstUnit: 4, unitCount: 3)])
        #expect(try s.store.chunkCounts(jobID: id) == [0: UnitCounts(done: 2), 1: UnitCounts(cancelled: 2), 2: UnitCounts(cancelled: 3)])
        #expect(try s.commit(ChunkID(jobID: id, seq: 2), nil) { ChunkWrite(done: 3) } == .alreadyDone(UnitCounts(cancelled: 3)))
    }

    static func finishingDecidesTheStatusOnce(_ s: JobStoreUnderTest) throws {
        // DONE: every chunk finished, no error.
        let done = try newJob(s)
        try s.store.recordChunks(jobID: done, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 1), LedgerChunk(seq: 1, firstUnit: 1, unitCount: 1)])
        _ = try s.commit(ChunkID(jobID: done, seq: 0), nil) { ChunkWrite(done: 1) }
        #expect(try s.store.finishJobIfComplete(jobID: done) == nil)          // split not done
        try s.store.finishSplit(jobID: done, totalChunks: 2)
        #expect(try s.store.job(done)?.phase == .verifying)
        #expect(try s.store.finishJobIfComplete(jobID: done) == nil)          // chunk 1 pending
        _ = try s.commit(ChunkID(jobID: done, seq: 1), nil) { ChunkWrite(skipped: 1) }
        #expect(try s.store.finishJobIfComplete(jobID: done) == .done)
        #expect(try s.store.finishJobIfComplete(jobID: done) == nil)          // exactly one caller wins
        let finished = try #require(try s.store.job(done))
        #expect(finished.status == .done && finished.phase == .finished && finished.finishedAt != nil)

        // ERROR: a failed unit, errors not ignored; DONE when they are.
        for (ignore, expected) in [(false, JobStatus.error), (true, .done)] {
            let id = try newJob(s, ignoreErrors: ignore)
            try s.store.recordChunks(jobID: id, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 1)])
            _ = try s.commit(ChunkID(jobID: id, seq: 0), nil) { ChunkWrite(errors: [UnitError(index: 0, urls: [], code: .corrupt, message: "bad")]) }
            try s.store.finishSplit(jobID: id, totalChunks: 1)
            #expect(try s.store.finishJobIfComplete(jobID: id) == expected)
        }

        // CANCELLED: a cancel was requested and some unit was cancelled.
        let cancelled = try newJob(s)
        try s.store.recordChunks(jobID: cancelled, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 2)])
        _ = try s.store.requestCancel(jobID: cancelled)
        _ = try s.store.commitCancelled(ChunkID(jobID: cancelled, seq: 0))
        try s.store.finishSplit(jobID: cancelled, totalChunks: 1)
        #expect(try s.store.finishJobIfComplete(jobID: cancelled) == .cancelled)

        // A job with no chunk at all ends when its split is done.
        let empty = try newJob(s)
        try s.store.finishSplit(jobID: empty, totalChunks: 0)
        #expect(try s.store.finishJobIfComplete(jobID: empty) == .done)
    }

    static func refusingAJobEndsItWithTheReason(_ s: JobStoreUnderTest) throws {
        let id = try newJob(s)
        try s.store.failJob(jobID: id, reason: JobFailure(code: "invalid_params", item: "params.to", message: "must be ≥ from"))
        let job = try #require(try s.store.job(id))
        #expect(job.status == .error && job.phase == .finished && job.splitDone && job.totalUnits == 0)
        #expect(job.error == "invalid_params: params.to: must be ≥ from")
        // Only a PENDING job is refused: the first reason stays.
        try s.store.failJob(jobID: id, reason: JobFailure(code: "other", item: "manifest", message: "later"))
        #expect(try s.store.job(id)?.error == "invalid_params: params.to: must be ≥ from")

        let manifest = try newJob(s)
        try s.store.failJob(jobID: manifest, reason: JobFailure(code: "truncated", item: "manifest", message: "the JSON ends early", line: 3))
        #expect(try s.store.job(manifest)?.error == "truncated: the JSON ends early")
    }
}
