import Logging
import RegistrarCore

/// A worker's handling of one chunk delivery, for every kind, exactly once in effect on
/// at-least-once delivery: do the kind's work → one store transaction guarded by the chunk id
/// (the kind's rows, unit errors, "chunk done"; a no-op when the chunk was committed before) →
/// progress update guarded by the chunk id → end the job if it was the last chunk → ack. A crash
/// at any point leads to redelivery and the same end state.
public final class ChunkRunner {
    let jobs: JobStore
    let progress: ProgressTracker
    let queue: WorkQueue
    let handlers: [String: any ChunkHandler]
    let logger: Logger
    let hooks: EngineHooks
    /// Asked during long chunk work besides the job's cancel flag: true once a draining worker's
    /// deadline has passed (the chunk in hand is then given back unfinished).
    let stopping: @Sendable () -> Bool

    /// How often long chunk work may ask the store whether its job was cancelled.
    let cancellationInterval: Duration

    public init(jobs: JobStore, progress: ProgressTracker, queue: WorkQueue, handlers: [any ChunkHandler], logger: Logger,
                hooks: EngineHooks = EngineHooks(), stopping: @escaping @Sendable () -> Bool = { false },
                cancellationInterval: Duration = .milliseconds(500)) {
        self.cancellationInterval = cancellationInterval
        self.jobs = jobs
        self.progress = progress
        self.queue = queue
        self.handlers = Dictionary(handlers.map { ($0.queues.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
        self.hooks = hooks
        self.stopping = stopping
    }

    /// Handles one chunk delivery, acking it at the end. Throws for infrastructure faults (the
    /// caller gives the delivery back and reconnects).
    public func handle(_ delivery: WorkDelivery) throws {
        try hooks.beforeChunk?(delivery)
        guard let kind = delivery.jobKind, let handler = handlers[kind] else {
            // Only queues of known kinds are consumed, so this is a wiring bug: keep the message.
            logger.error("delivery from a queue with no handler; dead-lettered", metadata: ["kind": "\(delivery.jobKind ?? "-")"])
            try queue.nack(delivery, requeue: false)
            return
        }
        try run(handler, delivery)
    }

    private func run<H: ChunkHandler>(_ handler: H, _ delivery: WorkDelivery) throws {
        let kind = handler.queues.kind
        let id: ChunkID, work: H.Work
        do {
            (id, work) = try handler.decode(delivery.body)
        } catch {
            // Our own message, unreadable: a bug. Dropping it would leave its job unfinished, so
            // it goes to the dead-letter queue where an operator can see it.
            logger.error("undecodable chunk", metadata: ["kind": "\(kind)", "error": "\(error)"])
            try queue.nack(delivery, requeue: false)
            return
        }
        let outcome: CommitOutcome
        var codes: [UnitErrorCode: Int] = [:]
        if delivery.kind == .deadChunk {
            let letter = delivery.deadLetter
            let result = handler.deadResult(work, id: id, letter: letter)
            codes = handler.errorCodes(result)
            outcome = try handler.commit(result, id: id, work: work, deadLetter: letter)
            logger.error("dead chunk recorded as failed", metadata: ["kind": "\(kind)", "job": "\(id.jobID)", "seq": "\(id.seq)"])
        } else if try jobs.isCancelRequested(jobID: id.jobID) {
            outcome = try jobs.commitCancelled(id)
        } else {
            let started = ContinuousClock.now
            let probe = CancellationProbe(interval: cancellationInterval) { [jobs, stopping] in try stopping() || jobs.isCancelRequested(jobID: id.jobID) }
            let result = try handler.perform(work, id: id, cancellation: probe)
            let elapsed = ContinuousClock.now - started
            EngineMetrics.chunkPerformed(kind: kind, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            if let result {
                codes = handler.errorCodes(result)
                outcome = try handler.commit(result, id: id, work: work, deadLetter: nil)
            } else if try jobs.isCancelRequested(jobID: id.jobID) {
                logger.info("job cancelled while its chunk was in flight; chunk recorded as cancelled",
                            metadata: ["kind": "\(kind)", "job": "\(id.jobID)", "seq": "\(id.seq)"])
                outcome = try jobs.commitCancelled(id)
            } else {
                // Stopped for the drain, not a cancel: give the chunk back unfinished.
                logger.info("chunk given back unfinished (draining)", metadata: ["kind": "\(kind)", "job": "\(id.jobID)", "seq": "\(id.seq)"])
                try queue.nack(delivery, requeue: true)
                return
            }
        }
        try hooks.afterCommit?(id)
        switch outcome {
        case .committed(let counts), .alreadyDone(let counts):
            if case .alreadyDone = outcome {
                // A crash may have come between the commit and the progress update: record it
                // again (the tracker ignores a chunk it already has).
                logger.debug("chunk already committed (redelivery)", metadata: ["job": "\(id.jobID)", "seq": "\(id.seq)"])
            }
            do { try progress.recordChunk(jobID: id.jobID, seq: id.seq, counts: counts) } catch {
                // PostgreSQL holds the truth; readers rebuild progress from it when Redis lags or is lost.
                logger.warning("progress update failed; readers will rebuild from the store", metadata: ["error": "\(error)"])
            }
        case .unknownChunk:
            // Its job is gone (the folder was deleted; a stale redelivery): it can never be
            // committed, so it is dropped rather than retried forever.
            logger.warning("chunk of a job that no longer exists; dropped", metadata: ["job": "\(id.jobID)", "seq": "\(id.seq)"])
            try queue.ack(delivery)
            return
        }
        if let status = try jobs.finishJobIfComplete(jobID: id.jobID) {
            logger.info("job finished", metadata: ["job": "\(id.jobID)", "kind": "\(kind)", "status": "\(status.rawValue)"])
            // Nothing else commits for this job now: leave the tracker with the store's exact
            // numbers, whatever Redis went through meanwhile (flushed, restarted).
            do { _ = try ProgressRebuilder(jobs: jobs, progress: progress).rebuild(jobID: id.jobID) } catch {
                logger.warning("final progress not written to the tracker; readers use the store", metadata: ["error": "\(error)"])
            }
        }
        try queue.ack(delivery)
        EngineMetrics.chunkHandled(delivery, kind: kind, outcome: outcome, errorCodes: codes)
    }
}
