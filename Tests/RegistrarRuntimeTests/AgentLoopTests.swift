import Foundation
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The agent loop (docs/agents.md) on the `AgentTaskAPI` twin: what reaches the command, how
/// its answers move tasks, bounded retries, 409s as skipped, batching, paging and `follow`.
@Suite struct AgentLoopTests {
    static let complete = AgentPathway(uuid: "11111111-1111-4111-8111-111111111111", name: "complete")
    static let annotate = AgentPathway(uuid: "22222222-2222-4222-8222-222222222222", name: "annotate")
    static let stage = AgentStage(uuid: "33333333-3333-4333-8333-333333333333", title: "Agent", pathways: [complete, annotate])

    static func task(_ i: Int) -> JSONValue {
        .object([("uuid", .string(String(format: "00000000-0000-4000-8000-%012d", i))), ("status", .string("NEW")),
                 ("dataHash", .string(String(i))), ("fileId", .string(String(i))), ("dataTitle", .string("f\(i)"))])
    }
    static func unit(_ i: Int) -> JSONValue {
        .object([("id", .string(String(i))), ("title", .string("f\(i)")), ("type", .string("image")), ("url", .string("https://example.com/\(i).jpg"))])
    }
    static func world(_ n: Int, pageSize: Int = 1000) -> MemoryAgentTaskAPI {
        MemoryAgentTaskAPI(stage: stage, tasks: (0..<n).map(task), units: Dictionary(uniqueKeysWithValues: (0..<n).map { (String($0), unit($0)) }),
                           pageSize: pageSize)
    }
    static func index(_ input: JSONValue) -> Int { Int(input["task"]?["dataHash"]?.stringValue ?? "") ?? -1 }

    @Test func theCommandGetsTheTaskItsUnitAndALinkAndItsAnswerPicksThePathway() throws {
        let api = Self.world(10)
        api.labelRows["1"] = .object([("label_status", .string("LABEL_IN_PROGRESS"))])
        final class Seen: @unchecked Sendable { let lock = NSLock(); var inputs: [JSONValue] = [] }
        let seen = Seen()
        let exec = ClosureAgentExecutor { input in
            seen.lock.withLock { seen.inputs.append(input) }
            let i = Self.index(input)
            // By name, by uuid (upper case), or nothing at all.
            let out = i % 3 == 0 ? "complete\n" : i % 3 == 1 ? "log line\n\(Self.annotate.uuid.uppercased())\n" : "\n"
            return AgentExecution(exitStatus: 0, stdout: out)
        }
        let tally = try AgentLoop(api: api, executor: exec, options: AgentOptions(stage: "Agent")).run()
        #expect(tally.done == 7 && tally.left == 3 && tally.failed == 0 && tally.skipped == 0)
        #expect(api.moved.count == 7)
        #expect(api.moved["00000000-0000-4000-8000-000000000003"] == Self.complete.uuid)
        #expect(api.moved["00000000-0000-4000-8000-000000000004"] == Self.annotate.uuid)
        #expect(api.remaining == ["00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000005", "00000000-0000-4000-8000-000000000008"])
        let first = try #require(seen.inputs.first { Self.index($0) == 0 })
        #expect(first["task"] == Self.task(0))
        #expect(first["dataUnit"] == Self.unit(0))
        #expect(first["labelRow"] == .null && first["labelRowETag"] == .null, "no row for this unit")
        let second = try #require(seen.inputs.first { Self.index($0) == 1 })
        #expect(second["labelRow"] == .object([("label_status", .string("LABEL_IN_PROGRESS"))]) && second["labelRowETag"] == .string("\"1\""))
        #expect(first["dataLink"] == .string("https://example.com/0.jpg"))
        #expect(seen.inputs.count == 10, "each task offered once, left ones included")
    }

    @Test func retriesAreBoundedAndAFailingTaskIsReportedAndLeft() throws {
        let api = Self.world(4)
        final class Attempts: @unchecked Sendable { let lock = NSLock(); var count: [Int: Int] = [:] }
        let attempts = Attempts()
        let exec = ClosureAgentExecutor { input in
            let i = Self.index(input)
            let n = attempts.lock.withLock { attempts.count[i, default: 0] += 1; return attempts.count[i]! }
            switch i {
            case 0: return AgentExecution(exitStatus: 2, stdout: "")                 // always fails
            case 1: return AgentExecution(exitStatus: 0, stdout: "no-such-pathway")  // always unknown
            case 2: return AgentExecution(exitStatus: n < 3 ? 1 : 0, stdout: "complete")   // third time lucky
            default: return AgentExecution(exitStatus: 0, stdout: "complete")
            }
        }
        var options = AgentOptions(stage: Self.stage.uuid)
        options.retries = 2
        let tally = try AgentLoop(api: api, executor: exec, options: options).run()
        #expect(tally.done == 2 && tally.failed == 2 && tally.left == 0)
        #expect(attempts.count == [0: 3, 1: 3, 2: 3, 3: 1])
        #expect(tally.failures["00000000-0000-4000-8000-000000000000"]?.contains("exited with status 2") == true)
        #expect(tally.failures["00000000-0000-4000-8000-000000000001"]?.contains("not a pathway of Agent (complete, annotate)") == true)
        #expect(api.remaining.count == 2)
    }

    @Test func tasksAnotherAgentTookCountAsSkippedNotFailed() throws {
        let api = Self.world(6)
        api.takenByOthers = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000004"]
        let tally = try AgentLoop(api: api, executor: ClosureAgentExecutor { _ in AgentExecution(exitStatus: 0, stdout: "complete") },
                                  options: AgentOptions(stage: "Agent")).run()
        #expect(tally.done == 4 && tally.skipped == 2 && tally.failed == 0)
    }

    @Test func actionsGoInBatchesOverEveryPageAndConcurrencyKeepsEachTaskOnce() throws {
        let api = Self.world(1_234, pageSize: 100)
        var options = AgentOptions(stage: "Agent")
        options.batch = 40
        options.concurrency = 8
        final class Progress: @unchecked Sendable { let lock = NSLock(); var lines: [AgentTally] = [] }
        let progress = Progress()
        let tally = try AgentLoop(api: api, executor: ClosureAgentExecutor { _ in AgentExecution(exitStatus: 0, stdout: "annotate") },
                                  options: options, progress: { t, _ in progress.lock.withLock { progress.lines.append(t) } }).run()
        #expect(tally.done == 1_234 && api.moved.count == 1_234 && api.remaining.isEmpty)
        #expect(api.actionRequests.allSatisfy { $0 <= 40 } && api.actionRequests.reduce(0, +) == 1_234)
        #expect(progress.lines.count == 13 && progress.lines.last?.done == 1_234)
    }

    @Test func maxTasksStopsEarlyAndAnUnknownStageIsRefused() throws {
        let api = Self.world(50, pageSize: 20)
        var options = AgentOptions(stage: "Agent")
        options.maxTasks = 25
        let tally = try AgentLoop(api: api, executor: ClosureAgentExecutor { _ in AgentExecution(exitStatus: 0, stdout: "complete") }, options: options).run()
        #expect(tally.done == 25 && api.remaining.count == 25)
        #expect(throws: MemoryAgentError.self) {
            try AgentLoop(api: api, executor: ClosureAgentExecutor { _ in AgentExecution(exitStatus: 0, stdout: "") }, options: AgentOptions(stage: "Nope")).run()
        }
    }

    @Test func followPicksUpTasksThatArriveLater() throws {
        let api = Self.world(5)
        var options = AgentOptions(stage: "Agent")
        options.follow = true
        options.pollInterval = 0.01
        final class Polls: @unchecked Sendable { let lock = NSLock(); var n = 0 }
        let polls = Polls()
        let tally = try AgentLoop(api: api, executor: ClosureAgentExecutor { _ in AgentExecution(exitStatus: 0, stdout: "complete") },
                                  options: options, shouldStop: {
            // The first idle poll adds five tasks; the second ends the run.
            let n = polls.lock.withLock { polls.n += 1; return polls.n }
            if n == 1 { api.add((5..<10).map(Self.task)) }
            return n >= 2
        }).run()
        #expect(tally.done == 10 && api.remaining.isEmpty)
    }
}
