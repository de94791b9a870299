import RegistrarCore

/// A registration job as its kind sees it: the engine's job plus its folder and manifest facts.
public struct JobRecord: Sendable {
    public var id: String
    public var folderID: String
    public var folderName: String
    public var format: ManifestFormat
    public var ignoreErrors: Bool
    /// Known after pass 1 (JSON's `skip_duplicate_urls`).
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

/// What a worker learned about a registration chunk, committed in one transaction.
public struct ChunkResult: Sendable {
    public enum Item: Sendable {
        case verified(RegistrationUnit, MediaInfo)
        case failed(UnitError)
    }
    public var jobID: String
    public var seq: Int
    public var folderID: String
    public var skipDuplicates: Bool
    public var unitCount: Int
    public var items: [Item]
    /// Set when the chunk was dead-lettered: its units are failed `internal_error`, and the store
    /// keeps the chunk (with its message) for `registrar dlq list|replay|discard`.
    public var deadLetter: DeadLetter?
    public init(jobID: String, seq: Int, folderID: String, skipDuplicates: Bool, unitCount: Int, items: [Item],
                deadLetter: DeadLetter? = nil) {
        self.jobID = jobID; self.seq = seq; self.folderID = folderID; self.skipDuplicates = skipDuplicates
        self.unitCount = unitCount; self.items = items; self.deadLetter = deadLetter
    }

    public var id: ChunkID { ChunkID(jobID: jobID, seq: seq) }
    public var errors: [UnitError] { items.compactMap { if case .failed(let e) = $0 { return e } else { return nil } } }
}

/// What committing a registration chunk did, with the URL keys the folder gained (which the
/// tracker learns after the commit, for fast duplicate answers).
public struct RegistrationCommit: Sendable, Equatable {
    public var outcome: CommitOutcome
    public var newURLKeys: [String]
    public init(outcome: CommitOutcome, newURLKeys: [String] = []) {
        self.outcome = outcome
        self.newURLKeys = newURLKeys
    }
}
