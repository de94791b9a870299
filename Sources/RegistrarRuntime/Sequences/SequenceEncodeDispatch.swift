import Foundation
import Logging
import ServiceLifecycle

/// Starts `sequence-encode` jobs: once per finished registration job that registered image
/// sequences and did not ask for virtual ones. Exactly once, whatever crashes: the store
/// decides in one transaction (a row per registration job, primary key on it), and an encode
/// job whose id was not yet marked published is published again on the next pass (a job id
/// published twice is harmless: the coordinator resumes from the ledger).
public final class SequenceEncodeDispatcher {
    let store: SequenceStore
    let publish: (String) throws -> Void

    public init(store: SequenceStore, publish: @escaping (String) throws -> Void) {
        self.store = store
        self.publish = publish
    }

    /// One pass; returns the encode jobs published.
    @discardableResult
    public func dispatchOnce() throws -> Int {
        let jobs = try store.dispatchSequenceEncodes(limit: 100)
        for job in jobs {
            try publish(job)
            try store.markSequenceEncodePublished(encodeJobID: job)
        }
        return jobs.count
    }
}

/// The dispatcher as a coordinator service: a pass every `interval` seconds on connections of
/// its own (made again after a fault), on a thread of its own.
public struct SequenceEncodeDispatchService: Service {
    let interval: Double
    let logger: Logger
    let connect: @Sendable () throws -> (dispatcher: SequenceEncodeDispatcher, close: () -> Void)

    public init(interval: Double = 1, logger: Logger, connect: @escaping @Sendable () throws -> (dispatcher: SequenceEncodeDispatcher, close: () -> Void)) {
        self.interval = max(0.05, interval)
        self.logger = logger
        self.connect = connect
    }

    public func run() async throws {
        let (interval, logger, connect) = (self.interval, self.logger, self.connect)
        try await BlockingLoopService(name: "sequence-encode-dispatch") { flag in
            var backoff = Backoff()
            while !flag.isStopped {
                let session: (dispatcher: SequenceEncodeDispatcher, close: () -> Void)
                do { session = try connect() } catch {
                    logger.warning("sequence encode dispatcher cannot connect yet; retrying", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                    continue
                }
                backoff.reset()
                do {
                    while !flag.isStopped {
                        let started = try session.dispatcher.dispatchOnce()
                        if started > 0 { logger.info("sequence encode jobs published", metadata: ["jobs": "\(started)"]) }
                        var waited = 0.0
                        while waited < interval && !flag.isStopped {
                            let step = min(0.1, interval - waited)
                            Thread.sleep(forTimeInterval: step)
                            waited += step
                        }
                    }
                } catch {
                    logger.error("sequence encode dispatcher fault; reconnecting", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                }
                session.close()
            }
        }.run()
    }
}
