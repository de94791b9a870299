import Foundation
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// Label rows' store on the twin and on PostgreSQL, one suite.
@Suite struct LabelStoreConformanceTests {
    @Test func labelStoreTwin() throws {
        try LabelStoreConformance.exercise {
            let registry = MemoryRegistry()
            return APIStoreUnderTest(store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                                     storeKey: { registry.storeAPIKey(tenantID: $0, hash: $1) }, revokeKey: { registry.revokeAPIKey(id: $0) })
        }
    }

    @Test func labelStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try LabelStoreConformance.exercise {
                APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                  storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                  revokeKey: { try registry.revokeAPIKey(id: $0) })
            }
        }
    }
}

/// Exports' store on the twin and on PostgreSQL, through the kind's planner and handler.
@Suite struct ExportStoreConformanceTests {
    @Test func exportStoreTwin() throws {
        try ExportStoreConformance.exercise {
            let registry = MemoryRegistry()
            return APIStoreUnderTest(store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                                     storeKey: { registry.storeAPIKey(tenantID: $0, hash: $1) }, revokeKey: { registry.revokeAPIKey(id: $0) })
        }
    }

    @Test func exportStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try ExportStoreConformance.exercise {
                APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                  storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                  revokeKey: { try registry.revokeAPIKey(id: $0) })
            }
        }
    }
}
