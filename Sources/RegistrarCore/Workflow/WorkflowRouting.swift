import Crypto

/// How routers choose a pathway. Both are pure functions of what is stored, so a task routed
/// again (a redelivered chunk, a retried request) always takes the same pathway.
public enum WorkflowRouting {
    /// A percentage router's choice for a task: a point in [0, 100) drawn from
    /// SHA-256(router uuid + ":" + task uuid), walked through the pathways' shares in order.
    /// Deterministic for the same router and settings; over many tasks each pathway's share
    /// converges on its percentage (the hash is uniform). Changing the percentages moves only
    /// the tasks whose point falls in a boundary that moved (Encord: "may alter the pathway").
    public static func percentagePathway(_ router: WorkflowNode, taskUUID: String) -> WorkflowPathway? {
        guard router.type == .percentageRouter, !router.pathways.isEmpty else { return nil }
        let digest = Array(SHA256.hash(data: Array("\(router.uuid.lowercased()):\(taskUUID.lowercased())".utf8)))
        var bits: UInt64 = 0
        for byte in digest.prefix(8) { bits = bits << 8 | UInt64(byte) }
        let point = Double(bits >> 11) / Double(UInt64(1) << 53) * 100
        var upper = 0.0
        for pathway in router.pathways {
            upper += pathway.percentage ?? 0
            if point < upper { return pathway }
        }
        return router.pathways.last
    }

    /// A collaborator router's choice: the pathway listing the person who last acted on the
    /// task upstream (submitted or approved it), else the default pathway (the one without
    /// collaborators). `actor` nil (an agent moved it): the default.
    public static func collaboratorPathway(_ router: WorkflowNode, actor: String?) -> WorkflowPathway? {
        guard router.type == .userRouter else { return nil }
        if let actor = actor?.lowercased(), let listed = router.pathways.first(where: { $0.collaborators?.contains(actor) == true }) {
            return listed
        }
        return router.pathways.first { $0.collaborators == nil }
    }
}
