import Foundation
import NIOConcurrencyHelpers

/// Token buckets by key, in memory, per API process: `burst` at once, then `rate` per second on
/// average (with N replicas a key gets up to N × rate). Used for requests per API key and for
/// failed authentications per client address. A bucket that has refilled is the same as none,
/// so when the map reaches `maxKeys` the full buckets are dropped (and, if that frees nothing,
/// all of them): memory stays bounded however many keys or addresses try.
final class TokenBuckets: Sendable {
    private struct Bucket { var tokens: Double; var at: Double }
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    let rate: Double
    let burst: Double
    let maxKeys: Int

    /// `rate` 0 turns the limit off.
    init(rate: Double, burst: Double, maxKeys: Int = 100_000) {
        self.rate = rate
        self.burst = burst
        self.maxKeys = maxKeys
    }

    private func refilled(_ b: Bucket?, now: Double) -> Bucket {
        guard var b else { return Bucket(tokens: burst, at: now) }
        b.tokens = min(burst, b.tokens + (now - b.at) * rate)
        b.at = now
        return b
    }

    /// Takes one token for `key`: nil when there was one, else the seconds until there will be
    /// one (nothing taken).
    func take(_ key: String) -> Int? {
        guard rate > 0 else { return nil }
        let now = Date().timeIntervalSinceReferenceDate
        return buckets.withLockedValue { b in
            if b[key] == nil, b.count >= maxKeys {
                b = b.filter { refilled($0.value, now: now).tokens < burst }
                if b.count >= maxKeys { b.removeAll() }
            }
            var bucket = refilled(b[key], now: now)
            defer { b[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }

    /// Gives back a token taken in advance (a failed-auth charge whose key turned out valid).
    func refund(_ key: String) {
        guard rate > 0 else { return }
        buckets.withLockedValue { b in
            guard var bucket = b[key] else { return }
            bucket.tokens = min(burst, bucket.tokens + 1)
            b[key] = bucket
        }
    }
}
