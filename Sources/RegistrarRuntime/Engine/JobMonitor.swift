import RegistrarCore

/// Reads a job's state for operators: live counters from the tracker while it runs, exact
/// counters from the store once it has finished — and a rebuild of the tracker from the store
/// whenever the tracker has lost the job (Redis flushed or restarted).
public struct JobMonitor {
    let store: JobStore
    let progress: ProgressTracker

    public init(jobs: JobStore, progress: ProgressTracker) {
        self.store = jobs
        self.progress = progress
    }

    /// The job's state; nil for an unknown job. `rebuilt` tells whether the tracker was rebuilt.
    public func state(jobID: String) throws -> (state: JobState, rebuilt: Bool)? {
        guard let job = try store.job(jobID) else { return nil }
        var rebuilt = false
        let counts: UnitCounts
        if job.status != .pending {
            counts = try store.jobCounts(jobID: jobID).counts
        } else if let live = try? progress.counts(jobID: jobID) {
            counts = live.counts
        } else {
            do {
                counts = try ProgressRebuilder(jobs: store, progress: progress).rebuild(jobID: jobID) ?? UnitCounts()
                rebuilt = true
            } catch {
                // Tracker down: the store's numbers are exact anyway.
                counts = try store.jobCounts(jobID: jobID).counts
            }
        }
        return (JobState(job, counts: counts), rebuilt)
    }
}
