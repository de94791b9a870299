import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// `DatasetStore` and the `dataset-attach` kind's `DatasetAttachStore`, checked against one
/// implementation (the twin `MemoryRegistry`, `PostgresRegistry` on a real PostgreSQL), through
/// the kind's own planner and the stores' guarded commit. `markUsed` makes a project use a
/// dataset (what the projects part writes).
public enum DatasetStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest, markUsed: @escaping (_ tenantID: String, _ datasetID: String) throws -> String) throws {
        try datasetsAreTenantScoped(make(), markUsed: markUsed)
        try attachJobsAreExactAndRefuseOtherTenants(make())
        try mirroredDatasetsFollowTheirFolder(make())
    }

    static func unique(_ p: String) -> String { APIStoreConformance.unique(p) }

    /// An upload of `urls` into the folder, planned, with the chunk result that would register
    /// them (for tests that commit it inside a transaction of their own).
    public static func pendingUpload(_ s: APIStoreUnderTest, tenant: String, folder: String, urls: [String]) throws -> ChunkResult {
        let (job, units, _) = try APIStoreConformance.upload(s, tenant: tenant, folder: folder, urls)
        return ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: urls.count,
                           items: units.map { .verified($0, APIStoreConformance.info(1)) })
    }

    /// A folder of `n` registered images; returns the folder id and the file ids ascending.
    public static func folderWithFiles(_ s: APIStoreUnderTest, tenant: String, name: String, n: Int) throws -> (String, [Int64]) {
        let folder = try #require(JSONCompare.string(try s.store.createFolder(tenantID: tenant, name: name), "id"))
        let urls = (0..<n).map { "https://b.example/\(name)/\($0).png?sig=secret" }
        let (job, units, _) = try APIStoreConformance.upload(s, tenant: tenant, folder: folder, urls)
        _ = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: n,
                                                items: units.map { .verified($0, APIStoreConformance.info(1)) }))
        let ids = try s.store.filesPage(folderID: folder, type: nil, after: 0, limit: 1000).items.compactMap { JSONCompare.string($0, "id").flatMap { Int64($0) } }
        return (folder, ids)
    }

    /// Plans an attach job with the kind's planner (`chunk` files per chunk), records its ledger
    /// and commits every chunk twice (the second is a redelivery); returns the job's counts.
    static func run(_ s: APIStoreUnderTest, job: String, chunk: Int = 2) throws -> (UnitCounts, [UnitError]) {
        let kind = try #require(s.store as? any DatasetAttachStore)
        let planner = DatasetAttachPlanner(store: kind, chunkFiles: chunk)
        let stored = try #require(try s.store.jobStore.job(job))
        guard case .accepted(let units) = try planner.prepare(stored) else { Issue.record("refused"); return (UnitCounts(), []) }
        #expect(stored.totalUnits == units, "the total is counted when the job is created")
        try s.store.jobStore.recordTotal(jobID: job, units: units)
        var chunks: [DatasetAttachChunk] = []
        try planner.plan(stored) { planned in chunks.append(try #require(DatasetAttachChunk.decode(planned.encode()))) }
        try s.store.jobStore.recordChunks(jobID: job, chunks: chunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: $0.fileIDs.count) })
        var errors: [UnitError] = []
        for c in chunks {
            let first = try kind.commitAttach(c, failAll: nil)
            guard case .committed(let counts) = first else { Issue.record("first commit: \(first)"); continue }
            #expect(try kind.commitAttach(c, failAll: nil) == .alreadyDone(counts))
        }
        try s.store.jobStore.finishSplit(jobID: job, totalChunks: chunks.count)
        _ = try s.store.jobStore.finishJobIfComplete(jobID: job)
        let counts = try s.store.jobStore.jobCounts(jobID: job).counts
        #expect(counts.finished == units)
        let page = try s.store.errorsPage(jobID: job, code: nil, after: -1, limit: 1000)
        for item in page.items {
            errors.append(UnitError(index: JSONCompare.number(item, "unit") ?? -1, urls: [], code: UnitErrorCode(rawValue: JSONCompare.string(item, "code") ?? ""),
                                    message: JSONCompare.string(item, "message") ?? ""))
        }
        return (counts, errors)
    }

    static func datasetsAreTenantScoped(_ s: APIStoreUnderTest, markUsed: (String, String) throws -> String) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        guard case .created(let json, nil) = try s.store.createDataset(tenantID: a, title: "Scans", description: "d", mirroredFolderID: nil, createdBy: nil) else {
            Issue.record("not created"); return
        }
        let id = try #require(JSONCompare.string(json, "id"))
        try JSONCompare.expect(json, [("id", .string(id)), ("title", .string("Scans")), ("description", .string("d")), ("mirroredFolderId", .null),
                                      ("createdBy", .null), ("createdAt", JSONCompare.anyTime), ("fileCount", .number("0")), ("byType", .object([]))])
        #expect(try s.store.dataset(tenantID: b, id: id) == nil)
        #expect(try s.store.dataset(tenantID: a, id: "nope") == nil)
        #expect(try s.store.datasetOwner(tenantID: a, id: id) == DatasetOwner(id: id, createdBy: nil, mirroredFolderID: nil))
        // Paged by id.
        var ids = [id]
        for t in ["B", "C"] {
            guard case .created(let j, _) = try s.store.createDataset(tenantID: a, title: t, description: nil, mirroredFolderID: nil, createdBy: nil) else { continue }
            ids.append(JSONCompare.string(j, "id")!)
        }
        ids.sort()
        let first = try s.store.datasets(tenantID: a, after: nil, limit: 2)
        #expect(first.items.compactMap { JSONCompare.string($0, "id") } == Array(ids.prefix(2)) && first.nextCursor == ids[1])
        let rest = try s.store.datasets(tenantID: a, after: first.nextCursor, limit: 2)
        #expect(rest.items.compactMap { JSONCompare.string($0, "id") } == [ids[2]] && rest.nextCursor == nil)
        #expect(try s.store.datasets(tenantID: b, after: nil, limit: 10).items.isEmpty)
        // Update: title kept when absent, description cleared with .some(nil).
        let updated = try #require(try s.store.updateDataset(tenantID: a, id: id, title: nil, description: .some(nil)))
        #expect(JSONCompare.string(updated, "title") == "Scans" && JSONValue.parse(Array(updated.utf8))?["description"] == .null)
        #expect(try s.store.updateDataset(tenantID: b, id: id, title: "x", description: nil) == nil)
        // Delete: refused while a project uses it, naming the project.
        let project = try markUsed(a, id)
        #expect(try s.store.deleteDataset(tenantID: a, id: id) == .inUse([project]))
        #expect(try s.store.deleteDataset(tenantID: b, id: ids.first { $0 != id }!) == .notFound)
        #expect(try s.store.deleteDataset(tenantID: a, id: ids.first { $0 != id }!) == .deleted)
        #expect(try s.store.datasetFiles(tenantID: b, datasetID: id, after: 0, limit: 10) == nil)
    }

    static func attachJobsAreExactAndRefuseOtherTenants(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let (folder, files) = try folderWithFiles(s, tenant: a, name: "f", n: 5)
        let (theirs, theirFiles) = try folderWithFiles(s, tenant: b, name: "g", n: 1)
        guard case .created(let json, _) = try s.store.createDataset(tenantID: a, title: "D", description: nil, mirroredFolderID: nil, createdBy: nil),
              let ds = JSONCompare.string(json, "id") else { Issue.record("not created"); return }
        // Another tenant's folder or file, a malformed id, another tenant's dataset: refused, no job.
        #expect(try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [folder, theirs], fileIDs: [], duplicates: .skip)
                == .targetNotFound(what: "folder", id: theirs))
        #expect(try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: ["bad"], fileIDs: [], duplicates: .skip)
                == .targetNotFound(what: "folder", id: "bad"))
        #expect(try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [], fileIDs: [files[0], theirFiles[0]], duplicates: .skip)
                == .targetNotFound(what: "file", id: String(theirFiles[0])))
        #expect(try s.store.createAttachJob(tenantID: b, datasetID: ds, folderIDs: [theirs], fileIDs: [], duplicates: .skip) == .datasetNotFound)

        // SKIP: the folder plus one of its files (counted once) → 5 memberships.
        guard case .attachJob(let job) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [folder, folder], fileIDs: [files[1]], duplicates: .skip)
        else { Issue.record("no job"); return }
        let kind = try #require(s.store as? any DatasetAttachStore)
        let params = try DatasetAttachParams.parse(try #require(try s.store.jobStore.job(job)).params).get()
        #expect(params.folders == [.init(id: folder, maxFileID: files.last!)] && params.fileIDs.isEmpty)
        #expect(try kind.folderFileIDs(folderID: folder, after: files[0], maxFileID: files[3], limit: 2) == [files[1], files[2]])
        let (skip, _) = try run(s, job: job)
        #expect(skip == UnitCounts(done: 5))
        #expect(try s.store.anyJobExtras(tenantID: a, jobID: job, window: 30)?.kind == DatasetAttach.kind)
        #expect(try s.store.anyJobExtras(tenantID: b, jobID: job, window: 30) == nil)
        // Again: every file a member → skipped.
        guard case .attachJob(let again) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [folder], fileIDs: [], duplicates: .skip) else { return }
        #expect(try run(s, job: again).0 == UnitCounts(skipped: 5))
        // FAIL: one precise error per file already there.
        guard case .attachJob(let fail) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [], fileIDs: [files[4], files[2]], duplicates: .fail) else { return }
        let (failed, errors) = try run(s, job: fail)
        #expect(failed == UnitCounts(errors: 2))
        #expect(errors.map(\.code) == [.alreadyInDataset, .alreadyInDataset] && errors.map(\.index) == [0, 1])
        #expect(errors.first?.message.contains(String(files[2])) == true)
        #expect(try s.store.jobStore.job(fail)?.status == .error)
        // DUPLICATE: copy 1 of two files.
        guard case .attachJob(let dup) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [], fileIDs: [files[0], files[3]], duplicates: .duplicate) else { return }
        #expect(try run(s, job: dup).0 == UnitCounts(done: 2))
        let dataset = try #require(try s.store.dataset(tenantID: a, id: ds))
        #expect(JSONCompare.number(dataset, "fileCount") == 7)
        #expect(JSONValue.parse(Array(dataset.utf8))?["byType"] == .object([("image", .number("7"))]))
        // Data units: membership ids, copies, redacted URLs.
        let page = try #require(try s.store.datasetFiles(tenantID: a, datasetID: ds, after: 0, limit: 6))
        #expect(page.items.count == 6 && page.nextCursor != nil)
        try JSONCompare.expect(page.items[0], [
            ("id", .string(JSONCompare.string(page.items[0], "id") ?? "?")), ("fileId", .string(String(files[0]))), ("copy", .number("0")),
            ("type", .string("image")), ("title", .string("img-0")), ("url", .string("https://b.example/f/0.png?…")),
            ("folderId", .string(folder)), ("jobId", .string(job)), ("addedAt", JSONCompare.anyTime),
        ])
        let last = try #require(try s.store.datasetFiles(tenantID: a, datasetID: ds, after: Int64(page.nextCursor!)!, limit: 6))
        #expect(last.items.count == 1 && JSONCompare.number(last.items[0], "copy") == 1)
        // The folder cannot be deleted while the dataset holds its files.
        #expect(try s.store.deleteFolder(tenantID: a, id: folder) == .inDatasets([ds]))
        // Detach: every copy of the listed file, then the folder's.
        #expect(try s.store.detach(tenantID: a, datasetID: ds, folderIDs: [], fileIDs: [files[0]]) == .detached(2))
        #expect(try s.store.detach(tenantID: a, datasetID: ds, folderIDs: [theirs], fileIDs: []) == .targetNotFound(what: "folder", id: theirs))
        #expect(try s.store.detach(tenantID: a, datasetID: ds, folderIDs: [folder], fileIDs: []) == .detached(5))
        #expect(JSONCompare.number(try #require(try s.store.dataset(tenantID: a, id: ds)), "fileCount") == 0)
        #expect(try s.store.deleteFolder(tenantID: a, id: folder) == .notEmpty("the folder holds 5 files"))
    }

    static func mirroredDatasetsFollowTheirFolder(_ s: APIStoreUnderTest) throws {
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let (folder, files) = try folderWithFiles(s, tenant: a, name: "m", n: 3)
        #expect(try s.store.createDataset(tenantID: b, title: "x", description: nil, mirroredFolderID: folder, createdBy: nil) == .folderNotFound(folder))
        guard case .created(let json, let job?) = try s.store.createDataset(tenantID: a, title: "M", description: nil, mirroredFolderID: folder, createdBy: nil),
              let ds = JSONCompare.string(json, "id") else { Issue.record("no attach job for a folder with files"); return }
        #expect(JSONCompare.string(json, "mirroredFolderId") == folder)
        let params = try DatasetAttachParams.parse(try #require(try s.store.jobStore.job(job)).params).get()
        #expect(params.mirror && params.folders == [.init(id: folder, maxFileID: files.last!)] && params.duplicates == .skip)
        // A later registration into the folder joins in its own commit, before the attach job even runs.
        let (later, units, _) = try APIStoreConformance.upload(s, tenant: a, folder: folder, ["https://b.example/m/later.png"])
        _ = try s.store.commitChunk(ChunkResult(jobID: later, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 1,
                                                items: units.map { .verified($0, APIStoreConformance.info(1)) }))
        #expect(JSONCompare.number(try #require(try s.store.dataset(tenantID: a, id: ds)), "fileCount") == 1)
        #expect(try run(s, job: job).0 == UnitCounts(done: 3))
        #expect(JSONCompare.number(try #require(try s.store.dataset(tenantID: a, id: ds)), "fileCount") == 4)
        // An empty mirrored folder: no job.
        let empty = try #require(JSONCompare.string(try s.store.createFolder(tenantID: a, name: "empty"), "id"))
        guard case .created(_, nil) = try s.store.createDataset(tenantID: a, title: "E", description: nil, mirroredFolderID: empty, createdBy: nil) else {
            Issue.record("a job for an empty folder"); return
        }
        #expect(try s.store.deleteFolder(tenantID: a, id: empty) != .deleted)
    }
}
