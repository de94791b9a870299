import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `RegistrationStore` (PostgreSQL's `PostgresRegistry`): folders, stored
/// manifests and file records, committing through its `MemoryJobStore`'s guarded commit, with
/// the same duplicate rules (`RegistrationStoreConformance` runs against both).
public final class MemoryRegistry: RegistrationStore, @unchecked Sendable {
    /// A registered file.
    public struct File: Sendable {
        public var id: Int64
        public var folderID: String
        public var jobID: String
        public var unit: RegistrationUnit
        public var info: MediaInfo
        public var createdAt: String
    }

    struct Facts {
        var folderID: String
        var format: ManifestFormat
        var manifest: [UInt8]
        var skipDuplicates: Bool?
        var totalURLs: Int?
        var retryOf: String?
        var manifestJobID: String?
        var integrationID: String?
    }

    public let jobs: MemoryJobStore
    /// What the API's ports add: tenants, keys, integrations, upload extras (`MemoryRegistry+API`).
    let api = MemoryAPIState()
    /// Ontologies (`MemoryRegistry+Ontologies`).
    let ontologyState = MemoryOntologyState()
    /// Users, groups, tags, projects, collaborators (`MemoryRegistry+Access`).
    let access = MemoryAccessState()
    /// Datasets and their memberships (`MemoryRegistry+Datasets`).
    let catalogDatasets = MemoryDatasetState()
    /// Label rows (`MemoryRegistry+Labels`).
    let labelState = MemoryLabelState()
    /// Exports (`MemoryRegistry+Exports`).
    let exportState = MemoryExportState()
    /// Tasks and their history (`MemoryRegistry+Tasks`).
    let taskState = MemoryTaskState()
    /// Workflow templates (`MemoryRegistry+Templates`).
    let templateState = MemoryTemplateState()
    /// Sequence encodes and videos (`MemoryRegistry+Sequences`).
    let sequenceState = MemorySequenceState()
    let lock = NSRecursiveLock()
    var folders: [String: (tenantID: String, name: String)] = [:]
    var facts: [String: Facts] = [:]
    var files: [Int64: File] = [:]
    var byJobUnit: [String: [Int: Int64]] = [:]
    /// folder → URL key → the first registration of it (job, unit).
    var folderKeys: [String: [String: (job: String, unit: Int)]] = [:]
    var nextFileID: Int64 = 0

    public init(jobs: MemoryJobStore = MemoryJobStore()) {
        self.jobs = jobs
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: What the operator side does (submit, retry)

    public func createFolder(name: String, tenantID: String = "00000000-0000-0000-0000-000000000001") -> String {
        let id = UUID().uuidString.lowercased()
        locked {
            folders[id] = (tenantID, name)
            api.folderCreated[id] = MemoryJobStore.now()
        }
        return id
    }

    /// Stores a manifest as a new registration job (not yet validated: the planner's `prepare`
    /// counts it, as for a job that arrives without totals).
    public func createJob(folderID: String, manifest: [UInt8], format: ManifestFormat, ignoreErrors: Bool = false,
                          integrationID: String? = nil) throws -> String {
        let tenant = locked { folders[folderID]?.tenantID } ?? "00000000-0000-0000-0000-000000000001"
        let id = try jobs.createJob(NewJob(kind: KindQueues.registration.kind, tenantID: tenant, ignoreErrors: ignoreErrors))
        locked { facts[id] = Facts(folderID: folderID, format: format, manifest: manifest, integrationID: integrationID) }
        return id
    }

    /// A job registering exactly the failed units of `jobID` from its stored manifest; nil when
    /// it has none.
    public func createRetryJob(of jobID: String) throws -> String? {
        guard let parent = locked({ facts[jobID] }), let parentJob = try jobs.job(jobID) else { return nil }
        let failed = jobs.unitErrors(jobID: jobID)
        guard !failed.isEmpty else { return nil }
        let id = try jobs.createJob(NewJob(kind: KindQueues.registration.kind, tenantID: parentJob.tenantID, ignoreErrors: parentJob.ignoreErrors))
        try jobs.recordTotal(jobID: id, units: failed.count)
        locked {
            facts[id] = Facts(folderID: parent.folderID, format: parent.format, manifest: [], skipDuplicates: parent.skipDuplicates,
                              totalURLs: failed.reduce(0) { $0 + $1.urls.count }, retryOf: jobID,
                              manifestJobID: parent.manifestJobID ?? jobID, integrationID: parent.integrationID)
        }
        return id
    }

    /// Files of a folder, in id order.
    public func files(folderID: String) -> [File] {
        locked { files.values.filter { $0.folderID == folderID }.sorted { $0.id < $1.id } }
    }

    /// Files a job registered, by unit index.
    public func files(jobID: String) -> [Int: File] {
        locked { byJobUnit[jobID, default: [:]].compactMapValues { files[$0] } }
    }

    // MARK: RegistrationStore

    public func loadJob(_ id: String) throws -> JobRecord? {
        guard let job = try jobs.job(id), job.kind == KindQueues.registration.kind,
              let f = locked({ facts[id] }), let folder = locked({ folders[f.folderID] }) else { return nil }
        return JobRecord(id: id, folderID: f.folderID, folderName: folder.name, format: f.format, ignoreErrors: job.ignoreErrors,
                         skipDuplicates: f.skipDuplicates, status: job.status, phase: job.phase, cancelRequested: job.cancelRequested,
                         totalUnits: job.totalUnits, splitDone: job.splitDone, createdAt: job.createdAt, startedAt: job.startedAt,
                         finishedAt: job.finishedAt, error: job.error, retryOf: f.retryOf)
    }

    public func manifestSource(jobID: String) throws -> any ByteSource {
        let bytes: [UInt8] = locked {
            guard let f = facts[jobID] else { return [] }
            return f.manifestJobID.flatMap { facts[$0]?.manifest } ?? f.manifest
        }
        return MemoryByteSource(bytes)
    }

    public func retryUnits(jobID: String) throws -> Set<Int>? {
        guard let parent = locked({ facts[jobID]?.retryOf }) else { return nil }
        return Set(jobs.unitErrors(jobID: parent).map(\.index))
    }

    public func recordScan(jobID: String, units: Int, urls: Int, skipDuplicates: Bool) throws {
        locked {
            facts[jobID]?.skipDuplicates = skipDuplicates
            facts[jobID]?.totalURLs = urls
        }
        try jobs.recordTotal(jobID: jobID, units: units)
    }

    public func existingURLKeys(folderID: String, keys: [String]) throws -> Set<String> {
        locked { Set(keys.filter { folderKeys[folderID]?[$0] != nil }) }
    }

    public func jobIntegrationID(jobID: String) throws -> String? { locked { facts[jobID]?.integrationID } }

    public func commitChunk(_ result: ChunkResult) throws -> RegistrationCommit {
        var inserted: [String] = []
        let outcome = try jobs.commitChunk(result.id, deadLetter: result.deadLetter) {
            locked {
                let verified = result.items.compactMap { item -> (RegistrationUnit, MediaInfo)? in
                    if case .verified(let u, let i) = item { return (u, i) } else { return nil }
                }.sorted { $0.0.index < $1.0.index }
                var keys = folderKeys[result.folderID, default: [:]]
                var added: [(RegistrationUnit, MediaInfo)] = []
                if result.skipDuplicates {
                    // First unit per key wins, in unit order; a key the folder already has wins over all.
                    for (u, i) in verified where keys[u.urlKey] == nil {
                        keys[u.urlKey] = (result.jobID, u.index)
                    }
                    added = verified.filter { keys[$0.0.urlKey]! == (result.jobID, $0.0.index) }
                } else {
                    added = verified
                    for (u, _) in verified where keys[u.urlKey] == nil { keys[u.urlKey] = (result.jobID, u.index) }
                }
                added = added.filter { byJobUnit[result.jobID]?[$0.0.index] == nil }
                folderKeys[result.folderID] = keys
                for (u, i) in added {
                    nextFileID += 1
                    var info = i
                    if let ordered = i.orderedURLs { info.orderedURLs = ordered }
                    files[nextFileID] = File(id: nextFileID, folderID: result.folderID, jobID: result.jobID, unit: u, info: info,
                                             createdAt: MemoryJobStore.now())
                    byJobUnit[result.jobID, default: [:]][u.index] = nextFileID
                    mirrorNewFile(nextFileID, folderID: result.folderID)
                }
                inserted = added.map(\.0.urlKey)
                return ChunkWrite(done: added.count, skipped: verified.count - added.count, errors: result.errors)
            }
        }
        if case .committed = outcome { return RegistrationCommit(outcome: outcome, newURLKeys: inserted) }
        return RegistrationCommit(outcome: outcome)
    }
}
