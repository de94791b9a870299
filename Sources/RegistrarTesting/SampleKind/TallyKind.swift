import Foundation
import RegistrarCore
import RegistrarRuntime

// The engine's second kind, for tests only: proof that a kind needs nothing from the engine but
// its planner, its handler and its store (docs/architecture.md, "Adding a job kind"). A tally
// job squares the numbers `from...to`, `chunk` numbers per chunk; a number divisible by
// `failMultiplesOf` fails as a unit error. Its rows are (job, n, n²). Nothing here is
// registration's, and no engine file names it.

/// A tally job's parameters (`Job.params`).
public struct TallyParams: Sendable, Equatable {
    public var from: Int
    public var to: Int
    public var chunk: Int
    public var failMultiplesOf: Int?

    public init(from: Int, to: Int, chunk: Int, failMultiplesOf: Int? = nil) {
        self.from = from; self.to = to; self.chunk = chunk; self.failMultiplesOf = failMultiplesOf
    }

    public var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [("from", .number(String(from))), ("to", .number(String(to))), ("chunk", .number(String(chunk)))]
        if let f = failMultiplesOf { m.append(("failMultiplesOf", .number(String(f)))) }
        return .object(m)
    }

    /// Reads and checks parameters; the failure names the field.
    public static func parse(_ v: JSONValue) -> Result<TallyParams, JobFailure> {
        func int(_ k: String) -> Int? { if case .number(let n)? = v[k] { return Int(n) } else { return nil } }
        func bad(_ field: String, _ why: String) -> Result<TallyParams, JobFailure> {
            .failure(JobFailure(code: "invalid_params", item: "params.\(field)", message: why))
        }
        guard let from = int("from") else { return bad("from", "must be an integer") }
        guard let to = int("to"), to >= from else { return bad("to", "must be an integer ≥ from") }
        guard to - from < 10_000_000 else { return bad("to", "at most 10,000,000 numbers per job") }
        guard let chunk = int("chunk"), chunk >= 1 else { return bad("chunk", "must be an integer ≥ 1") }
        let fail = int("failMultiplesOf")
        if let fail, fail < 1 { return bad("failMultiplesOf", "must be ≥ 1") }
        return .success(TallyParams(from: from, to: to, chunk: chunk, failMultiplesOf: fail))
    }
}

/// A tally chunk: the numbers `from...to` of a job.
public struct TallyChunk: Sendable, Equatable {
    public var id: ChunkID
    public var from: Int
    public var to: Int
    /// The job's first number: unit index = n - base.
    public var base: Int
    public var failMultiplesOf: Int?

    public var bytes: [UInt8] {
        var m: [(key: String, value: JSONValue)] = [("job", .string(id.jobID)), ("seq", .number(String(id.seq))),
                                                    ("from", .number(String(from))), ("to", .number(String(to))),
                                                    ("base", .number(String(base)))]
        if let f = failMultiplesOf { m.append(("failMultiplesOf", .number(String(f)))) }
        return Array(JSONValue.object(m).compactText.utf8)
    }

    public static func decode(_ bytes: [UInt8]) throws -> TallyChunk {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"] else { throw TallyError("not a tally chunk") }
        func int(_ k: String) -> Int? { if case .number(let n)? = v[k] { return Int(n) } else { return nil } }
        guard let seq = int("seq"), let from = int("from"), let to = int("to"), let base = int("base") else { throw TallyError("not a tally chunk") }
        return TallyChunk(id: ChunkID(jobID: job, seq: seq), from: from, to: to, base: base, failMultiplesOf: int("failMultiplesOf"))
    }
}

public struct TallyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A tally chunk's result: squares, and the numbers that failed.
public struct TallyResult: Sendable, Equatable {
    public var squares: [(n: Int, square: Int)]
    public var errors: [UnitError]
    public static func == (a: TallyResult, b: TallyResult) -> Bool {
        a.squares.map(\.n) == b.squares.map(\.n) && a.squares.map(\.square) == b.squares.map(\.square) && a.errors == b.errors
    }
}

/// The tally kind's store: its rows, committed in the engine's guarded transaction.
public protocol TallyStore: AnyObject {
    func commit(_ result: TallyResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome
}

public enum Tally {
    public static let kind = "tally"
    public static let queues = KindQueues.named(kind)
}

public final class TallyPlanner: JobPlanner {
    public let queues = Tally.queues
    public init() {}

    public func prepare(_ job: Job) throws -> Preparation {
        switch TallyParams.parse(job.params) {
        case .failure(let f): return .refused(f)
        case .success(let p): return .accepted(units: p.to - p.from + 1)
        }
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        guard case .success(let p) = TallyParams.parse(job.params) else {
            throw JobFailure(code: "invalid_params", item: "params", message: "unreadable since it was accepted")
        }
        var seq = 0
        var start = p.from
        while start <= p.to {
            let end = min(p.to, start + p.chunk - 1)
            let chunk = TallyChunk(id: ChunkID(jobID: job.id, seq: seq), from: start, to: end, base: p.from, failMultiplesOf: p.failMultiplesOf)
            try emit(PlannedChunk(ledger: LedgerChunk(seq: seq, firstUnit: start - p.from, unitCount: end - start + 1),
                                  encode: { chunk.bytes }))
            seq += 1
            start = end + 1
        }
    }
}

public final class TallyHandler: ChunkHandler {
    public let queues = Tally.queues
    let store: TallyStore
    /// Called for every number before it is squared (tests hold a chunk mid-work here).
    public var onNumber: (@Sendable (Int) -> Void)?

    public init(store: TallyStore) {
        self.store = store
    }

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: TallyChunk) {
        let chunk = try TallyChunk.decode(body)
        return (chunk.id, chunk)
    }

    public func unitCount(_ chunk: TallyChunk) -> Int { chunk.to - chunk.from + 1 }

    public func perform(_ chunk: TallyChunk, id: ChunkID, cancellation: CancellationProbe) throws -> TallyResult? {
        var result = TallyResult(squares: [], errors: [])
        for n in chunk.from...chunk.to {
            if cancellation.isCancelled { return nil }
            onNumber?(n)
            if let f = chunk.failMultiplesOf, n % f == 0 {
                result.errors.append(UnitError(index: n - chunk.base, urls: [], code: "not_tallied",
                                               message: "\(n) is a multiple of \(f)", action: "Tallying"))
            } else {
                result.squares.append((n, n * n))
            }
        }
        return result
    }

    public func deadResult(_ chunk: TallyChunk, id: ChunkID, letter: DeadLetter) -> TallyResult {
        TallyResult(squares: [], errors: (chunk.from...chunk.to).map {
            UnitError(index: $0 - chunk.base, urls: [], code: .internalError, message: letter.unitMessage)
        })
    }

    public func commit(_ result: TallyResult, id: ChunkID, work: TallyChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commit(result, id: id, deadLetter: deadLetter)
    }

    public func errorCodes(_ result: TallyResult) -> [UnitErrorCode: Int] {
        Dictionary(result.errors.map { ($0.code, 1) }, uniquingKeysWith: +)
    }
}

/// The tally store's twin: rows in a dictionary, committed through `MemoryJobStore`.
public final class MemoryTallyStore: TallyStore, @unchecked Sendable {
    public let jobs: MemoryJobStore
    private let lock = NSLock()
    private var rows: [String: [Int: Int]] = [:]
    /// Rows written per (job, n): more than one would be a duplicate (the engine must prevent it).
    private var writes: [String: [Int: Int]] = [:]

    public init(jobs: MemoryJobStore) {
        self.jobs = jobs
    }

    public func commit(_ result: TallyResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(id, deadLetter: deadLetter) {
            lock.lock()
            defer { lock.unlock() }
            var inserted = 0
            for (n, square) in result.squares {
                writes[id.jobID, default: [:]][n, default: 0] += 1
                if rows[id.jobID, default: [:]][n] == nil {
                    rows[id.jobID, default: [:]][n] = square
                    inserted += 1
                }
            }
            return ChunkWrite(done: inserted, skipped: result.squares.count - inserted, errors: result.errors)
        }
    }

    /// n → n² for a job.
    public func squares(jobID: String) -> [Int: Int] {
        lock.lock(); defer { lock.unlock() }
        return rows[jobID, default: [:]]
    }

    /// The most times any row of the job was written (1 when every commit happened once).
    public func maxWrites(jobID: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return writes[jobID, default: [:]].values.max() ?? 0
    }
}
