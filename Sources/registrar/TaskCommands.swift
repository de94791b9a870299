import ArgumentParser
import Foundation
import RegistrarCore

/// `registrar tasks …` (through the API; docs/workflows.md, "The task API"), `--json` on each.
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "List a stage's tasks, act on them, move them, read their history (through the API).",
        subcommands: [List.self, Act.self, Move.self, History.self])
    static let fields = ["uuid", "status", "dataHash", "dataTitle", "assignee", "lastActionedBy", "updatedAt"]

    /// A stage (uuid or title) as one path segment.
    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tasks waiting at a stage, oldest first.")
        @Option(help: "The project's id.") var project: String
        @Option(help: "The stage: its uuid or title.") var stage: String
        @Option(name: .customLong("status"), help: "Only tasks with this status (repeat): NEW, ASSIGNED, RELEASED, SKIPPED, REOPENED, COMPLETED.") var statuses: [String] = []
        @Option(name: .customLong("assignee"), help: "Only tasks assigned to this email (repeat).") var assignees: [String] = []
        @Option(name: .customLong("data-hash"), help: "Only this data unit (repeat).") var dataHashes: [String] = []
        @Option(name: .customLong("dataset"), help: "Only units of this dataset (repeat).") var datasets: [String] = []
        @Option(help: "Only units whose title contains this text (any case).") var titleContains: String?
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws {
            let api = try catalogAPI()
            var query: [(String, String)] = [("limit", "1000")]
            query += statuses.map { ("statuses", $0) } + assignees.map { ("userEmails", $0) } + dataHashes.map { ("dataHashes", $0) }
                + datasets.map { ("datasetHashes", $0) }
            if let titleContains { query.append(("dataTitleContains", titleContains)) }
            var token: String?
            repeat {
                let page = try api.call("GET", "/v1/projects/\(project)/workflow/stages/\(TasksCommand.segment(stage))/tasks",
                                        query: query + (token.map { [("pageToken", $0)] } ?? []))
                if case .array(let items)? = page["results"] { items.forEach { printObject($0, json: json, TasksCommand.fields) } }
                if case .string(let next)? = page["nextPageToken"] { token = next } else { token = nil }
            } while token != nil
        }
    }

    struct Act: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Act on tasks at a stage: ASSIGN, RELEASE, SKIP, SUBMIT, APPROVE, REJECT or PATHWAY_ACTION (exit 1 when any is refused).")
        @Option(help: "The project's id.") var project: String
        @Option(help: "The stage: its uuid or title.") var stage: String
        @Option(help: "The action.") var action: String
        @Option(help: "ASSIGN: who gets the tasks (an email).") var assignee: String?
        @Option(help: "PATHWAY_ACTION: the pathway's name or uuid.") var pathway: String?
        @Option(help: "A comment kept in each task's history with the action (a reviewer's reason on REJECT).") var comment: String?
        @Argument(help: "The tasks' uuids (at most 500).") var tasks: [String]
        @Flag(help: "One JSON object per task.") var json = false
        func run() throws {
            let name = action.uppercased()
            let actions: [JSONValue] = tasks.map { task in
                var fields: [(String, JSONValue)] = [("taskUuid", .string(task)), ("action", .string(name))]
                if let assignee { fields.append(("assignee", .string(assignee))) }
                if let pathway { fields.append((UUIDText.isValid(pathway) ? "pathwayUuid" : "pathwayName", .string(pathway))) }
                if let comment { fields.append(("comment", .string(comment))) }
                return .object(fields)
            }
            let answer = try catalogAPI().call("POST", "/v1/projects/\(project)/workflow/stages/\(TasksCommand.segment(stage))/actions",
                                               json: JSONValue.array(actions).compactText)
            try TasksCommand.report(answer, json: json)
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move tasks from a stage to another (control tasks; exit 1 when any is refused).")
        @Option(help: "The project's id.") var project: String
        @Option(help: "The stage the tasks are at: its uuid or title.") var stage: String
        @Option(help: "The destination stage's uuid or title.") var to: String
        @Argument(help: "The tasks' uuids (at most 500).") var tasks: [String]
        @Flag(help: "One JSON object per task.") var json = false
        func run() throws {
            let answer = try catalogAPI().call("POST", "/v1/projects/\(project)/workflow/stages/\(TasksCommand.segment(stage))/move-tasks",
                                               json: jsonBody([("taskUuids", .array(tasks.map(JSONValue.string))), ("destinationStageUuid", .string(to))]))
            try TasksCommand.report(answer, json: json)
        }
    }

    /// One line per task: `uuid ok STATUS stage` or `uuid refused code: message`.
    static func report(_ answer: JSONValue, json: Bool) throws {
        guard case .array(let results)? = answer["results"] else { return }
        for r in results {
            if json { print(r.compactText); continue }
            let task = r["taskUuid"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "?"
            if case .bool(true)? = r["ok"] {
                let status = r["status"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                let stage = r["stage"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                print("\(task)\tok\t\(status)\t\(stage)")
            } else {
                let code = r["error"]?["code"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "?"
                let message = r["error"]?["message"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
                print("\(task)\trefused\t\(code): \(message)")
            }
        }
        if results.contains(where: { $0["ok"] != .bool(true) }) { throw ExitCode(1) }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task's history: every action and move, oldest first.")
        @Option(help: "The project's id.") var project: String
        @Argument(help: "The task's uuid.") var task: String
        @Flag(help: "Print the history as one JSON object.") var json = false
        func run() throws {
            let h = try catalogAPI().call("GET", "/v1/projects/\(project)/tasks/\(task)/history")
            if json { print(h.compactText); return }
            if case .array(let events)? = h["events"] {
                events.forEach { printObject($0, json: false, ["seq", "at", "action", "actor", "fromStage", "toStage", "status", "assignee"]) }
            }
        }
    }
}

extension ProjectsCommand {
    /// `projects stages ID`: tasks per stage and status.
    struct Stages: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project's stages with their task counts per status.")
        @Argument(help: "The project's id.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let answer = try catalogAPI().call("GET", "/v1/projects/\(id)/stages")
            if json { print(answer.compactText); return }
            guard case .array(let stages)? = answer["stages"] else { return }
            for s in stages {
                var line = ["uuid", "title", "stageType", "taskCount"].map { f -> String in
                    switch s[f] { case .string(let v)?: v; case .number(let n)?: n; default: "" }
                }.joined(separator: "\t")
                if case .object(let by)? = s["byStatus"] {
                    line += "\t" + by.map { "\($0.key)=\(($0.value).compactText)" }.joined(separator: " ")
                }
                print(line)
            }
        }
    }

    /// `projects workflow ID [--set FILE]`: read or replace the workflow graph.
    struct Workflow: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a project's workflow graph, or replace it with --set FILE (project ADMIN).")
        @Argument(help: "The project's id.") var id: String
        @Option(help: "A file holding the new graph JSON ({\"graphNodes\": [...]}).") var set: String?
        func run() throws {
            let api = try catalogAPI()
            if let set {
                guard let data = FileManager.default.contents(atPath: set), let value = JSONValue.parse(Array(data)) else {
                    throw CommandFailure("--set: \(set) is not a readable JSON file")
                }
                print(try api.call("PUT", "/v1/projects/\(id)/workflow", json: value.compactText).compactText)
            } else {
                print(try api.call("GET", "/v1/projects/\(id)/workflow").compactText)
            }
        }
    }
}
