import Foundation
import RegistrarRuntime
import Testing

/// Connections to one broker under test, in the roles Registrar uses.
public struct WorkQueueUnderTest {
    public enum Role { case publisher, coordinator, worker([KindQueues]) }
    /// A new connection in a role.
    public var connect: (Role) throws -> any WorkQueue
    /// Closes a connection as a crash would (unacked deliveries go back).
    public var drop: (any WorkQueue) -> Void
    /// Two kinds no other test uses (fresh queues).
    public var kinds: (KindQueues, KindQueues)
    /// The broker's delivery limit for the kinds' work queues.
    public var deliveryLimit: Int

    public init(connect: @escaping (Role) throws -> any WorkQueue, drop: @escaping (any WorkQueue) -> Void,
                kinds: (KindQueues, KindQueues), deliveryLimit: Int) {
        self.connect = connect
        self.drop = drop
        self.kinds = kinds
        self.deliveryLimit = deliveryLimit
    }
}

/// Every promise of `WorkQueue`'s doc comments, checked against one broker (the twin
/// `MemoryBroker`, and RabbitMQ through `AMQPWorkQueue`).
public enum WorkQueueConformance {
    public static func exercise(_ q: WorkQueueUnderTest) throws {
        let (a, b) = q.kinds
        let publisher = try q.connect(.publisher)
        defer { q.drop(publisher) }

        // Job ids reach a coordinator, confirmed on return.
        let coordinator = try q.connect(.coordinator)
        try publisher.publishJob("job-1")
        let job = try #require(try next(coordinator))
        #expect(job.kind == .job && job.jobKind == nil && job.body == Array("job-1".utf8))
        try coordinator.ack(job)
        #expect(try coordinator.nextDelivery(timeoutSeconds: 0.2) == nil)
        q.drop(coordinator)

        // A kind's chunks reach only that kind's workers.
        let workerA = try q.connect(.worker([a]))
        let workerB = try q.connect(.worker([b]))
        try publisher.publishChunk([1, 2, 3], to: a)
        try publisher.publishChunk([4], to: b)
        try publisher.waitForConfirms()
        let fromA = try #require(try next(workerA))
        #expect(fromA.kind == .chunk && fromA.jobKind == a.kind && fromA.body == [1, 2, 3] && fromA.deliveryCount == 0)
        let fromB = try #require(try next(workerB))
        #expect(fromB.kind == .chunk && fromB.jobKind == b.kind && fromB.body == [4])
        try workerB.ack(fromB)
        #expect(try workerB.nextDelivery(timeoutSeconds: 0.2) == nil)

        // Given back with requeue: delivered again, counted.
        try workerA.nack(fromA, requeue: true)
        let again = try #require(try next(workerA))
        #expect(again.body == [1, 2, 3] && again.deliveryCount >= 1)

        // A crashed consumer's unacked delivery goes to another consumer.
        q.drop(workerA)
        let otherA = try q.connect(.worker([a]))
        let afterCrash = try #require(try next(otherA))
        #expect(afterCrash.body == [1, 2, 3] && afterCrash.kind == .chunk)

        // Given back past the delivery limit: dead-lettered to the kind's dead queue.
        var last = afterCrash
        var dead: WorkDelivery?
        for _ in 0..<(q.deliveryLimit + 3) {
            try otherA.nack(last, requeue: true)
            let d = try #require(try next(otherA))
            if d.kind == .deadChunk { dead = d; break }
            last = d
        }
        let letter = try #require(dead)
        #expect(letter.jobKind == a.kind && letter.body == [1, 2, 3])
        #expect(letter.deathReason == "delivery_limit")
        #expect(letter.deliveryCount >= q.deliveryLimit)
        try otherA.ack(letter)

        // Refused without requeue: dead-lettered at once, as rejected.
        try publisher.publishChunk([9], to: a)
        try publisher.waitForConfirms()
        let refused = try #require(try next(otherA))
        try otherA.nack(refused, requeue: false)
        let rejected = try #require(try next(otherA))
        #expect(rejected.kind == .deadChunk && rejected.body == [9] && rejected.deathReason == "rejected")
        #expect(rejected.deadLetter.reason == "rejected")
        try otherA.ack(rejected)
        #expect(try otherA.nextDelivery(timeoutSeconds: 0.2) == nil)
        q.drop(otherA)
        q.drop(workerB)
    }

    static func next(_ queue: any WorkQueue) throws -> WorkDelivery? {
        try queue.nextDelivery(timeoutSeconds: 5)
    }
}
