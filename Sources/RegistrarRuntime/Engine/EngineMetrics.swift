import Metrics
import RegistrarCore

/// The engine's metrics, recorded through swift-metrics (the process chooses the backend;
/// `registrar worker|coordinator --metrics-port` and `registrar api` render them for Prometheus).
/// Names are a contract with the alert rules in deploy/ and charts/: change them only with those.
///
/// Every series carries a `kind` label, registration's included (`kind="registration"`). A
/// Prometheus registry refuses one name with two label sets, so a worker serving two kinds would
/// crash at its first chunk of the second if registration's series went unlabelled; the alert
/// rules aggregate with `sum(…)`, so the label changes none of them.
public enum EngineMetrics {
    static func dimensions(_ kind: String, _ extra: [(String, String)] = []) -> [(String, String)] {
        [("kind", kind)] + extra
    }

    /// After a chunk's commit: units by outcome, errors by code, and how the chunk arrived
    /// (redelivered, dead-lettered). Counts only first commits, so redeliveries of an
    /// already-committed chunk never count units twice.
    static func chunkHandled(_ delivery: WorkDelivery, kind: String, outcome: CommitOutcome, errorCodes: [UnitErrorCode: Int]) {
        Counter(label: "registrar_chunks_acked_total", dimensions: dimensions(kind)).increment()
        if delivery.deliveryCount > 1 { Counter(label: "registrar_chunks_redelivered_total", dimensions: dimensions(kind)).increment() }
        if delivery.kind == .deadChunk { Counter(label: "registrar_chunks_dead_lettered_total", dimensions: dimensions(kind)).increment() }
        guard case .committed(let counts) = outcome else { return }
        for (outcome, n) in [("done", counts.done), ("error", counts.errors), ("skipped", counts.skipped), ("cancelled", counts.cancelled)] where n > 0 {
            Counter(label: "registrar_units_total", dimensions: dimensions(kind, [("outcome", outcome)])).increment(by: n)
        }
        for (code, n) in errorCodes where n > 0 {
            Counter(label: "registrar_unit_errors_total", dimensions: dimensions(kind, [("code", code.rawValue)])).increment(by: n)
        }
    }

    /// Wall time to do one chunk's work (per-object probe latency and bytes are recorded by the
    /// fetcher's side, `registrar_probe_duration_seconds` / `registrar_probe_bytes`).
    static func chunkPerformed(kind: String, seconds: Double) {
        Timer(label: kind == KindQueues.registration.kind ? "registrar_chunk_verify_duration_seconds" : "registrar_chunk_duration_seconds",
              dimensions: dimensions(kind)).recordSeconds(seconds)
    }

    /// Chunks the coordinator published (confirmed by the broker).
    static func chunksPublished(_ n: Int, kind: String) {
        Counter(label: "registrar_chunks_published_total", dimensions: dimensions(kind)).increment(by: n)
    }
}
