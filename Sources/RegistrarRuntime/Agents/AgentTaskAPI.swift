import RegistrarCore

/// One exit of an Agent stage: what `PATHWAY_ACTION` names (by uuid or name).
public struct AgentPathway: Sendable, Equatable {
    public var uuid: String
    public var name: String
    public init(uuid: String, name: String) { self.uuid = uuid.lowercased(); self.name = name }
}

/// The Agent stage an agent works on, as the workflow describes it.
public struct AgentStage: Sendable, Equatable {
    public var uuid: String
    public var title: String
    public var pathways: [AgentPathway]
    public init(uuid: String, title: String, pathways: [AgentPathway]) {
        self.uuid = uuid.lowercased(); self.title = title; self.pathways = pathways
    }

    /// The pathway a command's answer names: its uuid (any case) or its exact name.
    public func pathway(for answer: String) -> AgentPathway? {
        pathways.first { $0.uuid == answer.lowercased() } ?? pathways.first { $0.name == answer }
    }
}

/// One page of the tasks waiting at a stage (oldest first) and the token of the next.
public struct AgentTaskPage: Sendable {
    public var tasks: [JSONValue]
    public var nextPageToken: String?
    public init(tasks: [JSONValue], nextPageToken: String?) { self.tasks = tasks; self.nextPageToken = nextPageToken }
}

/// The per-task answer to a `PATHWAY_ACTION`.
public enum AgentActionAnswer: Sendable, Equatable {
    /// The task moved along the pathway.
    case moved
    /// Someone else got there first (the API's 409 codes: `assigned_to_other`, `moved`,
    /// `conflict`): another agent or a person took the task, so this agent skips it.
    case lostRace(code: String)
    /// Any other refusal (e.g. `forbidden`, `unknown_pathway`): the task counts as failed.
    case refused(code: String, message: String)

    /// The per-task error codes that mean "someone else got there first".
    public static let raceCodes: Set<String> = ["assigned_to_other", "moved", "conflict"]

    public init(code: String, message: String) {
        self = Self.raceCodes.contains(code) ? .lostRace(code: code) : .refused(code: code, message: message)
    }
}

/// The part of the task API an agent needs (docs/agents.md): read the stage and its pathways,
/// page through its tasks, read a task's data unit, and post `PATHWAY_ACTION`s. The HTTP
/// implementation lives in the executable (`registrar agent run`); `MemoryAgentTaskAPI` is the
/// twin the loop's unit tests use.
public protocol AgentTaskAPI: Sendable {
    /// The Agent stage named by uuid or title; throws (with the stages there are) when there is
    /// no such stage or it is not an Agent stage.
    func stage(_ reference: String) throws -> AgentStage
    /// A page of the tasks waiting at the stage (by uuid), oldest first.
    func tasks(stage: String, pageToken: String?) throws -> AgentTaskPage
    /// The data unit's file record (`GET /v1/files/{fileId}`, the task item's `fileId`), nil
    /// when it is gone.
    func dataUnit(fileID: String) throws -> JSONValue?
    /// The unit's label row in the project (`GET /v1/projects/{id}/label-rows/{dataHash}`, the
    /// task item's `dataHash`): the row and its `ETag` (for a later `PUT` with `If-Match`); nil
    /// when the unit is gone.
    func labelRow(dataHash: String) throws -> (row: JSONValue, etag: String?)?
    /// `PATHWAY_ACTION`s at the stage (at most 500), answered per task uuid.
    func pathwayActions(stage: String, _ moves: [(taskUUID: String, pathwayUUID: String)]) throws -> [String: AgentActionAnswer]
}

/// What the agent's command did with one task's JSON.
public struct AgentExecution: Sendable, Equatable {
    public var exitStatus: Int32
    public var stdout: String
    public init(exitStatus: Int32, stdout: String) { self.exitStatus = exitStatus; self.stdout = stdout }
}

/// Runs the agent's command once with a task's JSON on its standard input (`/bin/sh -c CMD` in
/// the executable; closures in tests).
public protocol AgentExecutor: Sendable {
    func run(input: [UInt8]) throws -> AgentExecution
}
