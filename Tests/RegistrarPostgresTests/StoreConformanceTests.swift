import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The engine's and registration's store ports, one conformance suite each, run on the twin and
/// on PostgreSQL (each real run in a fresh schema, migrated from scratch).
@Suite struct StoreConformanceTests {
    static let tenant = Schema.defaultTenantID

    @Test func jobStoreTwin() throws {
        try JobStoreConformance.exercise {
            let store = MemoryJobStore()
            return JobStoreUnderTest(store: store, commit: { id, letter, body in try store.commitChunk(id, deadLetter: letter, body) },
                                     unitErrors: { store.unitErrors(jobID: $0) })
        }
    }

    @Test func jobStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            try JobStoreConformance.exercise {
                let store = PostgresJobStore(connection: conn)
                return JobStoreUnderTest(store: store, commit: { id, letter, body in try store.commitChunk(id, deadLetter: letter) { _ in try body() } },
                                         unitErrors: { try Self.unitErrors(conn, jobID: $0) })
            }
            // The dead letter was kept with its chunk (for `registrar dlq`).
            let dead = try PostgresJobStore(connection: conn).deadChunks()
            #expect(dead.count == 1 && dead.first?.deliveries == 6 && dead.first?.reason == "delivery_limit" && dead.first?.kind == "conformance")
        }
    }

    @Test func registrationStoreTwin() throws {
        try RegistrationStoreConformance.exercise {
            let registry = MemoryRegistry()
            return RegistrationStoreUnderTest(
                store: registry, jobs: registry.jobs, makeFolder: { registry.createFolder(name: "f") },
                createJob: { folder, manifest, format in try registry.createJob(folderID: folder, manifest: manifest, format: format) },
                createRetryJob: { try registry.createRetryJob(of: $0) },
                files: { job in registry.files(jobID: job).mapValues(\.unit.urlKey) })
        }
    }

    @Test func registrationStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try RegistrationStoreConformance.exercise {
                RegistrationStoreUnderTest(
                    store: registry, jobs: registry.jobs,
                    makeFolder: { try registry.ensureFolder(name: "f-" + String(UInt64.random(in: 0 ... .max), radix: 36)) },
                    createJob: { folder, manifest, format in
                        var source = MemoryByteSource(manifest)
                        return try registry.createJob(folderID: folder, fileName: "m.json", format: format, ignoreErrors: false, manifest: &source)
                    },
                    createRetryJob: { try registry.createRetryJob(tenantID: Self.tenant, jobID: $0) },
                    files: { job in
                        let rows = try conn.query("SELECT unit_index, url_key FROM files WHERE job_id = $1::uuid", [job])
                        return Dictionary(uniqueKeysWithValues: (0..<rows.count).map { (Int(rows[row: $0, column: 0]!)!, rows[row: $0, column: 1]!) })
                    })
            }
        }
    }

    static func unitErrors(_ conn: PGConnection, jobID: String) throws -> [UnitError] {
        let rows = try conn.query("""
            SELECT unit_index, array_to_json(object_urls)::text, code, message, action FROM unit_errors
            WHERE job_id = $1::uuid ORDER BY unit_index
            """, [jobID])
        return (0..<rows.count).map { i in
            let urls: [String]
            if case .array(let items)? = JSONValue.parse(Array(rows[row: i, column: 1]!.utf8)) {
                urls = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            } else {
                urls = []
            }
            return UnitError(index: Int(rows[row: i, column: 0]!)!, urls: urls, code: UnitErrorCode(rawValue: rows[row: i, column: 2]!),
                             message: rows[row: i, column: 3]!, action: rows[row: i, column: 4]!)
        }
    }
}
