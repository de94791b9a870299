import RegistrarCore

/// Registration's planner: a job is a stored manifest, split into chunks of consecutive units.
///
/// `prepare` is pass 1: it reads the whole stored manifest to validate it and count units, so a
/// manifest with a fatal fault, or over the limits, is refused before anything is published
/// (jobs submitted through `registrar submit` or the API were validated then, and arrive with
/// their totals). `plan` is pass 2: it reads the manifest again and groups entries into chunks
/// of at most `chunkUnits` units and `chunkURLs` URLs. A retry job keeps only the units that
/// failed in the job it retries, with their original indexes.
public final class RegistrationPlanner: JobPlanner {
    public struct Settings: Sendable {
        /// Units per chunk (the benchmark's choice; see docs/benchmarks.md).
        public var chunkUnits = 500
        /// URLs per chunk, so chunks of large groups still finish well inside the broker's timeout.
        public var chunkURLs = 2000
        public var limits = ManifestLimits.default
        public init() {}
    }

    public let queues = KindQueues.registration
    let store: RegistrationStore
    let settings: Settings

    public init(store: RegistrationStore, settings: Settings = Settings()) {
        self.store = store
        self.settings = settings
    }

    public func prepare(_ job: Job) throws -> Preparation {
        guard let record = try store.loadJob(job.id) else {
            return .refused(JobFailure(code: "internal_error", item: "job", message: "the registration job has no record"))
        }
        var reader = makeManifestReader(format: record.format, source: try store.manifestSource(jobID: job.id), limits: settings.limits)
        let summary = ManifestScanner(limits: settings.limits, maxListedIssues: 1).scan(&reader, format: record.format)
        if let reason = summary.fatal ?? summary.fileErrors.first { return .refused(JobFailure(reason)) }
        try store.recordScan(jobID: job.id, units: summary.units, urls: summary.urls, skipDuplicates: summary.options.skipDuplicateURLs)
        return .accepted(units: summary.units)
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        guard let record = try store.loadJob(job.id) else { return }
        let skipDuplicates = record.skipDuplicates ?? false
        var reader = makeManifestReader(format: record.format, source: try store.manifestSource(jobID: job.id), limits: settings.limits)
        var planner = ChunkPlanner(maxUnits: settings.chunkUnits, maxURLs: settings.chunkURLs)
        let only = record.retryOf == nil ? nil : try store.retryUnits(jobID: job.id)
        var seq = 0

        func send(_ entries: [ManifestEntry]) throws {
            let row = LedgerChunk(seq: seq, firstUnit: entries[0].index, unitCount: entries.count, lastUnit: entries[entries.count - 1].index,
                                  urlCount: entries.reduce(0) { $0 + $1.urlCount })
            let chunk = Chunk(jobID: job.id, seq: seq, folderID: record.folderID, skipDuplicates: skipDuplicates, entries: entries)
            seq += 1
            try emit(PlannedChunk(ledger: row, encode: { ChunkCodec.encode(chunk) }))
        }

        do {
            while let entry = try reader.next() {
                _ = reader.takeIssues()
                if let only, !only.contains(entry.index) { continue }
                if let full = planner.add(entry) { try send(full) }
            }
        } catch let error as ManifestError {
            // The stored manifest was valid when prepared and cannot change in the store.
            throw JobFailure(error.issue)
        }
        if let last = planner.finish() { try send(last) }
    }
}
