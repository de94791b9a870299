import Foundation
import RegistrarAPI
import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime

// `registrar api`'s adapters: the only place the API meets PostgreSQL, Redis, RabbitMQ and
// libcurl. `RegistrarAPI` sees the ports (`APIBackends`, `IntegrationTester`).

/// Where the servers are.
struct ServerURLs: Sendable {
    var postgres: String
    var amqp: String
    var redis: String
    /// Proposed to the broker by the publisher connections (their own thread keeps idle ones alive).
    var amqpHeartbeatSeconds: Int = AMQPWorkQueue.defaultHeartbeatSeconds
    /// Registrar's own object storage (`REGISTRAR_STORAGE_URL`).
    var storage: StorageLocation?
    /// `REGISTRAR_FETCH_ALLOW`: the address policy of bucket storage's requests, as for reads.
    var fetchAllow = ""
}

/// One API pool thread's connections, opened on first use and dropped after a fault so the next
/// call reconnects. Owned by exactly one pool thread (the C handles are not thread-safe).
final class LiveAPIBackends: APIBackends {
    let urls: ServerURLs
    private var _registry: PostgresRegistry?
    private var _tracker: RedisProgressTracker?
    private var _publisher: AMQPWorkQueue?

    init(urls: ServerURLs) { self.urls = urls }

    private var _storage: (any ObjectStorage)?

    func storage() throws -> any ObjectStorage {
        if let s = _storage { return s }
        guard let location = urls.storage else { throw StorageError.unavailable("no object storage is configured") }
        let s = try StorageFactory.make(location, postgresURL: urls.postgres, addressPolicy: (try? AddressPolicy(allowList: urls.fetchAllow)) ?? AddressPolicy())
        _storage = s
        return s
    }

    func registry() throws -> any APIStore {
        if let r = _registry { return r }
        let r = try PostgresRegistry(url: urls.postgres)
        _registry = r
        return r
    }

    func tracker() throws -> any ProgressTracker {
        if let t = _tracker { return t }
        let t = try RedisProgressTracker(url: urls.redis)
        _tracker = t
        return t
    }

    func publisher() throws -> any JobPublisher {
        if let p = _publisher { return p }
        let p = try AMQPWorkQueue(url: urls.amqp, role: .publisher, heartbeatSeconds: urls.amqpHeartbeatSeconds)
        _publisher = p
        return p
    }

    /// After an error: close whatever may be broken. Cheap to reopen; never wrong to drop.
    func dropUnhealthy(after error: Error) {
        if let r = _registry, !r.connection.isHealthy { r.connection.close(); _registry = nil }
        if error is RedisError { _tracker = nil }
        if error is AMQPError { _publisher?.close(); _publisher = nil }
    }
}

/// `POST /v1/integrations/{id}/test` with libcurl (`IntegrationCheck`), under the deployment's
/// fetch address policy (`REGISTRAR_FETCH_ALLOW`).
struct LiveIntegrationTester: IntegrationTester {
    let fetchAllow: String

    func test(_ integration: StoredIntegration, secret: IntegrationSecret, url: String) throws -> String {
        let policy = FetchPolicy(addressPolicy: try AddressPolicy(allowList: fetchAllow))
        return IntegrationCheck.run(name: integration.name, kind: integration.kind, settings: integration.settings, secret: secret, url: url,
                                    fetcher: try RangeFetcher(policy: policy)).json
    }
}
