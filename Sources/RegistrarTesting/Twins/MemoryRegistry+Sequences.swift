import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's sequence encodes and videos. Guarded by the registry's lock.
final class MemorySequenceState {
    struct Decision {
        var encodeJobID: String?
        var published: Bool
        var reason: String
        var order: Int
    }
    var decisions: [String: Decision] = [:]
    var videos: [Int64: SequenceVideo] = [:]
}

/// The in-memory twin of `PostgresRegistry+Sequences` (`SequenceStoreConformance` runs both).
extension MemoryRegistry: SequenceStore {
    private func sequenceIDs(_ registrationJobID: String) -> [Int64] {
        files.values.filter { $0.jobID == registrationJobID.lowercased() && $0.unit.type == .imageSequence }.map(\.id).sorted()
    }

    public func sequenceCount(registrationJobID: String) throws -> Int { locked { sequenceIDs(registrationJobID).count } }

    public func sequenceFileIDs(registrationJobID: String, after: Int64, limit: Int) throws -> [Int64] {
        locked { Array(sequenceIDs(registrationJobID).filter { $0 > after }.prefix(limit)) }
    }

    public func sequenceSource(fileID: Int64) throws -> SequenceSource? {
        guard let f = locked({ files[fileID] }) else { return nil }
        let options = (try? SequenceOptions.parse(try jobs.job(f.jobID)?.params).get()) ?? SequenceOptions()
        return SequenceSource(fileID: fileID, folderID: f.folderID, urls: f.unit.urls, integrationID: locked { facts[f.jobID]?.integrationID },
                              fps: options.effectiveFPS)
    }

    public func commitSequenceChunk(_ chunk: SequenceEncodeChunk, outcomes: [SequenceOutcome], failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) {
            if let failAll {
                return ChunkWrite(errors: chunk.fileIDs.indices.map {
                    UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll.unitMessage, action: SequenceEncode.action)
                })
            }
            var write = ChunkWrite()
            for (i, outcome) in outcomes.enumerated() {
                switch outcome {
                case .skipped: write.skipped += 1
                case .failed(_, let urls, let code, let message):
                    write.errors.append(UnitError(index: chunk.firstUnit + i, urls: urls, code: code, message: message, action: SequenceEncode.action))
                case .encoded(var v):
                    locked {
                        guard var f = files[v.fileID] else { return }
                        v.frames = SequenceEncoding.frameMap(urls: f.unit.urls)
                        sequenceState.videos[v.fileID] = v
                        f.info.width = v.width; f.info.height = v.height; f.info.fps = v.fps
                        f.info.duration = v.duration; f.info.frameCount = v.frameCount; f.info.codec = "h264"
                        files[v.fileID] = f
                    }
                    write.done += 1
                }
            }
            return write
        }
    }

    public func dispatchSequenceEncodes(limit: Int) throws -> [String] {
        try locked {
            var made = 0
            for (job, _) in facts.sorted(by: { $0.key < $1.key }) where sequenceState.decisions[job] == nil && made < max(1, limit) {
                guard let stored = try jobs.job(job), stored.kind == KindQueues.registration.kind, stored.status != .pending else { continue }
                made += 1
                let order = sequenceState.decisions.count
                let options = (try? SequenceOptions.parse(stored.params).get()) ?? SequenceOptions()
                if sequenceIDs(job).isEmpty || options.virtual {
                    sequenceState.decisions[job] = .init(encodeJobID: nil, published: true, reason: options.virtual ? "virtual" : "no_sequences", order: order)
                    continue
                }
                let encode = try jobs.createJob(NewJob(kind: SequenceEncode.kind, tenantID: stored.tenantID,
                                                       params: SequenceEncodeParams(registrationJobID: job).json))
                sequenceState.decisions[job] = .init(encodeJobID: encode, published: false, reason: "encode", order: order)
            }
            return sequenceState.decisions.values.filter { !$0.published && $0.encodeJobID != nil }.sorted { $0.order < $1.order }.map { $0.encodeJobID! }
        }
    }

    public func markSequenceEncodePublished(encodeJobID: String) throws {
        locked {
            for (k, d) in sequenceState.decisions where d.encodeJobID == encodeJobID.lowercased() { sequenceState.decisions[k]?.published = true }
        }
    }

    public func sequenceVideo(fileID: Int64) throws -> SequenceVideo? { locked { sequenceState.videos[fileID] } }

    /// The twin of `PostgresRegistry.setSequenceOptions`.
    public func setSequenceOptions(jobID: String, _ options: SequenceOptions) throws {
        let fields = options.params
        guard !fields.isEmpty else { return }
        jobs.update(jobID) { job in
            var members: [(key: String, value: JSONValue)] = []
            if case .object(let m) = job.params { members = m }
            for (k, v) in fields { members.removeAll { $0.key == k }; members.append((key: k, value: v)) }
            job.params = .object(members)
        }
    }

    /// How the dispatcher decided for a registration job (nil: not yet), for tests.
    public func sequenceDecision(registrationJobID: String) -> String? { locked { sequenceState.decisions[registrationJobID]?.reason } }
}
