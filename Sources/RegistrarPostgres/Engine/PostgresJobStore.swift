import RegistrarCore
import RegistrarRuntime

/// The engine's system of record on PostgreSQL: jobs of every kind (`jobs`), the chunk ledger
/// (`chunks`), unit errors (`unit_errors`) and dead chunks (`dead_chunks`).
///
/// A kind's store commits its rows through `commitChunk(_:deadLetter:_:)`, on the same
/// connection, so its rows, the unit errors and "chunk done" are one transaction. Owns nothing
/// but a reference to its `PGConnection`; like it, it is used from one thread only.
public final class PostgresJobStore: JobStore {
    public let connection: PGConnection
    private var stagingReady = false

    public init(connection: PGConnection) {
        self.connection = connection
    }

    public convenience init(url: String) throws {
        self.init(connection: try PGConnection(url: url))
    }

    // MARK: Jobs

    public func job(_ id: String) throws -> Job? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("""
            SELECT id, kind, tenant_id, status, phase, cancel_requested, ignore_errors, total_units, split_done,
                   \(SQLTime.iso("created_at")), \(SQLTime.iso("started_at")), \(SQLTime.iso("finished_at")),
                   (error->>'code') || ': ' || (error->>'message'), params::text
            FROM jobs WHERE id = $1::uuid
            """, [id])
        guard rows.count == 1 else { return nil }
        return Job(id: rows[0, 0]!, kind: rows[0, 1]!, tenantID: rows[0, 2]!, status: JobStatus(rawValue: rows[0, 3]!) ?? .pending,
                   phase: JobPhase(rawValue: rows[0, 4]!) ?? .received, cancelRequested: rows[0, 5] == "t",
                   ignoreErrors: rows[0, 6] == "t", totalUnits: rows[0, 7].flatMap { Int($0) }, splitDone: rows[0, 8] == "t",
                   createdAt: rows[0, 9]!, startedAt: rows[0, 10], finishedAt: rows[0, 11], error: rows[0, 12],
                   params: rows[0, 13].flatMap { JSONValue.parse(Array($0.utf8)) } ?? .null)
    }

    public func createJob(_ new: NewJob) throws -> String {
        try connection.query("""
            INSERT INTO jobs (tenant_id, kind, ignore_errors, params) VALUES ($1, $2, $3, $4::jsonb) RETURNING id
            """, [new.tenantID, new.kind, new.ignoreErrors ? "true" : "false", new.params == .null ? nil : new.params.compactText])[0, 0]!
    }

    public func recordTotal(jobID: String, units: Int?) throws {
        _ = try connection.query("""
            UPDATE jobs SET total_units = $2::int, phase = CASE WHEN phase = 'received' THEN 'splitting' ELSE phase END,
                   started_at = coalesce(started_at, now())
            WHERE id = $1
            """, [jobID, units.map(String.init)])
    }

    public func failJob(jobID: String, reason: JobFailure) throws {
        _ = try connection.query("""
            UPDATE jobs SET status = 'ERROR', phase = 'finished', error = $2::jsonb, total_units = 0,
                   started_at = coalesce(started_at, now()), finished_at = now(), split_done = true, total_chunks = 0
            WHERE id = $1 AND status = 'PENDING'
            """, [jobID, reason.json.compactText])
    }

    public func isCancelRequested(jobID: String) throws -> Bool {
        let rows = try connection.query("SELECT cancel_requested FROM jobs WHERE id = $1", [jobID])
        return rows.count == 1 && rows[0, 0] == "t"
    }

    public func requestCancel(jobID: String) throws -> JobStatus? {
        guard UUIDText.isValid(jobID) else { return nil }
        let rows = try connection.query("UPDATE jobs SET cancel_requested = true WHERE id = $1::uuid RETURNING status", [jobID])
        return rows.count == 0 ? nil : JobStatus(rawValue: rows[0, 0] ?? "")
    }

    public func finishSplit(jobID: String, totalChunks: Int) throws {
        _ = try connection.query("""
            UPDATE jobs SET split_done = true, total_chunks = $2,
                   phase = CASE WHEN phase = 'finished' THEN phase ELSE 'verifying' END
            WHERE id = $1
            """, [jobID, String(totalChunks)])
    }

    public func finishJobIfComplete(jobID: String) throws -> JobStatus? {
        // One statement, after the caller's commit: whoever runs it last sees every chunk done,
        // and `status = 'PENDING'` lets exactly one caller end the job.
        let rows = try connection.query("""
            UPDATE jobs j SET
                status = CASE
                    WHEN j.cancel_requested AND EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.cancelled_count > 0) THEN 'CANCELLED'
                    WHEN NOT j.ignore_errors AND EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.error_count > 0) THEN 'ERROR'
                    ELSE 'DONE' END,
                phase = 'finished', finished_at = now()
            WHERE j.id = $1 AND j.status = 'PENDING' AND j.split_done
              AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.state = 'pending')
            RETURNING j.status
            """, [jobID])
        return rows.count == 1 ? JobStatus(rawValue: rows[0, 0]!) : nil
    }

    // MARK: Ledger

    public func ledger(jobID: String) throws -> [Int: Bool] {
        let rows = try connection.query("SELECT seq, published FROM chunks WHERE job_id = $1", [jobID])
        var out: [Int: Bool] = [:]
        for i in 0..<rows.count { out[Int(rows[i, 0]!)!] = rows[i, 1] == "t" }
        return out
    }

    public func recordChunks(jobID: String, chunks: [LedgerChunk]) throws {
        guard !chunks.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO chunks (job_id, seq, first_unit, unit_count, url_count, last_unit)
            SELECT $1, s, f, u, n, l FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[]) AS t(s, f, u, n, l)
            ON CONFLICT (job_id, seq) DO NOTHING
            """, [jobID] + Self.ledgerArrays(chunks))
    }

    public func markPublished(jobID: String, seqs: [Int]) throws {
        guard !seqs.isEmpty else { return }
        _ = try connection.query("UPDATE chunks SET published = true WHERE job_id = $1 AND seq = ANY($2::int[])",
                                 [jobID, PGArray.ints(seqs)])
    }

    public func recordCancelledChunks(jobID: String, chunks: [LedgerChunk]) throws {
        guard !chunks.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO chunks (job_id, seq, first_unit, unit_count, url_count, last_unit, state, cancelled_count, finished_at)
            SELECT $1, s, f, u, n, l, 'done', u, now() FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[]) AS t(s, f, u, n, l)
            ON CONFLICT (job_id, seq) DO UPDATE SET state = 'done', cancelled_count = chunks.unit_count, finished_at = now()
            WHERE chunks.state = 'pending'
            """, [jobID] + Self.ledgerArrays(chunks))
    }

    static func ledgerArrays(_ chunks: [LedgerChunk]) -> [String?] {
        [PGArray.ints(chunks.map(\.seq)), PGArray.ints(chunks.map(\.firstUnit)), PGArray.ints(chunks.map(\.unitCount)),
         PGArray.ints(chunks.map(\.urlCount)), PGArray.ints(chunks.map(\.lastUnit))]
    }

    public func jobCounts(jobID: String) throws -> (counts: UnitCounts, doneChunks: [Int]) {
        guard UUIDText.isValid(jobID) else { return (UnitCounts(), []) }
        let rows = try connection.query("""
            SELECT coalesce(sum(done_count), 0), coalesce(sum(error_count), 0), coalesce(sum(skipped_count), 0),
                   coalesce(sum(cancelled_count), 0),
                   coalesce(array_to_json(array_agg(seq ORDER BY seq) FILTER (WHERE state = 'done'))::text, '[]')
            FROM chunks WHERE job_id = $1::uuid
            """, [jobID])
        let counts = UnitCounts(done: Int(rows[0, 0]!)!, errors: Int(rows[0, 1]!)!, skipped: Int(rows[0, 2]!)!, cancelled: Int(rows[0, 3]!)!)
        let done = JSONArrayText.strings(rows[0, 4] ?? "[]", numbers: true).compactMap { Int($0) }
        return (counts, done)
    }

    public func chunkCounts(jobID: String) throws -> [Int: UnitCounts] {
        guard UUIDText.isValid(jobID) else { return [:] }
        let rows = try connection.query("""
            SELECT seq, done_count, error_count, skipped_count, cancelled_count FROM chunks
            WHERE job_id = $1::uuid AND state = 'done'
            """, [jobID])
        var out: [Int: UnitCounts] = [:]
        for i in 0..<rows.count {
            out[Int(rows[i, 0]!)!] = UnitCounts(done: Int(rows[i, 1]!)!, errors: Int(rows[i, 2]!)!,
                                                skipped: Int(rows[i, 3]!)!, cancelled: Int(rows[i, 4]!)!)
        }
        return out
    }

    // MARK: The guarded commit

    public func commitCancelled(_ id: ChunkID) throws -> CommitOutcome {
        try connection.withTransaction {
            guard let state = try lockChunk(id) else { return .unknownChunk }
            if case .done(let counts) = state { return .alreadyDone(counts) }
            let rows = try connection.query("""
                UPDATE chunks SET state = 'done', cancelled_count = unit_count, finished_at = now()
                WHERE job_id = $1 AND seq = $2 RETURNING unit_count
                """, [id.jobID, String(id.seq)])
            return .committed(UnitCounts(cancelled: Int(rows[0, 0]!)!))
        }
    }

    /// A kind's commit: in one transaction, locks the chunk's ledger row; if the chunk is done
    /// already (a redelivery) returns its recorded counts without calling `body`; if the ledger
    /// has no such chunk (its job was deleted) returns `.unknownChunk`. Otherwise `body` writes
    /// the kind's rows on this connection and returns what it wrote; the unit errors it returns
    /// are written here (`unit_errors`, URLs without their query strings), the ledger row is
    /// marked done with the counts, and a dead letter is kept in `dead_chunks`. If `body` throws,
    /// nothing is written.
    public func commitChunk(_ id: ChunkID, deadLetter: DeadLetter? = nil, _ body: (PGConnection) throws -> ChunkWrite) throws -> CommitOutcome {
        try ensureStaging()
        return try connection.withTransaction {
            guard let state = try lockChunk(id) else { return .unknownChunk }
            if case .done(let counts) = state { return .alreadyDone(counts) }
            let write = try body(connection)
            if !write.errors.isEmpty {
                // Error rows are shown to operators and exported: a presigned URL's query (its
                // signature, a credential) stays out of them.
                let rows = write.errors.map { e -> [String?] in
                    [id.jobID, String(e.index), PGArray.text(e.urls.map(ShownURL.withoutQuery)), e.code.rawValue, e.message, e.action]
                }
                _ = try connection.copyIn("COPY staging_errors (job_id, unit_index, object_urls, code, message, action) FROM STDIN", rows: rows)
                _ = try connection.execute("INSERT INTO unit_errors SELECT *, now() FROM staging_errors ON CONFLICT DO NOTHING")
            }
            let counts = write.counts
            _ = try connection.query("""
                UPDATE chunks SET state = 'done', done_count = $3, error_count = $4, skipped_count = $5, finished_at = now()
                WHERE job_id = $1 AND seq = $2
                """, [id.jobID, String(id.seq), String(counts.done), String(counts.errors), String(counts.skipped)])
            if let deadLetter { try recordDeadChunk(id, deadLetter) }
            return .committed(counts)
        }
    }

    private enum ChunkState { case pending, done(UnitCounts) }

    /// The chunk's ledger row, locked for the transaction; nil when there is none.
    private func lockChunk(_ id: ChunkID) throws -> ChunkState? {
        let rows = try connection.query("""
            SELECT state, done_count, error_count, skipped_count, cancelled_count FROM chunks
            WHERE job_id = $1 AND seq = $2 FOR UPDATE
            """, [id.jobID, String(id.seq)])
        guard rows.count == 1 else { return nil }
        guard rows[0, 0] == "done" else { return .pending }
        return .done(UnitCounts(done: Int(rows[0, 1]!)!, errors: Int(rows[0, 2]!)!, skipped: Int(rows[0, 3]!)!, cancelled: Int(rows[0, 4]!)!))
    }

    /// A session-local staging table for unit errors, emptied at every commit.
    private func ensureStaging() throws {
        guard !stagingReady else { return }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS staging_errors (
                job_id uuid, unit_index integer, object_urls text[], code text, message text, action text
            ) ON COMMIT DELETE ROWS;
            """)
        stagingReady = true
    }
}
