import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// A `WebhookStore` under test, with what the port leaves to others: projects, the engine's
/// job store (delivery commits go through its ledger), and a way to cause an event (PostgreSQL's
/// come from triggers on task moves; the suite needs them without tasks).
public struct WebhookStoreUnderTest {
    public var store: any WebhookStore
    public var jobs: any JobStore
    /// A new tenant and a project of it: (tenantID, projectID).
    public var makeProject: () throws -> (tenantID: String, projectID: String)
    /// Records an event for a webhook as a task move would (agent events coalesced).
    public var recordEvent: (_ webhookID: String, _ type: WebhookEventType) throws -> Void

    public init(store: any WebhookStore, jobs: any JobStore, makeProject: @escaping () throws -> (tenantID: String, projectID: String),
                recordEvent: @escaping (String, WebhookEventType) throws -> Void) {
        self.store = store; self.jobs = jobs; self.makeProject = makeProject; self.recordEvent = recordEvent
    }
}

/// Every promise of `WebhookStore`'s doc comments, against the twin and PostgreSQL. Retry
/// waits are 0 s (due at once) or an hour (not due), so nothing depends on timing.
public enum WebhookStoreConformance {
    public static func exercise(_ make: () throws -> WebhookStoreUnderTest) throws {
        try createListReadDelete(make())
        try claimDeliverRetryDeadRedeliver(make())
        try backoffKeepsFailedEventsBack(make())
        try agentEventsCoalesceUntilClaimed(make())
        try lateCommitOfAReleasedClaimChangesNothing(make())
    }

    static let stage = "6f1c7c2e-0000-4000-8000-000000000001"

    static func hook(_ s: WebhookStoreUnderTest, _ p: (tenantID: String, projectID: String), type: StageType = .annotation,
                     url: String = "https://hooks.example.com/in") throws -> Webhook {
        try s.store.createWebhook(NewWebhook(tenantID: p.tenantID, projectID: p.projectID, stage: stage, stageType: type, url: url,
                                             secret: "s3cret-\(UInt32.random(in: 0 ... .max))", createdBy: "admin@example.com"))
    }

    /// A delivery job over the tenant's due events, its one chunk in the ledger.
    static func claimJob(_ s: WebhookStoreUnderTest, tenant: String, limit: Int = 100) throws -> (job: String, uids: [String]) {
        let job = try s.jobs.createJob(NewJob(kind: WebhookDeliver.kind, tenantID: tenant, ignoreErrors: true))
        let n = try s.store.claimDueWebhookEvents(tenantID: tenant, jobID: job, limit: limit, staleAfterSeconds: 900)
        let uids = try s.store.claimedWebhookEvents(jobID: job)
        #expect(uids.count == n)
        try s.jobs.recordTotal(jobID: job, units: n)
        try s.jobs.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: max(1, n))])
        return (job, uids)
    }

    static func finish(_ s: WebhookStoreUnderTest, _ job: String) throws {
        try s.jobs.finishSplit(jobID: job, totalChunks: 1)
        _ = try s.jobs.finishJobIfComplete(jobID: job)
    }

    static func createListReadDelete(_ s: WebhookStoreUnderTest) throws {
        let p = try s.makeProject(), q = try s.makeProject()
        let a = try hook(s, p), b = try hook(s, p, type: .done), c = try hook(s, q, type: .agent)
        #expect(a.projectID == p.projectID.lowercased() && a.stage == stage && a.stageType == .annotation && a.createdBy == "admin@example.com")
        #expect(try s.store.webhooks(projectID: p.projectID).map(\.id) == [a.id, b.id])
        #expect(try s.store.webhooks(projectID: q.projectID).map(\.id) == [c.id])
        #expect(try s.store.webhook(projectID: p.projectID, id: a.id) == a)
        #expect(try s.store.webhook(projectID: q.projectID, id: a.id) == nil, "another project's webhook is not found")
        #expect(try s.store.webhook(projectID: p.projectID, id: "not-a-uuid") == nil)
        #expect(!a.json.compactText.contains("s3cret"), "the stored form never carries the secret")
        try s.recordEvent(a.id, .taskSubmitted)
        #expect(try s.store.webhookEvents(webhookID: a.id, limit: 10).count == 1)
        #expect(try s.store.deleteWebhook(projectID: q.projectID, id: a.id) == false)
        #expect(try s.store.deleteWebhook(projectID: p.projectID, id: a.id) == true)
        #expect(try s.store.deleteWebhook(projectID: p.projectID, id: a.id) == false)
        #expect(try s.store.webhookEvents(webhookID: a.id, limit: 10).isEmpty, "events go with their webhook")
        #expect(try s.store.webhooks(projectID: p.projectID).map(\.id) == [b.id])
    }

    static func claimDeliverRetryDeadRedeliver(_ s: WebhookStoreUnderTest) throws {
        let p = try s.makeProject()
        let w = try hook(s, p, url: "https://hooks.example.com/in?token=x")
        try s.recordEvent(w.id, .taskSubmitted)
        #expect(try s.store.tenantsWithDueWebhookEvents().contains(p.tenantID.lowercased()))
        let policy = WebhookRetryPolicy(maxAttempts: 2, baseSeconds: 0, maxSeconds: 0)

        let first = try claimJob(s, tenant: p.tenantID)
        #expect(first.uids.count == 1)
        let uid = first.uids[0]
        let other = try s.jobs.createJob(NewJob(kind: WebhookDeliver.kind, tenantID: p.tenantID, ignoreErrors: true))
        #expect(try s.store.claimDueWebhookEvents(tenantID: p.tenantID, jobID: other, limit: 100, staleAfterSeconds: 900) == 0,
                "an event a running job holds is not claimed twice")
        try s.jobs.failJob(jobID: other, reason: JobFailure(code: "test", item: "job", message: "not used"))

        let deliveries = try s.store.webhookDeliveries(uids: first.uids)
        #expect(deliveries.count == 1)
        let d = try #require(deliveries.first)
        #expect(d.url == w.url && d.webhookID == w.id && d.eventType == "task_submitted_event" && d.secret.hasPrefix("s3cret-"))
        let body = try #require(JSONValue.parse(d.body))
        #expect(body["uid"] == .string(uid) && body["source"] == .string("Encord") && body["event_type"] == .string("task_submitted_event"))

        let failed = WebhookOutcome(uid: uid, status: 500, error: nil, durationMs: 12)
        #expect(try s.store.commitWebhookDeliveries(ChunkID(jobID: first.job, seq: 0), units: 1, outcomes: [failed], policy: policy, deadLetter: nil)
                == .committed(UnitCounts(skipped: 1)))
        #expect(try s.store.commitWebhookDeliveries(ChunkID(jobID: first.job, seq: 0), units: 1, outcomes: [failed], policy: policy, deadLetter: nil)
                == .alreadyDone(UnitCounts(skipped: 1)), "a redelivered chunk records nothing twice")
        var log = try #require(try s.store.webhookEvents(webhookID: w.id, limit: 10).first)
        #expect(log.state == .pending && log.attempts.count == 1 && log.attempts[0].status == 500 && log.attempts[0].attempt == 1)
        #expect(log.lastError?.contains("500") == true)
        try finish(s, first.job)

        let second = try claimJob(s, tenant: p.tenantID)
        #expect(second.uids == [uid], "a failed event is due again after its backoff (0 s here) once its job ended")
        _ = try s.store.commitWebhookDeliveries(ChunkID(jobID: second.job, seq: 0), units: 1,
                                                outcomes: [WebhookOutcome(uid: uid, status: nil, error: "connect_failed: refused", durationMs: 3)],
                                                policy: policy, deadLetter: nil)
        try finish(s, second.job)
        log = try #require(try s.store.webhookEvents(webhookID: w.id, limit: 10).first)
        #expect(log.state == .dead && log.attempts.count == 2 && log.lastError == "connect_failed: refused" && log.attempts[1].status == nil)
        #expect(try !s.store.tenantsWithDueWebhookEvents().contains(p.tenantID.lowercased()), "a dead event is not due")

        #expect(try s.store.redeliverDead(webhookID: w.id) == 1)
        #expect(try s.store.redeliverDead(webhookID: w.id) == 0)
        let third = try claimJob(s, tenant: p.tenantID)
        #expect(third.uids == [uid], "redelivery keeps the uid")
        #expect(try s.store.commitWebhookDeliveries(ChunkID(jobID: third.job, seq: 0), units: 1,
                                                    outcomes: [WebhookOutcome(uid: uid, status: 204, error: nil, durationMs: 5)],
                                                    policy: policy, deadLetter: nil) == .committed(UnitCounts(done: 1)))
        try finish(s, third.job)
        log = try #require(try s.store.webhookEvents(webhookID: w.id, limit: 10).first)
        #expect(log.state == .delivered && log.deliveredAt != nil && log.attempts.map(\.attempt) == [1, 2, 3] && log.attempts[2].status == 204)
        #expect(try s.store.claimDueWebhookEvents(tenantID: p.tenantID, jobID: other, limit: 100, staleAfterSeconds: 900) == 0,
                "a delivered event is never claimed again")
    }

    static func backoffKeepsFailedEventsBack(_ s: WebhookStoreUnderTest) throws {
        let p = try s.makeProject()
        let w = try hook(s, p, type: .done)
        try s.recordEvent(w.id, .taskCompleted)
        let job = try claimJob(s, tenant: p.tenantID)
        _ = try s.store.commitWebhookDeliveries(ChunkID(jobID: job.job, seq: 0), units: 1,
                                                outcomes: [WebhookOutcome(uid: job.uids[0], status: 503, error: nil, durationMs: 1)],
                                                policy: WebhookRetryPolicy(maxAttempts: 5, baseSeconds: 3600, maxSeconds: 3600), deadLetter: nil)
        try finish(s, job.job)
        #expect(try !s.store.tenantsWithDueWebhookEvents().contains(p.tenantID.lowercased()), "not due before its backoff has passed")
        #expect(try s.store.webhookEvents(webhookID: w.id, limit: 10).first?.state == .pending)
    }

    static func agentEventsCoalesceUntilClaimed(_ s: WebhookStoreUnderTest) throws {
        let p = try s.makeProject()
        let w = try hook(s, p, type: .agent)
        for _ in 0..<3 { try s.recordEvent(w.id, .agentWorkAvailable) }
        #expect(try s.store.webhookEvents(webhookID: w.id, limit: 10).count == 1, "arrivals coalesce into the waiting event")
        let job = try claimJob(s, tenant: p.tenantID)
        let d = try #require(try s.store.webhookDeliveries(uids: job.uids).first)
        #expect(d.payload["pending_count"] == .number("0") && d.payload["stage_uuid"] == .string(stage))
        #expect(d.payload["reason"] == .string("batch_size_reached"))
        try s.recordEvent(w.id, .agentWorkAvailable)
        #expect(try s.store.webhookEvents(webhookID: w.id, limit: 10).count == 2, "arrivals after the claim make a new event")
    }

    static func lateCommitOfAReleasedClaimChangesNothing(_ s: WebhookStoreUnderTest) throws {
        let p = try s.makeProject()
        let w = try hook(s, p)
        try s.recordEvent(w.id, .taskSubmitted)
        let stale = try claimJob(s, tenant: p.tenantID)
        try s.jobs.failJob(jobID: stale.job, reason: JobFailure(code: "test", item: "job", message: "lost"))
        let fresh = try claimJob(s, tenant: p.tenantID)
        #expect(fresh.uids == stale.uids, "a claim of a job that no longer runs is released")
        let policy = WebhookRetryPolicy(maxAttempts: 1, baseSeconds: 0, maxSeconds: 0)
        _ = try s.store.commitWebhookDeliveries(ChunkID(jobID: stale.job, seq: 0), units: 1,
                                                outcomes: [WebhookOutcome(uid: stale.uids[0], status: 500, error: nil, durationMs: 1)],
                                                policy: policy, deadLetter: nil)
        var log = try #require(try s.store.webhookEvents(webhookID: w.id, limit: 10).first)
        #expect(log.state == .pending && log.attempts.isEmpty, "a failure from a job that lost the claim is not applied")
        _ = try s.store.commitWebhookDeliveries(ChunkID(jobID: fresh.job, seq: 0), units: 1,
                                                outcomes: [WebhookOutcome(uid: fresh.uids[0], status: 200, error: nil, durationMs: 1)],
                                                policy: policy, deadLetter: nil)
        log = try #require(try s.store.webhookEvents(webhookID: w.id, limit: 10).first)
        #expect(log.state == .delivered && log.attempts.count == 1)
    }
}
