import Crypto

/// The `cursor` / `nextCursor` tokens of the API's paged listings: opaque to clients, bound to
/// the listing and the tenant that produced them, and self-contained.
///
/// A token is base64url (no padding) of `v1`, the listing's scope tag and the key of the last
/// row shown (keyset paging), separated by U+001F. The scope tag is the first 12 bytes of
/// SHA-256 over the scope (e.g. `uploads`, the tenant id, and the parent object's id), so a
/// token another tenant — or another listing — was given decodes to nil here, exactly like a
/// token that is garbage; and since the key travels inside the token, decoding never looks
/// anything up (a lookup by id outside the tenant is what once told one tenant's job ids from
/// unknown ones). Tokens are not signed: a client that forges one only moves its own position
/// within its own list, which every query filters by tenant anyway.
public struct PageCursor: Sendable, Equatable {
    static let version = "v1"
    static let separator: Character = "\u{1F}"
    /// Longest token accepted (a folder name of 255 characters, base64url, with room to spare).
    public static let maxTokenLength = 2048

    /// The row key the next page starts after, one string per key column.
    public var key: [String]

    public init(key: [String]) {
        self.key = key
    }

    /// The token for this key in `scope` (the parts that identify the listing and the tenant).
    public func token(scope: [String]) -> String {
        let text = ([Self.version, Self.tag(scope)] + key).joined(separator: String(Self.separator))
        return Base64URL.encode(Array(text.utf8))
    }

    /// The key a token carries, or nil when the token is malformed or was made for another
    /// scope (another tenant, listing or parent): both mean "not a cursor this API gave".
    public static func decode(_ token: String, scope: [String], keyColumns: Int) -> PageCursor? {
        guard !token.isEmpty, token.utf8.count <= maxTokenLength, let bytes = Base64URL.decode(token) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // Invalid UTF-8 (replaced on decoding) or control characters (a NUL from an appended
        // character, say): not a token this API made.
        guard Array(text.utf8) == bytes, !bytes.contains(where: { $0 < 0x20 && $0 != 0x1F }) else { return nil }
        let parts = text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 + keyColumns, parts[0] == version, parts[1] == tag(scope) else { return nil }
        return PageCursor(key: Array(parts.dropFirst(2)))
    }

    static func tag(_ scope: [String]) -> String {
        let digest = SHA256.hash(data: Array(("registrar-page-cursor\u{0}" + scope.joined(separator: "\u{0}")).utf8))
        return Base64URL.encode(Array(digest.prefix(12)))
    }
}

/// base64url without padding (RFC 4648 §5) over `SigningBase64`, strict: a token decodes only
/// if encoding its bytes gives the token back (no padding, no `+`/`/`, no stray bits).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        String(SigningBase64.encode(bytes).compactMap { $0 == "=" ? nil : $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
        var s = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while s.utf8.count % 4 != 0 { s += "=" }
        guard let bytes = SigningBase64.decode(s), encode(bytes) == text else { return nil }
        return bytes
    }
}
