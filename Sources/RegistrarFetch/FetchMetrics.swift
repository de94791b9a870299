import Metrics

/// What object storage answered, for Prometheus (names are a contract with the alert rules in
/// deploy/ and charts/): responses by HTTP status (429 and 503 feed the throttling alert), and
/// per object the time its ranged reads took and the bytes they read.
enum FetchMetrics {
    static func response(status: Int) {
        // 0: no HTTP answer (refused destination, connect failure, timeout).
        Counter(label: "registrar_fetch_responses_total", dimensions: [("status", String(status))]).increment()
    }

    static func probed(seconds: Double, bytes: Int) {
        Timer(label: "registrar_probe_duration_seconds").recordNanoseconds(Int64(seconds * 1e9))
        Recorder(label: "registrar_probe_bytes", aggregate: true).record(bytes)
    }
}
