import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `OntologyStore`: one conformance suite on the twin and on PostgreSQL (a fresh schema).
@Suite struct OntologyStoreConformanceTests {
    @Test func ontologyStoreTwin() throws {
        try OntologyStoreConformance.exercise {
            let registry = MemoryRegistry()
            return OntologyStoreUnderTest(
                store: registry, makeTenant: { try #require(registry.createTenant(name: $0)) },
                makeUser: { _ in UUID().uuidString.lowercased() },
                useOntology: { ontology, tenant in
                    let project = UUID().uuidString.lowercased()
                    registry.useOntology(ontology, byProject: project, tenantID: tenant)
                    return project
                })
        }
    }

    @Test func ontologyStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try OntologyStoreConformance.exercise {
                OntologyStoreUnderTest(
                    store: registry, makeTenant: { try registry.createTenant(name: $0) },
                    makeUser: { tenant in
                        try conn.query("INSERT INTO users (tenant_id, email) VALUES ($1, $2) RETURNING id::text",
                                       [tenant, "u\(UInt32.random(in: 0 ... .max))@example.com"])[row: 0, column: 0]!
                    },
                    useOntology: { ontology, tenant in
                        try conn.query("INSERT INTO projects (tenant_id, title, ontology_id, workflow) VALUES ($1, 'p', $2::uuid, '{}') RETURNING id::text",
                                       [tenant, ontology])[row: 0, column: 0]!
                    })
            }
        }
    }
}
