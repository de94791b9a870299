import RegistrarCore
import RegistrarRuntime

/// A dead-lettered chunk as the store keeps it (`dead_chunks`), for `registrar dlq`.
public struct DeadChunk: Sendable, Equatable {
    public var jobID: String
    /// The job's kind: a replayed chunk goes back to that kind's work queue.
    public var kind: String
    public var seq: Int
    public var firstUnit: Int
    public var unitCount: Int
    /// Times the chunk was dead-lettered (a replayed chunk can die again).
    public var deaths: Int
    /// The broker's delivery count at the last death.
    public var deliveries: Int
    /// `delivery_limit` or `rejected`.
    public var reason: String
    /// `dead` (units failed, awaiting a decision), `replaying` (re-opened, message being
    /// republished), `replayed`, `discarded`.
    public var state: String
    public var replays: Int
    public var lastDeadAt: String
}

/// What `replay` found wrong with one dead chunk.
public struct DeadChunkRefusal: Error, CustomStringConvertible {
    public var description: String
}

/// The dead-chunk ledger: written by workers in the same transaction that fails the chunk's
/// units, read and resolved by operators.
///
/// Replay re-opens the chunk in place rather than making a new job: the chunk id
/// `(job_id, seq)` and the job's counters are sums over the ledger, so deleting the chunk's
/// `internal_error` rows and setting its ledger row back to `pending` makes the job's counts
/// exact again by construction; the next worker to commit the chunk records the real outcome
/// once (the usual commit path), and the job ends again when its last chunk is done.
extension PostgresJobStore {
    /// Called inside `commitChunk`'s transaction when a dead-lettered chunk is failed.
    func recordDeadChunk(_ id: ChunkID, _ letter: DeadLetter) throws {
        let (jobID, seq) = (id.jobID, id.seq)
        _ = try connection.query("""
            INSERT INTO dead_chunks (job_id, seq, first_unit, unit_count, deliveries, reason, body)
            SELECT job_id, seq, first_unit, unit_count, $3, $4, $5::bytea FROM chunks WHERE job_id = $1 AND seq = $2
            ON CONFLICT (job_id, seq) DO UPDATE SET
                deaths = dead_chunks.deaths + 1, deliveries = EXCLUDED.deliveries, reason = EXCLUDED.reason,
                body = EXCLUDED.body, state = 'dead', last_dead_at = now(), resolved_at = NULL
            """, [jobID, String(seq), String(letter.deliveries), letter.reason, Hex.byteaLiteral(letter.body[...])])
    }

    /// Dead chunks, oldest first: the open ones (`dead`, `replaying`), or all with `includeResolved`.
    public func deadChunks(jobID: String? = nil, includeResolved: Bool = false) throws -> [DeadChunk] {
        let rows = try connection.query("""
            SELECT d.job_id, d.seq, d.first_unit, d.unit_count, d.deaths, d.deliveries, d.reason, d.state, d.replays,
                   to_char(d.last_dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), j.kind
            FROM dead_chunks d JOIN jobs j ON j.id = d.job_id
            WHERE ($1::text IS NULL OR d.job_id::text = $1) AND ($2 OR d.state IN ('dead', 'replaying'))
            ORDER BY d.last_dead_at, d.job_id, d.seq
            """, [jobID, includeResolved ? "true" : "false"])
        return (0..<rows.count).map { i in
            DeadChunk(jobID: rows[i, 0]!, kind: rows[i, 10]!, seq: Int(rows[i, 1]!)!, firstUnit: Int(rows[i, 2]!)!, unitCount: Int(rows[i, 3]!)!,
                      deaths: Int(rows[i, 4]!)!, deliveries: Int(rows[i, 5]!)!, reason: rows[i, 6]!, state: rows[i, 7]!,
                      replays: Int(rows[i, 8]!)!, lastDeadAt: rows[i, 9]!)
        }
    }

    /// Step 1 of a replay, one transaction: the chunk's `internal_error` rows are deleted, its
    /// ledger row goes back to `pending` (so the job's counters drop by exactly its units), the
    /// job is re-opened if it had ended, and the dead row becomes `replaying`. Returns the chunk
    /// message to republish. Safe to repeat for a chunk left `replaying` by an interrupted replay.
    public func beginReplay(jobID: String, seq: Int) throws -> [UInt8] {
        try connection.withTransaction {
            let job = try connection.query("SELECT status, cancel_requested FROM jobs WHERE id = $1 FOR UPDATE", [jobID])
            guard job.count == 1 else { throw DeadChunkRefusal(description: "no job \(jobID)") }
            if job[0, 0] == JobStatus.cancelled.rawValue || job[0, 1] == "t" {
                throw DeadChunkRefusal(description: "job \(jobID) was cancelled: its dead chunks can only be discarded")
            }
            let dead = try connection.query("""
                SELECT d.state, d.body, d.first_unit, coalesce(c.last_unit, c.first_unit + c.unit_count - 1), c.state,
                       c.done_count + c.skipped_count
                FROM dead_chunks d
                JOIN chunks c USING (job_id, seq) WHERE d.job_id = $1 AND d.seq = $2 FOR UPDATE
                """, [jobID, String(seq)])
            guard dead.count == 1 else { throw DeadChunkRefusal(description: "chunk \(jobID)/\(seq) is not dead-lettered") }
            let body = try Hex.decodeBytea(dead[0, 1]!)
            switch dead[0, 0]! {
            case "replaying":
                return body   // an earlier replay stopped before it was confirmed: publish again
            case "dead":
                break
            default:
                throw DeadChunkRefusal(description: "chunk \(jobID)/\(seq) is already \(dead[0, 0]!)")
            }
            let first = dead[0, 2]!, last = dead[0, 3]!
            // A dead chunk was committed with every unit failed and none done or skipped: anything
            // else means the ledger holds more than this chunk's death, and replaying would lose it.
            // (Chunks of a job cover disjoint ranges of unit indexes, first to last.)
            let others = try connection.query("""
                SELECT count(*) FROM unit_errors WHERE job_id = $1 AND unit_index BETWEEN $2::int AND $3::int
                  AND code <> 'internal_error'
                """, [jobID, first, last])
            guard dead[0, 5] == "0", others[0, 0] == "0", dead[0, 4] == "done" else {
                throw DeadChunkRefusal(description: "chunk \(jobID)/\(seq) holds outcomes other than its dead-lettering; not replayed")
            }
            _ = try connection.query("""
                DELETE FROM unit_errors WHERE job_id = $1 AND unit_index BETWEEN $2::int AND $3::int
                """, [jobID, first, last])
            _ = try connection.query("""
                UPDATE chunks SET state = 'pending', done_count = 0, error_count = 0, skipped_count = 0, cancelled_count = 0,
                       finished_at = NULL
                WHERE job_id = $1 AND seq = $2
                """, [jobID, String(seq)])
            _ = try connection.query("""
                UPDATE jobs SET status = 'PENDING', phase = 'verifying', finished_at = NULL
                WHERE id = $1 AND status <> 'PENDING'
                """, [jobID])
            _ = try connection.query("""
                UPDATE dead_chunks SET state = 'replaying', replays = replays + 1 WHERE job_id = $1 AND seq = $2
                """, [jobID, String(seq)])
            return body
        }
    }

    /// Step 2 of a replay, once the broker confirmed the republished message.
    public func finishReplay(jobID: String, seq: Int) throws {
        _ = try connection.query("""
            UPDATE dead_chunks SET state = 'replayed', resolved_at = now() WHERE job_id = $1 AND seq = $2 AND state = 'replaying'
            """, [jobID, String(seq)])
    }

    /// Accepts a dead chunk's units as failed (`internal_error`, already recorded): it leaves
    /// the open list. Returns false if it was not open.
    public func discardDeadChunk(jobID: String, seq: Int) throws -> Bool {
        let rows = try connection.query("""
            UPDATE dead_chunks SET state = 'discarded', resolved_at = now()
            WHERE job_id = $1 AND seq = $2 AND state = 'dead' RETURNING seq
            """, [jobID, String(seq)])
        return rows.count == 1
    }
}
