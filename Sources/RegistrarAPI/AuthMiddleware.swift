import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import RegistrarCore
import RegistrarPostgres

/// Bearer-key authentication and per-key rate limiting for `/v1` routes.
///
/// The key is hashed and looked up in PostgreSQL; answers are cached for `cacheSeconds` so a
/// busy poller costs one lookup per key per window (a revoked key stops working within that
/// window). Browsers of the status page send the same key in the `registrar_key` cookie.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let pool: BlockingPool
    let cache: PrincipalCache
    let limiter: RateLimiter

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let key = Self.key(from: request), APIKey.isWellFormed(key) else { throw APIError.unauthorized }
        // The status page's cookie: besides SameSite=Strict, a write must come from this site.
        // Bearer keys are not sent by browsers on their own, so they are not checked.
        if request.headers[.authorization] == nil, ![.get, .head, .options].contains(request.method),
           !StatusPage.sameSiteFetch(request) {
            throw APIError(.forbidden, "cross_site_request",
                           "a request authenticated by the status page's cookie must come from the status page itself (Origin)")
        }
        let found: Principal?
        do { found = try await lookup(key) } catch { throw APIError.unavailable("PostgreSQL") }
        guard let principal = found else { throw APIError.unauthorized }
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

    /// The principal a well-formed key acts for (hash, then the cache, then the registry);
    /// nil for an unknown or revoked key. Shared with the status page's cookie sign-in.
    func lookup(_ key: String) async throws -> Principal? {
        let hash = APIKey.hash(key)
        if let cached = cache.get(hash) { return cached }
        let found = try await pool.run { try $0.registry().principal(keyHash: hash) }
        if let found { cache.put(hash, found) }
        return found
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

/// key hash → principal, for a few seconds.
final class PrincipalCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (Principal, Date)]>([:])
    let seconds: Double
    init(seconds: Double) { self.seconds = seconds }

    func get(_ hash: String) -> Principal? {
        entries.withLockedValue { e in
            guard let (p, at) = e[hash], Date().timeIntervalSince(at) < seconds else { return nil }
            return p
        }
    }
    func put(_ hash: String, _ p: Principal) {
        entries.withLockedValue { e in
            if e.count > 10_000 { e.removeAll() }
            e[hash] = (p, Date())
        }
    }
}

/// A token bucket per API key: `rate` requests per second on average, bursts up to `burst`.
/// In memory, per API process (with N replicas a key gets up to N × rate; say so in the docs).
final class RateLimiter: Sendable {
    private struct Bucket { var tokens: Double; var at: Double }
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    let rate: Double
    let burst: Double

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// nil when allowed; else the seconds to wait.
    func take(_ key: String) -> Int? {
        guard rate > 0 else { return nil }
        let now = Date().timeIntervalSinceReferenceDate
        return buckets.withLockedValue { b in
            var bucket = b[key] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            defer { b[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}
