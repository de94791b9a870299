/// An error reported by PostgreSQL or raised by the adapter around libpq.
///
/// - `sqlState` is the server's five-character SQLSTATE (`"23505"` unique violation, `"42601"`
///   syntax error, `"40001"` serialization failure, class `"08"` connection exceptions, …). It is
///   `nil` when the error did not come from the server as an ErrorResponse: connection failures
///   (libpq reports those as text only), a lost connection, misuse caught before anything is sent.
/// - `message` is the server's primary message, or libpq's message for client-side failures.
///   It never contains the connection password: every message built from libpq text is scrubbed
///   of the password the connection was opened with (libpq echoes the whole URI for some parse
///   errors).
/// - `detail` is the server's DETAIL field when present (e.g. `Key (id)=(1) already exists.`).
///   It may contain row values, so it is kept out of `description`; log it deliberately.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Five-character SQLSTATE code from the server, or `nil` for client-side and connection errors.
    public var sqlState: String?
    /// Human-readable message; never contains the connection password.
    public var message: String
    /// The server's DETAIL field, if any. May contain data values.
    public var detail: String?

    public init(sqlState: String? = nil, message: String, detail: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
    }

    /// `PostgresError[23505]: duplicate key value violates unique constraint "t_pkey"`.
    /// Excludes `detail` (it may carry row values).
    public var description: String {
        if let sqlState { return "PostgresError[\(sqlState)]: \(message)" }
        return "PostgresError: \(message)"
    }
}

/// Removes the secrets (passwords) of a connection string from text that libpq may have built
/// from it.
struct SecretScrubber: Sendable {
    private(set) var secrets: [String]

    /// Collects every form in which the password of `conninfo` could be echoed: the raw and
    /// percent-decoded userinfo password of a URI, raw and decoded `password=` query
    /// parameters, and a `password=` keyword of a key/value conninfo string.
    init(conninfo: String) {
        var found: [String] = []
        let bytes = Array(conninfo.utf8)

        // URI form: scheme://[user[:password]@]host...  libpq ends the userinfo at the first
        // '@' or '/' after the scheme.
        if let schemeEnd = Self.find(Array("://".utf8), in: bytes, from: 0) {
            var i = schemeEnd + 3
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "@"), bytes[i] != UInt8(ascii: "/") { i += 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "@") {
                let userinfo = bytes[start..<i]
                if let colon = userinfo.firstIndex(of: UInt8(ascii: ":")) {
                    found.append(String(decoding: userinfo[(colon + 1)...], as: UTF8.self))
                }
            }
            // Query parameters: ...?a=b&password=secret
            if let q = bytes.firstIndex(of: UInt8(ascii: "?")) {
                for pair in bytes[(q + 1)...].split(separator: UInt8(ascii: "&")) {
                    guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
                    let key = Self.percentDecode(pair[pair.startIndex..<eq])
                    if key == "password" {
                        found.append(String(decoding: pair[(eq + 1)...], as: UTF8.self))
                    }
                }
            }
        } else {
            // Key/value form: ... password=secret ... or password='se cret'
            var i = 0
            let key = Array("password".utf8)
            while let at = Self.find(key, in: bytes, from: i) {
                var j = at + key.count
                while j < bytes.count, bytes[j] == UInt8(ascii: " ") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < bytes.count, bytes[j] == UInt8(ascii: " ") { j += 1 }
                    var value: [UInt8] = []
                    if j < bytes.count, bytes[j] == UInt8(ascii: "'") {
                        j += 1
                        while j < bytes.count, bytes[j] != UInt8(ascii: "'") {
                            if bytes[j] == UInt8(ascii: "\\"), j + 1 < bytes.count { j += 1 }
                            value.append(bytes[j]); j += 1
                        }
                    } else {
                        while j < bytes.count, bytes[j] != UInt8(ascii: " ") { value.append(bytes[j]); j += 1 }
                    }
                    found.append(String(decoding: value, as: UTF8.self))
                }
                i = at + key.count
            }
        }

        var all: [String] = []
        for raw in found where !raw.isEmpty {
            all.append(raw)
            let decoded = Self.percentDecode(Array(raw.utf8)[...])
            if decoded != raw, !decoded.isEmpty { all.append(decoded) }
        }
        // Longest first, so a secret that contains another is replaced whole.
        secrets = all.sorted { $0.utf8.count > $1.utf8.count }
    }

    func scrub(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacing(secret, with: "***")
        }
        return text
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func percentDecode(_ bytes: ArraySlice<UInt8>) -> String {
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
               let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
