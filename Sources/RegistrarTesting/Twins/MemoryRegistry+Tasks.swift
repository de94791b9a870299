import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's tasks and their history (what `tasks` and `task_events` hold on PostgreSQL).
/// Guarded by the registry's lock.
final class MemoryTaskState {
    struct Task {
        var id: String
        var projectID: String
        /// The data unit: a dataset membership id (`dataset_files.id`, shown as `dataHash`).
        var dataUnit: Int64
        var stage: String
        var status: TaskStatus
        var assignee: String?
        var version: Int
        var lastActor: String?
        var createdAt: String
        var updatedAt: String
    }
    struct Event {
        var seq: Int
        var at: String
        var actor: String?
        var action: String
        var fromStage: String
        var toStage: String
        var path: [String]
        var status: TaskStatus
        var assignee: String?
        var comment: String?
    }
    var tasks: [String: Task] = [:]
    /// (project, data unit) → task id: one task per data unit per project.
    var byUnit: [String: [Int64: String]] = [:]
    var events: [String: [Event]] = [:]
    /// The task-create jobs the last project change made (`takeCreatedTaskJobs`).
    var createdJobs: [String] = []
}

/// A project's stored workflow does not parse (PostgreSQL's store throws the same way).
struct UnreadableWorkflow: Error { var projectID: String }

/// The in-memory twin of `PostgresRegistry+Tasks`: tasks made when datasets are attached (the
/// `task-create` kind, through the twin's job store) and when units join an attached dataset,
/// removed on detach, actions decided by `TaskTransitions` and applied under the registry's
/// lock (so the version guard never loses here; it is kept so the rows look the same), the
/// same JSON for tasks, history and counts. `TaskStoreConformance` runs against both.
extension MemoryRegistry: TaskStore {
    private var ts: MemoryTaskState { taskState }

    // MARK: Hooks the projects and datasets parts call (under the lock)

    /// A project gained datasets: one task-create job per dataset that has units, its
    /// parameters fixing the highest unit id now (as PostgreSQL's `startTaskCreation`).
    func startTaskCreation(tenantID: String, projectID: String, datasetIDs: [String]) throws {
        for dataset in datasetIDs {
            let key = dataset.lowercased()
            guard let max = catalogDatasets.members.values.filter({ $0.datasetID == key }).map(\.id).max() else { continue }
            let params = TaskCreateParams(projectID: projectID, datasetID: key, maxUnitID: max)
            let job = try jobs.createJob(NewJob(kind: TaskCreate.kind, tenantID: tenantID, params: params.json))
            try jobs.recordTotal(jobID: job, units: try taskCreateUnitCount(params: params))
            ts.createdJobs.append(job)
        }
    }

    /// A data unit joined a dataset: its task in every project the dataset is attached to (the
    /// `dataset_units_make_tasks` trigger).
    func makeTasksForNewUnit(_ unit: Int64, datasetID: String) {
        for (projectID, p) in access.projects where p.datasetIDs.contains(datasetID) {
            insertTask(projectID: projectID, unit: unit, workflow: p.workflow)
        }
    }

    /// Removes tasks (and their history) matching `gone` (detach, units leaving, project deleted).
    func removeTasks(where gone: (MemoryTaskState.Task) -> Bool) {
        for (id, t) in ts.tasks where gone(t) {
            ts.tasks[id] = nil
            ts.events[id] = nil
            ts.byUnit[t.projectID]?[t.dataUnit] = nil
        }
    }

    /// Removes the project's tasks of a dataset being detached from it.
    func removeTasks(projectID: String, datasetID: String) {
        let units = Set(catalogDatasets.members.values.filter { $0.datasetID == datasetID }.map(\.id))
        removeTasks { $0.projectID == projectID && units.contains($0.dataUnit) }
    }

    /// Inserts a task at the stage after START unless the unit has one in the project; true when inserted.
    @discardableResult
    private func insertTask(projectID: String, unit: Int64, workflow: String) -> Bool {
        guard ts.byUnit[projectID]?[unit] == nil, let first = Self.firstStage(workflow) else { return false }
        let id = UUID().uuidString.lowercased(), now = MemoryJobStore.now()
        ts.tasks[id] = .init(id: id, projectID: projectID, dataUnit: unit, stage: first, status: .new, assignee: nil, version: 0,
                             lastActor: nil, createdAt: now, updatedAt: now)
        ts.byUnit[projectID, default: [:]][unit] = id
        return true
    }

    /// START's `toNode` (PostgreSQL's `workflow_first_stage`).
    static func firstStage(_ workflow: String) -> String? {
        guard case .array(let nodes)? = JSONValue.parse(Array(workflow.utf8))?["graphNodes"] else { return nil }
        for node in nodes {
            if case .string("START")? = node["nodeType"], case .string(let to)? = node["toNode"] { return to.lowercased() }
        }
        return nil
    }

    // MARK: The task-create kind

    public func takeCreatedTaskJobs() -> [String] {
        locked {
            defer { ts.createdJobs = [] }
            return ts.createdJobs
        }
    }

    public func taskCreateUnitCount(params: TaskCreateParams) throws -> Int {
        locked { catalogDatasets.members.values.filter { $0.datasetID == params.datasetID && $0.id <= params.maxUnitID }.count }
    }

    public func datasetUnitIDs(datasetID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64] {
        let key = datasetID.lowercased()
        return locked {
            Array(catalogDatasets.members.values.filter { $0.datasetID == key && $0.id > after && $0.id <= maxUnitID }.map(\.id).sorted().prefix(limit))
        }
    }

    public func commitTaskCreate(_ chunk: TaskCreateChunk, failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) {
            locked {
                if let failAll {
                    return ChunkWrite(errors: chunk.unitIDs.indices.map {
                        UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll.unitMessage, action: TaskCreate.action)
                    })
                }
                // Units whose task exists, that left the dataset, or whose dataset was detached count as skipped.
                var done = 0
                if let p = access.projects[chunk.projectID], p.tenantID == chunk.tenantID, p.datasetIDs.contains(chunk.datasetID) {
                    for unit in chunk.unitIDs where catalogDatasets.members[unit]?.datasetID == chunk.datasetID {
                        if insertTask(projectID: chunk.projectID, unit: unit, workflow: p.workflow) { done += 1 }
                    }
                }
                return ChunkWrite(done: done, skipped: chunk.unitIDs.count - done)
            }
        }
    }

    // MARK: Workflow

    public func workflow(tenantID: String, projectID: String) throws -> String? {
        locked { access.projects[projectID.lowercased()].flatMap { $0.tenantID == tenantID ? $0.workflow : nil } }
    }

    public func replaceWorkflow(tenantID: String, projectID: String, graph: WorkflowGraph) throws -> Result<String, WorkflowChangeRefusal>? {
        let id = projectID.lowercased()
        return try locked {
            guard let p = access.projects[id], p.tenantID == tenantID else { return nil }
            guard case .success(let old) = WorkflowGraph.parse(text: Array(p.workflow.utf8)) else {
                throw UnreadableWorkflow(projectID: id)
            }
            let occupied = Set(ts.tasks.values.filter { $0.projectID == id }.map(\.stage))
            let issues = WorkflowEdit.check(old: old, new: graph, occupied: occupied)
            guard issues.isEmpty else { return .failure(.liveEdit(issues)) }
            let json = graph.json.compactText
            access.projects[id]?.workflow = json
            access.projects[id]?.updatedAt = MemoryJobStore.now()
            return .success(json)
        }
    }

    // MARK: Reading tasks

    private func taskJSON(_ t: MemoryTaskState.Task) -> String {
        let member = catalogDatasets.members[t.dataUnit]
        let title = member.flatMap { files[$0.fileID]?.unit.title }
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return JSONValue.object([
            ("uuid", .string(t.id)), ("createdAt", .string(t.createdAt)), ("updatedAt", .string(t.updatedAt)), ("status", .string(t.status.rawValue)),
            ("dataHash", .string(String(t.dataUnit))), ("dataTitle", str(title)), ("datasetHash", str(member?.datasetID)),
            ("fileId", str(member.map { String($0.fileID) })), ("labelBranchName", .string("main")), ("assignee", str(t.assignee)), ("lastActionedBy", str(t.lastActor)), ("stage", .string(t.stage)),
        ]).compactText
    }

    public func tasks(projectID: String, stage: String, filter: TaskFilter, after: [String]?, limit: Int) throws -> JSONPage {
        let project = projectID.lowercased(), stageKey = stage.lowercased()
        return locked {
            let emails = Set(filter.userEmails.map { $0.lowercased() }), units = Set(filter.dataHashes.compactMap { Int64($0) })
            let datasets = Set(filter.datasetHashes.map { $0.lowercased() }), statuses = Set(filter.statuses)
            let rows = ts.tasks.values.filter { t in
                guard t.projectID == project, t.stage == stageKey else { return false }
                if let after, (t.createdAt, t.id) <= (after[0], after[1].lowercased()) { return false }
                if !emails.isEmpty && !(t.assignee.map(emails.contains) ?? false) { return false }
                if !units.isEmpty && !units.contains(t.dataUnit) { return false }
                let member = catalogDatasets.members[t.dataUnit]
                if !datasets.isEmpty && !(member.map { datasets.contains($0.datasetID) } ?? false) { return false }
                if let needle = filter.dataTitleContains?.lowercased() {
                    guard let title = member.flatMap({ files[$0.fileID]?.unit.title }), title.lowercased().contains(needle) else { return false }
                }
                if !statuses.isEmpty && !statuses.contains(t.status) { return false }
                return true
            }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            let shown = rows.prefix(limit)
            let next = rows.count > limit ? shown.last.map { [$0.createdAt, $0.id].joined(separator: "\u{0}") } : nil
            return JSONPage(items: shown.map(taskJSON), nextCursor: next)
        }
    }

    public func taskHistory(projectID: String, taskUUID: String) throws -> String? {
        locked {
            guard let t = ts.tasks[taskUUID.lowercased()], t.projectID == projectID.lowercased() else { return nil }
            let events = ts.events[t.id] ?? []
            func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
            // Creation is shown, not stored: a first CREATE event at the task's creation time.
            let create = JSONValue.object([
                ("seq", .number("0")), ("at", .string(t.createdAt)), ("actor", .null), ("action", .string("CREATE")), ("fromStage", .null),
                ("toStage", .string(events.first?.fromStage ?? t.stage)), ("path", .array([])), ("status", .string("NEW")), ("assignee", .null),
                ("comment", .null),
            ])
            let rest = events.map { e in
                JSONValue.object([
                    ("seq", .number(String(e.seq))), ("at", .string(e.at)), ("actor", str(e.actor)), ("action", .string(e.action)),
                    ("fromStage", .string(e.fromStage)), ("toStage", .string(e.toStage)), ("path", .array(e.path.map(JSONValue.string))),
                    ("status", .string(e.status.rawValue)), ("assignee", str(e.assignee)), ("comment", str(e.comment)),
                ])
            }
            return JSONValue.object([
                ("taskUuid", .string(t.id)), ("dataHash", .string(String(t.dataUnit))), ("stage", .string(t.stage)),
                ("status", .string(t.status.rawValue)), ("events", .array([create] + rest)),
            ]).compactText
        }
    }

    public func stageCounts(projectID: String) throws -> [(stage: String, status: String, count: Int)] {
        let project = projectID.lowercased()
        return locked {
            let grouped = Dictionary(grouping: ts.tasks.values.filter { $0.projectID == project }, by: { [$0.stage, $0.status.rawValue] })
            return grouped.map { (stage: $0.key[0], status: $0.key[1], count: $0.value.count) }
                .sorted { ($0.stage, $0.status) < ($1.stage, $1.status) }
        }
    }

    // MARK: Writing tasks

    /// The workflow and the task as an action reads them (nil: no such project or task).
    private func load(projectID: String, taskUUID: String) -> (WorkflowGraph, MemoryTaskState.Task)? {
        guard let p = access.projects[projectID.lowercased()], case .success(let graph) = WorkflowGraph.parse(text: Array(p.workflow.utf8)),
              let t = ts.tasks[taskUUID.lowercased()], t.projectID == projectID.lowercased() else { return nil }
        return (graph, t)
    }

    /// Who submitted, approved or rejected the task at which stage (stage uuid → emails).
    private func workedBy(_ task: String) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for e in ts.events[task] ?? [] where ["SUBMIT", "APPROVE", "REJECT"].contains(e.action) {
            if let actor = e.actor { out[e.fromStage, default: []].insert(actor) }
        }
        return out
    }

    /// Writes one accepted action and its history row.
    private func write(_ t: MemoryTaskState.Task, after: TaskPosition, path: [String], action: String, actor: TaskActor, comment: String? = nil) {
        let now = MemoryJobStore.now()
        var new = t
        new.stage = after.stageUUID.lowercased(); new.status = after.status; new.assignee = after.assignee
        new.version += 1; new.lastActor = actor.email; new.updatedAt = now
        ts.tasks[t.id] = new
        let seq = (ts.events[t.id]?.last?.seq ?? 0) + 1
        ts.events[t.id, default: []].append(.init(seq: seq, at: now, actor: actor.email, action: action, fromStage: t.stage,
                                                  toStage: after.stageUUID.lowercased(), path: path.map { $0.lowercased() }, status: after.status, assignee: after.assignee,
                                                  comment: comment))
    }

    public func act(projectID: String, stage: String, requests: [TaskActionRequest], actor: TaskActor) throws -> [TaskActionResult] {
        locked {
            requests.map { request -> TaskActionResult in
                guard let (graph, t) = load(projectID: projectID, taskUUID: request.taskUUID) else {
                    return .refused(request.taskUUID, "not_found", "no task \(request.taskUUID) in this project")
                }
                let position = TaskPosition(taskUUID: t.id, stageUUID: t.stage, status: t.status, assignee: t.assignee)
                switch TaskTransitions.apply(request.action, to: position, atStage: stage, in: graph, by: actor, workedBy: workedBy(t.id)) {
                case .failure(let refusal): return .refused(request.taskUUID, refusal.code.rawValue, refusal.message)
                case .success(let move):
                    write(t, after: move.after, path: move.path, action: request.action.name, actor: actor, comment: request.comment)
                    return .accepted(request.taskUUID, status: move.after.status, stage: move.after.stageUUID)
                }
            }
        }
    }

    public func moveTasks(projectID: String, stage: String, taskUUIDs: [String], destination: String, actor: TaskActor) throws -> [TaskActionResult] {
        locked {
            taskUUIDs.map { task -> TaskActionResult in
                guard let (graph, t) = load(projectID: projectID, taskUUID: task) else {
                    return .refused(task, "not_found", "no task \(task) in this project")
                }
                guard t.stage == stage.lowercased() else {
                    return .refused(task, "moved", "the task is at stage \(graph.node(uuid: t.stage)?.title ?? t.stage), not this one")
                }
                guard let target = graph.node(uuid: destination), target.type.holdsTasks || target.type == .done else {
                    return .refused(task, "bad_destination", "destinationStageUuid must be a stage of the workflow that holds tasks (not START or a router)")
                }
                let done = target.type == .done
                let after = TaskPosition(taskUUID: t.id, stageUUID: target.uuid, status: done ? .completed : .new, assignee: nil)
                write(t, after: after, path: [target.uuid], action: "MOVE", actor: actor)
                return .accepted(task, status: after.status, stage: target.uuid)
            }
        }
    }
}
