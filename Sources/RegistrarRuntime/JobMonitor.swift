import RegistrarCore

/// Reads a job's state for operators: live counters from the tracker while it runs, exact
/// counters from the store once it has finished — and a rebuild of the tracker from the store
/// whenever the tracker has lost the job (Redis flushed or restarted).
public struct JobMonitor {
    let store: RegistrationStore
    let progress: ProgressTracker

    public init(store: RegistrationStore, progress: ProgressTracker) {
        self.store = store
        self.progress = progress
    }

    /// The job's state; nil for an unknown job. `rebuilt` tells whether the tracker was rebuilt.
    public func state(jobID: String) throws -> (state: JobState, rebuilt: Bool)? {
        guard let job = try store.loadJob(jobID) else { return nil }
        var rebuilt = false
        let counts: UnitCounts
        if job.status != .pending {
            counts = try store.jobCounts(jobID: jobID).counts
        } else if let live = try? progress.counts(jobID: jobID) {
            counts = live.counts
        } else {
            do {
                counts = try ProgressRebuilder(store: store, progress: progress).rebuild(jobID: jobID) ?? UnitCounts()
                rebuilt = true
            } catch {
                // Tracker down: the store's numbers are exact anyway.
                counts = try store.jobCounts(jobID: jobID).counts
            }
        }
        let state = JobState(id: job.id, status: job.status, phase: job.phase, total: job.totalUnits, counts: counts,
                             startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error)
        return (state, rebuilt)
    }
}
