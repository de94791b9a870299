import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// `WorkflowTemplateStore`, checked against the twin and PostgreSQL: the JSON, titles unique
/// per workspace, paging by title, tenant scoping, delete.
public enum WorkflowTemplateStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest) throws {
        try templatesAreStoredPagedAndScoped(make())
    }

    static func unique(_ p: String) -> String { APIStoreConformance.unique(p) }

    static func templatesAreStoredPagedAndScoped(_ s: APIStoreUnderTest) throws {
        let store = try #require(s.store as? any WorkflowTemplateStore)
        let a = try s.makeTenant(unique("a")), b = try s.makeTenant(unique("b"))
        let creator = try #require(JSONCompare.string(try s.store.createUser(tenantID: a, email: "c@x.io", name: nil, role: .member), "id"))
        let graph = WorkflowGraph.standard { UUID().uuidString.lowercased() }.json
        let json = try store.createTemplate(NewWorkflowTemplate(tenantID: a, title: "Review twice", description: "two passes",
                                                                graph: graph.compactText, createdBy: creator))
        let id = try #require(JSONCompare.string(json, "id"))
        try JSONCompare.expect(json, [("id", .string(id)), ("title", .string("Review twice")), ("description", .string("two passes")),
                                      ("graphNodes", graph["graphNodes"]!), ("createdBy", .string(creator)), ("createdAt", JSONCompare.anyTime)])
        #expect(try store.template(tenantID: a, id: id) == json)
        #expect(try store.template(tenantID: b, id: id) == nil, "templates are the workspace's")
        #expect(try store.template(tenantID: a, id: "nope") == nil)
        // Titles are unique per workspace; another workspace may use the same one.
        do {
            _ = try store.createTemplate(NewWorkflowTemplate(tenantID: a, title: "Review twice", description: nil, graph: graph.compactText, createdBy: nil))
            Issue.record("a second template of the same title was stored")
        } catch let refusal as WorkflowTemplateRefusal {
            #expect(refusal == .titleTaken("a workflow template titled Review twice exists already"))
        }
        _ = try store.createTemplate(NewWorkflowTemplate(tenantID: b, title: "Review twice", description: nil, graph: graph.compactText, createdBy: nil))
        // Paged by title (bytes), then id.
        for title in ["beta", "Alpha", "alpha"] {
            let made = try store.createTemplate(NewWorkflowTemplate(tenantID: a, title: title, description: nil, graph: graph.compactText, createdBy: nil))
            #expect(JSONCompare.string(made, "description") == nil && JSONCompare.string(made, "createdBy") == nil)
        }
        var titles: [String] = []
        var after: [String]?
        repeat {
            let page = try store.templates(tenantID: a, after: after, limit: 2)
            titles += page.items.compactMap { JSONCompare.string($0, "title") }
            after = page.nextCursor?.components(separatedBy: "\u{0}")
        } while after != nil
        #expect(titles == ["Alpha", "Review twice", "alpha", "beta"])
        #expect(try store.templates(tenantID: b, after: nil, limit: 10).items.count == 1)
        // Deleted only in its own workspace.
        #expect(try store.deleteTemplate(tenantID: b, id: id) == false)
        #expect(try store.deleteTemplate(tenantID: a, id: id))
        #expect(try store.template(tenantID: a, id: id) == nil)
        #expect(try store.deleteTemplate(tenantID: a, id: id) == false)
        #expect(try store.deleteTemplate(tenantID: a, id: "nope") == false)
    }
}
