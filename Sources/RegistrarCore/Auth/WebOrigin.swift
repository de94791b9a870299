/// A web origin (RFC 6454): scheme, host and port, the triple browsers compare for "same
/// origin". Hosts are lower-cased, IPv6 literals keep their brackets, a missing port is the
/// scheme's default (80 for http, 443 for https).
public struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init?(scheme: String, host: String, port: Int?) {
        let scheme = scheme.lowercased()
        guard scheme == "http" || scheme == "https", !host.isEmpty,
              let port = port ?? Self.defaultPort(scheme), (1...65535).contains(port) else { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }

    /// An `Origin` header's value (`scheme://host[:port]`, nothing after it); nil for `null`,
    /// other schemes, or anything malformed.
    public init?(origin: String) {
        guard let sep = origin.firstRange(of: "://") else { return nil }
        let authority = origin[sep.upperBound...]
        guard !authority.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "@" }) else { return nil }
        self.init(scheme: String(origin[..<sep.lowerBound]), authority: authority)
    }

    /// A URL's origin (e.g. `REGISTRAR_PUBLIC_URL`): the path, query and fragment are ignored; a
    /// URL with credentials is refused.
    public init?(url: String) {
        guard let sep = url.firstRange(of: "://") else { return nil }
        let rest = url[sep.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        guard !authority.contains("@") else { return nil }
        self.init(scheme: String(url[..<sep.lowerBound]), authority: authority)
    }

    /// `scheme` with a `Host`-style authority (`host`, `host:port`, `[v6]:port`).
    public init?(scheme: String, authority: some StringProtocol) {
        guard let (host, port) = Self.split(authority) else { return nil }
        self.init(scheme: scheme, host: host, port: port)
    }

    public var description: String {
        scheme + "://" + host + (port == Self.defaultPort(scheme) ? "" : ":\(port)")
    }

    static func defaultPort(_ scheme: String) -> Int? {
        scheme == "http" ? 80 : scheme == "https" ? 443 : nil
    }

    /// `host[:port]` → (host, port?); nil when malformed (empty host, bad port, spaces, …).
    static func split(_ authority: some StringProtocol) -> (String, Int?)? {
        let a = Substring(authority)
        guard !a.isEmpty, !a.contains(where: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "/" || $0 == "\\" }) else { return nil }
        var host: Substring
        var portText: Substring?
        if a.hasPrefix("[") {
            guard let close = a.firstIndex(of: "]") else { return nil }
            host = a[...close]
            let after = a[a.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = a.firstIndex(of: ":") {
            host = a[..<colon]
            portText = a[a.index(after: colon)...]
        } else {
            host = a
        }
        guard !host.isEmpty else { return nil }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit), let p = Int(portText) else { return nil }
            port = p
        }
        return (String(host), port)
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
}

/// The proxies whose forwarding headers (`X-Forwarded-For`, `-Host`, `-Proto`) are believed
/// (`REGISTRAR_TRUSTED_PROXIES`: CIDRs or addresses, comma-separated; default none). A header
/// from any other peer is ignored: anyone can send one.
public struct TrustedProxies: Sendable, Equatable {
    public var networks: [IPNetwork]

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var entry: String
        public var description: String { "trusted proxy '\(entry)' is neither an IP address nor a CIDR network" }
    }

    public init(networks: [IPNetwork] = []) {
        self.networks = networks
    }

    public init(parsing text: String) throws(ParseError) {
        var out: [IPNetwork] = []
        for part in text.split(separator: ",") {
            let entry = part.trimmingASCIISpaces()
            if entry.isEmpty { continue }
            guard let net = IPNetwork(entry) else { throw ParseError(entry: entry) }
            out.append(net)
        }
        networks = out
    }

    public var isEmpty: Bool { networks.isEmpty }

    public func contains(_ address: IPAddress) -> Bool {
        let a = Self.unmapped(address)
        return networks.contains { $0.contains(a) }
    }

    /// The client a request comes from: the peer itself, or — when the peer is a trusted proxy —
    /// the right-most `X-Forwarded-For` entry that is not a trusted proxy (entries further left
    /// were written by the client or by untrusted hops, and could say anything).
    public func clientAddress(peer: IPAddress, forwardedFor: [String]) -> IPAddress {
        var client = Self.unmapped(peer)
        guard contains(client) else { return client }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { Substring($0.trimmingASCIISpaces()) }
        for hop in hops.reversed() {
            guard let a = IPAddress(Self.stripPort(hop)) else { break } // unparsable: stop at the last good hop
            client = Self.unmapped(a)
            if !contains(client) { break }
        }
        return client
    }

    /// The first value of a forwarding header, from a trusted peer only.
    public func forwarded(_ values: [String], peer: IPAddress?) -> String? {
        guard let peer, contains(peer), let first = values.first?.split(separator: ",").first else { return nil }
        let v = first.trimmingASCIISpaces()
        return v.isEmpty ? nil : v
    }

    /// `::ffff:a.b.c.d` (an IPv4 client of a dual-stack socket) as the IPv4 address.
    static func unmapped(_ a: IPAddress) -> IPAddress {
        if a.family == .v6, a.hi == 0, a.lo >> 32 == 0xFFFF { return IPAddress(v4: UInt32(truncatingIfNeeded: a.lo)) }
        return a
    }

    /// `1.2.3.4:5678` / `[v6]:port` as written by some proxies → the address part.
    static func stripPort(_ s: Substring) -> Substring {
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") { return s[s.index(after: s.startIndex)..<close] }
        if s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") { return s[..<colon] }
        return s
    }
}


/// Which origin a request was addressed to, and whether a browser's `Origin` is that origin:
/// the same-origin rule of the status page's cookie-authenticated writes.
///
/// - The request's own origin: the scheme of the connection (or `X-Forwarded-Proto`) and the
///   `Host` header (or `X-Forwarded-Host`), the forwarded headers believed only from a trusted
///   proxy.
/// - With a configured public origin (`REGISTRAR_PUBLIC_URL`), the request's own origin must
///   be that one (a request sent under another host name — DNS rebinding, a stray proxy rule —
///   is refused), and so must `Origin`. Without one, `Origin` must equal the request's own
///   origin: scheme, host and port.
public struct OriginPolicy: Sendable, Equatable {
    public var publicOrigin: WebOrigin?
    public var trustedProxies: TrustedProxies

    public init(publicOrigin: WebOrigin? = nil, trustedProxies: TrustedProxies = TrustedProxies()) {
        self.publicOrigin = publicOrigin
        self.trustedProxies = trustedProxies
    }

    /// What the server knows of one request, as received.
    public struct Request: Sendable {
        public var scheme: String
        public var host: String?
        public var forwardedHost: [String]
        public var forwardedProto: [String]
        public var peer: IPAddress?

        public init(scheme: String, host: String?, forwardedHost: [String] = [], forwardedProto: [String] = [], peer: IPAddress?) {
            self.scheme = scheme
            self.host = host
            self.forwardedHost = forwardedHost
            self.forwardedProto = forwardedProto
            self.peer = peer
        }
    }

    /// The origin the request was sent to; nil when its `Host` is missing or malformed.
    public func requestOrigin(_ r: Request) -> WebOrigin? {
        let scheme = trustedProxies.forwarded(r.forwardedProto, peer: r.peer) ?? r.scheme
        guard let authority = trustedProxies.forwarded(r.forwardedHost, peer: r.peer) ?? r.host else { return nil }
        return WebOrigin(scheme: scheme, authority: authority)
    }

    /// Whether the request was addressed to this server's public origin (always true when none
    /// is configured).
    public func isAddressedToPublicOrigin(_ r: Request) -> Bool {
        guard let publicOrigin else { return true }
        return requestOrigin(r) == publicOrigin
    }

    /// Whether `origin` (an `Origin` header's value) is the origin `r` was addressed to.
    public func isSameOrigin(_ origin: String, _ r: Request) -> Bool {
        guard let claimed = WebOrigin(origin: origin), let own = requestOrigin(r) else { return false }
        if let publicOrigin { return own == publicOrigin && claimed == publicOrigin }
        return claimed == own
    }

    /// Whether browsers reach the server over https (the cookie then gets `Secure`).
    public func isHTTPS(_ r: Request) -> Bool {
        publicOrigin?.scheme == "https" || requestOrigin(r)?.scheme == "https"
    }
}
