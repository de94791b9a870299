import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `WorkflowTemplateStore` on the twin and on PostgreSQL (a fresh schema, migrated from scratch).
@Suite struct WorkflowTemplateStoreConformanceTests {
    @Test func templateStoreTwin() throws {
        try WorkflowTemplateStoreConformance.exercise {
            let registry = MemoryRegistry()
            return APIStoreUnderTest(store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                                     storeKey: { registry.storeAPIKey(tenantID: $0, hash: $1) },
                                     revokeKey: { registry.revokeAPIKey(id: $0) })
        }
    }

    @Test func templateStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try WorkflowTemplateStoreConformance.exercise {
                APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                  storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                  revokeKey: { try registry.revokeAPIKey(id: $0) })
            }
        }
    }
}
