import Logging
import RegistrarCore

/// Verifies chunks and records them, exactly once in effect on at-least-once delivery:
/// verify every unit → one store transaction (files, unit errors, chunk done; a no-op when the
/// chunk was committed before) → progress update guarded by the chunk id → ack. A crash at any
/// point leads to redelivery and the same end state.
public final class Worker {
    /// Places where tests may inject a crash.
    public enum FaultPoint: Sendable { case afterCommitBeforeAck }

    let store: RegistrationStore
    let progress: ProgressTracker
    let queue: WorkQueue
    let verifier: ObjectVerifier
    let logger: Logger
    public var fault: ((FaultPoint) -> Void)?
    /// Each job's integration id, looked up once per job (jobs never change integration).
    private var jobIntegrations: [String: String?] = [:]
    /// Test hook: sees every chunk before it is verified (a poison-chunk test crashes here).
    public var poisonCheck: ((Chunk) -> Void)?
    /// Seconds between checks of the job's cancel flag while a chunk is being verified: a cancel
    /// reaches a chunk in flight within about this much (plus the commit).
    public var cancelCheckInterval = 0.5

    public init(store: RegistrationStore, progress: ProgressTracker, queue: WorkQueue, verifier: ObjectVerifier, logger: Logger) {
        self.store = store
        self.progress = progress
        self.queue = queue
        self.verifier = verifier
        self.logger = logger
    }

    /// Handles one chunk delivery, acking it at the end. Throws for infrastructure faults (the
    /// caller nacks with requeue after a backoff).
    public func handle(_ delivery: WorkDelivery) throws {
        let chunk: Chunk
        do {
            chunk = try ChunkCodec.decode(delivery.body)
        } catch {
            // Our own message, unreadable: a bug. Dropping it would leave its job unfinished, so
            // it goes to the dead-letter queue where an operator can see it.
            logger.error("undecodable chunk", metadata: ["error": "\(error)"])
            try queue.nack(delivery, requeue: false)
            return
        }
        if delivery.kind == .chunk { poisonCheck?(chunk) }
        let started = ContinuousClock.now
        let result = delivery.kind == .deadChunk ? deadResult(chunk, delivery: delivery) : try verify(chunk)
        let elapsed = ContinuousClock.now - started
        PipelineMetrics.chunkVerified(units: chunk.entries.count,
                                      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let outcome = try store.commitChunk(result)
        fault?(.afterCommitBeforeAck)
        switch outcome {
        case .committed(let counts, let newKeys):
            updateProgress(chunk, counts: counts, newKeys: newKeys)
        case .alreadyDone(let counts):
            // A crash may have come between the commit and the progress update: record it
            // again (the tracker ignores a chunk it already has).
            logger.debug("chunk already committed (redelivery)", metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
            updateProgress(chunk, counts: counts, newKeys: [])
        case .unknownChunk:
            // Its job is gone (the folder was deleted; a stale redelivery): it can never be
            // committed, so it is dropped rather than retried forever.
            logger.warning("chunk of a job that no longer exists; dropped", metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
            try queue.ack(delivery)
            return
        }
        if let status = try store.finishJobIfComplete(jobID: chunk.jobID) {
            logger.info("job finished", metadata: ["job": "\(chunk.jobID)", "status": "\(status.rawValue)"])
            // Nothing else commits for this job now: leave the tracker with the store's exact
            // numbers, whatever Redis went through meanwhile (flushed, restarted).
            do { _ = try ProgressRebuilder(store: store, progress: progress).rebuild(jobID: chunk.jobID) } catch {
                logger.warning("final progress not written to the tracker; readers use the store", metadata: ["error": "\(error)"])
            }
        }
        try queue.ack(delivery)
        PipelineMetrics.chunkHandled(delivery, result: result, outcome: outcome)
    }

    private func verify(_ chunk: Chunk) throws -> ChunkResult {
        let cancelledResult = ChunkResult(jobID: chunk.jobID, seq: chunk.seq, folderID: chunk.folderID, skipDuplicates: chunk.skipDuplicates,
                                          cancelled: true, unitCount: chunk.entries.count, items: [])
        if try store.isCancelRequested(jobID: chunk.jobID) { return cancelledResult }
        var items: [ChunkResult.Item] = []
        var toVerify: [RegistrationUnit] = []
        items.reserveCapacity(chunk.entries.count)
        var units: [RegistrationUnit] = []
        for entry in chunk.entries {
            switch entry {
            case .unit(let u): units.append(u)
            case .rejected(let r):
                let first = r.errors.first
                items.append(.failed(index: r.index, urls: r.urls, code: first?.code.rawValue ?? "invalid_item",
                                     message: r.errors.map { ($0.field.map { "\($0): " } ?? "") + $0.message }.joined(separator: "; ")))
            }
        }
        // With skip_duplicate_urls, keys the folder already holds need no verification: Redis
        // answers fast (it only learns keys after they are committed), the store decides the rest.
        var known = [Bool](repeating: false, count: units.count)
        if chunk.skipDuplicates && !units.isEmpty {
            var maybe: [Bool] = []
            do { maybe = try progress.knownURLKeys(folderID: chunk.folderID, keys: units.map(\.urlKey)) } catch {
                logger.warning("progress tracker unavailable for duplicate checks", metadata: ["error": "\(error)"])
            }
            if maybe.contains(true) {
                // Redis only pre-filters (it can be stale, e.g. after files were deleted); the
                // store confirms before a unit is skipped unverified.
                let candidates = zip(units, maybe).filter(\.1).map(\.0.urlKey)
                let confirmed = try store.existingURLKeys(folderID: chunk.folderID, keys: candidates)
                known = units.map { confirmed.contains($0.urlKey) }
            }
        }
        for (u, isKnown) in zip(units, known) where !isKnown { toVerify.append(u) }
        var outcomes: [UnitOutcome] = []
        if !toVerify.isEmpty {
            let cancelled = cancelPoll(chunk)
            guard let verified = verifier.verify(toVerify, context: try context(chunk.jobID), shouldStop: cancelled) else {
                // Cancelled mid-chunk: the reads in flight were abandoned; the whole chunk counts
                // as cancelled, as if the cancel had come before it started.
                logger.info("job cancelled while its chunk was being verified; chunk recorded as cancelled",
                            metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
                return cancelledResult
            }
            outcomes = verified
        }
        var next = 0
        for (u, isKnown) in zip(units, known) {
            if isKnown {
                // Still goes through the store, whose unique key classifies it as skipped.
                items.append(.verified(u, MediaInfo()))
                continue
            }
            switch outcomes[next] {
            case .verified(let info): items.append(.verified(u, info))
            case .failed(let code, let message): items.append(.failed(index: u.index, urls: u.urls, code: code, message: message))
            }
            next += 1
        }
        return ChunkResult(jobID: chunk.jobID, seq: chunk.seq, folderID: chunk.folderID, skipDuplicates: chunk.skipDuplicates,
                           cancelled: false, unitCount: chunk.entries.count, items: items)
    }

    /// The verifier's `shouldStop` for one chunk: reads the job's cancel flag from the store at
    /// most every `cancelCheckInterval` (the first time that long after the chunk started, so
    /// a chunk that verifies quickly costs no query). Runs on this thread, between transfers,
    /// so it may use the store's connection. A store error answers "not cancelled": the commit
    /// that follows meets the same fault and handles it.
    private func cancelPoll(_ chunk: Chunk) -> () -> Bool {
        let store = self.store, logger = self.logger, interval = cancelCheckInterval
        var nextCheck = ContinuousClock.now + .milliseconds(Int((interval * 1000).rounded()))
        var cancelled = false
        return {
            if cancelled { return true }
            let now = ContinuousClock.now
            guard now >= nextCheck else { return false }
            nextCheck = now + .milliseconds(Int((interval * 1000).rounded()))
            do {
                cancelled = try store.isCancelRequested(jobID: chunk.jobID)
            } catch {
                logger.warning("cannot read the job's cancel flag mid-chunk", metadata: ["error": "\(error)"])
            }
            return cancelled
        }
    }

    private func context(_ jobID: String) throws -> VerificationContext {
        if let known = jobIntegrations[jobID] { return VerificationContext(jobID: jobID, integrationID: known) }
        let id = try store.jobIntegrationID(jobID: jobID)
        if jobIntegrations.count >= 1024 { jobIntegrations.removeAll(keepingCapacity: true) }
        jobIntegrations[jobID] = .some(id)
        return VerificationContext(jobID: jobID, integrationID: id)
    }

    /// A chunk that failed too many deliveries: its units fail with `internal_error`, so the job
    /// still finishes and the counts stay exact.
    private func deadResult(_ chunk: Chunk, delivery: WorkDelivery) -> ChunkResult {
        let deliveries = delivery.deliveryCount
        let items = chunk.entries.map { e -> ChunkResult.Item in
            let urls: [String]
            switch e {
            case .unit(let u): urls = u.urls
            case .rejected(let r): urls = r.urls
            }
            return .failed(index: e.index, urls: urls, code: "internal_error",
                           message: "the chunk holding this unit failed \(deliveries) deliveries and was dead-lettered")
        }
        logger.error("dead chunk recorded as failed", metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
        // Quorum queues dead-letter with the delivery count they reached; a chunk a worker
        // refused outright (undecodable) arrives with none.
        let letter = DeadLetter(deliveries: deliveries, reason: delivery.deathReason ?? (deliveries > 0 ? "delivery_limit" : "rejected"),
                                body: delivery.body)
        return ChunkResult(jobID: chunk.jobID, seq: chunk.seq, folderID: chunk.folderID, skipDuplicates: chunk.skipDuplicates,
                           cancelled: false, unitCount: chunk.entries.count, items: items, deadLetter: letter)
    }

    private func updateProgress(_ chunk: Chunk, counts: UnitCounts, newKeys: [String]) {
        do {
            try progress.recordChunk(jobID: chunk.jobID, seq: chunk.seq, counts: counts)
            if !newKeys.isEmpty { try progress.addURLKeys(folderID: chunk.folderID, keys: newKeys) }
        } catch {
            // PostgreSQL holds the truth; readers rebuild progress from it when Redis lags or is lost.
            logger.warning("progress update failed; readers will rebuild from the store", metadata: ["error": "\(error)"])
        }
    }
}
