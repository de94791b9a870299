import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// `TaskStore`, checked against one implementation (the twin `MemoryRegistry`, and
/// `PostgresRegistry` on a real PostgreSQL): tasks made by the `task-create` kind's own planner
/// and the store's guarded commit, and by units joining an attached dataset; removed on
/// detach; actions, moves, history, counts and live edits with the same JSON and refusals.
public enum TaskStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest) throws {
        try tasksFollowTheProjectsDatasets(make())
        try actionsMoveTasksAndWriteHistory(make())
        try liveEditsKeepStagesThatHoldTasks(make())
        try restrictionsBarWhoWorkedTheTask(make())
    }

    static func unique(_ p: String) -> String { APIStoreConformance.unique(p) }
    static func tasks(_ s: APIStoreUnderTest) throws -> any TaskStore { try #require(s.store as? any TaskStore) }

    /// Runs task-create jobs to the end with the kind's planner (`chunk` units per chunk),
    /// committing every chunk twice (the second is a redelivery: `alreadyDone`). Returns each
    /// job's counts. Route tests on the twin use it as the worker.
    @discardableResult
    public static func runTaskJobs(_ store: any APIStore, _ jobIDs: [String], chunk: Int = 2) throws -> [UnitCounts] {
        let kind = try #require(store as? any TaskStore)
        let planner = TaskCreatePlanner(store: kind, chunkUnits: chunk)
        return try jobIDs.map { id in
            let job = try #require(try store.jobStore.job(id))
            #expect(job.kind == TaskCreate.kind)
            guard case .accepted(let units) = try planner.prepare(job) else { Issue.record("task-create job \(id) refused"); return UnitCounts() }
            try store.jobStore.recordTotal(jobID: id, units: units)
            var chunks: [TaskCreateChunk] = []
            try planner.plan(job) { planned in chunks.append(try #require(TaskCreateChunk.decode(planned.encode()))) }
            try store.jobStore.recordChunks(jobID: id, chunks: chunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: $0.unitIDs.count) })
            for c in chunks {
                let first = try kind.commitTaskCreate(c, failAll: nil)
                guard case .committed(let counts) = first else { Issue.record("first commit: \(first)"); continue }
                #expect(try kind.commitTaskCreate(c, failAll: nil) == .alreadyDone(counts))
            }
            try store.jobStore.finishSplit(jobID: id, totalChunks: chunks.count)
            _ = try store.jobStore.finishJobIfComplete(jobID: id)
            return try store.jobStore.jobCounts(jobID: id).counts
        }
    }

    /// The standard graph with fresh uuids: (JSON text, start, annotate, review, complete).
    public static func standardGraph() -> (json: String, start: String, annotate: String, review: String, complete: String) {
        let g = WorkflowGraph.standard { UUID().uuidString.lowercased() }
        let ids = g.nodes.map(\.uuid)
        return (g.json.compactText, ids[0], ids[1], ids[2], ids[3])
    }

    /// A dataset of `n` units (registered files attached through the attach kind); returns its id.
    public static func dataset(_ s: APIStoreUnderTest, tenant: String, n: Int) throws -> String {
        guard case .created(let json, nil) = try s.store.createDataset(tenantID: tenant, title: unique("d"), description: nil,
                                                                       mirroredFolderID: nil, createdBy: nil) else {
            Issue.record("dataset not created"); return ""
        }
        let id = try #require(JSONCompare.string(json, "id"))
        try grow(s, tenant: tenant, dataset: id, n: n)
        return id
    }

    /// Adds `n` new files to a dataset (an attach job of a new folder).
    static func grow(_ s: APIStoreUnderTest, tenant: String, dataset: String, n: Int) throws {
        let (folder, _) = try DatasetStoreConformance.folderWithFiles(s, tenant: tenant, name: unique("f"), n: n)
        guard case .attachJob(let job) = try s.store.createAttachJob(tenantID: tenant, datasetID: dataset, folderIDs: [folder], fileIDs: [],
                                                                     duplicates: .skip) else { Issue.record("no attach job"); return }
        _ = try DatasetStoreConformance.run(s, job: job)
    }

    static func project(_ s: APIStoreUnderTest, tenant: String, workflow: String, datasets: [String]) throws -> String {
        try #require(JSONCompare.string(try s.store.createProject(NewProject(
            tenantID: tenant, title: unique("p"), description: nil, tags: [], ontologyID: nil, datasetIDs: datasets,
            workflow: workflow, createdBy: nil)), "id"))
    }

    /// Every task of a stage, paged `limit` at a time through the store's cursor.
    static func all(_ t: any TaskStore, project: String, stage: String, filter: TaskFilter = TaskFilter(), limit: Int = 1000) throws -> [String] {
        var out: [String] = []
        var after: [String]?
        repeat {
            let page = try t.tasks(projectID: project, stage: stage, filter: filter, after: after, limit: limit)
            out += page.items
            after = page.nextCursor?.components(separatedBy: "\u{0}")
        } while after != nil
        return out
    }

    static func counts(_ t: any TaskStore, _ project: String) throws -> [String] {
        try t.stageCounts(projectID: project).map { "\($0.stage) \($0.status) \($0.count)" }
    }

    static func tasksFollowTheProjectsDatasets(_ s: APIStoreUnderTest) throws {
        let t = try tasks(s)
        let tenant = try s.makeTenant(unique("t"))
        let d = try dataset(s, tenant: tenant, n: 5), empty = try dataset(s, tenant: tenant, n: 0)
        _ = t.takeCreatedTaskJobs()
        let g = standardGraph()
        let p = try project(s, tenant: tenant, workflow: g.json, datasets: [d, empty, d])
        // One job per dataset that has units, its total counted when it is created.
        let jobs = t.takeCreatedTaskJobs()
        #expect(jobs.count == 1)
        #expect(t.takeCreatedTaskJobs().isEmpty, "taken jobs are forgotten")
        #expect(try s.store.jobStore.job(jobs[0])?.totalUnits == 5)
        #expect(try all(t, project: p, stage: g.annotate).isEmpty, "tasks are made by the job, not by the attach")
        let done = try runTaskJobs(s.store, jobs)
        #expect(done.map(\.done) == [5])
        #expect(try counts(t, p) == ["\(g.annotate) NEW 5"])

        // Pages of 2, oldest first, each task once, in the contract's shape.
        let items = try all(t, project: p, stage: g.annotate, limit: 2)
        #expect(items.count == 5)
        #expect(Set(items.compactMap { JSONCompare.string($0, "uuid") }).count == 5)
        let first = items[0]
        let unit = try #require(JSONCompare.string(first, "dataHash"))
        try JSONCompare.expect(first, [
            ("uuid", .string(try #require(JSONCompare.string(first, "uuid")))), ("createdAt", JSONCompare.anyTime), ("updatedAt", JSONCompare.anyTime),
            ("status", .string("NEW")), ("dataHash", .string(unit)), ("dataTitle", .string(try #require(JSONCompare.string(first, "dataTitle")))),
            ("datasetHash", .string(d)), ("fileId", .string(try #require(JSONCompare.string(first, "fileId")))), ("labelBranchName", .string("main")), ("assignee", .null), ("lastActionedBy", .null),
            ("stage", .string(g.annotate)),
        ])
        var byUnit = TaskFilter()
        byUnit.dataHashes = [unit]
        #expect(try all(t, project: p, stage: g.annotate, filter: byUnit) == [first])
        var byStatus = TaskFilter()
        byStatus.statuses = [.assigned]
        #expect(try all(t, project: p, stage: g.annotate, filter: byStatus).isEmpty)
        #expect(try all(t, project: p, stage: g.review).isEmpty)

        // Units joining an attached dataset get their tasks at once; attaching it again makes no job.
        try grow(s, tenant: tenant, dataset: d, n: 2)
        #expect(try counts(t, p) == ["\(g.annotate) NEW 7"])
        #expect(try s.store.attachDatasets(tenantID: tenant, projectID: p, datasetIDs: [d]) != nil)
        #expect(t.takeCreatedTaskJobs().isEmpty)

        // A second project attaching the dataset later: its own job, its own tasks.
        let g2 = standardGraph()
        let q = try project(s, tenant: tenant, workflow: g2.json, datasets: [])
        _ = try s.store.attachDatasets(tenantID: tenant, projectID: q, datasetIDs: [d])
        let qJobs = t.takeCreatedTaskJobs()
        #expect(try runTaskJobs(s.store, qJobs, chunk: 3).map(\.done) == [7])
        #expect(try counts(t, q) == ["\(g2.annotate) NEW 7"])

        // Detach removes the project's tasks of that dataset, and only those.
        #expect(try s.store.detachDataset(tenantID: tenant, projectID: p, datasetID: d) == true)
        #expect(try counts(t, p).isEmpty)
        #expect(try counts(t, q) == ["\(g2.annotate) NEW 7"])
        // A task-create job that runs after its dataset was detached makes no task (all skipped).
        let g3 = standardGraph()
        let r = try project(s, tenant: tenant, workflow: g3.json, datasets: [d])
        let rJobs = t.takeCreatedTaskJobs()
        #expect(try s.store.detachDataset(tenantID: tenant, projectID: r, datasetID: d) == true)
        #expect(try runTaskJobs(s.store, rJobs) == [UnitCounts(done: 0, skipped: 7)])
        #expect(try counts(t, r).isEmpty)

        // Deleting the project removes its tasks.
        let one = try #require(JSONCompare.string(try all(t, project: q, stage: g2.annotate)[0], "uuid"))
        #expect(try s.store.deleteProject(tenantID: tenant, id: q))
        #expect(try t.taskHistory(projectID: q, taskUUID: one) == nil)
        #expect(try counts(t, q).isEmpty)
    }

    static func actionsMoveTasksAndWriteHistory(_ s: APIStoreUnderTest) throws {
        let t = try tasks(s)
        let tenant = try s.makeTenant(unique("t"))
        let d = try dataset(s, tenant: tenant, n: 3)
        let g = standardGraph()
        let p = try project(s, tenant: tenant, workflow: g.json, datasets: [d])
        try runTaskJobs(s.store, t.takeCreatedTaskJobs())
        let ids = try all(t, project: p, stage: g.annotate).compactMap { JSONCompare.string($0, "uuid") }
        #expect(ids.count == 3)
        let ann = TaskActor(email: "Ann@x.io", permissions: [.view, .annotate])
        let bob = TaskActor(email: "bob@x.io", permissions: [.view, .annotate])
        let rev = TaskActor(email: "rev@x.io", permissions: [.view, .review])
        let admin = TaskActor(email: "admin@x.io", permissions: Set(ProjectPermission.allCases))
        func act(_ task: String, _ action: TaskAction, at stage: String, by actor: TaskActor) throws -> TaskActionResult {
            try t.act(projectID: p, stage: stage, requests: [TaskActionRequest(taskUUID: task, action: action)], actor: actor)[0]
        }
        let task = ids[0]
        #expect(try act(task, .assign(assignee: "ann@x.io"), at: g.annotate, by: ann) == .accepted(task, status: .assigned, stage: g.annotate))
        #expect(try act(task, .assign(assignee: "bob@x.io"), at: g.annotate, by: bob).errorCode == "assigned_to_other")
        #expect(try act(task, .approve, at: g.annotate, by: rev).errorCode == "wrong_stage")
        #expect(try act(task, .submit, at: g.annotate, by: ann) == .accepted(task, status: .new, stage: g.review))
        #expect(try act(task, .submit, at: g.annotate, by: ann).errorCode == "moved")
        #expect(try act(task, .reject, at: g.review, by: ann).errorCode == "forbidden")
        // A reviewer's reason travels with the REJECT into the history (the label editor shows it).
        #expect(try t.act(projectID: p, stage: g.review, requests: [TaskActionRequest(taskUUID: task, action: .reject, comment: "the car's box is too loose")],
                          actor: rev)[0] == .accepted(task, status: .reopened, stage: g.annotate))
        #expect(try act(task, .submit, at: g.annotate, by: ann) == .accepted(task, status: .new, stage: g.review))
        #expect(try act(task, .approve, at: g.review, by: rev) == .accepted(task, status: .completed, stage: g.complete))
        #expect(try act(UUID().uuidString.lowercased(), .submit, at: g.annotate, by: ann).errorCode == "not_found")
        // Answered per task, in order, in one call.
        let batch = try t.act(projectID: p, stage: g.annotate, requests: [
            TaskActionRequest(taskUUID: ids[1], action: .skip), TaskActionRequest(taskUUID: ids[1], action: .release),
        ], actor: bob)
        #expect(batch.map(\.ok) == [true, false])
        #expect(batch[1].errorCode == "invalid_state")

        let history = try #require(try t.taskHistory(projectID: p, taskUUID: task))
        #expect(JSONCompare.string(history, "status") == "COMPLETED")
        #expect(JSONCompare.string(history, "stage") == g.complete)
        guard case .array(let events)? = JSONValue.parse(Array(history.utf8))?["events"] else { Issue.record("no events"); return }
        func field(_ e: JSONValue, _ k: String) -> String? { if case .string(let v)? = e[k] { return v } else { return nil } }
        #expect(events.map { field($0, "action") } == ["CREATE", "ASSIGN", "SUBMIT", "REJECT", "SUBMIT", "APPROVE"])
        #expect(events.map { field($0, "actor") } == [nil, "ann@x.io", "ann@x.io", "rev@x.io", "ann@x.io", "rev@x.io"])
        #expect(events.map { field($0, "toStage") } == [g.annotate, g.annotate, g.review, g.annotate, g.review, g.complete])
        #expect(events.map { field($0, "fromStage") } == [nil, g.annotate, g.annotate, g.review, g.annotate, g.review])
        try JSONCompare.expect(events[2].compactText, [
            ("seq", .number("2")), ("at", JSONCompare.anyTime), ("actor", .string("ann@x.io")), ("action", .string("SUBMIT")),
            ("fromStage", .string(g.annotate)), ("toStage", .string(g.review)), ("path", .array([.string(g.review)])),
            ("status", .string("NEW")), ("assignee", .null), ("comment", .null),
        ])
        #expect(events.map { field($0, "comment") } == [nil, nil, nil, "the car's box is too loose", nil, nil])
        #expect(try t.taskHistory(projectID: p, taskUUID: "nope") == nil)

        // Moves: to any stage that holds tasks (Complete: COMPLETED), never to START.
        let moved = try t.moveTasks(projectID: p, stage: g.annotate, taskUUIDs: [ids[2], ids[2], task], destination: g.complete, actor: admin)
        #expect(moved[0] == .accepted(ids[2], status: .completed, stage: g.complete))
        #expect(moved[1].errorCode == "moved")
        #expect(moved[2].errorCode == "moved")
        #expect(try t.moveTasks(projectID: p, stage: g.annotate, taskUUIDs: [ids[1]], destination: g.start, actor: admin)[0].errorCode == "bad_destination")
        #expect(try counts(t, p).sorted() == ["\(g.annotate) SKIPPED 1", "\(g.complete) COMPLETED 2"].sorted())
        let movedHistory = try #require(try t.taskHistory(projectID: p, taskUUID: ids[2]))
        guard case .array(let hops)? = JSONValue.parse(Array(movedHistory.utf8))?["events"] else { Issue.record("no events"); return }
        #expect(hops.map { field($0, "action") } == ["CREATE", "MOVE"])
        #expect(field(hops[1], "actor") == "admin@x.io")
    }

    static func liveEditsKeepStagesThatHoldTasks(_ s: APIStoreUnderTest) throws {
        let t = try tasks(s)
        let tenant = try s.makeTenant(unique("t")), other = try s.makeTenant(unique("o"))
        let d = try dataset(s, tenant: tenant, n: 2)
        let g = standardGraph()
        let p = try project(s, tenant: tenant, workflow: g.json, datasets: [d])
        try runTaskJobs(s.store, t.takeCreatedTaskJobs())
        #expect(try t.workflow(tenantID: other, projectID: p) == nil)
        #expect(try t.workflow(tenantID: tenant, projectID: "nope") == nil)
        let stored = try #require(try t.workflow(tenantID: tenant, projectID: p))
        #expect(JSONValue.parse(Array(stored.utf8)) == JSONValue.parse(Array(g.json.utf8)))
        func graph(_ text: String) throws -> WorkflowGraph { try WorkflowGraph.parse(text: Array(text.utf8)).get() }
        func nodes(annotate: String, annotateTitle: String = "Annotate", reviewType: String = "REVIEW") -> String {
            let review = reviewType == "REVIEW"
                ? #"{"uuid":"\#(g.review)","nodeType":"REVIEW","title":"Review","toNode":"\#(g.complete)","rejectedToNode":"\#(annotate)"}"#
                : #"{"uuid":"\#(g.review)","nodeType":"ANNOTATION","title":"Review","toNode":"\#(g.complete)"}"#
            return #"{"graphNodes":[{"uuid":"\#(g.start)","nodeType":"START","toNode":"\#(annotate)"},"#
                + #"{"uuid":"\#(annotate)","nodeType":"ANNOTATION","title":"\#(annotateTitle)","toNode":"\#(g.review)"},"#
                + review + #",{"uuid":"\#(g.complete)","nodeType":"DONE","title":"Complete","nodeSubtype":"COMPLETED"}]}"#
        }
        // Deleting the stage holding the tasks: refused, naming it.
        let fresh = UUID().uuidString.lowercased()
        guard case .failure(.liveEdit(let issues))? = try t.replaceWorkflow(tenantID: tenant, projectID: p, graph: try graph(nodes(annotate: fresh))) else {
            Issue.record("deleting an occupied stage was accepted"); return
        }
        #expect(issues.map(\.rule) == [.stageInUse])
        #expect(issues.first?.nodeUUID == g.annotate)
        // Changing a stage's type: refused even when it holds nothing.
        guard case .failure(.liveEdit(let typed))? = try t.replaceWorkflow(tenantID: tenant, projectID: p,
                                                                             graph: try graph(nodes(annotate: g.annotate, reviewType: "ANNOTATION"))) else {
            Issue.record("a type change was accepted"); return
        }
        #expect(typed.map(\.rule) == [.typeChanged])
        // Renaming: accepted, stored, and the tasks stay where they are.
        guard case .success(let json)? = try t.replaceWorkflow(tenantID: tenant, projectID: p, graph: try graph(nodes(annotate: g.annotate, annotateTitle: "Label"))) else {
            Issue.record("a rename was refused"); return
        }
        #expect(try t.workflow(tenantID: tenant, projectID: p) == json)
        #expect(try counts(t, p) == ["\(g.annotate) NEW 2"])
        #expect(try t.replaceWorkflow(tenantID: other, projectID: p, graph: try graph(g.json)) == nil)
        // Once the tasks have left the stage it may go.
        let ids = try all(t, project: p, stage: g.annotate).compactMap { JSONCompare.string($0, "uuid") }
        let admin = TaskActor(email: nil, permissions: Set(ProjectPermission.allCases))
        #expect(try t.moveTasks(projectID: p, stage: g.annotate, taskUUIDs: ids, destination: g.review, actor: admin).allSatisfy(\.ok))
        guard case .success? = try t.replaceWorkflow(tenantID: tenant, projectID: p, graph: try graph(nodes(annotate: fresh))) else {
            Issue.record("deleting an empty stage was refused"); return
        }
        #expect(try counts(t, p) == ["\(g.review) NEW 2"])
    }

    /// The Review stage's user assignment restriction, fed from the store's history: who
    /// submitted the task at Annotate may not claim or approve it at Review.
    static func restrictionsBarWhoWorkedTheTask(_ s: APIStoreUnderTest) throws {
        let t = try tasks(s)
        let tenant = try s.makeTenant(unique("t"))
        let d = try dataset(s, tenant: tenant, n: 1)
        let g = standardGraph()
        let restricted = g.json.replacingOccurrences(of: #""rejectedToNode":"\#(g.annotate)""#,
                                                     with: #""rejectedToNode":"\#(g.annotate)","restrictions":{"excludeUsersFromStages":["\#(g.annotate)"]}"#)
        #expect(restricted != g.json)
        let p = try project(s, tenant: tenant, workflow: restricted, datasets: [d])
        try runTaskJobs(s.store, t.takeCreatedTaskJobs())
        let first = try #require(try all(t, project: p, stage: g.annotate).first)
        let task = try #require(JSONCompare.string(first, "uuid"))
        let both = TaskActor(email: "both@x.io", permissions: [.view, .annotate, .review])
        let other = TaskActor(email: "other@x.io", permissions: [.view, .review])
        func act(_ action: TaskAction, at stage: String, by actor: TaskActor) throws -> TaskActionResult {
            try t.act(projectID: p, stage: stage, requests: [TaskActionRequest(taskUUID: task, action: action)], actor: actor)[0]
        }
        #expect(try act(.submit, at: g.annotate, by: both).ok)
        #expect(try act(.assign(assignee: "both@x.io"), at: g.review, by: both).errorCode == "restricted")
        #expect(try act(.approve, at: g.review, by: both).errorCode == "restricted")
        #expect(try act(.reject, at: g.review, by: other) == .accepted(task, status: .reopened, stage: g.annotate))
        // Re-annotated by someone else, the first annotator still may not review it.
        #expect(try act(.submit, at: g.annotate, by: TaskActor(email: "third@x.io", permissions: [.view, .annotate])).ok)
        #expect(try act(.approve, at: g.review, by: both).errorCode == "restricted")
        #expect(try act(.approve, at: g.review, by: other) == .accepted(task, status: .completed, stage: g.complete))
    }
}
