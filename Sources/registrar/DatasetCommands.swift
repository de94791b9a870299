import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarRuntime

// `registrar datasets …` and `registrar jobs …`: the HTTP API's datasets and engine jobs
// (docs/datasets.md). They speak the API only (REGISTRAR_API_URL + REGISTRAR_API_KEY).

/// Runs an API call, turning an error answer into exit code 1 with its message.
func viaAPI<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let failure as APIFailure {
        printError(failure.description)
        throw ExitCode(1)
    }
}

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets", abstract: "Datasets: files attached from folders, the unit projects annotate (HTTP API).",
        subcommands: [Create.self, List.self, Get.self, Update.self, Delete.self, Attach.self, Detach.self, Files.self])

    static func show(_ d: JSONValue) {
        var line = "\(d["id"]?.stringValue ?? "?")  \(d["title"]?.stringValue ?? "")  \(d["fileCount"]?.intValue ?? 0) files"
        if case .object(let types)? = d["byType"], !types.isEmpty {
            line += " (" + types.map { "\($0.key) \($0.value.intValue ?? 0)" }.joined(separator: ", ") + ")"
        }
        if let m = d["mirroredFolderId"]?.stringValue { line += "  mirrors folder \(m)" }
        print(line)
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a dataset (with --mirror, one that follows a folder).")
        @Option(help: "Title (required).") var title: String
        @Option(help: "Description.") var description: String?
        @Option(name: .customLong("mirror"), help: "A folder (id or name): the dataset follows it (its files now and every file registered into it later).")
        var mirroredFolder: String?
        @Flag(help: "Print the API's JSON.") var json = false

        func run() throws {
            let api = try catalogAPI()
            var body: [(key: String, value: JSONValue)] = [("title", .string(title))]
            if let description { body.append(("description", .string(description))) }
            if let mirroredFolder { body.append(("mirroredFolderId", .string(try DatasetsCommand.folderID(mirroredFolder, api)))) }
            let d = try viaAPI { try api.call("POST", "/v1/datasets", json: JSONValue.object(body).compactText) }
            if json { print(d.compactText); return }
            print("created dataset \(d["id"]?.stringValue ?? "?")")
            if let job = d["jobId"]?.stringValue { print("attaching the folder's files: job \(job) (registrar jobs status \(job) --wait)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspace's datasets with their file counts by type.")
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws {
            let api = try catalogAPI()
            try viaAPI { try api.forEachItem("/v1/datasets") { d in json ? print(d.compactText) : DatasetsCommand.show(d) } }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a dataset.")
        @Argument(help: "Dataset id.") var id: String
        @Flag(help: "Print the API's JSON.") var json = false
        func run() throws {
            let api = try catalogAPI()
            let d = try viaAPI { try api.call("GET", "/v1/datasets/\(id)") }
            json ? print(d.compactText) : DatasetsCommand.show(d)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a dataset's title or description.")
        @Argument(help: "Dataset id.") var id: String
        @Option(help: "New title.") var title: String?
        @Option(help: "New description (empty: none).") var description: String?
        @Flag(help: "Print the API's JSON.") var json = false
        func run() throws {
            guard title != nil || description != nil else { throw CommandFailure("give --title and/or --description") }
            let api = try catalogAPI()
            var body: [(key: String, value: JSONValue)] = []
            if let title { body.append(("title", .string(title))) }
            if let description { body.append(("description", description.isEmpty ? .null : .string(description))) }
            let d = try viaAPI { try api.call("PATCH", "/v1/datasets/\(id)", json: JSONValue.object(body).compactText) }
            json ? print(d.compactText) : DatasetsCommand.show(d)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a dataset (refused while a project uses it).")
        @Argument(help: "Dataset id.") var id: String
        @Flag(help: "Print {\"deleted\": id} as JSON.") var json = false
        func run() throws {
            let api = try catalogAPI()
            try viaAPI { _ = try api.call("DELETE", "/v1/datasets/\(id)") }
            print(json ? JSONValue.object([("deleted", .string(id))]).compactText : "deleted dataset \(id)")
        }
    }

    /// `--folder` and `--file` as the API's `folderIds`/`fileIds` members.
    static func targets(folders: [String], files: [String], api: APIClient) throws -> [(key: String, value: JSONValue)] {
        guard !folders.isEmpty || !files.isEmpty else { throw CommandFailure("give at least one --folder or --file") }
        var body: [(key: String, value: JSONValue)] = []
        if !folders.isEmpty { body.append(("folderIds", .array(try folders.map { JSONValue.string(try folderID($0, api)) }))) }
        if !files.isEmpty { body.append(("fileIds", .array(files.map(JSONValue.string)))) }
        return body
    }

    /// A folder given by id or by name (as `registrar submit --folder` names them).
    static func folderID(_ given: String, _ api: APIClient) throws -> String {
        if UUIDText.isValid(given) { return given }
        guard let id = try viaAPI({ try api.folderID(name: given, create: false) }) else { throw CommandFailure("no folder named \(given)") }
        return id
    }

    struct Attach: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach files of folders and single files (a job; --wait follows it).")
        @Argument(help: "Dataset id.") var id: String
        @Option(name: .customLong("folder"), parsing: .upToNextOption, help: "Folders (ids or names): all their files.") var folders: [String] = []
        @Option(name: .customLong("file"), parsing: .upToNextOption, help: "File ids.") var files: [String] = []
        @Option(help: "A file already in the dataset: SKIP (default), FAIL (a unit error) or DUPLICATE (a new copy).") var duplicates: String?
        @Flag(help: "Follow the job to its end (exit 1 unless DONE).") var wait = false
        @Flag(help: "Print JSON ({jobId}, or the job's final state with --wait).") var json = false

        func run() throws {
            if let duplicates, DuplicatesBehavior(rawValue: duplicates) == nil { throw CommandFailure("--duplicates must be SKIP, FAIL or DUPLICATE") }
            let api = try catalogAPI()
            var body = try DatasetsCommand.targets(folders: folders, files: files, api: api)
            if let duplicates { body.append(("duplicates", .string(duplicates))) }
            let answer = try viaAPI { try api.call("POST", "/v1/datasets/\(id)/attach", json: JSONValue.object(body).compactText) }
            guard let job = answer["jobId"]?.stringValue else { throw CommandFailure("unexpected answer from the API: \(answer.compactText)") }
            guard wait else {
                print(json ? answer.compactText : "attach job \(job) queued (registrar jobs status \(job) --wait)")
                return
            }
            try JobsCommand.follow(api, job, json: json)
        }
    }

    struct Detach: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Detach files (every copy) of folders and single files, at once.")
        @Argument(help: "Dataset id.") var id: String
        @Option(name: .customLong("folder"), parsing: .upToNextOption, help: "Folders (ids or names).") var folders: [String] = []
        @Option(name: .customLong("file"), parsing: .upToNextOption, help: "File ids.") var files: [String] = []
        @Flag(help: "Print the API's JSON.") var json = false
        func run() throws {
            let api = try catalogAPI()
            let body = try DatasetsCommand.targets(folders: folders, files: files, api: api)
            let answer = try viaAPI { try api.call("POST", "/v1/datasets/\(id)/detach", json: JSONValue.object(body).compactText) }
            print(json ? answer.compactText : "detached \(answer["detached"]?.intValue ?? 0) data units")
        }
    }

    struct Files: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a dataset's data units (URLs redacted).")
        @Argument(help: "Dataset id.") var id: String
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws {
            let api = try catalogAPI()
            try viaAPI {
                try api.forEachItem("/v1/datasets/\(id)/files") { f in
                    if json { print(f.compactText); return }
                    let copy = f["copy"]?.intValue ?? 0
                    print("\(f["fileId"]?.stringValue ?? "?")\(copy > 0 ? " (copy \(copy))" : "")  \(f["type"]?.stringValue ?? "")  \(f["title"]?.stringValue ?? "")  \(f["url"]?.stringValue ?? "")")
                }
            }
        }
    }
}

/// `registrar jobs status|cancel`: any engine job (an upload, a dataset attach) through the API.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Any engine job of the workspace: status and cancel (HTTP API).",
                                                    subcommands: [Status.self, Cancel.self])

    /// Polls `GET /v1/jobs/{id}` with the `status --wait` progress line until the job ends; exit 1 unless DONE.
    static func follow(_ api: APIClient, _ job: String, json: Bool) throws {
        let display = ProgressDisplay(quiet: json)
        while true {
            let v = try viaAPI { try api.call("GET", "/v1/jobs/\(job)") }
            guard let state = JobState(apiJSON: v) else { throw CommandFailure("unexpected answer from the API for job \(job)") }
            display.update(state)
            if state.status != .pending {
                display.finish(state)
                if json { print(v.compactText) }
                if state.status != .done { throw ExitCode(1) }
                return
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job's kind and progress (total, done, errors, skipped, rate, ETA).")
        @Argument(help: "Job id.") var id: String
        @Flag(help: "Follow the job to its end (exit 1 unless DONE).") var wait = false
        @Flag(help: "Print the API's JSON.") var json = false
        func run() throws {
            let api = try catalogAPI()
            if wait { return try JobsCommand.follow(api, id, json: json) }
            let v = try viaAPI { try api.call("GET", "/v1/jobs/\(id)") }
            if json { print(v.compactText); return }
            guard let s = JobState(apiJSON: v) else { throw CommandFailure("unexpected answer from the API for job \(id)") }
            print("\(v["kind"]?.stringValue ?? "job") \(s.id): \(s.status.rawValue) (\(s.phase.rawValue)) — \(s.counts.finished)/\(s.total.map(String.init) ?? "?"), done \(s.counts.done), failed \(s.counts.errors), skipped \(s.counts.skipped), cancelled \(s.counts.cancelled)")
            if let e = s.error { print("error: \(e)") }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask a job to stop (finished chunks stay; the rest count cancelled).")
        @Argument(help: "Job id.") var id: String
        @Flag(help: "Print the API's JSON.") var json = false
        func run() throws {
            let api = try catalogAPI()
            let v = try viaAPI { try api.call("POST", "/v1/jobs/\(id)/cancel") }
            print(json ? v.compactText : "cancel requested for job \(id) (\(v["status"]?.stringValue ?? "?"))")
        }
    }
}
