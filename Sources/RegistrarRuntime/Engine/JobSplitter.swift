import Logging
import RegistrarCore

/// The coordinator's work for one job message, for every kind: prepare (count, or refuse), then
/// split into chunks with the kind's planner, writing each chunk to the ledger *before* it is
/// published (with publisher confirms, in windows) and marking it published once confirmed.
///
/// After a crash the job message is redelivered and the split resumes from the ledger: confirmed
/// chunks are skipped (not even encoded), unconfirmed ones republished — harmless, because each
/// chunk is committed once. A cancel seen while splitting records the rest as cancelled.
public final class JobSplitter {
    public struct Settings: Sendable {
        /// Chunks published before waiting for the broker's confirms.
        public var confirmWindow = 64
        /// Encoded bytes held before waiting for the confirms, whichever bound comes first. The
        /// window's bodies are the coordinator's largest allocation: 64 chunks of 500 units
        /// (~250 KB each) were 16 MiB of its 68 MiB peak at 1M units (heaptrack,
        /// docs/benchmarks.md); 4 MiB still puts 16 such chunks in flight per confirm wait.
        public var confirmWindowBytes = 4 << 20
        public init() {}
    }

    let jobs: JobStore
    let progress: ProgressTracker
    let queue: WorkQueue
    let planners: [String: any JobPlanner]
    let settings: Settings
    let logger: Logger
    let hooks: EngineHooks

    public init(jobs: JobStore, progress: ProgressTracker, queue: WorkQueue, planners: [any JobPlanner],
                settings: Settings = Settings(), logger: Logger, hooks: EngineHooks = EngineHooks()) {
        self.jobs = jobs
        self.progress = progress
        self.queue = queue
        self.planners = Dictionary(planners.map { ($0.queues.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.logger = logger
        self.hooks = hooks
    }

    /// What became of a job message.
    public enum Handled: Sendable, Equatable {
        /// Split (or nothing left to do): ack the message.
        case done
        /// No planner here knows the job's kind (a newer coordinator does): give it back.
        case unknownKind(String)
    }

    /// Handles one job message to the end of its split. Throws only for infrastructure faults
    /// (the caller then gives the message back, and the split resumes from the ledger).
    public func handle(jobID: String) throws -> Handled {
        guard let found = try jobs.job(jobID) else {
            logger.warning("job message for an unknown job; dropped", metadata: ["job": "\(jobID)"])
            return .done
        }
        guard found.status == .pending else { return .done }
        guard let planner = planners[found.kind] else { return .unknownKind(found.kind) }
        if found.splitDone {
            _ = try jobs.finishJobIfComplete(jobID: jobID)
            return .done
        }
        var job = found
        if let total = job.totalUnits {
            // Counted when the job was created: progress starts from the known total.
            try? progress.setTotal(jobID: jobID, total: total)
        } else {
            switch try planner.prepare(job) {
            case .refused(let reason):
                try jobs.failJob(jobID: jobID, reason: reason)
                logger.info("job refused", metadata: ["job": "\(jobID)", "kind": "\(job.kind)", "code": "\(reason.code)"])
                return .done
            case .accepted(let units):
                try jobs.recordTotal(jobID: jobID, units: units)
                do { try progress.setTotal(jobID: jobID, total: units) } catch {
                    logger.warning("progress tracker unavailable; it will be rebuilt", metadata: ["error": "\(error)"])
                }
                job.totalUnits = units
                logger.info("job accepted", metadata: ["job": "\(jobID)", "kind": "\(job.kind)", "units": "\(units)"])
            case .acceptedUncounted:
                // The plan counts as it goes; the total stays unknown until the planner records it.
                try jobs.recordTotal(jobID: jobID, units: nil)
                logger.info("job accepted, total counted while planning", metadata: ["job": "\(jobID)", "kind": "\(job.kind)"])
            }
        }
        do {
            try split(job, planner: planner)
        } catch let failure as JobFailure {
            // The job's input no longer reads as it did when it was prepared (stored input does
            // not change, so this is a bug or corruption): end the job rather than loop on it.
            logger.error("job unplannable while splitting", metadata: ["job": "\(jobID)", "error": "\(failure.message)"])
            try jobs.failJob(jobID: jobID, reason: failure)
        }
        return .done
    }

    private func split(_ job: Job, planner: any JobPlanner) throws {
        let ledger = try jobs.ledger(jobID: job.id)
        let queues = planner.queues
        var window: [(row: LedgerChunk, body: [UInt8]?)] = []
        var windowBytes = 0
        var cancelled = false
        var published = 0
        var count = 0

        func flush() throws {
            guard !window.isEmpty else { return }
            if !cancelled, try jobs.isCancelRequested(jobID: job.id) { cancelled = true }
            if cancelled {
                // Every chunk of the window not yet confirmed: recorded as cancelled unless a
                // worker finished it first (the store's chunk lock decides).
                try jobs.recordCancelledChunks(jobID: job.id, chunks: window.filter { ledger[$0.row.seq] != true }.map(\.row))
                window.removeAll()
                windowBytes = 0
                return
            }
            try jobs.recordChunks(jobID: job.id, chunks: window.map(\.row).filter { ledger[$0.seq] == nil })
            var sent: [Int] = []
            for (row, body) in window {
                guard let body else { continue } // confirmed before a restart
                try queue.publishChunk(body, to: queues)
                sent.append(row.seq)
            }
            try queue.waitForConfirms()
            try jobs.markPublished(jobID: job.id, seqs: sent)
            EngineMetrics.chunksPublished(sent.count, kind: job.kind)
            published += sent.count
            window.removeAll()
            windowBytes = 0
            try hooks.afterWindow?(published)
        }

        try planner.plan(job) { chunk in
            precondition(chunk.ledger.seq == count, "a planner emits chunks in sequence order from 0")
            count += 1
            let confirmed = ledger[chunk.ledger.seq] == true
            let body = confirmed || cancelled ? nil : chunk.encode()
            window.append((chunk.ledger, body))
            windowBytes += body?.count ?? 0
            if window.count >= settings.confirmWindow || windowBytes >= settings.confirmWindowBytes { try flush() }
        }
        try flush()
        try jobs.finishSplit(jobID: job.id, totalChunks: count)
        let final = try jobs.finishJobIfComplete(jobID: job.id)
        logger.info("job split", metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "chunks": "\(count)", "published": "\(published)",
                                            "cancelled": "\(cancelled)", "final": "\(final?.rawValue ?? "-")"])
    }
}
