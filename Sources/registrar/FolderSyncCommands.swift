import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRuntime

/// `registrar folders sync-create|sync|sync-show|sync-delete`: cloud-synced folders (docs/sync.md).
/// They speak to PostgreSQL and RabbitMQ directly, like `submit`, in the default tenant.
struct FoldersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folders", abstract: "Cloud-synced folders: bind a folder to a bucket prefix and sync it.",
        subcommands: [SyncCreate.self, Sync.self, SyncShow.self, SyncDelete.self])

    /// A folder by id or name (the default tenant's), which must exist (sync-create creates it by name).
    static func folderID(_ given: String, _ registry: PostgresRegistry, create: Bool = false) throws -> String {
        if UUIDText.isValid(given),
           try registry.connection.query("SELECT 1 FROM folders WHERE id = $1 AND tenant_id = $2", [given, Schema.defaultTenantID]).count == 1 {
            return given
        }
        if let id = try registry.folderID(name: given) { return id }
        if create { return try registry.ensureFolder(name: given) }
        throw CommandFailure("no folder '\(given)' (give its id or name)")
    }

    struct SyncCreate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-create",
            abstract: "Bind a folder (created if missing) to an s3:// prefix or an Azure container prefix read with an integration.",
            discussion: "Prints the binding and, once only, the folder's notification secret (for POST /v1/folders/{id}/sync/notifications).")
        @Option(help: "The folder (id or name; a new name creates it).") var folder: String
        @Option(help: "The integration the bucket is read with (aws or s3-compatible for s3://, gcp for gs://, azure for a container URL).") var integration: String
        @Option(help: "s3://bucket/prefix/, gs://bucket/prefix/ or https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/ to sync.") var uri: String
        @Option(help: "Sync every INTERVAL (e.g. 24h, 90m; at least 60s): the coordinator starts due syncs.") var interval: String?
        @Option(help: "KEY+SUFFIX objects are JSON sidecars holding KEY's client metadata (e.g. .metadata.json).") var sidecarSuffix: String?
        @Flag(help: "Objects are only added, with keys after the last one: incremental syncs list after the last key (S3 StartAfter) and look for no deletions or overwrites.")
        var appendOnly = false
        @Flag(help: "Print one JSON object (the binding, with \"notificationSecret\").") var json = false
        @OptionGroup var servers: ServerOptions

        func run() throws {
            let spec: SyncBindingSpec
            switch SyncBindingSpec.parse(uri: uri, interval: interval, sidecarSuffix: sidecarSuffix, appendOnly: appendOnly) {
            case .failure(let e): throw CommandFailure("--\(["sidecarSuffix": "sidecar-suffix", "appendOnly": "append-only"][e.field] ?? e.field): \(e.message)")
            case .success(let s): spec = s
            }
            let registry = try connectStore(servers)
            guard let stored = try registry.integration(name: integration) else { throw CommandFailure("--integration: no integration named '\(integration)'") }
            if let problem = spec.integrationProblem(stored.kind, name: integration, settings: stored.settings) { throw CommandFailure("--integration: \(problem)") }
            let folderID = try FoldersCommand.folderID(folder, registry, create: true)
            let store = PostgresFolderSyncStore(connection: registry.connection)
            switch try store.createBinding(tenantID: Schema.defaultTenantID, folderID: folderID, integrationID: stored.id, spec: spec) {
            case .created(let secret):
                let binding = try store.bindingJSON(tenantID: Schema.defaultTenantID, folderID: folderID) ?? "{}"
                if json {
                    var v = JSONValue.parse(Array(binding.utf8)) ?? .object([])
                    if case .object(var members) = v { members.append(("notificationSecret", .string(secret))); v = .object(members) }
                    print(v.compactText)
                } else {
                    print("folder \(folderID) syncs \(spec.uri) with integration \(integration)" + (spec.intervalSeconds.map { " every \($0)s" } ?? ""))
                    print("notification secret (shown once): \(secret)")
                }
            case .exists: throw CommandFailure("folder '\(folder)' is bound already (registrar folders sync-delete --folder \(folder) first)")
            case .folderNotFound: throw CommandFailure("no folder '\(folder)'")
            case .integrationNotFound: throw CommandFailure("--integration: no integration named '\(integration)'")
            }
        }
    }

    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync", abstract: "Start a sync of a bound folder (or show the one running); --wait follows it.",
            discussion: "Exit status with --wait: 0 when the sync ends DONE, 1 otherwise. Objects that fail their probe are per-file errors (registrar errors JOB).")
        @Argument(help: "The folder (id or name).") var folder: String
        @Flag(help: "Follow the sync to its end with a progress line.") var wait = false
        @Flag(help: "Print the job's state as JSON (the last line with --wait).") var json = false
        @OptionGroup var servers: ServerOptions

        func run() throws {
            let registry = try connectStore(servers)
            let folderID = try FoldersCommand.folderID(folder, registry)
            let store = PostgresFolderSyncStore(connection: registry.connection)
            switch try store.startSync(tenantID: Schema.defaultTenantID, folderID: folderID, keys: nil) {
            case .noBinding: throw CommandFailure("folder '\(folder)' has no sync binding (registrar folders sync-create)")
            case .running(let jobID):
                if !json { printError("a sync of this folder is running already: job \(jobID)") }
                try follow(jobID, registry)
            case .started(let jobID):
                try queueAndReport(jobID, registry: registry, servers: servers, wait: wait, json: json)
            }
        }

        func follow(_ jobID: String, _ registry: PostgresRegistry) throws {
            guard wait else {
                if json, let state = try registry.jobState(jobID: jobID) { print(state.json) } else { print(jobID) }
                return
            }
            let final = try followJob(jobID, registry: registry, servers: servers, quiet: false)
            if json { print(final.json) }
            if final.status != .done { throw ExitCode(1) }
        }
    }

    struct SyncShow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sync-show", abstract: "Show a folder's binding, its last sync and its files by state (JSON).")
        @Argument(help: "The folder (id or name).") var folder: String
        @OptionGroup var servers: ServerOptions
        func run() throws {
            let registry = try connectStore(servers)
            let folderID = try FoldersCommand.folderID(folder, registry)
            guard let json = try PostgresFolderSyncStore(connection: registry.connection).bindingJSON(tenantID: Schema.defaultTenantID, folderID: folderID) else {
                throw CommandFailure("folder '\(folder)' has no sync binding")
            }
            print(json)
        }
    }

    struct SyncDelete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sync-delete", abstract: "Remove a folder's binding (its files stay).")
        @Option(help: "The folder (id or name).") var folder: String
        @OptionGroup var servers: ServerOptions
        func run() throws {
            let registry = try connectStore(servers)
            let folderID = try FoldersCommand.folderID(folder, registry)
            guard try PostgresFolderSyncStore(connection: registry.connection).deleteBinding(tenantID: Schema.defaultTenantID, folderID: folderID) else {
                throw CommandFailure("folder '\(folder)' has no sync binding")
            }
            print("binding of folder \(folderID) removed")
        }
    }
}

/// The folder-sync kind's adapters on a role's PostgreSQL connection: its store, and a bucket
/// reader that loads (and decrypts) the binding's integration from the same store.
func folderSyncParts(_ registry: PostgresRegistry, policy: FetchPolicy, ring: EncryptionKeyRing?) throws -> (store: PostgresFolderSyncStore, reader: S3BucketReader) {
    let store = PostgresFolderSyncStore(connection: registry.connection)
    let reader = try S3BucketReader(policy: policy)
    reader.integrationLoader = { id in
        guard let stored = try registry.integration(id: id) else { throw IntegrationStoreError(description: "integration \(id) no longer exists") }
        guard let ring else { throw IntegrationStoreError(description: "no credential key ring on this process (REGISTRAR_ENCRYPTION_KEYS)") }
        return (stored.kind, stored.settings, try stored.decryptSecret(ring: ring))
    }
    return (store, reader)
}

/// The API's folder-sync store: on the pool thread's PostgreSQL connection.
extension LiveAPIBackends: FolderSyncBackends {
    func folderSync() throws -> any FolderSyncAPIStore {
        guard let registry = try registry() as? PostgresRegistry else { throw PortError.unavailable("folder sync store") }
        return PostgresFolderSyncStore(connection: registry.connection)
    }
}
