import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The folder-sync stores on the twin and on PostgreSQL, one suite.
@Suite struct FolderSyncStoreConformanceTests {
    @Test func folderSyncStoreTwin() throws {
        try FolderSyncStoreConformance.exercise {
            let twin = MemoryFolderSyncStore(jobs: MemoryJobStore())
            return FolderSyncStoreUnderTest(store: twin, jobs: twin.jobs, makeTenant: { UUID().uuidString.lowercased() },
                                            makeFolder: { twin.addFolder(tenantID: $0) }, makeIntegration: { twin.addIntegration(tenantID: $0) })
        }
    }

    @Test func folderSyncStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            let store = PostgresFolderSyncStore(connection: conn)
            try FolderSyncStoreConformance.exercise {
                FolderSyncStoreUnderTest(
                    store: store, jobs: store.jobs,
                    makeTenant: { try registry.createTenant(name: "t-" + UUID().uuidString.prefix(8).lowercased()) },
                    makeFolder: { tenant in
                        let json = try registry.createFolder(tenantID: tenant, name: "f-" + UUID().uuidString.prefix(8).lowercased())
                        guard case .string(let id)? = JSONValue.parse(Array(json.utf8))?["id"] else { throw PortError.conflict("no folder id") }
                        return id
                    },
                    makeIntegration: { tenant in
                        try conn.query("""
                            INSERT INTO integrations (id, tenant_id, name, kind, credentials, key_id)
                            VALUES (gen_random_uuid(), $1, $2, 's3-compatible', 'v1:test:x', 'test') RETURNING id
                            """, [tenant, "i-" + UUID().uuidString.prefix(8).lowercased()])[row: 0, column: 0]!
                    })
            }
        }
    }
}
