import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRuntime

/// Opens `gs://BUCKET/PREFIX?integration=NAME` storage (docs/storage.md): the named `gcp`
/// integration's service-account key, read from PostgreSQL and decrypted with the key ring as
/// workers do for reads, authorizes the GCS adapter; its requests obey `addressPolicy`.
enum GCSStorageFactory {
    static func make(_ target: GCSStorageTarget, postgresURL: String, addressPolicy: AddressPolicy) throws -> any ObjectStorage {
        let registry = try PostgresRegistry(url: postgresURL)
        defer { registry.connection.close() }
        guard let stored = try registry.integration(name: target.integration) else {
            throw StorageError.unavailable("\(target.display): there is no integration named '\(target.integration)' (see `registrar integrations list`)")
        }
        let secret: IntegrationSecret
        do { secret = try stored.decryptSecret(ring: loadKeyRing()) } catch {
            throw StorageError.unavailable("\(target.display): the credentials of integration '\(target.integration)' cannot be decrypted: \(error)")
        }
        let storage = try GCSObjectStorage(target: target, kind: stored.kind, settings: stored.settings, secret: secret,
                                           policy: FetchPolicy(addressPolicy: addressPolicy))
        storage.integrationID = stored.id
        return storage
    }
}
