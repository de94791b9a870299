import RegistrarCore

// A job kind supplies only what differs between kinds of bulk work; the engine does the rest
// (ledger before publish, windowed confirms, resume, the guarded commit, progress, ack last,
// cancel, dead letters, rebuild, metrics). See docs/architecture.md, "Adding a job kind".

/// The coordinator's half of a kind: how one job becomes chunks.
///
/// `plan` must be deterministic: planning the same job again (after a coordinator crash) yields
/// the same chunks with the same sequence numbers, so republished chunks land on the same ledger
/// rows. A planner that pages rows by keyset cursor plans over a snapshot fixed when the job was
/// created (e.g. "ids up to N", kept in the job's params), never over rows added since.
public protocol JobPlanner: AnyObject {
    /// Where this kind's chunks go.
    var queues: KindQueues { get }
    /// Checks and counts a job that has no total yet. Called once per job (again only if the
    /// coordinator crashed before recording the total). A refusal ends the job `ERROR`.
    func prepare(_ job: Job) throws -> Preparation
    /// Streams the job's chunks in sequence order, from seq 0. `emit` may throw (the broker or
    /// the store failed); the planner lets it propagate. Throw `JobFailure` if the job's input
    /// turns out to be unplannable midway (the job then ends `ERROR`).
    func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws
}

/// What `JobPlanner.prepare` decided.
public enum Preparation: Sendable, Equatable {
    /// The job will process this many units.
    case accepted(units: Int)
    /// The job will process units its plan counts as it goes (a bucket listing): no total yet.
    /// Progress says the total is not known (`totalKnown` false) until the planner records it
    /// when its plan ends.
    case acceptedUncounted
    case refused(JobFailure)
}

/// One chunk of a plan: its ledger row, and its message, encoded only when it must be
/// (re)published (a chunk the broker already confirmed before a restart is not encoded again).
public struct PlannedChunk {
    public var ledger: LedgerChunk
    public var encode: () -> [UInt8]
    public init(ledger: LedgerChunk, encode: @escaping () -> [UInt8]) {
        self.ledger = ledger
        self.encode = encode
    }
}

/// The worker's half of a kind: what one chunk does, and the rows its transaction writes.
public protocol ChunkHandler: AnyObject {
    /// A decoded chunk message.
    associatedtype Work
    /// What `perform` produced, ready to commit.
    associatedtype Result
    /// The queues this handler consumes.
    var queues: KindQueues { get }
    /// Reads a chunk message. Throws for a message that cannot be read (a bug: it is dead-lettered).
    func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: Work)
    /// Units in the chunk (for the cancelled commit and metrics).
    func unitCount(_ work: Work) -> Int
    /// Does the chunk's work, without writing to the store. Unit failures are values in the
    /// result; throws only for infrastructure faults (then the chunk is given back and retried).
    /// Long work polls `cancellation` and returns nil once it answers true (the chunk is then
    /// committed as cancelled).
    func perform(_ work: Work, id: ChunkID, cancellation: CancellationProbe) throws -> Result?
    /// The result for a chunk that was dead-lettered: every unit failed (`internal_error`).
    func deadResult(_ work: Work, id: ChunkID, letter: DeadLetter) -> Result
    /// Commits the result in one transaction guarded by the chunk id (see `JobStore`), then
    /// does whatever must follow a first commit (best effort: e.g. teach the tracker new keys).
    func commit(_ result: Result, id: ChunkID, work: Work, deadLetter: DeadLetter?) throws -> CommitOutcome
    /// Units by error code in a result, for metrics (empty when the kind has no unit errors).
    func errorCodes(_ result: Result) -> [UnitErrorCode: Int]
}

extension ChunkHandler {
    public func errorCodes(_ result: Result) -> [UnitErrorCode: Int] { [:] }
}

/// Asked by long chunk work whether to stop: the job was cancelled, or the worker is draining
/// past its deadline. Cheap to call often: it consults the store at most every `interval`.
public final class CancellationProbe {
    private let check: () throws -> Bool
    private let interval: Duration
    private var lastCheck: ContinuousClock.Instant?
    private var answer = false

    public init(interval: Duration = .milliseconds(500), check: @escaping () throws -> Bool) {
        self.interval = interval
        self.check = check
    }

    /// A probe that never says stop (tools and tests that run chunk work outside the engine).
    public static var never: CancellationProbe { CancellationProbe { false } }

    /// True once the job should stop. A store that cannot answer is taken as "go on": the next
    /// call asks again, and a cancel is still honoured at commit time.
    public var isCancelled: Bool {
        if answer { return true }
        let now = ContinuousClock.now
        if let last = lastCheck, now - last < interval { return false }
        lastCheck = now
        answer = (try? check()) ?? false
        return answer
    }
}
