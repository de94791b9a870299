import RegistrarRedis

/// A Redis reply as plain text (arrays joined by spaces), for the secret-canary tests that
/// search every Redis value for a secret.
func redisText(_ reply: RedisReply) -> String {
    switch reply {
    case .string(let s), .status(let s), .error(let s): return s
    case .integer(let i): return String(i)
    case .array(let a): return a.map(redisText).joined(separator: " ")
    case .null: return ""
    }
}
