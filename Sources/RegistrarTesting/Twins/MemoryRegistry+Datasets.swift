import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's datasets and memberships. Guarded by the registry's lock.
final class MemoryDatasetState {
    struct Dataset {
        var tenantID: String
        var title: String
        var description: String?
        var mirroredFolderID: String?
        var createdBy: String?
        var createdAt: String
    }
    struct Membership {
        var id: Int64
        var datasetID: String
        var fileID: Int64
        var copy: Int
        var jobID: String?
        var addedAt: String
    }
    var datasets: [String: Dataset] = [:]
    var members: [Int64: Membership] = [:]
    var nextMemberID: Int64 = 0
    /// dataset → projects using it (the access part's projects write here).
    var projectsUsing: [String: Set<String>] = [:]
}

/// The in-memory twin of `PostgresRegistry+Datasets`: the same JSON, refusals and counts.
extension MemoryRegistry: DatasetStore, DatasetAttachStore {
    private var ds: MemoryDatasetState { catalogDatasets }

    /// Tests: marks a dataset as used by a project (what `project_datasets` holds on PostgreSQL).
    public func markDatasetUsed(_ datasetID: String, byProject projectID: String) {
        locked { ds.projectsUsing[datasetID.lowercased(), default: []].insert(projectID) }
    }

    /// A file registered into a folder joins the folder's mirrored datasets (called in the chunk's commit).
    func mirrorNewFile(_ fileID: Int64, folderID: String) {
        for (id, d) in ds.datasets where d.mirroredFolderID == folderID {
            _ = addMember(datasetID: id, fileID: fileID, copy: 0, jobID: nil)
        }
    }

    /// Adds a membership unless (dataset, file, copy) exists; true when added.
    private func addMember(datasetID: String, fileID: Int64, copy: Int, jobID: String?) -> Bool {
        if ds.members.values.contains(where: { $0.datasetID == datasetID && $0.fileID == fileID && $0.copy == copy }) { return false }
        ds.nextMemberID += 1
        ds.members[ds.nextMemberID] = .init(id: ds.nextMemberID, datasetID: datasetID, fileID: fileID, copy: copy, jobID: jobID,
                                            addedAt: MemoryJobStore.now())
        makeTasksForNewUnit(ds.nextMemberID, datasetID: datasetID)
        return true
    }

    private func datasetJSON(_ id: String) -> String? {
        locked {
            guard let d = ds.datasets[id] else { return nil }
            let held = ds.members.values.filter { $0.datasetID == id }
            var byType: [(key: String, value: JSONValue)] = []
            let types = Dictionary(grouping: held.compactMap { files[$0.fileID]?.unit.type.rawValue }, by: { $0 }).mapValues(\.count)
            for (type, n) in types.sorted(by: { $0.key < $1.key }) { byType.append((type, .number(String(n)))) }
            func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
            return JSONValue.object([
                ("id", .string(id)), ("title", .string(d.title)), ("description", str(d.description)),
                ("mirroredFolderId", str(d.mirroredFolderID)), ("createdBy", str(d.createdBy)), ("createdAt", .string(d.createdAt)),
                ("fileCount", .number(String(held.count))), ("byType", .object(byType)),
            ]).compactText
        }
    }

    private func tenantDataset(_ tenantID: String, _ id: String) -> String? {
        let key = id.lowercased()
        return UUIDText.isValid(id) && locked({ ds.datasets[key]?.tenantID == tenantID }) ? key : nil
    }

    public func createDataset(tenantID: String, title: String, description: String?, mirroredFolderID: String?,
                              createdBy: String?) throws -> DatasetCreation {
        try locked {
            var maxFileID: Int64?
            let folder = mirroredFolderID?.lowercased()
            if let folder {
                guard UUIDText.isValid(folder), folders[folder]?.tenantID == tenantID else { return .folderNotFound(mirroredFolderID!) }
                maxFileID = files.values.filter { $0.folderID == folder }.map(\.id).max()
            }
            let id = UUID().uuidString.lowercased()
            ds.datasets[id] = .init(tenantID: tenantID, title: title, description: description, mirroredFolderID: folder,
                                    createdBy: createdBy, createdAt: MemoryJobStore.now())
            var job: String?
            if let folder, let maxFileID {
                let params = DatasetAttachParams(datasetID: id, duplicates: .skip, folders: [.init(id: folder, maxFileID: maxFileID)], fileIDs: [], mirror: true)
                job = try jobs.createJob(NewJob(kind: DatasetAttach.kind, tenantID: tenantID, params: params.json))
                try jobs.recordTotal(jobID: job!, units: try attachUnitCount(tenantID: tenantID, params: params))
            }
            return .created(json: datasetJSON(id)!, attachJobID: job)
        }
    }

    public func dataset(tenantID: String, id: String) throws -> String? {
        tenantDataset(tenantID, id).flatMap(datasetJSON)
    }

    public func datasetOwner(tenantID: String, id: String) throws -> DatasetOwner? {
        guard let key = tenantDataset(tenantID, id), let d = locked({ ds.datasets[key] }) else { return nil }
        return DatasetOwner(id: key, createdBy: d.createdBy, mirroredFolderID: d.mirroredFolderID)
    }

    public func datasets(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let ids = locked { ds.datasets.filter { $0.value.tenantID == tenantID && (after == nil || $0.key > after!.lowercased()) }.keys.sorted() }
        let shown = ids.prefix(limit)
        return JSONPage(items: shown.compactMap(datasetJSON), nextCursor: ids.count > limit ? shown.last : nil)
    }

    public func updateDataset(tenantID: String, id: String, title: String?, description: String??) throws -> String? {
        guard let key = tenantDataset(tenantID, id) else { return nil }
        locked {
            if let title { ds.datasets[key]?.title = title }
            if let description { ds.datasets[key]?.description = description }
        }
        return datasetJSON(key)
    }

    public func deleteDataset(tenantID: String, id: String) throws -> DatasetDeleteOutcome {
        guard let key = tenantDataset(tenantID, id) else { return .notFound }
        return locked {
            let users = (ds.projectsUsing[key] ?? []).union(access.projects.filter { $0.value.datasetIDs.contains(key) }.keys)
            if !users.isEmpty { return .inUse(users.sorted()) }
            ds.datasets[key] = nil
            ds.members = ds.members.filter { $0.value.datasetID != key }
            return .deleted
        }
    }

    public func datasetFiles(tenantID: String, datasetID: String, after: Int64, limit: Int) throws -> JSONPage? {
        guard let key = tenantDataset(tenantID, datasetID) else { return nil }
        let rows = locked { ds.members.values.filter { $0.datasetID == key && $0.id > after }.sorted { $0.id < $1.id } }
        let shown = rows.prefix(limit)
        let items = locked {
            shown.compactMap { m -> String? in
                guard let f = files[m.fileID] else { return nil }
                return JSONValue.object([
                    ("id", .string(String(m.id))), ("fileId", .string(String(f.id))), ("copy", .number(String(m.copy))),
                    ("type", .string(f.unit.type.rawValue)), ("title", .string(f.unit.title)),
                    ("url", .string(Self.shown((f.info.orderedURLs ?? f.unit.urls)[0]))), ("folderId", .string(f.folderID)),
                    ("jobId", m.jobID.map(JSONValue.string) ?? .null), ("addedAt", .string(m.addedAt)),
                ]).compactText
            }
        }
        return JSONPage(items: items, nextCursor: rows.count > limit ? shown.last.map { String($0.id) } : nil)
    }

    private func snapshot(_ tenantID: String, _ ids: [String]) -> Result<[DatasetAttachParams.FolderSnapshot], DatasetTargetOutcome> {
        locked {
            var seen = Set<String>()
            var out: [DatasetAttachParams.FolderSnapshot] = []
            for raw in ids {
                let id = raw.lowercased()
                guard UUIDText.isValid(raw), folders[id]?.tenantID == tenantID else { return .failure(.targetNotFound(what: "folder", id: raw)) }
                guard seen.insert(id).inserted else { continue }
                out.append(.init(id: id, maxFileID: files.values.filter { $0.folderID == id }.map(\.id).max() ?? 0))
            }
            return .success(out)
        }
    }

    private func tenantFiles(_ tenantID: String, _ ids: [Int64]) -> Result<[Int64: String], DatasetTargetOutcome> {
        locked {
            var out: [Int64: String] = [:]
            for id in ids {
                guard let f = files[id], folders[f.folderID]?.tenantID == tenantID else { return .failure(.targetNotFound(what: "file", id: String(id))) }
                out[id] = f.folderID
            }
            return .success(out)
        }
    }

    public func createAttachJob(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64],
                                duplicates: DuplicatesBehavior) throws -> DatasetTargetOutcome {
        guard let key = tenantDataset(tenantID, datasetID) else { return .datasetNotFound }
        let folders: [DatasetAttachParams.FolderSnapshot]
        switch snapshot(tenantID, folderIDs) { case .failure(let r): return r; case .success(let f): folders = f }
        let owners: [Int64: String]
        switch tenantFiles(tenantID, fileIDs) { case .failure(let r): return r; case .success(let f): owners = f }
        let covered = Dictionary(folders.map { ($0.id, $0.maxFileID) }, uniquingKeysWith: { a, _ in a })
        let singles = Set(fileIDs).filter { id in covered[owners[id]!].map { id > $0 } ?? true }.sorted()
        let params = DatasetAttachParams(datasetID: key, duplicates: duplicates, folders: folders, fileIDs: singles)
        let job = try jobs.createJob(NewJob(kind: DatasetAttach.kind, tenantID: tenantID, params: params.json))
        try jobs.recordTotal(jobID: job, units: try attachUnitCount(tenantID: tenantID, params: params))
        return .attachJob(job)
    }

    public func detach(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64]) throws -> DatasetTargetOutcome {
        guard let key = tenantDataset(tenantID, datasetID) else { return .datasetNotFound }
        let folders: [DatasetAttachParams.FolderSnapshot]
        switch snapshot(tenantID, folderIDs) { case .failure(let r): return r; case .success(let f): folders = f }
        if case .failure(let r) = tenantFiles(tenantID, fileIDs) { return r }
        let inFolders = Set(folders.map(\.id)), singles = Set(fileIDs)
        return locked {
            let gone = ds.members.filter { m in
                m.value.datasetID == key && (singles.contains(m.value.fileID) || files[m.value.fileID].map { inFolders.contains($0.folderID) } == true)
            }
            for id in gone.keys { ds.members[id] = nil }
            removeTasks { gone[$0.dataUnit] != nil }
            return .detached(gone.count)
        }
    }

    public func anyJobExtras(tenantID: String, jobID: String, window: Int) throws -> (kind: String, extras: JobExtras)? {
        guard UUIDText.isValid(jobID), let job = try jobs.job(jobID.lowercased()), job.tenantID == tenantID,
              let extras = try engineJobExtras(jobID: jobID, window: window) else { return nil }
        return (job.kind, extras)
    }

    /// Datasets holding files of a folder or mirroring it (the folder delete's refusal).
    func datasetsHolding(folderID: String) -> [String] {
        locked {
            let held = ds.members.values.filter { files[$0.fileID]?.folderID == folderID }.map(\.datasetID)
            let mirrors = ds.datasets.filter { $0.value.mirroredFolderID == folderID }.map(\.key)
            return Set(held + mirrors).sorted()
        }
    }

    // MARK: The attach kind's store

    public func attachUnitCount(tenantID: String, params: DatasetAttachParams) throws -> Int {
        locked { params.fileIDs.count + params.folders.reduce(0) { n, f in n + files.values.filter { $0.folderID == f.id && $0.id <= f.maxFileID }.count } }
    }

    public func folderFileIDs(folderID: String, after: Int64, maxFileID: Int64, limit: Int) throws -> [Int64] {
        locked { Array(files.values.filter { $0.folderID == folderID && $0.id > after && $0.id <= maxFileID }.map(\.id).sorted().prefix(limit)) }
    }

    public func commitAttach(_ chunk: DatasetAttachChunk, failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) {
            try locked {
                func every(_ code: UnitErrorCode, _ message: String) -> ChunkWrite {
                    ChunkWrite(errors: chunk.fileIDs.indices.map {
                        UnitError(index: chunk.firstUnit + $0, urls: [], code: code, message: message, action: DatasetAttach.action)
                    })
                }
                if let failAll { return every(.internalError, failAll.unitMessage) }
                guard let d = ds.datasets[chunk.datasetID], d.tenantID == chunk.tenantID else {
                    return every(.datasetGone, "the dataset \(chunk.datasetID) was deleted while the job ran")
                }
                var write = ChunkWrite()
                for (i, fileID) in chunk.fileIDs.enumerated() {
                    let index = chunk.firstUnit + i
                    guard let f = files[fileID], folders[f.folderID]?.tenantID == chunk.tenantID else {
                        write.errors.append(UnitError(index: index, urls: [], code: .fileGone, message: "file \(fileID) no longer exists",
                                                      action: DatasetAttach.action))
                        continue
                    }
                    let copies = ds.members.values.filter { $0.datasetID == chunk.datasetID && $0.fileID == fileID }.map(\.copy)
                    switch chunk.duplicates {
                    case .duplicate:
                        _ = addMember(datasetID: chunk.datasetID, fileID: fileID, copy: (copies.max() ?? -1) + 1, jobID: chunk.jobID)
                        write.done += 1
                    case .skip, .fail:
                        if addMember(datasetID: chunk.datasetID, fileID: fileID, copy: 0, jobID: chunk.jobID) {
                            write.done += 1
                        } else if chunk.duplicates == .skip {
                            write.skipped += 1
                        } else {
                            write.errors.append(UnitError(index: index, urls: [], code: .alreadyInDataset,
                                                          message: "file \(fileID) is in the dataset already (duplicates FAIL)", action: DatasetAttach.action))
                        }
                    }
                    _ = d
                }
                return write
            }
        }
    }
}
