import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// The one check every project route makes (docs/catalog.md, "Enforcement"): the project must
/// be the caller's tenant's (else 404), and the caller's effective roles — direct ∪ groups',
/// `ADMIN` for a workspace admin or service key — must grant the permission (else 403
/// `forbidden` naming the roles that would). A future route is one line:
/// `try await authorizer.require(.annotate, on: projectID, "submit a task", context: context)`.
struct ProjectAuthorizer: Sendable {
    let pool: BlockingPool

    /// The caller and its access, once `permission` is granted on the project.
    @discardableResult
    func require(_ permission: ProjectPermission, on projectID: String, _ action: String,
                 context: APIContext) async throws -> (caller: Principal, access: ProjectAccess) {
        let (caller, access) = try await access(to: projectID, context: context)
        guard access.allows(permission) else { throw APIError.forbidden(action, needs: permission) }
        return (caller, access)
    }

    /// The caller's access to the project, whatever it is (404 when not the tenant's).
    func access(to projectID: String, context: APIContext) async throws -> (caller: Principal, access: ProjectAccess) {
        let caller = try context.tenant()
        let roles = try await pool.run { try $0.registry().projectRoles(tenantID: caller.tenantID, projectID: projectID, userID: caller.userID) }
        guard let roles else { throw APIError.notFound("project", projectID) }
        return (caller, ProjectAccess(workspaceRole: caller.workspaceRole, memberRoles: roles))
    }
}

/// A JSON object request body, read field by field so every refusal names its field.
struct JSONBody {
    let value: JSONValue

    /// Reads the body; 422 `invalid_body` with `hint` when it is not a JSON object.
    static func read(_ request: Request, hint: String) async throws -> JSONBody {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        guard let value = JSONValue.parse(Array(buffer: bytes)), case .object = value, !value.containsNUL else {
            throw APIError(.unprocessableContent, "invalid_body", "send \(hint) as a JSON object")
        }
        return JSONBody(value: value)
    }

    static func invalid(_ field: String, _ message: String, extra: [(key: String, value: JSONValue)] = []) -> APIError {
        APIError(.unprocessableContent, "invalid_body", "\(field): \(message)", details: [("field", .string(field))] + extra)
    }

    func has(_ field: String) -> Bool { value[field] != nil }

    /// A text field: absent → nil; null → `.some(nil)` when `nullable`; trimmed, 1...`max`
    /// characters, no control characters (newlines allowed when `multiline`).
    func text(_ field: String, max: Int, nullable: Bool = false, multiline: Bool = false) throws -> String?? {
        switch value[field] {
        case nil: return nil
        case .null? where nullable: return .some(nil)
        case .string(let raw)?:
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let bad = text.unicodeScalars.contains { ($0.value < 0x20 && !(multiline && ($0 == "\n" || $0 == "\t" || $0 == "\r"))) || $0.value == 0x7F }
            guard !text.isEmpty, text.count <= max, !bad else {
                throw Self.invalid(field, "must be 1 to \(max) characters\(multiline ? "" : ", none of them control characters")")
            }
            return .some(text)
        default: throw Self.invalid(field, nullable ? "must be a string or null" : "must be a string")
        }
    }

    /// A required text field.
    func requiredText(_ field: String, max: Int) throws -> String {
        guard let text = try text(field, max: max), let text else { throw Self.invalid(field, "is required") }
        return text
    }

    /// An array of strings (duplicates dropped, order kept); absent → nil.
    func strings(_ field: String, max: Int = 1000) throws -> [String]? {
        guard let v = value[field] else { return nil }
        guard case .array(let items) = v, items.count <= max else { throw Self.invalid(field, "must be an array of at most \(max) strings") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw Self.invalid("\(field)[\(i)]", "must be a string") }
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// A project role by name or Encord integer; absent → nil.
    func role(_ field: String = "role") throws -> ProjectRole? {
        let text: String
        switch value[field] {
        case nil: return nil
        case .string(let s)?: text = s
        case .number(let n)?: text = n
        default: text = ""
        }
        guard let role = ProjectRole(parsing: text) else {
            let names = ProjectRole.names(ProjectRole.allCases)
            throw Self.invalid(field, "must be one of \(names) (or Encord's 0-5)",
                               extra: [("allowed", .array(ProjectRole.allCases.sorted().map { .string($0.rawValue) }))])
        }
        return role
    }
}

extension APIError {
    /// The API's answer to a refusal of the access store.
    static func from(_ refusal: AccessRefusal, conflictCode: String = "conflict") -> APIError {
        switch refusal {
        case .conflict(let message): APIError(.conflict, conflictCode, message)
        case .unknownTag(let tag):
            APIError(.unprocessableContent, "unknown_tag", "tags: \(tag) is not one of the workspace's tags (add it with POST /v1/tags)",
                     details: [("field", .string("tags")), ("tag", .string(tag))])
        case .notFound(let field, let id):
            APIError(.notFound, "not_found", "\(field): no such object in this workspace: \(id)", details: [("field", .string(field)), ("id", .string(id))])
        case .lastAdmin(let message): APIError(.conflict, "last_admin", message)
        }
    }
}

extension BlockingPool {
    /// Runs an access-store call, answering its refusals as API errors.
    func access<T: Sendable>(conflictCode: String = "conflict", _ body: @escaping @Sendable (any APIStore) throws -> T) async throws -> T {
        do { return try await run { try body($0.registry()) } } catch let refusal as AccessRefusal {
            throw APIError.from(refusal, conflictCode: conflictCode)
        }
    }
}
