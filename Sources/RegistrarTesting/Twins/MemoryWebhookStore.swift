import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `WebhookStore` (PostgreSQL's `PostgresRegistry`): webhooks, the outbox
/// and the delivery log, under the `MemoryJobStore`'s lock (its commits run the delivery
/// commit's body under the same lock, as the adapter's transaction does).
///
/// PostgreSQL writes events from triggers on task moves; here a test records them with
/// `recordEvent` (same coalescing rule for agent events). `now` is the clock due times use.
public final class MemoryWebhookStore: WebhookStore, @unchecked Sendable {
    struct StoredWebhook {
        var hook: Webhook
        var tenantID: String
        var secret: String
    }
    struct StoredEvent {
        var uid: String
        var webhookID: String
        var tenantID: String
        var eventType: String
        var payload: JSONValue
        var createdAt: Date
        var state: WebhookEventState = .pending
        var attempts = 0
        var nextAttemptAt: Date
        var jobID: String?
        var claimedAt: Date?
        var lastError: String?
        var deliveredAt: Date?
        var log: [WebhookAttempt] = []
    }

    public let jobs: MemoryJobStore
    /// The clock (tests move it to make retries due).
    public var now: () -> Date = { Date() }
    /// Tasks waiting at a stage (the `pending_count` of agent events), for tests that have tasks.
    public var pendingCount: (_ projectID: String, _ stage: String) -> Int = { _, _ in 0 }
    private var hooks: [String: StoredWebhook] = [:]
    private var order: [String] = []
    private var events: [String: StoredEvent] = [:]

    public init(jobs: MemoryJobStore = MemoryJobStore()) { self.jobs = jobs }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    /// Records an event for a webhook as the triggers would; an agent event is coalesced into
    /// the webhook's waiting one (pending, never attempted, not claimed). Returns its uid, nil
    /// when coalesced or the webhook is gone.
    @discardableResult
    public func recordEvent(webhookID: String, type: WebhookEventType, payload: JSONValue) -> String? {
        jobs.locked {
            guard let w = hooks[webhookID] else { return nil }
            if type == .agentWorkAvailable, events.values.contains(where: {
                $0.webhookID == webhookID && $0.eventType == type.rawValue && $0.state == .pending && $0.attempts == 0 && $0.jobID == nil
            }) { return nil }
            let uid = UUID().uuidString.lowercased()
            events[uid] = StoredEvent(uid: uid, webhookID: webhookID, tenantID: w.tenantID, eventType: type.rawValue, payload: payload,
                                      createdAt: now(), nextAttemptAt: now())
            return uid
        }
    }

    public func createWebhook(_ new: NewWebhook) throws -> Webhook {
        jobs.locked {
            let id = UUID().uuidString.lowercased()
            let hook = Webhook(id: id, projectID: new.projectID.lowercased(), stage: new.stage.lowercased(), stageType: new.stageType, url: new.url,
                               createdAt: Self.iso(now()), createdBy: new.createdBy)
            hooks[id] = StoredWebhook(hook: hook, tenantID: new.tenantID, secret: new.secret)
            order.append(id)
            return hook
        }
    }

    public func webhooks(projectID: String) throws -> [Webhook] {
        jobs.locked { order.compactMap { hooks[$0]?.hook }.filter { $0.projectID == projectID.lowercased() } }
    }

    public func webhook(projectID: String, id: String) throws -> Webhook? {
        jobs.locked { hooks[id.lowercased()].map(\.hook).flatMap { $0.projectID == projectID.lowercased() ? $0 : nil } }
    }

    public func deleteWebhook(projectID: String, id: String) throws -> Bool {
        jobs.locked {
            guard let h = hooks[id.lowercased()], h.hook.projectID == projectID.lowercased() else { return false }
            hooks[h.hook.id] = nil
            order.removeAll { $0 == h.hook.id }
            events = events.filter { $0.value.webhookID != h.hook.id }
            return true
        }
    }

    public func webhookEvents(webhookID: String, limit: Int) throws -> [WebhookEventRecord] {
        jobs.locked {
            events.values.filter { $0.webhookID == webhookID.lowercased() }
                .sorted { ($0.createdAt, $0.uid) > ($1.createdAt, $1.uid) }.prefix(max(0, limit))
                .map { e in
                    WebhookEventRecord(uid: e.uid, webhookID: e.webhookID, eventType: e.eventType, createdAt: Self.iso(e.createdAt), state: e.state,
                                       attempts: e.log, lastError: e.lastError, deliveredAt: e.deliveredAt.map(Self.iso))
                }
        }
    }

    public func redeliverDead(webhookID: String) throws -> Int {
        jobs.locked {
            var n = 0
            for (uid, e) in events where e.webhookID == webhookID.lowercased() && e.state == .dead {
                events[uid]!.state = .pending
                events[uid]!.attempts = 0
                events[uid]!.nextAttemptAt = now()
                n += 1
            }
            return n
        }
    }

    private func isFree(_ e: StoredEvent, staleAfter: Double) -> Bool {
        guard let job = e.jobID else { return true }
        guard let status = try? jobs.job(job)?.status, status == .pending else { return true }
        return (e.claimedAt.map { now().timeIntervalSince($0) } ?? .infinity) >= staleAfter
    }

    private func due(_ e: StoredEvent, staleAfter: Double) -> Bool {
        e.state == .pending && e.nextAttemptAt <= now() && isFree(e, staleAfter: staleAfter)
    }

    public func tenantsWithDueWebhookEvents() throws -> [String] {
        jobs.locked { Array(Set(events.values.filter { due($0, staleAfter: 900) }.map(\.tenantID))).sorted() }
    }

    public func claimDueWebhookEvents(tenantID: String, jobID: String, limit: Int, staleAfterSeconds: Int) throws -> Int {
        jobs.locked {
            let picked = events.values.filter { $0.tenantID == tenantID && due($0, staleAfter: Double(staleAfterSeconds)) }
                .sorted { ($0.nextAttemptAt, $0.createdAt, $0.uid) < ($1.nextAttemptAt, $1.createdAt, $1.uid) }.prefix(max(0, limit))
            for e in picked {
                events[e.uid]!.jobID = jobID
                events[e.uid]!.claimedAt = now()
            }
            return picked.count
        }
    }

    public func claimedWebhookEvents(jobID: String) throws -> [String] {
        jobs.locked { events.values.filter { $0.jobID == jobID }.map(\.uid).sorted() }
    }

    public func webhookDeliveries(uids: [String]) throws -> [WebhookDelivery] {
        jobs.locked {
            Set(uids.map { $0.lowercased() }).sorted().compactMap { uid -> WebhookDelivery? in
                guard let e = events[uid], let w = hooks[e.webhookID] else { return nil }
                var payload = e.payload
                if e.eventType == WebhookEventType.agentWorkAvailable.rawValue {
                    payload = .object([("project_hash", .string(w.hook.projectID)), ("stage_uuid", .string(w.hook.stage)),
                                       ("pending_count", .number(String(pendingCount(w.hook.projectID, w.hook.stage)))),
                                       ("reason", e.payload["reason"] ?? .string("batch_size_reached"))])
                }
                return WebhookDelivery(uid: uid, webhookID: w.hook.id, url: w.hook.url, secret: w.secret, eventType: e.eventType,
                                       createdAt: Self.iso(e.createdAt), payload: payload)
            }
        }
    }

    public func commitWebhookDeliveries(_ id: ChunkID, units: Int, outcomes: [WebhookOutcome], policy: WebhookRetryPolicy,
                                        deadLetter: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(id, deadLetter: deadLetter) {
            var delivered = 0
            for o in outcomes {
                let uid = o.uid.lowercased()
                guard var e = events[uid], e.state == .pending else { continue }
                let ok = deadLetter == nil && o.delivered
                guard ok || e.jobID == id.jobID else { continue }
                e.attempts += 1
                let error = ok ? nil : (o.error ?? "HTTP \(o.status ?? 0): the receiver did not answer 2xx")
                e.log.append(WebhookAttempt(attempt: e.log.count + 1, at: Self.iso(now()), status: o.status, error: error, durationMs: max(0, o.durationMs)))
                if ok {
                    e.state = .delivered
                    e.deliveredAt = now()
                    delivered += 1
                } else {
                    e.lastError = error
                    e.state = policy.isDead(afterAttempt: e.attempts) ? .dead : .pending
                    e.nextAttemptAt = now().addingTimeInterval(policy.backoff(afterAttempt: e.attempts))
                }
                events[uid] = e
            }
            return ChunkWrite(done: delivered, skipped: max(0, units - delivered))
        }
    }
}
