import Hummingbird
import RegistrarCore

/// Refuses a request whose path or query holds a NUL character before any route sees it:
/// PostgreSQL text cannot hold one (the driver refuses such a parameter), so it could only ever
/// end as a 500. Answered 400 `invalid_parameter`, naming the parameter.
struct InputGuardMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if request.uri.path.contains("\u{0}") || request.uri.path.contains("%00") {
            throw APIError.badRequest("the path holds a NUL character", field: "path")
        }
        for (name, value) in request.uri.queryParameters where name.contains("\u{0}") || value.contains("\u{0}") {
            throw APIError.badRequest("query parameter \(String(name).replacingNUL) holds a NUL character", field: String(name).replacingNUL)
        }
        return try await next(request, context)
    }
}

extension String {
    /// For messages: NUL shown as U+FFFD.
    var replacingNUL: String { String(unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : Character($0) }) }

    /// Whether a name holds a control character (C0 or DEL): refused in folder and integration names.
    var hasControlCharacter: Bool { unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }
}

extension JSONValue {
    /// Whether any string (or object key) in the value holds a NUL character.
    var containsNUL: Bool {
        switch self {
        case .string(let s): return s.contains("\u{0}")
        case .array(let a): return a.contains { $0.containsNUL }
        case .object(let m): return m.contains { $0.key.contains("\u{0}") || $0.value.containsNUL }
        default: return false
        }
    }
}
