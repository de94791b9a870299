import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The API's store ports (`TenancyStore`, `UploadStore`, `IntegrationRecords`,
/// `DeploymentHealth`), one conformance suite run on the twin and on PostgreSQL (in a fresh
/// schema, migrated from scratch).
@Suite struct APIStoreConformanceTests {
    @Test func apiStoreTwin() throws {
        try APIStoreConformance.exercise {
            let registry = MemoryRegistry()
            return APIStoreUnderTest(store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                                     storeKey: { registry.storeAPIKey(tenantID: $0, hash: $1) },
                                     revokeKey: { registry.revokeAPIKey(id: $0) })
        }
    }

    @Test func apiStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try APIStoreConformance.exercise {
                APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                  storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                  revokeKey: { try registry.revokeAPIKey(id: $0) })
            }
        }
    }
}
