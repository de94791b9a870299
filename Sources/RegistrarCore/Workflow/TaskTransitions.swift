/// What one task action does (Encord's task API: ASSIGN, RELEASE, SKIP, SUBMIT, APPROVE,
/// REJECT, PATHWAY_ACTION), as a pure function of the task, the graph and who acts. The store
/// applies the outcome in one guarded write (the task's version), so two people acting on one
/// task at once cannot both win.
public enum TaskAction: Sendable, Equatable {
    case assign(assignee: String)
    case release
    case skip
    case submit
    case approve
    case reject
    case pathway(String)

    /// The wire name (`action` in `POST …/stages/{stage}/actions`).
    public var name: String {
        switch self {
        case .assign: "ASSIGN"
        case .release: "RELEASE"
        case .skip: "SKIP"
        case .submit: "SUBMIT"
        case .approve: "APPROVE"
        case .reject: "REJECT"
        case .pathway: "PATHWAY_ACTION"
        }
    }
}

/// A task's status at the stage it waits at (Encord's stage task statuses; DONE stages show
/// none, stored as `COMPLETED`).
public enum TaskStatus: String, Sendable, CaseIterable {
    case new = "NEW"
    case assigned = "ASSIGNED"
    case released = "RELEASED"
    case skipped = "SKIPPED"
    case reopened = "REOPENED"
    case completed = "COMPLETED"
}

/// Where a task is now, as the transition needs it.
public struct TaskPosition: Sendable, Equatable {
    public var taskUUID: String
    public var stageUUID: String
    public var status: TaskStatus
    public var assignee: String?
    public init(taskUUID: String, stageUUID: String, status: TaskStatus, assignee: String?) {
        self.taskUUID = taskUUID; self.stageUUID = stageUUID; self.status = status; self.assignee = assignee
    }
}

/// Who acts: their email (nil for a service key acting as an agent) and what their roles on the
/// project grant.
public struct TaskActor: Sendable {
    public var email: String?
    public var permissions: Set<ProjectPermission>
    public init(email: String?, permissions: Set<ProjectPermission>) {
        self.email = email?.lowercased(); self.permissions = permissions
    }
    func can(_ p: ProjectPermission) -> Bool { permissions.contains(p) }
}

/// The result of an accepted action: where the task is afterwards, and the stages it passed
/// (routers included) for its history.
public struct TaskTransition: Sendable, Equatable {
    public var after: TaskPosition
    /// Every node entered, in order (empty when the task stays at its stage).
    public var path: [String]
    /// Whether the task reached a DONE stage.
    public var completed: Bool
}

/// Why an action was refused: a stable `code` (the per-task answer's `error`), and words.
public struct TaskRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The action does not exist at this kind of stage (e.g. APPROVE at Annotate).
        case wrongStage = "wrong_stage"
        /// The caller's roles do not allow it (HTTP 403 per task).
        case forbidden
        /// Someone else holds the task (HTTP 409 per task).
        case assignedToOther = "assigned_to_other"
        /// The task is not at the stage the request names (it moved meanwhile: 409).
        case moved
        /// No such pathway at this stage.
        case unknownPathway = "unknown_pathway"
        /// The task's state does not allow it (e.g. RELEASE of an unassigned task).
        case invalidState = "invalid_state"
        /// The stage's user assignment restriction bars this person: they submitted, approved
        /// or rejected the task at a stage it lists (HTTP 403 per task).
        case restricted
    }
    public var code: Code
    public var message: String
    /// For `forbidden`: the permission that was missing.
    public var needs: ProjectPermission?
    public init(_ code: Code, _ message: String, needs: ProjectPermission? = nil) {
        self.code = code; self.message = message; self.needs = needs
    }
    public var description: String { "\(code.rawValue): \(message)" }
}

/// The transition rules (docs/workflows.md, "Task actions").
public enum TaskTransitions {
    /// Applies `action` to a task waiting at `stage` (the stage the request named). `workedBy`:
    /// stage uuid → the emails of the people who submitted, approved or rejected this task
    /// there (from its history; the stage's user assignment restriction reads it).
    public static func apply(_ action: TaskAction, to task: TaskPosition, atStage stage: String, in graph: WorkflowGraph,
                             by actor: TaskActor, workedBy: [String: Set<String>] = [:]) -> Result<TaskTransition, TaskRefusal> {
        guard let node = graph.node(uuid: task.stageUUID) else {
            return .failure(TaskRefusal(.moved, "the task's stage is no longer in the workflow"))
        }
        guard node.uuid == stage.lowercased() else {
            return .failure(TaskRefusal(.moved, "the task is at stage \(node.title ?? node.uuid), not this one"))
        }
        let work: ProjectPermission? = switch node.type {
        case .annotation: .annotate
        case .review: .review
        case .agent: .controlTasks
        default: nil
        }
        guard let work else { return .failure(TaskRefusal(.wrongStage, "tasks at a \(node.type.rawValue) stage take no actions")) }
        let holdsIt = task.status == .assigned && task.assignee != nil
        let heldByOther = holdsIt && task.assignee != actor.email
        func stay(_ status: TaskStatus, _ assignee: String?) -> Result<TaskTransition, TaskRefusal> {
            var after = task
            after.status = status
            after.assignee = assignee
            return .success(TaskTransition(after: after, path: [], completed: false))
        }
        func forbid(_ what: String, _ p: ProjectPermission) -> Result<TaskTransition, TaskRefusal> {
            .failure(TaskRefusal(.forbidden, "\(what) needs a role granting \(p.rawValue)", needs: p))
        }
        /// The actor may work this task: has the stage's permission, and nobody else holds it
        /// (unless the actor controls tasks).
        func mayWork(_ what: String) -> TaskRefusal? {
            if !actor.can(work) && !actor.can(.controlTasks) { return TaskRefusal(.forbidden, "\(what) needs a role granting \(work.rawValue)", needs: work) }
            if heldByOther && !actor.can(.controlTasks) { return TaskRefusal(.assignedToOther, "the task is assigned to \(task.assignee!)") }
            return nil
        }
        /// The stage's user assignment restriction, for the person who would work the task.
        /// It binds everyone, admins included: its point is a second pair of eyes.
        func barred(_ person: String?) -> TaskRefusal? {
            guard let person, !node.excludeUsersFromStages.isEmpty else { return nil }
            for listed in node.excludeUsersFromStages where workedBy[listed]?.contains(person) == true {
                let name = graph.node(uuid: listed)?.title ?? listed
                return TaskRefusal(.restricted, "\(person) worked this task at stage \(name); stage \(node.title ?? node.uuid) bars them from it (restrictions.excludeUsersFromStages)")
            }
            return nil
        }

        switch action {
        case .assign(let assignee):
            let target = assignee.lowercased()
            if target != actor.email && !actor.can(.controlTasks) { return forbid("assigning a task to someone else", .controlTasks) }
            if target == actor.email, let refusal = mayWork("ASSIGN") { return .failure(refusal) }
            if heldByOther && !actor.can(.controlTasks) { return .failure(TaskRefusal(.assignedToOther, "the task is assigned to \(task.assignee!)")) }
            if let refusal = barred(target) { return .failure(refusal) }
            return stay(.assigned, target)
        case .release:
            guard holdsIt else { return .failure(TaskRefusal(.invalidState, "the task is not assigned")) }
            if heldByOther && !actor.can(.controlTasks) { return .failure(TaskRefusal(.assignedToOther, "the task is assigned to \(task.assignee!)")) }
            return stay(.released, nil)
        case .skip:
            guard node.type == .annotation else { return .failure(TaskRefusal(.wrongStage, "only Annotate tasks can be skipped (reviewers cannot skip)")) }
            if let refusal = mayWork("SKIP") { return .failure(refusal) }
            return stay(.skipped, nil)
        case .submit:
            guard node.type == .annotation else { return .failure(TaskRefusal(.wrongStage, "SUBMIT is for Annotate stages; use APPROVE or REJECT at Review, PATHWAY_ACTION at Agent")) }
            if let refusal = mayWork("SUBMIT") ?? barred(actor.email) { return .failure(refusal) }
            return move(task, from: node, to: node.toNode!, status: .new, graph: graph, actor: actor.email)
        case .approve, .reject:
            guard node.type == .review else { return .failure(TaskRefusal(.wrongStage, "\(action.name) is for Review stages")) }
            if let refusal = mayWork(action.name) ?? barred(actor.email) { return .failure(refusal) }
            return action == .approve
                ? move(task, from: node, to: node.toNode!, status: .new, graph: graph, actor: actor.email)
                : move(task, from: node, to: node.rejectedToNode!, status: .reopened, graph: graph, actor: actor.email)
        case .pathway(let reference):
            guard node.type == .agent else { return .failure(TaskRefusal(.wrongStage, "PATHWAY_ACTION is for Agent stages")) }
            guard actor.can(.controlTasks) else { return forbid("PATHWAY_ACTION", .controlTasks) }
            guard let pathway = node.pathway(reference) else {
                return .failure(TaskRefusal(.unknownPathway, "stage \(node.title ?? node.uuid) has no pathway \(reference); it has \(node.pathways.map(\.name).joined(separator: ", "))"))
            }
            return move(task, from: node, to: pathway.targetNode, status: .new, graph: graph, actor: actor.email)
        }
    }

    /// Moves a task out of `from` into `target`, passing through routers, until it waits at a
    /// stage. Terminates: a valid graph has no router-only cycle.
    static func move(_ task: TaskPosition, from: WorkflowNode, to target: String, status: TaskStatus, graph: WorkflowGraph,
                     actor: String?) -> Result<TaskTransition, TaskRefusal> {
        var path: [String] = []
        var current = graph.node(uuid: target)!
        path.append(current.uuid)
        while current.type.isRouter {
            let chosen = current.type == .percentageRouter
                ? WorkflowRouting.percentagePathway(current, taskUUID: task.taskUUID)
                : WorkflowRouting.collaboratorPathway(current, actor: actor)
            current = graph.node(uuid: chosen!.targetNode)!
            path.append(current.uuid)
        }
        let done = current.type == .done
        let after = TaskPosition(taskUUID: task.taskUUID, stageUUID: current.uuid, status: done ? .completed : status, assignee: nil)
        return .success(TaskTransition(after: after, path: path, completed: done))
    }
}
