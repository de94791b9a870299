import Foundation
import HummingbirdTesting
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// Users, groups, tags, projects and collaborators through the routes, on the twin.
@Suite struct AccessRouteTests {
    /// A user of the tenant and a key acting as it.
    static func userKey(_ rig: APIRig, tenant: String, email: String, role: WorkspaceRole = .member) throws -> (id: String, key: String) {
        let json = try rig.world.registry.createUser(tenantID: tenant, email: email, name: nil, role: role)
        let id = try #require(JSONCompare.string(json, "id"))
        let key = APIKey.generate()
        _ = rig.world.registry.storeAPIKey(tenantID: tenant, hash: APIKey.hash(key), userID: id)
        return (id, key)
    }

    @Test func usersAreManagedByWorkspaceAdmins() async throws {
        let rig = APIRig()
        let (tenant, service) = try rig.tenant()
        let member = try Self.userKey(rig, tenant: tenant, email: "m@x.io")
        try await rig.run { client in
            let created = try await client.call("/v1/users", .post, key: service, body: #"{"email": "  Ann@Example.COM ", "name": "Ann"}"#)
            #expect(created.status == .created)
            #expect(created.json["email"]?.string == "ann@example.com" && created.json["role"]?.string == "member")
            let id = try #require(created.json["id"]?.string)
            let again = try await client.call("/v1/users", .post, key: service, body: #"{"email": "ann@example.com"}"#)
            #expect(again.status == .conflict && again.errorCode == "user_exists")
            let bad = try await client.call("/v1/users", .post, key: service, body: #"{"email": "not an email"}"#)
            #expect(bad.status == .unprocessableContent && bad.json["error"]?["details"]?["field"]?.string == "email")
            let role = try await client.call("/v1/users", .post, key: service, body: #"{"email": "b@x.io", "role": "owner"}"#)
            #expect(role.status == .unprocessableContent && role.json["error"]?["details"]?["field"]?.string == "role")
            // A member may list and read, not add, change or delete.
            let refused = try await client.call("/v1/users", .post, key: member.key, body: #"{"email": "c@x.io"}"#)
            #expect(refused.status == .forbidden && refused.errorCode == "forbidden")
            #expect(refused.json["error"]?["details"]?["required"]?.string == "workspace role admin")
            #expect(try await client.call("/v1/users", key: member.key).json.items.count == 2)
            #expect(try await client.call("/v1/users/\(id)", key: member.key).status == .ok)
            #expect(try await client.call("/v1/users/\(id)", .patch, key: member.key, body: #"{"role": "admin"}"#).status == .forbidden)
            let promoted = try await client.call("/v1/users/\(id)", .patch, key: service, body: #"{"role": "admin", "name": null}"#)
            #expect(promoted.json["role"]?.string == "admin" && promoted.json["name"] == .null)
            #expect(try await client.call("/v1/users/\(id)", .delete, key: member.key).status == .forbidden)
            #expect(try await client.call("/v1/users/\(id)", .delete, key: service).status == .noContent)
            #expect(try await client.call("/v1/users/\(id)", key: service).status == .notFound)
        }
    }

    @Test func projectsGetTheDefaultWorkflowTagsAndReferencesChecked() async throws {
        let rig = APIRig()
        let (tenant, service) = try rig.tenant()
        let (other, _) = try rig.tenant()
        let member = try Self.userKey(rig, tenant: tenant, email: "m@x.io")
        let ontology = UUID().uuidString.lowercased(), foreign = UUID().uuidString.lowercased(), dataset = UUID().uuidString.lowercased()
        rig.world.registry.noteCatalogObject(ontology: true, id: ontology, tenantID: tenant)
        rig.world.registry.noteCatalogObject(ontology: true, id: foreign, tenantID: other)
        rig.world.registry.noteCatalogObject(ontology: false, id: dataset, tenantID: tenant)
        try await rig.run { client in
            #expect(try await client.call("/v1/tags", .post, key: member.key, body: #"{"name": "cars"}"#).status == .forbidden)
            #expect(try await client.call("/v1/tags", .post, key: service, body: #"{"name": "cars"}"#).status == .created)
            let created = try await client.call("/v1/projects", .post, key: member.key, body: """
                {"title": "Cars", "tags": ["cars"], "ontologyId": "\(ontology)", "datasetIds": ["\(dataset)"]}
                """)
            #expect(created.status == .created)
            #expect(created.json["createdBy"]?.string == member.id && created.json["memberCount"]?.int == 1)
            // The default graph: Start → Annotate → Review (approved → Complete, rejected → Annotate).
            guard case .array(let nodes)? = created.json["workflow"]?["graphNodes"] else { Issue.record("no graph"); return }
            #expect(nodes.compactMap { $0["nodeType"]?.string } == ["START", "ANNOTATION", "REVIEW", "DONE"])
            let uuids = nodes.compactMap { $0["uuid"]?.string }
            #expect(Set(uuids).count == 4 && uuids.allSatisfy(UUIDText.isValid))
            #expect(nodes[0]["toNode"]?.string == uuids[1] && nodes[1]["toNode"]?.string == uuids[2])
            #expect(nodes[2]["toNode"]?.string == uuids[3] && nodes[2]["rejectedToNode"]?.string == uuids[1])
            #expect((try? WorkflowGraph.parse(created.json["workflow"]!).get()) != nil, "the default is a valid workflow")
            // A second project mints its own uuids.
            let second = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "Other"}"#)
            #expect(second.json["workflow"]?["graphNodes"]?.compactText.contains(uuids[0]) == false)
            // Refusals name their field.
            let tag = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "x", "tags": ["cars", "boats"]}"#)
            #expect(tag.status == .unprocessableContent && tag.errorCode == "unknown_tag" && tag.json["error"]?["details"]?["tag"]?.string == "boats")
            let ont = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "x", "ontologyId": "\#(foreign)"}"#)
            #expect(ont.status == .notFound && ont.json["error"]?["details"]?["field"]?.string == "ontologyId")
            let template = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "x", "workflowTemplateId": "t1"}"#)
            // No such workflow template (docs/workflows.md, "Templates"): 422 naming the field.
            #expect(template.status == .unprocessableContent && template.errorCode == "not_found")
            #expect(template.json["error"]?["details"]?["field"]?.string == "workflowTemplateId")
            let flow = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "x", "workflow": {"stages": []}}"#)
            #expect(flow.status == .unprocessableContent && flow.json["error"]?["details"]?["field"]?.string == "workflow")
            // An inline graph is checked by the workflow rules; each problem names its node.
            let a = "00000000-0000-4000-8000-00000000000a", b = "00000000-0000-4000-8000-00000000000b", c = "00000000-0000-4000-8000-00000000000c"
            let broken = try await client.call("/v1/projects", .post, key: service, body: """
                {"title": "x", "workflow": {"graphNodes": [{"uuid": "\(a)", "nodeType": "START", "toNode": "\(c)"}, {"uuid": "\(c)", "nodeType": "DONE", "title": "Complete"}]}}
                """)
            #expect(broken.status == .unprocessableContent && broken.errorCode == "invalid_workflow")
            #expect(broken.json["error"]?["details"]?["errors"]?.compactText.contains("needs_annotate_and_complete") == true)
            let graph = """
                {"graphNodes": [{"uuid": "\(a)", "nodeType": "START", "toNode": "\(b)"}, {"uuid": "\(b)", "nodeType": "ANNOTATION", "title": "Draw", "toNode": "\(c)"}, {"uuid": "\(c)", "nodeType": "DONE", "title": "Done"}]}
                """
            let inline = try await client.call("/v1/projects", .post, key: service, body: "{\"title\": \"x\", \"workflow\": \(graph)}")
            #expect(inline.status == .created && inline.json["workflow"]?["graphNodes"]?.compactText.contains("\"title\":\"Draw\"") == true)
            #expect(inline.json["workflow"]?["graphNodes"]?.compactText.contains("\"nodeSubtype\":\"COMPLETED\"") == true, "stored as normalised")
            #expect(try await client.call("/v1/projects", .post, key: service, body: #"{"description": "no title"}"#).json["error"]?["details"]?["field"]?.string == "title")
        }
    }

    @Test func membersNeedTheRightRoleAndTheLastAdminStays() async throws {
        let rig = APIRig()
        let (tenant, service) = try rig.tenant()
        let (_, stranger) = try rig.tenant()
        let owner = try Self.userKey(rig, tenant: tenant, email: "owner@x.io")
        let manager = try Self.userKey(rig, tenant: tenant, email: "tm@x.io")
        let annotator = try Self.userKey(rig, tenant: tenant, email: "ann@x.io")
        let outsider = try Self.userKey(rig, tenant: tenant, email: "out@x.io")
        try await rig.run { client in
            let p = try #require(try await client.call("/v1/projects", .post, key: owner.key, body: #"{"title": "P"}"#).json["id"]?.string)
            #expect(try await client.call("/v1/projects/\(p)", key: stranger).status == .notFound)
            let notCollaborator = try await client.call("/v1/projects/\(p)", key: outsider.key)
            #expect(notCollaborator.status == .forbidden && notCollaborator.errorCode == "forbidden")
            #expect(try await client.call("/v1/projects", key: outsider.key).json.items.isEmpty)
            // Roles by name or Encord integer; an unknown one lists them.
            let tm = try await client.call("/v1/projects/\(p)/members", .post, key: owner.key, body: #"{"email": "TM@x.io", "role": 4}"#)
            #expect(tm.status == .created && tm.json["role"]?.string == "TEAM_MANAGER")
            let unknown = try await client.call("/v1/projects/\(p)/members", .post, key: owner.key, body: #"{"email": "ann@x.io", "role": "BOSS"}"#)
            #expect(unknown.status == .unprocessableContent && unknown.json["error"]?["details"]?["field"]?.string == "role")
            #expect(unknown.json["error"]?["message"]?.string?.contains("ADMIN, ANNOTATOR, REVIEWER, ANNOTATOR_REVIEWER, TEAM_MANAGER, VIEWER") == true)
            // A team manager adds annotators but not admins.
            let ann = try await client.call("/v1/projects/\(p)/members", .post, key: manager.key, body: #"{"email": "ann@x.io", "role": "annotator"}"#)
            #expect(ann.status == .created)
            let annID = try #require(ann.json["id"]?.string)
            let admin = try await client.call("/v1/projects/\(p)/members", .post, key: manager.key, body: #"{"email": "out@x.io", "role": "ADMIN"}"#)
            #expect(admin.status == .forbidden && admin.json["error"]?["details"]?["required"]?.string == "project role ADMIN")
            let up = try await client.call("/v1/projects/\(p)/members/\(annID)", .patch, key: manager.key, body: #"{"role": "ADMIN"}"#)
            #expect(up.status == .forbidden)
            let byAnnotator = try await client.call("/v1/projects/\(p)/members", .post, key: annotator.key, body: #"{"email": "out@x.io", "role": "VIEWER"}"#)
            #expect(byAnnotator.status == .forbidden && byAnnotator.json["error"]?["details"]?["required"]?.string == "one of the project roles ADMIN, TEAM_MANAGER")
            #expect(try await client.call("/v1/projects/\(p)/members", .post, key: owner.key, body: #"{"email": "nobody@x.io", "role": "VIEWER"}"#).status == .notFound)
            // The owner is the last direct ADMIN: neither demoted nor removed, even by a service key.
            let members = try await client.call("/v1/projects/\(p)/members", key: annotator.key)
            let ownerMember = try #require(members.json.items.first { $0["email"]?.string == "owner@x.io" }?["id"]?.string)
            let demote = try await client.call("/v1/projects/\(p)/members/\(ownerMember)", .patch, key: service, body: #"{"role": "VIEWER"}"#)
            #expect(demote.status == .conflict && demote.errorCode == "last_admin")
            #expect(try await client.call("/v1/projects/\(p)/members/\(ownerMember)", .delete, key: owner.key).errorCode == "last_admin")
            #expect(try await client.call("/v1/projects/\(p)/members/\(ownerMember)", .delete, key: manager.key).status == .forbidden)
            // What the caller may do.
            let me = try await client.call("/v1/projects/\(p)/me", key: annotator.key)
            #expect(me.json["roles"] == .array([.string("ANNOTATOR")]))
            #expect(me.json["permissions"] == .array([.string("view"), .string("annotate")]))
            #expect(me.json["email"]?.string == "ann@x.io", "the caller's own email (the label editor's queue filter)")
            let admins = try await client.call("/v1/projects/\(p)/me", key: service)
            #expect(admins.json["roles"] == .array([.string("ADMIN")]) && admins.json["workspaceRole"]?.string == "admin")
            #expect(admins.json["email"] == .null, "a service key has no email")
            #expect(try await client.call("/v1/projects/\(p)/me", key: outsider.key).json["roles"] == .array([]))
            // Team managers cannot administer the project.
            #expect(try await client.call("/v1/projects/\(p)", .patch, key: manager.key, body: #"{"title": "Q"}"#).status == .forbidden)
            #expect(try await client.call("/v1/projects/\(p)", .delete, key: manager.key).status == .forbidden)
            #expect(try await client.call("/v1/projects/\(p)", .delete, key: owner.key).status == .noContent)
        }
    }

    @Test func groupsGrantTheirRole() async throws {
        let rig = APIRig()
        let (tenant, service) = try rig.tenant()
        let owner = try Self.userKey(rig, tenant: tenant, email: "owner@x.io")
        let reviewer = try Self.userKey(rig, tenant: tenant, email: "rev@x.io")
        try await rig.run { client in
            let g = try #require(try await client.call("/v1/groups", .post, key: service, body: #"{"name": "reviewers"}"#).json["id"]?.string)
            #expect(try await client.call("/v1/groups", .post, key: owner.key, body: #"{"name": "mine"}"#).status == .forbidden)
            let added = try await client.call("/v1/groups/\(g)/members", .post, key: service, body: #"{"email": "rev@x.io"}"#)
            #expect(added.status == .ok && added.json["memberCount"]?.int == 1)
            let p = try #require(try await client.call("/v1/projects", .post, key: owner.key, body: #"{"title": "P"}"#).json["id"]?.string)
            #expect(try await client.call("/v1/projects/\(p)", key: reviewer.key).status == .forbidden)
            let viaGroup = try await client.call("/v1/projects/\(p)/members", .post, key: owner.key, body: #"{"groupId": "\#(g)", "role": "REVIEWER"}"#)
            #expect(viaGroup.status == .created && viaGroup.json["groupName"]?.string == "reviewers")
            #expect(try await client.call("/v1/projects/\(p)", key: reviewer.key).status == .ok)
            #expect(try await client.call("/v1/projects", key: reviewer.key).json.items.count == 1)
            #expect(try await client.call("/v1/projects/\(p)/me", key: reviewer.key).json["permissions"] == .array([.string("view"), .string("review")]))
            // Out of the group, out of the project.
            #expect(try await client.call("/v1/groups/\(g)/members/\(reviewer.id)", .delete, key: service).status == .noContent)
            #expect(try await client.call("/v1/projects/\(p)", key: reviewer.key).status == .forbidden)
        }
    }

    @Test func tagsWithSpacesAreDeletedByTheirEncodedName() async throws {
        let rig = APIRig()
        let (_, service) = try rig.tenant()
        try await rig.run { client in
            #expect(try await client.call("/v1/tags", .post, key: service, body: #"{"name": "night shift"}"#).status == .created)
            #expect(try await client.call("/v1/tags", .post, key: service, body: #"{"name": "night shift"}"#).errorCode == "tag_exists")
            let p = try await client.call("/v1/projects", .post, key: service, body: #"{"title": "P", "tags": ["night shift"], "workflowTemplateId": null}"#)
            #expect(p.status == .created)
            let id = try #require(p.json["id"]?.string)
            #expect(try await client.call("/v1/tags/night%20shift", .delete, key: service).status == .noContent)
            #expect(try await client.call("/v1/tags", key: service).json.items.isEmpty)
            #expect(try await client.call("/v1/projects/\(id)", key: service).json["tags"] == .array([]))
        }
    }
}
