import Logging
import RegistrarCore

/// The folder-sync planner: streams the bucket listing page by page, records every settled
/// object at once (listing first: the folder is browsable as soon as a page is listed, the new
/// files marked not yet verified), and hands the objects that need a probe (new, changed,
/// restored-and-changed, or left unprobed by an interrupted sync) to workers in chunks.
///
/// Determinism: the objects of chunk `seq` are assigned to `(job, seq)` in the store in the
/// same transaction that records them, so a re-plan after a crash first emits the chunks
/// already assigned (from the store) and then continues the listing, skipping objects this job
/// already assigned.
public final class FolderSyncPlanner: JobPlanner {
    public let queues = FolderSync.queues
    let store: FolderSyncStore
    let reader: BucketReader
    let progress: ProgressTracker?
    let chunkUnits: Int
    let logger: Logger

    public init(store: FolderSyncStore, reader: BucketReader, progress: ProgressTracker?, chunkUnits: Int = FolderSync.chunkUnits, logger: Logger) {
        self.store = store
        self.reader = reader
        self.progress = progress
        self.chunkUnits = max(1, chunkUnits)
        self.logger = logger
    }

    func setup(_ job: Job) throws -> Result<(SyncJobParams, SyncBinding), JobFailure> {
        let params: SyncJobParams
        switch SyncJobParams.parse(job.params) {
        case .failure(let e): return .failure(JobFailure(code: "invalid_params", item: "params.\(e.field)", message: e.message))
        case .success(let p): params = p
        }
        guard let binding = try store.syncBinding(folderID: params.folderID), binding.tenantID == job.tenantID else {
            return .failure(JobFailure(code: "no_sync_binding", item: "folder", message: "folder \(params.folderID) has no sync binding (it was deleted)"))
        }
        return .success((params, binding))
    }

    /// The total is not known until the listing ends (`recordListing` fixes it then): until
    /// then the job's progress says so (`totalKnown` false) and the binding's `listing` counts
    /// what has been listed so far.
    public func prepare(_ job: Job) throws -> Preparation {
        switch try setup(job) {
        case .failure(let f): return .refused(f)
        case .success: return .acceptedUncounted
        }
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        let (params, binding) = try setup(job).get()
        var seq = 0
        var units = 0
        for chunk in try store.assignedChunks(jobID: job.id) {
            precondition(chunk.seq == seq, "assigned chunks are numbered from 0")
            try emit(message(job, chunk, folderID: binding.folderID))
            seq += 1
            units += chunk.unitCount
        }
        var stats = SyncListingStats()
        var lastKey: String?

        func record(_ settled: [SyncedObject]) throws {
            guard !settled.isEmpty else { return }
            stats.listed += settled.count
            let states = try store.storedStates(folderID: binding.folderID, keys: settled.map(\.object.key))
            var entries: [SyncPlanEntry] = []
            entries.reserveCapacity(settled.count)
            for o in settled {
                guard o.type != nil else { stats.ignored += 1; continue }
                let stored = states[o.object.key]
                let action = SyncDiff.action(for: o, stored: stored?.state)
                switch action {
                case .create: stats.created += 1
                case .reprobe, .resume: stats.reprobed += 1
                case .restore, .restoreAndReprobe: stats.restored += 1
                case .unchanged: stats.unchanged += 1
                }
                var entry = SyncPlanEntry(object: o, action: action)
                if SyncDiff.probes(action) {
                    if stored?.probeJob == job.id {
                        // Assigned by an earlier run of this plan (before a crash): its chunk was emitted above.
                        entry.action = .unchanged
                    } else {
                        entry.unit = units
                        units += 1
                    }
                }
                entries.append(entry)
            }
            let chunks = try store.recordListedPage(jobID: job.id, binding: binding, entries: entries, firstSeq: seq, chunkUnits: chunkUnits)
            for c in chunks {
                try emit(message(job, c, folderID: binding.folderID))
                seq += 1
            }
            // Listed so far; the job's total stays unknown until the listing ends.
            try store.recordListing(jobID: job.id, folderID: binding.folderID, stats: stats, total: nil, lastKey: lastKey)
        }

        switch params.mode {
        case .keys(let created, let removed):
            stats.tombstoned = try store.tombstone(folderID: binding.folderID, keys: removed)
            let suffix = binding.spec.sidecarSuffix
            let objects = created.filter { suffix == nil || !$0.key.hasSuffix(suffix!) }.map {
                SyncedObject(object: ListedObject(key: $0.key, size: $0.size ?? 0, etag: $0.etag ?? ""), type: SyncTypes.type(ofKey: $0.key))
            }
            try record(objects)
        case .listing(let startAfter):
            var pairing = SidecarPairing(suffix: binding.spec.sidecarSuffix)
            var position = S3ListRequest.Position(startAfter: startAfter)
            while true {
                let page: S3ListingPage
                switch reader.listPage(integrationID: binding.integrationID, bucket: binding.spec.bucket, prefix: binding.spec.prefix, at: position) {
                case .failure(let e): throw JobFailure(code: e.code, item: "listing", message: e.message)
                case .success(let p): page = p
                }
                if let last = page.objects.last?.key { lastKey = last }
                try record(pairing.feed(page.objects))
                guard page.isTruncated, let token = page.nextContinuationToken else { break }
                position = S3ListRequest.Position(continuationToken: token)
            }
            try record(pairing.finish())
            if startAfter == nil {
                // A full listing saw every object there is: the rest have vanished.
                stats.tombstoned = try store.tombstoneUnseen(jobID: job.id, folderID: binding.folderID)
            }
        }
        stats.complete = true
        try store.recordListing(jobID: job.id, folderID: binding.folderID, stats: stats, total: units, lastKey: lastKey)
        try? progress?.setTotal(jobID: job.id, total: units)
        logger.info("folder listed", metadata: ["job": "\(job.id)", "folder": "\(binding.folderID)", "listed": "\(stats.listed)",
                                                "created": "\(stats.created)", "reprobed": "\(stats.reprobed)", "restored": "\(stats.restored)",
                                                "tombstoned": "\(stats.tombstoned)", "unchanged": "\(stats.unchanged)"])
    }

    private func message(_ job: Job, _ chunk: LedgerChunk, folderID: String) -> PlannedChunk {
        let body = FolderSyncChunk(jobID: job.id, seq: chunk.seq, folderID: folderID)
        return PlannedChunk(ledger: chunk, encode: { body.bytes })
    }
}

/// The folder-sync handler: reads the chunk's assigned files, reads their sidecars, verifies
/// and probes them with the registration verifier (the same ranged reads, signed with the
/// binding's integration), and commits the results in the chunk's one transaction.
public final class FolderSyncHandler: ChunkHandler {
    public let queues = FolderSync.queues
    let store: FolderSyncStore
    let reader: BucketReader
    let verifier: ObjectVerifier
    let logger: Logger

    public init(store: FolderSyncStore, reader: BucketReader, verifier: ObjectVerifier, logger: Logger) {
        self.store = store
        self.reader = reader
        self.verifier = verifier
        self.logger = logger
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: FolderSyncChunk) {
        guard let chunk = FolderSyncChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: FolderSyncChunk) -> Int { (try? store.chunkFiles(ChunkID(jobID: work.jobID, seq: work.seq)).count) ?? 0 }

    public func perform(_ work: FolderSyncChunk, id: ChunkID, cancellation: CancellationProbe) throws -> SyncProbeResult? {
        let files = try store.chunkFiles(id)
        guard let binding = try store.syncBinding(folderID: work.folderID) else {
            return SyncProbeResult(items: files.map {
                .failed(fileID: $0.fileID, error: UnitError(index: $0.unit, urls: [$0.url], code: .internalError, message: "the folder's sync binding was deleted"))
            })
        }
        var items: [SyncProbeResult.Item?] = Array(repeating: nil, count: files.count)
        var metadata: [String?] = Array(repeating: nil, count: files.count)
        for (i, f) in files.enumerated() {
            guard let sidecar = f.sidecarURL else { continue }
            if cancellation.isCancelled { return nil }
            switch reader.read(integrationID: binding.integrationID, url: sidecar, maxBytes: FolderSync.maxSidecarBytes) {
            case .failure(let e):
                items[i] = .failed(fileID: f.fileID, error: UnitError(index: f.unit, urls: [f.url], code: UnitErrorCode(rawValue: e.code),
                                                                      message: "sidecar \(f.key)\(binding.spec.sidecarSuffix ?? ""): \(e.message)",
                                                                      action: "Reading sidecar metadata"))
            case .success(let bytes):
                if let v = JSONValue.parse(bytes), case .object = v {
                    metadata[i] = v.compactText
                } else {
                    items[i] = .failed(fileID: f.fileID, error: UnitError(index: f.unit, urls: [f.url], code: "invalid_sidecar",
                                                                          message: "sidecar \(f.key)\(binding.spec.sidecarSuffix ?? "") is not a JSON object",
                                                                          action: "Reading sidecar metadata"))
                }
            }
        }
        let pending = files.indices.filter { items[$0] == nil }
        let units = pending.map { i in
            RegistrationUnit(index: files[i].unit, type: files[i].type, urls: [files[i].url], givenTitle: files[i].key,
                             clientMetadata: metadata[i], urlKey: URLKey.forUnit([files[i].url]),
                             location: ItemLocation(section: "sync", indexInSection: files[i].unit, line: 0))
        }
        if !units.isEmpty {
            guard let outcomes = verifier.verify(units, context: VerificationContext(jobID: id.jobID, integrationID: binding.integrationID),
                                                 shouldStop: { cancellation.isCancelled }) else { return nil }
            for (i, outcome) in zip(pending, outcomes) {
                switch outcome {
                case .verified(let info): items[i] = .verified(fileID: files[i].fileID, info: info, clientMetadata: metadata[i])
                case .failed(let code, let message):
                    items[i] = .failed(fileID: files[i].fileID, error: UnitError(index: files[i].unit, urls: [files[i].url], code: code, message: message))
                }
            }
        }
        return SyncProbeResult(items: items.map { $0! })
    }

    public func deadResult(_ work: FolderSyncChunk, id: ChunkID, letter: DeadLetter) -> SyncProbeResult {
        let files = (try? store.chunkFiles(id)) ?? []
        return SyncProbeResult(items: files.map {
            .failed(fileID: $0.fileID, error: UnitError(index: $0.unit, urls: [$0.url], code: .internalError, message: letter.unitMessage))
        })
    }

    public func commit(_ result: SyncProbeResult, id: ChunkID, work: FolderSyncChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitProbes(result, id: id, deadLetter: deadLetter)
    }

    public func errorCodes(_ result: SyncProbeResult) -> [UnitErrorCode: Int] {
        var byCode: [UnitErrorCode: Int] = [:]
        for e in result.errors { byCode[e.code, default: 0] += 1 }
        return byCode
    }
}
