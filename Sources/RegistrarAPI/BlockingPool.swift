import Foundation
import Logging
import RegistrarRuntime

/// A few dedicated threads that run blocking C-client calls for async code.
///
/// libpq, hiredis and rabbitmq-c block; running them on NIO's event loops or Swift's cooperative
/// pool would stall every other request. Each pool thread owns its own `APIBackends` (made by
/// the factory the executable or a test passes in), so no handle is ever shared; callers
/// `await run { backends in … }` and are resumed with the result.
public final class BlockingPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(any APIBackends) -> Void] = []
    private var stopped = false
    private let logger: Logger

    public init(size: Int, backends: @escaping @Sendable () -> any APIBackends, logger: Logger) {
        self.logger = logger
        for i in 0..<max(1, size) {
            let thread = Thread { [self] in self.loop(backends()) }
            thread.name = "registrar-blocking-\(i)"
            thread.start()
        }
    }

    private func loop(_ backends: any APIBackends) {
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
    public func run<T: Sendable>(_ body: @escaping @Sendable (any APIBackends) throws -> T) async throws -> T {
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
