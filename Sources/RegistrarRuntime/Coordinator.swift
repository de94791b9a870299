import Logging
import RegistrarCore

/// Turns a submitted job into published chunks.
///
/// Pass 1 reads the whole stored manifest to validate it and count units: a manifest with a
/// fatal fault, or over the limits, is refused before anything is published. Pass 2 reads it
/// again and splits it into chunks; each chunk is written to the ledger *before* it is published
/// (with publisher confirms, in windows), and marked published once confirmed. After a crash the
/// job message is redelivered and pass 2 resumes from the ledger: confirmed chunks are skipped,
/// unconfirmed ones republished — harmless, because workers commit each chunk once.
public final class Coordinator {
    public struct Settings: Sendable {
        /// Units per chunk (the benchmark's choice; see README).
        public var chunkUnits = 500
        /// URLs per chunk, so chunks of large groups still finish well inside the broker's timeout.
        public var chunkURLs = 2000
        /// Chunks published before waiting for the broker's confirms.
        public var confirmWindow = 64
        public var limits = ManifestLimits.default
        public init() {}
    }

    let store: RegistrationStore
    let progress: ProgressTracker
    let queue: WorkQueue
    let settings: Settings
    let logger: Logger
    /// Test hook: called after each confirmed window with the number of chunks published so far.
    public var afterWindow: ((Int) throws -> Void)?

    public init(store: RegistrationStore, progress: ProgressTracker, queue: WorkQueue, settings: Settings, logger: Logger) {
        self.store = store
        self.progress = progress
        self.queue = queue
        self.settings = settings
        self.logger = logger
    }

    /// Handles one job message to the end of its split. Throws only for infrastructure faults
    /// (the caller then nacks, and the job is retried from the ledger).
    public func handle(jobID: String) throws {
        guard let job = try store.loadJob(jobID) else {
            logger.warning("job message for an unknown job; dropped", metadata: ["job": "\(jobID)"])
            return
        }
        guard job.status == .pending else { return }
        if job.splitDone {
            _ = try store.finishJobIfComplete(jobID: jobID)
            return
        }
        var skipDuplicates = job.skipDuplicates ?? false
        if job.totalUnits == nil {
            var reader = makeManifestReader(format: job.format, source: try store.manifestSource(jobID: jobID), limits: settings.limits)
            let summary = ManifestScanner(limits: settings.limits, maxListedIssues: 1).scan(&reader, format: job.format)
            if let reason = summary.fatal ?? summary.fileErrors.first {
                try store.failJob(jobID: jobID, reason: reason)
                logger.info("manifest refused", metadata: ["job": "\(jobID)", "code": "\(reason.code.rawValue)"])
                return
            }
            skipDuplicates = summary.options.skipDuplicateURLs
            try store.recordScan(jobID: jobID, units: summary.units, urls: summary.urls, skipDuplicates: skipDuplicates)
            do { try progress.setTotal(jobID: jobID, total: summary.units) } catch {
                logger.warning("progress tracker unavailable; it will be rebuilt", metadata: ["error": "\(error)"])
            }
            logger.info("manifest accepted", metadata: ["job": "\(jobID)", "units": "\(summary.units)", "urls": "\(summary.urls)"])
        } else if let total = job.totalUnits {
            // Validated at submission: progress starts from the known total.
            try? progress.setTotal(jobID: jobID, total: total)
        }
        do {
            try split(job, skipDuplicates: skipDuplicates)
        } catch let error as ManifestError {
            // The stored manifest no longer reads as it did when it was validated (it cannot
            // change in the store, so this is a bug or corruption): end the job, don't loop on it.
            logger.error("manifest unreadable while splitting", metadata: ["job": "\(jobID)", "error": "\(error)"])
            try store.failJob(jobID: jobID, reason: error.issue)
        }
    }

    private func split(_ job: JobRecord, skipDuplicates: Bool) throws {
        let ledger = try store.ledger(jobID: job.id)
        var reader = makeManifestReader(format: job.format, source: try store.manifestSource(jobID: job.id), limits: settings.limits)
        var planner = ChunkPlanner(maxUnits: settings.chunkUnits, maxURLs: settings.chunkURLs)
        // A retry job keeps only the units that failed in the job it retries (original indexes).
        let only = job.retryOf == nil ? nil : try store.retryUnits(jobID: job.id)
        var seq = 0
        var window: [(LedgerChunk, [UInt8]?)] = []
        var cancelled = false
        var published = 0

        func flush() throws {
            guard !window.isEmpty else { return }
            if !cancelled, try store.isCancelRequested(jobID: job.id) { cancelled = true }
            if cancelled {
                // Every chunk of the window not yet confirmed: recorded as cancelled unless a
                // worker finished it first (the store's chunk lock decides).
                try store.recordCancelledChunks(jobID: job.id, chunks: window.filter { ledger[$0.0.seq] != true }.map(\.0))
                window.removeAll()
                return
            }
            try store.recordChunks(jobID: job.id, chunks: window.map(\.0).filter { ledger[$0.seq] == nil })
            var sent: [Int] = []
            for (row, body) in window {
                guard let body else { continue } // confirmed before a restart
                try queue.publishChunk(body)
                sent.append(row.seq)
            }
            try queue.waitForConfirms()
            try store.markPublished(jobID: job.id, seqs: sent)
            PipelineMetrics.chunksPublished(sent.count)
            published += sent.count
            window.removeAll()
            try afterWindow?(published)
        }

        func emit(_ entries: [ManifestEntry]) throws {
            let row = LedgerChunk(seq: seq, firstUnit: entries[0].index, unitCount: entries.count,
                                  urlCount: entries.reduce(0) { $0 + $1.urlCount })
            let alreadyConfirmed = ledger[seq] == true
            let body = alreadyConfirmed || cancelled ? nil
                : ChunkCodec.encode(Chunk(jobID: job.id, seq: seq, folderID: job.folderID, skipDuplicates: skipDuplicates, entries: entries))
            window.append((row, body))
            seq += 1
            if window.count >= settings.confirmWindow { try flush() }
        }

        while let entry = try reader.next() {
            _ = reader.takeIssues()
            if let only, !only.contains(entry.index) { continue }
            if let full = planner.add(entry) { try emit(full) }
        }
        if let last = planner.finish() { try emit(last) }
        try flush()
        try store.finishSplit(jobID: job.id, totalChunks: seq)
        let final = try store.finishJobIfComplete(jobID: job.id)
        logger.info("manifest split", metadata: ["job": "\(job.id)", "chunks": "\(seq)", "published": "\(published)",
                                                 "cancelled": "\(cancelled)", "final": "\(final?.rawValue ?? "-")"])
    }
}
