import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's users, groups, tags, projects and collaborators (`AccessStore`), guarded by the
/// registry's lock.
final class MemoryAccessState {
    struct User { var tenantID: String; var email: String; var name: String?; var role: WorkspaceRole; var createdAt: String }
    struct Group { var tenantID: String; var name: String; var description: String?; var createdAt: String; var members: [String: String] }
    struct Project {
        var tenantID: String; var title: String; var description: String?; var tags: [String]; var ontologyID: String?
        var datasetIDs: Set<String>; var workflow: String; var createdBy: String?; var createdAt: String; var updatedAt: String
    }
    struct Member { var projectID: String; var subject: MemberSubject; var role: ProjectRole; var addedAt: String }

    var users: [String: User] = [:]
    var groups: [String: Group] = [:]
    /// tenant → tag → createdAt.
    var tags: [String: [String: String]] = [:]
    var projects: [String: Project] = [:]
    var members: [String: Member] = [:]
    /// API key id → the user it acts as.
    var keyUsers: [String: String] = [:]
    /// Ontologies and datasets the projects may reference: id → tenant (`noteCatalogObject`).
    var ontologies: [String: String] = [:]
    var datasets: [String: String] = [:]
}

extension MemoryRegistry: AccessStore {
    static func newID() -> String { UUID().uuidString.lowercased() }
    static func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    static func num(_ n: Int) -> JSONValue { .number(String(n)) }

    // MARK: Seams for tests and the other catalog parts

    /// Makes an ontology or a dataset id known to projects without creating one (tests that
    /// need only the id; ontologies and datasets made through their stores are known anyway).
    public func noteCatalogObject(ontology: Bool, id: String, tenantID: String) {
        locked { if ontology { access.ontologies[id.lowercased()] = tenantID } else { access.datasets[id.lowercased()] = tenantID } }
    }

    /// Stores a key's hash acting as a user of the tenant; returns the key's id.
    public func storeAPIKey(tenantID: String, hash: String, userID: String) -> String {
        locked {
            let id = storeAPIKey(tenantID: tenantID, hash: hash)
            access.keyUsers[id] = userID
            return id
        }
    }

    /// The principal's user fields for a key (nil user: a service key, admin).
    func keyUser(_ keyID: String) -> (id: String, email: String, role: WorkspaceRole)? {
        locked {
            guard let userID = access.keyUsers[keyID], let user = access.users[userID] else { return nil }
            return (userID, user.email, user.role)
        }
    }

    // MARK: Users

    func userJSON(_ id: String, _ u: MemoryAccessState.User) -> String {
        JSONValue.object([("id", .string(id)), ("email", .string(u.email)), ("name", Self.str(u.name)), ("role", .string(u.role.rawValue)),
                          ("createdAt", .string(u.createdAt))]).compactText
    }

    public func createUser(tenantID: String, email: String, name: String?, role: WorkspaceRole) throws -> String {
        try locked {
            guard !access.users.values.contains(where: { $0.tenantID == tenantID && $0.email == email }) else {
                throw AccessRefusal.conflict("a user with email \(email) exists already")
            }
            let id = Self.newID()
            access.users[id] = .init(tenantID: tenantID, email: email, name: name, role: role, createdAt: MemoryJobStore.now())
            return userJSON(id, access.users[id]!)
        }
    }

    public func users(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        locked {
            let rows = access.users.filter { $0.value.tenantID == tenantID && (after == nil || $0.value.email > after!) }
                .sorted { $0.value.email < $1.value.email }
            return Self.page(rows.map { ([$0.value.email], userJSON($0.key, $0.value)) }, limit: limit)
        }
    }

    static func page(_ rows: [([String], String)], limit: Int) -> JSONPage {
        let shown = rows.prefix(limit)
        return JSONPage(items: shown.map(\.1), nextCursor: rows.count > limit ? shown.last?.0.joined(separator: "\u{0}") : nil)
    }

    public func user(tenantID: String, id: String) throws -> String? {
        locked { access.users[id.lowercased()].flatMap { $0.tenantID == tenantID ? userJSON(id.lowercased(), $0) : nil } }
    }

    public func userID(tenantID: String, email: String) throws -> String? {
        locked { access.users.first { $0.value.tenantID == tenantID && $0.value.email == email }?.key }
    }

    public func updateUser(tenantID: String, id: String, name: String??, role: WorkspaceRole?) throws -> String? {
        locked {
            let id = id.lowercased()
            guard var u = access.users[id], u.tenantID == tenantID else { return nil }
            if let name { u.name = name }
            if let role { u.role = role }
            access.users[id] = u
            return userJSON(id, u)
        }
    }

    public func deleteUser(tenantID: String, id: String) throws -> Bool {
        try locked {
            let id = id.lowercased()
            guard let user = access.users[id], user.tenantID == tenantID else { return false }
            let sole = access.members.filter { $0.value.subject == .user(id) && $0.value.role == .admin }
                .filter { mine in directAdmins(mine.value.projectID).count == 1 }
                .compactMap { access.projects[$0.value.projectID]?.title }.sorted()
            if !sole.isEmpty {
                throw AccessRefusal.lastAdmin("\(user.email) is the last ADMIN of project(s) \(sole.joined(separator: ", ")); make someone else ADMIN first")
            }
            access.users[id] = nil
            for (g, var group) in access.groups where group.members[id] != nil { group.members[id] = nil; access.groups[g] = group }
            access.members = access.members.filter { $0.value.subject != .user(id) }
            for (key, user) in access.keyUsers where user == id {
                access.keyUsers[key] = nil
                _ = revokeAPIKey(id: key)
            }
            for (p, var project) in access.projects where project.createdBy == id { project.createdBy = nil; access.projects[p] = project }
            return true
        }
    }

    // MARK: Groups

    func groupJSON(_ id: String, _ g: MemoryAccessState.Group, members: Bool) -> String {
        var fields: [(key: String, value: JSONValue)] = [("id", .string(id)), ("name", .string(g.name)), ("description", Self.str(g.description)),
                                                        ("createdAt", .string(g.createdAt)), ("memberCount", Self.num(g.members.count))]
        if members {
            let list = g.members.compactMap { uid, added in access.users[uid].map { (uid, $0, added) } }.sorted { $0.1.email < $1.1.email }
            fields.append(("members", .array(list.map {
                .object([("userId", .string($0.0)), ("email", .string($0.1.email)), ("name", Self.str($0.1.name)), ("addedAt", .string($0.2))])
            })))
        }
        return JSONValue.object(fields).compactText
    }

    public func createGroup(tenantID: String, name: String, description: String?) throws -> String {
        try locked {
            guard !access.groups.values.contains(where: { $0.tenantID == tenantID && $0.name == name }) else {
                throw AccessRefusal.conflict("a group named \(name) exists already")
            }
            let id = Self.newID()
            access.groups[id] = .init(tenantID: tenantID, name: name, description: description, createdAt: MemoryJobStore.now(), members: [:])
            return groupJSON(id, access.groups[id]!, members: false)
        }
    }

    public func groups(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        locked {
            let rows = access.groups.filter { $0.value.tenantID == tenantID && (after == nil || $0.value.name > after!) }
                .sorted { $0.value.name < $1.value.name }
            return Self.page(rows.map { ([$0.value.name], groupJSON($0.key, $0.value, members: false)) }, limit: limit)
        }
    }

    public func group(tenantID: String, id: String) throws -> String? {
        locked { access.groups[id.lowercased()].flatMap { $0.tenantID == tenantID ? groupJSON(id.lowercased(), $0, members: true) : nil } }
    }

    public func updateGroup(tenantID: String, id: String, name: String?, description: String??) throws -> String? {
        try locked {
            let id = id.lowercased()
            guard var g = access.groups[id], g.tenantID == tenantID else { return nil }
            if let name {
                if access.groups.contains(where: { $0.key != id && $0.value.tenantID == tenantID && $0.value.name == name }) {
                    throw AccessRefusal.conflict("a group named \(name) exists already")
                }
                g.name = name
            }
            if let description { g.description = description }
            access.groups[id] = g
            return groupJSON(id, g, members: true)
        }
    }

    public func deleteGroup(tenantID: String, id: String) throws -> Bool {
        locked {
            let id = id.lowercased()
            guard access.groups[id]?.tenantID == tenantID else { return false }
            access.groups[id] = nil
            access.members = access.members.filter { $0.value.subject != .group(id) }
            return true
        }
    }

    public func addGroupMember(tenantID: String, groupID: String, userID: String) throws -> String? {
        locked {
            let gid = groupID.lowercased(), uid = userID.lowercased()
            guard var g = access.groups[gid], g.tenantID == tenantID else { return nil }
            if access.users[uid]?.tenantID == tenantID, g.members[uid] == nil { g.members[uid] = MemoryJobStore.now() }
            access.groups[gid] = g
            return groupJSON(gid, g, members: true)
        }
    }

    public func removeGroupMember(tenantID: String, groupID: String, userID: String) throws -> Bool? {
        locked {
            let gid = groupID.lowercased()
            guard var g = access.groups[gid], g.tenantID == tenantID else { return nil }
            guard g.members.removeValue(forKey: userID.lowercased()) != nil else { return false }
            access.groups[gid] = g
            return true
        }
    }

    // MARK: Tags

    static func tagJSON(_ name: String, _ createdAt: String) -> String {
        JSONValue.object([("name", .string(name)), ("createdAt", .string(createdAt))]).compactText
    }

    public func createTag(tenantID: String, name: String) throws -> String {
        try locked {
            guard access.tags[tenantID]?[name] == nil else { throw AccessRefusal.conflict("the tag \(name) exists already") }
            let now = MemoryJobStore.now()
            access.tags[tenantID, default: [:]][name] = now
            return Self.tagJSON(name, now)
        }
    }

    public func tags(tenantID: String) throws -> [String] {
        locked { access.tags[tenantID, default: [:]].sorted { $0.key < $1.key }.map { Self.tagJSON($0.key, $0.value) } }
    }

    public func deleteTag(tenantID: String, name: String) throws -> Bool {
        locked {
            guard access.tags[tenantID]?.removeValue(forKey: name) != nil else { return false }
            for (id, var p) in access.projects where p.tenantID == tenantID && p.tags.contains(name) {
                p.tags.removeAll { $0 == name }
                access.projects[id] = p
            }
            return true
        }
    }

    // MARK: Projects

    func projectJSON(_ id: String) -> String? {
        guard let p = access.projects[id] else { return nil }
        let mine = access.members.values.filter { $0.projectID == id }
        let users = mine.filter { if case .user = $0.subject { true } else { false } }.count
        return JSONValue.object([
            ("id", .string(id)), ("title", .string(p.title)), ("description", Self.str(p.description)),
            ("tags", .array(p.tags.map(JSONValue.string))), ("ontologyId", Self.str(p.ontologyID)),
            ("datasetIds", .array(p.datasetIDs.sorted().map(JSONValue.string))),
            ("workflow", JSONValue.parse(Array(p.workflow.utf8)) ?? .null), ("createdBy", Self.str(p.createdBy)),
            ("createdAt", .string(p.createdAt)), ("updatedAt", .string(p.updatedAt)),
            ("memberCount", Self.num(users)), ("groupCount", Self.num(mine.count - users)),
        ]).compactText
    }

    func checkReferences(tenantID: String, tags: [String]?, ontologyID: String??, datasetIDs: [String]) throws {
        if let unknown = tags?.first(where: { access.tags[tenantID]?[$0] == nil }) { throw AccessRefusal.unknownTag(unknown) }
        // The ontology and dataset twins hold the real rows; `noteCatalogObject` stays for
        // tests that need only an id.
        func knownOntology(_ id: String) -> Bool {
            ontologyState.rows[id.lowercased()]?.tenantID == tenantID || access.ontologies[id.lowercased()] == tenantID
        }
        func knownDataset(_ id: String) -> Bool {
            catalogDatasets.datasets[id.lowercased()]?.tenantID == tenantID || access.datasets[id.lowercased()] == tenantID
        }
        if case .some(.some(let o)) = ontologyID, !knownOntology(o) {
            throw AccessRefusal.notFound(field: "ontologyId", id: o)
        }
        if let d = datasetIDs.first(where: { !knownDataset($0) }) {
            throw AccessRefusal.notFound(field: "datasetIds", id: d)
        }
    }

    public func createProject(_ p: NewProject) throws -> String {
        try locked {
            try checkReferences(tenantID: p.tenantID, tags: p.tags, ontologyID: .some(p.ontologyID), datasetIDs: p.datasetIDs)
            let id = Self.newID(), now = MemoryJobStore.now()
            access.projects[id] = .init(tenantID: p.tenantID, title: p.title, description: p.description, tags: p.tags,
                                        ontologyID: p.ontologyID?.lowercased(), datasetIDs: Set(p.datasetIDs.map { $0.lowercased() }),
                                        workflow: p.workflow, createdBy: p.createdBy, createdAt: now, updatedAt: now)
            try startTaskCreation(tenantID: p.tenantID, projectID: id, datasetIDs: Self.firstOfEach(p.datasetIDs.map { $0.lowercased() }))
            if let creator = p.createdBy {
                access.members[Self.newID()] = .init(projectID: id, subject: .user(creator), role: .admin, addedAt: now)
            }
            return projectJSON(id)!
        }
    }

    /// The ids in order, each once (what `INSERT … RETURNING` gives for a list with repeats).
    static func firstOfEach(_ ids: [String]) -> [String] {
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    func collaborates(_ userID: String, on projectID: String) -> Bool {
        !roles(of: userID, on: projectID).isEmpty
    }

    func roles(of userID: String, on projectID: String) -> [ProjectRole] {
        access.members.values.filter { m in
            guard m.projectID == projectID else { return false }
            switch m.subject {
            case .user(let u): return u == userID
            case .group(let g): return access.groups[g]?.members[userID] != nil
            }
        }.map(\.role)
    }

    public func projects(tenantID: String, visibleTo userID: String?, after: [String]?, limit: Int) throws -> JSONPage {
        locked {
            let rows = access.projects.filter { id, p in
                p.tenantID == tenantID && (userID == nil || collaborates(userID!, on: id))
                    && (after == nil || (p.title, id) > (after![0], after![1]))
            }.sorted { ($0.value.title, $0.key) < ($1.value.title, $1.key) }
            return Self.page(rows.map { ([$0.value.title, $0.key], projectJSON($0.key)!) }, limit: limit)
        }
    }

    public func project(tenantID: String, id: String) throws -> String? {
        locked { access.projects[id.lowercased()]?.tenantID == tenantID ? projectJSON(id.lowercased()) : nil }
    }

    public func updateProject(tenantID: String, id: String, change: ProjectChange) throws -> String? {
        try locked {
            let id = id.lowercased()
            guard var p = access.projects[id], p.tenantID == tenantID else { return nil }
            try checkReferences(tenantID: tenantID, tags: change.tags, ontologyID: change.ontologyID, datasetIDs: [])
            if let title = change.title { p.title = title }
            if let description = change.description { p.description = description }
            if let tags = change.tags { p.tags = tags }
            if let ontology = change.ontologyID { p.ontologyID = ontology?.lowercased() }
            p.updatedAt = MemoryJobStore.now()
            access.projects[id] = p
            return projectJSON(id)
        }
    }

    public func deleteProject(tenantID: String, id: String) throws -> Bool {
        locked {
            let id = id.lowercased()
            guard access.projects[id]?.tenantID == tenantID else { return false }
            access.projects[id] = nil
            access.members = access.members.filter { $0.value.projectID != id }
            removeTasks { $0.projectID == id }
            return true
        }
    }

    public func attachDatasets(tenantID: String, projectID: String, datasetIDs: [String]) throws -> String? {
        try locked {
            let id = projectID.lowercased()
            guard var p = access.projects[id], p.tenantID == tenantID else { return nil }
            try checkReferences(tenantID: tenantID, tags: nil, ontologyID: nil, datasetIDs: datasetIDs)
            let linked = Self.firstOfEach(datasetIDs.map { $0.lowercased() }).filter { !p.datasetIDs.contains($0) }
            p.datasetIDs.formUnion(linked)
            p.updatedAt = MemoryJobStore.now()
            access.projects[id] = p
            try startTaskCreation(tenantID: tenantID, projectID: id, datasetIDs: linked)
            return projectJSON(id)
        }
    }

    public func detachDataset(tenantID: String, projectID: String, datasetID: String) throws -> Bool? {
        locked {
            let id = projectID.lowercased()
            guard var p = access.projects[id], p.tenantID == tenantID else { return nil }
            guard p.datasetIDs.remove(datasetID.lowercased()) != nil else { return false }
            access.projects[id] = p
            removeTasks(projectID: id, datasetID: datasetID.lowercased())
            return true
        }
    }

    // MARK: Collaborators

    public func projectRoles(tenantID: String, projectID: String, userID: String?) throws -> [ProjectRole]? {
        locked {
            let id = projectID.lowercased()
            guard access.projects[id]?.tenantID == tenantID else { return nil }
            return userID.map { roles(of: $0, on: id) } ?? []
        }
    }

    func memberJSON(_ id: String, _ m: MemoryAccessState.Member) -> String {
        var user: String?, email: String?, group: String?, groupName: String?
        switch m.subject {
        case .user(let u): user = u; email = access.users[u]?.email
        case .group(let g): group = g; groupName = access.groups[g]?.name
        }
        return JSONValue.object([("id", .string(id)), ("role", .string(m.role.rawValue)), ("userId", Self.str(user)), ("email", Self.str(email)),
                                 ("groupId", Self.str(group)), ("groupName", Self.str(groupName)), ("addedAt", .string(m.addedAt))]).compactText
    }

    public func addMember(projectID: String, subject: MemberSubject, role: ProjectRole) throws -> String {
        try locked {
            let pid = projectID.lowercased()
            let subject: MemberSubject = switch subject {
            case .user(let u): .user(u.lowercased())
            case .group(let g): .group(g.lowercased())
            }
            guard !access.members.values.contains(where: { $0.projectID == pid && $0.subject == subject }) else {
                let what = if case .user = subject { "user" } else { "group" }
                throw AccessRefusal.conflict("the \(what) is a collaborator of the project already; change its role instead")
            }
            let id = Self.newID()
            access.members[id] = .init(projectID: pid, subject: subject, role: role, addedAt: MemoryJobStore.now())
            return memberJSON(id, access.members[id]!)
        }
    }

    public func members(projectID: String) throws -> [String] {
        locked {
            let pid = projectID.lowercased()
            func key(_ m: MemoryAccessState.Member) -> (Int, String) {
                switch m.subject {
                case .user(let u): (0, access.users[u]?.email ?? "")
                case .group(let g): (1, access.groups[g]?.name ?? "")
                }
            }
            return access.members.filter { $0.value.projectID == pid }.sorted {
                let (a, b) = (key($0.value), key($1.value))
                return (a.0, a.1, $0.key) < (b.0, b.1, $1.key)
            }
                .map { memberJSON($0.key, $0.value) }
        }
    }

    public func member(projectID: String, memberID: String) throws -> ProjectMember? {
        locked {
            let id = memberID.lowercased()
            guard let m = access.members[id], m.projectID == projectID.lowercased() else { return nil }
            return ProjectMember(id: id, role: m.role, subject: m.subject)
        }
    }

    func directAdmins(_ projectID: String) -> [String] {
        access.members.filter { $0.value.projectID == projectID && $0.value.role == .admin && { if case .user = $0 { true } else { false } }($0.value.subject) }
            .map(\.key)
    }

    func guardLastAdmin(_ id: String, _ m: MemoryAccessState.Member, newRole: ProjectRole?) throws {
        guard m.role == .admin, newRole != .admin, case .user = m.subject else { return }
        if directAdmins(m.projectID) == [id] {
            throw AccessRefusal.lastAdmin("this is the last ADMIN of project \(access.projects[m.projectID]?.title ?? m.projectID); make someone else ADMIN first")
        }
    }

    public func setMemberRole(projectID: String, memberID: String, role: ProjectRole) throws -> String? {
        try locked {
            let id = memberID.lowercased()
            guard var m = access.members[id], m.projectID == projectID.lowercased() else { return nil }
            try guardLastAdmin(id, m, newRole: role)
            m.role = role
            access.members[id] = m
            return memberJSON(id, m)
        }
    }

    public func removeMember(projectID: String, memberID: String) throws -> Bool {
        try locked {
            let id = memberID.lowercased()
            guard let m = access.members[id], m.projectID == projectID.lowercased() else { return false }
            try guardLastAdmin(id, m, newRole: nil)
            access.members[id] = nil
            return true
        }
    }
}
