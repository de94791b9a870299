import RegistrarCore
import RegistrarRuntime

/// `ExportStore` on PostgreSQL (tables `exports`, `export_parts`, migration 12).
extension PostgresRegistry: ExportStore, JobParamsReader {
    public func jobParams(_ jobID: String) throws -> JSONValue? {
        try jobs.job(jobID)?.params
    }

    public func createExport(tenantID: String, params: ExportParams) throws -> String? {
        guard UUIDText.isValid(params.projectID) else { return nil }
        return try connection.withTransaction {
            let p = try connection.query("SELECT id FROM projects WHERE id = $1::uuid AND tenant_id = $2", [params.projectID, tenantID])
            guard p.count == 1 else { return nil }
            let max = try connection.query("""
                SELECT coalesce(max(m.id), 0) FROM project_datasets pd JOIN dataset_files m ON m.dataset_id = pd.dataset_id WHERE pd.project_id = $1::uuid
                """, [params.projectID])[0, 0].flatMap { Int64($0) } ?? 0
            var fixed = params
            fixed.maxUnitID = max
            let job = try jobs.createJob(NewJob(kind: Export.kind, tenantID: tenantID, params: fixed.json))
            try jobs.recordTotal(jobID: job, units: try exportUnitCount(params: fixed))
            _ = try connection.query("""
                INSERT INTO exports (job_id, tenant_id, project_id, format, version_name) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5)
                """, [job, tenantID, params.projectID, params.format.rawValue, params.versionName])
            return job
        }
    }

    public func exportRecord(tenantID: String, jobID: String) throws -> ExportRecord? {
        guard UUIDText.isValid(jobID) else { return nil }
        let rows = try connection.query("""
            SELECT e.project_id::text, p.title, j.params::text, e.file_key, e.file_size, e.file_sha256
            FROM exports e JOIN jobs j ON j.id = e.job_id JOIN projects p ON p.id = e.project_id
            WHERE e.job_id = $1::uuid AND e.tenant_id = $2::uuid
            """, [jobID, tenantID])
        guard rows.count == 1, let v = JSONValue.parse(Array(rows[0, 2]!.utf8)), case .success(let params) = ExportParams.parse(v) else { return nil }
        var file: StoredObject?
        if let key = rows[0, 3].flatMap(ObjectKey.init), let size = rows[0, 4].flatMap({ Int64($0) }), let sha = rows[0, 5] {
            file = StoredObject(key: key, size: size, sha256: sha, contentType: "application/json")
        }
        return ExportRecord(jobID: jobID.lowercased(), projectID: rows[0, 0]!, projectTitle: rows[0, 1]!, params: params, file: file)
    }

    public func exportUnitCount(params: ExportParams) throws -> Int {
        Int(try connection.query("""
            SELECT count(*) FROM project_datasets pd JOIN dataset_files m ON m.dataset_id = pd.dataset_id WHERE pd.project_id = $1::uuid AND m.id <= $2
            """, [params.projectID, String(params.maxUnitID)])[0, 0]!)!
    }

    public func exportUnitIDs(projectID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64] {
        let rows = try connection.query("""
            SELECT m.id FROM project_datasets pd JOIN dataset_files m ON m.dataset_id = pd.dataset_id
            WHERE pd.project_id = $1::uuid AND m.id > $2 AND m.id <= $3 ORDER BY m.id LIMIT $4
            """, [projectID, String(after), String(maxUnitID), String(limit)])
        return (0..<rows.count).map { Int64(rows[$0, 0]!)! }
    }

    public func exportSources(projectID: String, unitIDs: [Int64], stage: String?) throws -> [ExportSource] {
        let rows = try connection.query("""
            SELECT \(Self.labelFactColumns), l.row, array_to_json(f.urls)::text, array_to_json(f.dicom_sop_uids)::text,
                   (SELECT j.integration_id::text FROM jobs j WHERE j.id = f.job_id)
            FROM unnest($2::bigint[]) u(id) JOIN dataset_files m ON m.id = u.id
            JOIN project_datasets pd ON pd.dataset_id = m.dataset_id AND pd.project_id = $1::uuid
            JOIN files f ON f.id = m.file_id JOIN datasets d ON d.id = m.dataset_id
            LEFT JOIN label_rows l ON l.project_id = pd.project_id AND l.data_unit = m.id
            WHERE $3::uuid IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = pd.project_id AND t.data_unit = m.id AND t.stage = $3::uuid)
            ORDER BY m.id
            """, [projectID, PGArray.ints(unitIDs.map { Int($0) }), stage])
        return (0..<rows.count).map { r in
            ExportSource(facts: facts(rows, r, at: 0), row: rows[r, 12], frameURLs: rows[r, 13].map { JSONArrayText.strings($0) } ?? [],
                         sopInstanceUIDs: rows[r, 14].map { JSONArrayText.strings($0) } ?? [], integrationID: rows[r, 15])
        }
    }

    public func exportProject(projectID: String) throws -> (title: String, ontology: String?)? {
        let rows = try connection.query("""
            SELECT p.title, o.structure FROM projects p LEFT JOIN ontologies o ON o.id = p.ontology_id WHERE p.id = $1::uuid
            """, [projectID])
        return rows.count == 1 ? (rows[0, 0]!, rows[0, 1]) : nil
    }

    public func commitExportPart(_ chunk: ExportChunk, part: ExportPartRecord?, failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) { conn in
            guard let part, failAll == nil else {
                return ChunkWrite(errors: chunk.unitIDs.indices.map {
                    UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll?.unitMessage ?? "the chunk failed",
                              action: Export.action)
                })
            }
            _ = try conn.query("""
                INSERT INTO export_parts (job_id, seq, object_key, rows, images, annotations, tracks) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (job_id, seq) DO NOTHING
                """, [chunk.jobID, String(chunk.seq), part.key, String(part.rows), String(part.images), String(part.annotations), String(part.tracks)])
            return ChunkWrite(done: part.rows, skipped: chunk.unitIDs.count - part.rows)
        }
    }

    public func exportParts(jobID: String) throws -> [ExportPartRecord] {
        let rows = try connection.query("""
            SELECT seq, object_key, rows, images, annotations, tracks FROM export_parts WHERE job_id = $1::uuid ORDER BY seq
            """, [jobID])
        return (0..<rows.count).map { r in
            ExportPartRecord(seq: Int(rows[r, 0]!)!, key: rows[r, 1]!, rows: Int(rows[r, 2]!)!, images: Int(rows[r, 3]!)!,
                             annotations: Int(rows[r, 4]!)!, tracks: Int(rows[r, 5]!)!)
        }
    }

    public func recordExportFile(jobID: String, file: StoredObject) throws -> StoredObject {
        _ = try connection.query("""
            UPDATE exports SET file_key = $2, file_size = $3, file_sha256 = $4, assembled_at = now() WHERE job_id = $1::uuid AND file_key IS NULL
            """, [jobID, file.key.text, String(file.size), file.sha256])
        let rows = try connection.query("SELECT file_key, file_size, file_sha256 FROM exports WHERE job_id = $1::uuid", [jobID])
        guard rows.count == 1, let key = rows[0, 0].flatMap(ObjectKey.init) else { return file }
        return StoredObject(key: key, size: Int64(rows[0, 1]!)!, sha256: rows[0, 2]!, contentType: "application/json")
    }
}
