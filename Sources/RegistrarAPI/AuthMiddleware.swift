import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus
import RegistrarCore
import RegistrarRuntime

/// Bearer-key authentication and per-key rate limiting for `/v1` routes.
///
/// The key is hashed and looked up in PostgreSQL; answers are cached for `cacheSeconds` so a
/// busy poller costs one lookup per key per window (a revoked key stops working within that
/// window), and unknown keys for a few seconds. Failed authentications are counted per client
/// address (`failures`, a `TokenBuckets`): an address over its budget gets `429` without a lookup,
/// unless its key is one already known to be valid. Browsers of the status page send the same
/// key in the `registrar_key` cookie.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let pool: BlockingPool
    let cache: PrincipalCache
    /// Requests per API key.
    let limiter: TokenBuckets
    /// Failed authentications per client address (charged before the lookup, refunded when the key was valid).
    let failures: TokenBuckets
    let trust: RequestTrust

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let key = Self.key(from: request), APIKey.isWellFormed(key) else { throw APIError.unauthorized }
        // The status page's cookie: besides SameSite=Strict, a write must come from this site.
        // Bearer keys are not sent by browsers on their own, so they are not checked.
        if request.headers[.authorization] == nil, ![.get, .head, .options].contains(request.method),
           !trust.sameSiteFetch(request, context) {
            throw APIError(.forbidden, "cross_site_request",
                           "a request authenticated by the status page's cookie must come from the status page itself (Origin)")
        }
        let principal: Principal
        switch try await authenticate(key, client: trust.clientKey(request, context)) {
        case .principal(let p): principal = p
        case .unknown: throw APIError.unauthorized
        case .throttled(let retryAfter):
            var error = APIError(.tooManyRequests, "rate_limited", "too many failed authentications from this address; wait before trying another key",
                                 details: [("retryAfterSeconds", .number(String(retryAfter)))])
            error.headers[.retryAfter] = String(retryAfter)
            throw error
        }
        if let retryAfter = limiter.take(principal.keyID) {
            var error = APIError(.tooManyRequests, "rate_limited", "too many requests for this API key; slow down",
                                 details: [("retryAfterSeconds", .number(String(retryAfter)))])
            error.headers[.retryAfter] = String(retryAfter)
            throw error
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "tenant"] = .string(principal.tenantName)
        return try await next(request, context)
    }

    enum Authentication: Sendable {
        case principal(Principal)
        /// Unknown or revoked (401).
        case unknown
        /// The client address failed too often: wait this many seconds (429, nothing looked up).
        case throttled(Int)
    }

    /// Who a well-formed key acts for: a key cached as valid passes at once; otherwise a client
    /// over its failure budget is refused before any lookup; then the cache of unknown keys,
    /// then the registry. Each failure is counted against `client`. Shared with the status
    /// page's cookie and sign-in form. Throws when PostgreSQL is unreachable.
    func authenticate(_ key: String, client clientKey: @autoclosure () -> String) async throws -> Authentication {
        let hash = APIKey.hash(key)
        let cached = cache.get(hash)
        if case .valid(let p)? = cached { return .principal(p) }
        let client = clientKey() // only off the fast path: parsing the peer and X-Forwarded-For
        // A failure is charged before the lookup (so concurrent requests cannot all slip through
        // on the last token) and refunded when the key turns out valid or cannot be checked.
        if let wait = failures.take(client) {
            AuthMetrics.throttled.increment()
            return .throttled(wait)
        }
        if case .unknown? = cached { return .unknown }
        let found: Principal?
        do { found = try await pool.run { try $0.registry().principal(keyHash: hash) } } catch {
            failures.refund(client)
            throw APIError.unavailable("PostgreSQL")
        }
        AuthMetrics.lookups(found: found != nil).increment()
        guard let found else {
            cache.putUnknown(hash)
            return .unknown
        }
        failures.refund(client)
        cache.put(hash, found)
        return .principal(found)
    }

    static func key(from request: Request) -> String? {
        if let auth = request.headers[.authorization] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
        return request.cookies["registrar_key"]?.value
    }
}

/// Counters of key lookups (`registrar_api_key_lookups_total{result}`: each one a PostgreSQL
/// query) and of requests refused for too many failed authentications
/// (`registrar_api_auth_throttled_total`).
enum AuthMetrics {
    static let throttled = MetricsBootstrap.registry.makeCounter(name: "registrar_api_auth_throttled_total")
    static let found = MetricsBootstrap.registry.makeCounter(name: "registrar_api_key_lookups_total", labels: [("result", "found")])
    static let unknown = MetricsBootstrap.registry.makeCounter(name: "registrar_api_key_lookups_total", labels: [("result", "unknown")])
    static func lookups(found: Bool) -> Prometheus.Counter { found ? Self.found : Self.unknown }
}

/// key hash → principal for `seconds`, and → "unknown" for `unknownSeconds` (a flood of one bad
/// key costs one lookup per window). The two maps are bounded separately, so a flood of random
/// keys never evicts the valid ones.
final class PrincipalCache: Sendable {
    enum Entry: Sendable { case valid(Principal), unknown }
    private let valid = NIOLockedValueBox<[String: (Principal, Date)]>([:])
    private let unknown = NIOLockedValueBox<[String: Date]>([:])
    let seconds: Double
    let unknownSeconds: Double
    static let maxEntries = 10_000

    init(seconds: Double, unknownSeconds: Double = 0) {
        self.seconds = seconds
        self.unknownSeconds = unknownSeconds
    }

    func get(_ hash: String) -> Entry? {
        let now = Date()
        if let p = valid.withLockedValue({ e -> Principal? in
            guard let (p, at) = e[hash], now.timeIntervalSince(at) < seconds else { return nil }
            return p
        }) { return .valid(p) }
        let known = unknown.withLockedValue { e -> Bool in
            guard let at = e[hash] else { return false }
            return now.timeIntervalSince(at) < unknownSeconds
        }
        return known ? .unknown : nil
    }

    func put(_ hash: String, _ p: Principal) {
        unknown.withLockedValue { _ = $0.removeValue(forKey: hash) }
        valid.withLockedValue { e in
            if e.count > Self.maxEntries { e.removeAll() }
            e[hash] = (p, Date())
        }
    }

    func putUnknown(_ hash: String) {
        guard unknownSeconds > 0 else { return }
        let now = Date()
        unknown.withLockedValue { e in
            if e.count >= Self.maxEntries { e = e.filter { now.timeIntervalSince($0.value) < unknownSeconds } }
            if e.count >= Self.maxEntries { e.removeAll() }
            e[hash] = now
        }
    }
}
