import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// Synced files in their three states on PostgreSQL (docs/sync.md, docs/datasets.md): a folder
/// counts verified, unverified (listed, not probed yet), failed and tombstoned files apart
/// (`fileCount` leaves tombstones out); a dataset attach, a mirrored dataset and task creation
/// take only verified, live files, and a mirrored dataset takes a synced file when its probe
/// verifies it.
@Suite struct SyncedFileStatesTests {
    static func object(_ key: String, _ etag: String) -> SyncedObject {
        SyncedObject(object: ListedObject(key: key, size: 10, etag: etag), sidecarETag: nil, type: SyncTypes.type(ofKey: key))
    }

    /// Plans an attach job with the kind's planner and commits every chunk; the job's counts.
    static func runAttach(_ registry: PostgresRegistry, _ job: String) throws -> UnitCounts {
        let planner = DatasetAttachPlanner(store: registry, chunkFiles: 4)
        let stored = try #require(try registry.jobStore.job(job))
        var chunks: [DatasetAttachChunk] = []
        try planner.plan(stored) { chunks.append(try #require(DatasetAttachChunk.decode($0.encode()))) }
        try registry.jobStore.recordChunks(jobID: job, chunks: chunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: $0.fileIDs.count) })
        for c in chunks { _ = try registry.commitAttach(c, failAll: nil) }
        try registry.jobStore.finishSplit(jobID: job, totalChunks: chunks.count)
        return try registry.jobStore.jobCounts(jobID: job).counts
    }

    @Test func tombstonedAndUnverifiedFilesAreCountedApartAndNeitherAttachedNorTasked() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            let sync = PostgresFolderSyncStore(connection: conn)
            let tenant = try registry.createTenant(name: "states")
            let folder = try #require(JSONCompare.string(try registry.createFolder(tenantID: tenant, name: "synced"), "id"))
            let integration = try conn.query("""
                INSERT INTO integrations (id, tenant_id, name, kind, credentials, key_id)
                VALUES (gen_random_uuid(), $1, 'i', 's3-compatible', 'v1:test:x', 'test') RETURNING id
                """, [tenant])[row: 0, column: 0]!
            let spec = try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: nil, sidecarSuffix: nil, appendOnly: false).get()
            guard case .created = try sync.createBinding(tenantID: tenant, folderID: folder, integrationID: integration, spec: spec),
                  let binding = try sync.syncBinding(folderID: folder),
                  case .started(let job) = try sync.startSync(tenantID: tenant, folderID: folder, keys: nil) else { Issue.record("no sync"); return }

            // Listing first: six objects recorded, none verified yet, in two chunks of three.
            let keys = (0..<6).map { "p/a\($0).png" }
            let entries = keys.enumerated().map { SyncPlanEntry(object: Self.object($0.element, "e\($0.offset)"), action: .create, unit: $0.offset) }
            let chunks = try sync.recordListedPage(jobID: job, binding: binding, entries: entries, firstSeq: 0, chunkUnits: 3)
            try sync.jobs.recordChunks(jobID: job, chunks: chunks)
            func fileID(_ key: String) throws -> Int64 {
                Int64(try #require(try conn.query("SELECT id FROM files WHERE folder_id = $1 AND sync_key = $2", [folder, key])[row: 0, column: 0]))!
            }
            func folderFiles() throws -> (count: Int?, files: JSONValue?) {
                let json = try #require(try registry.folder(tenantID: tenant, id: folder))
                return (JSONCompare.number(json, "fileCount"), JSONValue.parse(Array(json.utf8))?["files"])
            }
            var shown = try folderFiles()
            #expect(shown.count == 6 && shown.files?["unverified"]?.intValue == 6 && shown.files?["verified"]?.intValue == 0)

            // A mirrored dataset created mid-sync takes none of the unverified files.
            guard case .created(let mirrorJSON, let mirrorJob?) = try registry.createDataset(tenantID: tenant, title: "mirror", description: nil,
                                                                                            mirroredFolderID: folder, createdBy: nil) else {
                Issue.record("no mirrored dataset"); return
            }
            let mirror = try #require(JSONCompare.string(mirrorJSON, "id"))
            #expect(try Self.runAttach(registry, mirrorJob) == UnitCounts(skipped: 6))
            func members(_ dataset: String) throws -> Set<Int64> {
                let rows = try conn.query("SELECT file_id FROM dataset_files WHERE dataset_id = $1", [dataset])
                return Set((0..<rows.count).map { Int64(rows[row: $0, column: 0]!)! })
            }
            #expect(try members(mirror).isEmpty)

            // The first chunk's probes: a0 and a1 verified (the mirror takes them), a2 fails. Then a1 vanishes.
            var info = MediaInfo()
            info.width = 4
            let first = try sync.chunkFiles(ChunkID(jobID: job, seq: 0))
            #expect(first.map(\.key) == Array(keys.prefix(3)))
            _ = try sync.commitProbes(SyncProbeResult(items: [
                .verified(fileID: first[0].fileID, info: info, clientMetadata: nil), .verified(fileID: first[1].fileID, info: info, clientMetadata: nil),
                .failed(fileID: first[2].fileID, error: UnitError(index: 2, urls: [first[2].url], code: "corrupt", message: "not a PNG")),
            ]), id: ChunkID(jobID: job, seq: 0), deadLetter: nil)
            #expect(try members(mirror) == [try fileID(keys[0]), try fileID(keys[1])], "a mirrored dataset takes a synced file when it is verified")
            #expect(try sync.tombstone(folderID: folder, keys: [keys[1]]) == 1)

            // Counted apart: the tombstone is not in fileCount (nor its size or type).
            shown = try folderFiles()
            #expect(shown.count == 5, "fileCount counts a tombstoned file")
            #expect(shown.files?["verified"]?.intValue == 1 && shown.files?["unverified"]?.intValue == 3
                    && shown.files?["failed"]?.intValue == 1 && shown.files?["tombstoned"]?.intValue == 1, "\(String(describing: shown.files))")
            let folderJSON = try #require(try registry.folder(tenantID: tenant, id: folder))
            #expect(JSONCompare.number(folderJSON, "totalSize") == 50)

            // An attach of the folder (and of the tombstoned file by id) takes the one verified live file only.
            guard case .created(let plainJSON, nil) = try registry.createDataset(tenantID: tenant, title: "plain", description: nil,
                                                                                mirroredFolderID: nil, createdBy: nil) else { Issue.record("no dataset"); return }
            let plain = try #require(JSONCompare.string(plainJSON, "id"))
            guard case .attachJob(let attach) = try registry.createAttachJob(tenantID: tenant, datasetID: plain, folderIDs: [folder], fileIDs: [],
                                                                             duplicates: .fail) else { Issue.record("no attach"); return }
            #expect(try Self.runAttach(registry, attach) == UnitCounts(done: 1, skipped: 5), "neither an error nor a membership for unusable files")
            #expect(try members(plain) == [try fileID(keys[0])])

            // Tasks: a project on the mirror gets a task for the live member only (a1 is a tombstoned member).
            let project = try #require(JSONCompare.string(try registry.createProject(NewProject(
                tenantID: tenant, title: "p", description: nil, tags: [], ontologyID: nil, datasetIDs: [mirror],
                workflow: TaskStoreConformance.standardGraph().json, createdBy: nil)), "id"))
            let counts = try TaskStoreConformance.runTaskJobs(registry, registry.takeCreatedTaskJobs())
            #expect(counts == [UnitCounts(done: 1, skipped: 1)])
            func taskedFiles() throws -> Set<Int64> {
                let rows = try conn.query("SELECT m.file_id FROM tasks t JOIN dataset_files m ON m.id = t.data_unit WHERE t.project_id = $1", [project])
                return Set((0..<rows.count).map { Int64(rows[row: $0, column: 0]!)! })
            }
            #expect(try taskedFiles() == [try fileID(keys[0])])

            // The second chunk verifies a3..a5: the mirror takes them in the same commit, and their tasks follow.
            let second = try sync.chunkFiles(ChunkID(jobID: job, seq: 1))
            _ = try sync.commitProbes(SyncProbeResult(items: second.map { .verified(fileID: $0.fileID, info: info, clientMetadata: nil) }),
                                      id: ChunkID(jobID: job, seq: 1), deadLetter: nil)
            let later = try Set(keys[3...].map(fileID))
            #expect(try members(mirror) == later.union([try fileID(keys[0]), try fileID(keys[1])]))
            #expect(try taskedFiles() == later.union([try fileID(keys[0])]))
            shown = try folderFiles()
            #expect(shown.count == 5 && shown.files?["verified"]?.intValue == 4 && shown.files?["unverified"]?.intValue == 0)

            // a1 comes back unchanged (a later listing restores it): live again, it gets the task it was skipped for.
            _ = try sync.recordListedPage(jobID: job, binding: binding, entries: [SyncPlanEntry(object: Self.object(keys[1], "e1"), action: .restore)],
                                          firstSeq: 0, chunkUnits: 3)
            #expect(try taskedFiles() == later.union([try fileID(keys[0]), try fileID(keys[1])]), "a restored member gets its task")
            shown = try folderFiles()
            #expect(shown.count == 6 && shown.files?["tombstoned"]?.intValue == 0)
        }
    }
}
