import Foundation

/// A few dedicated threads for CPU- and disk-bound work on uploads: inflating gzip bodies and
/// writing what they inflate to the spool file.
///
/// Hummingbird runs handlers on Swift's cooperative pool (one thread per core) and reads sockets
/// on NIO's event loops; a handler that inflates a 500 MiB body there holds one of those few
/// threads for seconds, and a handful of such uploads stall every other request (`/healthz`
/// took 8.6 s under 8 concurrent gzip uploads). Here the work waits in a FIFO queue instead,
/// in slices (`ManifestReceiver` inflates a bounded amount per job), so concurrent uploads
/// take turns and the rest of the API never waits on them. Separate from `BlockingPool`, so
/// inflation never delays a database call either.
final class SpoolThreads: @unchecked Sendable {
    /// The process's threads, started on the first gzip upload.
    static let shared = SpoolThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount / 2))

    private let condition = NSCondition()
    private var queue: [() -> Void] = []

    init(count: Int) {
        for i in 0..<max(1, count) {
            let thread = Thread { [self] in self.loop() }
            thread.name = "registrar-spool-\(i)"
            thread.start()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let work = queue.removeFirst()
            condition.unlock()
            work()
        }
    }

    /// Runs `body` on one of the threads and resumes the caller with its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            queue.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }
}
