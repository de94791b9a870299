import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The `sequence-encode` kind's store (docs/sequences.md) on the twin and on PostgreSQL, one suite.
@Suite struct SequenceStoreConformanceTests {
    @Test func sequenceStoreTwin() throws {
        try SequenceStoreConformance.exercise {
            let registry = MemoryRegistry()
            return SequenceStoreUnderTest(store: registry, jobs: registry.jobs) { manifest, options in
                let folder = registry.createFolder(name: "f-\(UUID().uuidString.prefix(8))")
                let job = try registry.createJob(folderID: folder, manifest: manifest, format: .json)
                try registry.setSequenceOptions(jobID: job, options)
                return job
            }
        }
    }

    @Test func sequenceStorePostgres() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Schema.migrations)
            let registry = PostgresRegistry(connection: conn)
            try SequenceStoreConformance.exercise {
                SequenceStoreUnderTest(store: registry, jobs: registry.jobs) { manifest, options in
                    let folder = try registry.ensureFolder(name: "f-\(UUID().uuidString.prefix(8))")
                    var source = MemoryByteSource(manifest)
                    let job = try registry.createJob(folderID: folder, fileName: "m.json", format: .json, ignoreErrors: false, manifest: &source)
                    try registry.setSequenceOptions(jobID: job, options)
                    return job
                }
            }
        }
    }

    /// Migration 13 records registration jobs that finished before it as `before_encoding`:
    /// an upgrade does not encode old sequences.
    @Test func jobsFinishedBeforeTheMigrationAreNotEncoded() throws {
        try withSchema { conn, _ in
            _ = try Migrator.migrate(conn, Array(Schema.migrations.prefix(12)))
            let registry = PostgresRegistry(connection: conn)
            let folder = try registry.ensureFolder(name: "old")
            var source = MemoryByteSource(Array(#"{"image_groups":[{"title":"s","createVideo":true,"objectUrl_0":"https://b.example/0.jpg"}]}"#.utf8))
            let old = try registry.createJob(folderID: folder, fileName: "m.json", format: .json, ignoreErrors: false, manifest: &source)
            _ = try conn.query("UPDATE jobs SET status = 'DONE', phase = 'finished' WHERE id = $1", [old])
            _ = try Migrator.migrate(conn, Schema.migrations)
            #expect(try conn.query("SELECT reason FROM sequence_encodes WHERE registration_job_id = $1", [old])[row: 0, column: 0] == "before_encoding")
            #expect(try registry.dispatchSequenceEncodes(limit: 10) == [])
        }
    }
}
