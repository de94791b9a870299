import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `WebhookStore`: one conformance suite on the twin and on PostgreSQL (a fresh schema).
@Suite struct WebhookStoreConformanceTests {
    @Test func webhookStoreTwin() throws {
        try WebhookStoreConformance.exercise {
            let store = MemoryWebhookStore()
            return WebhookStoreUnderTest(
                store: store, jobs: store.jobs,
                makeProject: { (UUID().uuidString.lowercased(), UUID().uuidString.lowercased()) },
                recordEvent: { id, type in
                    store.recordEvent(webhookID: id, type: type, payload: type == .agentWorkAvailable
                                      ? .object([("reason", .string("batch_size_reached"))]) : .object([("project_hash", .string("p"))]))
                })
        }
    }

    @Test func webhookStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try WebhookStoreConformance.exercise {
                WebhookStoreUnderTest(
                    store: registry, jobs: registry.jobs,
                    makeProject: {
                        let tenant = try registry.createTenant(name: "t-\(UInt64.random(in: 0 ... .max))")
                        let project = try conn.query("INSERT INTO projects (tenant_id, title, workflow) VALUES ($1, 'p', '{}') RETURNING id::text",
                                                     [tenant])[row: 0, column: 0]!
                        return (tenant, project)
                    },
                    recordEvent: { id, type in
                        // What the migration's triggers write for a task move (tested live in WebhookLiveTests).
                        _ = try conn.query("""
                            INSERT INTO webhook_events (webhook_id, tenant_id, event_type, payload)
                            SELECT id, tenant_id, $2, json_build_object('project_hash', project_id, 'stage_uuid', stage, 'reason', 'batch_size_reached')::text
                            FROM webhooks WHERE id = $1::uuid
                            ON CONFLICT (webhook_id) WHERE state = 'pending' AND attempts = 0 AND job_id IS NULL
                                AND event_type = 'agent_stage_work_available_event' DO NOTHING
                            """, [id, type.rawValue])
                    })
            }
        }
    }
}
