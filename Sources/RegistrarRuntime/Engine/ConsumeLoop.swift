import Foundation
import Logging

/// One connected session of a consuming role: the queue it reads, what it does with each
/// delivery, and how to let go of its connections.
public struct ConsumerSession {
    public var queue: WorkQueue
    /// Handles one delivery, acking or giving it back itself. Throws for infrastructure faults.
    public var handle: (WorkDelivery) throws -> Void
    public var close: () -> Void

    public init(queue: WorkQueue, handle: @escaping (WorkDelivery) throws -> Void, close: @escaping () -> Void) {
        self.queue = queue
        self.handle = handle
        self.close = close
    }
}

/// The consume loop of coordinators and workers: (re)connect with backoff, take one delivery at
/// a time, hand it to the session, and on an infrastructure fault drop every connection
/// (unacked messages return to the queue) and start again. Returns once `flag` is set, after
/// the delivery in hand.
public func consumeLoop(_ flag: StopFlag, logger: Logger, readiness: ReadinessFlag? = nil, connect: () throws -> ConsumerSession) {
    var backoff = Backoff()
    while !flag.isStopped {
        let session: ConsumerSession
        do {
            session = try connect()
            backoff.reset()
            readiness?.set(true)
            logger.info("connected; consuming")
        } catch {
            logger.warning("cannot connect yet; retrying", metadata: ["error": "\(error)"])
            backoff.sleep(unless: flag)
            continue
        }
        do {
            while !flag.isStopped {
                guard let delivery = try session.queue.nextDelivery(timeoutSeconds: 1) else { continue }
                try session.handle(delivery)
            }
        } catch {
            readiness?.set(false)
            logger.error("infrastructure fault; reconnecting", metadata: ["error": "\(error)"])
            backoff.sleep(unless: flag)
        }
        session.close()
    }
    logger.info("stopped")
}
