import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's workflow templates. Guarded by the registry's lock.
final class MemoryTemplateState {
    struct Template {
        var tenantID: String
        var title: String
        var description: String?
        var graph: String
        var createdBy: String?
        var createdAt: String
    }
    var templates: [String: Template] = [:]
}

/// The in-memory twin of `PostgresRegistry+Templates`: the same JSON, order and refusals.
extension MemoryRegistry: WorkflowTemplateStore {
    private var wt: MemoryTemplateState { templateState }

    private func templateJSON(_ id: String, _ t: MemoryTemplateState.Template) -> String {
        JSONValue.object([
            ("id", .string(id)), ("title", .string(t.title)), ("description", t.description.map(JSONValue.string) ?? .null),
            ("graphNodes", JSONValue.parse(Array(t.graph.utf8))?["graphNodes"] ?? .array([])),
            ("createdBy", t.createdBy.map(JSONValue.string) ?? .null), ("createdAt", .string(t.createdAt)),
        ]).compactText
    }

    public func createTemplate(_ t: NewWorkflowTemplate) throws -> String {
        try locked {
            guard !wt.templates.values.contains(where: { $0.tenantID == t.tenantID && $0.title == t.title }) else {
                throw WorkflowTemplateRefusal.titleTaken("a workflow template titled \(t.title) exists already")
            }
            let id = UUID().uuidString.lowercased()
            let stored = MemoryTemplateState.Template(tenantID: t.tenantID, title: t.title, description: t.description, graph: t.graph,
                                                      createdBy: t.createdBy?.lowercased(), createdAt: MemoryJobStore.now())
            wt.templates[id] = stored
            return templateJSON(id, stored)
        }
    }

    /// [title, id] order as PostgreSQL's `COLLATE "C"`: by bytes.
    private static func before(_ a: [String], _ b: [String]) -> Bool {
        let x = a.map { Array($0.utf8) }, y = b.map { Array($0.utf8) }
        return x[0] != y[0] ? x[0].lexicographicallyPrecedes(y[0]) : x[1].lexicographicallyPrecedes(y[1])
    }

    public func templates(tenantID: String, after: [String]?, limit: Int) throws -> JSONPage {
        locked {
            let rows = wt.templates.filter { $0.value.tenantID == tenantID }
                .map { (key: [$0.value.title, $0.key], json: templateJSON($0.key, $0.value)) }
                .filter { row in after.map { Self.before($0, row.key) } ?? true }
                .sorted { Self.before($0.key, $1.key) }
            let shown = rows.prefix(limit)
            return JSONPage(items: shown.map(\.json), nextCursor: rows.count > limit ? shown.last?.key.joined(separator: "\u{0}") : nil)
        }
    }

    public func template(tenantID: String, id: String) throws -> String? {
        locked { wt.templates[id.lowercased()].flatMap { $0.tenantID == tenantID ? templateJSON(id.lowercased(), $0) : nil } }
    }

    public func deleteTemplate(tenantID: String, id: String) throws -> Bool {
        locked {
            guard wt.templates[id.lowercased()]?.tenantID == tenantID else { return false }
            wt.templates[id.lowercased()] = nil
            return true
        }
    }
}
