import Hummingbird

/// Answers 405 `method_not_allowed`, with an `Allow` header, for a request whose path is a
/// route's but whose method none of them serves (Hummingbird's router alone answers 404, as if
/// the path did not exist). A path no route has stays a 404.
///
/// Add it to the router after every route: a router middleware applies to the routes added
/// after it and to the not-found answer, so this one wraps only that answer — a matched
/// request never passes through it. It matches paths the way the router does: segments split
/// on `/` (empty ones dropped), each compared with the route's element (`{id}` takes any).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = APIContext

    /// Each route path with the methods registered on it.
    let routes: [(path: RouterPath, methods: [String])]

    init(routes: [Router<APIContext>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: [String])] = [:]
        for route in routes {
            byPath[route.path.description, default: (route.path, [])].methods.append(route.method.rawValue)
        }
        self.routes = byPath.values.sorted { $0.path.description < $1.path.description }
    }

    /// The methods served at `path` (sorted), empty when no route has that path.
    func allowed(at path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods = Set<String>()
        for route in routes where route.path.components.count == segments.count {
            if zip(route.path.components, segments).allSatisfy({ element, segment in element ~= segment }) {
                methods.formUnion(route.methods)
            }
        }
        return methods.sorted()
    }

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = allowed(at: request.uri.path)
            guard !methods.isEmpty else { throw error }
            var refusal = APIError(.methodNotAllowed, "method_not_allowed",
                                   "\(request.method.rawValue) is not supported here; this path takes \(methods.joined(separator: ", "))",
                                   details: [("method", .string(request.method.rawValue)), ("allow", .array(methods.map { .string($0) }))])
            refusal.headers[.allow] = methods.joined(separator: ", ")
            throw refusal
        }
    }
}
