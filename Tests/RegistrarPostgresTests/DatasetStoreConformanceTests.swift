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

    /// Creating a mirrored dataset waits for a registration commit into the folder that is in
    /// flight (its file inserts hold the folder row's key-share lock): the dataset's attach
    /// snapshot then includes that commit's files. Without the folder lock the dataset would be
    /// created at once, its snapshot would miss the file, and the file's own mirror insert (run
    /// before the dataset existed) would miss it too: a file in the folder but not in the dataset.
    @Test func aMirroredDatasetWaitsForRegistrationCommitsInFlight() throws {
        try withSchema { conn, schema in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            let s = APIStoreUnderTest(store: registry, makeTenant: { try registry.createTenant(name: $0) },
                                      storeKey: { try registry.storeAPIKey(tenantID: $0, name: nil, prefix: "rgk_test", hash: $1) },
                                      revokeKey: { try registry.revokeAPIKey(id: $0) })
            let tenant = try registry.createTenant(name: "mirror")
            let (folder, files) = try DatasetStoreConformance.folderWithFiles(s, tenant: tenant, name: "f", n: 2)
            let late = try DatasetStoreConformance.pendingUpload(s, tenant: tenant, folder: folder, urls: ["https://b.example/f/late.png"])
            let other = try connect(toSchema: schema)
            defer { other.close() }
            // A registration commit in flight: its transaction stays open after the chunk's writes.
            try other.execute("BEGIN")
            _ = try PostgresRegistry(connection: other).commitChunk(late)
            let lateID = Int64(try other.query("SELECT id FROM files WHERE job_id = $1::uuid", [late.jobID])[row: 0, column: 0]!)!
            #expect(lateID > files.last!)

            let creator = try connect(toSchema: schema)
            defer { creator.close() }
            let outcome = Box()
            let thread = Thread {
                outcome.set(try? PostgresRegistry(connection: creator).createDataset(tenantID: tenant, title: "M", description: nil,
                                                                                      mirroredFolderID: folder, createdBy: nil))
            }
            thread.start()
            usleep(700_000)
            #expect(outcome.get() == nil, "the mirrored dataset was created while a registration commit into its folder was open")
            try other.execute("COMMIT")
            let deadline = Date().addingTimeInterval(20)
            while outcome.get() == nil && Date() < deadline { usleep(20_000) }
            guard case .created(_, let job?)? = outcome.get() else { Issue.record("no attach job: \(String(describing: outcome.get()))"); return }
            let params = try DatasetAttachParams.parse(try #require(try registry.jobs.job(job)).params).get()
            #expect(params.folders.first?.maxFileID == lateID, "the snapshot includes the file committed meanwhile")
        }
    }
}

/// A value handed between threads.
final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var value: DatasetCreation?
    func set(_ v: DatasetCreation?) { lock.withLock { value = v } }
    func get() -> DatasetCreation? { lock.withLock { value } }
}
