import RegistrarCore

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

/// A job as stored.
public struct JobRecord: Sendable {
    public var id: String
    public var folderID: String
    public var folderName: String
    public var format: ManifestFormat
    public var ignoreErrors: Bool
    public var skipDuplicates: Bool?
    public var status: JobStatus
    public var phase: JobPhase
    public var cancelRequested: Bool
    public var totalUnits: Int?
    public var splitDone: Bool
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var error: String?
    /// Set for a retry job: the job whose failed units it registers again.
    public var retryOf: String?

    public init(id: String, folderID: String, folderName: String, format: ManifestFormat, ignoreErrors: Bool,
                skipDuplicates: Bool?, status: JobStatus, phase: JobPhase, cancelRequested: Bool, totalUnits: Int?,
                splitDone: Bool, createdAt: String, startedAt: String?, finishedAt: String?, error: String?,
                retryOf: String? = nil) {
        self.retryOf = retryOf
        self.id = id; self.folderID = folderID; self.folderName = folderName; self.format = format
        self.ignoreErrors = ignoreErrors; self.skipDuplicates = skipDuplicates; self.status = status; self.phase = phase
        self.cancelRequested = cancelRequested; self.totalUnits = totalUnits; self.splitDone = splitDone
        self.createdAt = createdAt; self.startedAt = startedAt; self.finishedAt = finishedAt; self.error = error
    }
}

/// A chunk as recorded in the ledger.
public struct LedgerChunk: Sendable, Equatable {
    public var seq: Int
    public var firstUnit: Int
    public var unitCount: Int
    public var urlCount: Int
    public init(seq: Int, firstUnit: Int, unitCount: Int, urlCount: Int) {
        self.seq = seq; self.firstUnit = firstUnit; self.unitCount = unitCount; self.urlCount = urlCount
    }
}

/// What a worker learned about a chunk, committed in one transaction.
public struct ChunkResult: Sendable {
    public enum Item: Sendable {
        case verified(RegistrationUnit, MediaInfo)
        case failed(index: Int, urls: [String], code: String, message: String)
    }
    public var jobID: String
    public var seq: Int
    public var folderID: String
    public var skipDuplicates: Bool
    /// Set when the job was cancelled: nothing is recorded, every unit counts as cancelled.
    public var cancelled: Bool
    public var unitCount: Int
    public var items: [Item]
    /// Set when the chunk was dead-lettered: its units are failed `internal_error`, and the store
    /// keeps the chunk (with its message) for `registrar dlq list|replay|discard`.
    public var deadLetter: DeadLetter?
    public init(jobID: String, seq: Int, folderID: String, skipDuplicates: Bool, cancelled: Bool, unitCount: Int, items: [Item],
                deadLetter: DeadLetter? = nil) {
        self.jobID = jobID; self.seq = seq; self.folderID = folderID; self.skipDuplicates = skipDuplicates
        self.cancelled = cancelled; self.unitCount = unitCount; self.items = items; self.deadLetter = deadLetter
    }
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
}

public enum CommitOutcome: Sendable, Equatable {
    case committed(UnitCounts, newURLKeys: [String])
    /// The chunk was committed before (a redelivery); its counts as recorded then.
    case alreadyDone(UnitCounts)
    /// The ledger has no such chunk: its job was deleted (a stale redelivery). Nothing recorded.
    case unknownChunk
}

/// A job's state as operators see it (`registrar status --json`, and later the API).
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
