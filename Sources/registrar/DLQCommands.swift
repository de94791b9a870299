import ArgumentParser
import RegistrarCore
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime

/// `registrar dlq list|replay|discard`: what the broker dead-lettered, and what to do with it.
///
/// Workers consume `registrar.chunks.dead` themselves: a dead chunk's units are recorded failed
/// (`internal_error`) so its job still finishes with exact counts, and the chunk is kept in
/// PostgreSQL (`dead_chunks`) until an operator replays it (its units are verified again and
/// the job's counts corrected) or discards it (its units stay failed).
struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "List, replay or discard dead-lettered chunks.",
        subcommands: [DLQList.self, DLQReplay.self, DLQDiscard.self])
}

/// Which dead chunks a `replay` or `discard` acts on.
struct DeadChunkSelection: ParsableArguments {
    @Option(help: "Only this job's dead chunks.") var job: String?
    @Option(help: "Only this chunk (its sequence number; needs --job).") var chunk: Int?
    @Flag(help: "Every open dead chunk of every job.") var all = false

    func validate() throws {
        if all == (job != nil) { throw ValidationError("give either --job JOB or --all") }
        if chunk != nil && job == nil { throw ValidationError("--chunk needs --job") }
    }

    func select(_ registry: PostgresRegistry) throws -> [DeadChunk] {
        try registry.jobs.deadChunks(jobID: job).filter { chunk == nil || $0.seq == chunk }
    }
}

extension DeadChunk {
    var jsonLine: String {
        JSONValue.object([("job", .string(jobID)), ("seq", .number(String(seq))), ("firstUnit", .number(String(firstUnit))),
                          ("units", .number(String(unitCount))), ("deaths", .number(String(deaths))),
                          ("deliveries", .number(String(deliveries))), ("reason", .string(reason)), ("state", .string(state)),
                          ("replays", .number(String(replays))), ("lastDeadAt", .string(lastDeadAt))]).compactText
    }
}

/// `registrar dlq list [--job J] [--include-resolved] [--json]`.
struct DLQList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List dead-lettered chunks awaiting replay or discard.",
        discussion: "Exit status 0 whether or not there are any; --json prints one object per line.")
    @Option(help: "Only this job's dead chunks.") var job: String?
    @Flag(help: "Also list chunks already replayed or discarded.") var includeResolved = false
    @Flag(help: "One JSON object per line: job, seq, firstUnit, units, deaths, deliveries, reason, state, replays, lastDeadAt.")
    var json = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let registry = try connectStore(servers)
        let dead = try registry.jobs.deadChunks(jobID: job, includeResolved: includeResolved)
        if json {
            for d in dead { print(d.jsonLine) }
            return
        }
        // Messages dead-lettered but not yet recorded (no worker running): informational.
        let waiting = (try? AMQPConnection(url: servers.amqpURL)).flatMap { c -> Int? in
            defer { c.close() }
            return try? c.queueDepth(AMQPWorkQueue.deadQueue)
        }
        if dead.isEmpty {
            print("no dead-lettered chunks\(includeResolved ? "" : " awaiting a decision")")
        } else {
            print("JOB                                   SEQ  UNITS      DEATHS  DELIVERIES  REASON          STATE      LAST DEAD")
            for d in dead {
                let units = "\(d.firstUnit)-\(d.firstUnit + d.unitCount - 1)"
                print([d.jobID.padding(36), String(d.seq).padding(4), units.padding(10), String(d.deaths).padding(6),
                       String(d.deliveries).padding(10), d.reason.padding(14), d.state.padding(9), d.lastDeadAt].joined(separator: "  "))
            }
            print("\(dead.count) chunk(s), \(dead.reduce(0) { $0 + $1.unitCount }) unit(s)")
        }
        if let waiting, waiting > 0 {
            print("\(waiting) message(s) waiting in \(AMQPWorkQueue.deadQueue): running workers record them")
        }
    }
}

/// `registrar dlq replay (--job J [--chunk SEQ] | --all)`.
struct DLQReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Put dead chunks back to work: their units are verified again.",
        discussion: """
        Each chunk is re-opened in PostgreSQL first (its internal_error units removed, its ledger row pending, \
        its job PENDING again if it had ended), progress is rebuilt, then the chunk is republished with \
        publisher confirms. Running it again after an interruption finishes the job. Exit status 1 if any \
        chunk could not be replayed (e.g. its job was cancelled).
        """)
    @OptionGroup var selection: DeadChunkSelection
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let registry = try connectStore(servers)
        let chosen = try selection.select(registry)
        if chosen.isEmpty { print("nothing to replay"); return }
        var bodies: [(DeadChunk, [UInt8])] = []
        var refused = 0
        for d in chosen {
            do { bodies.append((d, try registry.jobs.beginReplay(jobID: d.jobID, seq: d.seq))) } catch let e as DeadChunkRefusal {
                printError("not replayed: \(e)")
                refused += 1
            }
        }
        // The re-opened chunks are not published yet, so no worker can commit them meanwhile:
        // the rebuilt progress drops exactly their old counts.
        if let tracker = try? RedisProgressTracker(url: servers.redisURL) {
            for job in Set(bodies.map(\.0.jobID)) {
                do { try ProgressRebuilder(jobs: registry.jobs, progress: tracker).rebuild(jobID: job) } catch {
                    printError("warning: progress of \(job) not rebuilt (\(error)); `registrar progress rebuild \(job)` later")
                }
            }
        } else {
            printError("warning: Redis unreachable; run `registrar progress rebuild --all` once it is back")
        }
        if !bodies.isEmpty {
            let queue: AMQPWorkQueue
            do { queue = try AMQPWorkQueue(url: servers.amqpURL, role: .publisher) } catch {
                throw CommandFailure("cannot reach RabbitMQ at \(redacted(servers.amqpURL)): \(error); the chunks stay 'replaying': run the same command again")
            }
            defer { queue.close() }
            for (d, body) in bodies { try queue.publishChunk(body, to: KindQueues.named(d.kind)) }
            try queue.waitForConfirms()
            for (d, _) in bodies { try registry.jobs.finishReplay(jobID: d.jobID, seq: d.seq) }
        }
        let units = bodies.reduce(0) { $0 + $1.0.unitCount }
        print("replayed \(bodies.count) chunk(s), \(units) unit(s), of \(Set(bodies.map(\.0.jobID)).count) job(s)")
        if refused > 0 { throw ExitCode(1) }
    }
}

/// `registrar dlq discard (--job J [--chunk SEQ] | --all)`.
struct DLQDiscard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard", abstract: "Accept dead chunks' units as failed (internal_error) and close them.")
    @OptionGroup var selection: DeadChunkSelection
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let registry = try connectStore(servers)
        var closed = 0, units = 0
        for d in try selection.select(registry) where try registry.jobs.discardDeadChunk(jobID: d.jobID, seq: d.seq) {
            closed += 1
            units += d.unitCount
        }
        print("discarded \(closed) chunk(s); their \(units) unit(s) stay failed with internal_error")
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
