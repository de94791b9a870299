import Foundation
import RegistrarRuntime

/// The in-memory twin of RabbitMQ as Registrar uses it: the jobs queue, and per kind a work
/// queue with a delivery limit dead-lettering to the kind's dead queue. Connections (`connect`)
/// are `WorkQueue`s; like the broker, it tracks each connection's unacked deliveries and returns
/// them to their queue when the connection closes (a crash), counting the delivery.
public final class MemoryBroker: @unchecked Sendable {
    struct Message {
        var body: [UInt8]
        /// Times it was given back (nack with requeue, or its consumer's connection closed).
        var returns = 0
        var deathReason: String?
    }

    struct Queue {
        var ready: [Message] = []
        /// For a kind's work queue: messages returned more often than this are dead-lettered.
        var deliveryLimit: Int?
        var deadQueue: String?
    }

    let condition = NSCondition()
    var queues: [String: Queue] = [:]
    public let deliveryLimit: Int
    private var nextTag: UInt64 = 0

    /// - Parameter deliveryLimit: as the adapter's `x-delivery-limit` (5 by default).
    public init(deliveryLimit: Int = 5) {
        self.deliveryLimit = deliveryLimit
    }

    /// A connection in a role (`.publisher`, `.coordinator`, or a worker of some kinds).
    public func connect(_ role: MemoryWorkQueue.Role, prefetch: Int = 2, jobsQueue: String = "registrar.jobs") -> MemoryWorkQueue {
        MemoryWorkQueue(broker: self, role: role, prefetch: prefetch, jobsQueue: jobsQueue)
    }

    /// Messages ready in a queue (not delivered, or given back).
    public func depth(_ queue: String) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return queues[queue]?.ready.count ?? 0
    }

    func declare(_ k: KindQueues) {
        if queues[k.work] == nil { queues[k.work] = Queue(deliveryLimit: deliveryLimit, deadQueue: k.dead) }
        if queues[k.dead] == nil { queues[k.dead] = Queue() }
    }

    func tag() -> UInt64 {
        nextTag += 1
        return nextTag
    }

    /// Puts a message back (front of its queue), or dead-letters it once it was returned more
    /// often than the queue's limit. Call with the condition locked.
    func giveBack(_ m: Message, to name: String, requeue: Bool) {
        var m = m
        guard let q = queues[name] else { return }
        if requeue {
            m.returns += 1
            if let limit = q.deliveryLimit, m.returns > limit, let dead = q.deadQueue {
                m.deathReason = "delivery_limit"
                queues[dead]!.ready.append(m)
            } else {
                queues[name]!.ready.insert(m, at: 0)
            }
        } else if let dead = q.deadQueue {
            m.deathReason = "rejected"
            queues[dead]!.ready.append(m)
        }
        condition.broadcast()
    }
}

/// One connection to a `MemoryBroker`: the twin of `AMQPWorkQueue`.
public final class MemoryWorkQueue: WorkQueue, @unchecked Sendable {
    public enum Role {
        case publisher, coordinator
        case worker(kinds: [KindQueues])
    }

    let broker: MemoryBroker
    let prefetch: Int
    let jobsQueue: String
    /// Queue name → (kind, dead?) for what this connection consumes.
    private var consumed: [(name: String, kind: String?, dead: Bool)] = []
    private var unacked: [UInt64: (queue: String, message: MemoryBroker.Message)] = [:]
    private var closed = false
    private var turn = 0

    init(broker: MemoryBroker, role: Role, prefetch: Int, jobsQueue: String) {
        self.broker = broker
        self.prefetch = max(1, prefetch)
        self.jobsQueue = jobsQueue
        broker.condition.lock()
        defer { broker.condition.unlock() }
        if broker.queues[jobsQueue] == nil { broker.queues[jobsQueue] = MemoryBroker.Queue() }
        broker.declare(.registration)
        switch role {
        case .publisher: break
        case .coordinator: consumed = [(jobsQueue, nil, false)]
        case .worker(let kinds):
            for k in kinds {
                broker.declare(k)
                consumed += [(k.work, k.kind, false), (k.dead, k.kind, true)]
            }
        }
    }

    private func live() throws {
        if closed { throw PortError.unavailable("connection closed") }
    }

    public func publishJob(_ jobID: String) throws {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        try live()
        broker.queues[jobsQueue]!.ready.append(.init(body: Array(jobID.utf8)))
        broker.condition.broadcast()
    }

    public func publishChunk(_ body: [UInt8], to queues: KindQueues) throws {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        try live()
        broker.declare(queues)
        broker.queues[queues.work]!.ready.append(.init(body: body))
        broker.condition.broadcast()
    }

    public func waitForConfirms() throws { try live() }

    public func nextDelivery(timeoutSeconds: Double) throws -> WorkDelivery? {
        let deadline = Date().addingTimeInterval(max(0, timeoutSeconds))
        broker.condition.lock()
        defer { broker.condition.unlock() }
        while true {
            try live()
            if unacked.count < prefetch, !consumed.isEmpty {
                // Round-robin over the consumed queues, as the broker serves several consumers.
                for i in 0..<consumed.count {
                    let c = consumed[(turn + i) % consumed.count]
                    guard var q = broker.queues[c.name], !q.ready.isEmpty else { continue }
                    let m = q.ready.removeFirst()
                    broker.queues[c.name] = q
                    turn = (turn + i + 1) % consumed.count
                    let tag = broker.tag()
                    unacked[tag] = (c.name, m)
                    let kind: WorkDelivery.Kind = c.kind == nil ? .job : (c.dead ? .deadChunk : .chunk)
                    return WorkDelivery(kind: kind, jobKind: c.kind, body: m.body, tag: tag, deliveryCount: m.returns,
                                        deathReason: m.deathReason)
                }
            }
            if !broker.condition.wait(until: deadline) { return nil }
        }
    }

    public func ack(_ delivery: WorkDelivery) throws {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        try live()
        guard unacked.removeValue(forKey: delivery.tag) != nil else { throw PortError.conflict("unknown delivery tag \(delivery.tag)") }
        broker.condition.broadcast()
    }

    public func nack(_ delivery: WorkDelivery, requeue: Bool) throws {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        try live()
        guard let (queue, message) = unacked.removeValue(forKey: delivery.tag) else {
            throw PortError.conflict("unknown delivery tag \(delivery.tag)")
        }
        broker.giveBack(message, to: queue, requeue: requeue)
    }

    /// Drops the connection: every unacked delivery goes back to its queue (counted), as when a
    /// consumer dies.
    public func close() {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        guard !closed else { return }
        closed = true
        for (_, (queue, message)) in unacked.sorted(by: { $0.key > $1.key }) { broker.giveBack(message, to: queue, requeue: true) }
        unacked.removeAll()
    }
}
