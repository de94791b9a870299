import RegistrarCore
import RegistrarRuntime

/// Webhooks on PostgreSQL (`webhooks`, `webhook_events`, `webhook_attempts` of migration 9).
/// Events are written by the migration's triggers, in the transaction of the task move.
extension PostgresRegistry: WebhookStore {
    private static let webhookColumns = "id::text, project_id::text, stage::text, stage_type, url, \(SQLTime.iso("created_at")), created_by"

    private func webhookRows(_ rows: PGRows) -> [Webhook] {
        (0..<rows.count).compactMap { r in
            guard let type = StageType(rawValue: rows[r, 3]!) else { return nil }
            return Webhook(id: rows[r, 0]!, projectID: rows[r, 1]!, stage: rows[r, 2]!, stageType: type, url: rows[r, 4]!,
                           createdAt: rows[r, 5]!, createdBy: rows[r, 6])
        }
    }

    public func createWebhook(_ new: NewWebhook) throws -> Webhook {
        let rows = try connection.query("""
            INSERT INTO webhooks (tenant_id, project_id, stage, stage_type, url, secret, created_by)
            VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7) RETURNING \(Self.webhookColumns)
            """, [new.tenantID, new.projectID, new.stage, new.stageType.rawValue, new.url, new.secret, new.createdBy])
        return webhookRows(rows)[0]
    }

    public func webhooks(projectID: String) throws -> [Webhook] {
        guard UUIDText.isValid(projectID) else { return [] }
        return webhookRows(try connection.query("SELECT \(Self.webhookColumns) FROM webhooks WHERE project_id = $1::uuid ORDER BY created_at, id",
                                                [projectID]))
    }

    public func webhook(projectID: String, id: String) throws -> Webhook? {
        guard UUIDText.isValid(projectID), UUIDText.isValid(id) else { return nil }
        return webhookRows(try connection.query("SELECT \(Self.webhookColumns) FROM webhooks WHERE project_id = $1::uuid AND id = $2::uuid",
                                                [projectID, id])).first
    }

    public func deleteWebhook(projectID: String, id: String) throws -> Bool {
        guard UUIDText.isValid(projectID), UUIDText.isValid(id) else { return false }
        return try connection.query("DELETE FROM webhooks WHERE project_id = $1::uuid AND id = $2::uuid RETURNING 1", [projectID, id]).count == 1
    }

    public func webhookEvents(webhookID: String, limit: Int) throws -> [WebhookEventRecord] {
        guard UUIDText.isValid(webhookID) else { return [] }
        let events = try connection.query("""
            SELECT uid::text, event_type, \(SQLTime.iso("created_at")), state, last_error, \(SQLTime.iso("delivered_at"))
            FROM webhook_events WHERE webhook_id = $1::uuid ORDER BY created_at DESC, uid LIMIT $2
            """, [webhookID, String(max(0, limit))])
        guard events.count > 0 else { return [] }
        let uids = (0..<events.count).map { events[$0, 0]! }
        let log = try connection.query("""
            SELECT uid::text, attempt, \(SQLTime.iso("at")), status, error, duration_ms
            FROM webhook_attempts WHERE uid = ANY($1::uuid[]) ORDER BY uid, attempt
            """, [PGArray.text(uids)])
        var attempts: [String: [WebhookAttempt]] = [:]
        for r in 0..<log.count {
            attempts[log[r, 0]!, default: []].append(WebhookAttempt(attempt: Int(log[r, 1]!)!, at: log[r, 2]!, status: log[r, 3].flatMap { Int($0) },
                                                                    error: log[r, 4], durationMs: Int(log[r, 5]!)!))
        }
        return (0..<events.count).map { r in
            WebhookEventRecord(uid: events[r, 0]!, webhookID: webhookID.lowercased(), eventType: events[r, 1]!, createdAt: events[r, 2]!,
                               state: WebhookEventState(rawValue: events[r, 3]!) ?? .pending, attempts: attempts[events[r, 0]!] ?? [],
                               lastError: events[r, 4], deliveredAt: events[r, 5])
        }
    }

    public func redeliverDead(webhookID: String) throws -> Int {
        guard UUIDText.isValid(webhookID) else { return 0 }
        return try connection.query("""
            UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_at = now()
            WHERE webhook_id = $1::uuid AND state = 'dead' RETURNING 1
            """, [webhookID]).count
    }

    /// Events a running delivery job holds are not due; a job that is no longer PENDING, or
    /// that is older than the stale bound, holds nothing.
    private static func free(_ staleSeconds: String) -> String {
        """
        (e.job_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = e.job_id AND j.status = 'PENDING'
                                         AND j.created_at > now() - make_interval(secs => \(staleSeconds))))
        """
    }

    public func tenantsWithDueWebhookEvents() throws -> [String] {
        let rows = try connection.query("""
            SELECT DISTINCT e.tenant_id::text FROM webhook_events e
            WHERE e.state = 'pending' AND e.next_attempt_at <= now() AND \(Self.free("900"))
            """)
        return (0..<rows.count).map { rows[$0, 0]! }
    }

    public func claimDueWebhookEvents(tenantID: String, jobID: String, limit: Int, staleAfterSeconds: Int) throws -> Int {
        try connection.query("""
            UPDATE webhook_events SET job_id = $2::uuid, claimed_at = now()
            WHERE uid IN (SELECT e.uid FROM webhook_events e
                          WHERE e.tenant_id = $1::uuid AND e.state = 'pending' AND e.next_attempt_at <= now() AND \(Self.free("$4::double precision"))
                          ORDER BY e.next_attempt_at, e.created_at, e.uid LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """, [tenantID, jobID, String(max(0, limit)), String(staleAfterSeconds)]).count
    }

    public func claimedWebhookEvents(jobID: String) throws -> [String] {
        guard UUIDText.isValid(jobID) else { return [] }
        let rows = try connection.query("SELECT uid::text FROM webhook_events WHERE job_id = $1::uuid ORDER BY uid", [jobID])
        return (0..<rows.count).map { rows[$0, 0]! }
    }

    public func webhookDeliveries(uids: [String]) throws -> [WebhookDelivery] {
        let valid = uids.filter(UUIDText.isValid)
        guard !valid.isEmpty else { return [] }
        // pending_count: the tasks waiting at the Agent stage now, when the delivery is built.
        let rows = try connection.query("""
            SELECT e.uid::text, w.id::text, w.url, w.secret, e.event_type,
                   to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                   CASE WHEN e.event_type = 'agent_stage_work_available_event' THEN
                       json_build_object('project_hash', w.project_id, 'stage_uuid', w.stage,
                           'pending_count', (SELECT count(*) FROM tasks t WHERE t.project_id = w.project_id AND t.stage = w.stage),
                           'reason', e.payload::json->>'reason')::text
                   ELSE e.payload END
            FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id
            WHERE e.uid = ANY($1::uuid[]) ORDER BY e.uid
            """, [PGArray.text(valid)])
        return (0..<rows.count).map { r in
            WebhookDelivery(uid: rows[r, 0]!, webhookID: rows[r, 1]!, url: rows[r, 2]!, secret: rows[r, 3]!, eventType: rows[r, 4]!,
                            createdAt: rows[r, 5]!, payload: JSONValue.parse(Array(rows[r, 6]!.utf8)) ?? .null)
        }
    }

    public func commitWebhookDeliveries(_ id: ChunkID, units: Int, outcomes: [WebhookOutcome], policy: WebhookRetryPolicy,
                                        deadLetter: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(id, deadLetter: deadLetter) { conn in
            var delivered = 0
            for o in outcomes where UUIDText.isValid(o.uid) {
                let ok = deadLetter == nil && o.delivered
                // A failure only moves an event this job still holds; a success always delivers it.
                let updated = try conn.query("""
                    UPDATE webhook_events SET attempts = attempts + 1,
                        state = CASE WHEN $3::bool THEN 'delivered' WHEN attempts + 1 >= $4 THEN 'dead' ELSE 'pending' END,
                        next_attempt_at = CASE WHEN $3::bool THEN next_attempt_at
                            ELSE now() + make_interval(secs => least($6::double precision, $5::double precision * power(2, attempts))) END,
                        last_error = CASE WHEN $3::bool THEN last_error ELSE $7 END,
                        delivered_at = CASE WHEN $3::bool THEN clock_timestamp() ELSE delivered_at END
                    WHERE uid = $1::uuid AND state = 'pending' AND (job_id = $2::uuid OR $3::bool)
                    RETURNING 1
                    """, [o.uid, id.jobID, ok ? "true" : "false", String(policy.maxAttempts), String(policy.baseSeconds), String(policy.maxSeconds),
                          Self.attemptError(o)])
                guard updated.count == 1 else { continue }
                if ok { delivered += 1 }
                _ = try conn.query("""
                    INSERT INTO webhook_attempts (uid, attempt, job_id, status, error, duration_ms)
                    VALUES ($1::uuid, (SELECT coalesce(max(attempt), 0) + 1 FROM webhook_attempts WHERE uid = $1::uuid), $2::uuid, $3::int, $4, $5)
                    """, [o.uid, id.jobID, o.status.map(String.init), ok ? nil : Self.attemptError(o), String(max(0, o.durationMs))])
            }
            return ChunkWrite(done: delivered, skipped: max(0, units - delivered))
        }
    }

    /// The log's text for a failed attempt: the poster's error, else the status that was not 2xx.
    static func attemptError(_ o: WebhookOutcome) -> String {
        if let e = o.error { return e }
        return "HTTP \(o.status ?? 0): the receiver did not answer 2xx"
    }
}
