/// The parts of a server URL, `scheme://[user[:password]@]host[:port][/path][?query]`: one pure
/// parser for the Redis (`redis://…/db`) and RabbitMQ (`amqp://…/vhost`) adapters, which hand the
/// parts to their C clients. The query is ignored (neither client takes options there), so it is
/// dropped rather than mis-parsed.
///
/// Failures name the part at fault, never its text: userinfo holds a password.
public struct ServerURL: Sendable, Equatable {
    /// Percent-decoded; "" when the userinfo is `:password` or empty; nil without userinfo.
    public var user: String?
    /// Percent-decoded; nil when the userinfo has no `:` (see `LoneUserinfo`).
    public var password: String?
    /// Brackets of an `[IPv6]` literal removed; "127.0.0.1" when empty.
    public var host: String
    /// nil when absent.
    public var port: Int?
    /// The text after the first `/` of the authority, as written (not decoded); nil without `/`.
    public var path: String?

    public enum Failure: Error, Equatable, Sendable {
        /// The URL does not start with `scheme://`.
        case wrongScheme
        case unterminatedIPv6
        case textAfterIPv6
        /// Not a number in 1...65535.
        case invalidPort
        /// A `%` not followed by two hex digits, or bytes that are not UTF-8, in `part`.
        case badPercentEncoding(Part)
        /// The Redis database is not a non-negative integer.
        case invalidDatabase
    }

    /// Which part of the URL a percent-decoding failure is in.
    public enum Part: String, Sendable {
        case user = "user name"
        case password
        case vhost
    }

    /// What userinfo without a `:` is: a user name (AMQP) or a password (Redis: `redis://secret@host`
    /// is commonly meant as a password, the way redis-cli reads it).
    public enum LoneUserinfo: Sendable {
        case user
        case password
    }

    /// Parses `url`, which must start with `scheme://` (`scheme` without the `://`).
    public static func parse(_ url: String, scheme: String, loneUserinfo: LoneUserinfo) throws(Failure) -> ServerURL {
        let prefix = scheme + "://"
        guard url.hasPrefix(prefix) else { throw .wrongScheme }
        var rest = Substring(url.dropFirst(prefix.count))
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        var path: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user: String? = nil
        var password: String? = nil
        var hostPort = rest
        // The last '@': a password may contain an unencoded one.
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = try decode(userinfo[..<colon], .user)
                password = try decode(userinfo[userinfo.index(after: colon)...], .password)
            } else {
                switch loneUserinfo {
                case .user: user = try decode(userinfo, .user)
                case .password: if !userinfo.isEmpty { password = try decode(userinfo, .password) }
                }
            }
        }
        let host: String
        let portText: Substring
        switch HostPort.split(hostPort) {
        case .success(let parts): (host, portText) = parts
        case .failure(.unterminatedIPv6): throw .unterminatedIPv6
        case .failure(.textAfterIPv6): throw .textAfterIPv6
        }
        var port: Int? = nil
        if !portText.isEmpty {
            guard let p = Int(portText), (1...65535).contains(p) else { throw .invalidPort }
            port = p
        }
        return ServerURL(user: user, password: password, host: host, port: port, path: path.map(String.init))
    }

    /// The AMQP virtual host: the path percent-decoded (`%2F` is `/`), and `/` when the path is
    /// absent or empty (the spec makes "amqp://h/" the empty vhost; everybody means the default one).
    public func virtualHost() throws(Failure) -> String {
        guard let path else { return "/" }
        let v = try Self.decode(path[...], .vhost)
        return v.isEmpty ? "/" : v
    }

    /// The Redis database number: nil when the path is absent or empty.
    public func database() throws(Failure) -> Int? {
        guard let path, !path.isEmpty else { return nil }
        guard let db = Int(path), db >= 0 else { throw .invalidDatabase }
        return db
    }

    private static func decode(_ s: Substring, _ part: Part) throws(Failure) -> String {
        guard let decoded = PercentDecoding.decode(s) else { throw .badPercentEncoding(part) }
        return decoded
    }
}
