import Foundation
import Logging
import RegistrarCore
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime
import RegistrarTesting
import ServiceLifecycle
import Synchronization
import Testing

/// The tally kind's store on PostgreSQL: written here, in the tests, with nothing but the engine
/// adapter's public guarded commit — no engine file knows this kind.
final class PostgresTallyStore: TallyStore {
    let jobs: PostgresJobStore

    init(jobs: PostgresJobStore) {
        self.jobs = jobs
    }

    static let table = """
        CREATE TABLE IF NOT EXISTS tally_results (
            job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
            n bigint NOT NULL,
            square bigint NOT NULL,
            PRIMARY KEY (job_id, n)
        )
        """

    func commit(_ result: TallyResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(id, deadLetter: deadLetter) { conn in
            guard !result.squares.isEmpty else { return ChunkWrite(errors: result.errors) }
            func array(_ v: [Int]) -> String { "{" + v.map(String.init).joined(separator: ",") + "}" }
            let rows = try conn.query("""
                INSERT INTO tally_results (job_id, n, square)
                SELECT $1::uuid, n, s FROM unnest($2::bigint[], $3::bigint[]) AS t(n, s)
                ON CONFLICT DO NOTHING RETURNING n
                """, [id.jobID, array(result.squares.map(\.n)), array(result.squares.map(\.square))])
            return ChunkWrite(done: rows.count, skipped: result.squares.count - rows.count, errors: result.errors)
        }
    }
}

extension LiveServers {
    /// The engine's second kind through the real servers: PostgreSQL, RabbitMQ (its own queues)
    /// and Redis, with the coordinator and worker services in process — and a worker that "dies"
    /// after some commits, before their acks.
    @Suite(.serialized) struct SecondKindLiveTests {
        @Test func aTallyJobRunsOnTheRealServersExactlyOnce() async throws {
            let h = try PipelineHarness()
            try h.db.execute(PostgresTallyStore.table)
            // The kind's queues exist from earlier runs, maybe with stale messages: start clean.
            let setup = try AMQPWorkQueue(url: h.env.amqp, role: .worker(kinds: [Tally.queues]))
            setup.close()
            let amqp = try AMQPConnection(url: h.env.amqp)
            for q in [Tally.queues.work, Tally.queues.dead] { _ = try amqp.purgeQueue(q) }
            amqp.close()

            var logger = Logger(label: "tally-live")
            logger.logLevel = .warning
            let (pg, mq, redis) = (h.postgresURL, h.env.amqp, h.env.redis)
            let commits = Count()
            var hooks = EngineHooks()
            // Every fifth commit is followed by a fault before the ack: the connections drop and
            // the chunk comes back, already committed.
            hooks.afterCommit = { _ in if commits.next() % 5 == 0 { throw PortError.unavailable("simulated crash after commit") } }
            let coordinator = CoordinatorService(logger: logger) {
                let jobs = try PostgresJobStore(url: pg)
                let queue = try AMQPWorkQueue(url: mq, role: .coordinator)
                return .init(jobs: jobs, progress: try RedisProgressTracker(url: redis), queue: queue, planners: [TallyPlanner()],
                             close: { queue.close(); jobs.connection.close() })
            }
            let worker = WorkerService(slots: 2, logger: logger, hooks: hooks) { _ in
                let jobs = try PostgresJobStore(url: pg)
                let queue = try AMQPWorkQueue(url: mq, role: .worker(kinds: [Tally.queues]), prefetch: 2)
                return .init(jobs: jobs, progress: try RedisProgressTracker(url: redis), queue: queue,
                             handlers: [TallyHandler(store: PostgresTallyStore(jobs: jobs))],
                             close: { queue.close(); jobs.connection.close() })
            }
            let group = ServiceGroup(configuration: .init(services: [.init(service: coordinator), .init(service: worker)], logger: logger))
            let running = Task { try await group.run() }

            let store = PostgresJobStore(connection: h.db)
            let job = try store.createJob(NewJob(kind: Tally.kind, tenantID: Schema.defaultTenantID, ignoreErrors: false,
                                                 params: TallyParams(from: 1, to: 2_000, chunk: 50, failMultiplesOf: 250).json))
            let publisher = try AMQPWorkQueue(url: mq, role: .publisher)
            try publisher.publishJob(job)
            publisher.close()

            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline, try store.job(job)?.status == .pending { try await Task.sleep(for: .milliseconds(200)) }
            await group.triggerGracefulShutdown()
            try await running.value

            let finished = try #require(try store.job(job))
            #expect(finished.status == .error)   // 8 numbers are multiples of 250, and errors are not ignored
            #expect(finished.totalUnits == 2_000)
            let counts = try store.jobCounts(jobID: job)
            #expect(counts.counts == UnitCounts(done: 1_992, errors: 8))
            #expect(counts.doneChunks.count == 40)
            let rows = try h.db.query("SELECT count(*), sum(square) FROM tally_results WHERE job_id = $1::uuid", [job])
            #expect(rows[row: 0, column: 0] == "1992")
            let expected = (1...2_000).filter { $0 % 250 != 0 }.reduce(0) { $0 + $1 * $1 }
            #expect(rows[row: 0, column: 1] == String(expected))
            let errors = try h.db.query("SELECT unit_index, code, action FROM unit_errors WHERE job_id = $1::uuid ORDER BY unit_index", [job])
            #expect((0..<errors.count).map { errors[row: $0, column: 0]! } == stride(from: 249, to: 2_000, by: 250).map(String.init))
            #expect(errors[row: 0, column: 1] == "not_tallied" && errors[row: 0, column: 2] == "Tallying")
            // Faults happened, and redelivered chunks found their commits.
            #expect(commits.current > 40)
            // Redis holds the store's exact numbers.
            #expect(try RedisProgressTracker(url: redis).counts(jobID: job)?.counts == counts.counts)
        }
    }
}

/// A counter shared with `@Sendable` hooks.
final class Count: Sendable {
    private let value = Synchronization.Atomic<Int>(0)
    @discardableResult func next() -> Int { value.add(1, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}
