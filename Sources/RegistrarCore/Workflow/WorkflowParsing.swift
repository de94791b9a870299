extension WorkflowGraph {
    /// Limits that keep a graph something a person draws.
    public static let maxNodes = 200
    public static let maxPathways = 50
    public static let maxTitleLength = 200

    /// Reads and checks a graph (`{"graphNodes": [...]}`). Either a valid graph or every issue
    /// found (shape problems first; the graph rules are checked only on a well-shaped graph).
    public static func parse(_ value: JSONValue) -> Result<WorkflowGraph, WorkflowIssues> {
        var reader = GraphReader()
        let nodes = reader.read(value)
        guard reader.issues.isEmpty else { return .failure(WorkflowIssues(reader.issues)) }
        let graph = WorkflowGraph(nodes: nodes)
        let issues = WorkflowRules.check(graph)
        return issues.isEmpty ? .success(graph) : .failure(WorkflowIssues(issues))
    }

    /// Parses JSON text; invalid JSON is one `shape` issue.
    public static func parse(text: [UInt8]) -> Result<WorkflowGraph, WorkflowIssues> {
        guard let value = JSONValue.parse(text) else {
            return .failure(WorkflowIssues([WorkflowIssue(path: "$", rule: .shape, "not JSON")]))
        }
        return parse(value)
    }
}

/// The issues of a refused graph, in the order found.
public struct WorkflowIssues: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [WorkflowIssue]
    public init(_ issues: [WorkflowIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "; ") }
}

/// Reads the JSON into nodes, collecting shape issues (wrong types, unknown fields, unknown
/// node types) with their paths.
private struct GraphReader {
    var issues: [WorkflowIssue] = []

    private static let nodeKeys: Set<String> = ["uuid", "nodeType", "title", "toNode", "rejectedToNode", "pathways", "nodeSubtype", "restrictions"]
    private static let pathwayKeys: Set<String> = ["uuid", "name", "targetNode", "percentage", "collaborators"]

    mutating func read(_ value: JSONValue) -> [WorkflowNode] {
        guard case .object(let top) = value else {
            issue("$", "expected an object {\"graphNodes\": [...]}, got \(value.kindName)")
            return []
        }
        for member in top where member.key != "graphNodes" { issue(member.key, "unknown field (the graph is {\"graphNodes\": [...]})") }
        guard let list = value["graphNodes"] else { issue("graphNodes", "missing"); return [] }
        guard case .array(let items) = list else { issue("graphNodes", "expected an array, got \(list.kindName)"); return [] }
        guard !items.isEmpty else { issue("graphNodes", "empty: a workflow needs at least Start, Annotate and Complete"); return [] }
        guard items.count <= WorkflowGraph.maxNodes else {
            issues.append(WorkflowIssue(path: "graphNodes", rule: .limit, "\(items.count) nodes; at most \(WorkflowGraph.maxNodes)"))
            return []
        }
        return items.enumerated().compactMap { readNode($1, path: "graphNodes[\($0)]") }
    }

    private mutating func readNode(_ value: JSONValue, path: String) -> WorkflowNode? {
        guard case .object(let members) = value else { issue(path, "expected an object, got \(value.kindName)"); return nil }
        for member in members where !Self.nodeKeys.contains(member.key) { issue("\(path).\(member.key)", "unknown field") }
        let uuid = uuidField(value, "uuid", path: path, required: true)
        guard let typeName = string(value, "nodeType", path: path, required: true) else { return nil }
        guard let type = StageType(rawValue: typeName) else {
            if typeName.hasPrefix("CONSENSUS") {
                issues.append(WorkflowIssue(path: "\(path).nodeType", rule: .unsupportedStage,
                                            "\(typeName): consensus stages are not supported (use ANNOTATION and REVIEW stages)"))
            } else {
                issue("\(path).nodeType", "unknown node type \(typeName); one of \(StageType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return nil
        }
        let title = string(value, "title", path: path, required: false)
        if let title {
            if title.trimmingASCIISpaces.isEmpty || title.count > WorkflowGraph.maxTitleLength || title.contains(where: { $0.isASCII && ($0.asciiValue! < 32) }) {
                issue("\(path).title", "must be 1 to \(WorkflowGraph.maxTitleLength) characters, not blank, no control characters")
            }
        } else if type != .start {
            issue("\(path).title", "missing: every stage has a title (tasks and people find stages by it)")
        }
        let toNode = uuidField(value, "toNode", path: path, required: false)
        let rejected = uuidField(value, "rejectedToNode", path: path, required: false)
        var pathways: [WorkflowPathway] = []
        if let list = value["pathways"] {
            if case .array(let items) = list {
                if items.count > WorkflowGraph.maxPathways {
                    issues.append(WorkflowIssue(path: "\(path).pathways", rule: .limit, "\(items.count) pathways; at most \(WorkflowGraph.maxPathways)"))
                } else {
                    pathways = items.enumerated().compactMap { readPathway($1, path: "\(path).pathways[\($0)]") }
                }
            } else {
                issue("\(path).pathways", "expected an array, got \(list.kindName)")
            }
        }
        var subtype = string(value, "nodeSubtype", path: path, required: false)
        if let s = subtype, type != .done || s != "COMPLETED" {
            issue("\(path).nodeSubtype", type == .done ? "\(s): only COMPLETED is supported" : "only DONE nodes have a subtype")
        }
        if type == .done && subtype == nil { subtype = "COMPLETED" }
        let excluded = readRestrictions(value["restrictions"], path: "\(path).restrictions")
        guard let uuid else { return nil }
        return WorkflowNode(uuid: uuid, type: type, title: title, toNode: toNode, rejectedToNode: rejected, pathways: pathways, nodeSubtype: subtype,
                            excludeUsersFromStages: excluded)
    }

    /// `restrictions: {excludeUsersFromStages: [stage uuid, …]}` (absent or null: none).
    private mutating func readRestrictions(_ value: JSONValue?, path: String) -> [String] {
        guard let value, value != .null else { return [] }
        guard case .object(let members) = value else { issue(path, "expected an object {\"excludeUsersFromStages\": [stage uuid, …]}, got \(value.kindName)"); return [] }
        for member in members where member.key != "excludeUsersFromStages" { issue("\(path).\(member.key)", "unknown field (restrictions has excludeUsersFromStages)") }
        guard let list = value["excludeUsersFromStages"], list != .null else { return [] }
        guard case .array(let items) = list else { issue("\(path).excludeUsersFromStages", "expected an array of stage uuids, got \(list.kindName)"); return [] }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue, UUIDText.isValid(s) else { issue("\(path).excludeUsersFromStages[\(i)]", "expected a stage uuid"); continue }
            out.append(s.lowercased())
        }
        return out
    }

    private mutating func readPathway(_ value: JSONValue, path: String) -> WorkflowPathway? {
        guard case .object(let members) = value else { issue(path, "expected an object, got \(value.kindName)"); return nil }
        for member in members where !Self.pathwayKeys.contains(member.key) { issue("\(path).\(member.key)", "unknown field") }
        let uuid = uuidField(value, "uuid", path: path, required: true)
        let name = string(value, "name", path: path, required: true)
        if let name, name.trimmingASCIISpaces.isEmpty || name.count > WorkflowGraph.maxTitleLength {
            issue("\(path).name", "must be 1 to \(WorkflowGraph.maxTitleLength) characters, not blank")
        }
        let target = uuidField(value, "targetNode", path: path, required: true)
        var percentage: Double?
        if let p = value["percentage"] {
            if case .number(let text) = p, let v = Double(text) { percentage = v } else { issue("\(path).percentage", "expected a number, got \(p.kindName)") }
        }
        var collaborators: [String]?
        if let c = value["collaborators"] {
            if case .array(let items) = c {
                collaborators = []
                for (i, item) in items.enumerated() {
                    guard let email = item.stringValue, Self.looksLikeEmail(email) else {
                        issue("\(path).collaborators[\(i)]", "expected an email address"); continue
                    }
                    collaborators?.append(email.lowercased())
                }
            } else {
                issue("\(path).collaborators", "expected an array of emails, got \(c.kindName)")
            }
        }
        guard let uuid, let name, let target else { return nil }
        return WorkflowPathway(uuid: uuid, name: name, targetNode: target, percentage: percentage, collaborators: collaborators)
    }

    static func looksLikeEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && s.count <= 254 && !s.contains(" ")
    }

    private mutating func string(_ object: JSONValue, _ key: String, path: String, required: Bool) -> String? {
        guard let value = object[key], value != .null else {
            if required { issue("\(path).\(key)", "missing") }
            return nil
        }
        guard let s = value.stringValue else { issue("\(path).\(key)", "expected a string, got \(value.kindName)"); return nil }
        return s
    }

    private mutating func uuidField(_ object: JSONValue, _ key: String, path: String, required: Bool) -> String? {
        guard let s = string(object, key, path: path, required: required) else { return nil }
        guard UUIDText.isValid(s) else { issue("\(path).\(key)", "\(s) is not a uuid"); return nil }
        return s.lowercased()
    }

    private mutating func issue(_ path: String, _ message: String) {
        issues.append(WorkflowIssue(path: path, rule: .shape, message))
    }
}
