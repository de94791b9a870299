import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/projects…`: projects, their datasets and collaborators. Every route but create and
/// list goes through `ProjectAuthorizer` with the permission of docs/catalog.md's table.
struct ProjectRoutes {
    let pool: BlockingPool
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }

    func register(on group: RouterGroup<APIContext>) {
        group.post("/projects", use: create)
        group.get("/projects", use: list)
        group.get("/projects/{id}", use: get)
        group.get("/projects/{id}/me", use: me)
        group.patch("/projects/{id}", use: update)
        group.delete("/projects/{id}", use: delete)
        group.post("/projects/{id}/datasets", use: attachDatasets)
        group.delete("/projects/{id}/datasets/{datasetId}", use: detachDataset)
        group.post("/projects/{id}/members", use: addMember)
        group.get("/projects/{id}/members", use: members)
        group.patch("/projects/{id}/members/{memberId}", use: updateMember)
        group.delete("/projects/{id}/members/{memberId}", use: removeMember)
    }

    /// An id field: a string or null (`nullable`), at most 64 characters (ids are uuids; the
    /// store answers 404 for anything else).
    static func id(_ body: JSONBody, _ field: String) throws -> String?? {
        switch body.value[field] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let s)? where !s.isEmpty && s.count <= 64: return .some(s)
        default: throw JSONBody.invalid(field, "must be an id (a string) or null")
        }
    }

    /// The project's answer plus `taskJobIds`: the task-create jobs the change started (one per
    /// newly attached dataset with data units; progress at `GET /v1/jobs/{id}`).
    static func withTaskJobs(_ json: String, _ jobs: [String]) -> String {
        String(json.dropLast()) + ",\"taskJobIds\":" + JSONValue.array(jobs.map(JSONValue.string)).compactText + "}"
    }

    // MARK: Projects

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let body = try await JSONBody.read(request, hint: "{\"title\", \"description\"?, \"tags\"?, \"ontologyId\"?, \"datasetIds\"?, \"workflow\"? or \"workflowTemplateId\"?}")
        let title = try body.requiredText("title", max: 255)
        let description = try body.text("description", max: 10_000, nullable: true, multiline: true) ?? nil
        let tags = try body.strings("tags", max: 100) ?? []
        let ontology = try Self.id(body, "ontologyId") ?? nil
        let datasets = try body.strings("datasetIds") ?? []
        let template = try Self.id(body, "workflowTemplateId") ?? nil
        if template != nil, let inline = body.value["workflow"], inline != .null {
            throw JSONBody.invalid("workflowTemplateId", "give workflow or workflowTemplateId, not both")
        }
        let workflow: JSONValue
        switch body.value["workflow"] {
        case nil, .null?:
            if let template {
                // The template's graph with fresh uuids: projects never share stage uuids.
                let tenant = caller.tenantID
                workflow = try await pool.run { try WorkflowTemplateRoutes.graphForNewProject(templateID: template, tenantID: tenant, backends: $0) }.json
            } else {
                workflow = WorkflowGraph.standard { UUID().uuidString.lowercased() }.json
            }
        case let given?:
            switch WorkflowGraph.parse(given) {
            case .success(let graph): workflow = graph.json
            case .failure(let refused):
                throw APIError(.unprocessableContent, "invalid_workflow", "workflow: \(refused.issues.count) problem(s), e.g. \(refused.issues[0])",
                               details: [("field", .string("workflow")), ("errors", .array(refused.issues.prefix(100).map(\.json)))])
            }
        }
        let project = NewProject(tenantID: caller.tenantID, title: title, description: description, tags: tags, ontologyID: ontology,
                                 datasetIDs: datasets, workflow: workflow.compactText, createdBy: caller.userID)
        let (json, jobs) = try await pool.accessBackends { backends in
            let json = try backends.registry().createProject(project)
            return (json, try TaskRoutes.queueCreatedJobs(backends))
        }
        return JSONResponse.ok(Self.withTaskJobs(json, jobs), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        let scope = ["projects", caller.tenantID, caller.userID ?? "admin"]
        let cursor = try PageTokens.key(request.uri.queryParameters.get("cursor"), scope: scope)?[0]
        let after = cursor.map { $0.components(separatedBy: "\u{0}") }
        if let after, after.count != 2 || !UUIDText.isValid(after[1]) {
            throw APIError.badRequest("cursor is not one this API gave", field: "cursor")
        }
        // Workspace admins see every project; members the ones they collaborate on.
        let visibleTo = caller.workspaceRole == .admin ? nil : caller.userID
        let page = try await pool.access { try $0.projects(tenantID: caller.tenantID, visibleTo: visibleTo, after: after, limit: limit) }
        return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope))
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "reading a project", context: context)
        guard let json = try await pool.access({ try $0.project(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("project", id) }
        return JSONResponse.ok(json)
    }

    /// What the caller may do here: its effective roles and permissions (for clients such as
    /// the label editor). Answered to any caller of the project's workspace, collaborator or not.
    @Sendable func me(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, access) = try await authorizer.access(to: id, context: context)
        return JSONResponse.ok(JSONValue.object([
            ("projectId", .string(id.lowercased())), ("userId", caller.userID.map(JSONValue.string) ?? .null),
            // The caller's own email (null for a service key): the label editor finds its own tasks by it.
            ("email", caller.userEmail.map(JSONValue.string) ?? .null),
            ("workspaceRole", .string(caller.workspaceRole.rawValue)),
            ("roles", .array(access.roles.sorted().map { .string($0.rawValue) })),
            ("permissions", .array(access.permissions.map { .string($0.rawValue) })),
        ]).compactText)
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.administer, on: id, "changing a project", context: context)
        let body = try await JSONBody.read(request, hint: "{\"title\"?, \"description\"?, \"tags\"?, \"ontologyId\"?}")
        let change = ProjectChange(title: try body.text("title", max: 255) ?? nil,
                                   description: try body.text("description", max: 10_000, nullable: true, multiline: true),
                                   tags: try body.strings("tags", max: 100), ontologyID: try Self.id(body, "ontologyId"))
        guard let json = try await pool.access({ try $0.updateProject(tenantID: caller.tenantID, id: id, change: change) }) else {
            throw APIError.notFound("project", id)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.administer, on: id, "deleting a project", context: context)
        guard try await pool.access({ try $0.deleteProject(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("project", id) }
        return Response(status: .noContent)
    }

    @Sendable func attachDatasets(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.administer, on: id, "attaching datasets", context: context)
        let body = try await JSONBody.read(request, hint: "{\"datasetIds\": [...]}")
        guard let datasets = try body.strings("datasetIds"), !datasets.isEmpty else { throw JSONBody.invalid("datasetIds", "is required (a non-empty array)") }
        let (json, jobs) = try await pool.accessBackends { backends in
            let json = try backends.registry().attachDatasets(tenantID: caller.tenantID, projectID: id, datasetIDs: datasets)
            return (json, try TaskRoutes.queueCreatedJobs(backends))
        }
        guard let json else { throw APIError.notFound("project", id) }
        return JSONResponse.ok(Self.withTaskJobs(json, jobs))
    }

    @Sendable func detachDataset(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let dataset = try context.parameters.require("datasetId")
        let (caller, _) = try await authorizer.require(.administer, on: id, "detaching a dataset", context: context)
        switch try await pool.access({ try $0.detachDataset(tenantID: caller.tenantID, projectID: id, datasetID: dataset) }) {
        case nil: throw APIError.notFound("project", id)
        case false?: throw APIError.notFound("dataset of this project", dataset)
        case true?: return Response(status: .noContent)
        }
    }

    // MARK: Collaborators

    @Sendable func addMember(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, access) = try await authorizer.require(.manageMembers, on: id, "adding a collaborator", context: context)
        let body = try await JSONBody.read(request, hint: "{\"email\" | \"groupId\", \"role\"}")
        guard body.has("email") != body.has("groupId") else { throw JSONBody.invalid("email", "send exactly one of email and groupId") }
        guard let role = try body.role() else { throw JSONBody.invalid("role", "is required") }
        let needed = ProjectAccess.permissionToChange(from: nil, to: role)
        guard access.allows(needed) else { throw APIError.forbidden("adding a collaborator as \(role.rawValue)", needs: needed) }
        let email = body.has("email") ? try AccessRoutes.email(body) : nil
        let groupID = body.has("groupId") ? try Self.id(body, "groupId") ?? nil : nil
        if email == nil, groupID == nil { throw JSONBody.invalid("groupId", "must be a group id") }
        let json = try await pool.access(conflictCode: "member_exists") { store in
            let subject: MemberSubject
            if let email {
                guard let user = try store.userID(tenantID: caller.tenantID, email: email) else { throw AccessRefusal.notFound(field: "email", id: email) }
                subject = .user(user)
            } else {
                let groupID = groupID ?? ""
                guard try store.group(tenantID: caller.tenantID, id: groupID) != nil else { throw AccessRefusal.notFound(field: "groupId", id: groupID) }
                subject = .group(groupID.lowercased())
            }
            return try store.addMember(projectID: id.lowercased(), subject: subject, role: role)
        }
        return JSONResponse.ok(json, status: .created)
    }

    @Sendable func members(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await authorizer.require(.view, on: id, "listing collaborators", context: context)
        let items = try await pool.access { try $0.members(projectID: id.lowercased()) }
        return JSONResponse.page(items, next: nil)
    }

    @Sendable func updateMember(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let memberID = try context.parameters.require("memberId")
        let (_, access) = try await authorizer.require(.manageMembers, on: id, "changing a collaborator's role", context: context)
        let body = try await JSONBody.read(request, hint: "{\"role\"}")
        guard let role = try body.role() else { throw JSONBody.invalid("role", "is required") }
        guard let member = try await pool.access({ try $0.member(projectID: id.lowercased(), memberID: memberID) }) else {
            throw APIError.notFound("collaborator", memberID)
        }
        let needed = ProjectAccess.permissionToChange(from: member.role, to: role)
        guard access.allows(needed) else {
            throw APIError.forbidden("changing a collaborator from \(member.role.rawValue) to \(role.rawValue)", needs: needed)
        }
        guard let json = try await pool.access({ try $0.setMemberRole(projectID: id.lowercased(), memberID: memberID, role: role) }) else {
            throw APIError.notFound("collaborator", memberID)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func removeMember(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let memberID = try context.parameters.require("memberId")
        let (_, access) = try await authorizer.require(.manageMembers, on: id, "removing a collaborator", context: context)
        guard let member = try await pool.access({ try $0.member(projectID: id.lowercased(), memberID: memberID) }) else {
            throw APIError.notFound("collaborator", memberID)
        }
        let needed = ProjectAccess.permissionToChange(from: member.role, to: nil)
        guard access.allows(needed) else { throw APIError.forbidden("removing a \(member.role.rawValue) collaborator", needs: needed) }
        guard try await pool.access({ try $0.removeMember(projectID: id.lowercased(), memberID: memberID) }) else {
            throw APIError.notFound("collaborator", memberID)
        }
        return Response(status: .noContent)
    }
}
