import RegistrarCore
import RegistrarRuntime

/// `OntologyStore` on PostgreSQL (table `ontologies`, migration 7). The structure column holds
/// the normalised text; answers embed it through `::json`, which keeps the text as stored (key
/// order included), never re-ordering it as `jsonb` would.
extension PostgresRegistry: OntologyStore {
    static let ontologyJSON = """
        json_build_object('id', o.id, 'title', o.title, 'description', o.description, 'structure', o.structure::json,
            'version', o.version, 'createdAt', \(SQLTime.iso("o.created_at")), 'updatedAt', \(SQLTime.iso("o.updated_at")),
            'createdBy', o.created_by)::text
        """
    static let ontologyListJSON = """
        json_build_object('id', o.id, 'title', o.title, 'description', o.description, 'version', o.version,
            'objectCount', json_array_length(o.structure::json -> 'objects'),
            'classificationCount', json_array_length(o.structure::json -> 'classifications'),
            'createdAt', \(SQLTime.iso("o.created_at")), 'updatedAt', \(SQLTime.iso("o.updated_at")),
            'createdBy', o.created_by)::text
        """

    public func createOntology(tenantID: String, title: String, description: String?, structure: String, createdBy: String?) throws -> String {
        try connection.query("""
            WITH o AS (INSERT INTO ontologies (tenant_id, title, description, structure, created_by)
                       VALUES ($1, $2, $3, $4, $5::uuid) RETURNING *)
            SELECT \(Self.ontologyJSON) FROM o
            """, [tenantID, title, description, structure, createdBy])[0, 0]!
    }

    public func ontology(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.ontologyJSON) FROM ontologies o WHERE o.id = $2::uuid AND o.tenant_id = $1",
                                        [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func storedOntology(tenantID: String, id: String) throws -> StoredOntology? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("""
            SELECT id::text, title, description, structure, version, created_by::text FROM ontologies
            WHERE id = $2::uuid AND tenant_id = $1
            """, [tenantID, id])
        guard rows.count == 1 else { return nil }
        return StoredOntology(id: rows[0, 0]!, title: rows[0, 1]!, description: rows[0, 2], structure: rows[0, 3]!,
                              version: Int(rows[0, 4]!) ?? 0, createdBy: rows[0, 5])
    }

    public func ontologies(tenantID: String, after: CatalogPosition?, limit: Int) throws -> (items: [String], next: CatalogPosition?) {
        let rows = try connection.query("""
            SELECT (extract(epoch FROM o.created_at) * 1000000)::bigint, o.id::text, \(Self.ontologyListJSON) FROM ontologies o
            WHERE o.tenant_id = $1
              AND ($2::bigint IS NULL OR (o.created_at, o.id) > ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
            ORDER BY o.created_at, o.id LIMIT $4
            """, [tenantID, after.map { String($0.createdMicros) }, after?.id, String(limit + 1)])
        let n = min(rows.count, limit)
        let items = (0..<n).map { rows[$0, 2]! }
        let next = rows.count > limit && n > 0 ? CatalogPosition(createdMicros: Int64(rows[n - 1, 0]!) ?? 0, id: rows[n - 1, 1]!) : nil
        return (items, next)
    }

    public func updateOntology(tenantID: String, id: String, version: Int, title: String, description: String?, structure: String,
                               refuseIfUsed: Bool) throws -> OntologyWriteOutcome {
        guard UUIDText.isValid(id) else { return .notFound }
        return try connection.withTransaction {
            // The row lock orders this update after any concurrent one; the version check
            // catches an edit made between the caller's read and this write.
            let current = try connection.query("SELECT version FROM ontologies WHERE id = $2::uuid AND tenant_id = $1 FOR UPDATE",
                                               [tenantID, id])
            guard current.count == 1 else { return .notFound }
            guard current[0, 0] == String(version) else { return .stale }
            if refuseIfUsed {
                let users = try projectsUsingOntology(tenantID: tenantID, id: id)
                if !users.isEmpty { return .inUse(users) }
            }
            let rows = try connection.query("""
                WITH o AS (UPDATE ontologies SET title = $3, description = $4, structure = $5, version = version + 1, updated_at = now()
                           WHERE id = $2::uuid AND tenant_id = $1 RETURNING *)
                SELECT \(Self.ontologyJSON) FROM o
                """, [tenantID, id, title, description, structure])
            return .done(rows[0, 0]!)
        }
    }

    public func projectsUsingOntology(tenantID: String, id: String) throws -> [String] {
        guard UUIDText.isValid(id) else { return [] }
        let rows = try connection.query("SELECT id::text FROM projects WHERE ontology_id = $2::uuid AND tenant_id = $1 ORDER BY id",
                                        [tenantID, id])
        return (0..<rows.count).map { rows[$0, 0]! }
    }

    public func deleteOntology(tenantID: String, id: String) throws -> OntologyWriteOutcome {
        guard UUIDText.isValid(id) else { return .notFound }
        return try connection.withTransaction {
            let rows = try connection.query("SELECT 1 FROM ontologies WHERE id = $2::uuid AND tenant_id = $1 FOR UPDATE", [tenantID, id])
            guard rows.count == 1 else { return .notFound }
            let users = try projectsUsingOntology(tenantID: tenantID, id: id)
            if !users.isEmpty { return .inUse(users) }
            _ = try connection.query("DELETE FROM ontologies WHERE id = $1::uuid", [id])
            return .done("")
        }
    }
}
