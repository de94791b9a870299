import Foundation
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Tasks and the task API on the real servers with real `registrar` processes
/// (docs/workflows.md, "Tasks" and "The task API"): task creation exact through a worker
/// SIGKILL, growth and detach; annotate → review (rejections) → complete with every hop in the
/// history; live workflow edits; 20 parallel clients claiming and submitting over 5,000 tasks.
@Suite(.serialized) struct TaskLiveTests {
    static let json = ["Content-Type": "application/json"]

    /// A harness with the task kinds' queues emptied (they outlive tests), an API and a tenant key.
    func setUp() throws -> (PipelineHarness, APIHarness, String) {
        let h = try PipelineHarness()
        let setup = try AMQPWorkQueue(url: h.env.amqp, role: .worker(kinds: [DatasetAttach.queues, TaskCreate.queues]))
        setup.close()
        let amqp = try AMQPConnection(url: h.env.amqp)
        for q in [DatasetAttach.queues.work, DatasetAttach.queues.dead, TaskCreate.queues.work, TaskCreate.queues.dead] { _ = try amqp.purgeQueue(q) }
        amqp.close()
        let api = try APIHarness(h)
        return (h, api, try api.tenantKey("acme"))
    }

    func post(_ api: APIHarness, _ path: String, key: String, _ body: String, expect: Int) throws -> [String: Any] {
        try api.json("POST", path, key: key, body: Data(body.utf8), headers: Self.json, expect: expect)
    }

    /// `n` file rows in a new folder, written with SQL inside a (finished) registration job row.
    func folderWithFiles(_ h: PipelineHarness, _ api: APIHarness, key: String, name: String, n: Int) throws -> String {
        let folder = try post(api, "/v1/folders", key: key, #"{"name": "\#(name)"}"#, expect: 201).string("id")
        let job = try h.scalar("""
            INSERT INTO jobs (tenant_id, folder_id, format, manifest_bytes, ignore_errors, status, phase, split_done, total_units, kind)
            SELECT tenant_id, id, 'json', 0, false, 'DONE', 'finished', true, $2, 'registration' FROM folders WHERE id = $1::uuid RETURNING id
            """, [folder, String(n)])!
        _ = try h.db.query("""
            INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash)
            SELECT f.tenant_id, f.id, $2::uuid, g, 'image', 'f' || g, 'https://example.com/' || $2::text || '/' || g || '.jpg',
                   ARRAY['https://example.com/' || $2::text || '/' || g || '.jpg'], $2::text || '/' || g, sha256(convert_to($2::text || '/' || g, 'UTF8'))
            FROM folders f, generate_series(0, $3::int - 1) g WHERE f.id = $1::uuid
            """, [folder, job, String(n)])
        return folder
    }

    /// Data units straight into a dataset with SQL (as a commit of an attach job writes them).
    func addUnits(_ h: PipelineHarness, dataset: String, folder: String) throws {
        _ = try h.db.query("INSERT INTO dataset_files (dataset_id, file_id) SELECT $1::uuid, id FROM files WHERE folder_id = $2::uuid ORDER BY id",
                           [dataset, folder])
    }

    /// Polls `GET /v1/jobs/{id}` until the job ends.
    func follow(_ api: APIHarness, _ id: String, key: String, timeout: Double = 300) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let j = try api.json("GET", "/v1/jobs/\(id)", key: key, expect: 200)
            if j.string("status") != "PENDING" { return j }
            usleep(200_000)
        }
        throw HarnessError("job \(id) did not finish")
    }

    /// A workspace user with a key of its own (`users add`, `keys create --user`), made a collaborator.
    func collaborator(_ h: PipelineHarness, _ api: APIHarness, key: String, project: String, email: String, role: String) throws -> String {
        let add = try h.run(["users", "add", "--tenant", "acme", "--email", email, "--json"])
        guard add.status == 0 else { throw HarnessError("users add: \(add.stderr)") }
        let made = try h.run(["keys", "create", "--user", email, "--tenant", "acme"])
        guard made.status == 0 else { throw HarnessError("keys create --user: \(made.stderr)") }
        _ = try post(api, "/v1/projects/\(project)/members", key: key, #"{"email": "\#(email)", "role": "\#(role)"}"#, expect: 201)
        return made.lastLine
    }

    /// Every task of a stage, through the paged list (page size 100).
    func allTasks(_ api: APIHarness, key: String, project: String, stage: String, query: String = "") throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        var token: String?
        repeat {
            var path = "/v1/projects/\(project)/workflow/stages/\(stage)/tasks?limit=100\(query)"
            if let token { path += "&pageToken=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            let page = try api.json("GET", path, key: key, expect: 200)
            out += page["results"] as? [[String: Any]] ?? []
            token = page["nextPageToken"] as? String
        } while token != nil
        return out
    }

    /// Sends actions; the per-task answers.
    func act(_ api: APIHarness, key: String, project: String, stage: String, _ actions: [[String: String]]) throws -> [[String: Any]] {
        let body = try JSONSerialization.data(withJSONObject: actions)
        let r = try api.json("POST", "/v1/projects/\(project)/workflow/stages/\(stage)/actions", key: key, body: body, headers: Self.json, expect: 200)
        return r["results"] as? [[String: Any]] ?? []
    }

    func stageIDs(_ api: APIHarness, key: String, project: String) throws -> [String: String] {
        let wf = try api.json("GET", "/v1/projects/\(project)/workflow", key: key, expect: 200)
        var out: [String: String] = [:]
        for node in wf["graphNodes"] as? [[String: Any]] ?? [] { out[node.string("title").isEmpty ? "START" : node.string("title")] = node.string("uuid") }
        return out
    }

    @Test func taskCreationIsExactThroughAWorkerKillGrowsWithTheDatasetAndEndsOnDetach() throws {
        let (h, api, key) = try setUp()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: 12_000)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        try addUnits(h, dataset: ds, folder: folder)
        try h.startCoordinator()
        // A slow worker dies by SIGKILL with chunks in hand (5,000 units per chunk: three chunks).
        try h.startWorker("w1", extraArgs: ["--kinds", "task-create"], extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "1500", "REGISTRAR_WORKER_SLOTS": "1"])
        let project = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201)
        let pid = project.string("id")
        let jobs = try #require(project["taskJobIds"] as? [String])
        #expect(jobs.count == 1)
        let started = try api.json("GET", "/v1/jobs/\(jobs[0])", key: key, expect: 200)
        #expect(started.string("kind") == "task-create" && started.int("total") == 12_000)
        let deadline = Date().addingTimeInterval(120)
        while try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [jobs[0]]) < 1 && Date() < deadline { usleep(100_000) }
        h.kill9("w1")
        let afterKill = try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid])
        #expect(afterKill >= 5_000 && afterKill < 12_000, "the kill came mid-job: \(afterKill) tasks")
        try h.startWorker("w2", extraArgs: ["--kinds", "task-create"])
        let final = try follow(api, jobs[0], key: key)
        #expect(final.string("status") == "DONE" && final.int("done") == 12_000 && final.int("errors") == 0 && final.int("skipped") == 0)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == 12_000)
        #expect(try h.count("SELECT count(DISTINCT data_unit) FROM tasks WHERE project_id = $1", [pid]) == 12_000)
        let stages = try stageIDs(api, key: key, project: pid)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid AND status = 'NEW'", [pid, stages["Annotate"]!]) == 12_000)

        // The dataset grows: the new units' tasks are made in the same transaction.
        let more = try folderWithFiles(h, api, key: key, name: "more", n: 500)
        try addUnits(h, dataset: ds, folder: more)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == 12_500)
        let counts = try api.json("GET", "/v1/projects/\(pid)/stages", key: key, expect: 200)
        #expect(counts.int("taskCount") == 12_500)
        let annotate = (counts["stages"] as? [[String: Any]])?.first { $0.string("title") == "Annotate" }
        #expect(annotate?.int("taskCount") == 12_500 && (annotate?["byStatus"] as? [String: Any])?["NEW"] as? Int == 12_500)

        // A second project attached later gets its own job; detaching removes only its tasks.
        let p2 = try post(api, "/v1/projects", key: key, #"{"title": "P2"}"#, expect: 201).string("id")
        let attached = try post(api, "/v1/projects/\(p2)/datasets", key: key, #"{"datasetIds": ["\#(ds)"]}"#, expect: 200)
        let job2 = try #require((attached["taskJobIds"] as? [String])?.first)
        #expect(try follow(api, job2, key: key).int("done") == 12_500)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [p2]) == 12_500)
        #expect(try api.call("DELETE", "/v1/projects/\(p2)/datasets/\(ds)", key: key).status == 204)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [p2]) == 0)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == 12_500)
    }

    @Test func annotateReviewCompleteWithRejectionsAndEveryHopInTheHistory() throws {
        let (h, api, key) = try setUp()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: 300)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let pid = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201).string("id")
        try addUnits(h, dataset: ds, folder: folder)   // tasks made as the units join
        let annotator = try collaborator(h, api, key: key, project: pid, email: "ann@x.io", role: "ANNOTATOR")
        let reviewer = try collaborator(h, api, key: key, project: pid, email: "rev@x.io", role: "REVIEWER")
        let s = try stageIDs(api, key: key, project: pid)
        let (annotate, review, complete) = (s["Annotate"]!, s["Review"]!, s["Complete"]!)

        // Stages by title work as by uuid; filters narrow.
        #expect(try allTasks(api, key: key, project: pid, stage: "Annotate").count == 300)
        #expect(try allTasks(api, key: key, project: pid, stage: annotate, query: "&dataTitleContains=F29").count == 11)   // f29, f290…f299
        #expect(try allTasks(api, key: key, project: pid, stage: annotate, query: "&statuses=ASSIGNED").isEmpty)

        // Role checks: a reviewer cannot submit, an annotator cannot approve.
        let first = try allTasks(api, key: key, project: pid, stage: annotate)[0].string("uuid")
        let refused = try act(api, key: reviewer, project: pid, stage: annotate, [["taskUuid": first, "action": "SUBMIT"]])
        #expect(refused.first?["ok"] as? Bool == false && (refused.first?["error"] as? [String: Any])?.string("code") == "forbidden")

        var rejected: Set<String> = []
        var round = 0
        while round < 5 {
            round += 1
            let todo = try allTasks(api, key: key, project: pid, stage: annotate).map { $0.string("uuid") }
            for batch in stride(from: 0, to: todo.count, by: 100).map({ Array(todo[$0..<min($0 + 100, todo.count)]) }) {
                let a = try act(api, key: annotator, project: pid, stage: annotate, batch.map { ["taskUuid": $0, "action": "ASSIGN", "assignee": "ann@x.io"] })
                #expect(a.allSatisfy { $0["ok"] as? Bool == true })
                let sub = try act(api, key: annotator, project: pid, stage: "Annotate", batch.map { ["taskUuid": $0, "action": "SUBMIT"] })
                #expect(sub.allSatisfy { $0["ok"] as? Bool == true && $0.string("stage") == review })
            }
            let inReview = try allTasks(api, key: key, project: pid, stage: review).map { $0.string("uuid") }
            if inReview.isEmpty { break }
            // Reject every tenth task the first time it comes by; approve the rest.
            let rejectNow = round == 1 ? Set(inReview.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)) : []
            rejected.formUnion(rejectNow)
            let actions = inReview.map { ["taskUuid": $0, "action": rejectNow.contains($0) ? "REJECT" : "APPROVE"] }
            for batch in stride(from: 0, to: actions.count, by: 100).map({ Array(actions[$0..<min($0 + 100, actions.count)]) }) {
                let r = try act(api, key: reviewer, project: pid, stage: review, batch)
                #expect(r.allSatisfy { $0["ok"] as? Bool == true })
            }
        }
        #expect(rejected.count == 30)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid AND status = 'COMPLETED'", [pid, complete]) == 300)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == 300)
        // Each task entered Complete exactly once.
        #expect(try h.count("""
            SELECT count(*) FROM (SELECT task_id FROM task_events WHERE to_stage = $1::uuid GROUP BY task_id HAVING count(*) = 1) x
            """, [complete]) == 300)
        // Histories: every hop, in order.
        let plain = try #require(try allTasks(api, key: key, project: pid, stage: complete).first { !rejected.contains($0.string("uuid")) })
        let hist = try api.json("GET", "/v1/projects/\(pid)/tasks/\(plain.string("uuid"))/history", key: key, expect: 200)
        let hops = (hist["events"] as? [[String: Any]] ?? []).map { "\($0.string("action")):\($0.string("toStage"))" }
        #expect(hops == ["CREATE:\(annotate)", "ASSIGN:\(annotate)", "SUBMIT:\(review)", "APPROVE:\(complete)"])
        let back = try api.json("GET", "/v1/projects/\(pid)/tasks/\(rejected.first!)/history", key: key, expect: 200)
        let backHops = (back["events"] as? [[String: Any]] ?? []).map { "\($0.string("action")):\($0.string("toStage"))" }
        #expect(backHops == ["CREATE:\(annotate)", "ASSIGN:\(annotate)", "SUBMIT:\(review)", "REJECT:\(annotate)",
                             "ASSIGN:\(annotate)", "SUBMIT:\(review)", "APPROVE:\(complete)"])
        #expect((back["events"] as? [[String: Any]])?[3].string("status") == "REOPENED")
        #expect((back["events"] as? [[String: Any]])?[3].string("actor") == "rev@x.io")
    }

    @Test func liveWorkflowEditsAndMoveTasks() throws {
        let (h, api, key) = try setUp()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: 10)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let pid = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201).string("id")
        try addUnits(h, dataset: ds, folder: folder)
        let wf = try api.json("GET", "/v1/projects/\(pid)/workflow", key: key, expect: 200)
        var nodes = try #require(wf["graphNodes"] as? [[String: Any]])
        func put(_ nodes: [[String: Any]], expect: Int) throws -> [String: Any] {
            try api.json("PUT", "/v1/projects/\(pid)/workflow", key: key, body: try JSONSerialization.data(withJSONObject: ["graphNodes": nodes]),
                         headers: Self.json, expect: expect)
        }
        let annotateIndex = nodes.firstIndex { $0.string("nodeType") == "ANNOTATION" }!
        let reviewIndex = nodes.firstIndex { $0.string("nodeType") == "REVIEW" }!
        // Renaming is a live edit; changing a stage's type is not.
        nodes[annotateIndex]["title"] = "Label"
        #expect(try put(nodes, expect: 200)["graphNodes"] != nil)
        #expect(try stageIDs(api, key: key, project: pid)["Label"] != nil)
        var retyped = nodes
        retyped[annotateIndex]["nodeType"] = "AGENT"
        retyped[annotateIndex]["pathways"] = [["uuid": UUID().uuidString.lowercased(), "name": "go", "targetNode": nodes[reviewIndex].string("uuid")]]
        retyped[annotateIndex].removeValue(forKey: "toNode")
        let typeChanged = try api.call("PUT", "/v1/projects/\(pid)/workflow", key: key,
                                       body: try JSONSerialization.data(withJSONObject: ["graphNodes": retyped]), headers: Self.json)
        // (AGENT as the only stage after START leaves no Annotate stage: refused as invalid first.)
        #expect(typeChanged.status == 422 || typeChanged.status == 409)
        // Deleting the Review stage: allowed while it holds no task…
        let annotateUUID = nodes[annotateIndex].string("uuid")
        let reviewUUID = nodes[reviewIndex].string("uuid")
        let completeUUID = nodes.first { $0.string("nodeType") == "DONE" }!.string("uuid")
        // …but not once a task waits there: move one task to Review first (control tasks).
        let task = try allTasks(api, key: key, project: pid, stage: annotateUUID)[0].string("uuid")
        let moved = try post(api, "/v1/projects/\(pid)/workflow/stages/\(annotateUUID)/move-tasks", key: key,
                             #"{"taskUuids": ["\#(task)"], "destinationStageUuid": "\#(reviewUUID)"}"#, expect: 200)
        #expect((moved["results"] as? [[String: Any]])?.first?["ok"] as? Bool == true)
        var withoutReview = nodes.filter { $0.string("uuid") != reviewUUID }
        withoutReview[withoutReview.firstIndex { $0.string("uuid") == annotateUUID }!]["toNode"] = completeUUID
        let inUse = try api.call("PUT", "/v1/projects/\(pid)/workflow", key: key,
                                 body: try JSONSerialization.data(withJSONObject: ["graphNodes": withoutReview]), headers: Self.json)
        #expect(inUse.status == 409 && inUse.text.contains("stage_in_use"))
        // A type change of a kept stage: 409 type_changed (Review becomes a second Annotate stage).
        var reviewRetyped = nodes
        reviewRetyped[reviewIndex]["nodeType"] = "ANNOTATION"
        reviewRetyped[reviewIndex].removeValue(forKey: "rejectedToNode")
        reviewRetyped[reviewIndex]["toNode"] = completeUUID
        let tc = try api.call("PUT", "/v1/projects/\(pid)/workflow", key: key,
                              body: try JSONSerialization.data(withJSONObject: ["graphNodes": reviewRetyped]), headers: Self.json)
        #expect(tc.status == 409 && tc.text.contains("type_changed"))
        // An invalid graph: 422 invalid_workflow naming the rule.
        let invalid = try api.call("PUT", "/v1/projects/\(pid)/workflow", key: key,
                                   body: Data(#"{"graphNodes": [{"uuid": "\#(UUID().uuidString)", "nodeType": "START"}]}"#.utf8), headers: Self.json)
        #expect(invalid.status == 422 && invalid.text.contains("invalid_workflow") && invalid.text.contains("errors"))
        // Move it back; now Review holds nothing and may go.
        _ = try post(api, "/v1/projects/\(pid)/workflow/stages/\(reviewUUID)/move-tasks", key: key,
                     #"{"taskUuids": ["\#(task)"], "destinationStageUuid": "\#(annotateUUID)"}"#, expect: 200)
        _ = try put(withoutReview, expect: 200)
        let hist = try api.json("GET", "/v1/projects/\(pid)/tasks/\(task)/history", key: key, expect: 200)
        #expect((hist["events"] as? [[String: Any]] ?? []).map { $0.string("action") } == ["CREATE", "MOVE", "MOVE"])
    }

    @Test func twentyParallelClientsClaimAndSubmitWithEveryConflictAccountedFor() throws {
        let (h, api, key) = try setUp()
        let n = 5_000
        let began = Date()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: n)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let pid = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201).string("id")
        try addUnits(h, dataset: ds, folder: folder)
        let clients = 20
        let keys = try (0..<clients).map { try collaborator(h, api, key: key, project: pid, email: "a\($0)@x.io", role: "ANNOTATOR") }
        let s = try stageIDs(api, key: key, project: pid)
        let (annotate, review) = (s["Annotate"]!, s["Review"]!)

        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var claimed: [String: Int] = [:]       // task → successful ASSIGNs
            var submitted: [String: Int] = [:]     // task → successful SUBMITs (by its claimer)
            var refusals: [String: Int] = [:]      // error code → count
            var attempts = 0
            var failures: [String] = []
        }
        let tally = Tally()
        nonisolated(unsafe) let shared = api   // HTTP.send is a blocking call with no shared state
        let me0 = self
        DispatchQueue.concurrentPerform(iterations: clients) { i in
            let me = "a\(i)@x.io"
            var idle = 0
            while idle < 3 {
                do {
                    // Everyone reads the same first page, so claims collide on purpose.
                    let page = try shared.json("GET", "/v1/projects/\(pid)/workflow/stages/\(annotate)/tasks?limit=10&statuses=NEW", key: keys[i], expect: 200)
                    let tasks = (page["results"] as? [[String: Any]] ?? []).map { $0.string("uuid") }
                    if tasks.isEmpty { idle += 1; usleep(100_000); continue }
                    let pick = Array(tasks.shuffled().prefix(3))
                    let claims = try me0.act(shared, key: keys[i], project: pid, stage: annotate, pick.map { ["taskUuid": $0, "action": "ASSIGN", "assignee": me] })
                    let won = claims.filter { $0["ok"] as? Bool == true }.map { $0.string("taskUuid") }
                    tally.lock.lock()
                    tally.attempts += claims.count
                    for w in won { tally.claimed[w, default: 0] += 1 }
                    for c in claims where c["ok"] as? Bool != true {
                        tally.refusals[(c["error"] as? [String: Any])?.string("code") ?? "?", default: 0] += 1
                    }
                    tally.lock.unlock()
                    guard !won.isEmpty else { continue }
                    let subs = try me0.act(shared, key: keys[i], project: pid, stage: annotate, won.map { ["taskUuid": $0, "action": "SUBMIT"] })
                    tally.lock.lock()
                    for r in subs {
                        if r["ok"] as? Bool == true { tally.submitted[r.string("taskUuid"), default: 0] += 1 } else { tally.failures.append("submit refused: \(r)") }
                    }
                    tally.lock.unlock()
                } catch {
                    tally.lock.lock(); tally.failures.append("\(error)"); tally.lock.unlock()
                    idle += 1
                }
            }
        }
        #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
        // No task lost or duplicated: all 5,000 at Review, each claimed and submitted exactly once.
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid", [pid, review]) == n)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == n)
        #expect(tally.submitted.count == n && tally.submitted.values.allSatisfy { $0 == 1 })
        #expect(tally.claimed.count == n && tally.claimed.values.allSatisfy { $0 == 1 })
        // Every refused claim is a lost race (409s): another holds it, a concurrent write won, or it moved on.
        let refused = tally.refusals.values.reduce(0, +)
        #expect(tally.attempts == n + refused)
        #expect(Set(tally.refusals.keys).isSubset(of: ["assigned_to_other", "conflict", "moved"]), "\(tally.refusals)")
        #expect(refused > 0, "the clients collided at least once")
        // The history agrees: one accepted ASSIGN and one SUBMIT per task.
        #expect(try h.count("SELECT count(*) FROM task_events WHERE action = 'ASSIGN'") == n)
        #expect(try h.count("SELECT count(*) FROM task_events WHERE action = 'SUBMIT'") == n)
        print("parallel claims: \(n) tasks, \(tally.attempts) attempts, \(refused) refused \(tally.refusals), "
              + String(format: "%.1f s", Date().timeIntervalSince(began)))
    }
    @Test func theCommandLineListsActsMovesAndShowsHistoryAndStageCounts() throws {
        let (h, api, key) = try setUp()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: 5)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let pid = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201).string("id")
        try addUnits(h, dataset: ds, folder: folder)
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        let list = try h.run(["tasks", "list", "--project", pid, "--stage", "Annotate", "--json"], extraEnv: env)
        #expect(list.status == 0)
        let tasks = list.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(tasks.count == 5 && tasks.allSatisfy { $0.string("status") == "NEW" && $0.string("labelBranchName") == "main" })
        let ids = tasks.map { $0.string("uuid") }
        let assign = try h.run(["tasks", "act", "--project", pid, "--stage", "Annotate", "--action", "ASSIGN", "--assignee", "boss@x.io"] + ids, extraEnv: env)
        #expect(assign.status == 0 && assign.stdout.split(separator: "\n").count == 5 && assign.stdout.contains("\tok\tASSIGNED"))
        let submit = try h.run(["tasks", "act", "--project", pid, "--stage", "Annotate", "--action", "SUBMIT", "--comment", "first pass", ids[0], ids[1]],
                               extraEnv: env)
        #expect(submit.status == 0)
        // A refused action: exit 1 and the reason per task.
        let approve = try h.run(["tasks", "act", "--project", pid, "--stage", "Annotate", "--action", "APPROVE", ids[2]], extraEnv: env)
        #expect(approve.status == 1 && approve.stdout.contains("refused\twrong_stage"))
        let move = try h.run(["tasks", "move", "--project", pid, "--stage", "Annotate", "--to", "Complete", ids[3]], extraEnv: env)
        #expect(move.status == 0 && move.stdout.contains("\tok\tCOMPLETED"))
        let history = try h.run(["tasks", "history", "--project", pid, ids[0], "--json"], extraEnv: env)
        let events = try #require(try history.json()["events"] as? [[String: Any]])
        #expect(events.map { $0.string("action") } == ["CREATE", "ASSIGN", "SUBMIT"])
        #expect(events.last?["comment"] as? String == "first pass", "\(events)")
        // Filters: assignee, data unit, dataset.
        func listed(_ extra: [String]) throws -> Int {
            let r = try h.run(["tasks", "list", "--project", pid, "--stage", "Annotate", "--json"] + extra, extraEnv: env)
            #expect(r.status == 0)
            return r.stdout.split(separator: "\n").count
        }
        let hash2 = tasks[2].string("dataHash")
        #expect(try listed(["--assignee", "boss@x.io"]) == 2)
        #expect(try listed(["--assignee", "nobody@x.io"]) == 0)
        #expect(try listed(["--dataset", ds, "--data-hash", hash2]) == 1)
        #expect(try listed(["--dataset", UUID().uuidString]) == 0)
        #expect(try listed(["--status", "ASSIGNED", "--title-contains", "F"]) == 2)
        let stages = try h.run(["projects", "stages", pid, "--json"], extraEnv: env)
        let counts = try #require(try stages.json()["stages"] as? [[String: Any]])
        #expect(counts.map { "\($0.string("title"))=\($0.int("taskCount"))" } == ["Annotate=2", "Review=2", "Complete=1"])
        let table = try h.run(["projects", "stages", pid], extraEnv: env)
        #expect(table.status == 0 && table.stdout.contains("Annotate\tANNOTATION\t2\tASSIGNED=2"))
    }
    /// The two creation paths meet: a project attaches a dataset while an attach job is still
    /// adding its units (and workers commit chunks meanwhile). Every unit ends with exactly one
    /// task, whichever path made it.
    @Test func aProjectAttachDuringADatasetAttachGivesEveryUnitOneTask() throws {
        let (h, api, key) = try setUp()
        let folder = try folderWithFiles(h, api, key: key, name: "units", n: 30_000)
        let ds = try post(api, "/v1/datasets", key: key, #"{"title": "Growing"}"#, expect: 201).string("id")
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "300", "REGISTRAR_WORKER_SLOTS": "2"])
        let attach = try post(api, "/v1/datasets/\(ds)/attach", key: key, #"{"folderIds": ["\#(folder)"]}"#, expect: 202).string("jobId")
        let deadline = Date().addingTimeInterval(120)
        while try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds]) == 0 && Date() < deadline { usleep(50_000) }
        let pid = try post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"]}"#, expect: 201)
        let before = try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds])
        #expect(before > 0 && before < 30_000, "the project came mid-attach: \(before) units")
        #expect(try follow(api, attach, key: key).int("done") == 30_000)
        for job in pid["taskJobIds"] as? [String] ?? [] { #expect(try follow(api, job, key: key).string("status") == "DONE") }
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid.string("id")]) == 30_000)
        #expect(try h.count("SELECT count(DISTINCT data_unit) FROM tasks WHERE project_id = $1", [pid.string("id")]) == 30_000)
    }
}
}
