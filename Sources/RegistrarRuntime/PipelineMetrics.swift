import Metrics
import RegistrarCore

/// The pipeline's own metrics, recorded through swift-metrics (the process chooses the backend;
/// `registrar worker|coordinator --metrics-port` and `registrar api` render them for Prometheus).
/// Names are a contract with the alert rules in deploy/ and charts/: change them only with those.
public enum PipelineMetrics {
    /// After a chunk's commit: units by outcome, errors by code, and how the
    /// chunk arrived (redelivered, dead-lettered). Counts only first commits, so redeliveries of
    /// an already-committed chunk never count units twice.
    static func chunkHandled(_ delivery: WorkDelivery, result: ChunkResult, outcome: CommitOutcome) {
        Counter(label: "registrar_chunks_acked_total").increment()
        if delivery.deliveryCount > 1 { Counter(label: "registrar_chunks_redelivered_total").increment() }
        if delivery.kind == .deadChunk { Counter(label: "registrar_chunks_dead_lettered_total").increment() }
        guard case .committed(let counts, _) = outcome else { return }
        for (outcome, n) in [("done", counts.done), ("error", counts.errors), ("skipped", counts.skipped), ("cancelled", counts.cancelled)] where n > 0 {
            Counter(label: "registrar_units_total", dimensions: [("outcome", outcome)]).increment(by: n)
        }
        var byCode: [String: Int] = [:]
        for case .failed(_, _, let code, _) in result.items { byCode[code, default: 0] += 1 }
        for (code, n) in byCode { Counter(label: "registrar_unit_errors_total", dimensions: [("code", code)]).increment(by: n) }
    }

    /// Wall time to verify one chunk (per-object probe latency and bytes are recorded by the
    /// fetcher's side, `registrar_probe_duration_seconds` / `registrar_probe_bytes`).
    static func chunkVerified(units: Int, seconds: Double) {
        Timer(label: "registrar_chunk_verify_duration_seconds").recordSeconds(seconds)
    }

    /// Chunks the coordinator published (confirmed by the broker).
    static func chunksPublished(_ n: Int) {
        Counter(label: "registrar_chunks_published_total").increment(by: n)
    }
}
