/// The rules a well-shaped graph must keep (Encord's workflow docs, docs/workflows.md). Each
/// issue names the node (path, uuid, title) and the rule.
enum WorkflowRules {
    static func check(_ graph: WorkflowGraph) -> [WorkflowIssue] {
        var issues: [WorkflowIssue] = []
        let nodes = graph.nodes
        func path(_ node: WorkflowNode) -> String { "graphNodes[\(nodes.firstIndex(of: node)!)]" }
        func add(_ node: WorkflowNode?, _ suffix: String = "", _ rule: WorkflowRule, _ message: String) {
            issues.append(WorkflowIssue(path: node.map { path($0) + suffix } ?? "graphNodes", node: node, rule: rule, message))
        }

        // Unique uuids (nodes and pathways share one space: actions name pathways by uuid) and titles.
        var seen: [String: String] = [:]
        for node in nodes {
            if let first = seen[node.uuid] { add(node, ".uuid", .duplicate, "uuid \(node.uuid) is also used by \(first)") } else { seen[node.uuid] = path(node) }
            for (i, p) in node.pathways.enumerated() {
                if let first = seen[p.uuid] { add(node, ".pathways[\(i)].uuid", .duplicate, "uuid \(p.uuid) is also used by \(first)") } else { seen[p.uuid] = "\(path(node)).pathways[\(i)]" }
            }
            var names: Set<String> = []
            for (i, p) in node.pathways.enumerated() where !names.insert(p.name.lowercased()).inserted {
                add(node, ".pathways[\(i)].name", .duplicate, "two pathways of this node are named \(p.name)")
            }
        }
        var titles: [String: String] = [:]
        for node in nodes {
            guard let title = node.title else { continue }
            if let first = titles[title.lowercased()] { add(node, ".title", .duplicate, "title \(title) is also used by \(first) (stages are found by title)") } else { titles[title.lowercased()] = path(node) }
        }

        // Exits by type, and where they lead.
        let byUUID = Dictionary(nodes.map { ($0.uuid, $0) }, uniquingKeysWith: { a, _ in a })
        for node in nodes {
            checkExits(node, add: { suffix, rule, message in add(node, suffix, rule, message) })
            for (suffix, target) in exitPaths(node) {
                guard let to = byUUID[target] else { add(node, suffix, .badTarget, "links to \(target), which is not a node of this graph"); continue }
                if to.type == .start { add(node, suffix, .badTarget, "links back to Start; nothing may") }
                if to.uuid == node.uuid { add(node, suffix, .badTarget, "links to itself") }
            }
            checkRestrictions(node, byUUID, add: { suffix, message in add(node, suffix, .restrictions, message) })
            if node.type == .review, let r = node.rejectedToNode, byUUID[r]?.type == .review {
                add(node, ".rejectedToNode", .rejectedToReview, "the rejected exit leads to another Review stage; send rejected tasks back to an Annotate stage")
            }
        }

        // Start: exactly one, linking onward to an Annotate or Agent stage.
        let starts = nodes.filter { $0.type == .start }
        if starts.count != 1 {
            add(starts.dropFirst().first, "", .oneStart, "a workflow has exactly one Start node; this one has \(starts.count)")
        } else if let start = starts.first, let target = start.toNode.flatMap({ byUUID[$0] }), ![.annotation, .agent].contains(target.type) {
            add(start, ".toNode", .startTarget, "Start leads to a \(target.type.rawValue) node; only an Annotate or Agent stage may follow Start")
        }
        if !nodes.contains(where: { $0.type == .annotation }) || !nodes.contains(where: { $0.type == .done }) {
            add(nil, "", .needsAnnotateAndComplete, "a workflow needs at least one ANNOTATION stage and one DONE (Complete) stage")
        }
        guard issues.isEmpty, let start = starts.first else { return issues }

        // Reachability both ways: every node from Start, and Complete from every node.
        let forward = reachable(from: [start.uuid]) { byUUID[$0]?.targets ?? [] }
        for node in nodes where !forward.contains(node.uuid) {
            add(node, "", .unreachable, "no path from Start reaches this node; link every node into the workflow")
        }
        var incoming: [String: [String]] = [:]
        for node in nodes { for t in node.targets { incoming[t, default: []].append(node.uuid) } }
        let backward = reachable(from: nodes.filter { $0.type == .done }.map(\.uuid)) { incoming[$0] ?? [] }
        for node in nodes where !backward.contains(node.uuid) {
            add(node, "", .noWayToComplete, "no path from this node reaches a Complete (DONE) stage")
        }

        // Routers in a cycle with nothing else on it would pass a task round forever.
        let routers = Set(nodes.filter(\.type.isRouter).map(\.uuid))
        for node in nodes where routers.contains(node.uuid) {
            let loop = reachable(from: node.targets.filter(routers.contains)) { byUUID[$0]!.targets.filter(routers.contains) }
            if loop.contains(node.uuid) { add(node, "", .routerCycle, "routers form a cycle through this node with no stage between them") }
        }
        return issues
    }

    /// Checks the exits a node's type needs, and the router settings on its pathways.
    private static func checkExits(_ node: WorkflowNode, add: (String, WorkflowRule, String) -> Void) {
        let name = node.type.rawValue
        let needsTo = [.start, .annotation, .review].contains(node.type)
        if needsTo && node.toNode == nil { add(".toNode", node.type == .start ? .oneStart : .exits, "\(name) needs toNode (its \(node.type == .review ? "approved " : "")exit)") }
        if !needsTo && node.toNode != nil { add(".toNode", .exits, "\(name) has no toNode\(node.type == .done ? " (Complete ends the workflow)" : "; its exits are pathways")") }
        if node.type == .review && node.rejectedToNode == nil { add(".rejectedToNode", .exits, "REVIEW needs rejectedToNode (where rejected tasks go)") }
        if node.type != .review && node.rejectedToNode != nil { add(".rejectedToNode", .exits, "only REVIEW has a rejected exit") }
        let hasPathways = [.agent, .percentageRouter, .userRouter].contains(node.type)
        if hasPathways && node.pathways.isEmpty { add(".pathways", .exits, "\(name) needs at least one pathway") }
        if !hasPathways && !node.pathways.isEmpty { add(".pathways", .exits, "only AGENT and router nodes have pathways") }
        for (i, p) in node.pathways.enumerated() {
            if p.percentage != nil && node.type != .percentageRouter { add(".pathways[\(i)].percentage", .exits, "only PERCENTAGE_ROUTER pathways have a percentage") }
            if p.collaborators != nil && node.type != .userRouter { add(".pathways[\(i)].collaborators", .exits, "only USER_ROUTER pathways have collaborators") }
        }
        switch node.type {
        case .percentageRouter:
            if node.pathways.count < 2 { add(".pathways", .percentages, "a percentage router splits tasks over at least two pathways") }
            var sum = 0.0
            for (i, p) in node.pathways.enumerated() {
                guard let share = p.percentage else { add(".pathways[\(i)].percentage", .percentages, "missing: each pathway of a percentage router has a percentage"); continue }
                if !(share > 0 && share <= 100) { add(".pathways[\(i)].percentage", .percentages, "\(WorkflowPathway.numberText(share)) is not in (0, 100]") }
                sum += share
            }
            if node.pathways.allSatisfy({ $0.percentage != nil }) && abs(sum - 100) > 1e-6 {
                add(".pathways", .percentages, "the percentages sum to \(WorkflowPathway.numberText(sum)), not 100")
            }
        case .userRouter:
            var owner: [String: Int] = [:]
            let defaults = node.pathways.indices.filter { node.pathways[$0].collaborators == nil }
            if defaults.count != 1 && !node.pathways.isEmpty {
                add(".pathways", .collaborators, "a collaborator router needs exactly one pathway without collaborators (the default, for everyone else); this one has \(defaults.count)")
            }
            for (i, p) in node.pathways.enumerated() {
                guard let people = p.collaborators else { continue }
                if people.isEmpty { add(".pathways[\(i)].collaborators", .collaborators, "empty; list at least one email, or omit the field for the default pathway") }
                for email in people {
                    if let first = owner[email], first != i { add(".pathways[\(i)].collaborators", .collaborators, "\(email) is also in pathway \(first); a person routes one way") }
                    owner[email] = owner[email] ?? i
                }
            }
        default:
            break
        }
    }

    /// A user assignment restriction: only where people work (Annotate, Review), naming stages
    /// where people work, each once. A node may list itself (a task rejected back to Annotate
    /// then goes to someone else).
    private static func checkRestrictions(_ node: WorkflowNode, _ byUUID: [String: WorkflowNode], add: (String, String) -> Void) {
        guard !node.excludeUsersFromStages.isEmpty else { return }
        guard [.annotation, .review].contains(node.type) else {
            add(".restrictions", "only ANNOTATION and REVIEW stages take a user assignment restriction, not \(node.type.rawValue)"); return
        }
        var seen: Set<String> = []
        for (i, stage) in node.excludeUsersFromStages.enumerated() {
            let suffix = ".restrictions.excludeUsersFromStages[\(i)]"
            guard seen.insert(stage).inserted else { add(suffix, "\(stage) is listed twice"); continue }
            guard let listed = byUUID[stage] else { add(suffix, "\(stage) is not a node of this graph"); continue }
            if ![.annotation, .review].contains(listed.type) {
                add(suffix, "\(listed.title ?? stage) is a \(listed.type.rawValue) node; list ANNOTATION or REVIEW stages (where people act)")
            }
        }
    }

    /// The exits of a node with the JSON path suffix of each.
    private static func exitPaths(_ node: WorkflowNode) -> [(String, String)] {
        var out: [(String, String)] = []
        if let t = node.toNode { out.append((".toNode", t)) }
        if let r = node.rejectedToNode { out.append((".rejectedToNode", r)) }
        for (i, p) in node.pathways.enumerated() { out.append((".pathways[\(i)].targetNode", p.targetNode)) }
        return out
    }

    private static func reachable(from roots: [String], next: (String) -> [String]) -> Set<String> {
        var seen = Set(roots), stack = roots
        while let n = stack.popLast() { for m in next(n) where seen.insert(m).inserted { stack.append(m) } }
        return seen
    }
}
