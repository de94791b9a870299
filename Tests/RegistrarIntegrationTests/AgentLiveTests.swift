import Foundation
import RegistrarPostgres
import RegistrarRuntime
import Testing

extension LiveServers {
/// Agents on the real servers (docs/agents.md): `registrar agent run` as a subprocess and the
/// Python example `docs/examples/agent.py` against a live API, and the acceptance run of
/// issue 13: 10,000 units through Start → Agent → Annotate → Review (rejections) → Complete.
@Suite(.serialized) struct AgentLiveTests {
    let t = TaskLiveTests()

    /// The stand-in model of the tests and the docs: a multiplicative hash of the data unit's id
    /// sends about 30 % to "complete". The same rule as `decide` in docs/examples/agent.py.
    static let shellAgent = #"read -r j; h=${j#*\"dataHash\":\"}; h=${h%%\"*}; if [ $(( h * 2654435761 % 1000 )) -lt 300 ]; then echo complete; else echo annotate; fi"#
    static let rule = "(data_unit * 2654435761) % 1000 < 300"

    struct Stages { var start, agent, annotate, review, complete, toComplete, toAnnotate: String }

    /// Start → Agent (pathways complete / annotate) → Annotate → Review → Complete.
    static func graph() -> (Stages, String) {
        func id() -> String { UUID().uuidString.lowercased() }
        let s = Stages(start: id(), agent: id(), annotate: id(), review: id(), complete: id(), toComplete: id(), toAnnotate: id())
        let json = """
            {"graphNodes": [
              {"uuid": "\(s.start)", "nodeType": "START", "toNode": "\(s.agent)"},
              {"uuid": "\(s.agent)", "nodeType": "AGENT", "title": "Agent", "pathways": [
                {"uuid": "\(s.toComplete)", "name": "complete", "targetNode": "\(s.complete)"},
                {"uuid": "\(s.toAnnotate)", "name": "annotate", "targetNode": "\(s.annotate)"}]},
              {"uuid": "\(s.annotate)", "nodeType": "ANNOTATION", "title": "Annotate", "toNode": "\(s.review)"},
              {"uuid": "\(s.review)", "nodeType": "REVIEW", "title": "Review", "toNode": "\(s.complete)", "rejectedToNode": "\(s.annotate)"},
              {"uuid": "\(s.complete)", "nodeType": "DONE", "title": "Complete"}]}
            """
        return (s, json)
    }

    /// A project with the agent workflow and `n` units, their tasks waiting at Agent.
    func project(_ h: PipelineHarness, _ api: APIHarness, key: String, n: Int) throws -> (String, Stages) {
        let folder = try t.folderWithFiles(h, api, key: key, name: "units", n: n)
        let ds = try t.post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let (stages, graph) = Self.graph()
        let pid = try t.post(api, "/v1/projects", key: key, #"{"title": "Agents", "datasetIds": ["\#(ds)"], "workflow": \#(graph)}"#, expect: 201).string("id")
        try t.addUnits(h, dataset: ds, folder: folder)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid", [pid, stages.agent]) == n)
        return (pid, stages)
    }

    /// Every task went the way the rule says: (at Complete, at Annotate), both checked per task.
    func checkRouted(_ h: PipelineHarness, pid: String, _ s: Stages, n: Int) throws -> Int {
        let expected = try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND \(Self.rule)", [pid])
        #expect(expected > n / 5 && expected < n * 2 / 5, "the rule sends about 30 %: \(expected) of \(n)")
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid AND \(Self.rule)", [pid, s.complete]) == expected)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid AND NOT \(Self.rule)", [pid, s.annotate]) == n - expected)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid", [pid, s.agent]) == 0)
        return expected
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func thePythonExampleMovesTasksToTheirPathways() throws {
        let (h, api, key) = try t.setUp()
        let (pid, s) = try project(h, api, key: key, n: 300)
        let env = h.environment.merging(["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]) { $1 }
        let python = try h.runProgram(URL(fileURLWithPath: "/usr/bin/env"),
                                      ["python3", Self.repositoryRoot.appendingPathComponent("docs/examples/agent.py").path, pid, "Agent"],
                                      environment: env)
        #expect(python.status == 0, "\(python.stderr)")
        let expected = try checkRouted(h, pid: pid, s, n: 300)
        #expect(expected > 0)
        #expect(python.stderr.hasSuffix("300 done, 0 skipped, 0 left, 0 failed\n"), "\(python.stderr.suffix(300))")
        #expect(try h.count("SELECT count(*) FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.project_id = $1 AND e.action = 'PATHWAY_ACTION'", [pid]) == 300)
    }

    @Test func agentRunLeavesRetriesReportsFailuresAndRefusesAStageThatIsNoAgent() throws {
        let (h, api, key) = try t.setUp()
        let (pid, s) = try project(h, api, key: key, n: 40)
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        // Units 0–9 of the folder (titles f0…f9) fail every time; the rest print nothing.
        let counter = h.workDir.appendingPathComponent("attempts-\(UUID().uuidString)").path
        let cmd = #"read -r j; echo x >> \#(counter); case "$j" in *'"dataTitle":"f'[0-9]'"'*) exit 3;; esac"#
        let run = try h.run(["agent", "run", "--project", pid, "--stage", s.agent, "--exec", cmd, "--retries", "2", "--concurrency", "3"], extraEnv: env)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("agent done: 0 done, 0 skipped, 30 left, 10 failed"), "\(run.stderr)")
        #expect(run.stderr.contains("the command exited with status 3 (3 attempts)"))
        let attempts = (try? String(contentsOfFile: counter, encoding: .utf8))?.split(separator: "\n").count
        #expect(attempts == 10 * 3 + 30)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid", [pid, s.agent]) == 40)
        // A pathway the stage lacks is retried, then failed; the tasks stay.
        let unknown = try h.run(["agent", "run", "--project", pid, "--stage", "Agent", "--exec", "echo nowhere", "--retries", "0", "--max-tasks", "5"], extraEnv: env)
        #expect(unknown.status == 1 && unknown.stderr.contains("not a pathway of Agent (complete, annotate)"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("0 done, 0 skipped, 0 left, 5 failed"))
        // What the command reads: the task, its file record, its (empty) label row and ETag, the file's URL.
        let seen = h.workDir.appendingPathComponent("input-\(UUID().uuidString).json").path
        let one = try h.run(["agent", "run", "--project", pid, "--stage", "Agent", "--exec", "cat > \(seen)", "--max-tasks", "1"], extraEnv: env)
        #expect(one.status == 0 && one.stderr.contains("0 done, 0 skipped, 1 left, 0 failed"), "\(one.stderr)")
        let input = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: seen))) as? [String: Any])
        let task = try #require(input["task"] as? [String: Any])
        let unit = try #require(input["dataUnit"] as? [String: Any], "the file record of \(task.string("fileId"))")
        #expect(task.string("stage") == s.agent && !task.string("fileId").isEmpty)
        #expect(unit.string("title") == task.string("dataTitle") && unit.string("url").hasPrefix("https://example.com/"))
        #expect(input["dataLink"] as? String == unit.string("url"))
        let row = try #require(input["labelRow"] as? [String: Any])
        #expect(row.string("data_hash") == task.string("dataHash") && row.string("label_status") == "NOT_LABELLED")
        #expect(input["labelRowETag"] as? String == "\"0\"")
        // A stage that is not an Agent stage: a usage error naming the Agent stages.
        let wrong = try h.run(["agent", "run", "--project", pid, "--stage", "Annotate", "--exec", "true"], extraEnv: env)
        #expect(wrong.status == 2 && wrong.stderr.contains("not an Agent stage: Annotate") && wrong.stderr.contains("Agent (\(s.agent))"), "\(wrong.stderr)")
    }

    @Test func twoAgentsOnOneStageMoveEachTaskOnceAndCountTheLostRacesAsSkipped() throws {
        let (h, api, key) = try t.setUp()
        let n = 2_000
        let (pid, s) = try project(h, api, key: key, n: n)
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        final class Runs: @unchecked Sendable { var r: [PipelineHarness.Run?] = [nil, nil] }
        let runs = Runs()
        nonisolated(unsafe) let harness = h
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            runs.r[i] = try? harness.run(["agent", "run", "--project", pid, "--stage", "Agent", "--exec", Self.shellAgent, "--batch", "100"], extraEnv: env)
        }
        var done = 0, skipped = 0
        for r in runs.r {
            let run = try #require(r)
            #expect(run.status == 0, "\(run.stderr)")
            let last = try #require(run.stderr.split(separator: "\n").last { $0.hasPrefix("agent done: ") })
            let numbers = last.split(separator: " ").compactMap { Int($0) }
            done += numbers[0]; skipped += numbers[1]
            #expect(numbers[2] == 0 && numbers[3] == 0, "\(last)")
        }
        #expect(done == n, "every task moved by exactly one agent (skipped: \(skipped))")
        _ = try checkRouted(h, pid: pid, s, n: n)
        #expect(try h.count("SELECT count(*) FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.project_id = $1 AND e.action = 'PATHWAY_ACTION'", [pid]) == n)
        print("two agents: \(done) done, \(skipped) skipped")
    }

    @Test func tenThousandUnitsThroughAnAgentAnnotateAndReviewToComplete() throws {
        let (h, api, key) = try t.setUp()
        let n = 10_000
        let began = Date()
        let (pid, s) = try project(h, api, key: key, n: n)
        let annotator = try t.collaborator(h, api, key: key, project: pid, email: "ann@x.io", role: "ANNOTATOR")
        let reviewer = try t.collaborator(h, api, key: key, project: pid, email: "rev@x.io", role: "REVIEWER")
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        let agentStart = Date()
        let run = try h.run(["agent", "run", "--project", pid, "--stage", "Agent", "--exec", Self.shellAgent, "--concurrency", "4"], extraEnv: env)
        let agentSeconds = Date().timeIntervalSince(agentStart)
        #expect(run.status == 0, "\(run.stderr.suffix(500))")
        #expect(run.stderr.contains("agent done: \(n) done, 0 skipped, 0 left, 0 failed"), "\(run.stderr.suffix(300))")
        let straight = try checkRouted(h, pid: pid, s, n: n)

        // Annotate → Review, batches of 500; the first time round every tenth task is rejected.
        func batches<T>(_ xs: [T]) -> [[T]] { stride(from: 0, to: xs.count, by: 500).map { Array(xs[$0..<min($0 + 500, xs.count)]) } }
        var rejected: Set<String> = []
        for round in 1...4 {
            let todo = try t.allTasks(api, key: key, project: pid, stage: s.annotate).map { $0.string("uuid") }
            for batch in batches(todo) {
                let a = try t.act(api, key: annotator, project: pid, stage: s.annotate, batch.map { ["taskUuid": $0, "action": "ASSIGN", "assignee": "ann@x.io"] })
                #expect(a.count == batch.count && a.allSatisfy { $0["ok"] as? Bool == true })
                let sub = try t.act(api, key: annotator, project: pid, stage: s.annotate, batch.map { ["taskUuid": $0, "action": "SUBMIT"] })
                #expect(sub.allSatisfy { $0["ok"] as? Bool == true && $0.string("stage") == s.review })
            }
            let inReview = try t.allTasks(api, key: key, project: pid, stage: s.review).map { $0.string("uuid") }
            if inReview.isEmpty { break }
            let rejectNow = round == 1 ? Set(inReview.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)) : []
            rejected.formUnion(rejectNow)
            for batch in batches(inReview.map { ["taskUuid": $0, "action": rejectNow.contains($0) ? "REJECT" : "APPROVE"] }) {
                #expect(try t.act(api, key: reviewer, project: pid, stage: s.review, batch).allSatisfy { $0["ok"] as? Bool == true })
            }
        }
        let annotated = n - straight
        #expect(rejected.count == (annotated + 9) / 10)
        // Every task at Complete, entered exactly once.
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1", [pid]) == n)
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1 AND stage = $2::uuid AND status = 'COMPLETED'", [pid, s.complete]) == n)
        #expect(try h.count("SELECT count(*) FROM task_events WHERE to_stage = $1::uuid", [s.complete]) == n)
        #expect(try h.count("SELECT count(DISTINCT task_id) FROM task_events WHERE to_stage = $1::uuid", [s.complete]) == n)
        // Every hop, per task: exactly three shapes of history.
        let rows = try h.db.query("""
            SELECT p, count(*) FROM (SELECT string_agg(e.action || ':' || coalesce(e.to_stage::text, ''), ',' ORDER BY e.seq) p
              FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.project_id = $1::uuid GROUP BY e.task_id) x GROUP BY p
            """, [pid])
        var shapes: [String: Int] = [:]
        for i in 0..<rows.count { shapes[rows[row: i, column: 0]!] = Int(rows[row: i, column: 1]!)! }
        let viaAgent = "PATHWAY_ACTION:\(s.complete)"
        let once = "PATHWAY_ACTION:\(s.annotate),ASSIGN:\(s.annotate),SUBMIT:\(s.review),APPROVE:\(s.complete)"
        let twice = "PATHWAY_ACTION:\(s.annotate),ASSIGN:\(s.annotate),SUBMIT:\(s.review),REJECT:\(s.annotate),ASSIGN:\(s.annotate),SUBMIT:\(s.review),APPROVE:\(s.complete)"
        #expect(shapes == [viaAgent: straight, once: annotated - rejected.count, twice: rejected.count])
        // The API's history of a rejected task shows the same hops after its creation at Agent.
        let back = try api.json("GET", "/v1/projects/\(pid)/tasks/\(rejected.first!)/history", key: key, expect: 200)
        let hops = (back["events"] as? [[String: Any]] ?? []).map { "\($0.string("action")):\($0.string("toStage"))" }
        #expect(hops.joined(separator: ",") == "CREATE:\(s.agent),\(twice)")
        print("10k agent run: \(straight) straight to Complete; agent run \(String(format: "%.1f", agentSeconds)) s; "
              + "whole test \(String(format: "%.1f", Date().timeIntervalSince(began))) s; \(run.stderr.split(separator: "\n").last ?? "")")
    }
}
}
