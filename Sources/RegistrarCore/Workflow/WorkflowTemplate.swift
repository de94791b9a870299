extension WorkflowGraph {
    /// The same graph with every node and pathway uuid replaced by a fresh one from `mint`, and
    /// every reference (exits, pathway targets, restrictions) following it: a project made from
    /// a workflow template never shares a stage uuid with another project (stage uuids name
    /// tasks' stages, webhooks and actions across the API).
    public func withFreshUUIDs(mint: () -> String) -> WorkflowGraph {
        var fresh: [String: String] = [:]
        func renamed(_ uuid: String) -> String {
            let key = uuid.lowercased()
            if let known = fresh[key] { return known }
            let made = mint().lowercased()
            fresh[key] = made
            return made
        }
        return WorkflowGraph(nodes: nodes.map { node in
            var n = node
            n.uuid = renamed(node.uuid)
            n.toNode = node.toNode.map(renamed)
            n.rejectedToNode = node.rejectedToNode.map(renamed)
            n.pathways = node.pathways.map { p in
                var q = p
                q.uuid = renamed(p.uuid)
                q.targetNode = renamed(p.targetNode)
                return q
            }
            n.excludeUsersFromStages = node.excludeUsersFromStages.map(renamed)
            return n
        })
    }
}
