import RegistrarCore

/// The `webhook-deliver` job kind (docs/workflows.md, "Webhooks"): one job per dispatch of a
/// tenant's due events; each chunk POSTs up to `chunkEvents` events once and commits the
/// attempts through the engine's ledger (exactly once per chunk). Retries are new attempts in
/// later jobs, after the backoff the commit wrote; the job itself never retries a POST.
public enum WebhookDeliver {
    public static let kind = "webhook-deliver"
    public static let queues = KindQueues.named(kind)
}

/// One chunk's message: which events to deliver (never the secrets or the URLs: those are read
/// by the worker from the store, so the broker holds no credential).
public struct WebhookDeliverChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var firstUnit: Int
    public var uids: [String]
    public init(jobID: String, seq: Int, firstUnit: Int, uids: [String]) {
        self.jobID = jobID; self.seq = seq; self.firstUnit = firstUnit; self.uids = uids
    }

    public var bytes: [UInt8] {
        Array(JSONValue.object([("job", .string(jobID)), ("seq", .number(String(seq))), ("first", .number(String(firstUnit))),
                                ("uids", .array(uids.map(JSONValue.string)))]).compactText.utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> WebhookDeliverChunk? {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"], case .number(let seq)? = v["seq"],
              case .number(let first)? = v["first"], case .array(let list)? = v["uids"], let s = Int(seq), let f = Int(first) else { return nil }
        var uids: [String] = []
        for item in list {
            guard case .string(let u) = item else { return nil }
            uids.append(u)
        }
        return WebhookDeliverChunk(jobID: job, seq: s, firstUnit: f, uids: uids)
    }
}

/// Plans a delivery job over the events it claimed (a fixed set: the plan is the same after a crash).
public final class WebhookDeliverPlanner: JobPlanner {
    public let queues = WebhookDeliver.queues
    let store: WebhookStore
    let chunkEvents: Int

    public init(store: WebhookStore, chunkEvents: Int = 20) {
        self.store = store
        self.chunkEvents = max(1, chunkEvents)
    }

    public func prepare(_ job: Job) throws -> Preparation {
        .accepted(units: try store.claimedWebhookEvents(jobID: job.id).count)
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        let uids = try store.claimedWebhookEvents(jobID: job.id)
        var seq = 0
        for start in stride(from: 0, to: uids.count, by: chunkEvents) {
            let part = Array(uids[start..<min(uids.count, start + chunkEvents)])
            let c = WebhookDeliverChunk(jobID: job.id, seq: seq, firstUnit: start, uids: part)
            try emit(PlannedChunk(ledger: LedgerChunk(seq: seq, firstUnit: start, unitCount: part.count), encode: { c.bytes }))
            seq += 1
        }
    }
}

/// One signed POST.
public struct WebhookPost: Sendable {
    public var url: String
    /// `Name: value` lines (content type, timestamp, signature).
    public var headers: [String]
    public var body: [UInt8]
    public init(url: String, headers: [String], body: [UInt8]) { self.url = url; self.headers = headers; self.body = body }
}

/// What one POST got back.
public struct WebhookPostResult: Sendable, Equatable {
    /// The HTTP status, nil when no answer arrived.
    public var status: Int?
    /// Why it failed (a code and text naming the host, never the query string or the secret).
    public var error: String?
    public var durationMs: Int
    public init(status: Int?, error: String?, durationMs: Int) { self.status = status; self.error = error; self.durationMs = durationMs }
}

/// Sends webhook POSTs: once each (the engine retries), through the fetch address policy.
public protocol WebhookPoster: AnyObject {
    func post(_ requests: [WebhookPost]) -> [WebhookPostResult]
}

/// Delivers a chunk's events: reads them, signs each (`WebhookSigning`), POSTs them, and commits
/// the attempts.
public final class WebhookDeliverHandler: ChunkHandler {
    public let queues = WebhookDeliver.queues
    let store: WebhookStore
    let poster: WebhookPoster
    let policy: WebhookRetryPolicy
    let clock: () -> Int

    /// - Parameter clock: whole seconds since the epoch (the signature's timestamp).
    public init(store: WebhookStore, poster: WebhookPoster, policy: WebhookRetryPolicy = WebhookRetryPolicy(), clock: @escaping () -> Int) {
        self.store = store
        self.poster = poster
        self.policy = policy
        self.clock = clock
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: WebhookDeliverChunk) {
        guard let chunk = WebhookDeliverChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: WebhookDeliverChunk) -> Int { work.uids.count }

    public func perform(_ work: WebhookDeliverChunk, id: ChunkID, cancellation: CancellationProbe) throws -> [WebhookOutcome]? {
        if cancellation.isCancelled { return nil }
        let deliveries = try store.webhookDeliveries(uids: work.uids)
        let now = clock()
        let posts = deliveries.map { d -> WebhookPost in
            let body = d.body
            let signature = WebhookSigning.signature(secret: d.secret, timestamp: now, body: body)
            return WebhookPost(url: d.url, headers: ["Content-Type: application/json", "\(WebhookSigning.timestampHeader): \(now)",
                                                     "\(WebhookSigning.signatureHeader): \(signature)"], body: body)
        }
        let results = poster.post(posts)
        return zip(deliveries, results).map { WebhookOutcome(uid: $0.uid, status: $1.status, error: $1.error, durationMs: $1.durationMs) }
    }

    public func deadResult(_ work: WebhookDeliverChunk, id: ChunkID, letter: DeadLetter) -> [WebhookOutcome] {
        work.uids.map { WebhookOutcome(uid: $0, status: nil, error: "the delivery chunk was dead-lettered (\(letter.reason))", durationMs: 0) }
    }

    public func commit(_ result: [WebhookOutcome], id: ChunkID, work: WebhookDeliverChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitWebhookDeliveries(id, units: work.uids.count, outcomes: result, policy: policy, deadLetter: deadLetter)
    }
}

/// Turns due events into delivery jobs (run by the coordinator every `interval`): per tenant
/// with due events, a `webhook-deliver` job that claims up to `batch` of them, then its id on
/// the coordinators' queue. A job lost between its creation and its publication (a crash)
/// holds its events only until `staleAfterSeconds`; they are then claimed again.
public final class WebhookDispatcher {
    let store: WebhookStore
    let jobs: JobStore
    let publish: (String) throws -> Void
    let batch: Int
    let staleAfterSeconds: Int

    public init(store: WebhookStore, jobs: JobStore, publish: @escaping (String) throws -> Void, batch: Int = 500, staleAfterSeconds: Int = 900) {
        self.store = store
        self.jobs = jobs
        self.publish = publish
        self.batch = max(1, batch)
        self.staleAfterSeconds = max(1, staleAfterSeconds)
    }

    /// One pass; returns the events claimed.
    @discardableResult
    public func dispatchOnce() throws -> Int {
        var claimed = 0
        for tenant in try store.tenantsWithDueWebhookEvents() {
            let job = try jobs.createJob(NewJob(kind: WebhookDeliver.kind, tenantID: tenant, ignoreErrors: true))
            claimed += try store.claimDueWebhookEvents(tenantID: tenant, jobID: job, limit: batch, staleAfterSeconds: staleAfterSeconds)
            try publish(job)
        }
        return claimed
    }
}
