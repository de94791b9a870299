import RegistrarCore
import RegistrarRuntime

/// Tasks on PostgreSQL (`tasks`, `task_events` of migration 8): the `task-create` kind's
/// `TaskStore` side and the task API's reads and guarded writes.
///
/// Locks (why each exists):
/// - advisory lock (dataset, 13): exclusive while a project's link to a dataset changes
///   (attach: the task-create job's snapshot; detach: its tasks removed), shared while units
///   join the dataset (the `dataset_units_make_tasks` trigger) and while a task-create chunk
///   commits. So every unit gets its task exactly once, and none outlives a detach.
/// - the project row: `FOR UPDATE` while the workflow is replaced, `FOR SHARE` while an action
///   moves a task, so no task moves into a stage a concurrent edit deletes.
extension PostgresRegistry: TaskStore {
    static let taskLockKey = 13

    static let taskJSON = """
        json_build_object('uuid', t.id, 'createdAt', \(SQLTime.iso("t.created_at")), 'updatedAt', \(SQLTime.iso("t.updated_at")),
            'status', t.status, 'dataHash', t.data_unit::text, 'dataTitle', f.title, 'datasetHash', m.dataset_id,
            'fileId', m.file_id::text, 'labelBranchName', 'main', 'assignee', t.assignee, 'lastActionedBy', t.last_actor, 'stage', t.stage)::text
        """

    // MARK: Creation

    /// Called where a project gains datasets (`createProject`, `attachDatasets`, in their
    /// transaction): one task-create job per dataset that has units, snapshotted under the
    /// dataset's exclusive task lock.
    func startTaskCreation(tenantID: String, projectID: String, datasetIDs: [String]) throws {
        for dataset in datasetIDs {
            _ = try connection.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, \(Self.taskLockKey)))", [dataset.lowercased()])
            let max = try connection.query("SELECT coalesce(max(id), 0) FROM dataset_files WHERE dataset_id = $1::uuid", [dataset])[0, 0]
                .flatMap { Int64($0) } ?? 0
            guard max > 0 else { continue }
            let params = TaskCreateParams(projectID: projectID, datasetID: dataset, maxUnitID: max)
            let job = try jobs.createJob(NewJob(kind: TaskCreate.kind, tenantID: tenantID, params: params.json))
            try jobs.recordTotal(jobID: job, units: try taskCreateUnitCount(params: params))
            createdTaskJobs.append(job)
        }
    }

    /// Removes the project's tasks of a dataset being detached (in the detach's transaction).
    func removeTasks(projectID: String, datasetID: String) throws {
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, \(Self.taskLockKey)))", [datasetID.lowercased()])
        _ = try connection.query("""
            DELETE FROM tasks t USING dataset_files m WHERE t.project_id = $1::uuid AND m.id = t.data_unit AND m.dataset_id = $2::uuid
            """, [projectID, datasetID])
    }

    public func takeCreatedTaskJobs() -> [String] {
        defer { createdTaskJobs = [] }
        return createdTaskJobs
    }

    public func taskCreateUnitCount(params: TaskCreateParams) throws -> Int {
        Int(try connection.query("SELECT count(*) FROM dataset_files WHERE dataset_id = $1::uuid AND id <= $2",
                                 [params.datasetID, String(params.maxUnitID)])[0, 0]!)!
    }

    public func datasetUnitIDs(datasetID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64] {
        let rows = try connection.query("""
            SELECT id FROM dataset_files WHERE dataset_id = $1::uuid AND id > $2 AND id <= $3 ORDER BY id LIMIT $4
            """, [datasetID, String(after), String(maxUnitID), String(limit)])
        return (0..<rows.count).map { Int64(rows[$0, 0]!)! }
    }

    public func commitTaskCreate(_ chunk: TaskCreateChunk, failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) { conn in
            if let failAll {
                return ChunkWrite(errors: chunk.unitIDs.indices.map {
                    UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll.unitMessage, action: TaskCreate.action)
                })
            }
            _ = try conn.query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1::text, \(Self.taskLockKey)))", [chunk.datasetID])
            // Units whose task exists (made when they joined) or that left the dataset, units
            // whose synced object vanished (tombstoned file), and every unit once the dataset
            // was detached, count as skipped.
            let rows = try conn.query("""
                WITH ins AS (
                    INSERT INTO tasks (project_id, data_unit, stage)
                    SELECT p.id, m.id, workflow_first_stage(p.workflow)
                    FROM unnest($3::bigint[]) AS u(id) JOIN dataset_files m ON m.id = u.id AND m.dataset_id = $2::uuid
                    JOIN files f ON f.id = m.file_id AND f.tombstoned_at IS NULL
                    JOIN projects p ON p.id = $1::uuid AND p.tenant_id = $4
                    WHERE EXISTS (SELECT 1 FROM project_datasets pd WHERE pd.project_id = $1::uuid AND pd.dataset_id = $2::uuid)
                    ORDER BY m.id
                    ON CONFLICT (project_id, data_unit) DO NOTHING RETURNING 1)
                SELECT count(*) FROM ins
                """, [chunk.projectID, chunk.datasetID, PGArray.ints(chunk.unitIDs.map { Int($0) }), chunk.tenantID])
            let done = Int(rows[0, 0]!)!
            return ChunkWrite(done: done, skipped: chunk.unitIDs.count - done)
        }
    }

    // MARK: Workflow

    public func workflow(tenantID: String, projectID: String) throws -> String? {
        guard UUIDText.isValid(projectID) else { return nil }
        let rows = try connection.query("SELECT workflow FROM projects WHERE id = $1::uuid AND tenant_id = $2", [projectID, tenantID])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func replaceWorkflow(tenantID: String, projectID: String, graph: WorkflowGraph) throws -> Result<String, WorkflowChangeRefusal>? {
        guard UUIDText.isValid(projectID) else { return nil }
        return try connection.withTransaction {
            let rows = try connection.query("SELECT workflow FROM projects WHERE id = $1::uuid AND tenant_id = $2 FOR UPDATE", [projectID, tenantID])
            guard rows.count == 1, let text = rows[0, 0] else { return nil }
            guard case .success(let old) = WorkflowGraph.parse(text: Array(text.utf8)) else {
                throw PostgresError(message: "project \(projectID) holds a workflow that does not parse")
            }
            let stages = try connection.query("SELECT DISTINCT stage FROM tasks WHERE project_id = $1::uuid", [projectID])
            let occupied = Set((0..<stages.count).compactMap { stages[$0, 0] })
            let issues = WorkflowEdit.check(old: old, new: graph, occupied: occupied)
            guard issues.isEmpty else { return .failure(.liveEdit(issues)) }
            let json = graph.json.compactText
            _ = try connection.query("UPDATE projects SET workflow = $2, updated_at = now() WHERE id = $1::uuid", [projectID, json])
            return .success(json)
        }
    }

    // MARK: Reading tasks

    public func tasks(projectID: String, stage: String, filter: TaskFilter, after: [String]?, limit: Int) throws -> JSONPage {
        // Only the predicates in use, so the keyset condition can use `tasks_by_stage` (a
        // generic "$n IS NULL OR …" would scan the stage from its start on every page).
        var params: [String?] = [projectID, stage]
        var conditions = ["t.project_id = $1::uuid", "t.stage = $2::uuid"]
        func add(_ sql: (String) -> String, _ value: String?) {
            params.append(value)
            conditions.append(sql("$\(params.count)"))
        }
        if let after {
            add({ "(t.created_at, t.id) > (\($0)::timestamptz, " }, after[0])
            add({ "\($0)::uuid)" }, after[1])
            let last = conditions.removeLast()
            conditions[conditions.count - 1] += last
        }
        if !filter.userEmails.isEmpty { add({ "t.assignee = ANY(\($0)::text[])" }, PGArray.text(filter.userEmails.map { $0.lowercased() })) }
        if !filter.dataHashes.isEmpty { add({ "t.data_unit = ANY(\($0)::bigint[])" }, PGArray.text(filter.dataHashes)) }
        if !filter.datasetHashes.isEmpty { add({ "m.dataset_id = ANY(\($0)::uuid[])" }, PGArray.text(filter.datasetHashes.map { $0.lowercased() })) }
        if let title = filter.dataTitleContains { add({ "strpos(lower(f.title), lower(\($0))) > 0" }, title) }
        if !filter.statuses.isEmpty { add({ "t.status = ANY(\($0)::text[])" }, PGArray.text(filter.statuses.map(\.rawValue))) }
        params.append(String(limit + 1))
        let rows = try connection.query("""
            SELECT t.created_at::text, t.id, \(Self.taskJSON)
            FROM tasks t JOIN dataset_files m ON m.id = t.data_unit JOIN files f ON f.id = m.file_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY t.created_at, t.id LIMIT $\(params.count)
            """, params)
        let n = min(rows.count, limit)
        let items = (0..<n).map { rows[$0, 2]! }
        let next = rows.count > limit && n > 0 ? [rows[n - 1, 0]!, rows[n - 1, 1]!].joined(separator: "\u{0}") : nil
        return JSONPage(items: items, nextCursor: next)
    }

    public func taskHistory(projectID: String, taskUUID: String) throws -> String? {
        guard UUIDText.isValid(taskUUID) else { return nil }
        let rows = try connection.query("""
            SELECT json_build_object('taskUuid', t.id, 'dataHash', t.data_unit::text, 'stage', t.stage, 'status', t.status,
                'events', json_build_array(json_build_object('seq', 0, 'at', \(SQLTime.iso("t.created_at")), 'actor', NULL, 'action', 'CREATE',
                        'fromStage', NULL, 'toStage', coalesce((SELECT e.from_stage FROM task_events e WHERE e.task_id = t.id ORDER BY e.seq LIMIT 1), t.stage),
                        'path', '[]'::json, 'status', 'NEW', 'assignee', NULL, 'comment', NULL))::jsonb
                    || coalesce((SELECT jsonb_agg(jsonb_build_object('seq', e.seq, 'at', \(SQLTime.iso("e.at")), 'actor', e.actor, 'action', e.action,
                        'fromStage', e.from_stage, 'toStage', e.to_stage, 'path', to_jsonb(e.path), 'status', e.status, 'assignee', e.assignee, 'comment', e.comment)
                        ORDER BY e.seq) FROM task_events e WHERE e.task_id = t.id), '[]'::jsonb))::text
            FROM tasks t WHERE t.id = $2::uuid AND t.project_id = $1::uuid
            """, [projectID, taskUUID])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func stageCounts(projectID: String) throws -> [(stage: String, status: String, count: Int)] {
        let rows = try connection.query("""
            SELECT stage::text, status, count(*) FROM tasks WHERE project_id = $1::uuid GROUP BY stage, status ORDER BY stage, status
            """, [projectID])
        return (0..<rows.count).map { (rows[$0, 0]!, rows[$0, 1]!, Int(rows[$0, 2]!)!) }
    }

    // MARK: Writing tasks

    /// One task as an action reads it.
    private struct TaskRow {
        var position: TaskPosition
        var version: String
    }

    /// Reads the workflow (holding edits off) and the task, in the caller's transaction.
    private func load(projectID: String, taskUUID: String) throws -> (WorkflowGraph, TaskRow)? {
        let p = try connection.query("SELECT workflow FROM projects WHERE id = $1::uuid FOR SHARE", [projectID])
        guard p.count == 1, case .success(let graph) = WorkflowGraph.parse(text: Array(p[0, 0]!.utf8)) else { return nil }
        guard UUIDText.isValid(taskUUID) else { return nil }
        let t = try connection.query("SELECT stage::text, status, assignee, version FROM tasks WHERE id = $2::uuid AND project_id = $1::uuid",
                                     [projectID, taskUUID])
        guard t.count == 1, let status = TaskStatus(rawValue: t[0, 1]!) else { return nil }
        let position = TaskPosition(taskUUID: taskUUID.lowercased(), stageUUID: t[0, 0]!, status: status, assignee: t[0, 2])
        return (graph, TaskRow(position: position, version: t[0, 3]!))
    }

    /// The guarded write of one accepted action and its history row; false when another write won.
    private func write(_ row: TaskRow, after: TaskPosition, path: [String], action: String, actor: TaskActor, upstream: Bool,
                       comment: String? = nil) throws -> Bool {
        let updated = try connection.query("""
            UPDATE tasks SET stage = $3::uuid, status = $4, assignee = $5, version = version + 1, last_actor = $6,
                upstream_actor = CASE WHEN $7::bool THEN $6 ELSE upstream_actor END, updated_at = clock_timestamp()
            WHERE id = $1::uuid AND version = $2 RETURNING 1
            """, [row.position.taskUUID, row.version, after.stageUUID, after.status.rawValue, after.assignee, actor.email, upstream ? "true" : "false"])
        guard updated.count == 1 else { return false }
        _ = try connection.query("""
            INSERT INTO task_events (task_id, seq, actor, action, from_stage, to_stage, path, status, assignee, comment)
            VALUES ($1::uuid, (SELECT coalesce(max(seq), 0) + 1 FROM task_events WHERE task_id = $1::uuid), $2, $3, $4::uuid, $5::uuid, $6::uuid[], $7, $8, $9)
            """, [row.position.taskUUID, actor.email, action, row.position.stageUUID, after.stageUUID, PGArray.text(path), after.status.rawValue, after.assignee,
                  comment])
        return true
    }

    struct LostRace: Error {}

    /// Who submitted, approved or rejected the task at which stage (stage uuid → emails), read
    /// only when the task's stage has a user assignment restriction.
    private func workedBy(_ row: TaskRow, in graph: WorkflowGraph) throws -> [String: Set<String>] {
        guard graph.node(uuid: row.position.stageUUID)?.excludeUsersFromStages.isEmpty == false else { return [:] }
        let rows = try connection.query("""
            SELECT DISTINCT from_stage::text, actor FROM task_events
            WHERE task_id = $1::uuid AND action IN ('SUBMIT', 'APPROVE', 'REJECT') AND actor IS NOT NULL
            """, [row.position.taskUUID])
        var out: [String: Set<String>] = [:]
        for i in 0..<rows.count { out[rows[i, 0]!, default: []].insert(rows[i, 1]!) }
        return out
    }

    public func act(projectID: String, stage: String, requests: [TaskActionRequest], actor: TaskActor) throws -> [TaskActionResult] {
        try requests.map { request in
            do {
                return try connection.withTransaction {
                    guard let (graph, row) = try load(projectID: projectID, taskUUID: request.taskUUID) else {
                        return .refused(request.taskUUID, "not_found", "no task \(request.taskUUID) in this project")
                    }
                    switch TaskTransitions.apply(request.action, to: row.position, atStage: stage, in: graph, by: actor,
                                                 workedBy: try workedBy(row, in: graph)) {
                    case .failure(let refusal): return .refused(request.taskUUID, refusal.code.rawValue, refusal.message)
                    case .success(let t):
                        let upstream = [TaskAction.submit, .approve].contains(request.action)
                        guard try write(row, after: t.after, path: t.path, action: request.action.name, actor: actor, upstream: upstream,
                                        comment: request.comment) else {
                            throw LostRace()
                        }
                        return .accepted(request.taskUUID, status: t.after.status, stage: t.after.stageUUID)
                    }
                }
            } catch is LostRace {
                return .refused(request.taskUUID, "conflict", "another action changed the task at the same time; read it again and retry")
            }
        }
    }

    public func moveTasks(projectID: String, stage: String, taskUUIDs: [String], destination: String, actor: TaskActor) throws -> [TaskActionResult] {
        try taskUUIDs.map { task in
            do {
                return try connection.withTransaction {
                    guard let (graph, row) = try load(projectID: projectID, taskUUID: task) else {
                        return .refused(task, "not_found", "no task \(task) in this project")
                    }
                    guard row.position.stageUUID == stage.lowercased() else {
                        return .refused(task, "moved", "the task is at stage \(graph.node(uuid: row.position.stageUUID)?.title ?? row.position.stageUUID), not this one")
                    }
                    guard let target = graph.node(uuid: destination), target.type.holdsTasks || target.type == .done else {
                        return .refused(task, "bad_destination", "destinationStageUuid must be a stage of the workflow that holds tasks (not START or a router)")
                    }
                    let done = target.type == .done
                    let after = TaskPosition(taskUUID: row.position.taskUUID, stageUUID: target.uuid, status: done ? .completed : .new, assignee: nil)
                    guard try write(row, after: after, path: [target.uuid], action: "MOVE", actor: actor, upstream: false) else { throw LostRace() }
                    return .accepted(task, status: after.status, stage: target.uuid)
                }
            } catch is LostRace {
                return .refused(task, "conflict", "another action changed the task at the same time; read it again and retry")
            }
        }
    }
}
