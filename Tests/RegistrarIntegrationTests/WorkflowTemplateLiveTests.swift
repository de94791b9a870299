import Foundation
import RegistrarCore
import Testing

extension LiveServers {
/// Workflow templates and the user assignment restriction on the real servers: a template
/// saved through the API, a project made from it (fresh stage uuids), tasks made by the
/// PostgreSQL trigger, and a reviewer barred from reviewing the task they annotated.
@Suite(.serialized) struct WorkflowTemplateLiveTests {
    @Test func aProjectFromARestrictedTemplateBarsTheAnnotatorFromReviewing() throws {
        let live = TaskLiveTests()
        let (h, api, key) = try live.setUp()
        let folder = try live.folderWithFiles(h, api, key: key, name: "units", n: 2)
        let ds = try live.post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let s = UUID().uuidString.lowercased(), a = UUID().uuidString.lowercased(), r = UUID().uuidString.lowercased(), d = UUID().uuidString.lowercased()
        let template = try live.post(api, "/v1/workflow-templates", key: key, """
            {"title": "Four eyes", "graphNodes": [
              {"uuid": "\(s)", "nodeType": "START", "toNode": "\(a)"},
              {"uuid": "\(a)", "nodeType": "ANNOTATION", "title": "Annotate", "toNode": "\(r)"},
              {"uuid": "\(r)", "nodeType": "REVIEW", "title": "Review", "toNode": "\(d)", "rejectedToNode": "\(a)",
               "restrictions": {"excludeUsersFromStages": ["\(a)"]}},
              {"uuid": "\(d)", "nodeType": "DONE", "title": "Complete"}]}
            """, expect: 201).string("id")
        let pid = try live.post(api, "/v1/projects", key: key, #"{"title": "P", "datasetIds": ["\#(ds)"], "workflowTemplateId": "\#(template)"}"#,
                                expect: 201).string("id")
        let stages = try live.stageIDs(api, key: key, project: pid)
        #expect(Set(stages.values).isDisjoint(with: [s, a, r, d]), "the project's stages have fresh uuids")
        try live.addUnits(h, dataset: ds, folder: folder)
        let both = try live.collaborator(h, api, key: key, project: pid, email: "both@x.io", role: "ANNOTATOR_REVIEWER")
        let reviewer = try live.collaborator(h, api, key: key, project: pid, email: "rev@x.io", role: "REVIEWER")
        let task = try live.allTasks(api, key: key, project: pid, stage: "Annotate")[0].string("uuid")
        let submitted = try live.act(api, key: both, project: pid, stage: "Annotate", [
            ["taskUuid": task, "action": "ASSIGN", "assignee": "both@x.io"], ["taskUuid": task, "action": "SUBMIT"]])
        #expect(submitted.map { $0["ok"] as? Bool } == [true, true])
        let barred = try live.act(api, key: both, project: pid, stage: "Review", [["taskUuid": task, "action": "APPROVE"]])
        #expect((barred.first?["error"] as? [String: Any])?["code"] as? String == "restricted")
        let approved = try live.act(api, key: reviewer, project: pid, stage: "Review", [["taskUuid": task, "action": "APPROVE"]])
        #expect(approved.first?["status"] as? String == "COMPLETED")
    }
}
}
