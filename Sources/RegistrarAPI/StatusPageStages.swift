import RegistrarCore
import RegistrarRuntime

/// The per-stage task counts the status page shows for each project it lists (the figures of
/// `GET /v1/projects/{id}/stages`): one count query per listed project (at most
/// `StatusPage.catalogRows`), the stage titles from the project's own workflow JSON.
enum StatusPageStages {
    /// One stage of a project: its title, tasks, and tasks per status.
    struct Stage {
        var title: String
        var count: Int
        var byStatus: [(status: String, count: Int)]
    }

    /// Project id → its stages in workflow order; empty when the store keeps no tasks.
    static func load(projects: [String], registry: any APIStore) throws -> [String: [Stage]] {
        guard let tasks = registry as? any TaskStore else { return [:] }
        var out: [String: [Stage]] = [:]
        for text in projects {
            guard let project = JSONValue.parse(Array(text.utf8)), let id = project["id"]?.stringValue,
                  let workflow = project["workflow"], case .success(let graph) = WorkflowGraph.parse(workflow) else { continue }
            let counts = try tasks.stageCounts(projectID: id)
            out[id] = graph.holdingStages.map { node in
                let mine = counts.filter { $0.stage == node.uuid }
                return Stage(title: node.title ?? node.uuid, count: mine.reduce(0) { $0 + $1.count }, byStatus: mine.map { ($0.status, $0.count) })
            }
        }
        return out
    }

    /// `Annotate 5 (NEW 3, ASSIGNED 2) · Review 0 · Complete 1`, or a dash without stages.
    static func text(_ stages: [Stage]?) -> String {
        guard let stages, !stages.isEmpty else { return "—" }
        return stages.map { s in
            let detail = s.byStatus.count > 0 && !(s.byStatus.count == 1 && s.byStatus[0].status == "COMPLETED")
                ? " (" + s.byStatus.map { "\($0.status) \($0.count)" }.joined(separator: ", ") + ")" : ""
            return "\(s.title) \(s.count)\(detail)"
        }.joined(separator: " · ")
    }
}
