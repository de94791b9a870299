import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// Datasets and the `dataset-attach` kind's store, on the twin and on PostgreSQL.
@Suite struct DatasetStoreConformanceTests {
    @Test func datasetStoreTwin() throws {
        var last: MemoryRegistry?
        try DatasetStoreConformance.exercise({
            let registry = MemoryRegistry()
            last = registry
            return APIStoreUnderTest(store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                                     storeKey: { registry.storeAPIKey(tenantID: $0, hash: $1) },
                                     revokeKey: { registry.revokeAPIKey(id: $0) })
        }, markUsed: { _, dataset in
            let project = UUID().uuidString.lowercased()
            last?.markDatasetUsed(dataset, byProject: project)
            return project
        })
    }

    @Test func datasetStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try DatasetStoreConformance.exercise({
                APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                  storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                  revokeKey: { try registry.revokeAPIKey(id: $0) })
            }, markUsed: { tenant, dataset in
                let project = try conn.query("INSERT INTO projects (tenant_id, title, workflow) VALUES ($1, 'p', '{}') RETURNING id::text", [tenant])[row: 0, column: 0]!
                _ = try conn.query("INSERT INTO project_datasets (project_id, dataset_id) VALUES ($1::uuid, $2::uuid)", [project, dataset])
                return project
            })
        }
    }
}
