import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of the folder-sync kind's stores (PostgreSQL's `PostgresFolderSyncStore`):
/// bindings, synced files and chunk assignments, with the same promises
/// (`FolderSyncStoreConformance` runs against both). Folders and integrations are registered
/// by the test (`addFolder`, `addIntegration`); probe results commit through the twin job
/// store's guarded commit.
public final class MemoryFolderSyncStore: FolderSyncStore, FolderSyncAPIStore, @unchecked Sendable {
    public let jobs: MemoryJobStore

    /// A synced file as the twin keeps it.
    public struct File: Sendable, Equatable {
        public var id: Int64
        public var key: String
        public var type: DataType
        public var size: Int64
        public var etag: String
        public var sidecarETag: String?
        public var seen: String?
        public var tombstoned = false
        public var verified = false
        public var probeError: String?
        public var probeJob: String?
        public var probeSeq: Int?
        public var probeUnit: Int?
        public var clientMetadata: String?
        public var info: MediaInfo?
    }

    private struct Binding {
        var binding: SyncBinding
        var secretDigest: String
        var currentJob: String?
        var listing: SyncListingStats?
        var nextDue: Date?
    }

    private var folders: [String: String] = [:]          // folder → tenant
    private var integrations: [String: String] = [:]     // integration → tenant
    private var bindings: [String: Binding] = [:]
    private var files: [String: [String: File]] = [:]    // folder → key → file
    private var chunks: [String: [LedgerChunk]] = [:]
    private var nextFileID: Int64 = 0

    public init(jobs: MemoryJobStore) {
        self.jobs = jobs
    }

    // MARK: What tests set up and read

    public func addFolder(tenantID: String) -> String {
        jobs.locked { let id = UUID().uuidString.lowercased(); folders[id] = tenantID; return id }
    }
    public func addIntegration(tenantID: String) -> String {
        jobs.locked { let id = UUID().uuidString.lowercased(); integrations[id] = tenantID; return id }
    }
    public func syncedFiles(folderID: String) -> [File] {
        jobs.locked { files[folderID, default: [:]].values.sorted { $0.id < $1.id } }
    }

    // MARK: FolderSyncAPIStore

    public func createBinding(tenantID: String, folderID: String, integrationID: String, spec: SyncBindingSpec) throws -> SyncBindingCreated {
        jobs.locked {
            guard folders[folderID] == tenantID else { return .folderNotFound }
            guard integrations[integrationID] == tenantID else { return .integrationNotFound }
            guard bindings[folderID] == nil else { return .exists }
            let secret = NotificationSecret.generate()
            bindings[folderID] = Binding(binding: SyncBinding(folderID: folderID, tenantID: tenantID, integrationID: integrationID, spec: spec),
                                         secretDigest: NotificationSecret.digest(secret),
                                         nextDue: spec.intervalSeconds.map { Date().addingTimeInterval(Double($0)) })
            return .created(secret: secret)
        }
    }

    public func bindingJSON(tenantID: String, folderID: String) throws -> String? {
        try jobs.locked {
            guard let b = bindings[folderID], b.binding.tenantID == tenantID else { return nil }
            let all = files[folderID, default: [:]].values
            func n(_ v: Int) -> JSONValue { .number(String(v)) }
            var job: JSONValue = .null
            if let id = b.currentJob, let j = try jobs.job(id) {
                job = .object([("id", .string(id)), ("status", .string(j.status.rawValue)), ("phase", .string(j.phase.rawValue)),
                               ("total", j.totalUnits.map(n) ?? .null), ("totalKnown", .bool(j.totalUnits != nil))])
            }
            return JSONValue.object([
                ("folderId", .string(folderID)), ("integrationId", .string(b.binding.integrationID)), ("uri", .string(b.binding.spec.uri)),
                ("intervalSeconds", b.binding.spec.intervalSeconds.map(n) ?? .null),
                ("sidecarSuffix", b.binding.spec.sidecarSuffix.map(JSONValue.string) ?? .null), ("appendOnly", .bool(b.binding.spec.appendOnly)),
                ("lastKey", b.binding.lastKey.map(JSONValue.string) ?? .null), ("job", job), ("listing", b.listing?.json ?? .null),
                ("files", .object([("total", n(all.count)), ("verified", n(all.filter { $0.verified && !$0.tombstoned }.count)),
                                   ("unverified", n(all.filter { !$0.verified && $0.probeError == nil && !$0.tombstoned }.count)),
                                   ("failed", n(all.filter { $0.probeError != nil && !$0.tombstoned }.count)),
                                   ("tombstoned", n(all.filter(\.tombstoned).count))])),
            ]).compactText
        }
    }

    public func deleteBinding(tenantID: String, folderID: String) throws -> Bool {
        jobs.locked {
            guard bindings[folderID]?.binding.tenantID == tenantID else { return false }
            bindings[folderID] = nil
            return true
        }
    }

    public func startSync(tenantID: String, folderID: String, keys: (created: [NotifiedKey], removed: [String])?) throws -> SyncStart {
        try jobs.locked {
            guard var b = bindings[folderID], b.binding.tenantID == tenantID else { return .noBinding }
            if keys == nil, let running = b.currentJob, try jobs.job(running)?.status == .pending { return .running(jobID: running) }
            let mode: SyncJobParams.Mode = keys.map { .keys(created: $0.created, removed: $0.removed) }
                ?? .listing(startAfter: b.binding.spec.appendOnly ? b.binding.lastKey : nil)
            let id = try jobs.createJob(NewJob(kind: FolderSync.kind, tenantID: tenantID, ignoreErrors: true,
                                               params: SyncJobParams(folderID: folderID, mode: mode).json))
            if keys == nil {
                b.currentJob = id
                b.nextDue = b.binding.spec.intervalSeconds.map { Date().addingTimeInterval(Double($0)) }
                bindings[folderID] = b
            }
            return .started(jobID: id)
        }
    }

    public func notificationTarget(folderID: String) throws -> SyncNotificationTarget? {
        jobs.locked {
            bindings[folderID].map { SyncNotificationTarget(tenantID: $0.binding.tenantID, bucket: $0.binding.spec.bucket, secretDigest: $0.secretDigest) }
        }
    }

    /// Starts the sync of one binding whose interval is due (the twin of the claim with SKIP LOCKED).
    public func claimDueSync(now: Date = Date()) throws -> String? {
        try jobs.locked {
            for (folder, b) in bindings.sorted(by: { $0.key < $1.key }) {
                guard let due = b.nextDue, due <= now else { continue }
                if let running = b.currentJob, try jobs.job(running)?.status == .pending { continue }
                if case .started(let id) = try startSync(tenantID: b.binding.tenantID, folderID: folder, keys: nil) { return id }
            }
            return nil
        }
    }

    // MARK: FolderSyncStore

    public func syncBinding(folderID: String) throws -> SyncBinding? {
        jobs.locked { bindings[folderID]?.binding }
    }

    public func storedStates(folderID: String, keys: [String]) throws -> [String: (state: StoredSyncState, probeJob: String?)] {
        jobs.locked {
            var out: [String: (state: StoredSyncState, probeJob: String?)] = [:]
            for k in keys {
                guard let f = files[folderID]?[k] else { continue }
                out[k] = (StoredSyncState(etag: f.etag, sidecarETag: f.sidecarETag, tombstoned: f.tombstoned, settled: f.verified || f.probeError != nil), f.probeJob)
            }
            return out
        }
    }

    public func recordListedPage(jobID: String, binding: SyncBinding, entries: [SyncPlanEntry], firstSeq: Int, chunkUnits: Int) throws -> [LedgerChunk] {
        jobs.locked {
            let probed = entries.filter { $0.unit != nil }
            var out: [LedgerChunk] = []
            var seqOf: [String: Int] = [:]
            var start = 0
            while start < probed.count {
                let part = probed[start..<min(start + chunkUnits, probed.count)]
                let seq = firstSeq + out.count
                out.append(LedgerChunk(seq: seq, firstUnit: part.first!.unit!, unitCount: part.count, lastUnit: part.last!.unit!))
                for e in part { seqOf[e.object.object.key] = seq }
                start += chunkUnits
            }
            var folder = files[binding.folderID, default: [:]]
            for e in entries {
                let o = e.object
                var f = folder[o.object.key]
                switch e.action {
                case .create where e.unit != nil && f == nil:
                    nextFileID += 1
                    f = File(id: nextFileID, key: o.object.key, type: o.type!, size: o.object.size, etag: o.object.etag, sidecarETag: o.sidecarETag)
                case .restore:
                    f?.tombstoned = false
                default:
                    if e.unit != nil {
                        f?.size = o.object.size; f?.etag = o.object.etag; f?.sidecarETag = o.sidecarETag
                        f?.tombstoned = false; f?.verified = false; f?.probeError = nil
                    }
                }
                guard var file = f else { continue }
                file.seen = jobID
                if let unit = e.unit {
                    file.probeJob = jobID; file.probeSeq = seqOf[o.object.key]; file.probeUnit = unit
                }
                folder[o.object.key] = file
            }
            files[binding.folderID] = folder
            chunks[jobID, default: []] += out
            return out
        }
    }

    public func assignedChunks(jobID: String) throws -> [LedgerChunk] {
        jobs.locked { chunks[jobID, default: []].sorted { $0.seq < $1.seq } }
    }

    public func recordListing(jobID: String, folderID: String, stats: SyncListingStats, total: Int?, lastKey: String?) throws {
        try jobs.locked {
            try jobs.recordTotal(jobID: jobID, units: total)
            guard var b = bindings[folderID], b.currentJob == jobID || b.currentJob == nil else { return }
            b.listing = stats
            if let lastKey, b.binding.lastKey.map({ Array($0.utf8).lexicographicallyPrecedes(Array(lastKey.utf8)) }) ?? true {
                b.binding.lastKey = lastKey
            }
            bindings[folderID] = b
        }
    }

    public func tombstoneUnseen(jobID: String, folderID: String) throws -> Int {
        jobs.locked {
            var n = 0
            for (k, f) in files[folderID, default: [:]] where !f.tombstoned && f.seen != jobID {
                files[folderID]![k]!.tombstoned = true
                n += 1
            }
            return n
        }
    }

    public func tombstone(folderID: String, keys: [String]) throws -> Int {
        jobs.locked {
            var n = 0
            for k in keys where files[folderID]?[k]?.tombstoned == false {
                files[folderID]![k]!.tombstoned = true
                n += 1
            }
            return n
        }
    }

    public func chunkFiles(_ id: ChunkID) throws -> [SyncFile] {
        jobs.locked {
            var out: [SyncFile] = []
            for (folder, byKey) in files {
                guard let b = bindings[folder]?.binding else { continue }
                for f in byKey.values where f.probeJob == id.jobID && f.probeSeq == id.seq {
                    let url = b.spec.objectURL(key: f.key)
                    let sidecar = f.sidecarETag != nil ? b.spec.sidecarSuffix.map { b.spec.objectURL(key: f.key + $0) } : nil
                    out.append(SyncFile(fileID: f.id, unit: f.probeUnit!, key: f.key, url: url, type: f.type, sidecarURL: sidecar))
                }
            }
            return out.sorted { $0.unit < $1.unit }
        }
    }

    public func commitProbes(_ result: SyncProbeResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(id, deadLetter: deadLetter) {
            var done = 0
            for item in result.items {
                switch item {
                case .verified(let fileID, let info, let metadata):
                    if let (folder, key) = locate(fileID, id) {
                        files[folder]![key]!.verified = true
                        files[folder]![key]!.info = info
                        files[folder]![key]!.clientMetadata = metadata
                        files[folder]![key]!.probeError = nil
                        done += 1
                    }
                case .failed(let fileID, let error):
                    if let (folder, key) = locate(fileID, id) {
                        files[folder]![key]!.probeError = error.code.rawValue
                        files[folder]![key]!.verified = false
                    }
                }
            }
            let verified = result.items.filter { if case .verified = $0 { return true } else { return false } }.count
            return ChunkWrite(done: done, skipped: verified - done, errors: result.errors)
        }
    }

    private func locate(_ fileID: Int64, _ id: ChunkID) -> (String, String)? {
        for (folder, byKey) in files {
            if let f = byKey.values.first(where: { $0.id == fileID }), f.probeJob == id.jobID, f.probeSeq == id.seq { return (folder, f.key) }
        }
        return nil
    }
}
