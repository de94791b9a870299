import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `AccessStore` (users, groups, tags, projects, collaborators): one conformance suite on the
/// twin and on PostgreSQL (a fresh schema, migrated from scratch).
@Suite struct AccessStoreConformanceTests {
    @Test func accessStoreTwin() throws {
        try AccessStoreConformance.exercise {
            let registry = MemoryRegistry()
            return AccessStoreUnderTest(
                store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                makeCatalogObject: { ontology, tenant in
                    let id = UUID().uuidString.lowercased()
                    registry.noteCatalogObject(ontology: ontology, id: id, tenantID: tenant)
                    return id
                },
                userKey: { tenant, user in
                    let hash = APIKey.hash(APIKey.generate())
                    _ = registry.storeAPIKey(tenantID: tenant, hash: hash, userID: user)
                    return hash
                })
        }
    }

    @Test func accessStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try AccessStoreConformance.exercise {
                AccessStoreUnderTest(
                    store: registry, makeTenant: { try registry.createTenant(name: $0) },
                    makeCatalogObject: { ontology, tenant in
                        let sql = ontology
                            ? "INSERT INTO ontologies (tenant_id, title, structure) VALUES ($1, 'o', '{}') RETURNING id"
                            : "INSERT INTO datasets (tenant_id, title) VALUES ($1, 'd') RETURNING id"
                        return try #require(try conn.query(sql, [tenant])[row: 0, column: 0])
                    },
                    userKey: { tenant, user in
                        let hash = APIKey.hash(APIKey.generate())
                        _ = try registry.storeAPIKey(tenantID: tenant, userID: user, name: nil, prefix: "rgk_test", hash: hash)
                        return hash
                    })
            }
        }
    }
}
