import Foundation
import RegistrarCore
import RegistrarRuntime

/// The whole world the HTTP API talks to, in memory: one `MemoryRegistry` (with its
/// `MemoryJobStore`), one `MemoryProgressTracker` and one `MemoryBroker`, shared by every pool
/// thread's `backends()` as the servers are shared by the live connections. A server can be
/// taken down (`setDown`) to see what the API answers then.
public final class MemoryAPIWorld: @unchecked Sendable {
    public enum Server: Sendable, Hashable { case postgres, redis, rabbitmq }

    public let registry: MemoryRegistry
    public let tracker: MemoryProgressTracker
    public let broker: MemoryBroker
    /// Registrar's own object storage (signed links).
    public let storage = MemoryObjectStorage()
    private let lock = NSLock()
    private var down: Set<Server> = []

    public init(registry: MemoryRegistry = MemoryRegistry(), tracker: MemoryProgressTracker = MemoryProgressTracker(),
                broker: MemoryBroker = MemoryBroker()) {
        self.registry = registry
        self.tracker = tracker
        self.broker = broker
        // The broker has the jobs queue and registration's queues from the start, as RabbitMQ
        // has once anything connected.
        _ = broker.connect(.publisher)
        broker.condition.lock()
        broker.declare(.registration)
        broker.condition.unlock()
    }

    /// Takes a server down (its calls throw `PortError.unavailable`) or brings it back.
    public func setDown(_ server: Server, _ isDown: Bool = true) {
        lock.lock()
        defer { lock.unlock() }
        if isDown { down.insert(server) } else { down.remove(server) }
    }

    func check(_ server: Server) throws {
        lock.lock()
        defer { lock.unlock() }
        if down.contains(server) { throw PortError.unavailable("\(server) is down") }
    }

    /// One pool thread's backends (the factory `APIServer.make(config:backends:…)` takes).
    public func backends() -> any APIBackends { MemoryAPIBackends(world: self) }

    /// Job ids queued for the coordinators, in order (taken off the queue).
    public func takeQueuedJobs() throws -> [String] {
        let coordinator = broker.connect(.coordinator)
        defer { coordinator.close() }
        var out: [String] = []
        while let d = try coordinator.nextDelivery(timeoutSeconds: 0) {
            try coordinator.ack(d)
            out.append(String(decoding: d.body, as: UTF8.self))
        }
        return out
    }
}

/// A pool thread's view of a `MemoryAPIWorld`: the shared twins, and a publisher connection of
/// its own (dropped after a broker fault, as the live backends drop theirs).
final class MemoryAPIBackends: APIBackends {
    let world: MemoryAPIWorld
    private var connection: MemoryWorkQueue?

    init(world: MemoryAPIWorld) { self.world = world }

    func registry() throws -> any APIStore {
        try world.check(.postgres)
        return world.registry
    }

    func tracker() throws -> any ProgressTracker {
        try world.check(.redis)
        return world.tracker
    }

    func publisher() throws -> any JobPublisher {
        try world.check(.rabbitmq)
        if let connection { return connection }
        let c = world.broker.connect(.publisher)
        connection = c
        return c
    }

    func storage() throws -> any ObjectStorage { world.storage }

    func dropUnhealthy(after error: Error) {
        if let e = error as? PortError, e.isUnavailable { connection?.close(); connection = nil }
    }
}
