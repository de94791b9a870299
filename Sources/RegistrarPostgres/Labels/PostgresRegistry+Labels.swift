import RegistrarCore
import RegistrarRuntime

/// `LabelStore` on PostgreSQL (table `label_rows`, migration 11). The row is kept as the text
/// the API answers (`to_encord_dict()` key order; jsonb would reorder keys); `version` guards
/// every write, so a stale `If-Match` can never overwrite a newer save.
extension PostgresRegistry: LabelStore {
    /// The columns `facts(_:at:)` reads, from `files f`, `dataset_files m`, `datasets d`.
    static let labelFactColumns = """
        m.id::text, f.type, f.width, f.height, f.frame_count, f.title, f.mime_type, f.url, f.fps, f.duration, d.id::text, d.title
        """

    func facts(_ rows: PGRows, _ r: Int, at c: Int) -> LabelUnitFacts {
        let type = rows[r, c + 1]!
        let frames = rows[r, c + 4].flatMap { Int($0) } ?? (type == "image" ? 1 : nil)
        let media = LabelMedia(dataHash: rows[r, c]!, dataType: type, width: rows[r, c + 2].flatMap { Int($0) },
                               height: rows[r, c + 3].flatMap { Int($0) }, frameCount: frames)
        return LabelUnitFacts(media: media, dataTitle: rows[r, c + 5]!, mimeType: rows[r, c + 6], link: rows[r, c + 7],
                              fps: rows[r, c + 8].flatMap { Double($0) }, duration: rows[r, c + 9].flatMap { Double($0) },
                              datasetHash: rows[r, c + 10]!, datasetTitle: rows[r, c + 11]!)
    }

    public func labelRowContext(tenantID: String, projectID: String, dataHash: String) throws -> LabelRowContext? {
        guard UUIDText.isValid(projectID), let unit = Int64(dataHash), unit > 0 else { return nil }
        let rows = try connection.query("""
            SELECT \(Self.labelFactColumns), o.structure, l.row, coalesce(l.version, 0), l.label_hash::text, extract(epoch FROM l.created_at)
            FROM projects p
            JOIN dataset_files m ON m.id = $3
            JOIN project_datasets pd ON pd.project_id = p.id AND pd.dataset_id = m.dataset_id
            JOIN files f ON f.id = m.file_id
            JOIN datasets d ON d.id = m.dataset_id
            LEFT JOIN ontologies o ON o.id = p.ontology_id
            LEFT JOIN label_rows l ON l.project_id = p.id AND l.data_unit = m.id
            WHERE p.id = $1::uuid AND p.tenant_id = $2
            """, [projectID, tenantID, String(unit)])
        guard rows.count == 1 else { return nil }
        return LabelRowContext(ontology: rows[0, 12], facts: facts(rows, 0, at: 0), stored: rows[0, 13], version: Int(rows[0, 14]!)!,
                               labelHash: rows[0, 15], createdAt: rows[0, 16].flatMap { Double($0) })
    }

    public func taskDataHashes(projectID: String, taskUUIDs: [String]) throws -> [String: String] {
        let valid = taskUUIDs.filter(UUIDText.isValid)
        guard UUIDText.isValid(projectID), !valid.isEmpty else { return [:] }
        let rows = try connection.query("SELECT id::text, data_unit FROM tasks WHERE project_id = $1::uuid AND id = ANY($2::uuid[])",
                                        [projectID, PGArray.text(valid)])
        var out: [String: String] = [:]
        for i in 0..<rows.count { out[rows[i, 0]!] = rows[i, 1]! }
        return out
    }

    public func saveLabelRow(projectID: String, dataHash: String, expected: Int, row: String, labelHash: String, labelStatus: String,
                             actor: String?) throws -> LabelWriteOutcome {
        guard UUIDText.isValid(projectID), let unit = Int64(dataHash) else { return .notFound }
        return try connection.withTransaction {
            let written: PGRows
            if expected == 0 {
                written = try connection.query("""
                    INSERT INTO label_rows (project_id, data_unit, label_hash, row, label_status, updated_by)
                    SELECT $1::uuid, m.id, $3::uuid, $4, $5, $6 FROM dataset_files m
                    JOIN project_datasets pd ON pd.dataset_id = m.dataset_id AND pd.project_id = $1::uuid
                    WHERE m.id = $2
                    ON CONFLICT (project_id, data_unit) DO NOTHING RETURNING version
                    """, [projectID, String(unit), labelHash, row, labelStatus, actor])
            } else {
                written = try connection.query("""
                    UPDATE label_rows SET row = $4, label_status = $5, version = version + 1, updated_at = now(), updated_by = $6
                    WHERE project_id = $1::uuid AND data_unit = $2 AND version = $3 RETURNING version
                    """, [projectID, String(unit), String(expected), row, labelStatus, actor])
            }
            if written.count == 1 { return .saved(version: Int(written[0, 0]!)!) }
            let current = try connection.query("SELECT version FROM label_rows WHERE project_id = $1::uuid AND data_unit = $2", [projectID, String(unit)])
            if current.count == 1 { return .stale(current: Int(current[0, 0]!)!) }
            // Never saved: either the writer expected a version that never existed, or the unit left the project.
            let member = try connection.query("""
                SELECT 1 FROM dataset_files m JOIN project_datasets pd ON pd.dataset_id = m.dataset_id AND pd.project_id = $1::uuid WHERE m.id = $2
                """, [projectID, String(unit)])
            return member.count == 1 ? .stale(current: 0) : .notFound
        }
    }

    public func labelRows(projectID: String, filter: LabelRowFilter, after: Int64?, limit: Int) throws -> (rows: [LabelRowItem], next: Int64?) {
        guard UUIDText.isValid(projectID) else { return ([], nil) }
        // Every data unit of the project's datasets (saved or not); the stage filter goes
        // through the unit's task.
        var params: [String?] = [projectID, String(after ?? 0), String(limit + 1)]
        var conditions = ["pd.project_id = $1::uuid", "m.id > $2"]
        var join = ""
        if let stage = filter.stage {
            params.append(stage)
            join = "JOIN tasks t ON t.project_id = pd.project_id AND t.data_unit = m.id AND t.stage = $\(params.count)::uuid"
        }
        if !filter.labelStatuses.isEmpty {
            params.append(PGArray.text(filter.labelStatuses))
            conditions.append("coalesce(l.label_status, 'NOT_LABELLED') = ANY($\(params.count)::text[])")
        }
        let rows = try connection.query("""
            SELECT \(Self.labelFactColumns), l.row
            FROM project_datasets pd JOIN dataset_files m ON m.dataset_id = pd.dataset_id \(join)
            JOIN files f ON f.id = m.file_id JOIN datasets d ON d.id = m.dataset_id
            LEFT JOIN label_rows l ON l.project_id = pd.project_id AND l.data_unit = m.id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY m.id LIMIT $3
            """, params)
        let n = min(rows.count, limit)
        let items: [LabelRowItem] = (0..<n).map { r in rows[r, 12].map(LabelRowItem.stored) ?? .unsaved(facts(rows, r, at: 0)) }
        return (items, rows.count > limit && n > 0 ? Int64(rows[n - 1, 0]!) : nil)
    }
}
