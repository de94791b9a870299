import ArgumentParser
import RegistrarCore
import RegistrarPostgres
import RegistrarRedis
import RegistrarRuntime

/// `registrar status JOB [--json] [--wait]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job's status and counters.")
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Follow the job to its end.") var wait = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        if let api = APIClient.fromEnvironment() { return try runViaAPI(api) }
        let registry = try connectStore(servers)
        if wait {
            let final = try followJob(job, registry: registry, servers: servers, quiet: false)
            if json { print(final.json) }
            if final.status != .done { throw ExitCode(1) }
            return
        }
        let state: JobState
        if let tracker = try? RedisProgressTracker(url: servers.redisURL),
           let s = try JobMonitor(jobs: registry.jobs, progress: tracker).state(jobID: job) {
            state = s.state
        } else if let s = try registry.jobState(jobID: job) {
            state = s
        } else {
            throw CommandFailure("no job \(job)")
        }
        if json {
            print(state.json)
        } else {
            print("job \(state.id): \(state.status.rawValue) (\(state.phase.rawValue))")
            print("  total \(state.total.map(String.init) ?? "unknown yet"), done \(state.counts.done), errors \(state.counts.errors), skipped \(state.counts.skipped), cancelled \(state.counts.cancelled), pending \(state.pending)")
            if let s = state.startedAt { print("  started \(s)") }
            if let f = state.finishedAt { print("  finished \(f)") }
            if let e = state.error { print("  error: \(e)") }
        }
    }
}

/// `registrar errors JOB [--json]`: every unit error, in unit order.
struct ErrorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "errors", abstract: "List a job's per-unit errors.")
    @Argument(help: "The job id.") var job: String
    @Flag(help: "One JSON object per line: {\"unit\", \"objectUrls\", \"code\", \"message\", \"action\"}.") var json = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        if let api = APIClient.fromEnvironment() { return try runViaAPI(api) }
        let registry = try connectStore(servers)
        // Any kind's job: unit errors live in one table for every kind.
        guard UUIDText.isValid(job), try registry.jobs.job(job) != nil else { throw CommandFailure("no job \(job)") }
        var after = -1
        while true {
            let page = try registry.unitErrors(jobID: job, after: after)
            for e in page {
                if json {
                    print(JSONValue.object([("unit", .number(String(e.unit))), ("objectUrls", .array(e.urls.map { .string(redactQuery($0)) })),
                                            ("code", .string(e.code)), ("message", .string(e.message)), ("action", .string(e.action))]).compactText)
                } else {
                    print("unit \(e.unit) \(e.code): \(e.message) [\(e.urls.first.map(redactQuery) ?? "")\(e.urls.count > 1 ? " +\(e.urls.count - 1)" : "")]")
                }
            }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.unit
        }
    }
}

/// Presigned URLs are secrets: shown without their query string (and a user name or password
/// in the URL masked).
func redactQuery(_ url: String) -> String {
    let url = URLCredentials.masked(url)
    guard let q = url.firstIndex(of: "?") else { return url }
    return String(url[..<q]) + "?…"
}

/// `registrar files --folder NAME [--json]`: the folder's file records, one per line.
struct FilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "files", abstract: "List the files registered in a folder.")
    @Option(help: "The folder.") var folder: String
    @Flag(help: "One JSON object per line (id, type, title, url, urls, size, mimeType and derived metadata).") var json = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        if let api = APIClient.fromEnvironment() { return try runViaAPI(api) }
        let registry = try connectStore(servers)
        guard let folderID = try registry.folderID(name: folder) else { throw CommandFailure("no folder named \(folder)") }
        var after: Int64 = 0
        while true {
            let page = try registry.filesJSON(folderID: folderID, afterID: after)
            for f in page {
                if json {
                    print(f.json)
                } else {
                    print(Self.plain(f.json))
                }
            }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.id
        }
    }
}

extension FilesCommand {
    /// `id  type  title  url` from a file's JSON line.
    static func plain(_ json: String) -> String {
        guard let v = JSONValue.parse(Array(json.utf8)) else { return json }
        func field(_ k: String) -> String {
            switch v[k] {
            case .string(let s)?: return s
            case .number(let n)?: return n
            default: return "-"
            }
        }
        return "\(field("id"))\t\(field("type"))\t\(field("title"))\t\(redactQuery(field("url")))"
    }
}

/// `registrar cancel JOB`: unprocessed units are cancelled; processed ones stay.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a running job.")
    @Argument(help: "The job id.") var job: String
    @OptionGroup var servers: ServerOptions

    func run() throws {
        if let api = APIClient.fromEnvironment() { return try runViaAPI(api) }
        let registry = try connectStore(servers)
        guard let status = try registry.jobs.requestCancel(jobID: job) else { throw CommandFailure("no job \(job)") }
        if status == .pending {
            print("cancel requested for \(job): units not yet processed will be cancelled")
            // A job with every chunk already finished ends now.
            _ = try registry.jobs.finishJobIfComplete(jobID: job)
        } else {
            print("job \(job) already ended \(status.rawValue)")
        }
    }
}
