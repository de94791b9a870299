import RegistrarCore

/// One request of `POST …/stages/{stage}/actions`: the task and what to do to it.
public struct TaskActionRequest: Sendable {
    public var taskUUID: String
    public var action: TaskAction
    /// A note kept in the task's history with the action (a reviewer's reason on `REJECT`).
    public var comment: String?
    public init(taskUUID: String, action: TaskAction, comment: String? = nil) {
        self.taskUUID = taskUUID; self.action = action; self.comment = comment
    }
}

/// The answer for one task: accepted (where it is now) or refused (why; `code` is
/// `TaskRefusal.Code`'s, or `not_found` / `conflict`).
public struct TaskActionResult: Sendable, Equatable {
    public var taskUUID: String
    public var ok: Bool
    public var status: String?
    public var stage: String?
    public var errorCode: String?
    public var message: String?

    public static func accepted(_ task: String, status: TaskStatus, stage: String) -> TaskActionResult {
        TaskActionResult(taskUUID: task, ok: true, status: status.rawValue, stage: stage, errorCode: nil, message: nil)
    }
    public static func refused(_ task: String, _ code: String, _ message: String) -> TaskActionResult {
        TaskActionResult(taskUUID: task, ok: false, status: nil, stage: nil, errorCode: code, message: message)
    }

    /// The per-task answer's JSON (`{taskUuid, ok, status?, stage?, error?: {code, message}}`).
    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [("taskUuid", .string(taskUUID)), ("ok", .bool(ok))]
        if let status { fields.append(("status", .string(status))) }
        if let stage { fields.append(("stage", .string(stage))) }
        if let errorCode { fields.append(("error", .object([("code", .string(errorCode)), ("message", .string(message ?? ""))]))) }
        return .object(fields)
    }
}

/// Why a workflow change was refused.
public enum WorkflowChangeRefusal: Error, Sendable {
    /// The new graph breaks a rule of a live edit (`stage_in_use`, `type_changed`).
    case liveEdit([WorkflowIssue])
}

/// Tasks on a store (docs/workflows.md, "Tasks"): the `task-create` kind's rows, the task API's
/// reads and guarded writes. Every method names the project; callers checked the tenant and the
/// caller's permission first (`ProjectAuthorizer`).
public protocol TaskStore: AnyObject {
    // The task-create kind.
    func taskCreateUnitCount(params: TaskCreateParams) throws -> Int
    /// Up to `limit` data-unit ids of the dataset in (`after`, `maxUnitID`], ascending.
    func datasetUnitIDs(datasetID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64]
    /// Creates a chunk's tasks inside the engine's ledger-guarded transaction (ON CONFLICT: exact under redelivery).
    func commitTaskCreate(_ chunk: TaskCreateChunk, failAll: DeadLetter?) throws -> CommitOutcome
    /// The task-create jobs the last `createProject` / `attachDatasets` on this store created (then forgotten).
    func takeCreatedTaskJobs() -> [String]

    // The workflow.
    /// The stored graph JSON, or nil when the project is not the tenant's.
    func workflow(tenantID: String, projectID: String) throws -> String?
    /// Replaces the graph after checking the live-edit rules against the stages holding tasks now
    /// (in one transaction that holds actions off). nil: no such project.
    func replaceWorkflow(tenantID: String, projectID: String, graph: WorkflowGraph) throws -> Result<String, WorkflowChangeRefusal>?

    // The task API.
    /// One page of a stage's tasks, oldest first.
    func tasks(projectID: String, stage: String, filter: TaskFilter, after: [String]?, limit: Int) throws -> JSONPage
    /// Applies each action in its own version-guarded transaction.
    func act(projectID: String, stage: String, requests: [TaskActionRequest], actor: TaskActor) throws -> [TaskActionResult]
    /// Moves tasks from `stage` to `destination` (control tasks), recorded as `MOVE`.
    func moveTasks(projectID: String, stage: String, taskUUIDs: [String], destination: String, actor: TaskActor) throws -> [TaskActionResult]
    /// A task's history, oldest first (nil: no such task in the project).
    func taskHistory(projectID: String, taskUUID: String) throws -> String?
    /// Tasks per stage and status.
    func stageCounts(projectID: String) throws -> [(stage: String, status: String, count: Int)]
}
