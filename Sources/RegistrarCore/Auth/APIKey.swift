import Crypto

/// API keys: `rgk_` followed by 40 base-62 characters (238 bits from the system's CSPRNG).
///
/// Only a SHA-256 of the key is stored. A fast hash is right for keys of this entropy (nobody
/// can guess one to test against the hash), and it keeps authentication a single indexed lookup
/// on every request; slow password hashes exist for low-entropy human passwords.
public enum APIKey {
    public static let prefix = "rgk_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static let bodyLength = 40

    /// A new random key.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()  // getrandom(2) on Linux
        var out = prefix
        for _ in 0..<bodyLength {
            out.unicodeScalars.append(Unicode.Scalar(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]))
        }
        return out
    }

    /// Whether a string has the shape of a key (checked before any lookup).
    public static func isWellFormed(_ key: String) -> Bool {
        let u = Array(key.utf8)
        guard u.count == prefix.utf8.count + bodyLength, key.hasPrefix(prefix) else { return false }
        return u.dropFirst(prefix.utf8.count).allSatisfy { alphabet.contains($0) }
    }

    /// Lowercase hex SHA-256 of the key: what the store keeps.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).map { b in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
        }.joined()
    }

    /// The first characters shown in listings so people can tell keys apart.
    public static func displayPrefix(_ key: String) -> String {
        String(key.prefix(prefix.count + 6))
    }
}
