import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/users`, `/v1/groups`, `/v1/tags`: the workspace's people and its project tags. Any
/// workspace user may list and read users and groups and list tags; workspace admins (and
/// service keys) manage them (docs/catalog.md).
struct AccessRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.post("/users", use: createUser)
        group.get("/users", use: listUsers)
        group.get("/users/{id}", use: getUser)
        group.patch("/users/{id}", use: updateUser)
        group.delete("/users/{id}", use: deleteUser)
        group.post("/groups", use: createGroup)
        group.get("/groups", use: listGroups)
        group.get("/groups/{id}", use: getGroup)
        group.patch("/groups/{id}", use: updateGroup)
        group.delete("/groups/{id}", use: deleteGroup)
        group.post("/groups/{id}/members", use: addGroupMember)
        group.delete("/groups/{id}/members/{userId}", use: removeGroupMember)
        group.post("/tags", use: createTag)
        group.get("/tags", use: listTags)
        group.delete("/tags/{name}", use: deleteTag)
    }

    static func workspaceRole(_ body: JSONBody) throws -> WorkspaceRole? {
        guard let raw = body.value["role"] else { return nil }
        guard case .string(let text) = raw, let role = WorkspaceRole(parsing: text) else {
            throw JSONBody.invalid("role", "must be admin or member", extra: [("allowed", .array([.string("admin"), .string("member")]))])
        }
        return role
    }

    static func email(_ body: JSONBody) throws -> String {
        guard case .string(let raw)? = body.value["email"] else { throw JSONBody.invalid("email", "is required (a string)") }
        guard let email = EmailAddress.normalized(raw) else { throw JSONBody.invalid("email", "is not an email address") }
        return email
    }

    // MARK: Users

    @Sendable func createUser(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("adding a user")
        let body = try await JSONBody.read(request, hint: "{\"email\", \"name\"?, \"role\"?: \"admin\"|\"member\"}")
        let email = try Self.email(body)
        let name = try body.text("name", max: 255, nullable: true) ?? nil
        let role = try Self.workspaceRole(body) ?? .member
        let json = try await pool.access(conflictCode: "user_exists") {
            try $0.createUser(tenantID: caller.tenantID, email: email, name: name, role: role)
        }
        return JSONResponse.ok(json, status: .created)
    }

    @Sendable func listUsers(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        return try await PageTokens.keyedPage(request, scope: ["users", caller.tenantID]) { after, limit in
            try await pool.access { try $0.users(tenantID: caller.tenantID, after: after, limit: limit) }
        }
    }

    @Sendable func getUser(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.access({ try $0.user(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("user", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func updateUser(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("changing a user")
        let id = try context.parameters.require("id")
        let body = try await JSONBody.read(request, hint: "{\"name\"?, \"role\"?}")
        let name = try body.text("name", max: 255, nullable: true)
        let role = try Self.workspaceRole(body)
        guard let json = try await pool.access({ try $0.updateUser(tenantID: caller.tenantID, id: id, name: name, role: role) }) else {
            throw APIError.notFound("user", id)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func deleteUser(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("deleting a user")
        let id = try context.parameters.require("id")
        guard try await pool.access({ try $0.deleteUser(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("user", id) }
        return Response(status: .noContent)
    }

    // MARK: Groups

    @Sendable func createGroup(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("creating a group")
        let body = try await JSONBody.read(request, hint: "{\"name\", \"description\"?}")
        let name = try body.requiredText("name", max: 255)
        let description = try body.text("description", max: 10_000, nullable: true, multiline: true) ?? nil
        let json = try await pool.access(conflictCode: "group_exists") {
            try $0.createGroup(tenantID: caller.tenantID, name: name, description: description)
        }
        return JSONResponse.ok(json, status: .created)
    }

    @Sendable func listGroups(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        return try await PageTokens.keyedPage(request, scope: ["groups", caller.tenantID]) { after, limit in
            try await pool.access { try $0.groups(tenantID: caller.tenantID, after: after, limit: limit) }
        }
    }

    @Sendable func getGroup(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.access({ try $0.group(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("group", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func updateGroup(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("changing a group")
        let id = try context.parameters.require("id")
        let body = try await JSONBody.read(request, hint: "{\"name\"?, \"description\"?}")
        let name = try body.text("name", max: 255) ?? nil
        let description = try body.text("description", max: 10_000, nullable: true, multiline: true)
        guard let json = try await pool.access(conflictCode: "group_exists", {
            try $0.updateGroup(tenantID: caller.tenantID, id: id, name: name, description: description)
        }) else { throw APIError.notFound("group", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func deleteGroup(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("deleting a group")
        let id = try context.parameters.require("id")
        guard try await pool.access({ try $0.deleteGroup(tenantID: caller.tenantID, id: id) }) else { throw APIError.notFound("group", id) }
        return Response(status: .noContent)
    }

    @Sendable func addGroupMember(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("adding a group member")
        let id = try context.parameters.require("id")
        let body = try await JSONBody.read(request, hint: "{\"email\"}")
        let email = try Self.email(body)
        let json: String? = try await pool.access { store in
            guard try store.group(tenantID: caller.tenantID, id: id) != nil else { return nil }
            guard let user = try store.userID(tenantID: caller.tenantID, email: email) else {
                throw AccessRefusal.notFound(field: "email", id: email)
            }
            return try store.addGroupMember(tenantID: caller.tenantID, groupID: id, userID: user)
        }
        guard let json else { throw APIError.notFound("group", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func removeGroupMember(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("removing a group member")
        let id = try context.parameters.require("id")
        let user = try context.parameters.require("userId")
        switch try await pool.access({ try $0.removeGroupMember(tenantID: caller.tenantID, groupID: id, userID: user) }) {
        case nil: throw APIError.notFound("group", id)
        case false?: throw APIError.notFound("group member", user)
        case true?: return Response(status: .noContent)
        }
    }

    // MARK: Tags

    @Sendable func createTag(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("adding a workspace tag")
        let body = try await JSONBody.read(request, hint: "{\"name\"}")
        let name = try body.requiredText("name", max: 64)
        let json = try await pool.access(conflictCode: "tag_exists") { try $0.createTag(tenantID: caller.tenantID, name: name) }
        return JSONResponse.ok(json, status: .created)
    }

    @Sendable func listTags(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let tags = try await pool.access { try $0.tags(tenantID: caller.tenantID) }
        return JSONResponse.page(tags, next: nil)
    }

    @Sendable func deleteTag(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("deleting a workspace tag")
        // Path parameters arrive percent-encoded ("night%20shift"); tags are stored decoded.
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        guard try await pool.access({ try $0.deleteTag(tenantID: caller.tenantID, name: name) }) else { throw APIError.notFound("tag", name) }
        return Response(status: .noContent)
    }
}
