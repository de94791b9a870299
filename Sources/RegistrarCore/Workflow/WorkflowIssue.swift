/// One reason a workflow graph (or an edit of one) is refused: where (the JSON path, and the
/// node's uuid and title when the problem belongs to a node), which rule, and why in words.
public struct WorkflowIssue: Sendable, Equatable, CustomStringConvertible {
    /// `graphNodes[3].pathways[1].percentage`, or `graphNodes` for whole-graph rules.
    public var path: String
    public var nodeUUID: String?
    public var nodeTitle: String?
    /// A stable name for the rule (`WorkflowRule`), for scripts.
    public var rule: WorkflowRule
    public var message: String

    public init(path: String, node: WorkflowNode? = nil, rule: WorkflowRule, _ message: String) {
        self.path = path
        self.nodeUUID = node?.uuid
        self.nodeTitle = node?.title
        self.rule = rule
        self.message = message
    }

    public var description: String {
        var where_ = path
        if let nodeUUID { where_ += " (node \(nodeUUID)\(nodeTitle.map { " \"\($0)\"" } ?? ""))" }
        return "\(where_): \(message) [\(rule.rawValue)]"
    }

    /// `{path, nodeUuid, nodeTitle, rule, message}` for API answers.
    public var json: JSONValue {
        .object([("path", .string(path)), ("nodeUuid", nodeUUID.map(JSONValue.string) ?? .null),
                 ("nodeTitle", nodeTitle.map(JSONValue.string) ?? .null), ("rule", .string(rule.rawValue)), ("message", .string(message))])
    }
}

/// The rules a workflow must keep (docs/workflows.md lists each with an example).
public enum WorkflowRule: String, Sendable, CaseIterable {
    /// The JSON is not shaped like the graph form (a field of the wrong type, unknown, missing).
    case shape
    /// Consensus stages are refused: not supported.
    case unsupportedStage = "unsupported_stage"
    /// Exactly one START, and it links onward (rule 1).
    case oneStart = "one_start"
    /// Only ANNOTATION and AGENT nodes may follow START (rule 2; CONSENSUS is not supported).
    case startTarget = "start_target"
    /// At least one ANNOTATION and one DONE stage (rule 3).
    case needsAnnotateAndComplete = "needs_annotate_and_complete"
    /// Every node is reachable from START (rule 4: all components linked).
    case unreachable
    /// From every node some DONE stage can be reached (rule 3: the workflow ends at Complete).
    case noWayToComplete = "no_way_to_complete"
    /// A Review's rejected exit may not lead to another Review (rule 5).
    case rejectedToReview = "rejected_to_review"
    /// A node has exactly the exits its type has (START/ANNOTATION one, REVIEW two, AGENT and
    /// routers pathways, DONE none).
    case exits
    /// An exit points at a node that does not exist, or at START.
    case badTarget = "bad_target"
    /// Uuids (of nodes and pathways) are unique; stage titles are unique.
    case duplicate
    /// A percentage router's shares are each in (0, 100] and sum to 100.
    case percentages
    /// A collaborator router's pathways list collaborators (emails), each in one pathway, and
    /// exactly one pathway without any is the default (rule 6).
    case collaborators
    /// Routers linked in a cycle with no stage between them would pass a task round forever.
    case routerCycle = "router_cycle"
    /// A live edit may not delete a stage that holds tasks, or a Complete stage.
    case stageInUse = "stage_in_use"
    /// A live edit may not change a stage's type.
    case typeChanged = "type_changed"
    /// The graph is too big (nodes, pathways).
    case limit
    /// A user assignment restriction (`restrictions.excludeUsersFromStages`) sits on an
    /// ANNOTATION or REVIEW node and lists ANNOTATION or REVIEW stages of the graph, each once.
    case restrictions
}
