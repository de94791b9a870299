import HTTPTypes
import Hummingbird
import NIOCore
import RegistrarCore

/// What the API believes about a request's client and destination. Forwarding headers
/// (`X-Forwarded-For`, `-Host`, `-Proto`) count only when the connection's peer is one of the
/// trusted proxies (`REGISTRAR_TRUSTED_PROXIES`, none by default): anyone else can write them.
struct RequestTrust: Sendable {
    let origins: OriginPolicy

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// The connection's peer as an IP address (nil for a Unix socket or an unknown peer).
    static func peer(_ context: APIContext) -> IPAddress? {
        context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
    }

    func facts(_ request: Request, _ context: APIContext) -> OriginPolicy.Request {
        OriginPolicy.Request(scheme: request.head.scheme ?? "http", host: request.head.authority,
                             forwardedHost: request.headers[values: Self.forwardedHost],
                             forwardedProto: request.headers[values: Self.forwardedProto],
                             peer: Self.peer(context))
    }

    /// The client failed authentications are counted against: the peer, or behind a trusted
    /// proxy the address it forwarded for; an IPv6 client by its /64 (one host's usual share).
    func clientKey(_ request: Request, _ context: APIContext) -> String {
        guard let peer = Self.peer(context) else { return "unknown" }
        let client = origins.trustedProxies.clientAddress(peer: peer, forwardedFor: request.headers[values: Self.forwardedFor])
        if client.family == .v6, let net = IPNetwork(client, prefixLength: 64) { return net.description }
        return client.description
    }

    /// Login and logout forms: refused when the browser names another origin (or `null`), or
    /// when the request was not addressed to the configured public origin. A request without
    /// `Origin` (older browsers' same-origin form posts) passes.
    func sameOrigin(_ request: Request, _ context: APIContext) -> Bool {
        let facts = facts(request, context)
        guard origins.isAddressedToPublicOrigin(facts) else { return false }
        guard let origin = request.headers[.origin] else { return true }
        return origins.isSameOrigin(origin, facts)
    }

    /// Cookie-authenticated `/v1` writes (`AuthMiddleware`): the browser must say the request
    /// comes from this origin — an `Origin` equal to it (scheme, host and port), or without one
    /// `Sec-Fetch-Site: same-origin`. Saying nothing is refused.
    func sameSiteFetch(_ request: Request, _ context: APIContext) -> Bool {
        let facts = facts(request, context)
        guard origins.isAddressedToPublicOrigin(facts) else { return false }
        if let origin = request.headers[.origin] { return origins.isSameOrigin(origin, facts) }
        return request.headers[Self.secFetchSite]?.lowercased() == "same-origin"
    }

    /// Whether the status page's cookie gets `Secure`.
    func isHTTPS(_ request: Request, _ context: APIContext) -> Bool {
        origins.isHTTPS(facts(request, context))
    }
}
