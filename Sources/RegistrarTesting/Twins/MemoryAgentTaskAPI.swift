import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `AgentTaskAPI`: one Agent stage holding tasks, pages of `pageSize`
/// oldest first, and `PATHWAY_ACTION`s that move tasks off the stage. `takenByOthers` tasks
/// answer `assigned_to_other` (another agent got there first), as the API's 409 does.
public final class MemoryAgentTaskAPI: AgentTaskAPI, @unchecked Sendable {
    let lock = NSLock()
    public let stage: AgentStage
    let pageSize: Int
    /// Tasks waiting at the stage, oldest first.
    var waiting: [JSONValue]
    var units: [String: JSONValue]
    public var takenByOthers: Set<String> = []
    /// Every accepted move: task uuid → pathway uuid (a second move of one task is a bug).
    public private(set) var moved: [String: String] = [:]
    public private(set) var actionRequests: [Int] = []

    public init(stage: AgentStage, tasks: [JSONValue], units: [String: JSONValue], pageSize: Int = 1000) {
        self.stage = stage; self.waiting = tasks; self.units = units; self.pageSize = pageSize
    }

    /// Tasks added later (a dataset grows while a `follow` agent runs).
    public func add(_ tasks: [JSONValue]) { lock.withLock { waiting += tasks } }

    public var remaining: [String] { lock.withLock { waiting.compactMap { $0["uuid"]?.stringValue } } }

    public func stage(_ reference: String) throws -> AgentStage {
        guard reference.lowercased() == stage.uuid || reference == stage.title else {
            throw MemoryAgentError("stage: no Agent stage \(reference); its Agent stage is \(stage.title) (\(stage.uuid))")
        }
        return stage
    }

    public func tasks(stage uuid: String, pageToken: String?) throws -> AgentTaskPage {
        lock.withLock {
            // The token is the last uuid given: keyset paging, so moves do not shift pages.
            var rest = waiting[...]
            if let pageToken, let i = waiting.firstIndex(where: { $0["uuid"]?.stringValue == pageToken }) { rest = waiting[(i + 1)...] }
            else if pageToken != nil { rest = [] }
            let page = Array(rest.prefix(pageSize))
            let more = rest.count > pageSize
            return AgentTaskPage(tasks: page, nextPageToken: more ? page.last?["uuid"]?.stringValue : nil)
        }
    }

    public func dataUnit(fileID hash: String) throws -> JSONValue? { lock.withLock { units[hash] } }

    /// Label rows by data hash (tests set them; none: no row, as for a unit that is gone).
    public var labelRows: [String: JSONValue] = [:]
    public func labelRow(dataHash: String) throws -> (row: JSONValue, etag: String?)? {
        lock.withLock { labelRows[dataHash].map { ($0, "\"1\"") } }
    }

    public func pathwayActions(stage uuid: String, _ moves: [(taskUUID: String, pathwayUUID: String)]) throws -> [String: AgentActionAnswer] {
        lock.withLock {
            actionRequests.append(moves.count)
            var out: [String: AgentActionAnswer] = [:]
            for m in moves {
                if takenByOthers.contains(m.taskUUID) { out[m.taskUUID] = .lostRace(code: "assigned_to_other"); continue }
                guard stage.pathways.contains(where: { $0.uuid == m.pathwayUUID }) else {
                    out[m.taskUUID] = .refused(code: "unknown_pathway", message: "no pathway \(m.pathwayUUID)"); continue
                }
                guard let i = waiting.firstIndex(where: { $0["uuid"]?.stringValue == m.taskUUID }) else {
                    out[m.taskUUID] = .lostRace(code: "moved"); continue
                }
                waiting.remove(at: i)
                moved[m.taskUUID] = m.pathwayUUID
                out[m.taskUUID] = .moved
            }
            return out
        }
    }
}

/// An error of the twin, with words.
public struct MemoryAgentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An `AgentExecutor` that calls a closure with the parsed task JSON.
public struct ClosureAgentExecutor: AgentExecutor {
    let body: @Sendable (JSONValue) throws -> AgentExecution
    public init(_ body: @escaping @Sendable (JSONValue) throws -> AgentExecution) { self.body = body }
    public func run(input: [UInt8]) throws -> AgentExecution {
        guard let value = JSONValue.parse(input) else { throw MemoryAgentError("the input is not JSON") }
        return try body(value)
    }
}
