import Crypto

/// Expiring links to objects in Registrar's storage (`GET /v1/objects/{key}?expires=…&signature=…`),
/// so exports, agents and the label editor can fetch an object without an API key.
///
/// The signature is hex HMAC-SHA256(secret, "GET\n{key}\n{expires}"): it binds the key and the
/// expiry, so neither can be changed. Every API replica must share the secret
/// (`REGISTRAR_LINK_SECRET`, docs/storage.md).
public struct SignedLink: Sendable {
    private let secret: [UInt8]

    /// `secret`: at least 32 bytes.
    public init?(secret: [UInt8]) {
        guard secret.count >= 32 else { return nil }
        self.secret = secret
    }

    /// The query for a link valid until `expires` (seconds since the epoch).
    /// `method` "PUT": a link that stores an upload's bytes (`PUT /v1/objects/{key}`); a GET
    /// link cannot be used to write, nor a PUT link to read.
    public func query(for key: ObjectKey, expires: Int, method: String = "GET") -> String {
        "expires=\(expires)&signature=\(signature(key, expires, method))"
    }

    /// Whether a link's query values are genuine and not expired at `now`.
    public func verify(_ key: ObjectKey, expires: String?, signature: String?, now: Int, method: String = "GET") -> LinkCheck {
        guard let expires, let when = Int(expires), let signature else { return .malformed }
        let expected = Array(self.signature(key, when, method).utf8)
        let given = Array(signature.lowercased().utf8)
        var diff: UInt8 = expected.count == given.count ? 0 : 1
        for (a, b) in zip(expected, given) { diff |= a ^ b }
        guard diff == 0 else { return .badSignature }
        return when < now ? .expired : .valid
    }

    private func signature(_ key: ObjectKey, _ expires: Int, _ method: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(method)\n\(key.text)\n\(expires)".utf8), using: SymmetricKey(data: secret))
        return SigningHex.encode(mac)
    }
}

/// What checking a link found.
public enum LinkCheck: Sendable, Equatable {
    case valid
    case expired
    case badSignature
    /// `expires` or `signature` missing or not a number.
    case malformed
}
