import Foundation
import Hummingbird
import Metrics
import Prometheus

/// Prometheus metrics of one process (`GET /metrics`).
///
/// Code everywhere records through swift-metrics (`Counter`, `Timer`, …: the pipeline's own
/// counters live in RegistrarRuntime's `PipelineMetrics`); this bootstraps the Prometheus
/// backend once and renders its registry. Gauges that describe the whole deployment (jobs by
/// status, queue depth, idle jobs) are refreshed by the API just before each scrape.
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let manifestsRefused: Metrics.Counter
    let progressRebuilds: Metrics.Counter

    /// Bootstraps swift-metrics with Prometheus (once per process) and registers the metrics
    /// every role exposes. `bootstrap` false leaves swift-metrics' global factory alone (tests
    /// that run other roles' code in the same process): only the registry's own metrics show.
    public init(role: String, version: String = RegistrarVersion.current, bootstrap: Bool = true) {
        if bootstrap { MetricsBootstrap.install() }
        registry = MetricsBootstrap.registry
        manifestsRefused = Metrics.Counter(label: "registrar_manifests_refused_total")
        progressRebuilds = Metrics.Counter(label: "registrar_progress_rebuilds_total")
        registry.makeGauge(name: "registrar_build_info", labels: [("role", role), ("version", version)]).set(to: 1.0)
    }

    /// The registry in Prometheus' text format, after refreshing process gauges.
    public func render() -> String {
        registry.makeGauge(name: "registrar_process_resident_memory_bytes").set(to: Double(ProcessMemory.residentBytes()))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    public func setDependency(_ name: String, up: Bool) {
        registry.makeGauge(name: "registrar_dependency_up", labels: [("dependency", name)]).set(to: up ? 1.0 : 0.0)
    }
}

/// One Prometheus registry per process, bootstrapped into swift-metrics exactly once.
enum MetricsBootstrap {
    static let registry = PrometheusCollectorRegistry()

    /// Makes swift-metrics record into `registry` (the first call does; later ones do nothing).
    static func install() { _ = installed }

    private static let installed: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["registrar_probe_duration_seconds"] =
            [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
             .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]
        factory.valueHistogramBuckets["registrar_probe_bytes"] = [256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216]
        MetricsSystem.bootstrap(factory)
    }()
}

/// The build's version, shown in `registrar_build_info` and `/healthz`.
public enum RegistrarVersion {
    public static let current = "0.9.0"
}

/// Resident memory of this process, from /proc (Linux).
enum ProcessMemory {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension APIMetrics {
    /// `registrar_job_seconds_since_progress`: by default one series, the largest value over the
    /// running jobs (0 when none runs) — what the RegistrarJobStuck alert needs, without
    /// publishing any tenant's job ids on an unauthenticated endpoint. With `perJob`
    /// (`REGISTRAR_METRICS_JOB_IDS=true`) one series per running job, labelled `job_id`; gauges of
    /// jobs that finished are removed so the series ends with the job.
    func refreshIdleJobs(_ idle: [(String, Double)], perJob: Bool) {
        if perJob {
            let running = Set(idle.map(\.0))
            IdleJobGauges.shared.update(registry: registry, running: running) { id in idle.first { $0.0 == id }?.1 ?? 0 }
        } else {
            registry.makeGauge(name: "registrar_job_seconds_since_progress").set(to: idle.map(\.1).max() ?? 0)
        }
    }
}

/// Which per-job gauges exist, so finished jobs' series can be unregistered.
final class IdleJobGauges: @unchecked Sendable {
    static let shared = IdleJobGauges()
    private let lock = NSLock()
    private var gauges: [String: Prometheus.Gauge] = [:]

    func update(registry: PrometheusCollectorRegistry, running: Set<String>, seconds: (String) -> Double) {
        lock.lock()
        defer { lock.unlock() }
        for (id, gauge) in gauges where !running.contains(id) {
            registry.unregisterGauge(gauge)
            gauges[id] = nil
        }
        for id in running {
            let gauge = gauges[id] ?? registry.makeGauge(name: "registrar_job_seconds_since_progress", labels: [("job_id", id)])
            gauges[id] = gauge
            gauge.set(to: seconds(id))
        }
    }
}
