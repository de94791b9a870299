import RegistrarCore

/// A workflow template to store: a titled graph a project can start from.
public struct NewWorkflowTemplate: Sendable, Equatable {
    public var tenantID: String
    /// Unique per workspace (case-sensitive, as project titles are matched).
    public var title: String
    public var description: String?
    /// The graph JSON (`{"graphNodes": [...]}`), valid (`WorkflowGraph.parse`).
    public var graph: String
    /// The creating user (nil: a service key).
    public var createdBy: String?

    public init(tenantID: String, title: String, description: String?, graph: String, createdBy: String?) {
        self.tenantID = tenantID; self.title = title; self.description = description; self.graph = graph; self.createdBy = createdBy
    }
}

/// Why a template was not stored.
public enum WorkflowTemplateRefusal: Error, Sendable, Equatable {
    /// The workspace has a template of that title (409 `template_exists`).
    case titleTaken(String)
}

/// Workflow templates (docs/workflows.md, "Templates"): `workflow_templates` of migration 10 on
/// PostgreSQL, the twin in `MemoryRegistry+Templates`, `WorkflowTemplateStoreConformance` for
/// both. A template's JSON: `{id, title, description, graphNodes, createdBy, createdAt}`.
public protocol WorkflowTemplateStore: AnyObject {
    /// Stores a template; its JSON. Throws `WorkflowTemplateRefusal.titleTaken`.
    func createTemplate(_ template: NewWorkflowTemplate) throws -> String
    /// A page of the workspace's templates, by title then id (`after`: the last one's [title, id]).
    func templates(tenantID: String, after: [String]?, limit: Int) throws -> JSONPage
    /// One template's JSON (nil: not the tenant's).
    func template(tenantID: String, id: String) throws -> String?
    /// Deletes a template; false when it is not the tenant's. Projects made from it keep their copy.
    func deleteTemplate(tenantID: String, id: String) throws -> Bool
}
