import Foundation
import RegistrarCore
import RegistrarRuntime

/// How `registrar api` behaves; every field has a flag and an environment variable.
public struct APIConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8000
    /// Dedicated threads for PostgreSQL/Redis/RabbitMQ calls (each owns its connections).
    public var blockingThreads = 8
    /// Largest manifest accepted, after decompression.
    public var maxManifestBytes = 512 << 20
    /// Requests per second per API key (token bucket), and the burst allowed.
    public var rateLimit = 200.0
    public var rateBurst = 400.0
    /// Seconds a key lookup is cached (a revoked key stops working within this time).
    public var keyCacheSeconds = 10.0
    /// Seconds an unknown key is remembered as unknown (a key created meanwhile works after it).
    public var unknownKeyCacheSeconds = 5.0
    /// Failed authentications allowed per client address: `authFailureRate` per second on
    /// average, bursts of `authFailureBurst`; beyond that `429` without a key lookup (0 = off).
    public var authFailureRate = 1.0
    public var authFailureBurst = 20.0
    /// Where browsers reach the API (`REGISTRAR_PUBLIC_URL`), and which peers' forwarding
    /// headers are believed (`REGISTRAR_TRUSTED_PROXIES`); see `OriginPolicy`.
    public var origins = OriginPolicy()
    /// A separate listener for `/metrics` (and `/healthz`, `/readyz`); 0 = serve them on `port`.
    public var metricsPort = 0
    /// Its address (nil: `host`).
    public var metricsHost: String?
    /// Label `registrar_job_seconds_since_progress` with each running job's id (every tenant's:
    /// off by default, the series is then the largest value over running jobs).
    public var metricsJobIDs = false
    /// Longest `?wait=` long-poll, and how often a waiting request re-reads progress.
    public var maxWaitSeconds = 60.0
    public var pollInterval = 0.25
    /// How long `GET /v1/uploads/{id}` may serve a snapshot it read before (0 = always fresh).
    public var snapshotCacheSeconds = 0.2
    /// Where uploads are spooled before they are stored in PostgreSQL.
    public var spoolDirectory = NSTemporaryDirectory()
    /// Largest file accepted from a disk (`POST /v1/folders/{id}/files`, signed PUTs;
    /// `REGISTRAR_MAX_UPLOAD_FILE_BYTES`).
    public var maxUploadFileBytes = 5 << 30
    /// Manifest limits (the coordinator must agree: same env vars).
    public var maxURLs: Int?
    public var maxUnits: Int?
    /// A key that tenant "default" always holds (for deployments: from a Secret).
    public var bootstrapKey: String?
    /// Addresses `POST /v1/integrations/{id}/test` may reach besides public ones (REGISTRAR_FETCH_ALLOW).
    public var fetchAllow = ""
    /// The credential key ring, read when a request needs it (default: `REGISTRAR_ENCRYPTION_KEYS`
    /// or `REGISTRAR_ENCRYPTION_KEYS_FILE`, as every process reads it; tests pass their own).
    /// The secret `GET /v1/objects/{key}` links are signed with (≥ 32 bytes; every replica
    /// the same). Nil: the route is not served.
    public var linkSecret: [UInt8]?
    public var keyRing: @Sendable () throws -> EncryptionKeyRing = { try KeyRingLoader.fromEnvironment() }
    /// Whether the API makes swift-metrics record into its Prometheus registry (once per
    /// process). In-process tests turn it off: other roles' code runs in the same process.
    public var bootstrapsMetrics = true

    public init() {}
}
