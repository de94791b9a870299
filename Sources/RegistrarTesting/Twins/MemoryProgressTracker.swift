import Foundation
import RegistrarRuntime

/// The in-memory twin of `ProgressTracker` (Redis's `RedisProgressTracker`): per job, counts,
/// the total and the set of chunks counted; per folder, the URL keys it holds. `flush()` is what
/// losing Redis does (every job's progress gone, rebuilt from the store by readers).
public final class MemoryProgressTracker: ProgressTracker, @unchecked Sendable {
    private struct Entry {
        var counts = UnitCounts()
        var total: Int?
        var chunks: Set<Int> = []
        /// Set when the entry was initialised from the store (`setTotal`, `rebuild`): an entry
        /// made only by increments after a flush is treated as lost, as Redis's `base` field does.
        var base = false
    }

    private let lock = NSLock()
    private var jobs: [String: Entry] = [:]
    private var folderKeys: [String: Set<String>] = [:]
    /// When set, every call throws (Redis down).
    public var unavailable = false

    public init() {}

    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if unavailable { throw PortError.unavailable("progress tracker (twin) is down") }
        return try body()
    }

    public func recordChunk(jobID: String, seq: Int, counts: UnitCounts) throws {
        try locked {
            var e = jobs[jobID] ?? Entry()
            if e.chunks.insert(seq).inserted { e.counts = e.counts + counts }
            jobs[jobID] = e
        }
    }

    public func setTotal(jobID: String, total: Int) throws {
        try locked {
            var e = jobs[jobID] ?? Entry()
            e.total = total
            e.base = true
            jobs[jobID] = e
        }
    }

    public func counts(jobID: String) throws -> (counts: UnitCounts, total: Int?)? {
        try locked {
            guard let e = jobs[jobID], e.base else { return nil }
            return (e.counts, e.total)
        }
    }

    public func rebuild(jobID: String, counts: UnitCounts, total: Int?, doneChunks: [Int]) throws {
        try locked { jobs[jobID] = Entry(counts: counts, total: total, chunks: Set(doneChunks), base: true) }
    }

    public func recordChunks(jobID: String, chunks: [Int: UnitCounts]) throws {
        try locked {
            var e = jobs[jobID] ?? Entry()
            for (seq, c) in chunks where e.chunks.insert(seq).inserted { e.counts = e.counts + c }
            jobs[jobID] = e
        }
    }

    public func knownURLKeys(folderID: String, keys: [String]) throws -> [Bool] {
        try locked { keys.map { folderKeys[folderID, default: []].contains($0) } }
    }

    public func addURLKeys(folderID: String, keys: [String]) throws {
        try locked { folderKeys[folderID, default: []].formUnion(keys) }
    }

    /// Loses everything, as a Redis restart without persistence does.
    public func flush() {
        lock.lock()
        jobs.removeAll()
        folderKeys.removeAll()
        lock.unlock()
    }
}
