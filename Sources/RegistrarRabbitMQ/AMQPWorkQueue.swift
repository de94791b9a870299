import RegistrarCore
import RegistrarRuntime

/// The work transport on RabbitMQ.
///
/// Topology (declared idempotently by every process at start):
/// - `registrar.jobs`: quorum queue of job ids, consumed by coordinators.
/// - `registrar.chunks`: quorum queue of chunks with `x-delivery-limit` (poison chunks stop being
///   redelivered) and dead-lettering to the `registrar.dead` exchange.
/// - `registrar.chunks.dead`: bound to `registrar.dead`; workers record its chunks' units as
///   failed (`internal_error`) so jobs still finish with exact counts.
/// Publishing uses publisher confirms in windows; consuming uses manual acks and a small prefetch.
public final class AMQPWorkQueue: WorkQueue {
    public static let jobsQueue = "registrar.jobs"
    public static let chunksQueue = "registrar.chunks"
    public static let deadExchange = "registrar.dead"
    public static let deadQueue = "registrar.chunks.dead"

    public enum Role { case publisher, coordinator, worker }

    let connection: AMQPConnection
    let confirmWindow: Int
    let deliveryLimit: Int

    /// The heartbeat proposed to the broker unless configured: RabbitMQ's own default. A worker that
    /// vanishes (no FIN, no RST) loses its chunks to the other workers two to three intervals later.
    public static let defaultHeartbeatSeconds = HeartbeatSetting.defaultSeconds

    /// - Parameters:
    ///   - deliveryLimit: deliveries before a chunk is dead-lettered.
    ///   - prefetch: unacknowledged messages a consumer may hold.
    ///   - heartbeatSeconds: proposed to the broker, which may lower it. The connection's own thread
    ///     keeps it alive however long a chunk takes, so this only bounds how long a vanished
    ///     process keeps its unacknowledged messages.
    public init(url: String, role: Role, prefetch: UInt16 = 2, deliveryLimit: Int = 5, confirmWindow: Int = 256,
                heartbeatSeconds: Int = AMQPWorkQueue.defaultHeartbeatSeconds) throws {
        connection = try AMQPConnection(url: url, heartbeatSeconds: heartbeatSeconds)
        self.confirmWindow = confirmWindow
        self.deliveryLimit = deliveryLimit
        try Self.declareTopology(connection, deliveryLimit: deliveryLimit)
        try connection.enableConfirms()
        switch role {
        case .publisher:
            break
        case .coordinator:
            try connection.setPrefetch(1)
            _ = try connection.consume(queue: Self.jobsQueue)
        case .worker:
            try connection.setPrefetch(prefetch)
            _ = try connection.consume(queue: Self.chunksQueue)
            _ = try connection.consume(queue: Self.deadQueue)
        }
    }

    static func declareTopology(_ c: AMQPConnection, deliveryLimit: Int) throws {
        try c.declareExchange(deadExchange, type: "fanout")
        _ = try c.declareQueue(jobsQueue, arguments: ["x-queue-type": .string("quorum")])
        _ = try c.declareQueue(chunksQueue, arguments: [
            "x-queue-type": .string("quorum"),
            "x-delivery-limit": .int(deliveryLimit),
            "x-dead-letter-exchange": .string(deadExchange),
        ])
        _ = try c.declareQueue(deadQueue, arguments: ["x-queue-type": .string("quorum")])
        try c.bindQueue(deadQueue, exchange: deadExchange, routingKey: "")
    }

    public func publishJob(_ jobID: String) throws {
        _ = try connection.publish(exchange: "", routingKey: Self.jobsQueue, body: Array(jobID.utf8))
        try connection.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 30)
    }

    public func publishChunk(_ body: [UInt8]) throws {
        _ = try connection.publish(exchange: "", routingKey: Self.chunksQueue, body: body)
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
        if d.exchange == Self.deadExchange { kind = .deadChunk } else if d.routingKey == Self.jobsQueue { kind = .job } else { kind = .chunk }
        var count = d.deliveryCount ?? (d.redelivered ? 1 : 0)
        // A chunk dead-lettered at the limit arrives on the dead queue without its old count.
        if kind == .deadChunk && d.deathReason == "delivery_limit" { count = max(count, deliveryLimit) }
        return WorkDelivery(kind: kind, body: d.body, tag: d.deliveryTag, deliveryCount: count, deathReason: d.deathReason)
    }

    public func ack(_ delivery: WorkDelivery) throws {
        try connection.ack(delivery.tag)
    }

    public func nack(_ delivery: WorkDelivery, requeue: Bool) throws {
        try connection.nack(delivery.tag, requeue: requeue)
    }

    /// Messages waiting in the chunk queue (for operators and autoscaling).
    public func chunkBacklog() throws -> Int { try connection.queueDepth(Self.chunksQueue) }
    /// Messages ready in one of the queues (for the queue-depth gauge).
    public func depth(of queue: String) throws -> Int { try connection.queueDepth(queue) }

    /// The heartbeat interval agreed with the broker (seconds; 0: none).
    public var heartbeatSeconds: Int { connection.heartbeatSeconds }

    public func close() { connection.close() }
}
