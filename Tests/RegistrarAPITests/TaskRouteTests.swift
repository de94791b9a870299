import Foundation
import HummingbirdTesting
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The workflow and task routes on the twin (`MemoryRegistry` keeps tasks as PostgreSQL does;
/// `TaskStoreConformance` checks both): the task-create jobs an attach starts, run here with the
/// kind's own planner and commit, then lists, actions, history, counts and live edits.
@Suite struct TaskRouteTests {
    /// A tenant, a dataset of `n` units, an admin user and an annotator (keys for each), and a
    /// project created by the admin with the dataset, its task-create jobs run.
    struct World {
        var rig: APIRig
        var tenant: String
        var service: String
        var admin: String
        var annotator: String
        var project: String
        var dataset: String
    }

    static func world(units: Int) throws -> World {
        let rig = APIRig()
        let (tenant, service) = try rig.tenant()
        let s = APIStoreUnderTest(store: rig.world.registry, makeTenant: { try #require(rig.world.registry.createTenant(name: $0)) },
                                  storeKey: { rig.world.registry.storeAPIKey(tenantID: $0, hash: $1) },
                                  revokeKey: { rig.world.registry.revokeAPIKey(id: $0) })
        let dataset = try TaskStoreConformance.dataset(s, tenant: tenant, n: units)
        let admin = try AccessRouteTests.userKey(rig, tenant: tenant, email: "admin@x.io")
        let annotator = try AccessRouteTests.userKey(rig, tenant: tenant, email: "ann@x.io")
        // The project as `POST /v1/projects` makes it (the standard graph, the creator its ADMIN);
        // its task-create job run by the kind's planner and commit, as a worker would.
        let created = try rig.world.registry.createProject(NewProject(
            tenantID: tenant, title: "Cars", description: nil, tags: [], ontologyID: nil, datasetIDs: [dataset],
            workflow: TaskStoreConformance.standardGraph().json, createdBy: admin.id))
        let project = try #require(JSONCompare.string(created, "id"))
        let jobs = rig.world.registry.takeCreatedTaskJobs()
        #expect(jobs.count == 1)
        try TaskStoreConformance.runTaskJobs(rig.world.registry, jobs)
        _ = try rig.world.registry.addMember(projectID: project, subject: .user(annotator.id), role: .annotator)
        return World(rig: rig, tenant: tenant, service: service, admin: admin.key, annotator: annotator.key, project: project, dataset: dataset)
    }

    @Test func tasksAreListedActedOnAndCountedOnTheTwin() async throws {
        let w = try Self.world(units: 3)
        try await w.rig.run { client in
            let p = "/v1/projects/\(w.project)"
            let stages = try await client.call("\(p)/stages", key: w.annotator)
            #expect(stages.status == .ok, "the twin serves the task routes (it answered 501 before it kept tasks)")
            #expect(stages.json["taskCount"]?.int == 3)
            let listed = try await client.call("\(p)/workflow/stages/Annotate/tasks?limit=2", key: w.annotator)
            #expect(listed.status == .ok)
            guard case .array(let page)? = listed.json["results"] else { Issue.record("no results"); return }
            #expect(page.count == 2)
            let token = try #require(listed.json["nextPageToken"]?.string)
            let rest = try await client.call("\(p)/workflow/stages/Annotate/tasks?limit=2&pageToken=\(token)", key: w.annotator)
            guard case .array(let last)? = rest.json["results"] else { Issue.record("no results"); return }
            #expect(last.count == 1 && rest.json["nextPageToken"] == .null)
            let task = try #require(page[0]["uuid"]?.string)

            let acted = try await client.call("\(p)/workflow/stages/Annotate/actions", .post, key: w.annotator, body: """
                [{"taskUuid": "\(task)", "action": "ASSIGN", "assignee": "ann@x.io"}, {"taskUuid": "\(task)", "action": "SUBMIT"},
                 {"taskUuid": "\(task)", "action": "SUBMIT"}]
                """)
            #expect(acted.status == .ok)
            #expect(acted.json["accepted"]?.int == 2 && acted.json["refused"]?.int == 1)
            guard case .array(let answers)? = acted.json["results"] else { Issue.record("no results"); return }
            #expect(answers[2]["error"]?["code"]?.string == "moved")
            // An annotator may not approve at Review.
            let approve = try await client.call("\(p)/workflow/stages/Review/actions", .post, key: w.annotator,
                                                body: #"[{"taskUuid": "\#(task)", "action": "APPROVE"}]"#)
            #expect(approve.json["results"]?.at(0)?["error"]?["code"]?.string == "forbidden")
            // A comment travels with the action into the history; a bad one is refused naming the item and field.
            let notText = try await client.call("\(p)/workflow/stages/Review/actions", .post, key: w.admin,
                                                body: #"[{"taskUuid": "\#(task)", "action": "APPROVE", "comment": 5}]"#)
            #expect(notText.status == .unprocessableContent && notText.json["error"]?["details"]?["field"]?.string == "[0].comment", "\(notText.text)")
            let tooLong = try await client.call("\(p)/workflow/stages/Review/actions", .post, key: w.admin,
                                                body: #"[{"taskUuid": "\#(task)", "action": "APPROVE", "comment": "\#(String(repeating: "x", count: 4001))"}]"#)
            #expect(tooLong.status == .unprocessableContent && tooLong.json["error"]?["message"]?.string?.contains("at most 4000") == true, "\(tooLong.text)")
            let approved = try await client.call("\(p)/workflow/stages/Review/actions", .post, key: w.admin,
                                                 body: #"[{"taskUuid": "\#(task)", "action": "APPROVE", "comment": "  looks right  "}]"#)
            #expect(approved.json["results"]?.at(0)?["status"]?.string == "COMPLETED")

            let history = try await client.call("\(p)/tasks/\(task)/history", key: w.annotator)
            guard case .array(let events)? = history.json["events"] else { Issue.record("no events"); return }
            #expect(events.compactMap { $0["action"]?.string } == ["CREATE", "ASSIGN", "SUBMIT", "APPROVE"])
            #expect(events.last?["comment"]?.string == "looks right" && events[1]["comment"] == .null)
            let counts = try await client.call("\(p)/stages", key: w.annotator)
            guard case .array(let rows)? = counts.json["stages"] else { Issue.record("no stages"); return }
            let byTitle = Dictionary(uniqueKeysWithValues: rows.compactMap { r in r["title"]?.string.map { ($0, r["taskCount"]?.int ?? -1) } })
            #expect(byTitle["Annotate"] == 2 && byTitle["Review"] == 0 && byTitle["Complete"] == 1)
            // The status page shows the same counts in the project's row.
            let status = try await client.call("/", key: nil, headers: [.cookie: "registrar_key=\(w.service)"])
            #expect(status.text.contains("<td>Annotate 2 (NEW 2) · Review 0 · Complete 1</td></tr>"))
        }
    }

    @Test func liveEditsAndDetachOnTheTwin() async throws {
        let w = try Self.world(units: 2)
        try await w.rig.run { client in
            let p = "/v1/projects/\(w.project)"
            let graph = try await client.call("\(p)/workflow", key: w.admin)
            guard case .array(var nodes)? = graph.json["graphNodes"] else { Issue.record("no graph"); return }
            // Turning the Review stage into an Annotate stage: a type change, refused with 409.
            nodes[2] = .object([("uuid", nodes[2]["uuid"]!), ("nodeType", .string("ANNOTATION")), ("title", .string("Review")),
                                ("toNode", nodes[2]["toNode"]!)])
            let changed = try await client.call("\(p)/workflow", .put, key: w.admin, body: JSONValue.object([("graphNodes", .array(nodes))]).compactText)
            #expect(changed.status == .conflict && changed.errorCode == "type_changed")
            // A project created through the route answers its task-create jobs; run, they make its tasks.
            let second = try await client.call("/v1/projects", .post, key: w.admin, body: #"{"title": "Second", "datasetIds": ["\#(w.dataset)"]}"#)
            guard case .array(let jobs)? = second.json["taskJobIds"] else { Issue.record("no taskJobIds"); return }
            #expect(jobs.count == 1)
            try TaskStoreConformance.runTaskJobs(w.rig.world.registry, jobs.compactMap(\.string))
            let secondID = try #require(second.json["id"]?.string)
            #expect(try await client.call("/v1/projects/\(secondID)/stages", key: w.admin).json["taskCount"]?.int == 2)
            // Detaching the dataset removes its tasks.
            #expect(try await client.call("\(p)/datasets/\(w.dataset)", .delete, key: w.admin).status == .noContent)
            #expect(try await client.call("\(p)/stages", key: w.admin).json["taskCount"]?.int == 0)
        }
    }
}

@Suite struct WorkflowTemplateRouteTests {
    func uuids(_ nodes: JSONValue?) -> Set<String> {
        guard case .array(let list)? = nodes else { return [] }
        var out: Set<String> = []
        for n in list {
            if let u = n["uuid"]?.string { out.insert(u) }
            if case .array(let ps)? = n["pathways"] { for p in ps { if let u = p["uuid"]?.string { out.insert(u) } } }
        }
        return out
    }

    @Test func templatesAreSavedListedLoadedWithFreshUUIDsAndDeleted() async throws {
        let w = try TaskRouteTests.world(units: 1)
        let g = TaskStoreConformance.standardGraph()
        let restricted = g.json.replacingOccurrences(of: #""rejectedToNode":"\#(g.annotate)""#,
                                                     with: #""rejectedToNode":"\#(g.annotate)","restrictions":{"excludeUsersFromStages":["\#(g.annotate)"]}"#)
        let nodes = try #require(JSONValue.parse(Array(restricted.utf8))?["graphNodes"])
        try await w.rig.run { client in
            let made = try await client.call("/v1/workflow-templates", .post, key: w.admin,
                                             body: JSONValue.object([("title", .string("Four eyes")), ("graphNodes", nodes)]).compactText)
            #expect(made.status == .created)
            let id = try #require(made.json["id"]?.string)
            #expect(made.json["graphNodes"] == nodes && made.json["description"] == .null)
            let again = try await client.call("/v1/workflow-templates", .post, key: w.admin,
                                              body: JSONValue.object([("title", .string("Four eyes")), ("graphNodes", nodes)]).compactText)
            #expect(again.status == .conflict && again.errorCode == "template_exists")
            let broken = try await client.call("/v1/workflow-templates", .post, key: w.admin, body: #"{"title": "x", "graphNodes": [{"uuid": "\#(g.start)", "nodeType": "START"}]}"#)
            #expect(broken.status == .unprocessableContent && broken.errorCode == "invalid_workflow")
            let both = try await client.call("/v1/workflow-templates", .post, key: w.admin,
                                             body: JSONValue.object([("title", .string("y")), ("graphNodes", nodes), ("projectId", .string(w.project))]).compactText)
            #expect(both.status == .unprocessableContent && both.json["error"]?["details"]?["field"]?.string == "projectId")
            let neither = try await client.call("/v1/workflow-templates", .post, key: w.admin, body: #"{"title": "z"}"#)
            #expect(neither.status == .unprocessableContent && neither.json["error"]?["details"]?["field"]?.string == "graphNodes")
            // A project's workflow saved as a template: the same graph.
            let saved = try await client.call("/v1/workflow-templates", .post, key: w.annotator, body: #"{"title": "From Cars", "projectId": "\#(w.project)"}"#)
            #expect(saved.status == .created)
            let workflow = try await client.call("/v1/projects/\(w.project)/workflow", key: w.admin)
            #expect(saved.json["graphNodes"] == workflow.json["graphNodes"])
            let listed = try await client.call("/v1/workflow-templates?limit=1", key: w.annotator)
            #expect(listed.json.items.compactMap { $0["title"]?.string } == ["Four eyes"])
            #expect(listed.json["nextCursor"]?.string != nil)

            // Loaded into two projects: the same graph, fresh uuids each time, references following.
            var seen = uuids(nodes)
            for title in ["A", "B"] {
                let p = try await client.call("/v1/projects", .post, key: w.admin, body: #"{"title": "\#(title)", "workflowTemplateId": "\#(id)"}"#)
                #expect(p.status == .created)
                guard case .array(let copied)? = p.json["workflow"]?["graphNodes"], case .array(let original) = nodes else { Issue.record("no graph"); return }
                #expect(copied.compactMap { $0["nodeType"]?.string } == original.compactMap { $0["nodeType"]?.string })
                let fresh = uuids(p.json["workflow"]?["graphNodes"])
                #expect(fresh.count == 4 && fresh.isDisjoint(with: seen), "stage uuids are never shared")
                seen.formUnion(fresh)
                let annotate = copied[1]["uuid"]?.string
                #expect(copied[2]["rejectedToNode"]?.string == annotate && copied[2]["restrictions"]?["excludeUsersFromStages"] == .array([.string(annotate ?? "")]))
            }
            let clash = try await client.call("/v1/projects", .post, key: w.admin,
                                              body: JSONValue.object([("title", .string("C")), ("workflowTemplateId", .string(id)), ("workflow", .object([("graphNodes", nodes)]))]).compactText)
            #expect(clash.status == .unprocessableContent && clash.json["error"]?["details"]?["field"]?.string == "workflowTemplateId")
            let missing = try await client.call("/v1/projects", .post, key: w.admin, body: #"{"title": "D", "workflowTemplateId": "\#(UUID().uuidString)"}"#)
            #expect(missing.status == .unprocessableContent && missing.errorCode == "not_found")
            #expect(missing.json["error"]?["details"]?["field"]?.string == "workflowTemplateId")

            // Deleting: the creator or a workspace admin.
            #expect(try await client.call("/v1/workflow-templates/\(id)", .delete, key: w.annotator).status == .forbidden)
            #expect(try await client.call("/v1/workflow-templates/\(id)", .delete, key: w.admin).status == .noContent)
            #expect(try await client.call("/v1/workflow-templates/\(id)", key: w.admin).status == .notFound)
            let fromCars = try #require(saved.json["id"]?.string)
            #expect(try await client.call("/v1/workflow-templates/\(fromCars)", .delete, key: w.service).status == .noContent)
        }
    }
}

extension JSONValue {
    /// The array's item at `i`, if any.
    func at(_ i: Int) -> JSONValue? { if case .array(let a) = self, a.indices.contains(i) { return a[i] } else { return nil } }
}
