import Hummingbird
import Logging
import RegistrarRuntime

/// The small HTTP server coordinators and workers run with `--metrics-port`: `/metrics`,
/// `/healthz` (process up) and `/readyz` (connected to its servers and consuming).
public enum MetricsServer {
    public static func make(role: String, host: String, port: Int, readiness: ReadinessFlag, logger: Logger) -> some ApplicationProtocol {
        let metrics = APIMetrics(role: role)
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.get("/healthz") { _, _ in JSONResponse.ok("{\"status\":\"ok\",\"role\":\"\(role)\"}") }
        router.get("/readyz") { _, _ in
            let ready = readiness.isReady
            for name in ["postgres", "rabbitmq", "redis"] { metrics.setDependency(name, up: ready) }
            return JSONResponse.ok("{\"status\":\"\(ready ? "ready" : "not_ready")\"}", status: ready ? .ok : .serviceUnavailable)
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "registrar-\(role)"),
                           logger: logger)
    }
}
