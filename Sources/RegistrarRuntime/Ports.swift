import RegistrarCore

// The ports: what the coordinator and workers need from each server, as small synchronous
// protocols. Implementations own one C handle each and are used from one thread only (the
// service thread that created them): blocking calls never run on Swift's cooperative pool.

/// The system of record (PostgreSQL): folders, jobs, the manifest, the chunk ledger, file
/// records and unit errors. Everything the API shows can be rebuilt from it.
public protocol RegistrationStore: AnyObject {
    func loadJob(_ id: String) throws -> JobRecord?
    /// The stored manifest of a job, streamed block by block.
    func manifestSource(jobID: String) throws -> any ByteSource
    /// For a retry job, the unit indexes it registers (the failed units of the job it retries);
    /// nil for an ordinary job, which registers every unit of its manifest.
    func retryUnits(jobID: String) throws -> Set<Int>?
    /// Pass 1 done: totals known, phase `splitting`.
    func recordScan(jobID: String, units: Int, urls: Int, skipDuplicates: Bool) throws
    /// The manifest cannot be registered: the job ends `ERROR` with the reason, no unit processed.
    func failJob(jobID: String, reason: ManifestIssue) throws
    /// Ledger rows already written for a job: seq → published (confirmed by the broker).
    func ledger(jobID: String) throws -> [Int: Bool]
    /// Writes ledger rows (idempotent: existing rows are left alone).
    func recordChunks(jobID: String, chunks: [LedgerChunk]) throws
    func markPublished(jobID: String, seqs: [Int]) throws
    /// Records chunks that will not be (re)published because the job was cancelled while
    /// splitting: new rows are written as finished-cancelled, pending rows become cancelled, rows a
    /// worker already finished stay as they are.
    func recordCancelledChunks(jobID: String, chunks: [LedgerChunk]) throws
    func finishSplit(jobID: String, totalChunks: Int) throws
    /// Ends the job if every chunk is finished (exactly one caller wins); returns the final status.
    func finishJobIfComplete(jobID: String) throws -> JobStatus?
    func isCancelRequested(jobID: String) throws -> Bool
    /// The worker's one transaction: file records, unit errors and "chunk done". A no-op
    /// returning `.alreadyDone` if the chunk was committed before (redelivery), `.unknownChunk` if
    /// the ledger has no such chunk (its job was deleted).
    func commitChunk(_ result: ChunkResult) throws -> CommitOutcome
    /// Exact counters from the ledger (the truth Redis is rebuilt from), with the done chunks.
    func jobCounts(jobID: String) throws -> (counts: UnitCounts, doneChunks: [Int])
    /// Each finished chunk's counts (seq → counts): what a progress rebuild replays into the tracker.
    func chunkCounts(jobID: String) throws -> [Int: UnitCounts]
    /// Which of `keys` the folder already holds (the store's answer, after Redis said "maybe").
    func existingURLKeys(folderID: String, keys: [String]) throws -> Set<String>
    /// The integration a job's objects are read with; nil when URLs are fetched as given.
    func jobIntegrationID(jobID: String) throws -> String?
}

extension RegistrationStore {
    /// Stores without integrations (test twins) fetch every URL as given.
    public func jobIntegrationID(jobID: String) throws -> String? { nil }
}

/// Live progress (Redis): fast, idempotent per chunk, rebuildable from the store.
public protocol ProgressTracker: AnyObject {
    /// Adds a chunk's counts once: a second call for the same chunk changes nothing.
    func recordChunk(jobID: String, seq: Int, counts: UnitCounts) throws
    func setTotal(jobID: String, total: Int) throws
    /// Live counts, or nil when Redis lost them (flushed, restarted).
    func counts(jobID: String) throws -> (counts: UnitCounts, total: Int?)?
    /// Replaces the job's progress with the store's exact numbers.
    func rebuild(jobID: String, counts: UnitCounts, total: Int?, doneChunks: [Int]) throws
    /// Adds the counts of every listed chunk not counted yet (each one once, like `recordChunk`).
    func recordChunks(jobID: String, chunks: [Int: UnitCounts]) throws
    /// Fast duplicate answers for `skip_duplicate_urls`: which keys the folder already has.
    func knownURLKeys(folderID: String, keys: [String]) throws -> [Bool]
    func addURLKeys(folderID: String, keys: [String]) throws
}

/// Work transport (RabbitMQ): carries work, never truth; every message may arrive twice.
public protocol WorkQueue: AnyObject {
    func publishJob(_ jobID: String) throws
    /// Publishes a chunk; confirms are collected in a window, see `waitForConfirms`.
    func publishChunk(_ body: [UInt8]) throws
    /// Blocks until the broker has confirmed every chunk published so far.
    func waitForConfirms() throws
    func nextDelivery(timeoutSeconds: Double) throws -> WorkDelivery?
    func ack(_ delivery: WorkDelivery) throws
    func nack(_ delivery: WorkDelivery, requeue: Bool) throws
}

/// One message taken from a queue.
public struct WorkDelivery: Sendable {
    public enum Kind: Sendable { case job, chunk, deadChunk }
    public var kind: Kind
    public var body: [UInt8]
    public var tag: UInt64
    public var deliveryCount: Int
    /// Why a dead chunk was dead-lettered (`delivery_limit`, `rejected`), when the broker says.
    public var deathReason: String?
    public init(kind: Kind, body: [UInt8], tag: UInt64, deliveryCount: Int, deathReason: String? = nil) {
        self.kind = kind
        self.body = body
        self.tag = tag
        self.deliveryCount = deliveryCount
        self.deathReason = deathReason
    }
}

/// Verifies units against object storage (ranged reads + probing). Returns one outcome per
/// unit, in order; unit failures are values, never thrown.
public protocol ObjectVerifier: AnyObject {
    func verify(_ units: [RegistrationUnit]) -> [UnitOutcome]
    /// As `verify(_:)`, for units of one job: a verifier that signs requests reads them with the
    /// job's integration.
    func verify(_ units: [RegistrationUnit], context: VerificationContext) -> [UnitOutcome]
    /// As `verify(_:context:)`, asking `shouldStop` now and then (on the calling thread, while
    /// objects are read: a verifier reading over the network asks about every 0.25 s). When it
    /// answers true the verifier abandons the reads in flight and returns nil: the caller records
    /// the units as cancelled.
    func verify(_ units: [RegistrationUnit], context: VerificationContext, shouldStop: @escaping () -> Bool) -> [UnitOutcome]?
}

extension ObjectVerifier {
    /// Verifiers that do not sign ignore the job.
    public func verify(_ units: [RegistrationUnit], context: VerificationContext) -> [UnitOutcome] { verify(units) }
    /// Verifiers that cannot be interrupted ask once, before they start.
    public func verify(_ units: [RegistrationUnit], context: VerificationContext, shouldStop: @escaping () -> Bool) -> [UnitOutcome]? {
        shouldStop() ? nil : verify(units, context: context)
    }
}

/// What a verifier is told about the job whose units it verifies.
public struct VerificationContext: Sendable, Equatable {
    public var jobID: String
    /// The job's integration (nil: URLs fetched as given).
    public var integrationID: String?
    public init(jobID: String, integrationID: String?) {
        self.jobID = jobID
        self.integrationID = integrationID
    }
}
