import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// `registrar coordinator` as a service: consumes job ids and splits each job with its kind's
/// planner. Runs its blocking loop on a thread of its own until graceful shutdown, after the
/// job in hand (a split interrupted by a crash resumes from the ledger anyway).
public struct CoordinatorService: Service {
    /// One connected set of ports (made again after every infrastructure fault).
    public struct Connections {
        public var jobs: JobStore
        public var progress: ProgressTracker
        public var queue: WorkQueue
        public var planners: [any JobPlanner]
        public var close: () -> Void
        public init(jobs: JobStore, progress: ProgressTracker, queue: WorkQueue, planners: [any JobPlanner], close: @escaping () -> Void) {
            self.jobs = jobs; self.progress = progress; self.queue = queue; self.planners = planners; self.close = close
        }
    }

    let settings: JobSplitter.Settings
    let logger: Logger
    let readiness: ReadinessFlag
    let hooks: EngineHooks
    let connect: @Sendable () throws -> Connections

    public init(settings: JobSplitter.Settings = .init(), logger: Logger, readiness: ReadinessFlag = ReadinessFlag(),
                hooks: EngineHooks = EngineHooks(), connect: @escaping @Sendable () throws -> Connections) {
        self.settings = settings
        self.logger = logger
        self.readiness = readiness
        self.hooks = hooks
        self.connect = connect
    }

    public func run() async throws {
        let (settings, logger, readiness, hooks, connect) = (self.settings, self.logger, self.readiness, self.hooks, self.connect)
        try await BlockingLoopService(name: "coordinator") { flag in
            consumeLoop(flag, logger: logger, readiness: readiness) {
                let c = try connect()
                let splitter = JobSplitter(jobs: c.jobs, progress: c.progress, queue: c.queue, planners: c.planners,
                                           settings: settings, logger: logger, hooks: hooks)
                return ConsumerSession(queue: c.queue, handle: { delivery in
                    let jobID = String(decoding: delivery.body, as: UTF8.self)
                    switch try splitter.handle(jobID: jobID) {
                    case .done:
                        try c.queue.ack(delivery)
                    case .unknownKind(let kind):
                        // A newer coordinator knows this kind: give the message back for it, slowly.
                        logger.warning("job of a kind this coordinator does not know; given back", metadata: ["job": "\(jobID)", "kind": "\(kind)"])
                        usleep(1_000_000)
                        try c.queue.nack(delivery, requeue: true)
                    }
                }, close: c.close)
            }
        }.run()
    }
}

/// `registrar worker` as a service: `slots` consume loops, each on a thread of its own with its
/// own connections (so one slow chunk holds one slot, not the worker), running the kinds'
/// chunk handlers through `ChunkRunner`.
///
/// On graceful shutdown each slot finishes the chunk in hand and stops. A chunk still running
/// `drainTimeout` after the shutdown began is given back unfinished (its kind's work polls for
/// that) and redelivered to another worker: safe, because a chunk's effects are one transaction.
public struct WorkerService: Service {
    public struct Connections {
        public var jobs: JobStore
        public var progress: ProgressTracker
        public var queue: WorkQueue
        public var handlers: [any ChunkHandler]
        public var close: () -> Void
        public init(jobs: JobStore, progress: ProgressTracker, queue: WorkQueue, handlers: [any ChunkHandler], close: @escaping () -> Void) {
            self.jobs = jobs; self.progress = progress; self.queue = queue; self.handlers = handlers; self.close = close
        }
    }

    let slots: Int
    let drainTimeout: Duration
    let logger: Logger
    let readiness: ReadinessFlag
    let hooks: EngineHooks
    /// Called once the drain deadline has passed (the executable exits there if a slot is stuck
    /// in something that cannot be interrupted).
    let onDrainDeadline: @Sendable () -> Void
    let connect: @Sendable (_ slot: Int) throws -> Connections

    public init(slots: Int = 1, drainTimeout: Duration = .seconds(60), logger: Logger, readiness: ReadinessFlag = ReadinessFlag(),
                hooks: EngineHooks = EngineHooks(), onDrainDeadline: @escaping @Sendable () -> Void = {},
                connect: @escaping @Sendable (_ slot: Int) throws -> Connections) {
        self.slots = max(1, slots)
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.readiness = readiness
        self.hooks = hooks
        self.onDrainDeadline = onDrainDeadline
        self.connect = connect
    }

    public func run() async throws {
        let flag = StopFlag()
        let abandon = StopFlag()
        let (logger, readiness, hooks, connect, drainTimeout, onDeadline) =
            (self.logger, self.readiness, self.hooks, self.connect, self.drainTimeout, self.onDrainDeadline)
        let slotsReady = SlotReadiness(slots: slots, readiness: readiness)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slot in 0..<slots {
                group.addTask {
                    try await BlockingLoopService(name: slots == 1 ? "worker" : "worker-\(slot)", stopFlag: flag) { flag in
                        var slotLogger = logger
                        if slots > 1 { slotLogger[metadataKey: "slot"] = "\(slot)" }
                        consumeLoop(flag, logger: slotLogger, readiness: slotsReady.flag(slot)) {
                            let c = try connect(slot)
                            let runner = ChunkRunner(jobs: c.jobs, progress: c.progress, queue: c.queue, handlers: c.handlers,
                                                     logger: slotLogger, hooks: hooks, stopping: { abandon.isStopped })
                            return ConsumerSession(queue: c.queue, handle: { delivery in
                                do {
                                    try runner.handle(delivery)
                                } catch {
                                    // Give the chunk back; the broker counts the delivery, so a chunk that keeps
                                    // failing is dead-lettered instead of looping forever.
                                    try? c.queue.nack(delivery, requeue: true)
                                    throw error
                                }
                            }, close: c.close)
                        }
                    }.run()
                }
            }
            group.addTask {
                // The drain deadline: armed when the shutdown begins, ends with the slots.
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return }
                logger.info("draining: finishing the chunks in hand", metadata: ["deadline_s": "\(drainTimeout.components.seconds)"])
                try? await Task.sleep(for: drainTimeout)
                guard !Task.isCancelled else { return }
                logger.warning("drain deadline passed: giving back the chunks in hand (they will be redelivered)")
                abandon.stop()
                onDeadline()
            }
            // The slots end on shutdown; then the deadline task is no longer needed.
            var finished = 0
            while let _ = try await group.next() {
                finished += 1
                if finished == slots { group.cancelAll() }
            }
        }
    }
}

/// Ready when every slot is connected.
final class SlotReadiness: Sendable {
    private let flags: [ReadinessFlag]
    private let readiness: ReadinessFlag
    init(slots: Int, readiness: ReadinessFlag) {
        self.flags = (0..<slots).map { _ in ReadinessFlag() }
        self.readiness = readiness
    }
    func flag(_ slot: Int) -> ReadinessFlag {
        let all = flags, target = readiness
        return ReadinessFlag { ready in
            all[slot].set(ready)
            target.set(all.allSatisfy(\.isReady))
        }
    }
}
