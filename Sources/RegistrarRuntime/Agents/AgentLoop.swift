import Foundation
import RegistrarCore

/// The settings of one `registrar agent run`.
public struct AgentOptions: Sendable {
    /// The Agent stage: its uuid or title.
    public var stage: String
    /// Tasks whose command runs at the same time.
    public var concurrency = 4
    /// Further attempts after a nonzero exit or an answer that names no pathway.
    public var retries = 3
    /// `PATHWAY_ACTION`s per request (the API takes at most 500).
    public var batch = 500
    /// Keep polling for new tasks instead of exiting once a pass over the stage finds none.
    public var follow = false
    /// Seconds between polls with `follow` when the stage has nothing new.
    public var pollInterval = 2.0
    /// Stop after deciding this many tasks (nil: no limit).
    public var maxTasks: Int?
    public init(stage: String) { self.stage = stage }
}

/// The counts an agent run reports (its progress line and its end).
public struct AgentTally: Sendable, Equatable {
    /// Tasks moved along a pathway.
    public var done = 0
    /// Tasks someone else took first (409 answers): neither done nor failed.
    public var skipped = 0
    /// Tasks the command left where they are (it printed nothing).
    public var left = 0
    /// Tasks given up on after the retries, or whose action was refused.
    public var failed = 0
    /// Why each failed task failed (task uuid → reason), for the end of the run.
    public var failures: [String: String] = [:]
    public init() {}
    public var seen: Int { done + skipped + left + failed }
}

/// The agent loop of docs/agents.md over the `AgentTaskAPI` port: page through the tasks
/// waiting at an Agent stage, hand each task's JSON (`{task, dataUnit, labelRow, dataLink}`) to
/// the command, and move the task along the pathway it prints, in batches. A task is offered
/// at most once per run: one the command leaves, fails on, or loses to someone else stays
/// where it is, so a run without `follow` ends once a pass finds nothing new.
public final class AgentLoop: @unchecked Sendable {
    let api: any AgentTaskAPI
    let executor: any AgentExecutor
    let options: AgentOptions
    let progress: @Sendable (AgentTally, Double) -> Void
    let shouldStop: @Sendable () -> Bool
    let lock = NSLock()
    var tally = AgentTally()
    /// Tasks already decided in this run (moved ones may still show on a page read meanwhile).
    var offered: Set<String> = []

    /// `progress` gets the counts and the rate (tasks per second) after each page; `shouldStop`
    /// ends a `follow` run between polls.
    public init(api: any AgentTaskAPI, executor: any AgentExecutor, options: AgentOptions,
                progress: @escaping @Sendable (AgentTally, Double) -> Void = { _, _ in },
                shouldStop: @escaping @Sendable () -> Bool = { false }) {
        self.api = api; self.executor = executor; self.options = options; self.progress = progress; self.shouldStop = shouldStop
    }

    /// What the command decided for one task.
    enum Decision: Sendable {
        case move(AgentPathway)
        case leave
        case fail(String)
    }

    /// Runs until the stage has nothing new (or forever with `follow`, until `shouldStop`).
    public func run() throws -> AgentTally {
        let stage = try api.stage(options.stage)
        let started = Date()
        while true {
            let fresh = try pass(stage, started: started)
            if limitReached { break }
            if fresh == 0 {
                guard options.follow, !shouldStop() else { break }
                Thread.sleep(forTimeInterval: options.pollInterval)
            }
        }
        return lock.withLock { tally }
    }

    var limitReached: Bool { options.maxTasks.map { max in lock.withLock { tally.seen } >= max } ?? false }

    /// One walk over the stage's pages; returns how many tasks it decided.
    func pass(_ stage: AgentStage, started: Date) throws -> Int {
        var token: String?
        var decided = 0
        repeat {
            let page = try api.tasks(stage: stage.uuid, pageToken: token)
            var fresh = lock.withLock { page.tasks.filter { !offered.contains(Self.uuid(of: $0)) } }
            if let max = options.maxTasks { fresh = Array(fresh.prefix(Swift.max(0, max - lock.withLock { tally.seen }))) }
            if !fresh.isEmpty {
                lock.withLock { fresh.forEach { offered.insert(Self.uuid(of: $0)) } }
                let decisions = decide(fresh, stage: stage)
                try apply(decisions, stage: stage)
                decided += fresh.count
                let elapsed = max(Date().timeIntervalSince(started), 0.001)
                let now = lock.withLock { tally }
                progress(now, Double(now.seen) / elapsed)
            }
            token = page.nextPageToken
        } while token != nil && !limitReached
        return decided
    }

    static func uuid(of task: JSONValue) -> String { task["uuid"]?.stringValue?.lowercased() ?? "" }

    /// The shared state of one `decide`: the next task to take and the decisions so far.
    final class Slots: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var decisions: [Decision?]
        init(_ n: Int) { decisions = Array(repeating: nil, count: n) }
    }

    /// Runs the command for every task, `concurrency` at a time (threads, since the commands
    /// block); decisions in task order.
    func decide(_ tasks: [JSONValue], stage: AgentStage) -> [(String, Decision)] {
        let slots = Slots(tasks.count)
        let group = DispatchGroup()
        for _ in 0..<min(max(options.concurrency, 1), tasks.count) {
            group.enter()
            let thread = Thread { [self] in
                while true {
                    let i: Int? = slots.lock.withLock {
                        defer { slots.next += 1 }
                        return slots.next < tasks.count ? slots.next : nil
                    }
                    guard let i else { break }
                    let d = decideOne(tasks[i], stage: stage)
                    slots.lock.withLock { slots.decisions[i] = d }
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return zip(tasks, slots.decisions).map { (Self.uuid(of: $0), $1!) }
    }

    /// The task's JSON as the command reads it: the task, its file record, its label row (in
    /// Encord's shape, with the `ETag` a command that writes labels sends back as `If-Match`)
    /// and `dataLink`, the file record's `url`, which the command can fetch.
    public static func input(task: JSONValue, dataUnit: JSONValue?, labelRow: (row: JSONValue, etag: String?)? = nil) -> JSONValue {
        let link: JSONValue = dataUnit?["url"]?.stringValue.map(JSONValue.string) ?? .null
        return .object([("task", task), ("dataUnit", dataUnit ?? .null), ("labelRow", labelRow?.row ?? .null),
                        ("labelRowETag", labelRow?.etag.map(JSONValue.string) ?? .null), ("dataLink", link)])
    }

    func decideOne(_ task: JSONValue, stage: AgentStage) -> Decision {
        let unit: JSONValue?
        let row: (row: JSONValue, etag: String?)?
        do {
            unit = try task["fileId"]?.stringValue.flatMap { try api.dataUnit(fileID: $0) }
            row = try task["dataHash"]?.stringValue.flatMap { try api.labelRow(dataHash: $0) }
        } catch {
            return .fail("reading its data unit: \(error)")
        }
        let input = Array((Self.input(task: task, dataUnit: unit, labelRow: row).compactText + "\n").utf8)
        var last = ""
        for _ in 0...max(options.retries, 0) {
            do {
                let out = try executor.run(input: input)
                guard out.exitStatus == 0 else { last = "the command exited with status \(out.exitStatus)"; continue }
                // The last non-empty line is the answer, so a command may print more before it.
                let answer = out.stdout.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                    .last { !$0.isEmpty } ?? ""
                if answer.isEmpty { return .leave }
                guard let pathway = stage.pathway(for: answer) else {
                    last = "the command printed \(answer.prefix(80).debugDescription), not a pathway of \(stage.title) ("
                        + stage.pathways.map(\.name).joined(separator: ", ") + ")"
                    continue
                }
                return .move(pathway)
            } catch {
                last = "running the command: \(error)"
            }
        }
        return .fail("\(last) (\(max(options.retries, 0) + 1) attempts)")
    }

    /// Posts the moves in batches and counts every task once.
    func apply(_ decisions: [(String, Decision)], stage: AgentStage) throws {
        var moves: [(taskUUID: String, pathwayUUID: String)] = []
        lock.withLock {
            for (task, d) in decisions {
                switch d {
                case .move(let p): moves.append((task, p.uuid))
                case .leave: tally.left += 1
                case .fail(let why): tally.failed += 1; tally.failures[task] = why
                }
            }
        }
        let size = min(max(options.batch, 1), 500)
        for start in stride(from: 0, to: moves.count, by: size) {
            let batch = Array(moves[start..<min(start + size, moves.count)])
            let answers = try api.pathwayActions(stage: stage.uuid, batch)
            lock.withLock {
                for m in batch {
                    switch answers[m.taskUUID] {
                    case .moved?: tally.done += 1
                    case .lostRace?: tally.skipped += 1
                    case .refused(let code, let message)?: tally.failed += 1; tally.failures[m.taskUUID] = "\(code): \(message)"
                    case nil: tally.failed += 1; tally.failures[m.taskUUID] = "the API gave no answer for the task"
                    }
                }
            }
        }
    }
}
