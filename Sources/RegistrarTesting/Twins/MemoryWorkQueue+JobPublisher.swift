import RegistrarRuntime

/// The twin broker's connections are `JobPublisher`s too, as `AMQPWorkQueue` is.
extension MemoryWorkQueue: JobPublisher {
    /// Messages ready in a queue; throws for a queue the broker does not have (RabbitMQ's
    /// passive declare fails the same way).
    public func depth(of queue: String) throws -> Int {
        broker.condition.lock()
        defer { broker.condition.unlock() }
        guard let q = broker.queues[queue] else { throw PortError.unavailable("no queue \(queue)") }
        return q.ready.count
    }
}
