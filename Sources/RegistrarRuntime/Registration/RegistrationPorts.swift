import RegistrarCore

// Registration's own ports: what the registration kind needs beyond the engine's (`JobStore`,
// `ProgressTracker`, `WorkQueue`). Same rules: synchronous, one thread per instance, a twin and a
// conformance suite each.

/// Registration's rows in the system of record (PostgreSQL): folders, stored manifests, file
/// records. Jobs, the ledger and unit errors are the engine's (`JobStore`); a registration
/// store commits its file records inside the engine's ledger-guarded transaction.
public protocol RegistrationStore: AnyObject {
    /// A registration job with its folder and manifest facts; nil when unknown (or of another kind).
    func loadJob(_ id: String) throws -> JobRecord?
    /// The stored manifest of a job, streamed block by block (a retry job reads its parent's).
    func manifestSource(jobID: String) throws -> any ByteSource
    /// For a retry job, the unit indexes it registers (the failed units of the job it retries);
    /// nil for an ordinary job, which registers every unit of its manifest.
    func retryUnits(jobID: String) throws -> Set<Int>?
    /// Pass 1 done: totals known, phase `splitting`, and whether duplicates are skipped.
    func recordScan(jobID: String, units: Int, urls: Int, skipDuplicates: Bool) throws
    /// The worker's one transaction: file records, unit errors and "chunk done". A no-op
    /// returning `.alreadyDone` if the chunk was committed before (redelivery), `.unknownChunk` if
    /// the ledger has no such chunk (its job was deleted). With `skipDuplicates`, a unit whose URL
    /// key the folder already holds (or an earlier unit of the chunk holds) is counted skipped.
    func commitChunk(_ result: ChunkResult) throws -> RegistrationCommit
    /// Which of `keys` the folder already holds (the store's answer, after the tracker said "maybe").
    func existingURLKeys(folderID: String, keys: [String]) throws -> Set<String>
    /// The integration a job's objects are read with; nil when URLs are fetched as given.
    func jobIntegrationID(jobID: String) throws -> String?
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
