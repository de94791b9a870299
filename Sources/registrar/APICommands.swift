import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RegistrarAPI
import RegistrarCore
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime

/// `registrar api [--host H] [--port P]`: the operator HTTP API, status page and metrics.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "Serve the operator HTTP API, the status page and /metrics.")

    @Option(help: "Address to listen on (env REGISTRAR_API_HOST).") var host = ServerOptions.env("REGISTRAR_API_HOST", "127.0.0.1")
    @Option(help: "Port to listen on (env REGISTRAR_API_PORT).") var port = Int(ServerOptions.env("REGISTRAR_API_PORT", "8000")) ?? 8000
    @Option(help: "Requests per second per API key; 0 = unlimited (env REGISTRAR_API_RATE_LIMIT).")
    var rateLimit = Double(ServerOptions.env("REGISTRAR_API_RATE_LIMIT", "200")) ?? 200
    @Option(help: "Largest manifest accepted, in bytes after decompression (env REGISTRAR_API_MAX_MANIFEST_BYTES).")
    var maxManifestBytes = Int(ServerOptions.env("REGISTRAR_API_MAX_MANIFEST_BYTES", "")) ?? (512 << 20)
    @Option(help: "Threads for blocking database/queue calls.") var blockingThreads = 8
    @Option(help: "Serve /metrics (with /healthz, /readyz) on this port instead of the API's; 0 = on the API's port (env REGISTRAR_API_METRICS_PORT).")
    var metricsPort = Int(ServerOptions.env("REGISTRAR_API_METRICS_PORT", "0")) ?? 0
    @Option(help: "Address of the metrics port; default: --host (env REGISTRAR_API_METRICS_HOST).")
    var metricsHost = ServerOptions.env("REGISTRAR_API_METRICS_HOST", "")
    @Flag(help: "Label registrar_job_seconds_since_progress with every running job's id, all tenants' (env REGISTRAR_METRICS_JOB_IDS=true); default: one series, the largest value.")
    var metricsJobIds = false
    @Option(help: "Failed authentications per second allowed per client address, on average; 0 = no limit (env REGISTRAR_API_AUTH_FAILURE_RATE).")
    var authFailureRate = Double(ServerOptions.env("REGISTRAR_API_AUTH_FAILURE_RATE", "1")) ?? 1
    @Option(help: "Failed authentications allowed per client address at once, before 429 (env REGISTRAR_API_AUTH_FAILURE_BURST).")
    var authFailureBurst = Double(ServerOptions.env("REGISTRAR_API_AUTH_FAILURE_BURST", "20")) ?? 20
    @Option(help: "Seconds an unknown key is remembered as unknown, so repeating it costs no lookup (env REGISTRAR_API_UNKNOWN_KEY_CACHE_SECONDS).")
    var unknownKeyCacheSeconds = Double(ServerOptions.env("REGISTRAR_API_UNKNOWN_KEY_CACHE_SECONDS", "5")) ?? 5
    @Option(help: "Proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For/-Host/-Proto are believed; default none (env REGISTRAR_TRUSTED_PROXIES).")
    var trustedProxies = ServerOptions.env("REGISTRAR_TRUSTED_PROXIES", "")
    @Option(help: "The origin browsers use for the status page, e.g. https://registrar.example.com; requests for another host can't use the cookie to write (env REGISTRAR_PUBLIC_URL).")
    var publicUrl = ServerOptions.env("REGISTRAR_PUBLIC_URL", "")
    @OptionGroup var storage: StorageOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var manifestLimits: ManifestLimitOptions
    @OptionGroup var amqp: AMQPOptions

    func validate() throws {
        do { _ = try TrustedProxies(parsing: trustedProxies) } catch { throw ValidationError("--trusted-proxies: \(error)") }
        if !publicUrl.isEmpty, WebOrigin(url: publicUrl) == nil {
            throw ValidationError("--public-url must be an http(s) URL without credentials, e.g. https://registrar.example.com")
        }
        if authFailureRate < 0 || !authFailureRate.isFinite { throw ValidationError("--auth-failure-rate must be ≥ 0") }
        if authFailureBurst < 1 || !authFailureBurst.isFinite { throw ValidationError("--auth-failure-burst must be ≥ 1") }
        if unknownKeyCacheSeconds < 0 || !unknownKeyCacheSeconds.isFinite { throw ValidationError("--unknown-key-cache-seconds must be ≥ 0") }
        _ = try storage.location()
        _ = try storage.linkSecret()
        if metricsPort < 0 || metricsPort > 65535 { throw ValidationError("--metrics-port must be 0 to 65535") }
        if metricsPort != 0 && metricsPort == port { throw ValidationError("--metrics-port must differ from --port") }
    }

    func run() async throws {
        var config = APIConfiguration()
        config.host = host
        config.port = port
        config.rateLimit = rateLimit
        config.rateBurst = max(1, rateLimit * 2)
        config.maxManifestBytes = maxManifestBytes
        config.blockingThreads = blockingThreads
        config.maxURLs = manifestLimits.maxUrls
        config.maxUnits = manifestLimits.maxUnits
        config.fetchAllow = ServerOptions.env("REGISTRAR_FETCH_ALLOW", "")
        if let cap = Int(ServerOptions.env("REGISTRAR_MAX_UPLOAD_FILE_BYTES", "")), cap > 0 { config.maxUploadFileBytes = cap }
        config.bootstrapKey = ProcessInfo.processInfo.environment["REGISTRAR_BOOTSTRAP_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        config.metricsPort = metricsPort
        config.metricsHost = metricsHost.isEmpty ? nil : metricsHost
        config.metricsJobIDs = metricsJobIds || ["true", "1", "yes"].contains(ServerOptions.env("REGISTRAR_METRICS_JOB_IDS", "").lowercased())
        config.authFailureRate = authFailureRate
        config.authFailureBurst = authFailureBurst
        config.unknownKeyCacheSeconds = unknownKeyCacheSeconds
        config.origins = OriginPolicy(publicOrigin: publicUrl.isEmpty ? nil : WebOrigin(url: publicUrl),
                                      trustedProxies: (try? TrustedProxies(parsing: trustedProxies)) ?? TrustedProxies())
        let logger = servers.logger("registrar.api")
        if let secret = try storage.linkSecret() {
            config.linkSecret = secret
        } else {
            config.linkSecret = (0..<32).map { _ in UInt8.random(in: 0...255) }
            logger.warning("REGISTRAR_LINK_SECRET is not set: object links signed by this process work only until it restarts, and not on other replicas")
        }
        let urls = ServerURLs(postgres: servers.postgresURL, amqp: servers.amqpURL, redis: servers.redisURL,
                              amqpHeartbeatSeconds: try amqp.heartbeatSeconds(), storage: try storage.location(), fetchAllow: config.fetchAllow)
        let app = APIServer.make(config: config, backends: { LiveAPIBackends(urls: urls) },
                                 integrationTester: LiveIntegrationTester(fetchAllow: config.fetchAllow), logger: logger)
        logger.info("listening", metadata: ["address": "\(host):\(port)"])
        if metricsPort > 0 { logger.info("metrics listening", metadata: ["address": "\(config.metricsHost ?? host):\(metricsPort)"]) }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// `registrar tenants add NAME | list`.
struct TenantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenants", abstract: "Manage tenants.",
                                                    subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant; prints its id.")
        @Argument(help: "The tenant's name.") var name: String
        @OptionGroup var servers: ServerOptions
        func run() throws {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw CommandFailure("the tenant name must not be empty") }
            do { print(try connectStore(servers).createTenant(name: trimmed)) } catch let c as RegistryConflict { throw CommandFailure(c.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Flag(help: "One JSON object per line.") var json = false
        @OptionGroup var servers: ServerOptions
        func run() throws {
            for t in try connectStore(servers).tenants() {
                print(json ? JSONValue.object([("id", .string(t.id)), ("name", .string(t.name)), ("createdAt", .string(t.createdAt))]).compactText
                           : "\(t.id)\t\(t.name)")
            }
        }
    }
}

/// `registrar keys create --tenant NAME | list | revoke ID`.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage API keys.",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key. The key is printed once, alone on the last line; only its hash is stored.")
        @Option(help: "The tenant the key acts for (with --user: the user's tenant, needed only when the email is in several).") var tenant: String?
        @Option(help: "Make a key that acts as this user (an email; see `registrar users add`); without it, a workspace-admin service key.") var user: String?
        @Option(help: "A label for the key.") var name: String?
        @OptionGroup var servers: ServerOptions
        func run() throws {
            let registry = try connectStore(servers)
            if let user { return try createUserKey(registry, email: user) }
            guard let tenant else { throw CommandFailure("say which tenant the key is for (--tenant NAME), or which user it acts as (--user EMAIL)") }
            guard let tenantID = try registry.tenantID(name: tenant) else {
                throw CommandFailure("no tenant named \(tenant) (create it with `registrar tenants add \(tenant)`)")
            }
            let key = APIKey.generate()
            let id = try registry.storeAPIKey(tenantID: tenantID, name: name, prefix: APIKey.displayPrefix(key), hash: APIKey.hash(key))
            print("key \(id) for tenant \(tenant) (shown once; store it now):")
            print(key)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (prefixes only).")
        @Option(help: "Only this tenant's keys.") var tenant: String?
        @OptionGroup var servers: ServerOptions
        func run() throws {
            let registry = try connectStore(servers)
            var tenantID: String?
            if let tenant {
                guard let id = try registry.tenantID(name: tenant) else { throw CommandFailure("no tenant named \(tenant)") }
                tenantID = id
            }
            for k in try registry.apiKeys(tenantID: tenantID) {
                print("\(k.id)\t\(k.tenant)\t\(k.prefix)…\t\(k.name ?? "-")\t\(k.createdAt)\t\(k.revokedAt.map { "revoked \($0)" } ?? "active")\t\(k.userEmail ?? "service")")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by id (the API stops accepting it within seconds).")
        @Argument(help: "The key's id (from `keys list`).") var id: String
        @OptionGroup var servers: ServerOptions
        func run() throws {
            guard try connectStore(servers).revokeAPIKey(id: id) else { throw CommandFailure("no active key \(id)") }
            print("revoked \(id)")
        }
    }
}

/// `registrar retry JOB`: a new job made of exactly the failed units of JOB (no re-upload).
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Register the failed units of a finished job again, as a new job.")
    @Argument(help: "The finished job whose failed units to retry.") var job: String
    @Flag(help: "Follow the new job to its end.") var wait = false
    @Flag(help: "Print the new job's state as JSON.") var json = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        if let api = APIClient.fromEnvironment() { return try runViaAPI(api) }
        let registry = try connectStore(servers)
        guard let parent = try registry.loadJob(job) else { throw CommandFailure("no job \(job)") }
        guard parent.status != .pending else { throw CommandFailure("job \(job) is still running; retry it once it has finished") }
        guard let tenantID = try registry.jobExtras(jobID: job, window: 1)?.tenantID,
              let newID = try registry.createRetryJob(tenantID: tenantID, jobID: job) else {
            print("job \(job) has no failed units; nothing to retry")
            throw ExitCode(1)
        }
        if let total = try registry.loadJob(newID)?.totalUnits { try? RedisProgressTracker(url: servers.redisURL).setTotal(jobID: newID, total: total) }
        try queueAndReport(newID, registry: registry, servers: servers, wait: wait, json: json)
    }
}
