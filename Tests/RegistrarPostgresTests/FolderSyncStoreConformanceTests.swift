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

    /// Interval syncs: a due binding is claimed once (two coordinators asking in turn), a binding
    /// whose sync runs is not due again, and the claim moves the next due time on.
    @Test func dueSyncsAreClaimedOnceAndNotWhileRunning() throws {
        try withSchema { conn, schema in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            let tenant = try registry.createTenant(name: "due")
            guard case .string(let folder)? = JSONValue.parse(Array(try registry.createFolder(tenantID: tenant, name: "f").utf8))?["id"] else {
                Issue.record("no folder"); return
            }
            let integration = try conn.query("""
                INSERT INTO integrations (id, tenant_id, name, kind, credentials, key_id)
                VALUES (gen_random_uuid(), $1, 'i', 's3-compatible', 'v1:test:x', 'test') RETURNING id
                """, [tenant])[row: 0, column: 0]!
            let a = PostgresFolderSyncStore(connection: conn)
            let other = try connect(toSchema: schema)
            defer { other.close() }
            let b = PostgresFolderSyncStore(connection: other)
            let spec = try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: "1h", sidecarSuffix: nil, appendOnly: false).get()
            guard case .created = try a.createBinding(tenantID: tenant, folderID: folder, integrationID: integration, spec: spec) else { Issue.record("no binding"); return }
            #expect(try a.claimDueSync() == nil, "not due before its interval")
            _ = try conn.query("UPDATE folder_syncs SET next_due_at = now() - interval '1 second'")
            // Two coordinators (two connections), one after the other: the first claims, the second finds nothing due.
            let first = try a.claimDueSync()
            let second = try b.claimDueSync()
            #expect(first != nil && second == nil)
            #expect(try conn.query("SELECT count(*) FROM jobs WHERE kind = 'folder-sync'")[row: 0, column: 0] == "1")
            #expect(try conn.query("SELECT next_due_at > now() + interval '59 minutes' FROM folder_syncs")[row: 0, column: 0] == "t")
            // Due again while its sync runs: not claimed.
            _ = try conn.query("UPDATE folder_syncs SET next_due_at = now() - interval '1 second'")
            #expect(try b.claimDueSync() == nil)
            // The sync finished: claimed again, through the scheduler that publishes it.
            _ = try conn.query("UPDATE jobs SET status = 'DONE' WHERE id = $1", [first!])
            var published: [String] = []
            let started = try FolderSyncScheduler(claim: { try b.claimDueSync() }, publish: { published.append($0) }).runOnce()
            #expect(started.count == 1 && published == started && started[0] != first)
        }
    }
}
