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

/// The coordinator's interval-sync loop as a service (`PeriodicPassService`).
public enum FolderSyncScheduleService {
    public static func make(interval: Double = 10, logger: Logger,
                            connect: @escaping @Sendable () throws -> (scheduler: FolderSyncScheduler, close: () -> Void)) -> PeriodicPassService {
        PeriodicPassService(name: "folder-sync-schedule", what: "sync scheduler", interval: interval, logger: logger) {
            let (scheduler, close) = try connect()
            return ({ try scheduler.runOnce() }, close)
        }
    }
}
