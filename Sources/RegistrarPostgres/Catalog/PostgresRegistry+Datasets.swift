import RegistrarCore
import RegistrarRuntime

/// Datasets on PostgreSQL (`datasets`, `dataset_files`): the API's `DatasetStore` and the
/// `dataset-attach` kind's `DatasetAttachStore`, JSON built in SQL.
extension PostgresRegistry: DatasetStore, DatasetAttachStore {
    static let datasetJSON = """
        json_build_object('id', d.id, 'title', d.title, 'description', d.description, 'mirroredFolderId', d.mirrored_folder_id,
            'createdBy', d.created_by, 'createdAt', \(SQLTime.iso("d.created_at")),
            'fileCount', (SELECT count(*) FROM dataset_files m WHERE m.dataset_id = d.id),
            'byType', (SELECT coalesce(json_object_agg(type, n), '{}'::json)
                       FROM (SELECT f.type, count(*) AS n FROM dataset_files m JOIN files f ON f.id = m.file_id
                             WHERE m.dataset_id = d.id GROUP BY f.type ORDER BY f.type) t))::text
        """

    public func createDataset(tenantID: String, title: String, description: String?, mirroredFolderID: String?,
                              createdBy: String?) throws -> DatasetCreation {
        try connection.withTransaction {
            var maxFileID: Int64?
            if let folder = mirroredFolderID {
                guard UUIDText.isValid(folder) else { return .folderNotFound(folder) }
                // FOR UPDATE waits for every registration commit into the folder (their file
                // inserts hold KEY SHARE on it) and holds later ones until this commits, when
                // they see the dataset: each file is in the snapshot below or joins by itself.
                let rows = try connection.query("SELECT 1 FROM folders WHERE id = $1::uuid AND tenant_id = $2 FOR UPDATE", [folder, tenantID])
                guard rows.count == 1 else { return .folderNotFound(folder) }
                maxFileID = try connection.query("SELECT max(id) FROM files WHERE folder_id = $1::uuid", [folder])[0, 0].flatMap { Int64($0) }
            }
            let id = try connection.query("""
                INSERT INTO datasets (tenant_id, title, description, mirrored_folder_id, created_by)
                VALUES ($1, $2, $3, $4::uuid, $5::uuid) RETURNING id
                """, [tenantID, title, description, mirroredFolderID, createdBy])[0, 0]!
            var job: String?
            if let folder = mirroredFolderID, let maxFileID {
                let params = DatasetAttachParams(datasetID: id, duplicates: .skip, folders: [.init(id: folder.lowercased(), maxFileID: maxFileID)],
                                                 fileIDs: [], mirror: true)
                job = try jobs.createJob(NewJob(kind: DatasetAttach.kind, tenantID: tenantID, params: params.json))
                try jobs.recordTotal(jobID: job!, units: try attachUnitCount(tenantID: tenantID, params: params))
            }
            let json = try connection.query("SELECT \(Self.datasetJSON) FROM datasets d WHERE d.id = $1::uuid", [id])[0, 0]!
            return .created(json: json, attachJobID: job)
        }
    }

    public func dataset(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.datasetJSON) FROM datasets d WHERE d.id = $1::uuid AND d.tenant_id = $2", [id, tenantID])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func datasetOwner(tenantID: String, id: String) throws -> DatasetOwner? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT id, created_by, mirrored_folder_id FROM datasets WHERE id = $1::uuid AND tenant_id = $2", [id, tenantID])
        return rows.count == 1 ? DatasetOwner(id: rows[0, 0]!, createdBy: rows[0, 1], mirroredFolderID: rows[0, 2]) : nil
    }

    public func datasets(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT d.id, \(Self.datasetJSON) FROM datasets d
            WHERE d.tenant_id = $1 AND ($2::uuid IS NULL OR d.id > $2::uuid) ORDER BY d.id LIMIT $3
            """, [tenantID, after.flatMap { UUIDText.isValid($0) ? $0 : nil }, String(limit + 1)])
        let n = min(rows.count, limit)
        return JSONPage(items: (0..<n).map { rows[$0, 1]! }, nextCursor: rows.count > limit && n > 0 ? rows[n - 1, 0] : nil)
    }

    public func updateDataset(tenantID: String, id: String, title: String?, description: String??) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let clear: String? = description == nil ? "false" : "true"
        let rows = try connection.query("""
            WITH d AS (UPDATE datasets SET title = coalesce($3, title), description = CASE WHEN $4::boolean THEN $5 ELSE description END
                       WHERE id = $1::uuid AND tenant_id = $2 RETURNING *)
            SELECT \(Self.datasetJSON) FROM d
            """, [id, tenantID, title, clear, description ?? nil])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func deleteDataset(tenantID: String, id: String) throws -> DatasetDeleteOutcome {
        guard UUIDText.isValid(id) else { return .notFound }
        return try connection.withTransaction {
            // The row lock makes a project attaching it now wait (its key-share check), then fail.
            guard try connection.query("SELECT 1 FROM datasets WHERE id = $1::uuid AND tenant_id = $2 FOR UPDATE", [id, tenantID]).count == 1 else {
                return .notFound
            }
            let users = try connection.query("SELECT project_id::text FROM project_datasets WHERE dataset_id = $1::uuid ORDER BY 1", [id])
            if users.count > 0 { return .inUse((0..<users.count).map { users[$0, 0]! }) }
            _ = try connection.query("DELETE FROM datasets WHERE id = $1::uuid", [id])
            return .deleted
        }
    }

    public func datasetFiles(tenantID: String, datasetID: String, after: Int64, limit: Int) throws -> JSONPage? {
        guard try datasetOwner(tenantID: tenantID, id: datasetID) != nil else { return nil }
        let rows = try connection.query("""
            SELECT m.id, json_build_object('id', m.id::text, 'fileId', f.id::text, 'copy', m.copy, 'type', f.type, 'title', f.title,
                   'url', \(SQLRedact.url("f.url")), 'folderId', f.folder_id, 'jobId', m.job_id, 'addedAt', \(SQLTime.iso("m.added_at")))::text
            FROM dataset_files m JOIN files f ON f.id = m.file_id
            WHERE m.dataset_id = $1::uuid AND m.id > $2 ORDER BY m.id LIMIT $3
            """, [datasetID, String(after), String(limit + 1)])
        let n = min(rows.count, limit)
        return JSONPage(items: (0..<n).map { rows[$0, 1]! }, nextCursor: rows.count > limit && n > 0 ? rows[n - 1, 0] : nil)
    }

    /// The tenant's folders among `ids` with their highest file id (0 when empty), or the first id that is not.
    private func snapshotFolders(tenantID: String, ids: [String]) throws -> Result<[DatasetAttachParams.FolderSnapshot], DatasetTargetOutcome> {
        var seen = Set<String>()
        var out: [DatasetAttachParams.FolderSnapshot] = []
        for raw in ids {
            guard UUIDText.isValid(raw) else { return .failure(.targetNotFound(what: "folder", id: raw)) }
            let id = raw.lowercased()
            guard seen.insert(id).inserted else { continue }
            let rows = try connection.query("""
                SELECT coalesce((SELECT max(x.id) FROM files x WHERE x.folder_id = f.id), 0) FROM folders f
                WHERE f.id = $1::uuid AND f.tenant_id = $2
                """, [id, tenantID])
            guard rows.count == 1 else { return .failure(.targetNotFound(what: "folder", id: raw)) }
            out.append(.init(id: id, maxFileID: Int64(rows[0, 0]!)!))
        }
        return .success(out)
    }

    /// The tenant's files among `ids` with their folders, or the first id that is not the tenant's.
    private func tenantFiles(tenantID: String, ids: [Int64]) throws -> Result<[Int64: String], DatasetTargetOutcome> {
        guard !ids.isEmpty else { return .success([:]) }
        let rows = try connection.query("SELECT id, folder_id FROM files WHERE id = ANY($1::bigint[]) AND tenant_id = $2",
                                        [PGArray.ints(ids.map { Int($0) }), tenantID])
        var found: [Int64: String] = [:]
        for i in 0..<rows.count { found[Int64(rows[i, 0]!)!] = rows[i, 1]! }
        if let missing = ids.first(where: { found[$0] == nil }) { return .failure(.targetNotFound(what: "file", id: String(missing))) }
        return .success(found)
    }

    public func createAttachJob(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64],
                                duplicates: DuplicatesBehavior) throws -> DatasetTargetOutcome {
        guard try datasetOwner(tenantID: tenantID, id: datasetID) != nil else { return .datasetNotFound }
        let folders: [DatasetAttachParams.FolderSnapshot]
        switch try snapshotFolders(tenantID: tenantID, ids: folderIDs) {
        case .failure(let refusal): return refusal
        case .success(let f): folders = f
        }
        let owners: [Int64: String]
        switch try tenantFiles(tenantID: tenantID, ids: fileIDs) {
        case .failure(let refusal): return refusal
        case .success(let f): owners = f
        }
        let covered = Dictionary(folders.map { ($0.id, $0.maxFileID) }, uniquingKeysWith: { a, _ in a })
        // A file of a listed folder is attached with its folder: one unit per file.
        let singles = Set(fileIDs).filter { id in covered[owners[id]!].map { id > $0 } ?? true }.sorted()
        let params = DatasetAttachParams(datasetID: datasetID.lowercased(), duplicates: duplicates, folders: folders, fileIDs: singles)
        // Counted now, like an upload's manifest: the job's total is known from its first answer.
        let job = try jobs.createJob(NewJob(kind: DatasetAttach.kind, tenantID: tenantID, params: params.json))
        try jobs.recordTotal(jobID: job, units: try attachUnitCount(tenantID: tenantID, params: params))
        return .attachJob(job)
    }

    public func detach(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64]) throws -> DatasetTargetOutcome {
        guard try datasetOwner(tenantID: tenantID, id: datasetID) != nil else { return .datasetNotFound }
        let folders: [DatasetAttachParams.FolderSnapshot]
        switch try snapshotFolders(tenantID: tenantID, ids: folderIDs) {
        case .failure(let refusal): return refusal
        case .success(let f): folders = f
        }
        if case .failure(let refusal) = try tenantFiles(tenantID: tenantID, ids: fileIDs) { return refusal }
        let rows = try connection.query("""
            WITH gone AS (DELETE FROM dataset_files m USING files f
                          WHERE m.dataset_id = $1::uuid AND f.id = m.file_id
                            AND (f.folder_id = ANY($2::uuid[]) OR f.id = ANY($3::bigint[])) RETURNING 1)
            SELECT count(*) FROM gone
            """, [datasetID, PGArray.text(folders.map(\.id)), PGArray.ints(fileIDs.map { Int($0) })])
        return .detached(Int(rows[0, 0]!)!)
    }

    public func anyJobExtras(tenantID: String, jobID: String, window: Int) throws -> (kind: String, extras: JobExtras)? {
        guard UUIDText.isValid(jobID) else { return nil }
        let rows = try connection.query("SELECT kind FROM jobs WHERE id = $1::uuid AND tenant_id = $2", [jobID, tenantID])
        guard rows.count == 1, let kind = rows[0, 0], let extras = try engineJobExtras(jobID: jobID, window: window) else { return nil }
        return (kind, extras)
    }

    // MARK: The attach kind's store

    public func attachUnitCount(tenantID: String, params: DatasetAttachParams) throws -> Int {
        var total = params.fileIDs.count
        for folder in params.folders {
            total += Int(try connection.query("SELECT count(*) FROM files WHERE folder_id = $1::uuid AND id <= $2",
                                              [folder.id, String(folder.maxFileID)])[0, 0]!)!
        }
        return total
    }

    public func folderFileIDs(folderID: String, after: Int64, maxFileID: Int64, limit: Int) throws -> [Int64] {
        let rows = try connection.query("""
            SELECT id FROM files WHERE folder_id = $1::uuid AND id > $2 AND id <= $3 ORDER BY id LIMIT $4
            """, [folderID, String(after), String(maxFileID), String(limit)])
        return (0..<rows.count).map { Int64(rows[$0, 0]!)! }
    }

    public func commitAttach(_ chunk: DatasetAttachChunk, failAll: DeadLetter?) throws -> CommitOutcome {
        let id = ChunkID(jobID: chunk.jobID, seq: chunk.seq)
        return try jobs.commitChunk(id, deadLetter: failAll) { conn in
            func every(_ code: UnitErrorCode, _ message: String) -> ChunkWrite {
                ChunkWrite(errors: chunk.fileIDs.indices.map {
                    UnitError(index: chunk.firstUnit + $0, urls: [], code: code, message: message, action: DatasetAttach.action)
                })
            }
            if let failAll { return every(.internalError, failAll.unitMessage) }
            // Key share: the dataset cannot be deleted under this commit. The advisory lock on the
            // dataset is shared by SKIP/FAIL commits and exclusive for DUPLICATE, whose copy
            // numbers read the rows other commits write.
            let lock = chunk.duplicates == .duplicate ? "pg_advisory_xact_lock" : "pg_advisory_xact_lock_shared"
            let alive = try conn.query("""
                SELECT \(lock)(hashtextextended(id::text, 7)) FROM datasets WHERE id = $1::uuid AND tenant_id = $2 FOR KEY SHARE
                """, [chunk.datasetID, chunk.tenantID])
            guard alive.count == 1 else { return every(.datasetGone, "the dataset \(chunk.datasetID) was deleted while the job ran") }
            let copy = chunk.duplicates == .duplicate
                ? "coalesce((SELECT max(x.copy) + 1 FROM dataset_files x WHERE x.dataset_id = $1::uuid AND x.file_id = f.id), 0)"
                : "0"
            let conflict = chunk.duplicates == .duplicate ? "" : "ON CONFLICT (dataset_id, file_id, copy) DO NOTHING"
            // One statement: the memberships, and back the units that were not inserted (the
            // file is gone, not usable, or already a member) with their positions. Only verified,
            // live files join (a file not from a sync was verified by its registration): a
            // synced file not probed yet (or whose probe failed) or whose
            // object vanished (tombstoned) is skipped, decided here at the commit (docs/datasets.md);
            // a mirrored dataset takes a synced file when its probe verifies it.
            let rows = try conn.query("""
                WITH input AS (SELECT u.id, u.ord FROM unnest($3::bigint[]) WITH ORDINALITY AS u(id, ord)),
                ins AS (INSERT INTO dataset_files (dataset_id, file_id, copy, job_id)
                        SELECT $1::uuid, f.id, \(copy), $4::uuid FROM input JOIN files f ON f.id = input.id AND f.tenant_id = $2
                        WHERE f.tombstoned_at IS NULL AND (f.sync_key IS NULL OR f.verified_at IS NOT NULL)
                        ORDER BY f.id \(conflict) RETURNING file_id)
                SELECT input.ord - 1, input.id, f.id IS NULL, f.tombstoned_at IS NOT NULL OR (f.sync_key IS NOT NULL AND f.verified_at IS NULL)
                FROM input LEFT JOIN files f ON f.id = input.id AND f.tenant_id = $2
                WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.file_id = input.id)
                """, [chunk.datasetID, chunk.tenantID, PGArray.ints(chunk.fileIDs.map { Int($0) }), chunk.jobID])
            var skipped = 0
            var errors: [UnitError] = []
            for i in 0..<rows.count {
                let index = chunk.firstUnit + Int(rows[i, 0]!)!
                let file = rows[i, 1]!
                if rows[i, 2] == "t" {
                    errors.append(UnitError(index: index, urls: [], code: .fileGone, message: "file \(file) no longer exists", action: DatasetAttach.action))
                } else if rows[i, 3] == "t" {
                    skipped += 1   // not verified (yet), or tombstoned
                } else if chunk.duplicates == .fail {
                    errors.append(UnitError(index: index, urls: [], code: .alreadyInDataset,
                                            message: "file \(file) is in the dataset already (duplicates FAIL)", action: DatasetAttach.action))
                } else {
                    skipped += 1
                }
            }
            return ChunkWrite(done: chunk.fileIDs.count - rows.count, skipped: skipped, errors: errors)
        }
    }
}
