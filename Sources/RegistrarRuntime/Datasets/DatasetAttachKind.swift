import RegistrarCore

/// The `dataset-attach` job kind (docs/datasets.md): memberships written in chunks, exactly once,
/// on the job engine. The planner pages the snapshot fixed at creation by keyset (folder by
/// folder, ids ascending, then the single files); the handler has no work but the commit.
public enum DatasetAttach {
    public static let kind = "dataset-attach"
    public static let queues = KindQueues.named(kind)
    /// The action unit errors of this kind show.
    public static let action = "Attaching to dataset"
}

public final class DatasetAttachPlanner: JobPlanner {
    public let queues = DatasetAttach.queues
    let store: DatasetAttachStore
    let chunkFiles: Int

    public init(store: DatasetAttachStore, chunkFiles: Int = 5_000) {
        self.store = store
        self.chunkFiles = max(1, chunkFiles)
    }

    func params(_ job: Job) -> Result<DatasetAttachParams, JobFailure> {
        DatasetAttachParams.parse(job.params).mapError { JobFailure(code: "invalid_params", item: "params.\($0.field)", message: $0.message) }
    }

    public func prepare(_ job: Job) throws -> Preparation {
        switch params(job) {
        case .failure(let f): return .refused(f)
        case .success(let p): return .accepted(units: try store.attachUnitCount(tenantID: job.tenantID, params: p))
        }
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        let p = try params(job).get()
        let message = { (seq: Int, first: Int, ids: [Int64]) in
            DatasetAttachChunk(jobID: job.id, seq: seq, tenantID: job.tenantID, datasetID: p.datasetID, duplicates: p.duplicates,
                               firstUnit: first, fileIDs: ids).bytes
        }
        var chunks = ChunkNumbering()
        for folder in p.folders {
            try chunks.emitPages(limit: chunkFiles, read: {
                try store.folderFileIDs(folderID: folder.id, after: $0, maxFileID: folder.maxFileID, limit: $1)
            }, to: emit, message: message)
        }
        var rest = p.fileIDs[...]
        while !rest.isEmpty {
            try chunks.emit(Array(rest.prefix(chunkFiles)), to: emit, message: message)
            rest = rest.dropFirst(chunkFiles)
        }
    }
}

public final class DatasetAttachHandler: ChunkHandler {
    public let queues = DatasetAttach.queues
    let store: DatasetAttachStore

    public init(store: DatasetAttachStore) {
        self.store = store
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: DatasetAttachChunk) {
        guard let chunk = DatasetAttachChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: DatasetAttachChunk) -> Int { work.fileIDs.count }

    /// Nothing to do before the commit: the memberships are written there, in one statement.
    /// (The result says whether the chunk is alive: a dead chunk's units all fail.)
    public func perform(_ work: DatasetAttachChunk, id: ChunkID, cancellation: CancellationProbe) throws -> Bool? {
        cancellation.isCancelled ? nil : true
    }

    public func deadResult(_ work: DatasetAttachChunk, id: ChunkID, letter: DeadLetter) -> Bool { false }

    public func commit(_ result: Bool, id: ChunkID, work: DatasetAttachChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitAttach(work, failAll: deadLetter)
    }
}
