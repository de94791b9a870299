import Foundation
import Logging
import ServiceLifecycle

/// A coordinator-side loop that runs one pass every `interval` seconds (the webhook dispatcher,
/// the sequence encode dispatcher, the interval-sync scheduler), on a thread of its own like
/// every blocking loop, with connections of its own made again after a fault (with backoff).
/// A pass returns what it started, for the log line; empty: nothing to say.
public struct PeriodicPassService: Service {
    /// One connected session: the pass to repeat and how to close its connections.
    public typealias Session = (pass: () throws -> [String], close: () -> Void)

    let name: String
    let what: String
    let interval: Double
    let logger: Logger
    let connect: @Sendable () throws -> Session

    /// `name` names the thread; `what` the loop in log lines ("webhook dispatcher").
    public init(name: String, what: String, interval: Double, logger: Logger, connect: @escaping @Sendable () throws -> Session) {
        self.name = name
        self.what = what
        self.interval = max(0.05, interval)
        self.logger = logger
        self.connect = connect
    }

    public func run() async throws {
        let (what, interval, logger, connect) = (self.what, self.interval, self.logger, self.connect)
        try await BlockingLoopService(name: name) { flag in
            var backoff = Backoff()
            while !flag.isStopped {
                let session: Session
                do { session = try connect() } catch {
                    logger.warning("\(what) cannot connect yet; retrying", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                    continue
                }
                backoff.reset()
                do {
                    while !flag.isStopped {
                        let started = try session.pass()
                        if !started.isEmpty { logger.info("\(what): pass done", metadata: ["started": "\(started.joined(separator: ","))"]) }
                        var waited = 0.0
                        while waited < interval && !flag.isStopped {
                            let step = min(0.1, interval - waited)
                            Thread.sleep(forTimeInterval: step)
                            waited += step
                        }
                    }
                } catch {
                    logger.error("\(what) fault; reconnecting", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                }
                session.close()
            }
        }.run()
    }
}
