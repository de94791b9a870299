import ArgumentParser
import Foundation
import Logging
import RegistrarAPI
import RegistrarCore
import RegistrarHTTP
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime
import ServiceLifecycle

/// Runs one blocking loop as a service until SIGTERM/SIGINT, then drains; with a metrics port,
/// also the small metrics/health server (stopped after the loop has drained).
func runService(name: String, logger: Logger, metrics: MetricsOptions? = nil, readiness: ReadinessFlag = ReadinessFlag(),
                body: @escaping @Sendable (StopFlag) throws -> Void) async throws {
    let service = BlockingLoopService(name: name, body: body)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
    ]
    if let metrics, metrics.metricsPort > 0 {
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

/// The consume loop shared by coordinator and worker: (re)connect with backoff, take one
/// delivery at a time, hand it to `handle`, and on an infrastructure fault drop every
/// connection (unacked messages return to the queue) and start again.
func consumeLoop<Context>(_ flag: StopFlag, logger: Logger, readiness: ReadinessFlag? = nil, connect: () throws -> (Context, WorkQueue),
                          handle: (Context, WorkDelivery) throws -> Void, close: (Context) -> Void) {
    var backoff = Backoff()
    while !flag.isStopped {
        let context: Context, queue: WorkQueue
        do {
            (context, queue) = try connect()
            backoff.reset()
            readiness?.set(true)
            logger.info("connected; consuming")
        } catch {
            logger.warning("cannot connect yet; retrying", metadata: ["error": "\(error)"])
            backoff.sleep(unless: flag)
            continue
        }
        do {
            while !flag.isStopped {
                guard let delivery = try queue.nextDelivery(timeoutSeconds: 1) else { continue }
                try handle(context, delivery)
            }
        } catch {
            readiness?.set(false)
            logger.error("infrastructure fault; reconnecting", metadata: ["error": "\(error)"])
            backoff.sleep(unless: flag)
        }
        close(context)
    }
    logger.info("stopped")
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

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let servers = self.servers
        let heartbeat = try amqp.heartbeatSeconds()
        let logger = servers.logger("registrar.coordinator")
        let readiness = ReadinessFlag()
        var settings = Coordinator.Settings()
        settings.chunkUnits = chunkUnits
        settings.chunkURLs = chunkUrls
        settings.limits = manifestLimits.limits
        let finalSettings = settings
        try await runService(name: "coordinator", logger: logger, metrics: metrics, readiness: readiness) { flag in
            consumeLoop(flag, logger: logger, readiness: readiness, connect: { () throws -> ((Coordinator, AMQPWorkQueue), WorkQueue) in
                let store = try PostgresRegistry(url: servers.postgresURL)
                let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .coordinator, heartbeatSeconds: heartbeat)
                let progress = try RedisProgressTracker(url: servers.redisURL)
                let coordinator = Coordinator(store: store, progress: progress, queue: queue, settings: finalSettings, logger: logger)
                if let exitAfter = ProcessInfo.processInfo.environment["REGISTRAR_FAULT_COORDINATOR_EXIT_AFTER_CHUNKS"].flatMap(Int.init) {
                    // Test hook: crash mid-split, after this many chunks were confirmed.
                    coordinator.afterWindow = { published in if published >= exitAfter { logger.critical("fault hook: exiting"); Glibc.exit(137) } }
                }
                return ((coordinator, queue), queue)
            }, handle: { context, delivery in
                let (coordinator, queue) = context
                let jobID = String(decoding: delivery.body, as: UTF8.self)
                try coordinator.handle(jobID: jobID)
                try queue.ack(delivery)
            }, close: { $0.1.close() })
        }
    }
}

/// `registrar worker`: consumes chunks, verifies every unit, records them.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Verify and record chunks of units.")

    @OptionGroup var servers: ServerOptions
    @Option(help: "Chunks each consume slot holds unacknowledged (1: a slot never holds a chunk behind a slow one).") var prefetch: UInt16 = 1
    @Option(help: "Consume slots: chunks verified at once, each slot with its own connections, so one slow chunk holds one slot, not the worker (env REGISTRAR_WORKER_SLOTS; default 4).")
    var slots: Int?
    @Option(help: "Concurrent object fetches per slot.") var concurrency = 64
    @OptionGroup var fetch: FetchOptions
    @Option(help: "content: sniff and parse every object's header (default); reachability: only check it answers.")
    var probe: ProbeMode = .content
    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var amqp: AMQPOptions

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
        let prober: any MediaProber = probe == .content ? fetch.prober : ReachabilityProber()
        let prefetch = self.prefetch
        let faultAfterCommit = ProcessInfo.processInfo.environment["REGISTRAR_FAULT_WORKER"] == "exit-after-commit"
        // Test hook: a pause before each chunk, so crash and cancel tests always land mid-run.
        let testDelay = ProcessInfo.processInfo.environment["REGISTRAR_TEST_CHUNK_DELAY_MS"].flatMap(UInt32.init) ?? 0
        // The key ring is read once; a worker without one still serves jobs without integrations
        // and fails the units of jobs with one, saying why.
        let ring: Result<EncryptionKeyRing, CommandFailure>
        do { ring = .success(try loadKeyRing()) } catch let e as CommandFailure { ring = .failure(e) }
        if case .failure(let e) = ring { logger.notice("integrations unavailable on this worker", metadata: ["reason": "\(e.description)"]) }
        let poison = ProcessInfo.processInfo.environment["REGISTRAR_FAULT_POISON_UNIT"].flatMap { $0.isEmpty ? nil : $0 }
        let drainTimeout = self.drainTimeout
        let readiness = ReadinessFlag()
        try await runService(name: "worker", logger: logger, metrics: metrics, readiness: readiness) { flag in
            DrainDeadline.arm(flag, seconds: drainTimeout, logger: logger)
            ConsumeSlots.run(slots, name: "worker") { slot in
            let logger = slots > 1 ? { var l = logger; l[metadataKey: "slot"] = "\(slot)"; return l }() : logger
            consumeLoop(flag, logger: logger, readiness: readiness, connect: { () throws -> ((Worker, AMQPWorkQueue), WorkQueue) in
                let store = try PostgresRegistry(url: servers.postgresURL)
                let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .worker, prefetch: prefetch, heartbeatSeconds: heartbeat)
                let progress = try RedisProgressTracker(url: servers.redisURL)
                let verifier = try HTTPObjectVerifier(policy: fetchPolicy, prober: prober)
                verifier.integrationLoader = { id in
                    guard let stored = try store.integration(id: id) else {
                        throw IntegrationStoreError(description: "integration \(id) no longer exists")
                    }
                    return (stored.kind, stored.settings, try stored.decryptSecret(ring: ring.get()))
                }
                let worker = Worker(store: store, progress: progress, queue: queue, verifier: verifier, logger: logger)
                if faultAfterCommit {
                    // Test hook: die between the commit and the ack, the worst moment.
                    worker.fault = { _ in logger.critical("fault hook: exiting after commit"); Glibc.exit(137) }
                }
                if let poison {
                    // Test hook: a chunk holding a URL with this text crashes the process (a poison chunk).
                    worker.poisonCheck = { chunk in
                        if chunk.entries.contains(where: { if case .unit(let u) = $0 { return u.urls.contains { $0.contains(poison) } } else { return false } }) {
                            logger.critical("fault hook: poison chunk", metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
                            Glibc.exit(137)
                        }
                    }
                }
                return ((worker, queue), queue)
            }, handle: { context, delivery in
                let (worker, queue) = context
                if testDelay > 0 { usleep(testDelay * 1000) }
                do {
                    try worker.handle(delivery)
                } catch {
                    // Give the chunk back; the broker counts the delivery, so a chunk that keeps
                    // failing is dead-lettered instead of looping forever.
                    try? queue.nack(delivery, requeue: true)
                    throw error
                }
            }, close: { $0.1.close() })
            }
        }
    }
}

/// Bounds a worker's drain: once SIGTERM has set `flag`, the chunk in hand has `seconds` to be
/// committed and acked; after that the process exits without acking it, and the broker hands it
/// (and the prefetched ones) to another worker. Exiting mid-chunk is safe: a chunk's effects are
/// one transaction, and a redelivered chunk is committed once. So a drain takes at most
/// `seconds` plus ~1 s (the consume loop's poll), whatever object storage does meanwhile.
enum DrainDeadline {
    static func arm(_ flag: StopFlag, seconds: Double, logger: Logger) {
        let thread = Thread {
            while !flag.isStopped { usleep(100_000) }
            logger.info("draining: finishing the chunk in hand", metadata: ["deadline_s": "\(seconds)"])
            usleep(UInt32(max(0, min(seconds, 3600)) * 1_000_000))
            logger.warning("drain deadline passed: exiting with the chunk in hand unacknowledged (it will be redelivered)")
            Glibc.exit(0)
        }
        thread.name = "drain-deadline"
        thread.start()
    }
}
