/// The rules of editing a workflow that already has tasks (Encord: stages may be added,
/// renamed, relinked and re-routed; never delete a stage holding tasks or a Complete stage,
/// never change a stage's type).
public enum WorkflowEdit {
    /// Issues that refuse replacing `old` by `new` (both valid graphs). `occupied`: uuids of
    /// the stages that hold tasks now.
    public static func check(old: WorkflowGraph, new: WorkflowGraph, occupied: Set<String>) -> [WorkflowIssue] {
        var issues: [WorkflowIssue] = []
        for node in old.nodes {
            if let kept = new.node(uuid: node.uuid) {
                if kept.type != node.type {
                    let index = new.nodes.firstIndex(of: kept)!
                    issues.append(WorkflowIssue(path: "graphNodes[\(index)].nodeType", node: kept, rule: .typeChanged,
                                                "was \(node.type.rawValue); a stage's type never changes (add a new stage instead)"))
                }
            } else if node.type == .done {
                issues.append(WorkflowIssue(path: "graphNodes", node: node, rule: .stageInUse, "the Complete stage \(node.title ?? node.uuid) cannot be deleted"))
            } else if occupied.contains(node.uuid.lowercased()) {
                issues.append(WorkflowIssue(path: "graphNodes", node: node, rule: .stageInUse,
                                            "stage \(node.title ?? node.uuid) holds tasks and cannot be deleted; move its tasks first"))
            }
        }
        return issues
    }
}
