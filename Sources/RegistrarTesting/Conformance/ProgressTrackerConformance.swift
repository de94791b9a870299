import Foundation
import RegistrarRuntime
import Testing

/// Every promise of `ProgressTracker`'s doc comments, checked against one implementation
/// (the twin `MemoryProgressTracker`, and `RedisProgressTracker` on a real Redis). Job and folder
/// ids are fresh each run, so the suite needs no empty server.
public enum ProgressTrackerConformance {
    public static func exercise(_ make: () throws -> any ProgressTracker) throws {
        let t = try make()
        let job = UUID().uuidString.lowercased()

        // Nothing known yet; counts made only by increments (after a loss) are not trusted.
        #expect(try t.counts(jobID: job) == nil)
        try t.recordChunk(jobID: job, seq: 0, counts: UnitCounts(done: 3))
        #expect(try t.counts(jobID: job) == nil)

        // Initialised from the store: the total, then each chunk counted once.
        let j2 = UUID().uuidString.lowercased()
        try t.setTotal(jobID: j2, total: 10)
        #expect(try t.counts(jobID: j2)?.counts == UnitCounts())
        #expect(try t.counts(jobID: j2)?.total == 10)
        try t.recordChunk(jobID: j2, seq: 0, counts: UnitCounts(done: 2, errors: 1))
        try t.recordChunk(jobID: j2, seq: 0, counts: UnitCounts(done: 2, errors: 1))
        try t.recordChunk(jobID: j2, seq: 1, counts: UnitCounts(skipped: 1, cancelled: 2))
        #expect(try t.counts(jobID: j2)?.counts == UnitCounts(done: 2, errors: 1, skipped: 1, cancelled: 2))

        // A rebuild replaces the numbers and the set of counted chunks.
        try t.rebuild(jobID: j2, counts: UnitCounts(done: 5), total: 12, doneChunks: [0, 3])
        #expect(try t.counts(jobID: j2)?.counts == UnitCounts(done: 5))
        #expect(try t.counts(jobID: j2)?.total == 12)
        try t.recordChunk(jobID: j2, seq: 3, counts: UnitCounts(done: 100))        // counted in the rebuild
        try t.recordChunks(jobID: j2, chunks: [0: UnitCounts(done: 100), 4: UnitCounts(errors: 2), 5: UnitCounts(done: 1)])
        try t.recordChunks(jobID: j2, chunks: [4: UnitCounts(errors: 2)])
        #expect(try t.counts(jobID: j2)?.counts == UnitCounts(done: 6, errors: 2))
        // A rebuild without a total leaves none.
        let j3 = UUID().uuidString.lowercased()
        try t.rebuild(jobID: j3, counts: UnitCounts(errors: 1), total: nil, doneChunks: [])
        #expect(try t.counts(jobID: j3)?.total == nil)
        #expect(try t.counts(jobID: j3)?.counts == UnitCounts(errors: 1))

        // URL keys per folder.
        let folder = UUID().uuidString.lowercased()
        #expect(try t.knownURLKeys(folderID: folder, keys: []) == [])
        #expect(try t.knownURLKeys(folderID: folder, keys: ["a", "b"]) == [false, false])
        try t.addURLKeys(folderID: folder, keys: ["https://b.example/a.png?sig=1", "b"])
        #expect(try t.knownURLKeys(folderID: folder, keys: ["b", "c", "https://b.example/a.png?sig=1"]) == [true, false, true])
        #expect(try t.knownURLKeys(folderID: UUID().uuidString.lowercased(), keys: ["b"]) == [false])
    }
}
