import Crypto

/// Webhook deliveries as Encord sends them (docs/workflows.md, "Webhooks"): an envelope
/// `{uid, version, source: "Encord", event_type, event_created_timestamp, payload}` and a
/// signature over the timestamp and the raw body, so a receiver can check both the sender and
/// the freshness of each delivery.
public enum WebhookSigning {
    /// The signature header: hex HMAC-SHA256(secret, "{timestamp}." + body).
    public static let signatureHeader = "X-Encord-Signature"
    /// Whole seconds since the epoch when the delivery was signed.
    public static let timestampHeader = "X-Encord-Timestamp"
    /// How far a receiver should accept a timestamp from its own clock.
    public static let toleranceSeconds = 300

    /// The signature of one delivery.
    public static func signature(secret: String, timestamp: Int, body: [UInt8]) -> String {
        let message = Array("\(timestamp).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return SigningHex.encode(mac)
    }

    /// Whether a delivery is authentic and fresh (constant-time comparison).
    public static func verify(secret: String, timestamp: Int, body: [UInt8], signature: String, now: Int) -> Bool {
        guard abs(now - timestamp) <= toleranceSeconds else { return false }
        let expected = Array(self.signature(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.lowercased().utf8)
        guard expected.count == given.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(expected, given) { diff |= a ^ b }
        return diff == 0
    }

    /// The delivery body. `uid` identifies the event: a redelivery repeats it, so receivers
    /// deduplicate on it (unlike Encord's agent notifications, ours are stable per event).
    public static func envelope(uid: String, eventType: String, createdAt: String, payload: JSONValue) -> JSONValue {
        .object([("uid", .string(uid)), ("version", .number("1")), ("source", .string("Encord")),
                 ("event_type", .string(eventType)), ("event_created_timestamp", .string(createdAt)), ("payload", payload)])
    }
}
