import ArgumentParser
import Foundation
import Logging
import RegistrarAPI
import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime
import ServiceLifecycle

/// Runs a role's service until SIGTERM/SIGINT; with a metrics port, also the small
/// metrics/health server (stopped after the role has drained).
func runRole(_ role: some Service, name: String, logger: Logger, metrics: MetricsOptions, readiness: ReadinessFlag,
             alongside: [any Service] = []) async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: role, successTerminationBehavior: .gracefullyShutdownGroup),
    ]
    services += alongside.map { .init(service: $0) }
    if metrics.metricsPort > 0 {
        services.append(.init(service: MetricsServer.make(role: name, host: metrics.metricsHost, port: metrics.metricsPort,
                                                          readiness: readiness, logger: logger)))
    }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// `--metrics-port` / `--metrics-host` for coordinator and worker.
struct MetricsOptions: ParsableArguments {
    @Option(help: "Serve /metrics, /healthz and /readyz on this port; 0 = off (env REGISTRAR_METRICS_PORT).")
    var metricsPort = Int(ServerOptions.env("REGISTRAR_METRICS_PORT", "0")) ?? 0
    @Option(help: "Address for the metrics port (env REGISTRAR_METRICS_HOST).")
    var metricsHost = ServerOptions.env("REGISTRAR_METRICS_HOST", "0.0.0.0")
}

/// `registrar coordinator`: consumes job ids, validates and splits manifests into chunks.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator", abstract: "Split submitted manifests into chunks for the workers.")

    @OptionGroup var servers: ServerOptions
    @Option(help: "Units per chunk.") var chunkUnits = 500
    @Option(help: "URLs per chunk (large groups make smaller chunks).") var chunkUrls = 2000
    @OptionGroup var manifestLimits: ManifestLimitOptions
    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var amqp: AMQPOptions
    @Option(help: "Seconds between two passes of the webhook dispatcher (due events into webhook-deliver jobs).")
    var webhookDispatchInterval = 1.0
    @Option(help: "Seconds between two looks for folder syncs that are due (bindings with --interval).")
    var syncScheduleInterval = 10.0
    @OptionGroup var fetch: FetchOptions

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let servers = self.servers
        let heartbeat = try amqp.heartbeatSeconds()
        let logger = servers.logger("registrar.coordinator")
        let readiness = ReadinessFlag()
        var settings = RegistrationPlanner.Settings()
        settings.chunkUnits = chunkUnits
        settings.chunkURLs = chunkUrls
        settings.limits = manifestLimits.limits
        let planning = settings
        let hooks = TestHooks.fromEnvironment(logger: logger).engine
        // Folder syncs list buckets with their integrations: the coordinator needs the key ring
        // for them (without one, sync jobs end ERROR saying so; other kinds are unaffected).
        let ring = try? loadKeyRing()
        let listPolicy = try fetch.policy(concurrency: 4)
        let service = CoordinatorService(logger: logger, readiness: readiness, hooks: hooks) {
            let registry = try PostgresRegistry(url: servers.postgresURL)
            let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .coordinator, heartbeatSeconds: heartbeat)
            let progress = try RedisProgressTracker(url: servers.redisURL)
            let sync = try folderSyncParts(registry, policy: listPolicy, ring: ring)
            return .init(jobs: registry.jobs, progress: progress, queue: queue,
                         planners: [RegistrationPlanner(store: registry, settings: planning), DatasetAttachPlanner(store: registry),
                                    TaskCreatePlanner(store: registry), ExportPlanner(store: registry),
                                    WebhookDeliverPlanner(store: registry), SequenceEncodePlanner(store: registry),
                                    FolderSyncPlanner(store: sync.store, reader: sync.reader, progress: progress, logger: logger)],
                         close: { queue.close(); registry.connection.close() })
        }
        // The webhook dispatcher: due events into delivery jobs (docs/workflows.md, "Webhooks").
        let dispatch = WebhookDispatchService.make(interval: webhookDispatchInterval, logger: logger) {
            let registry = try PostgresRegistry(url: servers.postgresURL)
            let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .publisher, heartbeatSeconds: heartbeat)
            return (WebhookDispatcher(store: registry, jobs: registry.jobs, publish: { try queue.publishJob($0) }),
                    { queue.close(); registry.connection.close() })
        }
        // Interval syncs of cloud-synced folders (docs/sync.md): due bindings claimed in the database.
        let syncs = FolderSyncScheduleService.make(interval: syncScheduleInterval, logger: logger) {
            let store = try PostgresFolderSyncStore(url: servers.postgresURL)
            let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .publisher, heartbeatSeconds: heartbeat)
            return (FolderSyncScheduler(claim: { try store.claimDueSync() }, publish: { try queue.publishJob($0) }),
                    { queue.close(); store.connection.close() })
        }
        // Finished registrations' image sequences into sequence-encode jobs (docs/sequences.md).
        let sequences = SequenceEncodeDispatchService.make(interval: webhookDispatchInterval, logger: logger) {
            let registry = try PostgresRegistry(url: servers.postgresURL)
            let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .publisher, heartbeatSeconds: heartbeat)
            return (SequenceEncodeDispatcher(store: registry, publish: { try queue.publishJob($0) }),
                    { queue.close(); registry.connection.close() })
        }
        try await runRole(service, name: "coordinator", logger: logger, metrics: metrics, readiness: readiness, alongside: [dispatch, syncs, sequences])
    }
}

/// `registrar worker`: consumes chunks, verifies every unit, records them.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Verify and record chunks of units.")

    @OptionGroup var servers: ServerOptions
    @Option(help: "Chunks each consume slot holds unacknowledged (1: a slot never holds a chunk behind a slow one).") var prefetch: UInt16 = 1
    @Option(help: "Consume slots: chunks verified at once, each slot with its own connections, so one slow chunk holds one slot, not the worker (env REGISTRAR_WORKER_SLOTS; default 4).")
    var slots: Int?
    @Option(help: "Job kinds this worker serves, comma-separated, or all (env REGISTRAR_WORKER_KINDS; default all). Run workers with different lists to scale kinds apart.")
    var kinds: String?
    @Option(help: "Concurrent object fetches per slot.") var concurrency = 64
    @OptionGroup var fetch: FetchOptions
    @Option(help: "content: sniff and parse every object's header (default); reachability: only check it answers.")
    var probe: ProbeMode = .content
    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var amqp: AMQPOptions
    @OptionGroup var storage: StorageOptions
    @Option(help: "Directory for the one temporary video per sequence being encoded (env REGISTRAR_ENCODE_TMPDIR; default the system's temporary directory + registrar-encode).")
    var encodeTmpdir: String?

    @Option(help: "Seconds a SIGTERM'd worker may spend finishing the chunk in hand before it exits without acking it (env REGISTRAR_DRAIN_SECONDS).")
    var drainTimeout = Double(ServerOptions.env("REGISTRAR_DRAIN_SECONDS", "")) ?? 60

    enum ProbeMode: String, ExpressibleByArgument { case content, reachability }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let servers = self.servers
        let logger = servers.logger("registrar.worker")
        let heartbeat = try amqp.heartbeatSeconds()
        let fetchPolicy = try fetch.policy(concurrency: concurrency)
        let slots = try FetchOptions.setting(self.slots, flag: "--slots", env: "REGISTRAR_WORKER_SLOTS", default: 4,
                                             what: "a whole number from 1 to 64") { (1...64).contains($0) }
        let kinds: [String]
        do {
            kinds = try KindSelection.parse(self.kinds ?? ServerOptions.env("REGISTRAR_WORKER_KINDS", ""), known: [KindQueues.registration.kind, DatasetAttach.kind, TaskCreate.kind, Export.kind, WebhookDeliver.kind,
                                                                                                                                      SequenceEncode.kind, FolderSync.kind],
                                            source: self.kinds == nil ? "REGISTRAR_WORKER_KINDS" : "--kinds")
        } catch let e as KindSelection.Invalid { throw CommandFailure(e.description) }
        logger.info("serving job kinds", metadata: ["kinds": "\(kinds.joined(separator: ","))"])
        let prober: any MediaProber = probe == .content ? fetch.prober : ReachabilityProber()
        let webhookPolicy = try WebhookSettings.retryPolicy()
        let prefetch = self.prefetch
        // The key ring is read once; a worker without one still serves jobs without integrations
        // and fails the units of jobs with one, saying why.
        let ring: Result<EncryptionKeyRing, CommandFailure>
        do { ring = .success(try loadKeyRing()) } catch let e as CommandFailure { ring = .failure(e) }
        if case .failure(let e) = ring { logger.notice("integrations unavailable on this worker", metadata: ["reason": "\(e.description)"]) }
        // Exports write their parts to Registrar's own storage (docs/storage.md).
        let storageLocation = try storage.location()
        let scratch = try EncodeScratch(root: encodeTmpdir ?? ServerOptions.env("REGISTRAR_ENCODE_TMPDIR", NSTemporaryDirectory() + "registrar-encode"))
        let readiness = ReadinessFlag()
        let testHooks = TestHooks.fromEnvironment(logger: logger)
        let hooks = testHooks.engine
        let service = WorkerService(slots: slots, drainTimeout: .milliseconds(Int64(max(0, min(drainTimeout, 3600)) * 1000)), logger: logger,
                                    readiness: readiness, hooks: hooks, onDrainDeadline: {
            // A chunk stuck where it cannot be interrupted (a commit waiting on a lock): exit
            // without acking it; the broker hands it (and the prefetched ones) to another worker.
            Thread.sleep(forTimeInterval: 2)
            logger.warning("drain deadline passed: exiting with the chunk in hand unacknowledged (it will be redelivered)")
            Glibc.exit(0)
        }) { _ in
            let registry = try PostgresRegistry(url: servers.postgresURL)
            let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .worker(kinds: kinds.map(KindQueues.named)), prefetch: prefetch,
                                          heartbeatSeconds: heartbeat)
            let progress = try RedisProgressTracker(url: servers.redisURL)
            let verifier = try HTTPObjectVerifier(policy: fetchPolicy, prober: prober)
            let loadIntegration: IntegrationURLSigner.Loader = { id in
                guard let stored = try registry.integration(id: id) else {
                    throw IntegrationStoreError(description: "integration \(id) no longer exists")
                }
                return (stored.kind, stored.settings, try stored.decryptSecret(ring: ring.get()))
            }
            verifier.integrationLoader = loadIntegration
            let registration = RegistrationHandler(store: registry, progress: progress, verifier: verifier, logger: logger)
            let objects = try StorageFactory.make(storageLocation, postgresURL: servers.postgresURL, addressPolicy: fetchPolicy.addressPolicy)
            let sync = try folderSyncParts(registry, policy: fetchPolicy, ring: try? ring.get())
            let webhooks = WebhookDeliverHandler(store: registry, poster: try CurlWebhookPoster(base: fetchPolicy), policy: webhookPolicy,
                                                 clock: { Int(Date().timeIntervalSince1970) })
            return .init(jobs: registry.jobs, progress: progress, queue: queue,
                         handlers: [registration, DatasetAttachHandler(store: registry), TaskCreateHandler(store: registry),
                                    ExportHandler(store: registry, storage: objects, signer: try IntegrationURLSigner(policy: fetchPolicy, loader: loadIntegration)),
                                    webhooks, FolderSyncHandler(store: sync.store, reader: sync.reader, verifier: verifier, logger: logger),
                                    SequenceEncodeHandler(store: registry, storage: objects, reader: verifier, encoder: FFmpegVideoEncoder(), scratch: scratch,
                                                          frameDelayMicroseconds: testHooks.frameDelayMicroseconds)],
                         close: { queue.close(); registry.connection.close() })
        }
        try await runRole(service, name: "worker", logger: logger, metrics: metrics, readiness: readiness)
    }
}
