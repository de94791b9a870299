import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/folders…` and `/v1/files/{id}`: where registered files live.
struct FolderRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.post("/folders", use: create)
        group.get("/folders", use: list)
        group.get("/folders/{id}", use: get)
        group.delete("/folders/{id}", use: delete)
        group.get("/folders/{id}/files", use: files)
        group.get("/files/{id}", use: file)
    }

    struct CreateFolder: Decodable { var name: String }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let body: CreateFolder
        do { body = try await request.decode(as: CreateFolder.self, context: context) } catch {
            throw APIError(.unprocessableContent, "invalid_body", "send {\"name\": \"…\"} as JSON", details: [("field", .string("name"))])
        }
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 255, !name.hasControlCharacter else {
            throw APIError(.unprocessableContent, "invalid_body", "name must be 1 to 255 characters, none of them control characters",
                           details: [("field", .string("name"))])
        }
        do {
            let json = try await pool.run { try $0.registry().createFolder(tenantID: tenant.tenantID, name: name) }
            return JSONResponse.ok(json, status: .created)
        } catch let conflict as PortError where conflict.isConflict {
            throw APIError(.conflict, "folder_exists", conflict.detail, details: [("name", .string(name))])
        }
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        return try await PageTokens.keyedPage(request, scope: PageTokens.folders(tenant.tenantID)) { after, limit in
            try await pool.run { try $0.registry().folders(tenantID: tenant.tenantID, after: after, limit: limit) }
        }
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try $0.registry().folder(tenantID: tenant.tenantID, id: id) }) else {
            throw APIError.notFound("folder", id)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        switch try await pool.run({ try $0.registry().deleteFolder(tenantID: tenant.tenantID, id: id) }) {
        case .deleted: return Response(status: .noContent)
        case .notFound: throw APIError.notFound("folder", id)
        case .notEmpty(let why): throw APIError(.conflict, "folder_not_empty", "only an empty folder can be deleted: \(why)")
        case .inDatasets(let ids):
            throw APIError(.conflict, "folder_in_datasets", "datasets hold files of this folder or mirror it: \(ids.joined(separator: ", "))",
                           details: [("datasetIds", .array(ids.map(JSONValue.string)))])
        }
    }

    @Sendable func files(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let limit = try QueryFlag.limit(query.get("limit"))
        let type = query.get("type")
        if let type, !Self.types.contains(type) {
            throw APIError.badRequest("type must be one of \(Self.types.joined(separator: ", "))", field: "type")
        }
        let scope = PageTokens.files(tenant.tenantID, folderID: id)
        let after = try QueryFlag.numericCursor(try PageTokens.key(query.get("cursor"), scope: scope)?[0], from: 0, upTo: Int64.max)
        let page: JSONPage? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.folder(tenantID: tenant.tenantID, id: id) != nil else { return nil }
            return try registry.filesPage(folderID: id, type: type, after: after, limit: limit)
        }
        guard let page else { throw APIError.notFound("folder", id) }
        return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope))
    }

    static let types = DataType.allCases.map(\.rawValue)

    @Sendable func file(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try $0.registry().file(tenantID: tenant.tenantID, id: id) }) else {
            throw APIError.notFound("file", id)
        }
        return JSONResponse.ok(json)
    }
}
