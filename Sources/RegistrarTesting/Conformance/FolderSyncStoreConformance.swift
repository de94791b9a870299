import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// What a folder-sync store is tested through: the store, the job store its commits are guarded
/// by, and how the test makes tenants, folders and integrations.
public struct FolderSyncStoreUnderTest {
    public var store: any FolderSyncStore & FolderSyncAPIStore
    public var jobs: any JobStore
    public var makeTenant: () throws -> String
    public var makeFolder: (_ tenantID: String) throws -> String
    public var makeIntegration: (_ tenantID: String) throws -> String
    public init(store: any FolderSyncStore & FolderSyncAPIStore, jobs: any JobStore, makeTenant: @escaping () throws -> String,
                makeFolder: @escaping (String) throws -> String, makeIntegration: @escaping (String) throws -> String) {
        self.store = store; self.jobs = jobs; self.makeTenant = makeTenant; self.makeFolder = makeFolder; self.makeIntegration = makeIntegration
    }
}

/// The folder-sync stores' promises (`FolderSyncStore`, `FolderSyncAPIStore`), against the twin
/// and PostgreSQL: bindings scoped to their tenant, one running sync per binding, the secret kept
/// as its digest; a listed page recorded with its chunk assignments, probe commits guarded by
/// the ledger, tombstones for what a listing did not see.
public enum FolderSyncStoreConformance {
    public static func exercise(_ make: () throws -> FolderSyncStoreUnderTest) throws {
        try bindingsAreTenantScopedAndRunOneAtATime(make())
        try pagesChunksProbesAndTombstones(make())
    }

    static let spec = SyncBindingSpec(bucket: "bkt", prefix: "p/", intervalSeconds: nil, sidecarSuffix: ".metadata.json", appendOnly: false)

    static func bindingsAreTenantScopedAndRunOneAtATime(_ s: FolderSyncStoreUnderTest) throws {
        let a = try s.makeTenant(), b = try s.makeTenant()
        let folder = try s.makeFolder(a), integration = try s.makeIntegration(a), theirs = try s.makeIntegration(b)
        #expect(try s.store.createBinding(tenantID: b, folderID: folder, integrationID: theirs, spec: spec) == .folderNotFound)
        #expect(try s.store.createBinding(tenantID: a, folderID: folder, integrationID: theirs, spec: spec) == .integrationNotFound)
        guard case .created(let secret) = try s.store.createBinding(tenantID: a, folderID: folder, integrationID: integration, spec: spec) else {
            Issue.record("not created"); return
        }
        #expect(try s.store.createBinding(tenantID: a, folderID: folder, integrationID: integration, spec: spec) == .exists)
        #expect(try s.store.bindingJSON(tenantID: b, folderID: folder) == nil)
        let json = try #require(try s.store.bindingJSON(tenantID: a, folderID: folder))
        #expect(JSONValue.parse(Array(json.utf8))?["uri"] == .string("s3://bkt/p/") && !json.contains(secret))
        let target = try #require(try s.store.notificationTarget(folderID: folder))
        #expect(target.tenantID == a && target.bucket == "bkt" && NotificationSecret.matches(secret, storedDigest: target.secretDigest))
        #expect(!NotificationSecret.matches(secret + "x", storedDigest: target.secretDigest))
        #expect(try s.store.notificationTarget(folderID: UUID().uuidString.lowercased()) == nil)
        // One listing sync at a time; notifications always start their own.
        #expect(try s.store.startSync(tenantID: b, folderID: folder, keys: nil) == .noBinding)
        guard case .started(let first) = try s.store.startSync(tenantID: a, folderID: folder, keys: nil) else { Issue.record("no sync"); return }
        #expect(try s.store.startSync(tenantID: a, folderID: folder, keys: nil) == .running(jobID: first))
        guard case .started(let notified) = try s.store.startSync(tenantID: a, folderID: folder, keys: ([NotifiedKey(change: .created, key: "p/x.png")], [])) else {
            Issue.record("notification sync not started"); return
        }
        #expect(notified != first)
        let params = try #require(try s.jobs.job(notified)?.params)
        #expect(SyncJobParams.parse(params) == .success(SyncJobParams(folderID: folder, mode: .keys(created: [NotifiedKey(change: .created, key: "p/x.png")], removed: []))))
        #expect(try s.store.syncBinding(folderID: folder)?.integrationID == integration)
        #expect(try !s.store.deleteBinding(tenantID: b, folderID: folder))
        #expect(try s.store.deleteBinding(tenantID: a, folderID: folder))
        #expect(try s.store.startSync(tenantID: a, folderID: folder, keys: nil) == .noBinding)
        #expect(try s.store.syncBinding(folderID: folder) == nil)
    }

    static func object(_ key: String, _ etag: String, sidecar: String? = nil) -> SyncedObject {
        SyncedObject(object: ListedObject(key: key, size: 10, etag: etag), sidecarETag: sidecar, type: SyncTypes.type(ofKey: key))
    }

    static func pagesChunksProbesAndTombstones(_ s: FolderSyncStoreUnderTest) throws {
        let a = try s.makeTenant()
        let folder = try s.makeFolder(a), integration = try s.makeIntegration(a)
        _ = try s.store.createBinding(tenantID: a, folderID: folder, integrationID: integration, spec: spec)
        let binding = try #require(try s.store.syncBinding(folderID: folder))
        guard case .started(let job) = try s.store.startSync(tenantID: a, folderID: folder, keys: nil) else { Issue.record("no sync"); return }
        let page = [SyncPlanEntry(object: object("p/a.png", "e1"), action: .create, unit: 0),
                    SyncPlanEntry(object: object("p/b.png", "e2", sidecar: "s2"), action: .create, unit: 1),
                    SyncPlanEntry(object: object("p/c.txt", "e3"), action: .create, unit: 2)]
        let chunks = try s.store.recordListedPage(jobID: job, binding: binding, entries: page, firstSeq: 0, chunkUnits: 2)
        #expect(chunks == [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 2, lastUnit: 1), LedgerChunk(seq: 1, firstUnit: 2, unitCount: 1, lastUnit: 2)])
        #expect(try s.store.assignedChunks(jobID: job) == chunks)
        // Listing first: recorded at once, not settled, assigned to this job.
        let states = try s.store.storedStates(folderID: folder, keys: ["p/a.png", "p/b.png", "p/c.txt", "p/none.png"])
        #expect(states.count == 3 && states.values.allSatisfy { !$0.state.settled && $0.probeJob == job && !$0.state.tombstoned })
        #expect(states["p/b.png"]?.state == StoredSyncState(etag: "e2", sidecarETag: "s2", tombstoned: false, settled: false))
        let files = try s.store.chunkFiles(ChunkID(jobID: job, seq: 0))
        #expect(files.map(\.key) == ["p/a.png", "p/b.png"] && files.map(\.unit) == [0, 1] && files.map(\.type) == [.image, .image])
        #expect(files[0].url == "s3://bkt/p/a.png" && files[0].sidecarURL == nil && files[1].sidecarURL == "s3://bkt/p/b.png.metadata.json")
        // While the listing runs the job's total is not known; the end of the listing fixes it.
        try s.store.recordListing(jobID: job, folderID: folder, stats: SyncListingStats(), total: nil, lastKey: "p/b.png")
        #expect(try s.jobs.job(job)?.totalUnits == nil)
        var complete = SyncListingStats()
        complete.complete = true
        try s.store.recordListing(jobID: job, folderID: folder, stats: complete, total: 3, lastKey: "p/c.txt")
        #expect(try s.jobs.job(job)?.totalUnits == 3)

        // Probes commit once, guarded by the ledger.
        try s.jobs.recordChunks(jobID: job, chunks: chunks)
        var info = MediaInfo()
        info.width = 4
        let result = SyncProbeResult(items: [.verified(fileID: files[0].fileID, info: info, clientMetadata: #"{"k":1}"#),
                                             .failed(fileID: files[1].fileID, error: UnitError(index: 1, urls: [files[1].url], code: "not_found", message: "404"))])
        #expect(try s.store.commitProbes(result, id: ChunkID(jobID: job, seq: 0), deadLetter: nil) == .committed(UnitCounts(done: 1, errors: 1)))
        #expect(try s.store.commitProbes(result, id: ChunkID(jobID: job, seq: 0), deadLetter: nil) == .alreadyDone(UnitCounts(done: 1, errors: 1)))
        let after = try s.store.storedStates(folderID: folder, keys: ["p/a.png", "p/b.png", "p/c.txt"])
        #expect(after["p/a.png"]?.state.settled == true && after["p/b.png"]?.state.settled == true && after["p/c.txt"]?.state.settled == false)

        // The next listing: a unchanged (seen), c re-probed, b not listed → tombstoned.
        let next = try s.jobs.createJob(NewJob(kind: FolderSync.kind, tenantID: a, params: SyncJobParams(folderID: folder, mode: .listing(startAfter: nil)).json))
        let second = [SyncPlanEntry(object: object("p/a.png", "e1"), action: .unchanged),
                      SyncPlanEntry(object: object("p/c.txt", "e3b"), action: .reprobe, unit: 0)]
        let reprobe = try s.store.recordListedPage(jobID: next, binding: binding, entries: second, firstSeq: 0, chunkUnits: 250)
        #expect(reprobe.map(\.unitCount) == [1])
        #expect(try s.store.chunkFiles(ChunkID(jobID: next, seq: 0)).map(\.key) == ["p/c.txt"])
        #expect(try s.store.storedStates(folderID: folder, keys: ["p/c.txt"])["p/c.txt"]?.state.etag == "e3b")
        #expect(try s.store.tombstoneUnseen(jobID: next, folderID: folder) == 1)
        #expect(try s.store.storedStates(folderID: folder, keys: ["p/b.png"])["p/b.png"]?.state.tombstoned == true)
        // b comes back unchanged: restored, not assigned.
        let back = try s.store.recordListedPage(jobID: next, binding: binding, entries: [SyncPlanEntry(object: object("p/b.png", "e2", sidecar: "s2"), action: .restore)],
                                                firstSeq: 1, chunkUnits: 250)
        #expect(back.isEmpty)
        #expect(try s.store.storedStates(folderID: folder, keys: ["p/b.png"])["p/b.png"]?.state.tombstoned == false)
        #expect(try s.store.tombstone(folderID: folder, keys: ["p/a.png", "p/none.png"]) == 1)
        #expect(try s.store.tombstone(folderID: folder, keys: ["p/a.png"]) == 0)
    }
}
