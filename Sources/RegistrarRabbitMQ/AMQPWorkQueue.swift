import RegistrarCore
import RegistrarRuntime

/// The work transport on RabbitMQ.
///
/// Topology (declared idempotently by every process at start, for the kinds it knows):
/// - `registrar.jobs`: quorum queue of job ids of every kind, consumed by coordinators.
/// - per kind (`KindQueues`): a quorum queue of chunks with `x-delivery-limit` (poison chunks stop
///   being redelivered) dead-lettering to the kind's fanout exchange, bound to the kind's dead
///   queue, whose chunks workers record as failed units (`internal_error`) so jobs still finish
///   with exact counts. Registration's are `registrar.chunks`, `registrar.dead` and
///   `registrar.chunks.dead`; every other kind's `registrar.KIND.chunks`, `registrar.KIND.dead`
///   and `registrar.KIND.chunks.dead`.
/// Publishing uses publisher confirms in windows; consuming uses manual acks and a small prefetch.
public final class AMQPWorkQueue: WorkQueue {
    public static let jobsQueue = "registrar.jobs"
    public static let chunksQueue = KindQueues.registration.work
    public static let deadExchange = KindQueues.registration.deadExchange
    public static let deadQueue = KindQueues.registration.dead

    public enum Role {
        /// Publishes job ids and chunks (the API, `submit`, `dlq replay`).
        case publisher
        /// Consumes job ids.
        case coordinator
        /// Consumes the chunks and dead chunks of these kinds.
        case worker(kinds: [KindQueues])
        /// Registration's worker (the kind every worker served before there were others).
        public static var worker: Role { .worker(kinds: [.registration]) }
    }

    let connection: AMQPConnection
    let confirmWindow: Int
    let deliveryLimit: Int
    let jobsQueue: String
    /// Consumer tag → (kind, dead?) for the queues this consumer reads.
    private var consumed: [String: (kind: String, dead: Bool)] = [:]
    /// Kinds whose topology this connection has declared (publishing to a kind declares it once).
    private var declared: Set<KindQueues> = []

    /// The heartbeat proposed to the broker unless configured: RabbitMQ's own default. A worker that
    /// vanishes (no FIN, no RST) loses its chunks to the other workers two to three intervals later.
    public static let defaultHeartbeatSeconds = HeartbeatSetting.defaultSeconds

    /// - Parameters:
    ///   - deliveryLimit: deliveries before a chunk is dead-lettered.
    ///   - prefetch: unacknowledged messages a consumer may hold.
    ///   - heartbeatSeconds: proposed to the broker, which may lower it. The connection's own thread
    ///     keeps it alive however long a chunk takes, so this only bounds how long a vanished
    ///     process keeps its unacknowledged messages.
    ///   - jobsQueue: the coordinators' queue (tests give their own to stay apart from others).
    public init(url: String, role: Role, prefetch: UInt16 = 2, deliveryLimit: Int = 5, confirmWindow: Int = 256,
                heartbeatSeconds: Int = AMQPWorkQueue.defaultHeartbeatSeconds, jobsQueue: String = AMQPWorkQueue.jobsQueue) throws {
        connection = try AMQPConnection(url: url, heartbeatSeconds: heartbeatSeconds)
        self.confirmWindow = confirmWindow
        self.deliveryLimit = deliveryLimit
        self.jobsQueue = jobsQueue
        _ = try connection.declareQueue(jobsQueue, arguments: ["x-queue-type": .string("quorum")])
        try declare(.registration)
        try connection.enableConfirms()
        switch role {
        case .publisher:
            break
        case .coordinator:
            try connection.setPrefetch(1)
            _ = try connection.consume(queue: jobsQueue)
        case .worker(let kinds):
            try connection.setPrefetch(prefetch)
            for queues in kinds {
                try declare(queues)
                consumed[try connection.consume(queue: queues.work)] = (queues.kind, false)
                consumed[try connection.consume(queue: queues.dead)] = (queues.kind, true)
            }
        }
    }

    /// Declares a kind's queues and dead-letter exchange (idempotent on the broker; once per connection here).
    private func declare(_ queues: KindQueues) throws {
        guard !declared.contains(queues) else { return }
        try connection.declareExchange(queues.deadExchange, type: "fanout")
        _ = try connection.declareQueue(queues.work, arguments: [
            "x-queue-type": .string("quorum"),
            "x-delivery-limit": .int(deliveryLimit),
            "x-dead-letter-exchange": .string(queues.deadExchange),
        ])
        _ = try connection.declareQueue(queues.dead, arguments: ["x-queue-type": .string("quorum")])
        try connection.bindQueue(queues.dead, exchange: queues.deadExchange, routingKey: "")
        declared.insert(queues)
    }

    public func publishJob(_ jobID: String) throws {
        _ = try connection.publish(exchange: "", routingKey: jobsQueue, body: Array(jobID.utf8))
        try connection.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 30)
    }

    public func publishChunk(_ body: [UInt8], to queues: KindQueues) throws {
        try declare(queues)
        _ = try connection.publish(exchange: "", routingKey: queues.work, body: body)
        if connection.outstandingConfirms >= confirmWindow {
            try connection.waitForConfirms(untilOutstandingAtMost: confirmWindow / 2, timeoutSeconds: 60)
        }
    }

    public func waitForConfirms() throws {
        try connection.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 60)
    }

    public func nextDelivery(timeoutSeconds: Double) throws -> WorkDelivery? {
        guard let d = try connection.nextDelivery(timeoutSeconds: timeoutSeconds) else { return nil }
        let kind: WorkDelivery.Kind
        var jobKind: String?
        if let queue = consumed[d.consumerTag] {
            kind = queue.dead ? .deadChunk : .chunk
            jobKind = queue.kind
        } else {
            kind = .job
        }
        var count = d.deliveryCount ?? (d.redelivered ? 1 : 0)
        // A chunk dead-lettered at the limit arrives on the dead queue without its old count.
        if kind == .deadChunk && d.deathReason == "delivery_limit" { count = max(count, deliveryLimit) }
        return WorkDelivery(kind: kind, jobKind: jobKind, body: d.body, tag: d.deliveryTag, deliveryCount: count, deathReason: d.deathReason)
    }

    public func ack(_ delivery: WorkDelivery) throws {
        try connection.ack(delivery.tag)
    }

    public func nack(_ delivery: WorkDelivery, requeue: Bool) throws {
        try connection.nack(delivery.tag, requeue: requeue)
    }

    /// Messages waiting in registration's chunk queue (for operators and autoscaling).
    public func chunkBacklog() throws -> Int { try connection.queueDepth(Self.chunksQueue) }
    /// Messages ready in one of the queues (for the queue-depth gauge).
    public func depth(of queue: String) throws -> Int { try connection.queueDepth(queue) }

    /// The heartbeat interval agreed with the broker (seconds; 0: none).
    public var heartbeatSeconds: Int { connection.heartbeatSeconds }

    public func close() { connection.close() }
}
