/// A folder's bucket-notification secret: 32 random bytes shown once at `sync-create`, stored
/// as its SHA-256 only, compared in constant time.
public enum NotificationSecret {
    /// A new secret (`rsn_` + 64 hex digits).
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        return "rsn_" + (0..<32).map { _ in hex(UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    /// The stored form: SHA-256 of the secret, in lower-case hex.
    public static func digest(_ secret: String) -> String { SigningRequest.sha256Hex(Array(secret.utf8)) }

    /// Whether `given` hashes to `storedDigest`; the time taken does not depend on where they differ.
    public static func matches(_ given: String, storedDigest: String) -> Bool {
        let a = Array(digest(given).utf8), b = Array(storedDigest.lowercased().utf8)
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
