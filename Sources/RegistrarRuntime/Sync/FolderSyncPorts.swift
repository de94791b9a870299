import RegistrarCore

// The folder-sync kind's ports: its rows in the system of record, and the bucket it lists.
// Same rules as every port: synchronous, one thread per instance, a twin and a conformance suite.

/// The folder-sync kind's rows (PostgreSQL): bindings, the files a sync records, and which
/// files each chunk of a sync job probes.
public protocol FolderSyncStore: AnyObject {
    /// The folder's binding; nil when it has none.
    func syncBinding(folderID: String) throws -> SyncBinding?
    /// What the folder holds for these keys (files a sync recorded; tombstoned ones included).
    /// Keys the folder does not hold are absent. `probeJob` is the job the file is assigned to
    /// for probing (so a re-plan of that job skips it).
    func storedStates(folderID: String, keys: [String]) throws -> [String: (state: StoredSyncState, probeJob: String?)]
    /// Records one listed page in one transaction: every entry's file row (created unverified,
    /// updated, restored, or marked seen by this job), and the probed entries assigned to new
    /// chunks of at most `chunkUnits` files, numbered from `firstSeq`. Returns those chunks.
    func recordListedPage(jobID: String, binding: SyncBinding, entries: [SyncPlanEntry], firstSeq: Int, chunkUnits: Int) throws -> [LedgerChunk]
    /// The chunks already assigned to a job, in seq order (a re-plan after a crash emits them first).
    func assignedChunks(jobID: String) throws -> [LedgerChunk]
    /// Listing progress: objects listed so far, whether the listing is over, and the job's
    /// total: nil while the listing runs (the job's total stays unknown: `totalKnown` false),
    /// the files to probe once `stats.complete`.
    func recordListing(jobID: String, folderID: String, stats: SyncListingStats, total: Int?, lastKey: String?) throws
    /// End of a full listing: every file of the folder's sync not seen by this job becomes a
    /// tombstone. Returns how many.
    func tombstoneUnseen(jobID: String, folderID: String) throws -> Int
    /// Tombstones these keys' files (a notification's removals). Returns how many.
    func tombstone(folderID: String, keys: [String]) throws -> Int
    /// The files assigned to a chunk.
    func chunkFiles(_ id: ChunkID) throws -> [SyncFile]
    /// The worker's one transaction, guarded by the chunk (see `JobStore`): verified files get
    /// their probe results and client metadata, failed ones their per-file error.
    func commitProbes(_ result: SyncProbeResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome
}

/// Why a listing page could not be had (the job then ends `ERROR` with it). Never holds a
/// signature or a credential.
public struct BucketListingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// Reads a bucket through an integration: listing pages and small whole objects (sidecars).
public protocol BucketReader: AnyObject {
    /// One page of the prefix's listing, signed with the integration.
    func listPage(integrationID: String, bucket: String, prefix: String, at position: S3ListRequest.Position) -> Result<S3ListingPage, BucketListingError>
    /// A small object's bytes (at most `maxBytes`), signed with the integration.
    func read(integrationID: String, url: String, maxBytes: Int) -> Result<[UInt8], BucketListingError>
}
