/// A project's workflow: the stage graph every task travels from Start to Complete.
///
/// The wire form is the graph JSON of Encord's agent docs, extended with the exits a person
/// needs to draw the rest (docs/workflows.md): `{"graphNodes": [{uuid, nodeType, title?,
/// toNode?, rejectedToNode?, pathways?, nodeSubtype?}]}`. `toNode` is the single exit of START
/// and ANNOTATION and the approved exit of REVIEW; `rejectedToNode` the rejected exit of REVIEW;
/// `pathways` the named exits of AGENT and of the routers.
///
/// A `WorkflowGraph` is only ever made by `WorkflowGraph.parse` (which checks every rule of
/// `WorkflowRules`), so holding one means holding a valid workflow.
public struct WorkflowGraph: Sendable, Equatable {
    public private(set) var nodes: [WorkflowNode]

    init(nodes: [WorkflowNode]) { self.nodes = nodes }

    /// The one START node.
    public var start: WorkflowNode { nodes.first { $0.type == .start }! }

    /// A node by uuid (case-insensitive, as uuids are).
    public func node(uuid: String) -> WorkflowNode? {
        let key = uuid.lowercased()
        return nodes.first { $0.uuid.lowercased() == key }
    }

    /// A stage by uuid or by title (titles are unique in a valid graph); START is not a stage.
    public func stage(_ reference: String) -> WorkflowNode? {
        let found = node(uuid: reference) ?? nodes.first { $0.title == reference }
        return found?.type == .start ? nil : found
    }

    /// The stages tasks can wait at (every node but START and the routers, which tasks only
    /// pass through).
    public var holdingStages: [WorkflowNode] { nodes.filter(\.type.holdsTasks) }

    /// The graph as JSON, keys in contract order, absent optionals omitted.
    public var json: JSONValue { .object([("graphNodes", .array(nodes.map(\.json)))]) }
}

/// The kinds of node (Encord's `WorkflowStageType` plus the graph form's START and DONE).
public enum StageType: String, Sendable, CaseIterable {
    case start = "START"
    case annotation = "ANNOTATION"
    case review = "REVIEW"
    case percentageRouter = "PERCENTAGE_ROUTER"
    case userRouter = "USER_ROUTER"
    case agent = "AGENT"
    case done = "DONE"

    /// Whether tasks wait here (routers and START hand a task on at once).
    public var holdsTasks: Bool {
        switch self {
        case .start, .percentageRouter, .userRouter: false
        case .annotation, .review, .agent, .done: true
        }
    }

    public var isRouter: Bool { self == .percentageRouter || self == .userRouter }
}

/// One node of the graph.
public struct WorkflowNode: Sendable, Equatable {
    public var uuid: String
    public var type: StageType
    public var title: String?
    /// START, ANNOTATION: the exit; REVIEW: the approved exit.
    public var toNode: String?
    /// REVIEW: the rejected exit.
    public var rejectedToNode: String?
    /// AGENT and routers: the named exits.
    public var pathways: [WorkflowPathway]
    /// DONE: `COMPLETED` (the only subtype Encord's sources confirm).
    public var nodeSubtype: String?
    /// ANNOTATION, REVIEW: the user assignment restriction (`restrictions.excludeUsersFromStages`):
    /// a person who submitted, approved or rejected the task at one of these stages may not
    /// take or finish it here (e.g. nobody reviews a task they annotated). Empty: no restriction.
    public var excludeUsersFromStages: [String]

    public init(uuid: String, type: StageType, title: String? = nil, toNode: String? = nil, rejectedToNode: String? = nil,
                pathways: [WorkflowPathway] = [], nodeSubtype: String? = nil, excludeUsersFromStages: [String] = []) {
        self.uuid = uuid; self.type = type; self.title = title; self.toNode = toNode
        self.rejectedToNode = rejectedToNode; self.pathways = pathways; self.nodeSubtype = nodeSubtype
        self.excludeUsersFromStages = excludeUsersFromStages
    }

    /// Every exit's target, in order (toNode, rejectedToNode, pathways).
    public var targets: [String] {
        [toNode, rejectedToNode].compactMap { $0 } + pathways.map(\.targetNode)
    }

    /// A pathway of this node by uuid or by name.
    public func pathway(_ reference: String) -> WorkflowPathway? {
        pathways.first { $0.uuid.lowercased() == reference.lowercased() } ?? pathways.first { $0.name == reference }
    }

    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("uuid", .string(uuid)), ("nodeType", .string(type.rawValue))]
        if let title { members.append(("title", .string(title))) }
        if let toNode { members.append(("toNode", .string(toNode))) }
        if let rejectedToNode { members.append(("rejectedToNode", .string(rejectedToNode))) }
        if !pathways.isEmpty { members.append(("pathways", .array(pathways.map(\.json)))) }
        if let nodeSubtype { members.append(("nodeSubtype", .string(nodeSubtype))) }
        if !excludeUsersFromStages.isEmpty {
            members.append(("restrictions", .object([("excludeUsersFromStages", .array(excludeUsersFromStages.map(JSONValue.string)))])))
        }
        return .object(members)
    }
}

/// A named exit of an AGENT or router node.
public struct WorkflowPathway: Sendable, Equatable {
    public var uuid: String
    public var name: String
    public var targetNode: String
    /// PERCENTAGE_ROUTER: the share of tasks (0 < p ≤ 100; a router's shares sum to 100).
    public var percentage: Double?
    /// USER_ROUTER: the emails whose upstream work sends a task this way (nil: the default
    /// pathway, for everyone else).
    public var collaborators: [String]?

    public init(uuid: String, name: String, targetNode: String, percentage: Double? = nil, collaborators: [String]? = nil) {
        self.uuid = uuid; self.name = name; self.targetNode = targetNode
        self.percentage = percentage; self.collaborators = collaborators
    }

    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("uuid", .string(uuid)), ("name", .string(name)), ("targetNode", .string(targetNode))]
        if let percentage { members.append(("percentage", .number(WorkflowPathway.numberText(percentage)))) }
        if let collaborators { members.append(("collaborators", .array(collaborators.map(JSONValue.string)))) }
        return .object(members)
    }

    static func numberText(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension WorkflowGraph {
    /// Encord's default workflow for a project created without one: Start → Annotate → Review,
    /// approved → Complete, rejected → back to Annotate. `mint` makes the node uuids.
    public static func standard(mint: () -> String) -> WorkflowGraph {
        let start = mint(), annotate = mint(), review = mint(), complete = mint()
        return WorkflowGraph(nodes: [
            WorkflowNode(uuid: start, type: .start, title: "Start", toNode: annotate),
            WorkflowNode(uuid: annotate, type: .annotation, title: "Annotate", toNode: review),
            WorkflowNode(uuid: review, type: .review, title: "Review", toNode: complete, rejectedToNode: annotate),
            WorkflowNode(uuid: complete, type: .done, title: "Complete", nodeSubtype: "COMPLETED"),
        ])
    }
}
