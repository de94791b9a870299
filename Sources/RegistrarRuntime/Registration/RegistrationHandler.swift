import Logging
import RegistrarCore

/// Registration's chunk handler: verify every unit of a chunk (ranged reads and probing through
/// the `ObjectVerifier`), then record the verified units as files and the rest as unit errors in
/// the chunk's one transaction.
///
/// With `skip_duplicate_urls`, units whose URL key the folder already holds are not fetched:
/// the tracker answers fast (it only learns keys after they are committed) and the store confirms
/// before a unit is skipped unverified; the store's unique key has the final word at commit.
public final class RegistrationHandler: ChunkHandler {
    public let queues = KindQueues.registration
    let store: RegistrationStore
    let progress: ProgressTracker
    let verifier: ObjectVerifier
    let logger: Logger
    /// Each job's integration id, looked up once per job (jobs never change integration).
    private var jobIntegrations: [String: String?] = [:]

    public init(store: RegistrationStore, progress: ProgressTracker, verifier: ObjectVerifier, logger: Logger) {
        self.store = store
        self.progress = progress
        self.verifier = verifier
        self.logger = logger
    }

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: Chunk) {
        let chunk = try ChunkCodec.decode(body)
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ chunk: Chunk) -> Int { chunk.entries.count }

    public func perform(_ chunk: Chunk, id: ChunkID, cancellation: CancellationProbe) throws -> ChunkResult? {
        var items: [ChunkResult.Item] = []
        items.reserveCapacity(chunk.entries.count)
        var units: [RegistrationUnit] = []
        for entry in chunk.entries {
            switch entry {
            case .unit(let u): units.append(u)
            case .rejected(let r):
                let first = r.errors.first
                items.append(.failed(UnitError(index: r.index, urls: r.urls, code: first.map { UnitErrorCode($0.code) } ?? .invalidItem,
                                               message: r.errors.map { ($0.field.map { "\($0): " } ?? "") + $0.message }.joined(separator: "; "))))
            }
        }
        var known = [Bool](repeating: false, count: units.count)
        if chunk.skipDuplicates && !units.isEmpty {
            var maybe: [Bool] = []
            do { maybe = try progress.knownURLKeys(folderID: chunk.folderID, keys: units.map(\.urlKey)) } catch {
                logger.warning("progress tracker unavailable for duplicate checks", metadata: ["error": "\(error)"])
            }
            if maybe.contains(true) {
                // The tracker only pre-filters (it can be stale, e.g. after files were deleted);
                // the store confirms before a unit is skipped unverified.
                let candidates = zip(units, maybe).filter(\.1).map(\.0.urlKey)
                let confirmed = try store.existingURLKeys(folderID: chunk.folderID, keys: candidates)
                known = units.map { confirmed.contains($0.urlKey) }
            }
        }
        let toVerify = zip(units, known).filter { !$0.1 }.map(\.0)
        if cancellation.isCancelled { return nil }
        var outcomes: [UnitOutcome] = []
        if !toVerify.isEmpty {
            // The verifier asks the probe between transfers: a cancel (or a drain past its
            // deadline) abandons the reads in flight and the chunk is recorded as cancelled.
            guard let verified = verifier.verify(toVerify, context: try context(chunk.jobID),
                                                 shouldStop: { cancellation.isCancelled }) else { return nil }
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
            case .failed(let code, let message):
                items.append(.failed(UnitError(index: u.index, urls: u.urls, code: code, message: message)))
            }
            next += 1
        }
        return ChunkResult(jobID: chunk.jobID, seq: chunk.seq, folderID: chunk.folderID, skipDuplicates: chunk.skipDuplicates,
                           unitCount: chunk.entries.count, items: items)
    }

    public func deadResult(_ chunk: Chunk, id: ChunkID, letter: DeadLetter) -> ChunkResult {
        let items = chunk.entries.map { e -> ChunkResult.Item in
            let urls: [String]
            switch e {
            case .unit(let u): urls = u.urls
            case .rejected(let r): urls = r.urls
            }
            return .failed(UnitError(index: e.index, urls: urls, code: .internalError, message: letter.unitMessage))
        }
        return ChunkResult(jobID: chunk.jobID, seq: chunk.seq, folderID: chunk.folderID, skipDuplicates: chunk.skipDuplicates,
                           unitCount: chunk.entries.count, items: items, deadLetter: letter)
    }

    public func commit(_ result: ChunkResult, id: ChunkID, work chunk: Chunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        var result = result
        result.deadLetter = deadLetter
        let commit = try store.commitChunk(result)
        if case .committed = commit.outcome, !commit.newURLKeys.isEmpty {
            do { try progress.addURLKeys(folderID: chunk.folderID, keys: commit.newURLKeys) } catch {
                // Only the fast path loses: later duplicate checks ask the store.
                logger.warning("URL keys not taught to the tracker", metadata: ["error": "\(error)"])
            }
        }
        return commit.outcome
    }

    public func errorCodes(_ result: ChunkResult) -> [UnitErrorCode: Int] {
        var byCode: [UnitErrorCode: Int] = [:]
        for e in result.errors { byCode[e.code, default: 0] += 1 }
        return byCode
    }

    private func context(_ jobID: String) throws -> VerificationContext {
        if let known = jobIntegrations[jobID] { return VerificationContext(jobID: jobID, integrationID: known) }
        let id = try store.jobIntegrationID(jobID: jobID)
        if jobIntegrations.count >= 1024 { jobIntegrations.removeAll(keepingCapacity: true) }
        jobIntegrations[jobID] = .some(id)
        return VerificationContext(jobID: jobID, integrationID: id)
    }
}
