import RegistrarCore

/// A webhook as stored: one URL on one stage of a project's workflow. The signing secret is
/// not part of it: it is shown once, by `createWebhook`, and read back only to sign deliveries.
public struct Webhook: Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var stage: String
    /// The stage's type when the webhook was made (stage types never change in live edits).
    public var stageType: StageType
    public var url: String
    public var createdAt: String
    public var createdBy: String?
    public init(id: String, projectID: String, stage: String, stageType: StageType, url: String, createdAt: String, createdBy: String?) {
        self.id = id; self.projectID = projectID; self.stage = stage; self.stageType = stageType; self.url = url
        self.createdAt = createdAt; self.createdBy = createdBy
    }

    /// The API's answer (no secret).
    public var json: JSONValue {
        .object([("id", .string(id)), ("project", .string(projectID)), ("stage", .string(stage)), ("stageType", .string(stageType.rawValue)),
                 ("eventType", WebhookEventType.forStage(stageType).map { .string($0.rawValue) } ?? .null),
                 ("url", .string(url)), ("createdAt", .string(createdAt)), ("createdBy", createdBy.map(JSONValue.string) ?? .null)])
    }
}

/// A webhook to create. `stageType` is checked by the caller against the workflow (Annotate, DONE or Agent).
public struct NewWebhook: Sendable {
    public var tenantID: String
    public var projectID: String
    public var stage: String
    public var stageType: StageType
    public var url: String
    public var secret: String
    public var createdBy: String?
    public init(tenantID: String, projectID: String, stage: String, stageType: StageType, url: String, secret: String, createdBy: String?) {
        self.tenantID = tenantID; self.projectID = projectID; self.stage = stage; self.stageType = stageType; self.url = url
        self.secret = secret; self.createdBy = createdBy
    }
}

/// Where an event is in its delivery: waiting (first attempt or a retry), delivered (a 2xx
/// answer), or dead (every attempt failed; `redeliver` makes it pending again).
public enum WebhookEventState: String, Sendable {
    case pending, delivered, dead
}

/// One attempt to deliver an event.
public struct WebhookAttempt: Sendable, Equatable {
    public var attempt: Int
    public var at: String
    /// The HTTP status, nil when no answer arrived.
    public var status: Int?
    public var error: String?
    public var durationMs: Int
    public init(attempt: Int, at: String, status: Int?, error: String?, durationMs: Int) {
        self.attempt = attempt; self.at = at; self.status = status; self.error = error; self.durationMs = durationMs
    }
    public var json: JSONValue {
        .object([("attempt", .number(String(attempt))), ("at", .string(at)), ("status", status.map { .number(String($0)) } ?? .null),
                 ("error", error.map(JSONValue.string) ?? .null), ("durationMs", .number(String(durationMs)))])
    }
}

/// One event of a webhook as the delivery log shows it.
public struct WebhookEventRecord: Sendable, Equatable {
    public var uid: String
    public var webhookID: String
    public var eventType: String
    public var createdAt: String
    public var state: WebhookEventState
    public var attempts: [WebhookAttempt]
    public var lastError: String?
    public var deliveredAt: String?
    public init(uid: String, webhookID: String, eventType: String, createdAt: String, state: WebhookEventState,
                attempts: [WebhookAttempt], lastError: String?, deliveredAt: String?) {
        self.uid = uid; self.webhookID = webhookID; self.eventType = eventType; self.createdAt = createdAt; self.state = state
        self.attempts = attempts; self.lastError = lastError; self.deliveredAt = deliveredAt
    }
    public var json: JSONValue {
        .object([("uid", .string(uid)), ("event_type", .string(eventType)), ("createdAt", .string(createdAt)),
                 ("status", .string(state.rawValue)), ("attempts", .number(String(attempts.count))),
                 ("last_error", lastError.map(JSONValue.string) ?? .null), ("delivered_at", deliveredAt.map(JSONValue.string) ?? .null),
                 ("log", .array(attempts.map(\.json)))])
    }
}

/// What a worker needs to make one delivery: the target, the secret to sign with, the event.
/// Never logged (it holds the secret).
public struct WebhookDelivery: Sendable {
    public var uid: String
    public var webhookID: String
    public var url: String
    public var secret: String
    public var eventType: String
    /// ISO 8601 with microseconds and offset, as Encord's `event_created_timestamp`.
    public var createdAt: String
    /// The event's payload; for agent events `pending_count` is filled in when the delivery is read.
    public var payload: JSONValue
    public init(uid: String, webhookID: String, url: String, secret: String, eventType: String, createdAt: String, payload: JSONValue) {
        self.uid = uid; self.webhookID = webhookID; self.url = url; self.secret = secret; self.eventType = eventType
        self.createdAt = createdAt; self.payload = payload
    }

    /// The request body (the envelope of spec §3, compact JSON).
    public var body: [UInt8] {
        Array(WebhookSigning.envelope(uid: uid, eventType: eventType, createdAt: createdAt, payload: payload).compactText.utf8)
    }
}

/// How one delivery attempt went.
public struct WebhookOutcome: Sendable, Equatable {
    public var uid: String
    public var status: Int?
    public var error: String?
    public var durationMs: Int
    public init(uid: String, status: Int?, error: String?, durationMs: Int) {
        self.uid = uid; self.status = status; self.error = error; self.durationMs = durationMs
    }
    /// A 2xx answer, and only that, delivers.
    public var delivered: Bool { error == nil && (200..<300).contains(status ?? 0) }
}

/// Webhooks, their outbox of events and the delivery log (docs/workflows.md, "Webhooks").
///
/// Events are written by the store in the same transaction as the task move that causes them
/// (PostgreSQL: triggers on `tasks` and `task_events`). The dispatcher claims due events for a
/// `webhook-deliver` job; the job's chunks deliver them and commit the outcome through the
/// engine's ledger, so an attempt is recorded exactly once per chunk.
///
/// Callers checked the tenant and the caller's permission on the project first.
public protocol WebhookStore: AnyObject {
    /// Creates a webhook; returns it (the secret is the caller's to show once).
    func createWebhook(_ new: NewWebhook) throws -> Webhook
    /// The project's webhooks, oldest first.
    func webhooks(projectID: String) throws -> [Webhook]
    /// One webhook of the project (nil: none with that id, malformed ids included).
    func webhook(projectID: String, id: String) throws -> Webhook?
    /// Deletes a webhook with its events and log; false when there was none.
    func deleteWebhook(projectID: String, id: String) throws -> Bool
    /// The webhook's events, newest first, at most `limit`, each with its attempts.
    func webhookEvents(webhookID: String, limit: Int) throws -> [WebhookEventRecord]
    /// Makes the webhook's dead events pending again, due now, with a fresh attempt budget
    /// (their log keeps the earlier attempts). Returns how many.
    func redeliverDead(webhookID: String) throws -> Int

    // Dispatch (the coordinator's webhook dispatcher).
    /// Tenants with at least one event that is due and not held by a running delivery job.
    func tenantsWithDueWebhookEvents() throws -> [String]
    /// Claims up to `limit` of the tenant's due events (oldest first) for the delivery job
    /// `jobID`; returns how many. An event stays claimed while that job is `PENDING` (or until
    /// it is `staleAfterSeconds` old, so a job lost before it was published never holds events).
    func claimDueWebhookEvents(tenantID: String, jobID: String, limit: Int, staleAfterSeconds: Int) throws -> Int
    /// The uids a job claimed, in a fixed order (the planner's snapshot: unchanged by commits).
    func claimedWebhookEvents(jobID: String) throws -> [String]

    // Delivery (the worker).
    /// What the workers need to deliver these events (events or webhooks gone are left out).
    func webhookDeliveries(uids: [String]) throws -> [WebhookDelivery]
    /// Records one chunk's attempts inside the engine's ledger-guarded transaction: each
    /// outcome adds an attempt to the log; a 2xx delivers the event; a failure makes it due
    /// again after `policy`'s backoff, or dead after its last attempt. Events another job
    /// claimed since are left as they are (their attempt is not logged). `deadLetter`: the
    /// chunk was dead-lettered; every outcome is then a failed attempt. The chunk counts the
    /// delivered events done and the other `units` skipped (the event's own state says what follows).
    func commitWebhookDeliveries(_ id: ChunkID, units: Int, outcomes: [WebhookOutcome], policy: WebhookRetryPolicy, deadLetter: DeadLetter?) throws -> CommitOutcome
}
