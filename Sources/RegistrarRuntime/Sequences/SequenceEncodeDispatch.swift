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

/// The dispatcher as a coordinator service: a pass every `interval` seconds (`PeriodicPassService`).
public enum SequenceEncodeDispatchService {
    public static func make(interval: Double = 1, logger: Logger,
                            connect: @escaping @Sendable () throws -> (dispatcher: SequenceEncodeDispatcher, close: () -> Void)) -> PeriodicPassService {
        PeriodicPassService(name: "sequence-encode-dispatch", what: "sequence encode dispatcher", interval: interval, logger: logger) {
            let (dispatcher, close) = try connect()
            return ({ let n = try dispatcher.dispatchOnce(); return n > 0 ? ["\(n) jobs"] : [] }, close)
        }
    }
}
