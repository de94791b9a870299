import Foundation
import Logging
import ServiceLifecycle

/// One pass of interval syncs: claims due bindings one at a time (the store claims with the
/// database, so several coordinators never start the same sync, and a binding with a running
/// sync is never due) and publishes each new job.
public final class FolderSyncScheduler {
    let claim: () throws -> String?
    let publish: (String) throws -> Void

    public init(claim: @escaping () throws -> String?, publish: @escaping (String) throws -> Void) {
        self.claim = claim
        self.publish = publish
    }

    /// Starts every due sync; returns the jobs started. A job whose publish failed is still
    /// stored (PENDING, `received`): the error propagates and the caller reconnects; the job is
    /// re-queued by `registrar jobs`/operators like any job stored but not queued.
    public func runOnce(max: Int = 100) throws -> [String] {
        var started: [String] = []
        while started.count < max, let id = try claim() {
            try publish(id)
            started.append(id)
        }
        return started
    }
}

/// The coordinator's interval-sync loop as a service, on a thread of its own like every
/// blocking loop, with connections of its own made again after a fault.
public struct FolderSyncScheduleService: Service {
    let interval: Double
    let logger: Logger
    let connect: @Sendable () throws -> (scheduler: FolderSyncScheduler, close: () -> Void)

    public init(interval: Double = 10, logger: Logger, connect: @escaping @Sendable () throws -> (scheduler: FolderSyncScheduler, close: () -> Void)) {
        self.interval = max(0.05, interval)
        self.logger = logger
        self.connect = connect
    }

    public func run() async throws {
        let (interval, logger, connect) = (self.interval, self.logger, self.connect)
        try await BlockingLoopService(name: "folder-sync-schedule") { flag in
            var backoff = Backoff()
            while !flag.isStopped {
                let session: (scheduler: FolderSyncScheduler, close: () -> Void)
                do { session = try connect() } catch {
                    logger.warning("sync scheduler cannot connect yet; retrying", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                    continue
                }
                backoff.reset()
                do {
                    while !flag.isStopped {
                        let started = try session.scheduler.runOnce()
                        if !started.isEmpty { logger.info("interval syncs started", metadata: ["jobs": "\(started.joined(separator: ","))"]) }
                        var waited = 0.0
                        while waited < interval && !flag.isStopped {
                            let step = min(0.1, interval - waited)
                            Thread.sleep(forTimeInterval: step)
                            waited += step
                        }
                    }
                } catch {
                    logger.error("sync scheduler fault; reconnecting", metadata: ["error": "\(error)"])
                    backoff.sleep(unless: flag)
                }
                session.close()
            }
        }.run()
    }
}
