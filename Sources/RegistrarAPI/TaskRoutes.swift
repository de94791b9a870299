import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// The workflow and task API of a project (docs/workflows.md, "The task API"), shaped like
/// Encord's: `GET|PUT /v1/projects/{id}/workflow`, a stage's tasks, actions answered per task,
/// move-tasks, a task's history, and counts per stage.
struct TaskRoutes {
    let pool: BlockingPool
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }
    /// At most this many actions (or moved tasks) per request (Encord bundles 500).
    static let maxBatch = 500
    /// The longest comment an action may carry (characters).
    static let maxComment = 4000

    func register(on group: RouterGroup<APIContext>) {
        group.get("/projects/{id}/workflow", use: getWorkflow)
        group.put("/projects/{id}/workflow", use: putWorkflow)
        group.get("/projects/{id}/workflow/stages/{stage}/tasks", use: tasks)
        group.post("/projects/{id}/workflow/stages/{stage}/actions", use: actions)
        group.post("/projects/{id}/workflow/stages/{stage}/move-tasks", use: moveTasks)
        group.get("/projects/{id}/tasks/{taskUuid}/history", use: history)
        group.get("/projects/{id}/stages", use: stages)
    }

    /// The store's task side (PostgreSQL; a store without it answers 501).
    static func store(_ backends: any APIBackends) throws -> any TaskStore {
        guard let tasks = try backends.registry() as? any TaskStore else {
            throw APIError(.notImplemented, "not_supported", "this deployment's store keeps no tasks")
        }
        return tasks
    }

    /// Queues the task-create jobs the last project change made (attach, create with datasets).
    static func queueCreatedJobs(_ backends: any APIBackends) throws -> [String] {
        guard let tasks = try backends.registry() as? any TaskStore else { return [] }
        let jobs = tasks.takeCreatedTaskJobs()
        for job in jobs { try DatasetRoutes.queue(job, backends: backends) }
        return jobs
    }

    /// The project's graph (404 when the project is not the caller's tenant's).
    func graph(_ projectID: String, tenantID: String) async throws -> WorkflowGraph {
        let text = try await pool.run { try Self.store($0).workflow(tenantID: tenantID, projectID: projectID) }
        guard let text else { throw APIError.notFound("project", projectID) }
        guard case .success(let graph) = WorkflowGraph.parse(text: Array(text.utf8)) else {
            throw APIError(.internalServerError, "internal_error", "the project's stored workflow does not parse")
        }
        return graph
    }

    /// A stage named by uuid or title (404 `not_found` naming it, with the stages there are).
    static func stage(_ reference: String, in graph: WorkflowGraph) throws -> WorkflowNode {
        guard let node = graph.stage(reference), node.type.holdsTasks else {
            let names = graph.holdingStages.map { "\($0.title ?? $0.uuid) (\($0.uuid))" }.joined(separator: ", ")
            throw APIError(.notFound, "not_found", "stage: no stage \(reference) in this workflow; its stages are \(names)",
                           details: [("field", .string("stage")), ("id", .string(reference))])
        }
        return node
    }

    static func actor(_ caller: Principal, _ access: ProjectAccess) -> TaskActor {
        TaskActor(email: caller.userEmail, permissions: Set(access.permissions))
    }

    // MARK: Workflow

    @Sendable func getWorkflow(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "reading the workflow", context: context)
        return JSONResponse.ok(try await graph(id, tenantID: caller.tenantID).json.compactText)
    }

    @Sendable func putWorkflow(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.administer, on: id, "changing the workflow", context: context)
        let body = try await JSONBody.read(request, hint: "{\"graphNodes\": [...]}")
        let graph: WorkflowGraph
        switch WorkflowGraph.parse(body.value) {
        case .success(let g): graph = g
        case .failure(let refused):
            throw APIError(.unprocessableContent, "invalid_workflow", "\(refused.issues.count) problem(s), e.g. \(refused.issues[0])",
                           details: [("errors", .array(refused.issues.prefix(100).map(\.json)))])
        }
        let outcome = try await pool.run { try Self.store($0).replaceWorkflow(tenantID: caller.tenantID, projectID: id, graph: graph) }
        switch outcome {
        case nil: throw APIError.notFound("project", id)
        case .success(let json)?: return JSONResponse.ok(json)
        case .failure(.liveEdit(let issues))?:
            throw APIError(.conflict, issues[0].rule.rawValue, "\(issues.count) problem(s), e.g. \(issues[0])",
                           details: [("errors", .array(issues.map(\.json)))])
        }
    }

    // MARK: Tasks

    /// A list filter: repeated parameters and comma-separated values both count.
    static func list(_ request: Request, _ name: String, max: Int = 1000) throws -> [String] {
        let values = request.uri.queryParameters[values: Substring(name)].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard values.count <= max else { throw APIError.badRequest("\(name) takes at most \(max) values", field: name) }
        return values
    }

    @Sendable func tasks(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "listing tasks", context: context)
        let node = try Self.stage(try context.parameters.require("stage"), in: try await graph(id, tenantID: caller.tenantID))
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        var filter = TaskFilter()
        filter.userEmails = try Self.list(request, "userEmails")
        filter.dataHashes = try Self.list(request, "dataHashes")
        filter.datasetHashes = try Self.list(request, "datasetHashes")
        if let bad = filter.datasetHashes.first(where: { !UUIDText.isValid($0) }) {
            throw APIError.badRequest("datasetHashes: \(bad) is not a dataset id (a UUID)", field: "datasetHashes")
        }
        if let bad = filter.dataHashes.first(where: { Int64($0) == nil }) {
            throw APIError.badRequest("dataHashes: \(bad) is not a data unit id", field: "dataHashes")
        }
        filter.dataTitleContains = request.uri.queryParameters.get("dataTitleContains").flatMap { $0.isEmpty ? nil : $0 }
        filter.statuses = try Self.list(request, "statuses").map { raw in
            guard let s = TaskStatus(rawValue: raw.uppercased()) else {
                throw APIError.badRequest("statuses: \(raw) is not one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "statuses")
            }
            return s
        }
        let scope = ["tasks", caller.tenantID, id.lowercased(), node.uuid]
        let after = try PageTokens.key(request.uri.queryParameters.get("pageToken"), scope: scope, columns: 2)
        if let after, after.count != 2 || !UUIDText.isValid(after[1]) { throw APIError.badRequest("pageToken is not one this API gave", field: "pageToken") }
        let query = filter
        let page = try await pool.run { try Self.store($0).tasks(projectID: id, stage: node.uuid, filter: query, after: after, limit: limit) }
        let next = PageTokens.token(page.nextCursor.map { $0.components(separatedBy: "\u{0}") }, scope: scope)
        return JSONResponse.ok("{\"results\":[" + page.items.joined(separator: ",") + "],\"nextPageToken\":"
                               + (next.map { JSONValue.string($0).compactText } ?? "null") + "}")
    }

    /// The body of actions / move-tasks: a JSON array of objects, or `{"actions": [...]}`.
    static func actionList(_ request: Request) async throws -> [JSONValue] {
        let bytes = try await request.body.collect(upTo: 4 << 20)
        var value = JSONValue.parse(Array(buffer: bytes))
        if case .object? = value, let inner = value?["actions"] { value = inner }
        guard case .array(let items)? = value, !items.isEmpty, items.count <= maxBatch else {
            throw APIError(.unprocessableContent, "invalid_body",
                           "send a JSON array of 1 to \(maxBatch) actions, e.g. [{\"taskUuid\": \"…\", \"action\": \"ASSIGN\", \"assignee\": \"a@x.org\"}]")
        }
        return items
    }

    /// One action of the list, read; refusals name the item and field.
    static func action(_ item: JSONValue, at i: Int) throws -> TaskActionRequest {
        func field(_ name: String) -> String? { if case .string(let s)? = item[name] { return s } else { return nil } }
        func invalid(_ name: String, _ message: String) -> APIError { JSONBody.invalid("[\(i)].\(name)", message) }
        guard case .object = item else { throw JSONBody.invalid("[\(i)]", "must be an object {taskUuid, action, …}") }
        guard let task = field("taskUuid"), UUIDText.isValid(task) else { throw invalid("taskUuid", "is required (a task uuid)") }
        let action: TaskAction
        switch field("action")?.uppercased() {
        case "ASSIGN":
            guard let who = field("assignee"), let email = EmailAddress.normalized(who) else { throw invalid("assignee", "ASSIGN needs an assignee (an email)") }
            action = .assign(assignee: email)
        case "RELEASE": action = .release
        case "SKIP": action = .skip
        case "SUBMIT": action = .submit
        case "APPROVE": action = .approve
        case "REJECT": action = .reject
        case "PATHWAY_ACTION":
            guard let pathway = field("pathwayUuid") ?? field("pathwayName") else {
                throw invalid("pathwayUuid", "PATHWAY_ACTION needs pathwayUuid or pathwayName")
            }
            action = .pathway(pathway)
        default: throw invalid("action", "must be ASSIGN, RELEASE, SKIP, SUBMIT, APPROVE, REJECT or PATHWAY_ACTION")
        }
        // A comment is kept in the history with the action (a reviewer's reason on REJECT).
        var comment: String?
        if let raw = item["comment"] {
            guard case .string(let text) = raw else { throw invalid("comment", "must be a string") }
            guard text.count <= maxComment else { throw invalid("comment", "is \(text.count) characters; at most \(maxComment)") }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            comment = trimmed.isEmpty ? nil : trimmed
        }
        return TaskActionRequest(taskUUID: task.lowercased(), action: action, comment: comment)
    }

    static func answer(_ results: [TaskActionResult]) -> Response {
        let accepted = results.filter(\.ok).count
        return JSONResponse.ok(JSONValue.object([
            ("results", .array(results.map(\.json))), ("accepted", .number(String(accepted))), ("refused", .number(String(results.count - accepted))),
        ]).compactText)
    }

    @Sendable func actions(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        // Each action's permission depends on the stage and the action (TaskTransitions); the
        // caller must at least see the project.
        let (caller, access) = try await authorizer.require(.view, on: id, "acting on tasks", context: context)
        let node = try Self.stage(try context.parameters.require("stage"), in: try await graph(id, tenantID: caller.tenantID))
        let requests = try await Self.actionList(request).enumerated().map { try Self.action($1, at: $0) }
        let actor = Self.actor(caller, access)
        let tenant = caller.tenantID
        let results = try await pool.run { backends -> [TaskActionResult] in
            // `required` labels gate SUBMIT; the other requests of the batch go on.
            let refused = try RequiredLabelsCheck.refusals(store: LabelRoutes.store(backends), tenantID: tenant, projectID: id, requests: requests)
            let passing = requests.indices.filter { refused[$0] == nil }
            var acted = try Self.store(backends).act(projectID: id, stage: node.uuid, requests: passing.map { requests[$0] }, actor: actor)
                .makeIterator()
            return requests.indices.map { refused[$0] ?? acted.next()! }
        }
        return Self.answer(results)
    }

    @Sendable func moveTasks(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, access) = try await authorizer.require(.controlTasks, on: id, "moving tasks", context: context)
        let graph = try await graph(id, tenantID: caller.tenantID)
        let node = try Self.stage(try context.parameters.require("stage"), in: graph)
        let body = try await JSONBody.read(request, hint: "{\"taskUuids\": [...], \"destinationStageUuid\": \"…\"}")
        guard let tasks = try body.strings("taskUuids", max: Self.maxBatch), !tasks.isEmpty else {
            throw JSONBody.invalid("taskUuids", "is required (1 to \(Self.maxBatch) task uuids)")
        }
        if let bad = tasks.first(where: { !UUIDText.isValid($0) }) { throw JSONBody.invalid("taskUuids", "\(bad) is not a task uuid") }
        let destination = try Self.stage(try body.requiredText("destinationStageUuid", max: 200), in: graph)
        let actor = Self.actor(caller, access)
        let results = try await pool.run {
            try Self.store($0).moveTasks(projectID: id, stage: node.uuid, taskUUIDs: tasks.map { $0.lowercased() }, destination: destination.uuid, actor: actor)
        }
        return Self.answer(results)
    }

    @Sendable func history(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let task = try context.parameters.require("taskUuid")
        try await authorizer.require(.view, on: id, "reading a task's history", context: context)
        guard let json = try await pool.run({ try Self.store($0).taskHistory(projectID: id, taskUUID: task) }) else {
            throw APIError.notFound("task", task)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func stages(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "reading stage counts", context: context)
        let graph = try await graph(id, tenantID: caller.tenantID)
        let counts = try await pool.run { try Self.store($0).stageCounts(projectID: id) }
        var total = 0
        let stages: [JSONValue] = graph.holdingStages.map { node in
            let mine = counts.filter { $0.stage == node.uuid }
            let n = mine.reduce(0) { $0 + $1.count }
            total += n
            return .object([("uuid", .string(node.uuid)), ("title", node.title.map(JSONValue.string) ?? .null),
                            ("stageType", .string(node.type.rawValue)), ("taskCount", .number(String(n))),
                            ("byStatus", .object(mine.map { ($0.status, JSONValue.number(String($0.count))) }))])
        }
        return JSONResponse.ok(JSONValue.object([("projectId", .string(id.lowercased())), ("taskCount", .number(String(total))),
                                                 ("stages", .array(stages))]).compactText)
    }
}

extension BlockingPool {
    /// `access`, with the backends (for calls that also queue jobs).
    func accessBackends<T: Sendable>(_ body: @escaping @Sendable (any APIBackends) throws -> T) async throws -> T {
        do { return try await run(body) } catch let refusal as AccessRefusal { throw APIError.from(refusal) }
    }
}
