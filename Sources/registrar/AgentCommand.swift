import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarRuntime

/// `registrar agent run`: the agent loop of docs/agents.md over the HTTP API.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Run an agent on an Agent stage's tasks (through the API).", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand each task waiting at an Agent stage to a command and move it along the pathway the command prints.",
            discussion: """
                Each task's JSON ({"task", "dataUnit", "labelRow", "dataLink"}) goes to CMD's standard input (run with /bin/sh -c). \
                The last non-empty line CMD prints is a pathway name or uuid: the task moves along it (PATHWAY_ACTION). \
                Nothing printed: the task stays. A nonzero exit or an unknown pathway is retried (--retries), then the task \
                counts as failed and stays. Tasks another agent took first (409) count as skipped. Exit 0 when the stage has \
                nothing new (never with --follow), 1 when any task failed. Needs REGISTRAR_API_URL and REGISTRAR_API_KEY.
                """)
        @Option(help: "The project's id.") var project: String
        @Option(help: "The Agent stage: its uuid or title.") var stage: String
        @Option(name: .customLong("exec"), help: "The command, run with /bin/sh -c once per task.") var command: String
        @Option(help: "Tasks handled at the same time.") var concurrency = 4
        @Option(help: "Further attempts after a nonzero exit or an unknown pathway.") var retries = 3
        @Option(help: "PATHWAY_ACTIONs per request (1 to 500).") var batch = 500
        @Flag(help: "Keep polling for new tasks instead of exiting when the stage has nothing new.") var follow = false
        @Option(help: "Seconds between polls with --follow.") var pollInterval = 2.0
        @Option(help: "Stop after this many tasks.") var maxTasks: Int?
        @Flag(help: "No progress lines (the summary still goes to standard error).") var quiet = false

        func validate() throws {
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
            guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
            guard (1...500).contains(batch) else { throw ValidationError("--batch must be 1 to 500 (the API takes at most 500 actions)") }
            guard pollInterval > 0 else { throw ValidationError("--poll-interval must be more than 0") }
            if let maxTasks, maxTasks < 1 { throw ValidationError("--max-tasks must be at least 1") }
        }

        func run() throws {
            let api = HTTPAgentTaskAPI(client: try catalogAPI(), project: project)
            var options = AgentOptions(stage: stage)
            options.concurrency = concurrency
            options.retries = retries
            options.batch = batch
            options.follow = follow
            options.pollInterval = pollInterval
            options.maxTasks = maxTasks
            let quiet = quiet
            let loop = AgentLoop(api: api, executor: ShellAgentExecutor(command: command), options: options, progress: { t, rate in
                if !quiet { printError(Self.line(t, rate: rate)) }
            })
            let started = Date()
            let tally = try loop.run()
            for (task, why) in tally.failures.sorted(by: { $0.key < $1.key }).prefix(20) { printError("failed \(task): \(why)") }
            if tally.failures.count > 20 { printError("… and \(tally.failures.count - 20) more failed tasks") }
            printError("agent done: " + Self.line(tally, rate: Double(tally.seen) / max(Date().timeIntervalSince(started), 0.001)))
            if tally.failed > 0 { throw ExitCode(1) }
        }

        static func line(_ t: AgentTally, rate: Double) -> String {
            "\(t.done) done, \(t.skipped) skipped, \(t.left) left, \(t.failed) failed, " + String(format: "%.1f tasks/s", rate)
        }
    }
}

/// `AgentTaskAPI` over the HTTP API (the task API of docs/workflows.md and `GET /v1/files/{id}`).
struct HTTPAgentTaskAPI: AgentTaskAPI, @unchecked Sendable {
    let client: APIClient
    let project: String

    /// One call, retried with backoff while the API answers 429 (its per-key rate limit): an
    /// agent at full speed meets it, and a slowed-down task is not a failed one.
    func call(_ method: String, _ path: String, query: [(String, String)] = [], json: String? = nil) throws -> JSONValue {
        var pause = 0.1
        for attempt in 0... {
            do {
                return try client.call(method, path, query: query, json: json)
            } catch let failure as APIFailure where failure.status == 429 && attempt < 40 {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 2)
            }
        }
        fatalError("unreachable")
    }

    func stage(_ reference: String) throws -> AgentStage {
        let graph = try call("GET", "/v1/projects/\(project)/workflow")
        guard case .array(let nodes)? = graph["graphNodes"] else { throw CommandFailure("the API sent no workflow for project \(project)") }
        let node = nodes.first { $0["uuid"]?.stringValue?.lowercased() == reference.lowercased() }
            ?? nodes.first { $0["title"]?.stringValue == reference }
        let agents = nodes.filter { $0["nodeType"]?.stringValue == "AGENT" }
            .map { "\($0["title"]?.stringValue ?? "") (\($0["uuid"]?.stringValue ?? ""))" }
        guard let node, node["nodeType"]?.stringValue == "AGENT", let uuid = node["uuid"]?.stringValue else {
            let kind = node == nil ? "no stage" : "not an Agent stage:"
            throw CommandFailure("--stage: \(kind) \(reference) in project \(project); its Agent stages are "
                                 + (agents.isEmpty ? "none" : agents.joined(separator: ", ")))
        }
        var pathways: [AgentPathway] = []
        if case .array(let list)? = node["pathways"] {
            for p in list { if let u = p["uuid"]?.stringValue, let n = p["name"]?.stringValue { pathways.append(AgentPathway(uuid: u, name: n)) } }
        }
        return AgentStage(uuid: uuid, title: node["title"]?.stringValue ?? uuid, pathways: pathways)
    }

    func tasks(stage: String, pageToken: String?) throws -> AgentTaskPage {
        var query = [("limit", "1000")]
        if let pageToken { query.append(("pageToken", pageToken)) }
        let page = try call("GET", "/v1/projects/\(project)/workflow/stages/\(TasksCommand.segment(stage))/tasks", query: query)
        guard case .array(let items)? = page["results"] else { return AgentTaskPage(tasks: [], nextPageToken: nil) }
        return AgentTaskPage(tasks: items, nextPageToken: page["nextPageToken"]?.stringValue)
    }

    func dataUnit(fileID: String) throws -> JSONValue? {
        do {
            return try call("GET", "/v1/files/\(fileID)")
        } catch let failure as APIFailure where failure.status == 404 {
            return nil
        }
    }

    func labelRow(dataHash: String) throws -> (row: JSONValue, etag: String?)? {
        var answer = try client.send("GET", "/v1/projects/\(project)/label-rows/\(dataHash)")
        var pause = 0.1
        for _ in 0..<40 where answer.0 == 429 {
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 2)
            answer = try client.send("GET", "/v1/projects/\(project)/label-rows/\(dataHash)")
        }
        let (status, body, headers) = answer
        if status == 404 { return nil }
        let etag = headers["etag"]
        guard status == 200, let row = JSONValue.parse(body) else {
            throw CommandFailure("GET label row \(dataHash): HTTP \(status)")
        }
        return (row, etag)
    }

    func pathwayActions(stage: String, _ moves: [(taskUUID: String, pathwayUUID: String)]) throws -> [String: AgentActionAnswer] {
        let body = JSONValue.array(moves.map {
            .object([("taskUuid", .string($0.taskUUID)), ("action", .string("PATHWAY_ACTION")), ("pathwayUuid", .string($0.pathwayUUID))])
        })
        let answer = try call("POST", "/v1/projects/\(project)/workflow/stages/\(TasksCommand.segment(stage))/actions",
                                     json: body.compactText)
        var out: [String: AgentActionAnswer] = [:]
        if case .array(let results)? = answer["results"] {
            for r in results {
                guard let task = r["taskUuid"]?.stringValue?.lowercased() else { continue }
                if case .bool(true)? = r["ok"] { out[task] = .moved; continue }
                out[task] = AgentActionAnswer(code: r["error"]?["code"]?.stringValue ?? "?", message: r["error"]?["message"]?.stringValue ?? "")
            }
        }
        return out
    }
}

/// Runs the agent's command with `/bin/sh -c`, the task's JSON on its standard input; its
/// standard error goes to ours, its standard output is the answer.
struct ShellAgentExecutor: AgentExecutor {
    let command: String

    func run(input: [UInt8]) throws -> AgentExecution {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        try p.run()
        // Written on another thread: a command that answers before reading all its input must
        // not block us on a full pipe.
        let writer = DispatchGroup()
        let handle = stdin.fileHandleForWriting
        DispatchQueue.global().async(group: writer) {
            try? handle.write(contentsOf: Data(input))
            try? handle.close()
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        writer.wait()
        return AgentExecution(exitStatus: p.terminationReason == .exit ? p.terminationStatus : 128 + p.terminationStatus,
                              stdout: String(decoding: out, as: UTF8.self))
    }
}
