import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime

/// `registrar submit MANIFEST --folder NAME [--ignore-errors] [--wait] [--json]`.
///
/// Creates the folder if needed, stores the manifest durably in PostgreSQL (one transaction with
/// the job), publishes the job id, and returns at once with the id — or, with `--wait`, follows
/// the job to its end.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a manifest for registration into a folder.",
        discussion: "Exit status with --wait: 0 when the job ends DONE, 1 when it ends ERROR or CANCELLED."
    )

    @Argument(help: "The manifest file (.json or .csv).") var manifest: String
    @Option(help: "The folder to register into (created if missing).") var folder: String
    @Option(help: "The manifest format; by default from the extension, else from the content.") var format: ManifestFormat?
    @Option(help: "Read the objects with this integration's credentials (see `registrar integrations`).") var integration: String?
    @Flag(help: "Register what verifies even when some units fail (the job then ends DONE).") var ignoreErrors = false
    @Flag(help: "Keep image sequences (createVideo) virtual: recorded as their frames, no video encoded, nothing written to storage (docs/sequences.md).")
    var virtualSequences = false
    @Option(help: "Frame rate of the videos made from this manifest's image sequences (default 25).") var sequenceFps: Double?
    @Flag(help: "Follow the job to its end, showing progress.") var wait = false
    @Flag(help: "Print the job's state as one JSON object (the last line of output).") var json = false
    @OptionGroup var servers: ServerOptions
    @OptionGroup var manifestLimits: ManifestLimitOptions
    @Option(help: "Convert MANIFEST from another tool's format first: labelstudio, cvat or labelbox (see `registrar convert`).") var from: ImportSource?
    @Option(help: "With --from: the prefix that turns relative names into URLs (required for cvat).") var baseUrl: String?

    func validate() throws {
        if folder.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--folder must not be empty") }
        if let sequenceFps, case .failure(let e) = SequenceOptions.checkFPS(sequenceFps, field: "--sequence-fps") { throw ValidationError(e.description) }
        if virtualSequences && sequenceFps != nil { throw ValidationError("--sequence-fps sets the rate of encoded videos; --virtual-sequences encodes none") }
    }

    func run() throws {
        if let from {
            // Convert into a temporary manifest named after the input, then submit that.
            let dir = NSTemporaryDirectory() + "registrar-submit-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var converted = self
            converted.manifest = dir + "/" + ((manifest as NSString).lastPathComponent as NSString).deletingPathExtension + ".json"
            converted.from = nil
            converted.format = .json
            let summary = try convertManifest(from: from, input: manifest, output: converted.manifest, baseURL: baseUrl, json: false)
            if summary.convertedCount == 0 { throw ExitCode(1) }
            return try converted.run()
        }
        if let api = APIClient.fromEnvironment() {
            if virtualSequences || sequenceFps != nil {
                throw CommandFailure("--virtual-sequences and --sequence-fps are not sent through the API yet: submit with REGISTRAR_POSTGRES_URL (docs/sequences.md)")
            }
            return try runViaAPI(api)
        }
        var source = try FileByteSource(path: manifest)
        let format = self.format ?? ManifestFormat.detect(fileName: manifest, firstBytes: source.peek(512))
        // Validate here, while the file is at hand: the coordinator then starts splitting at once
        // (first progress comes sooner) and a refused manifest is never queued. (The coordinator
        // still validates any job that arrives without totals.)
        let limits = manifestLimits.limits
        var reader = makeManifestReader(format: format, source: try FileByteSource(path: manifest), limits: limits)
        let summary = ManifestScanner(limits: limits, maxListedIssues: 1).scan(&reader, format: format)
        // A manifest holding a password is refused before anything is stored (other refusals
        // leave an ERROR job that says why; this one would leave the password in PostgreSQL).
        if summary.fatal == nil, let secret = summary.fileErrors.first(where: { $0.code == .urlContainsCredentials }) {
            printError("manifest refused, nothing stored: \(secret.description)")
            if json { print(JSONValue.object([("error", .string(secret.description))]).compactText) }
            throw ExitCode(1)
        }
        let registry = try connectStore(servers)
        var integrationID: String? = nil
        if let integration {
            guard let found = try registry.integration(name: integration) else {
                throw CommandFailure("no integration named '\(integration)' (see `registrar integrations list`)")
            }
            integrationID = found.id
        }
        let folderID = try registry.ensureFolder(name: folder)
        let jobID = try registry.createJob(folderID: folderID, fileName: (manifest as NSString).lastPathComponent,
                                           format: format, ignoreErrors: ignoreErrors, manifest: &source, integrationID: integrationID)
        if let reason = summary.fatal ?? summary.fileErrors.first {
            try registry.jobs.failJob(jobID: jobID, reason: JobFailure(reason))
            if !wait && !json { printError("manifest refused: \(reason.description)") }
            if wait || json, let state = try registry.jobState(jobID: jobID) {
                if wait { print("job \(jobID)") }
                print(json ? state.json : "finished ERROR: \(state.error ?? reason.description)")
                throw ExitCode(1)
            }
            print(jobID)
            throw ExitCode(1)
        }
        // Before the job is queued: the encode dispatcher reads them when the job has finished.
        try registry.setSequenceOptions(jobID: jobID, SequenceOptions(virtual: virtualSequences, fps: sequenceFps))
        try registry.recordScan(jobID: jobID, units: summary.units, urls: summary.urls, skipDuplicates: summary.options.skipDuplicateURLs)
        try queueAndReport(jobID, registry: registry, servers: servers, wait: wait, json: json)
    }
}

/// Publishes a stored job's id, then prints it (or its state with `json`), or with `wait`
/// follows the job to its end: exit status 1 unless it ends DONE. Shared by `submit` and `retry`.
func queueAndReport(_ jobID: String, registry: PostgresRegistry, servers: ServerOptions, wait: Bool, json: Bool) throws {
    do {
        let queue = try AMQPWorkQueue(url: servers.amqpURL, role: .publisher)
        try queue.publishJob(jobID)
        queue.close()
    } catch {
        throw CommandFailure("job \(jobID) is stored, but could not be queued (RabbitMQ at \(redacted(servers.amqpURL)): \(error)); submit again or requeue it")
    }
    if !wait {
        if json, let state = try registry.jobState(jobID: jobID) { print(state.json) } else { print(jobID) }
        return
    }
    print("job \(jobID)")
    let final = try followJob(jobID, registry: registry, servers: servers, quiet: false)
    if json { print(final.json) }
    if final.status != .done { throw ExitCode(1) }
}

func connectStore(_ servers: ServerOptions) throws -> PostgresRegistry {
    do { return try PostgresRegistry(url: servers.postgresURL) } catch {
        throw CommandFailure("cannot connect to PostgreSQL at \(redacted(servers.postgresURL)): \(error)")
    }
}

/// Polls a job until it ends, with a live line on a terminal and plain periodic lines
/// otherwise. Returns the final state.
func followJob(_ jobID: String, registry: PostgresRegistry, servers: ServerOptions, quiet: Bool) throws -> JobState {
    let tracker = try? RedisProgressTracker(url: servers.redisURL)
    let display = ProgressDisplay(quiet: quiet)
    while true {
        let state: JobState
        if let tracker, let s = try JobMonitor(jobs: registry.jobs, progress: tracker).state(jobID: jobID) {
            state = s.state
        } else if let s = try registry.jobState(jobID: jobID) {
            state = s
        } else {
            throw CommandFailure("job \(jobID) not found")
        }
        display.update(state)
        if state.status != .pending {
            display.finish(state)
            return state
        }
        usleep(200_000)
    }
}
