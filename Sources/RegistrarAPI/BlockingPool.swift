import Foundation
import Logging
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis

/// Where the servers are.
public struct ServerURLs: Sendable {
    public var postgres: String
    public var amqp: String
    public var redis: String
    /// Proposed to the broker by the publisher connections (their own thread keeps idle ones alive).
    public var amqpHeartbeatSeconds: Int
    public init(postgres: String, amqp: String, redis: String, amqpHeartbeatSeconds: Int = AMQPWorkQueue.defaultHeartbeatSeconds) {
        self.postgres = postgres
        self.amqp = amqp
        self.redis = redis
        self.amqpHeartbeatSeconds = amqpHeartbeatSeconds
    }
}

/// One thread's connections, opened on first use and dropped after a fault so the next call
/// reconnects. Owned by exactly one pool thread (the C handles are not thread-safe).
public final class Backends {
    let urls: ServerURLs
    private var _registry: PostgresRegistry?
    private var _tracker: RedisProgressTracker?
    private var _publisher: AMQPWorkQueue?

    init(urls: ServerURLs) { self.urls = urls }

    public func registry() throws -> PostgresRegistry {
        if let r = _registry { return r }
        let r = try PostgresRegistry(url: urls.postgres)
        _registry = r
        return r
    }

    public func tracker() throws -> RedisProgressTracker {
        if let t = _tracker { return t }
        let t = try RedisProgressTracker(url: urls.redis)
        _tracker = t
        return t
    }

    public func publisher() throws -> AMQPWorkQueue {
        if let p = _publisher { return p }
        let p = try AMQPWorkQueue(url: urls.amqp, role: .publisher, heartbeatSeconds: urls.amqpHeartbeatSeconds)
        _publisher = p
        return p
    }

    /// After an error: close whatever may be broken. Cheap to reopen; never wrong to drop.
    func dropUnhealthy(after error: Error) {
        if let r = _registry, !r.connection.isHealthy { r.connection.close(); _registry = nil }
        if error is RedisError { _tracker = nil }
        if error is AMQPError { _publisher?.close(); _publisher = nil }
    }
}

/// A few dedicated threads that run blocking C-client calls for async code.
///
/// libpq, hiredis and rabbitmq-c block; running them on NIO's event loops or Swift's cooperative
/// pool would stall every other request. Each pool thread owns its own `Backends`, so no handle
/// is ever shared; callers `await run { backends in … }` and are resumed with the result.
public final class BlockingPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(Backends) -> Void] = []
    private var stopped = false
    private let logger: Logger

    public init(size: Int, urls: ServerURLs, logger: Logger) {
        self.logger = logger
        for i in 0..<max(1, size) {
            let thread = Thread { [self] in self.loop(Backends(urls: urls)) }
            thread.name = "registrar-blocking-\(i)"
            thread.start()
        }
    }

    private func loop(_ backends: Backends) {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped { condition.unlock(); return }
            let work = queue.removeFirst()
            condition.unlock()
            work(backends)
        }
    }

    /// Runs `body` on a pool thread with that thread's connections.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Backends) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: CancellationError())
                return
            }
            queue.append { backends in
                do {
                    continuation.resume(returning: try body(backends))
                } catch {
                    backends.dropUnhealthy(after: error)
                    continuation.resume(throwing: error)
                }
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets the threads finish queued work and exit.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
