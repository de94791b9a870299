import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/healthz`, `/readyz` and `/metrics`: unauthenticated, for orchestrators and Prometheus.
/// With `--metrics-port`, `/metrics` moves to its own listener (`APIServer`).
struct HealthRoutes {
    let pool: BlockingPool
    let metrics: APIMetrics
    /// Whether `registrar_job_seconds_since_progress` names each running job (`--metrics-job-ids`).
    var jobIDs = false

    func register(on router: Router<APIContext>, metricsRoute: Bool = true) {
        router.get("/healthz") { _, _ in
            JSONResponse.ok(JSONValue.object([("status", .string("ok")), ("version", .string(RegistrarVersion.current))]).compactText)
        }
        router.get("/readyz", use: ready)
        if metricsRoute { router.get("/metrics", use: scrape) }
    }

    /// Each dependency checked for real; 503 names the ones that failed.
    @Sendable func ready(_ request: Request, context: APIContext) async throws -> Response {
        let checks: [(String, Bool, String?)] = try await pool.run { backends in
            var out: [(String, Bool, String?)] = []
            do {
                let v = try backends.registry().schemaVersions()
                out.append(("postgres", true, nil))
                out.append(("schema", v.applied >= v.known, v.applied >= v.known ? nil : "schema at \(v.applied), this build needs \(v.known): run `registrar migrate`"))
            } catch {
                backends.dropUnhealthy(after: error)
                out.append(("postgres", false, "unreachable"))
                out.append(("schema", false, "unknown"))
            }
            do { _ = try backends.tracker().counts(jobID: "00000000-0000-0000-0000-000000000000"); out.append(("redis", true, nil)) } catch {
                backends.dropUnhealthy(after: error)
                out.append(("redis", false, "unreachable"))
            }
            do { _ = try backends.publisher().depth(of: KindQueues.registration.work); out.append(("rabbitmq", true, nil)) } catch {
                backends.dropUnhealthy(after: error)
                out.append(("rabbitmq", false, "unreachable"))
            }
            return out
        }
        for (name, ok, _) in checks where name != "schema" { metrics.setDependency(name, up: ok) }
        let ready = checks.allSatisfy(\.1)
        let json = JSONValue.object([("status", .string(ready ? "ready" : "not_ready")),
                                     ("checks", .object(checks.map { ($0.0, .object([("ok", .bool($0.1)), ("reason", $0.2.map(JSONValue.string) ?? .null)])) }))])
        return JSONResponse.ok(json.compactText, status: ready ? .ok : .serviceUnavailable)
    }

    /// Refreshes deployment-wide gauges, then renders the registry.
    @Sendable func scrape(_ request: Request, context: APIContext) async throws -> Response {
        let registry = metrics.registry
        let facts: (jobs: [String: Int], idle: [(String, Double)], queues: [String: Int])? = try? await pool.run { backends in
            let store = try backends.registry()
            let jobs = try store.jobCountsByStatus()
            let idle = try store.runningJobsIdleSeconds()
            var queues: [String: Int] = [:]
            if let publisher = try? backends.publisher() {
                for q in MonitoredQueues.all {
                    if let d = try? publisher.depth(of: q) { queues[q] = d }
                }
            }
            return (jobs, idle, queues)
        }
        metrics.setDependency("postgres", up: facts != nil)
        if let facts {
            for status in ["PENDING", "DONE", "ERROR", "CANCELLED"] {
                registry.makeGauge(name: "registrar_jobs", labels: [("status", status)]).set(to: Double(facts.jobs[status] ?? 0))
            }
            for (q, d) in facts.queues { registry.makeGauge(name: "registrar_queue_messages", labels: [("queue", q)]).set(to: Double(d)) }
            metrics.setDependency("rabbitmq", up: facts.queues.count == 3)
            metrics.refreshIdleJobs(facts.idle, perJob: jobIDs)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }
}
