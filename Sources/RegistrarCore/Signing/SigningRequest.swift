// The request, time and error types shared by every signer in this folder (SigV4, SigV4A,
// Azure Shared Key, GCS HMAC). Pure: no clock, no I/O; the caller hands in the time.

/// An HTTP request as the signers see it: method, absolute URL and the headers the caller will
/// send. A signer returns the headers to *add*; it never changes the request itself.
///
/// The URL's path and query are taken as they will go on the wire, so build them
/// percent-encoded (see ``SigningPercentEncoding/encodePath(_:)`` for object keys). A signer
/// canonicalises them the way the service does: S3, GCS and Azure never encode a path twice.
public struct SigningRequest: Sendable {
    /// The HTTP method, e.g. `GET` (upper-cased when signed).
    public var method: String
    /// The absolute `http`/`https` URL, path and query percent-encoded as sent.
    public var url: String
    /// Headers the caller will send, in order; names compare case-insensitively and a repeated
    /// name is signed as its values joined by commas, in this order.
    public var headers: [(String, String)]
    /// Lower-case hex SHA-256 of the body, or nil for `UNSIGNED-PAYLOAD` (S3's rule for a body
    /// that is not hashed; every presigned URL uses it). A GET with no body may pass
    /// ``emptyPayloadHash``; ``sha256Hex(_:)`` hashes a body held in memory.
    public var payloadHash: String?

    /// A request to sign.
    public init(method: String, url: String, headers: [(String, String)] = [], payloadHash: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// SHA-256 of the empty body, hex: `e3b0c442…b855`.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The literal S3 and GCS accept in place of a body hash.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Lower-case hex SHA-256 of `body`, for ``payloadHash``.
    public static func sha256Hex(_ body: [UInt8]) -> String {
        SigningHex.encode(SigningCrypto.sha256(body))
    }
}

/// Why a request could not be signed. No case carries a secret, a header value or the URL's
/// query (a presigned URL's query is itself a credential).
public enum SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not an absolute `http`/`https` URL with a host.
    case invalidURL
    /// A presigned URL's lifetime is outside the service's bounds (S3: 1…604800 seconds).
    case invalidExpiry(Int)
    /// An Azure account key is not valid base64, or a key is empty.
    case invalidKey
    /// SigV4A could not derive an ECDSA key from the credentials (practically unreachable: it
    /// needs 254 HMAC outputs in a row above the P-256 group order).
    case keyDerivationFailed
    /// A header name or value contains a character HTTP does not allow (CR, LF, NUL).
    case invalidHeader(name: String)

    /// A message safe to log.
    public var description: String {
        switch self {
        case .invalidURL: return "signing: the URL is not an absolute http(s) URL with a host"
        case .invalidExpiry(let s): return "signing: presigned URL expiry \(s)s is out of range"
        case .invalidKey: return "signing: the key is not valid (expected non-empty, base64 for Azure)"
        case .keyDerivationFailed: return "signing: SigV4A key derivation failed"
        case .invalidHeader(let name): return "signing: header \(SigningHeaders.safeName(name)) has a forbidden character"
        }
    }
}

/// A point in time in UTC, whole seconds, with the formats the signers need. The caller supplies
/// the time (`SigningDate(secondsSince1970: Int64(Date().timeIntervalSince1970))`), which keeps
/// signing pure and testable against fixed vectors.
public struct SigningDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64

    /// The instant `secondsSince1970` seconds after the Unix epoch.
    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// A UTC calendar date and time (proleptic Gregorian), or nil when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second),
              day <= SigningDate.daysInMonth(year: year, month: month) else { return nil }
        let days = SigningDate.daysFromCivil(year: year, month: month, day: day)
        secondsSince1970 = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Parses the ISO 8601 basic form the AWS and GCS signers use, `20130524T000000Z`.
    public init?(iso8601Basic s: String) {
        let b = Array(s.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8),
              let h = num(9..<11), let mi = num(11..<13), let se = num(13..<15) else { return nil }
        self.init(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
    }

    /// `yyyyMMdd'T'HHmmss'Z'`, the value of `X-Amz-Date` / `X-Goog-Date`.
    public var iso8601Basic: String {
        let c = components
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z"
    }

    /// `yyyyMMdd`, the date in a credential scope.
    public var dateStamp: String {
        let c = components
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
    }

    /// RFC 1123 / RFC 7231 IMF-fixdate, `Fri, 24 May 2013 00:00:00 GMT` (Azure's `x-ms-date`).
    public var rfc1123: String {
        let c = components
        let days = Int(floorDiv(secondsSince1970, 86_400))
        let weekday = ((days % 7) + 7 + 4) % 7 // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(names[weekday]), \(pad(c.day, 2)) \(months[c.month - 1]) \(pad(c.year, 4)) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)) GMT"
    }

    /// The ISO 8601 basic form.
    public var description: String { iso8601Basic }

    /// Orders by instant.
    public static func < (a: SigningDate, b: SigningDate) -> Bool { a.secondsSince1970 < b.secondsSince1970 }

    private var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = floorDiv(secondsSince1970, 86_400)
        let rem = Int(secondsSince1970 - days * 86_400)
        let (y, m, d) = SigningDate.civilFromDays(Int(days))
        return (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
    }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// An absolute URL split the way signers need it, without re-encoding anything.
struct SigningURL {
    /// `http` or `https`, lower-cased.
    var scheme: String
    /// The `Host` header value: host lower-cased, `:port` only when not the scheme's default.
    var hostHeader: String
    /// Everything before the path: `scheme://authority` as given (userinfo removed).
    var origin: String
    /// The path exactly as given (may be empty).
    var path: String
    /// The query without `?` (nil when the URL has no `?`), as given; the fragment is dropped.
    var query: String?

    init(_ url: String) throws(SigningError) {
        guard let colon = url.firstIndex(of: ":") else { throw .invalidURL }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https", url[colon...].hasPrefix("://") else { throw .invalidURL }
        var rest = url[url.index(colon, offsetBy: 3)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty,
              !authority.contains(where: { $0 == " " || $0 == "\\" || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false })
        else { throw .invalidURL }
        // Split host and port (IPv6 literals keep their brackets).
        var host = Substring(authority)
        var port: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty { throw .invalidURL }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .invalidURL }
        var hostHeader = host.lowercased()
        if let port, !port.isEmpty {
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(port), p <= 65_535 else { throw .invalidURL }
            let defaultPort = scheme == "https" ? 443 : 80
            if p != defaultPort { hostHeader += ":\(p)" }
        }
        let pathAndQuery = rest[authorityEnd...]
        if let q = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<q])
            query = String(pathAndQuery[pathAndQuery.index(after: q)...])
        } else {
            path = String(pathAndQuery)
            query = nil
        }
        self.scheme = scheme
        self.hostHeader = hostHeader
        self.origin = scheme + "://" + authority
    }

    /// The query's `name=value` pairs as given (still encoded), empty pieces skipped.
    var rawQueryPairs: [(name: Substring, value: Substring)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            if let eq = piece.firstIndex(of: "=") {
                return (piece[..<eq], piece[piece.index(after: eq)...])
            }
            return (piece, piece[piece.endIndex...])
        }
    }
}

/// Header list helpers shared by the signers.
enum SigningHeaders {
    /// HTTP's optional whitespace plus the other ASCII whitespace SigV4's `Trimall` folds.
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    /// Trims and collapses every run of whitespace (including folded lines) to one space.
    static func trimAll(_ s: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for b in s.utf8 {
            if isSpace(b) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The name lower-cased and trimmed.
    static func canonicalName(_ s: String) -> String {
        trimAll(s).lowercased()
    }

    /// Refuses names with control characters or separators that would let a value inject a line.
    static func check(_ headers: [(String, String)]) throws(SigningError) {
        for (n, v) in headers {
            if n.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: ":") }) || n.isEmpty {
                throw .invalidHeader(name: n)
            }
            if v.utf8.contains(where: { $0 == 0x00 }) { throw .invalidHeader(name: n) }
        }
    }

    /// A header name fit for an error message: printable ASCII only, at most 64 bytes.
    static func safeName(_ s: String) -> String {
        String(decoding: s.utf8.prefix(64).map { $0 >= 0x21 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// Groups by lower-cased name: values in order, each trimmed, joined with commas; sorted by name.
    static func canonicalGroups(_ headers: [(String, String)]) -> [(name: String, value: String)] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (n, v) in headers {
            let name = canonicalName(n)
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(trimAll(v))
        }
        return order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { ($0, values[$0]!.joined(separator: ",")) }
    }
}
