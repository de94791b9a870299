import Foundation
import RegistrarCore
import Testing

/// The role matrix against the real `registrar api` process and PostgreSQL: every user, group,
/// tag, project, dataset and ontology route × every caller, the status each cell expects derived from
/// `ProjectRole.allows` (through `ProjectAccess`) and the workspace rules — never typed in by
/// hand. Users and their keys are made with the real CLI (`users add`, `keys create --user`).
extension LiveServers {
@Suite(.serialized) struct AccessMatrixLiveTests {
    /// Who a route needs.
    enum Rule: Sendable {
        /// Any user of the workspace.
        case anyUser
        /// A workspace admin (or a service key).
        case workspaceAdmin
        /// A project permission, checked against the caller's effective roles.
        case project(ProjectPermission)
        /// Anyone in the project's workspace, collaborator or not (`/me`).
        case projectWorkspace
        /// The object's creator or a workspace admin (datasets and ontologies: the fixture's
        /// are made by `Self.owner`, a plain member).
        case creatorOrAdmin
    }

    /// The member whose key creates the fixture's own dataset and ontology.
    static let owner = "annotator@x.io"

    /// What a key of another tenant gets: 404 on tenant 1's objects; on a create or list route
    /// it acts on its own workspace (its keys are workspace admins), so the route's success.
    enum Foreign: Sendable { case notFound, ownWorkspace }

    /// One route of the matrix. `fresh`: the route changes or deletes its target, so every cell
    /// gets a fixture of its own.
    struct Route: Sendable {
        var name: String
        var method: String
        var path: @Sendable (Fixture) -> String
        var body: (@Sendable (Fixture) -> String)? = nil
        var rule: Rule
        var success: Int
        var fresh = false
        var foreign = Foreign.notFound
    }

    /// What a cell acts on.
    struct Fixture: Sendable {
        var project: String
        var dataset: String
        var spareDataset: String
        var annotatorMember: String
        var secondAdminMember: String
        var user: String
        var group: String
        var tag: String
        var n: Int
        /// A dataset and an ontology created by `owner`, unused by any project; an empty folder.
        var ownedDataset = ""
        var ownedOntology = ""
        var folder = ""
    }

    static let routes: [Route] = [
        // Users
        Route(name: "POST /users", method: "POST", path: { _ in "/v1/users" }, body: { #"{"email": "new\#($0.n)@x.io"}"# },
              rule: .workspaceAdmin, success: 201, fresh: true, foreign: .ownWorkspace),
        Route(name: "GET /users", method: "GET", path: { _ in "/v1/users" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "GET /users/{id}", method: "GET", path: { "/v1/users/\($0.user)" }, rule: .anyUser, success: 200),
        Route(name: "PATCH /users/{id}", method: "PATCH", path: { "/v1/users/\($0.user)" }, body: { _ in #"{"name": "Renamed"}"# },
              rule: .workspaceAdmin, success: 200, fresh: true),
        Route(name: "DELETE /users/{id}", method: "DELETE", path: { "/v1/users/\($0.user)" }, rule: .workspaceAdmin, success: 204, fresh: true),
        // Groups
        Route(name: "POST /groups", method: "POST", path: { _ in "/v1/groups" }, body: { #"{"name": "new group \#($0.n)"}"# },
              rule: .workspaceAdmin, success: 201, fresh: true, foreign: .ownWorkspace),
        Route(name: "GET /groups", method: "GET", path: { _ in "/v1/groups" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "GET /groups/{id}", method: "GET", path: { "/v1/groups/\($0.group)" }, rule: .anyUser, success: 200),
        Route(name: "PATCH /groups/{id}", method: "PATCH", path: { "/v1/groups/\($0.group)" }, body: { #"{"name": "renamed \#($0.n)"}"# },
              rule: .workspaceAdmin, success: 200, fresh: true),
        Route(name: "DELETE /groups/{id}", method: "DELETE", path: { "/v1/groups/\($0.group)" }, rule: .workspaceAdmin, success: 204, fresh: true),
        Route(name: "POST /groups/{id}/members", method: "POST", path: { "/v1/groups/\($0.group)/members" },
              body: { _ in #"{"email": "viewer@x.io"}"# }, rule: .workspaceAdmin, success: 200, fresh: true),
        Route(name: "DELETE /groups/{id}/members/{userId}", method: "DELETE", path: { "/v1/groups/\($0.group)/members/\($0.user)" },
              rule: .workspaceAdmin, success: 204, fresh: true),
        // Tags
        Route(name: "POST /tags", method: "POST", path: { _ in "/v1/tags" }, body: { #"{"name": "tag \#($0.n)"}"# },
              rule: .workspaceAdmin, success: 201, fresh: true, foreign: .ownWorkspace),
        Route(name: "GET /tags", method: "GET", path: { _ in "/v1/tags" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "DELETE /tags/{name}", method: "DELETE", path: { "/v1/tags/\($0.tag)" }, rule: .workspaceAdmin, success: 204, fresh: true),
        // Projects
        Route(name: "POST /projects", method: "POST", path: { _ in "/v1/projects" }, body: { _ in #"{"title": "made by the cell"}"# },
              rule: .anyUser, success: 201, foreign: .ownWorkspace),
        Route(name: "GET /projects", method: "GET", path: { _ in "/v1/projects" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "GET /projects/{id}", method: "GET", path: { "/v1/projects/\($0.project)" }, rule: .project(.view), success: 200),
        Route(name: "GET /projects/{id}/me", method: "GET", path: { "/v1/projects/\($0.project)/me" }, rule: .projectWorkspace, success: 200),
        Route(name: "PATCH /projects/{id} title", method: "PATCH", path: { "/v1/projects/\($0.project)" }, body: { _ in #"{"title": "Renamed"}"# },
              rule: .project(.administer), success: 200, fresh: true),
        Route(name: "PATCH /projects/{id} tags", method: "PATCH", path: { "/v1/projects/\($0.project)" }, body: { #"{"tags": ["\#($0.tag)"]}"# },
              rule: .project(.administer), success: 200, fresh: true),
        Route(name: "DELETE /projects/{id}", method: "DELETE", path: { "/v1/projects/\($0.project)" }, rule: .project(.administer), success: 204, fresh: true),
        Route(name: "POST /projects/{id}/datasets", method: "POST", path: { "/v1/projects/\($0.project)/datasets" },
              body: { #"{"datasetIds": ["\#($0.spareDataset)"]}"# }, rule: .project(.administer), success: 200, fresh: true),
        Route(name: "DELETE /projects/{id}/datasets/{datasetId}", method: "DELETE", path: { "/v1/projects/\($0.project)/datasets/\($0.dataset)" },
              rule: .project(.administer), success: 204, fresh: true),
        // Collaborators: ADMIN roles need administer, others manageMembers.
        Route(name: "GET /projects/{id}/members", method: "GET", path: { "/v1/projects/\($0.project)/members" }, rule: .project(.view), success: 200),
        Route(name: "POST members ANNOTATOR", method: "POST", path: { "/v1/projects/\($0.project)/members" },
              body: { _ in #"{"email": "spare@x.io", "role": "ANNOTATOR"}"# }, rule: .project(.manageMembers), success: 201, fresh: true),
        Route(name: "POST members group VIEWER", method: "POST", path: { "/v1/projects/\($0.project)/members" },
              body: { #"{"groupId": "\#($0.group)", "role": "VIEWER"}"# }, rule: .project(.manageMembers), success: 201, fresh: true),
        Route(name: "POST members ADMIN", method: "POST", path: { "/v1/projects/\($0.project)/members" },
              body: { _ in #"{"email": "spare@x.io", "role": "ADMIN"}"# }, rule: .project(.administer), success: 201, fresh: true),
        Route(name: "PATCH member ANNOTATOR→REVIEWER", method: "PATCH", path: { "/v1/projects/\($0.project)/members/\($0.annotatorMember)" },
              body: { _ in #"{"role": "REVIEWER"}"# }, rule: .project(.manageMembers), success: 200, fresh: true),
        Route(name: "PATCH member ANNOTATOR→ADMIN", method: "PATCH", path: { "/v1/projects/\($0.project)/members/\($0.annotatorMember)" },
              body: { _ in #"{"role": "ADMIN"}"# }, rule: .project(.administer), success: 200, fresh: true),
        Route(name: "PATCH member ADMIN→VIEWER", method: "PATCH", path: { "/v1/projects/\($0.project)/members/\($0.secondAdminMember)" },
              body: { _ in #"{"role": "VIEWER"}"# }, rule: .project(.administer), success: 200, fresh: true),
        Route(name: "DELETE member ANNOTATOR", method: "DELETE", path: { "/v1/projects/\($0.project)/members/\($0.annotatorMember)" },
              rule: .project(.manageMembers), success: 204, fresh: true),
        Route(name: "DELETE member ADMIN", method: "DELETE", path: { "/v1/projects/\($0.project)/members/\($0.secondAdminMember)" },
              rule: .project(.administer), success: 204, fresh: true),
        // Datasets: any user creates and reads; the creator or a workspace admin changes.
        Route(name: "POST /datasets", method: "POST", path: { _ in "/v1/datasets" }, body: { #"{"title": "d\#($0.n)"}"# },
              rule: .anyUser, success: 201, foreign: .ownWorkspace),
        Route(name: "GET /datasets", method: "GET", path: { _ in "/v1/datasets" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "GET /datasets/{id}", method: "GET", path: { "/v1/datasets/\($0.ownedDataset)" }, rule: .anyUser, success: 200),
        Route(name: "GET /datasets/{id}/files", method: "GET", path: { "/v1/datasets/\($0.ownedDataset)/files" }, rule: .anyUser, success: 200),
        Route(name: "PATCH /datasets/{id}", method: "PATCH", path: { "/v1/datasets/\($0.ownedDataset)" }, body: { _ in #"{"title": "Renamed"}"# },
              rule: .creatorOrAdmin, success: 200, fresh: true),
        Route(name: "POST /datasets/{id}/attach", method: "POST", path: { "/v1/datasets/\($0.ownedDataset)/attach" },
              body: { #"{"folderIds": ["\#($0.folder)"]}"# }, rule: .creatorOrAdmin, success: 202, fresh: true),
        Route(name: "POST /datasets/{id}/detach", method: "POST", path: { "/v1/datasets/\($0.ownedDataset)/detach" },
              body: { #"{"folderIds": ["\#($0.folder)"]}"# }, rule: .creatorOrAdmin, success: 200, fresh: true),
        Route(name: "DELETE /datasets/{id}", method: "DELETE", path: { "/v1/datasets/\($0.ownedDataset)" }, rule: .creatorOrAdmin, success: 204, fresh: true),
        // Ontologies: the same rules.
        Route(name: "POST /ontologies", method: "POST", path: { _ in "/v1/ontologies" },
              body: { #"{"title": "o\#($0.n)", "structure": {"objects": [], "classifications": []}}"# }, rule: .anyUser, success: 201, foreign: .ownWorkspace),
        Route(name: "GET /ontologies", method: "GET", path: { _ in "/v1/ontologies" }, rule: .anyUser, success: 200, foreign: .ownWorkspace),
        Route(name: "GET /ontologies/{id}", method: "GET", path: { "/v1/ontologies/\($0.ownedOntology)" }, rule: .anyUser, success: 200),
        Route(name: "PUT /ontologies/{id}", method: "PUT", path: { "/v1/ontologies/\($0.ownedOntology)" }, body: { _ in #"{"title": "Renamed"}"# },
              rule: .creatorOrAdmin, success: 200, fresh: true),
        Route(name: "DELETE /ontologies/{id}", method: "DELETE", path: { "/v1/ontologies/\($0.ownedOntology)" }, rule: .creatorOrAdmin, success: 204, fresh: true),
    ]

    /// A caller: its key, its workspace role and its roles on the fixture projects (direct and
    /// through its groups); `foreign`: a key of another tenant.
    struct Caller {
        var name: String
        var key: String
        var workspaceRole: WorkspaceRole
        var roles: [ProjectRole]
        var foreign = false
    }

    static func expected(_ route: Route, _ caller: Caller) -> Int {
        if caller.foreign { return route.foreign == .notFound ? 404 : route.success }
        let access = ProjectAccess(workspaceRole: caller.workspaceRole, memberRoles: caller.roles)
        switch route.rule {
        case .anyUser, .projectWorkspace: return route.success
        case .workspaceAdmin: return caller.workspaceRole == .admin ? route.success : 403
        case .project(let permission): return access.allows(permission) ? route.success : 403
        case .creatorOrAdmin: return caller.workspaceRole == .admin || caller.name == owner ? route.success : 403
        }
    }

    /// The live world: the API process, tenant 1's users and keys, the other tenants' keys.
    final class World {
        let h: PipelineHarness
        let api: APIHarness
        let service: String
        var keys: [String: String] = [:]
        var users: [String: String] = [:]
        var tenant1 = ""
        var dataset = "", spareDataset = ""
        var group = ""
        var n = 0

        init() throws {
            h = try PipelineHarness()
            // No rate limit: the matrix sends hundreds of requests per key as fast as it can.
            api = try APIHarness(h, extraArgs: ["--rate-limit", "0"])
            service = try api.tenantKey("t1")
            tenant1 = try #require(try h.db.query("SELECT id FROM tenants WHERE name = 't1'")[row: 0, column: 0])
        }

        /// `registrar users add` then `keys create --user`, both real processes.
        func user(_ email: String, role: String = "member", tenant: String = "t1") throws -> String {
            let add = try h.run(["users", "add", "--tenant", tenant, "--email", email, "--role", role, "--json"])
            guard add.status == 0 else { throw HarnessError("users add: \(add.stderr)") }
            users[email] = try add.json().string("id")
            let key = try h.run(["keys", "create", "--user", email, "--tenant", tenant])
            guard key.status == 0 else { throw HarnessError("keys create --user: \(key.stderr)") }
            keys[email] = key.lastLine
            return key.lastLine
        }

        func send(_ method: String, _ path: String, key: String, body: String? = nil) throws -> HTTP.Reply {
            try api.call(method, path, key: key, body: body.map { Data($0.utf8) }, headers: body == nil ? [:] : ["Content-Type": "application/json"])
        }

        func object(_ method: String, _ path: String, key: String, body: String? = nil, expect: Int) throws -> [String: Any] {
            try api.json(method, path, key: key, body: body.map { Data($0.utf8) }, headers: ["Content-Type": "application/json"], expect: expect)
        }

        /// A project made by the ADMIN user, with every role of the matrix as a collaborator,
        /// a dataset, and fresh targets for the user, group and tag routes.
        func fixture() throws -> Fixture {
            n += 1
            let project = try object("POST", "/v1/projects", key: keys["admin@x.io"]!, body: #"{"title": "P\#(n)", "datasetIds": ["\#(dataset)"]}"#, expect: 201).string("id")
            var ids: [String: String] = [:]
            for (email, role) in [("tm@x.io", "TEAM_MANAGER"), ("reviewer@x.io", "REVIEWER"), ("annotator@x.io", "ANNOTATOR"),
                                  ("ar@x.io", "ANNOTATOR_REVIEWER"), ("viewer@x.io", "VIEWER"), ("target@x.io", "ANNOTATOR"), ("admin2@x.io", "ADMIN")] {
                ids[email] = try object("POST", "/v1/projects/\(project)/members", key: service, body: #"{"email": "\#(email)", "role": "\#(role)"}"#,
                                        expect: 201).string("id")
            }
            _ = try object("POST", "/v1/projects/\(project)/members", key: service, body: #"{"groupId": "\#(group)", "role": "REVIEWER"}"#, expect: 201)
            let user = try object("POST", "/v1/users", key: service, body: #"{"email": "target\#(n)@x.io"}"#, expect: 201).string("id")
            let group = try object("POST", "/v1/groups", key: service, body: #"{"name": "target group \#(n)"}"#, expect: 201).string("id")
            _ = try object("POST", "/v1/groups/\(group)/members", key: service, body: #"{"email": "target\#(n)@x.io"}"#, expect: 200)
            let tag = "tag-\(n)"
            _ = try object("POST", "/v1/tags", key: service, body: #"{"name": "\#(tag)"}"#, expect: 201)
            // Made by a plain member through the API: its creator may change them, other members may not.
            let ownerKey = keys[AccessMatrixLiveTests.owner]!
            let ownedDataset = try object("POST", "/v1/datasets", key: ownerKey, body: #"{"title": "owned \#(n)"}"#, expect: 201).string("id")
            let ownedOntology = try object("POST", "/v1/ontologies", key: ownerKey,
                                           body: #"{"title": "owned \#(n)", "structure": {"objects": [{"name": "Car", "shape": "bounding_box"}], "classifications": []}}"#,
                                           expect: 201).string("id")
            let folder = try object("POST", "/v1/folders", key: service, body: #"{"name": "matrix \#(n)"}"#, expect: 201).string("id")
            return Fixture(project: project, dataset: dataset, spareDataset: spareDataset, annotatorMember: ids["target@x.io"]!,
                           secondAdminMember: ids["admin2@x.io"]!, user: user, group: group, tag: tag, n: n,
                           ownedDataset: ownedDataset, ownedOntology: ownedOntology, folder: folder)
        }
    }

    @Test func everyRouteTimesEveryCallerGetsWhatTheRolesAllow() throws {
        let w = try World()
        // Tenant 1: a workspace admin, one user per project role, a group member, an outsider.
        let callers0: [(String, String, WorkspaceRole, [ProjectRole])] = [
            ("wsadmin@x.io", "admin", .admin, []), ("admin@x.io", "member", .member, [.admin]),
            ("tm@x.io", "member", .member, [.teamManager]), ("reviewer@x.io", "member", .member, [.reviewer]),
            ("annotator@x.io", "member", .member, [.annotator]), ("ar@x.io", "member", .member, [.annotatorReviewer]),
            ("viewer@x.io", "member", .member, [.viewer]), ("grouped@x.io", "member", .member, [.reviewer]),
            ("outsider@x.io", "member", .member, []),
        ]
        var callers: [Caller] = [Caller(name: "service key", key: w.service, workspaceRole: .admin, roles: [])]
        for (email, role, workspaceRole, roles) in callers0 {
            callers.append(Caller(name: email, key: try w.user(email, role: role), workspaceRole: workspaceRole, roles: roles))
        }
        for email in ["target@x.io", "admin2@x.io", "spare@x.io"] { _ = try w.user(email) }
        // Tenants 2 and 3: a service key, and a workspace admin's user key.
        callers.append(Caller(name: "tenant 2 service key", key: try w.api.tenantKey("t2"), workspaceRole: .admin, roles: [], foreign: true))
        _ = try w.api.tenantKey("t3")
        callers.append(Caller(name: "tenant 3 admin user", key: try w.user("boss@x.io", role: "admin", tenant: "t3"), workspaceRole: .admin,
                              roles: [], foreign: true))
        w.dataset = try w.object("POST", "/v1/datasets", key: w.service, body: #"{"title": "d"}"#, expect: 201).string("id")
        w.spareDataset = try w.object("POST", "/v1/datasets", key: w.service, body: #"{"title": "e"}"#, expect: 201).string("id")
        w.group = try w.object("POST", "/v1/groups", key: w.service, body: #"{"name": "reviewers"}"#, expect: 201).string("id")
        _ = try w.object("POST", "/v1/groups/\(w.group)/members", key: w.service, body: #"{"email": "grouped@x.io"}"#, expect: 200)

        var shared = try w.fixture()
        var mismatches: [String] = []
        var cells = 0
        for route in Self.routes {
            for caller in callers {
                let fixture = route.fresh ? try w.fixture() : shared
                let reply = try w.send(route.method, route.path(fixture), key: caller.key, body: route.body?(fixture))
                let want = Self.expected(route, caller)
                cells += 1
                if reply.status != want {
                    mismatches.append("\(route.name) × \(caller.name): HTTP \(reply.status), expected \(want): \(reply.text.prefix(200))")
                }
                // A 403 names the roles that would do; a 404 never says more than "not found".
                if reply.status == 403 {
                    let error = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["error"] as? [String: Any]
                    let required = (error?["details"] as? [String: Any])?["required"] as? String ?? ""
                    if case .project(let permission) = route.rule, !required.contains(ProjectRole.names(ProjectRole.granting(permission))) {
                        mismatches.append("\(route.name) × \(caller.name): 403 does not name \(ProjectRole.names(ProjectRole.granting(permission))): \(reply.text)")
                    }
                }
            }
            if route.method == "POST" && route.name == "POST /projects" { shared = try w.fixture() }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cells) cells differ:\n\(mismatches.joined(separator: "\n"))")
        #expect(cells == Self.routes.count * callers.count)

        // Lists: collaborators (directly or through a group) and workspace admins see the
        // project; the outsider and the other tenants do not; no tenant 1 user leaks out.
        let tenant1Users = Set(try w.h.db.query("SELECT id FROM users WHERE tenant_id = $1", [w.tenant1]).map { $0[0] ?? "" })
        #expect(tenant1Users.count > 10)
        for caller in callers {
            let listed = try w.object("GET", "/v1/projects?limit=1000", key: caller.key, expect: 200)
            let ids = ((listed["items"] as? [[String: Any]]) ?? []).map { $0.string("id") }
            let sees = !caller.foreign && (caller.workspaceRole == .admin || !caller.roles.isEmpty)
            #expect(ids.contains(shared.project) == sees, "GET /projects × \(caller.name)")
            if caller.foreign {
                let users = try w.object("GET", "/v1/users?limit=1000", key: caller.key, expect: 200)
                let seen = Set(((users["items"] as? [[String: Any]]) ?? []).map { $0.string("id") })
                #expect(seen.isDisjoint(with: tenant1Users), "GET /users × \(caller.name) shows tenant 1's users")
            }
        }
    }

    @Test func lastAdminGroupRolesAndTagsLive() throws {
        let w = try World()
        let owner = try w.user("owner@x.io")
        let grouped = try w.user("grouped@x.io")
        _ = try w.object("POST", "/v1/tags", key: w.service, body: #"{"name": "cars"}"#, expect: 201)
        // Tags come from the workspace's list.
        let unknown = try w.send("POST", "/v1/projects", key: owner, body: #"{"title": "P", "tags": ["cars", "boats"]}"#)
        #expect(unknown.status == 422 && unknown.text.contains("unknown_tag") && unknown.text.contains("boats"))
        let p = try w.object("POST", "/v1/projects", key: owner, body: #"{"title": "P", "tags": ["cars"]}"#, expect: 201).string("id")
        #expect(try w.send("PATCH", "/v1/projects/\(p)", key: owner, body: #"{"tags": ["planes"]}"#).status == 422)
        // The creator is the last direct ADMIN: not demoted, not removed, not deleted.
        let members = try w.object("GET", "/v1/projects/\(p)/members", key: owner, expect: 200)
        let ownerMember = try #require((members["items"] as? [[String: Any]])?.first?.string("id"))
        let demote = try w.send("PATCH", "/v1/projects/\(p)/members/\(ownerMember)", key: w.service, body: #"{"role": "VIEWER"}"#)
        #expect(demote.status == 409 && demote.text.contains("last_admin"))
        #expect(try w.send("DELETE", "/v1/projects/\(p)/members/\(ownerMember)", key: owner).status == 409)
        #expect(try w.send("DELETE", "/v1/users/\(w.users["owner@x.io"]!)", key: w.service).status == 409)
        // A group's ADMIN role grants administer to its members, but does not count as the
        // project's last direct ADMIN.
        let g = try w.object("POST", "/v1/groups", key: w.service, body: #"{"name": "admins"}"#, expect: 201).string("id")
        _ = try w.object("POST", "/v1/groups/\(g)/members", key: w.service, body: #"{"email": "grouped@x.io"}"#, expect: 200)
        #expect(try w.send("PATCH", "/v1/projects/\(p)", key: grouped, body: #"{"title": "Q"}"#).status == 403)
        _ = try w.object("POST", "/v1/projects/\(p)/members", key: owner, body: #"{"groupId": "\#(g)", "role": "ADMIN"}"#, expect: 201)
        #expect(try w.send("PATCH", "/v1/projects/\(p)", key: grouped, body: #"{"title": "Q"}"#).status == 200)
        #expect(try w.send("DELETE", "/v1/projects/\(p)/members/\(ownerMember)", key: grouped).status == 409)
        // The CLI lists users and keys with their user.
        let listed = try w.h.run(["users", "list", "--tenant", "t1"])
        #expect(listed.status == 0 && listed.stdout.contains("owner@x.io\tmember"))
        let keys = try w.h.run(["keys", "list", "--tenant", "t1"])
        #expect(keys.stdout.contains("owner@x.io") && keys.stdout.contains("service"))
        // The projects CLI speaks the API with the user's key.
        let env = ["REGISTRAR_API_URL": w.api.base, "REGISTRAR_API_KEY": owner]
        let got = try w.h.run(["projects", "get", p, "--json"], extraEnv: env)
        #expect(got.status == 0 && (try? got.json().string("title")) == "Q")
        let add = try w.h.run(["projects", "members", "add", p, "--email", "grouped@x.io", "--role", "VIEWER", "--json"], extraEnv: env)
        #expect(add.status == 0 && (try? add.json().string("role")) == "VIEWER")
        let viewer = try w.user("viewer@x.io")
        _ = try w.object("POST", "/v1/projects/\(p)/members", key: owner, body: #"{"email": "viewer@x.io", "role": "VIEWER"}"#, expect: 201)
        let refused = try w.h.run(["projects", "delete", p], extraEnv: ["REGISTRAR_API_URL": w.api.base, "REGISTRAR_API_KEY": viewer])
        #expect(refused.status != 0 && refused.stderr.contains("forbidden"))
        // users add through the API with a workspace admin's service key; a member's key is refused.
        let serviceEnv = ["REGISTRAR_API_URL": w.api.base, "REGISTRAR_API_KEY": w.service]
        let viaAPI = try w.h.run(["users", "add", "--email", "Via.API@x.io", "--json"], extraEnv: serviceEnv)
        #expect(viaAPI.status == 0 && (try? viaAPI.json().string("email")) == "via.api@x.io")
        let memberAdd = try w.h.run(["users", "add", "--email", "nope@x.io"], extraEnv: env)
        #expect(memberAdd.status != 0 && memberAdd.stderr.contains("workspace role admin"))
        let group = try w.h.run(["groups", "create", "night shift", "--json"], extraEnv: serviceEnv)
        #expect(group.status == 0 && (try? group.json().string("name")) == "night shift")
        let unset = try w.h.run(["groups", "list"])
        #expect(unset.status != 0 && unset.stderr.contains("REGISTRAR_API_URL"))
    }
}
}
