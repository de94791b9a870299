import Foundation
import Hummingbird
import Logging
import RegistrarCore
import RegistrarRuntime
import ServiceLifecycle

/// `registrar api`: the operator HTTP API, the status page and `/metrics`, as one Hummingbird
/// application. Routes:
///
/// - `GET /healthz`, `GET /readyz`, `GET /metrics` — no key (`/metrics` on its own listener
///   with `APIConfiguration.metricsPort`).
/// - `GET /v1/openapi.json` — no key; the contract, checked by schemathesis in the tests.
/// - `/v1/…` — bearer key (`AuthMiddleware`); every query is scoped to the key's tenant.
/// - `GET /`, `POST /login`, `POST /logout` — the status page for people (key in a cookie).
public enum APIServer {
    /// The application, ready to run as a service (`app.runService()` or in a ServiceGroup).
    ///
    /// `backends` makes one pool thread's connections (called once per thread, on that thread):
    /// the executable passes the live adapters, tests pass twins. `integrationTester` answers
    /// `POST /v1/integrations/{id}/test`.
    public static func make(config: APIConfiguration, backends: @escaping @Sendable () -> any APIBackends,
                            integrationTester: any IntegrationTester, logger: Logger) -> some ApplicationProtocol {
        let pool = BlockingPool(size: config.blockingThreads, backends: backends, logger: logger)
        let metrics = APIMetrics(role: "api", bootstrap: config.bootstrapsMetrics)
        let router = Router(context: APIContext.self)
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: InputGuardMiddleware())
        let health = HealthRoutes(pool: pool, metrics: metrics, jobIDs: config.metricsJobIDs)
        health.register(on: router, metricsRoute: config.metricsPort == 0)
        router.get("/v1/openapi.json") { _, _ in JSONResponse.ok(OpenAPIDocument.json) }
        let auth = AuthMiddleware(pool: pool, cache: PrincipalCache(seconds: config.keyCacheSeconds, unknownSeconds: config.unknownKeyCacheSeconds),
                                  limiter: TokenBuckets(rate: config.rateLimit, burst: config.rateBurst),
                                  failures: TokenBuckets(rate: config.authFailureRate, burst: max(1, config.authFailureBurst)),
                                  trust: RequestTrust(origins: config.origins))
        let v1 = router.group("/v1").add(middleware: auth)
        FolderRoutes(pool: pool).register(on: v1)
        FolderSyncRoutes(pool: pool).register(on: v1, router: router)
        AccessRoutes(pool: pool).register(on: v1)
        ProjectRoutes(pool: pool).register(on: v1)
        DatasetRoutes(pool: pool).register(on: v1)
        TaskRoutes(pool: pool).register(on: v1)
        LabelRoutes(pool: pool).register(on: v1)
        ExportRoutes(pool: pool, tempDirectory: config.spoolDirectory).register(on: v1)
        WorkflowTemplateRoutes(pool: pool).register(on: v1)
        WebhookRoutes(pool: pool, fetchAllow: config.fetchAllow).register(on: v1)
        JobRoutes(pool: pool).register(on: v1)
        UploadRoutes(pool: pool, config: config, metrics: metrics, cache: SnapshotCache(ttl: config.snapshotCacheSeconds)).register(on: v1)
        ErrorRoutes(pool: pool).register(on: v1)
        IntegrationRoutes(pool: pool, tester: integrationTester, keyRing: config.keyRing).register(on: v1)
        if let links = config.linkSecret.flatMap(SignedLink.init(secret:)) {
            ObjectRoutes(pool: pool, links: links).register(on: router)
            FileRoutes(pool: pool, config: config, links: links).register(on: v1, router: router)
        }
        OntologyRoutes(pool: pool).register(on: v1)
        StatusPage(pool: pool, auth: auth).register(on: router)
        LabelEditorPage(page: StatusPage(pool: pool, auth: auth)).register(on: router)
        // Last: it wraps only the not-found answer (405 with Allow for a known path).
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))

        var app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "registrar"),
            logger: logger)
        app.addServices(BootstrapService(pool: pool, config: config, logger: logger))
        if config.metricsPort > 0 {
            // `/metrics` on a listener of its own (e.g. reachable by Prometheus only), and no
            // longer on the public port; health routes on both, for probes of either.
            let metricsRouter = Router(context: APIContext.self)
            health.register(on: metricsRouter)
            app.addServices(Application(
                router: metricsRouter,
                configuration: .init(address: .hostname(config.metricsHost ?? config.host, port: config.metricsPort), serverName: "registrar-api-metrics"),
                logger: logger))
        }
        return app
    }
}

/// Runs once at start: makes sure the bootstrap key exists, then waits for shutdown and stops
/// the blocking pool.
struct BootstrapService: Service {
    let pool: BlockingPool
    let config: APIConfiguration
    let logger: Logger

    func run() async throws {
        if let key = config.bootstrapKey {
            if !APIKey.isWellFormed(key) {
                logger.error("REGISTRAR_BOOTSTRAP_API_KEY is not a Registrar key (rgk_ + 40 letters/digits); ignored")
            } else {
                do {
                    try await pool.run { backends in
                        let registry = try backends.registry()
                        try registry.ensureAPIKey(tenantID: DefaultTenant.id, name: "bootstrap",
                                                  prefix: APIKey.displayPrefix(key), hash: APIKey.hash(key))
                    }
                    logger.info("bootstrap API key ensured for tenant default")
                } catch {
                    logger.error("could not store the bootstrap API key", metadata: ["error": "\(error)"])
                }
            }
        }
        try? await gracefulShutdown()
        pool.shutdown()
    }
}

/// Counts requests by route and status (`registrar_http_requests_total`) and times them.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = APIContext
    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let route = context.endpointPath ?? "unmatched"
            let elapsed = ContinuousClock.now - start
            MetricsBootstrap.registry.makeCounter(name: "registrar_http_requests_total",
                                                  labels: [("route", route), ("method", request.method.rawValue), ("status", String(status))]).increment()
            MetricsBootstrap.registry.makeDurationHistogram(name: "registrar_http_request_duration_seconds", labels: [("route", route)],
                                                            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                                                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                                                      .seconds(1), .seconds(5), .seconds(30), .seconds(60)]).record(elapsed)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
