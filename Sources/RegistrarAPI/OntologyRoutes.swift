import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/ontologies…` (docs/ontologies.md): create, list, get, update and delete ontologies.
///
/// Any workspace user may create, list and read them; update and delete are for the creator or
/// a workspace admin (`WorkspaceAccess.mayModify`). Structures are checked and normalised by
/// `OntologyStructure.normalize` and stored as that exact text. An edit that removes a feature
/// or changes its kind, shape or attribute type is refused (409 `feature_in_use`) while a
/// project uses the ontology.
struct OntologyRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.post("/ontologies", use: create)
        group.get("/ontologies", use: list)
        group.get("/ontologies/{id}", use: get)
        group.put("/ontologies/{id}", use: update)
        group.delete("/ontologies/{id}", use: delete)
    }

    /// The fields a create or update body may carry (nil: absent).
    struct Body {
        var title: String?
        /// `.some(nil)`: given as null (cleared).
        var description: String??
        var structure: JSONValue?
    }

    static let bodyShape = "send {\"title\", \"description\"?, \"structure\": {\"objects\", \"classifications\"}} as a JSON object"

    static func readBody(_ request: Request, context: APIContext) async throws -> Body {
        let bytes = Array(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        guard OntologyStructure.jsonDepth(bytes) <= OntologyStructure.maxJSONDepth + 1, let value = JSONValue.parse(bytes),
              case .object = value, !value.containsNUL else {
            throw APIError(.unprocessableContent, "invalid_body", bodyShape)
        }
        var body = Body()
        switch value["title"] {
        case nil: break
        case .string(let raw)?:
            let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !title.isEmpty, raw.unicodeScalars.count <= 255, !title.hasControlCharacter else { fallthrough }
            body.title = title
        default:
            throw APIError(.unprocessableContent, "invalid_body", "title must be 1 to 255 characters, none of them control characters",
                           details: [("field", .string("title"))])
        }
        switch value["description"] {
        case nil: break
        case .null?: body.description = .some(nil)
        case .string(let d)? where d.unicodeScalars.count <= 10_000: body.description = .some(d.isEmpty ? nil : d)
        default:
            throw APIError(.unprocessableContent, "invalid_body", "description must be a string of at most 10000 characters, or null",
                           details: [("field", .string("description"))])
        }
        body.structure = value["structure"]
        return body
    }

    /// The normalised structure, or 422 `invalid_structure` listing every broken rule.
    static func normalized(_ structure: JSONValue) throws -> JSONValue {
        let result = OntologyStructure.normalize(structure)
        if let out = result.structure { return out }
        var details: [(key: String, value: JSONValue)] = [("field", .string("structure")), ("errors", issuesJSON(result.issues))]
        if result.omitted > 0 { details.append(("omitted", .number(String(result.omitted)))) }
        let first = result.issues.first.map { ": \($0)" } ?? ""
        throw APIError(.unprocessableContent, "invalid_structure",
                       "the structure breaks \(result.issues.count + result.omitted) rule(s)\(first); details.errors lists each with its JSON path",
                       details: details)
    }

    static func issuesJSON(_ issues: [OntologyIssue]) -> JSONValue {
        .array(issues.map { .object([("path", .string($0.path)), ("message", .string($0.message))]) })
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let body = try await Self.readBody(request, context: context)
        guard let title = body.title else {
            throw APIError(.unprocessableContent, "invalid_body", "title is required: " + Self.bodyShape, details: [("field", .string("title"))])
        }
        guard let structure = body.structure else {
            throw APIError(.unprocessableContent, "invalid_body", "structure is required: " + Self.bodyShape, details: [("field", .string("structure"))])
        }
        let text = try Self.normalized(structure).compactText
        let json = try await pool.run {
            try $0.registry().createOntology(tenantID: caller.tenantID, title: title, description: body.description ?? nil,
                                             structure: text, createdBy: caller.userID)
        }
        return JSONResponse.ok(json, status: .created)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        let scope = ["ontologies", caller.tenantID]
        var after: CatalogPosition?
        if let key = try PageTokens.key(request.uri.queryParameters.get("cursor"), scope: scope, columns: 2) {
            guard let micros = Int64(key[0]), UUIDText.isValid(key[1]) else {
                throw APIError.badRequest("cursor is not one this API gave", field: "cursor")
            }
            after = CatalogPosition(createdMicros: micros, id: key[1])
        }
        let position = after
        let page = try await pool.run { try $0.registry().ontologies(tenantID: caller.tenantID, after: position, limit: limit) }
        return JSONResponse.page(page.items, next: PageTokens.token(page.next.map { [String($0.createdMicros), $0.id] }, scope: scope))
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try $0.registry().ontology(tenantID: caller.tenantID, id: id) }) else {
            throw APIError.notFound("ontology", id)
        }
        return JSONResponse.ok(json)
    }

    /// The stored ontology if the caller may change it: 404 when it is not the tenant's, 403
    /// when the caller is neither its creator nor a workspace admin.
    func modifiable(_ id: String, caller: Principal, action: String) async throws -> StoredOntology {
        guard let stored = try await pool.run({ try $0.registry().storedOntology(tenantID: caller.tenantID, id: id) }) else {
            throw APIError.notFound("ontology", id)
        }
        guard WorkspaceAccess.mayModify(role: caller.workspaceRole, userID: caller.userID, createdBy: stored.createdBy) else {
            throw APIError.forbidden(action, required: "the ontology's creator or workspace role admin")
        }
        return stored
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let stored = try await modifiable(id, caller: caller, action: "changing an ontology")
        let body = try await Self.readBody(request, context: context)
        guard body.title != nil || body.description != nil || body.structure != nil else {
            throw APIError(.unprocessableContent, "invalid_body", "send at least one of title, description, structure",
                           details: [("field", .string("title"))])
        }
        var text = stored.structure
        var breaking: [OntologyIssue] = []
        if let structure = body.structure {
            let new = try Self.normalized(structure)
            text = new.compactText
            if let old = JSONValue.parse(Array(stored.structure.utf8)) {
                breaking = OntologyEdit.breakingChanges(from: old, to: new)
            }
        }
        let title = body.title ?? stored.title
        let description = body.description ?? stored.description
        let newText = text, refuse = !breaking.isEmpty
        let outcome = try await pool.run {
            try $0.registry().updateOntology(tenantID: caller.tenantID, id: stored.id, version: stored.version, title: title,
                                             description: description, structure: newText, refuseIfUsed: refuse)
        }
        switch outcome {
        case .done(let json): return JSONResponse.ok(json)
        case .notFound: throw APIError.notFound("ontology", id)
        case .stale:
            throw APIError(.conflict, "conflict", "the ontology changed while this edit was being made; read it again and retry")
        case .inUse(let projects):
            throw APIError(.conflict, "feature_in_use",
                           "\(breaking[0]): projects use this ontology (\(projects.joined(separator: ", "))), so its features cannot be removed or retyped; set \"archived\": true instead",
                           details: [("errors", Self.issuesJSON(breaking)), ("projectIds", .array(projects.map(JSONValue.string)))])
        }
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let stored = try await modifiable(id, caller: caller, action: "deleting an ontology")
        switch try await pool.run({ try $0.registry().deleteOntology(tenantID: caller.tenantID, id: stored.id) }) {
        case .done, .stale: return Response(status: .noContent)
        case .notFound: throw APIError.notFound("ontology", id)
        case .inUse(let projects):
            throw APIError(.conflict, "ontology_in_use",
                           "projects use this ontology (\(projects.joined(separator: ", "))); give them another ontology first",
                           details: [("projectIds", .array(projects.map(JSONValue.string)))])
        }
    }
}
