import RegistrarCore

// The engine's records: what every kind of job has in common. A job is planned into chunks,
// each chunk is committed once, and the job's counts are sums over its chunks.

/// Final and running job statuses, Encord's `LongPollingStatus`.
public enum JobStatus: String, Sendable, Codable {
    case pending = "PENDING"
    case done = "DONE"
    case error = "ERROR"
    case cancelled = "CANCELLED"
}

/// Where a job is: `received → splitting → verifying → finished`.
public enum JobPhase: String, Sendable, Codable {
    case received, splitting, verifying, finished
}

/// Units by outcome. At the end: done + errors + skipped + cancelled == total.
public struct UnitCounts: Sendable, Equatable {
    public var done = 0
    public var errors = 0
    public var skipped = 0
    public var cancelled = 0
    public init(done: Int = 0, errors: Int = 0, skipped: Int = 0, cancelled: Int = 0) {
        self.done = done
        self.errors = errors
        self.skipped = skipped
        self.cancelled = cancelled
    }
    public var finished: Int { done + errors + skipped + cancelled }
    public static func + (a: UnitCounts, b: UnitCounts) -> UnitCounts {
        UnitCounts(done: a.done + b.done, errors: a.errors + b.errors, skipped: a.skipped + b.skipped, cancelled: a.cancelled + b.cancelled)
    }
}

/// A job of any kind, as the engine sees it. What only one kind needs (a registration's folder
/// and manifest, an export's format) is that kind's business: in `params`, or in its own rows.
public struct Job: Sendable {
    public var id: String
    /// The kind's name (`registration`, …): which planner splits it and which queue its chunks go to.
    public var kind: String
    public var tenantID: String
    public var status: JobStatus
    public var phase: JobPhase
    public var cancelRequested: Bool
    /// With failed units, a job ends `ERROR` unless this is set (then `DONE`).
    public var ignoreErrors: Bool
    /// Units to process; nil until the kind's planner has counted them.
    public var totalUnits: Int?
    /// Every chunk is in the ledger (the job ends when the last of them is finished).
    public var splitDone: Bool
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Why the job was refused (`code: message`), for a job that ended before any chunk.
    public var error: String?
    /// The kind's parameters, as given when the job was created (`.null` when it has none).
    public var params: JSONValue

    public init(id: String, kind: String, tenantID: String, status: JobStatus, phase: JobPhase, cancelRequested: Bool,
                ignoreErrors: Bool, totalUnits: Int?, splitDone: Bool, createdAt: String, startedAt: String?,
                finishedAt: String?, error: String?, params: JSONValue = .null) {
        self.id = id; self.kind = kind; self.tenantID = tenantID; self.status = status; self.phase = phase
        self.cancelRequested = cancelRequested; self.ignoreErrors = ignoreErrors; self.totalUnits = totalUnits
        self.splitDone = splitDone; self.createdAt = createdAt; self.startedAt = startedAt; self.finishedAt = finishedAt
        self.error = error; self.params = params
    }
}

/// A job to create (registration creates its jobs with their manifest, through its own store).
public struct NewJob: Sendable {
    public var kind: String
    public var tenantID: String
    public var ignoreErrors: Bool
    public var params: JSONValue
    public init(kind: String, tenantID: String, ignoreErrors: Bool = false, params: JSONValue = .null) {
        self.kind = kind
        self.tenantID = tenantID
        self.ignoreErrors = ignoreErrors
        self.params = params
    }
}

/// A chunk's identity: deterministic from the job's plan, so republishing after a crash and
/// redelivery by the broker both land on the same ledger row.
public struct ChunkID: Sendable, Hashable, CustomStringConvertible {
    public var jobID: String
    public var seq: Int
    public init(jobID: String, seq: Int) {
        self.jobID = jobID
        self.seq = seq
    }
    public var description: String { "\(jobID)#\(seq)" }
}

/// A chunk as recorded in the ledger.
public struct LedgerChunk: Sendable, Equatable {
    public var seq: Int
    public var firstUnit: Int
    public var unitCount: Int
    /// The highest unit index in the chunk. Chunks of a job cover disjoint ranges of unit
    /// indexes, but a chunk's units need not be consecutive (a retry job's are not).
    public var lastUnit: Int
    /// Registration's URLs in the chunk (0 for kinds that have none); for operators.
    public var urlCount: Int
    public init(seq: Int, firstUnit: Int, unitCount: Int, lastUnit: Int? = nil, urlCount: Int = 0) {
        self.seq = seq; self.firstUnit = firstUnit; self.unitCount = unitCount; self.urlCount = urlCount
        self.lastUnit = lastUnit ?? firstUnit + unitCount - 1
    }
}

/// One unit that failed: recorded by the engine with its chunk (`unit_errors`), shown to
/// operators with an action text derived from the code.
public struct UnitError: Sendable, Equatable {
    public var index: Int
    /// The unit's object URLs (may be empty for kinds without objects); shown without query strings.
    public var urls: [String]
    public var code: UnitErrorCode
    public var message: String
    /// What was being done when it failed (Encord's `action_description`); by default the code's.
    public var action: String
    public init(index: Int, urls: [String], code: UnitErrorCode, message: String, action: String? = nil) {
        self.index = index; self.urls = urls; self.code = code; self.message = message
        self.action = action ?? code.action
    }
}

/// What a kind's commit wrote, for the ledger. Errors are written by the engine's commit helper,
/// which counts them; `done` and `skipped` are the kind's own rows.
public struct ChunkWrite: Sendable, Equatable {
    public var done: Int
    public var skipped: Int
    public var errors: [UnitError]
    public init(done: Int = 0, skipped: Int = 0, errors: [UnitError] = []) {
        self.done = done
        self.skipped = skipped
        self.errors = errors
    }
    public var counts: UnitCounts { UnitCounts(done: done, errors: errors.count, skipped: skipped) }
}

/// Why and how a chunk reached the dead-letter queue, recorded with its failed units.
public struct DeadLetter: Sendable, Equatable {
    /// Deliveries the broker counted before dead-lettering it (`x-delivery-count`).
    public var deliveries: Int
    /// `delivery_limit` (it failed every delivery) or `rejected` (a worker refused it outright).
    public var reason: String
    /// The chunk message as published, so `registrar dlq replay` can put it back to work.
    public var body: [UInt8]
    public init(deliveries: Int, reason: String, body: [UInt8]) {
        self.deliveries = deliveries; self.reason = reason; self.body = body
    }

    /// The message every unit of a dead chunk fails with.
    public var unitMessage: String { "the chunk holding this unit failed \(deliveries) deliveries and was dead-lettered" }
}

/// What committing a chunk did.
public enum CommitOutcome: Sendable, Equatable {
    /// First commit of the chunk, with its counts.
    case committed(UnitCounts)
    /// The chunk was committed before (a redelivery); its counts as recorded then.
    case alreadyDone(UnitCounts)
    /// The ledger has no such chunk: its job was deleted (a stale redelivery). Nothing recorded.
    case unknownChunk
}

/// Why a job was refused before any chunk (stored as the job's `error`).
public struct JobFailure: Sendable, Equatable, Error {
    public var code: String
    /// What the failure is about (`manifest`, an item, a parameter).
    public var item: String
    public var message: String
    public var line: Int?
    public init(code: String, item: String, message: String, line: Int? = nil) {
        self.code = code; self.item = item; self.message = message; self.line = line
    }
    public init(_ issue: ManifestIssue) {
        self.init(code: issue.code.rawValue, item: issue.item, message: issue.message, line: issue.line)
    }

    /// `{"code","item","message","line"}` as stored; `message` is prefixed with the item unless
    /// it is the whole input.
    public var json: JSONValue {
        .object([("code", .string(code)), ("item", .string(item)),
                 ("message", .string(item == "manifest" ? message : "\(item): \(message)")),
                 ("line", line.map { .number(String($0)) } ?? .null)])
    }
}

/// A job's state as operators see it (`registrar status --json`, the API).
public struct JobState: Sendable {
    public var id: String
    public var status: JobStatus
    public var phase: JobPhase
    public var total: Int?
    public var counts: UnitCounts
    public var startedAt: String?
    public var finishedAt: String?
    public var error: String?

    public init(id: String, status: JobStatus, phase: JobPhase, total: Int?, counts: UnitCounts,
                startedAt: String?, finishedAt: String?, error: String?) {
        self.id = id; self.status = status; self.phase = phase; self.total = total; self.counts = counts
        self.startedAt = startedAt; self.finishedAt = finishedAt; self.error = error
    }

    public init(_ job: Job, counts: UnitCounts) {
        self.init(id: job.id, status: job.status, phase: job.phase, total: job.totalUnits, counts: counts,
                  startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error)
    }

    public var pending: Int { max(0, (total ?? counts.finished) - counts.finished) }

    /// `{"id","status","phase","total","done","errors","skipped","cancelled","pending","startedAt","finishedAt"}`.
    public var json: String {
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func num(_ n: Int?) -> JSONValue { n.map { .number(String($0)) } ?? .null }
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)), ("status", .string(status.rawValue)), ("phase", .string(phase.rawValue)),
            ("total", num(total)), ("totalKnown", .bool(total != nil)),
            ("done", num(counts.done)), ("errors", num(counts.errors)),
            ("skipped", num(counts.skipped)), ("cancelled", num(counts.cancelled)), ("pending", num(pending)),
            ("startedAt", str(startedAt)), ("finishedAt", str(finishedAt)),
        ]
        if let error { members.append(("error", .string(error))) }
        return JSONValue.object(members).compactText
    }
}
