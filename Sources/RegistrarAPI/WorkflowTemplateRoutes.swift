import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/workflow-templates…` (docs/workflows.md, "Templates"): saved workflow graphs a project
/// can start from (`POST /v1/projects` with `workflowTemplateId`).
///
/// Permissions (decision): anyone of the workspace may read and list templates and save one
/// from a graph (any member may create projects, and a template is only a graph); saving a
/// project's workflow needs `view` on that project (it copies what the caller can read);
/// deleting needs the template's creator or a workspace admin (service keys act as admins).
struct WorkflowTemplateRoutes {
    let pool: BlockingPool
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }

    func register(on group: RouterGroup<APIContext>) {
        group.post("/workflow-templates", use: create)
        group.get("/workflow-templates", use: list)
        group.get("/workflow-templates/{id}", use: get)
        group.delete("/workflow-templates/{id}", use: delete)
    }

    /// The store's template side (a store without it answers 501).
    static func store(_ backends: any APIBackends) throws -> any WorkflowTemplateStore {
        guard let templates = try backends.registry() as? any WorkflowTemplateStore else {
            throw APIError(.notImplemented, "not_supported", "this deployment's store keeps no workflow templates")
        }
        return templates
    }

    /// A template's graph with fresh uuids, for a new project; 422 naming `workflowTemplateId`
    /// when the workspace has no such template.
    static func graphForNewProject(templateID: String, tenantID: String, backends: any APIBackends) throws -> WorkflowGraph {
        guard let json = try store(backends).template(tenantID: tenantID, id: templateID),
              let value = JSONValue.parse(Array(json.utf8)), let nodes = value["graphNodes"] else {
            throw APIError(.unprocessableContent, "not_found", "workflowTemplateId: no workflow template \(templateID) in this workspace",
                           details: [("field", .string("workflowTemplateId")), ("id", .string(templateID))])
        }
        guard case .success(let graph) = WorkflowGraph.parse(.object([("graphNodes", nodes)])) else {
            throw APIError(.internalServerError, "internal_error", "workflow template \(templateID) holds a graph that does not parse")
        }
        return graph.withFreshUUIDs { UUID().uuidString.lowercased() }
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let body = try await JSONBody.read(request, hint: "{\"title\", \"description\"?, \"graphNodes\": [...]} or {\"title\", \"projectId\"}")
        let title = try body.requiredText("title", max: 255)
        let description = try body.text("description", max: 10_000, nullable: true, multiline: true) ?? nil
        let project = try ProjectRoutes.id(body, "projectId") ?? nil
        let nodes = body.value["graphNodes"]
        let graph: WorkflowGraph
        switch (nodes, project) {
        case (let n?, _?) where n != .null:
            throw JSONBody.invalid("projectId", "give graphNodes or projectId, not both")
        case (_, let projectID?):
            _ = try await authorizer.require(.view, on: projectID, "saving a project's workflow as a template", context: context)
            let text = try await pool.run { try TaskRoutes.store($0).workflow(tenantID: caller.tenantID, projectID: projectID) }
            guard let text, case .success(let g) = WorkflowGraph.parse(text: Array(text.utf8)) else { throw APIError.notFound("project", projectID) }
            graph = g
        case (let n?, nil) where n != .null:
            switch WorkflowGraph.parse(.object([("graphNodes", n)])) {
            case .success(let g): graph = g
            case .failure(let refused):
                throw APIError(.unprocessableContent, "invalid_workflow", "\(refused.issues.count) problem(s), e.g. \(refused.issues[0])",
                               details: [("errors", .array(refused.issues.prefix(100).map(\.json)))])
            }
        default:
            throw JSONBody.invalid("graphNodes", "is required (the graph's nodes), unless projectId names a project whose workflow to save")
        }
        let template = NewWorkflowTemplate(tenantID: caller.tenantID, title: title, description: description, graph: graph.json.compactText,
                                           createdBy: caller.userID)
        do {
            let json = try await pool.run { try Self.store($0).createTemplate(template) }
            return JSONResponse.ok(json, status: .created)
        } catch WorkflowTemplateRefusal.titleTaken(let message) {
            throw APIError(.conflict, "template_exists", message, details: [("field", .string("title"))])
        }
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        let scope = ["workflow-templates", caller.tenantID]
        let cursor = try PageTokens.key(request.uri.queryParameters.get("cursor"), scope: scope)?[0]
        let after = cursor.map { $0.components(separatedBy: "\u{0}") }
        if let after, after.count != 2 || !UUIDText.isValid(after[1]) {
            throw APIError.badRequest("cursor is not one this API gave", field: "cursor")
        }
        let page = try await pool.run { try Self.store($0).templates(tenantID: caller.tenantID, after: after, limit: limit) }
        return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope))
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try Self.store($0).template(tenantID: caller.tenantID, id: id) }) else {
            throw APIError.notFound("workflow template", id)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try Self.store($0).template(tenantID: caller.tenantID, id: id) }) else {
            throw APIError.notFound("workflow template", id)
        }
        let creator = JSONValue.parse(Array(json.utf8))?["createdBy"]?.stringValue
        guard caller.workspaceRole == .admin || (caller.userID != nil && caller.userID?.lowercased() == creator) else {
            throw APIError.forbidden("deleting a workflow template", required: "its creator or workspace role admin")
        }
        guard try await pool.run({ try Self.store($0).deleteTemplate(tenantID: caller.tenantID, id: id) }) else {
            throw APIError.notFound("workflow template", id)
        }
        return Response(status: .noContent)
    }
}
