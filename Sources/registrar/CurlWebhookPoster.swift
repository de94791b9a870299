import RegistrarCore
import RegistrarFetch
import RegistrarRuntime

/// Webhook POSTs through libcurl (`RangeFetcher`): the same address policy as object fetches
/// (`--fetch-allow` / `REGISTRAR_FETCH_ALLOW` unlocks private addresses), no redirects (a request
/// with a body is never redirected), one attempt each (the engine retries, with its backoff).
final class CurlWebhookPoster: WebhookPoster {
    let fetcher: RangeFetcher

    /// - Parameter base: the worker's fetch policy (its address policy and CA bundle are kept).
    init(base: FetchPolicy, timeoutSeconds: Double = 10) throws {
        var p = base
        p.maxAttempts = 1
        p.followRedirects = false
        p.maxRedirects = 0
        p.totalTimeout = timeoutSeconds
        p.deadline = timeoutSeconds
        p.maxConcurrent = max(1, min(p.maxConcurrent, 16))
        fetcher = try RangeFetcher(policy: p)
    }

    func post(_ requests: [WebhookPost]) -> [WebhookPostResult] {
        guard !requests.isEmpty else { return [] }
        let results = fetcher.fetch(requests.enumerated().map { i, r in
            FetchRequest(id: i, url: r.url, rangeLength: 4096, headers: r.headers, postBody: r.body)
        })
        var byID: [Int: FetchResult] = [:]
        for r in results { byID[r.id] = r }
        return requests.indices.map { i in
            guard let r = byID[i] else { return WebhookPostResult(status: nil, error: "internal_error: no result", durationMs: 0) }
            let ms = Int((r.elapsedSeconds * 1000).rounded())
            let status = r.status > 0 ? r.status : nil
            if (200..<300).contains(r.status) { return WebhookPostResult(status: status, error: nil, durationMs: ms) }
            let reason = r.failure.map(\.rawValue) ?? "http_error"
            return WebhookPostResult(status: status, error: "\(reason): \(r.message ?? "HTTP \(r.status)")", durationMs: ms)
        }
    }
}

/// The delivery retry settings of a worker (env `REGISTRAR_WEBHOOK_MAX_ATTEMPTS`,
/// `REGISTRAR_WEBHOOK_BACKOFF_SECONDS`, `REGISTRAR_WEBHOOK_MAX_BACKOFF_SECONDS`).
enum WebhookSettings {
    static func retryPolicy() throws -> WebhookRetryPolicy {
        let d = WebhookRetryPolicy()
        let attempts = try FetchOptions.setting(nil as Int?, flag: "", env: "REGISTRAR_WEBHOOK_MAX_ATTEMPTS", default: d.maxAttempts,
                                                what: "a whole number from 1 to 100") { (1...100).contains($0) }
        let base = try FetchOptions.setting(nil as Double?, flag: "", env: "REGISTRAR_WEBHOOK_BACKOFF_SECONDS", default: d.baseSeconds,
                                            what: "a number of seconds from 0 to 86400") { $0 >= 0 && $0 <= 86400 }
        let cap = try FetchOptions.setting(nil as Double?, flag: "", env: "REGISTRAR_WEBHOOK_MAX_BACKOFF_SECONDS", default: d.maxSeconds,
                                           what: "a number of seconds from 0 to 604800") { $0 >= 0 && $0 <= 604800 }
        return WebhookRetryPolicy(maxAttempts: attempts, baseSeconds: base, maxSeconds: cap)
    }
}
