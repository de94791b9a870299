import RegistrarCore

// The engine's ports: what the coordinator and workers need from each server, as small
// synchronous protocols, the same for every kind of job. Implementations own one connection each
// and are used from one thread only (the service thread that made them): blocking calls never
// run on Swift's cooperative pool.
//
// Each port has an in-memory twin (`RegistrarTesting`) and one conformance suite that the twin
// and the real adapter both pass; the doc comments below are the promises those suites check.

/// Jobs and the chunk ledger (PostgreSQL): the system of record for every kind of job.
///
/// A kind's own rows are committed by the kind's store, inside the ledger-guarded transaction
/// the adapter offers for it (`PostgresJobStore.commitChunk(_:deadLetter:_:)`,
/// `MemoryJobStore.commitChunk(_:deadLetter:_:)`): the chunk's ledger row is locked, a chunk
/// already done is a no-op returning its counts, and the rows, the unit errors and "chunk done"
/// commit together or not at all.
public protocol JobStore: AnyObject {
    /// A job of any kind; nil when there is none with that id (malformed ids included).
    func job(_ id: String) throws -> Job?
    /// Creates a job of a kind (`PENDING`, phase `received`, no total) and returns its id.
    func createJob(_ new: NewJob) throws -> String
    /// The planner counted the job's units: total known, phase `splitting`, started now.
    /// `units` nil: started and splitting, the total not known yet (it stays NULL).
    func recordTotal(jobID: String, units: Int?) throws
    /// The job cannot run: it ends `ERROR` with the reason, no unit processed. No-op unless `PENDING`.
    func failJob(jobID: String, reason: JobFailure) throws
    /// Ledger rows already written for a job: seq → published (confirmed by the broker).
    func ledger(jobID: String) throws -> [Int: Bool]
    /// Writes ledger rows (idempotent: existing rows are left alone).
    func recordChunks(jobID: String, chunks: [LedgerChunk]) throws
    func markPublished(jobID: String, seqs: [Int]) throws
    /// Records chunks that will not be (re)published because the job was cancelled while
    /// splitting: new rows are written finished-cancelled, pending rows become cancelled, rows a
    /// worker already finished stay as they are.
    func recordCancelledChunks(jobID: String, chunks: [LedgerChunk]) throws
    /// Every chunk is in the ledger; phase `verifying` (unless the job already finished).
    func finishSplit(jobID: String, totalChunks: Int) throws
    /// Ends the job if its split is done and every chunk is finished (exactly one caller wins);
    /// returns the final status to that caller, nil to everyone else. `CANCELLED` when a cancel
    /// was requested and some unit was cancelled; `ERROR` when a unit failed and the job does not
    /// ignore errors; else `DONE`.
    func finishJobIfComplete(jobID: String) throws -> JobStatus?
    func isCancelRequested(jobID: String) throws -> Bool
    /// Asks a job to stop; returns the status it had (nil for an unknown job).
    func requestCancel(jobID: String) throws -> JobStatus?
    /// Commits a pending chunk as cancelled (every unit counted cancelled, none of its kind's
    /// rows written), with the same guard as every commit.
    func commitCancelled(_ id: ChunkID) throws -> CommitOutcome
    /// Exact counters from the ledger (the truth the tracker is rebuilt from), with the done chunks.
    func jobCounts(jobID: String) throws -> (counts: UnitCounts, doneChunks: [Int])
    /// Each finished chunk's counts (seq → counts): what a progress rebuild replays into the tracker.
    func chunkCounts(jobID: String) throws -> [Int: UnitCounts]
}

/// Live progress (Redis): fast, idempotent per chunk, rebuildable from the store.
public protocol ProgressTracker: AnyObject {
    /// Adds a chunk's counts once: a second call for the same chunk changes nothing.
    func recordChunk(jobID: String, seq: Int, counts: UnitCounts) throws
    func setTotal(jobID: String, total: Int) throws
    /// Live counts, or nil when the tracker lost them (flushed, restarted) or never had them.
    func counts(jobID: String) throws -> (counts: UnitCounts, total: Int?)?
    /// Replaces the job's progress with the store's exact numbers; `doneChunks` become the
    /// chunks already counted.
    func rebuild(jobID: String, counts: UnitCounts, total: Int?, doneChunks: [Int]) throws
    /// Adds the counts of every listed chunk not counted yet (each one once, like `recordChunk`).
    func recordChunks(jobID: String, chunks: [Int: UnitCounts]) throws
    /// Fast duplicate answers for registration's `skip_duplicate_urls`: which keys the folder
    /// may already have (false positives are possible after deletions; the store decides).
    func knownURLKeys(folderID: String, keys: [String]) throws -> [Bool]
    func addURLKeys(folderID: String, keys: [String]) throws
}

/// Work transport (RabbitMQ): carries work, never truth; every message may arrive twice.
///
/// Job ids go to one queue that coordinators consume; each kind's chunks go to that kind's own
/// queue (`KindQueues`), so a long job of one kind never starves another kind, and workers can
/// be scaled per kind. Which queues a consumer reads is chosen when the adapter is made.
public protocol WorkQueue: AnyObject {
    /// Queues a job id for the coordinators, confirmed by the broker before returning.
    func publishJob(_ jobID: String) throws
    /// Publishes a chunk to a kind's work queue; confirms are collected in a window, see `waitForConfirms`.
    func publishChunk(_ body: [UInt8], to queues: KindQueues) throws
    /// Blocks until the broker has confirmed every chunk published so far.
    func waitForConfirms() throws
    /// The next message for this consumer, or nil after `timeoutSeconds` without one.
    func nextDelivery(timeoutSeconds: Double) throws -> WorkDelivery?
    func ack(_ delivery: WorkDelivery) throws
    /// Gives a delivery back: requeued (its delivery count grows; past the kind's delivery limit
    /// it is dead-lettered to the kind's dead queue) or, without requeue, dead-lettered at once.
    func nack(_ delivery: WorkDelivery, requeue: Bool) throws
}

/// The queues of one kind of job: where its chunks wait, and where the broker puts a chunk that
/// failed too many deliveries.
public struct KindQueues: Sendable, Hashable {
    /// The kind these queues belong to.
    public var kind: String
    /// Chunks waiting for a worker (a quorum queue with a delivery limit).
    public var work: String
    /// The exchange dead letters are sent to (fanout, bound to `dead`).
    public var deadExchange: String
    /// Dead chunks, which workers record as failed units so the job still finishes.
    public var dead: String

    public init(kind: String, work: String, deadExchange: String, dead: String) {
        self.kind = kind; self.work = work; self.deadExchange = deadExchange; self.dead = dead
    }

    /// Registration's queues, named before there were other kinds.
    public static let registration = KindQueues(kind: "registration", work: "registrar.chunks",
                                                deadExchange: "registrar.dead", dead: "registrar.chunks.dead")

    /// Every other kind's: `registrar.KIND.chunks`, `registrar.KIND.dead`, `registrar.KIND.chunks.dead`.
    public static func named(_ kind: String) -> KindQueues {
        if kind == registration.kind { return registration }
        return KindQueues(kind: kind, work: "registrar.\(kind).chunks", deadExchange: "registrar.\(kind).dead",
                          dead: "registrar.\(kind).chunks.dead")
    }
}

/// One message taken from a queue.
public struct WorkDelivery: Sendable {
    public enum Kind: Sendable { case job, chunk, deadChunk }
    public var kind: Kind
    /// For chunks and dead chunks: the job kind whose queue it came from.
    public var jobKind: String?
    public var body: [UInt8]
    public var tag: UInt64
    public var deliveryCount: Int
    /// Why a dead chunk was dead-lettered (`delivery_limit`, `rejected`), when the broker says.
    public var deathReason: String?
    public init(kind: Kind, jobKind: String? = nil, body: [UInt8], tag: UInt64, deliveryCount: Int, deathReason: String? = nil) {
        self.kind = kind
        self.jobKind = jobKind
        self.body = body
        self.tag = tag
        self.deliveryCount = deliveryCount
        self.deathReason = deathReason
    }

    /// The dead letter a dead chunk carries. Quorum queues dead-letter with the delivery count
    /// they reached; a chunk a worker refused outright (undecodable) arrives with none.
    public var deadLetter: DeadLetter {
        DeadLetter(deliveries: deliveryCount, reason: deathReason ?? (deliveryCount > 0 ? "delivery_limit" : "rejected"), body: body)
    }
}

/// An error a port may throw whatever server is behind it, so callers can tell "try again
/// later" from a bug without naming adapter types. Adapters throw their own errors; a port error
/// is what they are mapped to where callers need to decide (the API's 503, a reconnect).
public struct PortError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Base: Sendable, Equatable { case unavailable, conflict }
    private let base: Base
    /// Which server or object it is about; never secrets.
    public let detail: String

    /// The server cannot be reached or broke the connection: reconnect and retry.
    public static func unavailable(_ detail: String) -> PortError { PortError(base: .unavailable, detail: detail) }
    /// The request conflicts with what is stored (a name taken, a version moved on).
    public static func conflict(_ detail: String) -> PortError { PortError(base: .conflict, detail: detail) }

    public var isUnavailable: Bool { base == .unavailable }
    public var isConflict: Bool { base == .conflict }
    public var description: String { "\(base): \(detail)" }
}
