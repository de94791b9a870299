import Foundation
import ServiceLifecycle
import Synchronization

/// A stop request shared between the service (async side) and its loop (thread side).
public final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    public init() {}
    public var isStopped: Bool { stopped.load(ordering: .acquiring) }
    public func stop() { stopped.store(true, ordering: .releasing) }
}

/// Runs a blocking loop on a thread of its own, as a swift-service-lifecycle `Service`.
///
/// The C clients block (libpq, rabbitmq-c, hiredis, libcurl) and each handle must stay on one
/// thread, so the loop never runs on Swift's cooperative pool. On graceful shutdown (SIGTERM via
/// `ServiceGroup`) the flag is set; the loop finishes the message in hand and returns.
public struct BlockingLoopService: Service {
    public let name: String
    let flag: StopFlag
    let body: @Sendable (StopFlag) throws -> Void

    /// - Parameter stopFlag: the flag the loop watches; pass one to stop several loops together.
    public init(name: String, stopFlag: StopFlag = StopFlag(), body: @escaping @Sendable (StopFlag) throws -> Void) {
        self.name = name
        self.flag = stopFlag
        self.body = body
    }

    public func run() async throws {
        let flag = self.flag
        let name = self.name
        let body = self.body
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                    let thread = Thread {
                        do {
                            try body(flag)
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = name
                    thread.start()
                }
            } onGracefulShutdown: {
                flag.stop()
            }
        } onCancel: {
            flag.stop()
        }
    }
}

/// Exponential backoff with a cap, for reconnect loops.
public struct Backoff: Sendable {
    public var base: Double
    public var cap: Double
    private var attempt = 0

    public init(base: Double = 0.5, cap: Double = 30) {
        self.base = base
        self.cap = cap
    }

    /// The next delay in seconds (full jitter).
    public mutating func next() -> Double {
        let d = min(cap, base * Double(1 << min(attempt, 16)))
        attempt += 1
        return Double.random(in: d / 2...d)
    }

    public mutating func reset() { attempt = 0 }

    /// Sleeps for the next delay in small steps, returning early if `flag` is set.
    public mutating func sleep(unless flag: StopFlag) {
        var remaining = next()
        while remaining > 0 && !flag.isStopped {
            let step = min(remaining, 0.2)
            usleep(UInt32(step * 1_000_000))
            remaining -= step
        }
    }
}

/// Whether a role's loop is connected to its servers and consuming (for `/readyz`).
public final class ReadinessFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var ready = false
    private let onSet: (@Sendable (Bool) -> Void)?
    public init() { onSet = nil }
    /// A flag that also reports every change (a worker's slots feed one readiness this way).
    public init(onSet: @escaping @Sendable (Bool) -> Void) { self.onSet = onSet }
    public var isReady: Bool {
        lock.lock(); defer { lock.unlock() }
        return ready
    }
    public func set(_ value: Bool) {
        lock.lock(); ready = value; lock.unlock()
        onSet?(value)
    }
}
