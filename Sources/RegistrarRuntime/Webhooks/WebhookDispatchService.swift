import Foundation
import Logging
import ServiceLifecycle

/// The coordinator's webhook dispatcher as a service: every `interval` seconds, one
/// `WebhookDispatcher.dispatchOnce` on connections of its own (made again after a fault), on a
/// thread of its own like every blocking loop.
public struct WebhookDispatchService: Service {
    let interval: Double
    let logger: Logger
    let connect: @Sendable () throws -> (dispatcher: WebhookDispatcher, close: () -> Void)

    public init(interval: Double = 1, logger: Logger, connect: @escaping @Sendable () throws -> (dispatcher: WebhookDispatcher, close: () -> Void)) {
        self.interval = max(0.05, interval)
        self.logger = logger
        self.connect = connect
    }

    public func run() async throws {
        let (interval, logger, connect) = (self.interval, self.logger, self.connect)
        try await BlockingLoopService(name: "webhook-dispatch") { flag in
            var backoff = Backoff()
            while !flag.isStopped {
                let session: (dispatcher: WebhookDispatcher, close: () -> Void)
                do { session = try connect() } catch {
                    logger.warning("webhook dispatcher cannot connect yet; retrying", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                    continue
                }
                backoff.reset()
                do {
                    while !flag.isStopped {
                        let claimed = try session.dispatcher.dispatchOnce()
                        if claimed > 0 { logger.info("webhook events dispatched", metadata: ["events": "\(claimed)"]) }
                        var waited = 0.0
                        while waited < interval && !flag.isStopped {
                            let step = min(0.1, interval - waited)
                            Thread.sleep(forTimeInterval: step)
                            waited += step
                        }
                    }
                } catch {
                    logger.error("webhook dispatcher fault; reconnecting", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                }
                session.close()
            }
        }.run()
    }
}
