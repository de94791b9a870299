import Hummingbird
import RegistrarCore

/// An API failure, always answered as `{"error": {"code", "message", "details"}}`.
///
/// `code` is stable (scripts match on it); `message` is for people; `details` names the item,
/// field or limit involved. Never put secrets or fetched bytes in any of them.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [(key: String, value: JSONValue)]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [(key: String, value: JSONValue)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var json: String {
        JSONValue.object([("error", .object([("code", .string(code)), ("message", .string(message)),
                                             ("details", .object(details))]))]).compactText
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func notFound(_ what: String, _ id: String) -> APIError {
        APIError(.notFound, "not_found", "no \(what) \(id)", details: [("id", .string(id))])
    }
    static func badRequest(_ message: String, field: String) -> APIError {
        APIError(.badRequest, "invalid_parameter", message, details: [("field", .string(field))])
    }
    /// 403 `forbidden`: the caller is in the right tenant but lacks the role; `required` names
    /// the role(s) that would do (e.g. "project role ADMIN", "workspace role admin").
    static func forbidden(_ action: String, required: String) -> APIError {
        APIError(.forbidden, "forbidden", "\(action) requires \(required)", details: [("required", .string(required))])
    }
    /// 403 for a project permission the caller's roles do not grant, naming the roles that do.
    static func forbidden(_ action: String, needs permission: ProjectPermission) -> APIError {
        let roles = ProjectRole.granting(permission)
        return forbidden(action, required: (roles.count == 1 ? "project role " : "one of the project roles ") + ProjectRole.names(roles))
    }
    static let unauthorized = APIError(.unauthorized, "unauthorized",
                                       "send a valid API key as 'Authorization: Bearer rgk_…' (create one with `registrar keys create`)")
    static func unavailable(_ what: String) -> APIError {
        APIError(.serviceUnavailable, "unavailable", "\(what) is unreachable; try again", details: [("dependency", .string(what))])
    }
}

/// JSON responses from text built elsewhere (PostgreSQL's json_build_object, `JSONValue`).
enum JSONResponse {
    static func ok(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// `{"items": [...], "nextCursor": "…" | null}`, plus `extra` members (JSON texts).
    static func page(_ items: [String], next: String?, extra: [(key: String, json: String)] = []) -> Response {
        var out = "{\"items\":[" + items.joined(separator: ",") + "],\"nextCursor\":"
        out += next.map { JSONValue.string($0).compactText } ?? "null"
        for (key, json) in extra { out += "," + JSONValue.string(key).compactText + ":" + json }
        return ok(out + "}")
    }
}
