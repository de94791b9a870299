import RegistrarCore
import RegistrarRuntime

/// Workflow templates on PostgreSQL (`workflow_templates`, migration 10).
extension PostgresRegistry: WorkflowTemplateStore {
    static let templateJSON = """
        json_build_object('id', w.id, 'title', w.title, 'description', w.description, 'graphNodes', w.graph::json->'graphNodes',
            'createdBy', w.created_by, 'createdAt', \(SQLTime.iso("w.created_at")))::text
        """

    public func createTemplate(_ t: NewWorkflowTemplate) throws -> String {
        // ON CONFLICT: a taken title is a refusal, not an error (and no aborted transaction).
        let rows = try connection.query("""
            INSERT INTO workflow_templates AS w (tenant_id, title, description, graph, created_by) VALUES ($1, $2, $3, $4, $5::uuid)
            ON CONFLICT (tenant_id, title) DO NOTHING RETURNING \(Self.templateJSON)
            """, [t.tenantID, t.title, t.description, t.graph, t.createdBy])
        guard rows.count == 1, let json = rows[0, 0] else {
            throw WorkflowTemplateRefusal.titleTaken("a workflow template titled \(t.title) exists already")
        }
        return json
    }

    public func templates(tenantID: String, after: [String]?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT w.title, w.id, \(Self.templateJSON) FROM workflow_templates w
            WHERE w.tenant_id = $1 AND ($2::text IS NULL OR w.title COLLATE "C" > $2 OR (w.title = $2 AND w.id > $3::uuid))
            ORDER BY w.title COLLATE "C", w.id LIMIT $4
            """, [tenantID, after?[0], after?[1], String(limit + 1)])
        let n = min(rows.count, limit)
        let next = rows.count > limit && n > 0 ? [rows[n - 1, 0]!, rows[n - 1, 1]!].joined(separator: "\u{0}") : nil
        return JSONPage(items: (0..<n).map { rows[$0, 2]! }, nextCursor: next)
    }

    public func template(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.templateJSON) FROM workflow_templates w WHERE w.id = $2::uuid AND w.tenant_id = $1", [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func deleteTemplate(tenantID: String, id: String) throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try connection.query("DELETE FROM workflow_templates WHERE id = $2::uuid AND tenant_id = $1 RETURNING id", [tenantID, id]).count == 1
    }
}
