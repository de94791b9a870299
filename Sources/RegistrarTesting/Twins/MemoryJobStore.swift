import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `JobStore` (PostgreSQL's `PostgresJobStore`): jobs, the chunk ledger,
/// unit errors and dead chunks, behind one lock, with the same states and promises
/// (`JobStoreConformance` runs against both).
///
/// A kind's twin store commits through `commitChunk(_:deadLetter:_:)`, the twin of the
/// adapter's ledger-guarded transaction: under the lock, a chunk done already returns its
/// counts without calling the body; otherwise the body runs and its write is applied with the
/// ledger update. A body must not change anything before it has computed everything it could
/// fail on (there is no rollback here).
public final class MemoryJobStore: JobStore, @unchecked Sendable {
    /// A ledger row.
    public struct LedgerRow: Sendable, Equatable {
        public var chunk: LedgerChunk
        public var published = false
        public var done = false
        public var counts = UnitCounts()
        public var finishedAt: Date?
    }

    private struct StoredJob {
        var job: Job
        var totalChunks: Int?
    }

    private let lock = NSRecursiveLock()
    private var jobs: [String: StoredJob] = [:]
    private var ledgers: [String: [Int: LedgerRow]] = [:]
    private var errors: [String: [Int: UnitError]] = [:]
    /// When each unit error was written (job → unit → ISO time), as `unit_errors.created_at`.
    private var errorTimes: [String: [Int: String]] = [:]
    private var dead: [ChunkID: DeadLetter] = [:]
    private var sequence = 0

    public init() {}

    /// Runs `body` under the store's lock (kinds' twins use it to keep their rows consistent).
    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    // MARK: Jobs

    public func job(_ id: String) throws -> Job? { locked { jobs[id]?.job } }

    public func createJob(_ new: NewJob) throws -> String {
        locked {
            sequence += 1
            let id = UUID().uuidString.lowercased()
            jobs[id] = StoredJob(job: Job(id: id, kind: new.kind, tenantID: new.tenantID, status: .pending, phase: .received,
                                          cancelRequested: false, ignoreErrors: new.ignoreErrors, totalUnits: nil, splitDone: false,
                                          createdAt: Self.now(), startedAt: nil, finishedAt: nil, error: nil, params: new.params))
            return id
        }
    }

    /// Changes a stored job in place (kinds' twins record what their own columns would).
    public func update(_ id: String, _ change: (inout Job) -> Void) {
        locked { if var stored = jobs[id] { change(&stored.job); jobs[id] = stored } }
    }

    public func recordTotal(jobID: String, units: Int?) throws {
        update(jobID) { job in
            job.totalUnits = units
            if job.phase == .received { job.phase = .splitting }
            job.startedAt = job.startedAt ?? Self.now()
        }
    }

    public func failJob(jobID: String, reason: JobFailure) throws {
        locked {
            guard var stored = jobs[jobID], stored.job.status == .pending else { return }
            stored.job.status = .error
            stored.job.phase = .finished
            stored.job.error = "\(reason.code): \(reason.item == "manifest" ? reason.message : "\(reason.item): \(reason.message)")"
            stored.job.totalUnits = 0
            stored.job.startedAt = stored.job.startedAt ?? Self.now()
            stored.job.finishedAt = Self.now()
            stored.job.splitDone = true
            stored.totalChunks = 0
            jobs[jobID] = stored
        }
    }

    public func isCancelRequested(jobID: String) throws -> Bool { locked { jobs[jobID]?.job.cancelRequested ?? false } }

    public func requestCancel(jobID: String) throws -> JobStatus? {
        locked {
            guard var stored = jobs[jobID] else { return nil }
            stored.job.cancelRequested = true
            jobs[jobID] = stored
            return stored.job.status
        }
    }

    public func finishSplit(jobID: String, totalChunks: Int) throws {
        locked {
            guard var stored = jobs[jobID] else { return }
            stored.job.splitDone = true
            stored.totalChunks = totalChunks
            if stored.job.phase != .finished { stored.job.phase = .verifying }
            jobs[jobID] = stored
        }
    }

    public func finishJobIfComplete(jobID: String) throws -> JobStatus? {
        locked {
            guard var stored = jobs[jobID], stored.job.status == .pending, stored.job.splitDone else { return nil }
            let rows = ledgers[jobID, default: [:]].values
            guard rows.allSatisfy(\.done) else { return nil }
            let status: JobStatus
            if stored.job.cancelRequested && rows.contains(where: { $0.counts.cancelled > 0 }) {
                status = .cancelled
            } else if !stored.job.ignoreErrors && rows.contains(where: { $0.counts.errors > 0 }) {
                status = .error
            } else {
                status = .done
            }
            stored.job.status = status
            stored.job.phase = .finished
            stored.job.finishedAt = Self.now()
            jobs[jobID] = stored
            return status
        }
    }

    // MARK: Ledger

    public func ledger(jobID: String) throws -> [Int: Bool] {
        locked { ledgers[jobID, default: [:]].mapValues(\.published) }
    }

    /// The ledger rows of a job (tests look at them directly).
    public func ledgerRows(jobID: String) -> [Int: LedgerRow] { locked { ledgers[jobID, default: [:]] } }

    public func recordChunks(jobID: String, chunks: [LedgerChunk]) throws {
        locked {
            for c in chunks where ledgers[jobID, default: [:]][c.seq] == nil { ledgers[jobID, default: [:]][c.seq] = LedgerRow(chunk: c) }
        }
    }

    public func markPublished(jobID: String, seqs: [Int]) throws {
        locked { for seq in seqs { ledgers[jobID]?[seq]?.published = true } }
    }

    public func recordCancelledChunks(jobID: String, chunks: [LedgerChunk]) throws {
        locked {
            for c in chunks {
                var row = ledgers[jobID, default: [:]][c.seq] ?? LedgerRow(chunk: c)
                guard !row.done else { continue }
                row.done = true
                row.finishedAt = Date()
                row.counts = UnitCounts(cancelled: row.chunk.unitCount)
                ledgers[jobID, default: [:]][c.seq] = row
            }
        }
    }

    public func jobCounts(jobID: String) throws -> (counts: UnitCounts, doneChunks: [Int]) {
        locked {
            let rows = ledgers[jobID, default: [:]]
            return (rows.values.reduce(UnitCounts()) { $0 + $1.counts }, rows.filter(\.value.done).keys.sorted())
        }
    }

    public func chunkCounts(jobID: String) throws -> [Int: UnitCounts] {
        locked { ledgers[jobID, default: [:]].filter(\.value.done).mapValues(\.counts) }
    }

    // MARK: The guarded commit

    public func commitCancelled(_ id: ChunkID) throws -> CommitOutcome {
        try commit(id) { row in ChunkWrite() } finish: { row in
            row.counts = UnitCounts(cancelled: row.chunk.unitCount)
        }
    }

    /// A kind's commit (see the type's comment).
    public func commitChunk(_ id: ChunkID, deadLetter: DeadLetter? = nil, _ body: () throws -> ChunkWrite) throws -> CommitOutcome {
        try commit(id) { _ in try body() } finish: { [self] row in
            if let deadLetter { dead[id] = deadLetter }
            _ = row
        }
    }

    private func commit(_ id: ChunkID, body: (LedgerRow) throws -> ChunkWrite, finish: (inout LedgerRow) -> Void) throws -> CommitOutcome {
        try locked {
            guard var row = ledgers[id.jobID]?[id.seq] else { return .unknownChunk }
            if row.done { return .alreadyDone(row.counts) }
            let write = try body(row)
            for e in write.errors where errors[id.jobID, default: [:]][e.index] == nil {
                var shown = e
                shown.urls = e.urls.map { url in url.firstIndex(where: { $0 == "?" || $0 == "#" }).map { String(url[..<$0]) } ?? url }
                errors[id.jobID, default: [:]][e.index] = shown
                errorTimes[id.jobID, default: [:]][e.index] = Self.now()
            }
            row.done = true
            row.finishedAt = Date()
            row.counts = write.counts
            finish(&row)
            ledgers[id.jobID]![id.seq] = row
            return .committed(row.counts)
        }
    }

    // MARK: What tests read

    /// A job's unit errors, in unit order (URLs without their query strings, as stored).
    public func unitErrors(jobID: String) -> [UnitError] {
        locked { errors[jobID, default: [:]].sorted { $0.key < $1.key }.map(\.value) }
    }

    /// When a unit error was written (ISO time, milliseconds).
    public func unitErrorTime(jobID: String, unit: Int) -> String? {
        locked { errorTimes[jobID]?[unit] }
    }

    /// Ids of every job, of every kind.
    public func jobIDs() -> [String] { locked { Array(jobs.keys) } }

    /// Each finished chunk's counts, with when it finished.
    public func finishedChunks(jobID: String) -> [(counts: UnitCounts, finishedAt: Date)] {
        locked { ledgers[jobID, default: [:]].values.compactMap { $0.done ? ($0.counts, $0.finishedAt ?? Date()) : nil } }
    }

    /// Dead letters recorded with their chunks.
    public func deadLetters(jobID: String) -> [Int: DeadLetter] {
        locked { Dictionary(uniqueKeysWithValues: dead.filter { $0.key.jobID == jobID }.map { ($0.key.seq, $0.value) }) }
    }

    /// Forgets a job and everything of it (what deleting a folder does to its jobs).
    public func deleteJob(_ id: String) {
        locked {
            jobs[id] = nil
            ledgers[id] = nil
            errors[id] = nil
            errorTimes[id] = nil
            dead = dead.filter { $0.key.jobID != id }
        }
    }
}
