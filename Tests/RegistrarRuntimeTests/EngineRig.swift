import Logging
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting

/// The engine in process, on the ports' twins: a coordinator (`JobSplitter`) and workers
/// (`ChunkRunner`) driven by hand, one delivery at a time, so every interleaving a test wants is
/// deterministic. A "crash" is a hook that throws: the delivery in hand stays unacked, and the
/// test drops that connection (the broker twin returns it to its queue).
final class EngineRig {
    let broker = MemoryBroker()
    let jobs = MemoryJobStore()
    lazy var registry = MemoryRegistry(jobs: jobs)
    let tracker = MemoryProgressTracker()
    let verifier = MemoryObjectVerifier()
    lazy var tally = MemoryTallyStore(jobs: jobs)
    var logger: Logger = {
        var l = Logger(label: "engine-rig")
        l.logLevel = .critical
        return l
    }()
    var planning = RegistrationPlanner.Settings()
    var splitting = JobSplitter.Settings()

    struct SimulatedCrash: Error {}

    /// A coordinator on a fresh connection.
    func coordinator(hooks: EngineHooks = EngineHooks()) -> (JobSplitter, MemoryWorkQueue) {
        let queue = broker.connect(.coordinator)
        let splitter = JobSplitter(jobs: jobs, progress: tracker, queue: queue,
                                   planners: [RegistrationPlanner(store: registry, settings: planning), TallyPlanner()],
                                   settings: splitting, logger: logger, hooks: hooks)
        return (splitter, queue)
    }

    /// A worker on a fresh connection, serving registration and tally.
    func worker(hooks: EngineHooks = EngineHooks(), prefetch: Int = 1, stopping: @escaping @Sendable () -> Bool = { false },
                tallyHandler: TallyHandler? = nil) -> (ChunkRunner, MemoryWorkQueue) {
        let queue = broker.connect(.worker(kinds: [.registration, Tally.queues]), prefetch: prefetch)
        let registration = RegistrationHandler(store: registry, progress: tracker, verifier: verifier, logger: logger)
        let runner = ChunkRunner(jobs: jobs, progress: tracker, queue: queue, handlers: [registration, tallyHandler ?? TallyHandler(store: tally)],
                                 logger: logger, hooks: hooks, stopping: stopping, cancellationInterval: .zero)
        return (runner, queue)
    }

    /// Submits a registration job (validated by the planner's `prepare`, as a job with no totals).
    func submit(_ manifest: [UInt8], folder: String? = nil, format: ManifestFormat = .json, ignoreErrors: Bool = false) throws -> String {
        let folderID = folder ?? registry.createFolder(name: "f-\(UInt32.random(in: 0...UInt32.max))")
        let id = try registry.createJob(folderID: folderID, manifest: manifest, format: format, ignoreErrors: ignoreErrors)
        try broker.connect(.publisher).publishJob(id)
        return id
    }

    /// Starts a tally job.
    func submitTally(_ params: TallyParams, ignoreErrors: Bool = false) throws -> String {
        let id = try jobs.createJob(NewJob(kind: Tally.kind, tenantID: "t", ignoreErrors: ignoreErrors, params: params.json))
        try broker.connect(.publisher).publishJob(id)
        return id
    }

    /// Runs coordinators until no job message is left; returns how many messages were handled.
    @discardableResult
    func split(hooks: EngineHooks = EngineHooks()) throws -> Int {
        let (splitter, queue) = coordinator(hooks: hooks)
        defer { queue.close() }
        var handled = 0
        while let d = try queue.nextDelivery(timeoutSeconds: 0) {
            switch try splitter.handle(jobID: String(decoding: d.body, as: UTF8.self)) {
            case .done: try queue.ack(d)
            case .unknownKind: try queue.nack(d, requeue: true)
            }
            handled += 1
        }
        return handled
    }

    /// Runs one worker until no chunk is left (or `limit` deliveries); returns the deliveries handled.
    @discardableResult
    func work(hooks: EngineHooks = EngineHooks(), limit: Int = .max, tallyHandler: TallyHandler? = nil,
              stopping: @escaping @Sendable () -> Bool = { false }) throws -> Int {
        let (runner, queue) = worker(hooks: hooks, stopping: stopping, tallyHandler: tallyHandler)
        defer { queue.close() }
        var handled = 0
        while handled < limit, let d = try queue.nextDelivery(timeoutSeconds: 0) {
            try runner.handle(d)
            handled += 1
        }
        return handled
    }

    /// Splits and works until every queue is empty, surviving `crashes` thrown by hooks (each
    /// crash drops that connection, as a dead process would).
    func runToEnd(coordinatorHooks: EngineHooks = EngineHooks(), workerHooks: EngineHooks = EngineHooks()) throws -> Int {
        var crashes = 0
        for _ in 0..<1000 {
            do {
                try split(hooks: coordinatorHooks)
                try work(hooks: workerHooks)
            } catch is SimulatedCrash {
                crashes += 1
                continue
            }
            if broker.depth("registrar.jobs") == 0 && broker.depth(KindQueues.registration.work) == 0
                && broker.depth(KindQueues.registration.dead) == 0 && broker.depth(Tally.queues.work) == 0
                && broker.depth(Tally.queues.dead) == 0 {
                return crashes
            }
        }
        throw SimulatedCrash()
    }

    /// Objects at `base/i.png` (valid PNGs), returning their URLs.
    func putImages(_ n: Int, base: String = "https://bucket.example/img") -> [String] {
        (0..<n).map { i in
            let url = "\(base)/\(i).png"
            verifier.put(url, .bytes(Fixtures.png(width: 10 + i % 7, height: 20)))
            return url
        }
    }

    func state(_ jobID: String) throws -> JobState {
        try JobMonitor(jobs: jobs, progress: tracker).state(jobID: jobID)!.state
    }
}
