import ArgumentParser
import RegistrarPostgres
import RegistrarRedis
import RegistrarRuntime

/// `registrar progress rebuild (JOB | --all)`: replaces live progress in Redis with PostgreSQL's
/// exact numbers. Safe while workers run (see `ProgressRebuilder`).
struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress", abstract: "Manage live progress (Redis).", subcommands: [ProgressRebuild.self])
}

struct ProgressRebuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Rebuild jobs' live progress in Redis from PostgreSQL.",
        discussion: "--all: every running job and every job finished in the last 7 days (the lifetime of progress keys).")
    @Argument(help: "The job id.") var job: String?
    @Flag(help: "Every job Redis may track.") var all = false
    @OptionGroup var servers: ServerOptions

    func validate() throws {
        if all == (job != nil) { throw ValidationError("give either a JOB or --all") }
    }

    func run() throws {
        let registry = try connectStore(servers)
        let tracker: RedisProgressTracker
        do { tracker = try RedisProgressTracker(url: servers.redisURL) } catch {
            throw CommandFailure("cannot connect to Redis at \(redacted(servers.redisURL)): \(error)")
        }
        let jobs = all ? try registry.trackedJobIDs() : [job!]
        let rebuilder = ProgressRebuilder(jobs: registry.jobs, progress: tracker)
        for id in jobs {
            guard let c = try rebuilder.rebuild(jobID: id) else { throw CommandFailure("no job \(id)") }
            print("\(id): done \(c.done), errors \(c.errors), skipped \(c.skipped), cancelled \(c.cancelled)")
        }
        print("rebuilt progress of \(jobs.count) job(s)")
    }
}
