import RegistrarCore

/// The `task-create` job kind (docs/workflows.md, "Tasks"): when a dataset is attached to a
/// project, one task per data unit at the stage after START, written in chunks, exactly once, on
/// the job engine. The planner pages the dataset's units up to the id fixed at creation; the
/// handler has no work but the commit.
public enum TaskCreate {
    public static let kind = "task-create"
    public static let queues = KindQueues.named(kind)
    /// The action unit errors of this kind show.
    public static let action = "Creating task"
}

public final class TaskCreatePlanner: JobPlanner {
    public let queues = TaskCreate.queues
    let store: TaskStore
    let chunkUnits: Int

    public init(store: TaskStore, chunkUnits: Int = 5_000) {
        self.store = store
        self.chunkUnits = max(1, chunkUnits)
    }

    func params(_ job: Job) -> Result<TaskCreateParams, JobFailure> {
        TaskCreateParams.parse(job.params).mapError { JobFailure(code: "invalid_params", item: "params.\($0.field)", message: $0.message) }
    }

    public func prepare(_ job: Job) throws -> Preparation {
        switch params(job) {
        case .failure(let f): return .refused(f)
        case .success(let p): return .accepted(units: try store.taskCreateUnitCount(params: p))
        }
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        let p = try params(job).get()
        var chunks = ChunkNumbering()
        try chunks.emitPages(limit: chunkUnits, read: {
            try store.datasetUnitIDs(datasetID: p.datasetID, after: $0, maxUnitID: p.maxUnitID, limit: $1)
        }, to: emit) { seq, first, ids in
            TaskCreateChunk(jobID: job.id, seq: seq, tenantID: job.tenantID, projectID: p.projectID, datasetID: p.datasetID,
                            firstUnit: first, unitIDs: ids).bytes
        }
    }
}

public final class TaskCreateHandler: ChunkHandler {
    public let queues = TaskCreate.queues
    let store: TaskStore

    public init(store: TaskStore) {
        self.store = store
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: TaskCreateChunk) {
        guard let chunk = TaskCreateChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: TaskCreateChunk) -> Int { work.unitIDs.count }

    /// Nothing to do before the commit: the tasks are written there, in one statement.
    public func perform(_ work: TaskCreateChunk, id: ChunkID, cancellation: CancellationProbe) throws -> Bool? {
        cancellation.isCancelled ? nil : true
    }

    public func deadResult(_ work: TaskCreateChunk, id: ChunkID, letter: DeadLetter) -> Bool { false }

    public func commit(_ result: Bool, id: ChunkID, work: TaskCreateChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitTaskCreate(work, failAll: deadLetter)
    }
}
