/// Rebuilds a job's live progress (the tracker) from the store, exactly, even while workers
/// keep committing chunks of the job.
///
/// Two passes: (1) replace the tracker's numbers with the store's (which resets the tracker's
/// set of counted chunks), then (2) read the store again and add every finished chunk the
/// tracker does not have yet. A chunk committed between the first read and the replacement may
/// have been counted by its worker and then wiped by (1); pass 2 reads after (1), so it sees
/// that chunk and adds it back. A chunk committed after pass 2's read is counted by its own
/// worker, whose update necessarily lands after (1). The tracker counts each chunk once, so
/// overlapping updates never double count.
public struct ProgressRebuilder {
    let store: JobStore
    let progress: ProgressTracker

    public init(jobs: JobStore, progress: ProgressTracker) {
        self.store = jobs
        self.progress = progress
    }

    /// Rebuilds one job; returns the store's counts after pass 2, or nil for an unknown job.
    @discardableResult
    public func rebuild(jobID: String) throws -> UnitCounts? {
        guard let job = try store.job(jobID) else { return nil }
        let first = try store.chunkCounts(jobID: jobID)
        let sum = first.values.reduce(UnitCounts(), +)
        try progress.rebuild(jobID: jobID, counts: sum, total: job.totalUnits, doneChunks: first.keys.sorted())
        let second = try store.chunkCounts(jobID: jobID)
        let late = second.filter { first[$0.key] == nil }
        if !late.isEmpty { try progress.recordChunks(jobID: jobID, chunks: late) }
        return second.values.reduce(UnitCounts(), +)
    }
}
