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

/// Two admins demoting each other at the same moment, on two connections: the project row lock
/// serialises them, so exactly one wins and the project keeps a direct ADMIN.
@Suite struct LastAdminRaceTests {
    @Test func concurrentDemotionsLeaveOneAdmin() throws {
        try withSchema { conn, schema in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let setup = PostgresRegistry(connection: conn)
            let tenant = try setup.createTenant(name: "race")
            func user(_ email: String) throws -> String {
                try #require(JSONCompare.string(try setup.createUser(tenantID: tenant, email: email, name: nil, role: .member), "id"))
            }
            let a = try user("a@x.io"), b = try user("b@x.io")
            let connections = [try connect(toSchema: schema), try connect(toSchema: schema)]
            defer { connections.forEach { $0.close() } }
            let stores = connections.map { PostgresRegistry(connection: $0) }
            for trial in 0..<20 {
                let p = try #require(JSONCompare.string(try setup.createProject(NewProject(
                    tenantID: tenant, title: "P\(trial)", description: nil, tags: [], ontologyID: nil, datasetIDs: [],
                    workflow: "{}", createdBy: a)), "id"))
                _ = try setup.addMember(projectID: p, subject: .user(b), role: .admin)
                let members = try setup.members(projectID: p).compactMap { JSONCompare.string($0, "id") }
                let outcomes = Outcomes()
                let start = DispatchSemaphore(value: 0)
                let done = DispatchGroup()
                for (store, member) in zip(stores, members) {
                    done.enter()
                    // Each thread owns its store (and connection) for the call.
                    nonisolated(unsafe) let store = store
                    Thread {
                        start.wait()
                        do { _ = try store.setMemberRole(projectID: p, memberID: member, role: .viewer); outcomes.add("ok") }
                        catch AccessRefusal.lastAdmin { outcomes.add("last_admin") } catch { outcomes.add("\(error)") }
                        done.leave()
                    }.start()
                }
                start.signal(); start.signal()
                done.wait()
                #expect(outcomes.all.sorted() == ["last_admin", "ok"], "trial \(trial)")
                let admins = try conn.query("SELECT count(*) FROM project_members WHERE project_id = $1::uuid AND role = 'ADMIN'", [p])
                #expect(admins[row: 0, column: 0] == "1", "trial \(trial)")
            }
        }
    }

    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        func add(_ v: String) { lock.lock(); values.append(v); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return values }
    }
}
