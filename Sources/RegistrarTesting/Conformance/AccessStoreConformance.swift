import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// The access store under test (`AccessStore` on an `APIStore`), with the operator-side calls
/// it needs: tenants, and ontology/dataset rows for projects to reference (their own parts
/// create them; here they are inserted directly).
public struct AccessStoreUnderTest {
    public var store: any APIStore
    public var makeTenant: (_ name: String) throws -> String
    /// Makes an ontology (true) or a dataset (false) of the tenant; returns its id.
    public var makeCatalogObject: (_ ontology: Bool, _ tenantID: String) throws -> String
    /// Stores a key acting as a user; returns its hash.
    public var userKey: (_ tenantID: String, _ userID: String) throws -> String

    public init(store: any APIStore, makeTenant: @escaping (String) throws -> String,
                makeCatalogObject: @escaping (Bool, String) throws -> String, userKey: @escaping (String, String) throws -> String) {
        self.store = store; self.makeTenant = makeTenant; self.makeCatalogObject = makeCatalogObject; self.userKey = userKey
    }
}

/// Every promise of `AccessStore`'s doc comments, against the twin and PostgreSQL.
public enum AccessStoreConformance {
    public static func exercise(_ make: () throws -> AccessStoreUnderTest) throws {
        try usersAreUniqueByEmailAndScoped(make())
        try userKeysActAsTheirUser(make())
        try groupsHoldMembers(make())
        try tagsAreTheWorkspacesList(make())
        try projectsCheckTheirReferences(make())
        try projectsAreVisibleToCollaborators(make())
        try theLastDirectAdminStays(make())
    }

    static func unique(_ prefix: String) -> String { prefix + "-" + String(UInt64.random(in: 0 ... .max), radix: 36) }
    static func id(_ json: String) throws -> String { try #require(JSONCompare.string(json, "id")) }
    static func refusal(_ body: () throws -> Any?) -> AccessRefusal? {
        do { _ = try body(); return nil } catch let r as AccessRefusal { return r } catch { Issue.record("unexpected \(error)"); return nil }
    }
    static func user(_ s: AccessStoreUnderTest, _ tenant: String, _ email: String, role: WorkspaceRole = .member) throws -> String {
        try id(s.store.createUser(tenantID: tenant, email: email, name: nil, role: role))
    }
    static func project(_ s: AccessStoreUnderTest, _ tenant: String, by creator: String?, title: String = "p",
                        tags: [String] = [], ontology: String? = nil, datasets: [String] = []) throws -> String {
        try s.store.createProject(NewProject(tenantID: tenant, title: title, description: nil, tags: tags, ontologyID: ontology,
                                             datasetIDs: datasets, workflow: #"{"graphNodes":[]}"#, createdBy: creator))
    }

    static func usersAreUniqueByEmailAndScoped(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t")), other = try s.makeTenant(unique("u"))
        let json = try s.store.createUser(tenantID: tenant, email: "b@x.io", name: "Bee", role: .admin)
        let b = try id(json)
        try JSONCompare.expect(json, [("id", .string(b)), ("email", .string("b@x.io")), ("name", .string("Bee")), ("role", .string("admin")),
                                      ("createdAt", JSONCompare.anyTime)])
        #expect(refusal { try s.store.createUser(tenantID: tenant, email: "b@x.io", name: nil, role: .member) } == .conflict("a user with email b@x.io exists already"))
        // The same email in another tenant is another user.
        let otherB = try user(s, other, "b@x.io")
        #expect(otherB != b)
        _ = try user(s, tenant, "a@x.io")
        _ = try user(s, tenant, "c@x.io")
        let first = try s.store.users(tenantID: tenant, after: nil, limit: 2)
        #expect(first.items.compactMap { JSONCompare.string($0, "email") } == ["a@x.io", "b@x.io"])
        #expect(first.nextCursor == "b@x.io")
        let rest = try s.store.users(tenantID: tenant, after: first.nextCursor, limit: 2)
        #expect(rest.items.compactMap { JSONCompare.string($0, "email") } == ["c@x.io"] && rest.nextCursor == nil)
        #expect(try s.store.user(tenantID: other, id: b) == nil)
        #expect(try s.store.user(tenantID: tenant, id: "not-a-uuid") == nil)
        #expect(try s.store.userID(tenantID: tenant, email: "b@x.io") == b)
        // Update: clear the name, demote.
        let updated = try #require(try s.store.updateUser(tenantID: tenant, id: b, name: .some(nil), role: .member))
        #expect(JSONValue.parse(Array(updated.utf8))?["name"] == .null && JSONCompare.string(updated, "role") == "member")
        #expect(try s.store.updateUser(tenantID: other, id: b, name: "x", role: nil) == nil)
        #expect(try s.store.deleteUser(tenantID: other, id: b) == false)
        #expect(try s.store.deleteUser(tenantID: tenant, id: b))
        #expect(try s.store.user(tenantID: tenant, id: b) == nil)
    }

    static func userKeysActAsTheirUser(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let u = try user(s, tenant, "member@x.io")
        let hash = try s.userKey(tenant, u)
        let p = try #require(try s.store.principal(keyHash: hash))
        #expect(p.userID == u && p.userEmail == "member@x.io" && p.workspaceRole == .member)
        _ = try s.store.updateUser(tenantID: tenant, id: u, name: nil, role: .admin)
        #expect(try s.store.principal(keyHash: hash)?.workspaceRole == .admin)
        // Deleting the user ends its keys.
        #expect(try s.store.deleteUser(tenantID: tenant, id: u))
        #expect(try s.store.principal(keyHash: hash) == nil)
    }

    static func groupsHoldMembers(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t")), other = try s.makeTenant(unique("u"))
        let created = try s.store.createGroup(tenantID: tenant, name: "labellers", description: "night shift")
        let g = try id(created)
        try JSONCompare.expect(created, [("id", .string(g)), ("name", .string("labellers")), ("description", .string("night shift")),
                                         ("createdAt", JSONCompare.anyTime), ("memberCount", .number("0"))])
        #expect(refusal { try s.store.createGroup(tenantID: tenant, name: "labellers", description: nil) } != nil)
        let a = try user(s, tenant, "a@x.io"), stranger = try user(s, other, "s@x.io")
        let with = try #require(try s.store.addGroupMember(tenantID: tenant, groupID: g, userID: a))
        _ = try s.store.addGroupMember(tenantID: tenant, groupID: g, userID: a) // idempotent
        _ = try s.store.addGroupMember(tenantID: tenant, groupID: g, userID: stranger) // another tenant's user: ignored
        let members = JSONValue.parse(Array(with.utf8))?["members"]
        #expect(members?.compactText.contains("a@x.io") == true)
        let page = try s.store.groups(tenantID: tenant, after: nil, limit: 10)
        #expect(page.items.count == 1 && JSONCompare.number(page.items[0], "memberCount") == 1)
        #expect(try s.store.group(tenantID: other, id: g) == nil)
        #expect(try s.store.addGroupMember(tenantID: other, groupID: g, userID: stranger) == nil)
        _ = try s.store.createGroup(tenantID: tenant, name: "reviewers", description: nil)
        #expect(refusal { try s.store.updateGroup(tenantID: tenant, id: g, name: "reviewers", description: nil) } != nil)
        let renamed = try #require(try s.store.updateGroup(tenantID: tenant, id: g, name: "labelers", description: .some(nil)))
        #expect(JSONCompare.string(renamed, "name") == "labelers" && JSONValue.parse(Array(renamed.utf8))?["description"] == .null)
        #expect(try s.store.removeGroupMember(tenantID: tenant, groupID: g, userID: a) == true)
        #expect(try s.store.removeGroupMember(tenantID: tenant, groupID: g, userID: a) == false)
        #expect(try s.store.removeGroupMember(tenantID: other, groupID: g, userID: a) == nil)
        #expect(try s.store.deleteGroup(tenantID: other, id: g) == false)
        #expect(try s.store.deleteGroup(tenantID: tenant, id: g))
    }

    static func tagsAreTheWorkspacesList(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t")), other = try s.makeTenant(unique("u"))
        try JSONCompare.expect(try s.store.createTag(tenantID: tenant, name: "urgent"), [("name", .string("urgent")), ("createdAt", JSONCompare.anyTime)])
        _ = try s.store.createTag(tenantID: tenant, name: "cars")
        #expect(refusal { try s.store.createTag(tenantID: tenant, name: "cars") } == .conflict("the tag cars exists already"))
        #expect(try s.store.tags(tenantID: tenant).compactMap { JSONCompare.string($0, "name") } == ["cars", "urgent"])
        #expect(try s.store.tags(tenantID: other).isEmpty)
        // A project picks from the list; deleting a tag takes it off the projects.
        #expect(refusal { try project(s, tenant, by: nil, tags: ["cars", "boats"]) } == .unknownTag("boats"))
        #expect(refusal { try project(s, other, by: nil, tags: ["cars"]) } == .unknownTag("cars"))
        let p = try id(project(s, tenant, by: nil, tags: ["urgent", "cars"]))
        #expect(try s.store.deleteTag(tenantID: tenant, name: "urgent"))
        #expect(try s.store.deleteTag(tenantID: tenant, name: "urgent") == false)
        let after = try #require(try s.store.project(tenantID: tenant, id: p))
        #expect(JSONValue.parse(Array(after.utf8))?["tags"] == .array([.string("cars")]))
    }

    static func projectsCheckTheirReferences(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t")), other = try s.makeTenant(unique("u"))
        let creator = try user(s, tenant, "c@x.io")
        let ontology = try s.makeCatalogObject(true, tenant), foreignOntology = try s.makeCatalogObject(true, other)
        let d1 = try s.makeCatalogObject(false, tenant), d2 = try s.makeCatalogObject(false, tenant)
        let foreignDataset = try s.makeCatalogObject(false, other)
        #expect(refusal { try project(s, tenant, by: creator, ontology: foreignOntology) } == .notFound(field: "ontologyId", id: foreignOntology))
        #expect(refusal { try project(s, tenant, by: creator, ontology: "nope") } == .notFound(field: "ontologyId", id: "nope"))
        #expect(refusal { try project(s, tenant, by: creator, datasets: [d1, foreignDataset]) } == .notFound(field: "datasetIds", id: foreignDataset))
        let json = try project(s, tenant, by: creator, title: "Cars", ontology: ontology, datasets: [d2, d1])
        let p = try id(json)
        try JSONCompare.expect(json, [
            ("id", .string(p)), ("title", .string("Cars")), ("description", .null), ("tags", .array([])), ("ontologyId", .string(ontology)),
            ("datasetIds", .array([d1, d2].sorted().map(JSONValue.string))), ("workflow", .object([("graphNodes", .array([]))])),
            ("createdBy", .string(creator)), ("createdAt", JSONCompare.anyTime), ("updatedAt", JSONCompare.anyTime),
            ("memberCount", .number("1")), ("groupCount", .number("0")),
        ])
        // The creator is its ADMIN.
        #expect(try s.store.projectRoles(tenantID: tenant, projectID: p, userID: creator) == [.admin])
        #expect(try s.store.projectRoles(tenantID: other, projectID: p, userID: creator) == nil)
        // Update: switch ontology off, retitle; refusals as create.
        #expect(refusal { try s.store.updateProject(tenantID: tenant, id: p, change: ProjectChange(ontologyID: .some(foreignOntology))) }
                == .notFound(field: "ontologyId", id: foreignOntology))
        let changed = try #require(try s.store.updateProject(tenantID: tenant, id: p, change: ProjectChange(title: "Cars 2", ontologyID: .some(nil))))
        #expect(JSONCompare.string(changed, "title") == "Cars 2" && JSONValue.parse(Array(changed.utf8))?["ontologyId"] == .null)
        #expect(try s.store.updateProject(tenantID: other, id: p, change: ProjectChange(title: "x")) == nil)
        // Datasets: detach, reattach (idempotent), refuse another tenant's.
        #expect(try s.store.detachDataset(tenantID: tenant, projectID: p, datasetID: d1) == true)
        #expect(try s.store.detachDataset(tenantID: tenant, projectID: p, datasetID: d1) == false)
        #expect(try s.store.detachDataset(tenantID: other, projectID: p, datasetID: d2) == nil)
        #expect(refusal { try s.store.attachDatasets(tenantID: tenant, projectID: p, datasetIDs: [foreignDataset]) } == .notFound(field: "datasetIds", id: foreignDataset))
        let attached = try #require(try s.store.attachDatasets(tenantID: tenant, projectID: p, datasetIDs: [d1, d2]))
        #expect(JSONValue.parse(Array(attached.utf8))?["datasetIds"] == .array([d1, d2].sorted().map(JSONValue.string)))
        #expect(try s.store.attachDatasets(tenantID: other, projectID: p, datasetIDs: [foreignDataset]) == nil)
        #expect(try s.store.deleteProject(tenantID: other, id: p) == false)
        #expect(try s.store.deleteProject(tenantID: tenant, id: p))
        #expect(try s.store.project(tenantID: tenant, id: p) == nil)
    }

    static func projectsAreVisibleToCollaborators(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let owner = try user(s, tenant, "owner@x.io"), direct = try user(s, tenant, "direct@x.io")
        let viaGroup = try user(s, tenant, "group@x.io"), outsider = try user(s, tenant, "out@x.io")
        let g = try id(s.store.createGroup(tenantID: tenant, name: "g", description: nil))
        _ = try s.store.addGroupMember(tenantID: tenant, groupID: g, userID: viaGroup)
        let pa = try id(project(s, tenant, by: owner, title: "A"))
        let pb = try id(project(s, tenant, by: owner, title: "B"))
        let pc = try id(project(s, tenant, by: nil, title: "B"))
        let m = try s.store.addMember(projectID: pa, subject: .user(direct), role: .annotator)
        try JSONCompare.expect(m, [("id", .string(try id(m))), ("role", .string("ANNOTATOR")), ("userId", .string(direct)), ("email", .string("direct@x.io")),
                                   ("groupId", .null), ("groupName", .null), ("addedAt", JSONCompare.anyTime)])
        #expect(refusal { try s.store.addMember(projectID: pa, subject: .user(direct), role: .reviewer) } != nil)
        _ = try s.store.addMember(projectID: pb, subject: .group(g), role: .reviewer)
        _ = try s.store.addMember(projectID: pb, subject: .user(viaGroup), role: .viewer)
        func titles(_ user: String?) throws -> [String] {
            var out: [String] = [], after: [String]?
            repeat {
                let page = try s.store.projects(tenantID: tenant, visibleTo: user, after: after, limit: 1)
                out += page.items.compactMap { JSONCompare.string($0, "id") }
                after = page.nextCursor?.components(separatedBy: "\u{0}")
            } while after != nil
            return out
        }
        #expect(try titles(nil) == [pa] + [pb, pc].sorted())
        #expect(try titles(owner) == [pa, pb])
        #expect(try titles(direct) == [pa])
        #expect(try titles(viaGroup) == [pb])
        #expect(try titles(outsider) == [])
        #expect(try s.store.projectRoles(tenantID: tenant, projectID: pb, userID: viaGroup)?.sorted() == [.reviewer, .viewer])
        #expect(try s.store.projectRoles(tenantID: tenant, projectID: pb, userID: outsider) == [])
        #expect(try s.store.projectRoles(tenantID: tenant, projectID: pb, userID: nil) == [])
        let listed = try s.store.members(projectID: pb)
        #expect(listed.compactMap { JSONCompare.string($0, "role") } == ["VIEWER", "ADMIN", "REVIEWER"]) // group@ < owner@, then groups
        #expect(JSONCompare.string(listed[2], "groupName") == "g")
        let pbJSON = try #require(try s.store.project(tenantID: tenant, id: pb))
        #expect(JSONCompare.number(pbJSON, "memberCount") == 2 && JSONCompare.number(pbJSON, "groupCount") == 1)
        // Deleting the group ends what it granted.
        #expect(try s.store.deleteGroup(tenantID: tenant, id: g))
        #expect(try s.store.projectRoles(tenantID: tenant, projectID: pb, userID: viaGroup) == [.viewer])
    }

    static func theLastDirectAdminStays(_ s: AccessStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let owner = try user(s, tenant, "owner@x.io"), second = try user(s, tenant, "second@x.io")
        let g = try id(s.store.createGroup(tenantID: tenant, name: "admins", description: nil))
        let p = try id(project(s, tenant, by: owner, title: "P"))
        let ownerMember = try #require(try s.store.members(projectID: p).first.flatMap { JSONCompare.string($0, "id") })
        #expect(try s.store.member(projectID: p, memberID: ownerMember) == ProjectMember(id: ownerMember, role: .admin, subject: .user(owner)))
        // A group ADMIN does not count: the owner is still the last direct ADMIN.
        let groupMember = try id(s.store.addMember(projectID: p, subject: .group(g), role: .admin))
        let last = AccessRefusal.lastAdmin("this is the last ADMIN of project P; make someone else ADMIN first")
        #expect(refusal { try s.store.setMemberRole(projectID: p, memberID: ownerMember, role: .teamManager) } == last)
        #expect(refusal { try s.store.removeMember(projectID: p, memberID: ownerMember) } == last)
        if case .lastAdmin(let why)? = refusal({ try s.store.deleteUser(tenantID: tenant, id: owner) }) {
            #expect(why.contains("owner@x.io") && why.contains("P"))
        } else { Issue.record("deleting the last ADMIN's user was not refused") }
        // The group ADMIN can go; with a second direct ADMIN, the owner can step down.
        #expect(try s.store.removeMember(projectID: p, memberID: groupMember))
        let secondMember = try id(s.store.addMember(projectID: p, subject: .user(second), role: .admin))
        let demoted = try #require(try s.store.setMemberRole(projectID: p, memberID: ownerMember, role: .teamManager))
        #expect(JSONCompare.string(demoted, "role") == "TEAM_MANAGER")
        #expect(refusal { try s.store.removeMember(projectID: p, memberID: secondMember) } == last)
        #expect(try s.store.removeMember(projectID: p, memberID: ownerMember))
        #expect(try s.store.removeMember(projectID: p, memberID: ownerMember) == false)
        #expect(try s.store.setMemberRole(projectID: p, memberID: ownerMember, role: .viewer) == nil)
        #expect(try s.store.member(projectID: "nope", memberID: secondMember) == nil)
    }
}
