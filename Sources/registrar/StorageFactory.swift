import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRuntime

/// Opens Registrar's own object storage for a `REGISTRAR_STORAGE_URL` (docs/storage.md): the
/// local directory adapter, or the S3, GCS or Azure adapter signed with the named integration's
/// credentials (read from PostgreSQL and decrypted with the key ring, as workers do for reads).
/// The bucket adapters' requests obey `addressPolicy`, the same SSRF rules as object reads.
enum StorageFactory {
    static func make(_ location: StorageLocation, postgresURL: String, addressPolicy: AddressPolicy) throws -> any ObjectStorage {
        let policy = FetchPolicy(addressPolicy: addressPolicy)
        switch location {
        case .directory(let root):
            return try LocalObjectStorage(root: root)
        case .s3(let target):
            let (stored, secret) = try integration(named: target.integration, shown: target.display, postgresURL: postgresURL)
            let storage = try S3ObjectStorage(target: target, kind: stored.kind, settings: stored.settings, secret: secret, policy: policy)
            storage.integrationID = stored.id
            return storage
        case .gcs(let target):
            let (stored, secret) = try integration(named: target.integration, shown: target.display, postgresURL: postgresURL)
            let storage = try GCSObjectStorage(target: target, kind: stored.kind, settings: stored.settings, secret: secret, policy: policy)
            storage.integrationID = stored.id
            return storage
        case .azure(let target):
            let (stored, secret) = try integration(named: target.integration, shown: target.display, postgresURL: postgresURL)
            let storage = try AzureObjectStorage(target: target, kind: stored.kind, settings: stored.settings, secret: secret, policy: policy)
            storage.integrationID = stored.id
            return storage
        }
    }

    /// The named integration of the default tenant and its decrypted credentials.
    private static func integration(named name: String, shown: String, postgresURL: String) throws -> (StoredIntegration, IntegrationSecret) {
        let registry = try PostgresRegistry(url: postgresURL)
        defer { registry.connection.close() }
        guard let stored = try registry.integration(name: name) else {
            throw StorageError.unavailable("\(shown): there is no integration named '\(name)' (see `registrar integrations list`)")
        }
        do { return (stored, try stored.decryptSecret(ring: loadKeyRing())) } catch {
            throw StorageError.unavailable("\(shown): the credentials of integration '\(name)' cannot be decrypted: \(error)")
        }
    }
}
