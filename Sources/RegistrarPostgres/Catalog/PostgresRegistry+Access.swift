import RegistrarCore
import RegistrarRuntime

/// Users, groups, workspace tags, projects and collaborators on PostgreSQL (`AccessStore`;
/// tables of migration 7). Every query filters on the tenant; JSON is built in SQL.
extension PostgresRegistry: AccessStore {
    static func userJSON(_ u: String) -> String {
        "json_build_object('id', \(u).id, 'email', \(u).email, 'name', \(u).name, 'role', \(u).role, 'createdAt', \(SQLTime.iso("\(u).created_at")))::text"
    }

    static let groupFields = """
        'id', g.id, 'name', g.name, 'description', g.description, 'createdAt', \(SQLTime.iso("g.created_at")),
        'memberCount', (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id)
        """
    static let groupJSON = "json_build_object(\(groupFields))::text"
    static let groupWithMembersJSON = """
        json_build_object(\(groupFields), 'members', (
            SELECT coalesce(json_agg(json_build_object('userId', u.id, 'email', u.email, 'name', u.name,
                                                       'addedAt', \(SQLTime.iso("gm.added_at"))) ORDER BY u.email COLLATE "C"), '[]'::json)
            FROM group_members gm JOIN users u ON u.id = gm.user_id WHERE gm.group_id = g.id))::text
        """

    static let projectJSON = """
        json_build_object('id', p.id, 'title', p.title, 'description', p.description, 'tags', to_json(p.tags),
            'ontologyId', p.ontology_id,
            'datasetIds', (SELECT coalesce(json_agg(pd.dataset_id ORDER BY pd.dataset_id), '[]'::json)
                           FROM project_datasets pd WHERE pd.project_id = p.id),
            'workflow', p.workflow::json, 'createdBy', p.created_by,
            'createdAt', \(SQLTime.iso("p.created_at")), 'updatedAt', \(SQLTime.iso("p.updated_at")),
            'memberCount', (SELECT count(*) FROM project_members m WHERE m.project_id = p.id AND m.user_id IS NOT NULL),
            'groupCount', (SELECT count(*) FROM project_members m WHERE m.project_id = p.id AND m.group_id IS NOT NULL))::text
        """

    static let memberJSON = """
        json_build_object('id', m.id, 'role', m.role, 'userId', m.user_id, 'email', u.email, 'groupId', m.group_id,
                          'groupName', g.name, 'addedAt', \(SQLTime.iso("m.added_at")))::text
        """
    static let memberFrom = "project_members m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN user_groups g ON g.id = m.group_id"

    private func jsonPage(_ rows: PGRows, limit: Int, keyColumns: Int) -> JSONPage {
        let n = min(rows.count, limit)
        let items = (0..<n).map { rows[$0, keyColumns]! }
        let next = rows.count > limit && n > 0 ? (0..<keyColumns).map { rows[n - 1, $0]! }.joined(separator: "\u{0}") : nil
        return JSONPage(items: items, nextCursor: next)
    }

    // MARK: Users

    public func createUser(tenantID: String, email: String, name: String?, role: WorkspaceRole) throws -> String {
        let rows = try connection.query("""
            WITH u AS (INSERT INTO users (tenant_id, email, name, role) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (tenant_id, email) DO NOTHING RETURNING *)
            SELECT \(Self.userJSON("u")) FROM u
            """, [tenantID, email, name, role.rawValue])
        guard rows.count == 1 else { throw AccessRefusal.conflict("a user with email \(email) exists already") }
        return rows[0, 0]!
    }

    public func users(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT u.email, \(Self.userJSON("u")) FROM users u
            WHERE u.tenant_id = $1 AND ($2::text IS NULL OR u.email COLLATE "C" > $2) ORDER BY u.email COLLATE "C" LIMIT $3
            """, [tenantID, after, String(limit + 1)])
        return jsonPage(rows, limit: limit, keyColumns: 1)
    }

    public func user(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.userJSON("u")) FROM users u WHERE u.id = $2::uuid AND u.tenant_id = $1", [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func userID(tenantID: String, email: String) throws -> String? {
        let rows = try connection.query("SELECT id FROM users WHERE tenant_id = $1 AND email = $2", [tenantID, email])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func updateUser(tenantID: String, id: String, name: String??, role: WorkspaceRole?) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("""
            WITH u AS (UPDATE users SET name = CASE WHEN $3::bool THEN $4 ELSE name END, role = coalesce($5, role)
                       WHERE id = $2::uuid AND tenant_id = $1 RETURNING *)
            SELECT \(Self.userJSON("u")) FROM u
            """, [tenantID, id, name == nil ? "false" : "true", name ?? nil, role?.rawValue])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func deleteUser(tenantID: String, id: String) throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try connection.withTransaction {
            let user = try connection.query("SELECT email FROM users WHERE id = $2::uuid AND tenant_id = $1 FOR UPDATE", [tenantID, id])
            guard user.count == 1 else { return false }
            // Lock the projects the user administers, so a concurrent change of their admins waits.
            let sole = try connection.query("""
                SELECT p.title FROM project_members m JOIN projects p ON p.id = m.project_id
                WHERE m.user_id = $1::uuid AND m.role = 'ADMIN'
                  AND NOT EXISTS (SELECT 1 FROM project_members o WHERE o.project_id = m.project_id AND o.role = 'ADMIN'
                                  AND o.user_id IS NOT NULL AND o.user_id <> $1::uuid)
                ORDER BY p.title COLLATE "C" FOR UPDATE OF p
                """, [id])
            if sole.count > 0 {
                let titles = (0..<sole.count).map { sole[$0, 0]! }
                throw AccessRefusal.lastAdmin("\(user[0, 0]!) is the last ADMIN of project(s) \(titles.joined(separator: ", ")); make someone else ADMIN first")
            }
            _ = try connection.query("DELETE FROM users WHERE id = $1::uuid", [id])
            return true
        }
    }

    // MARK: Groups

    public func createGroup(tenantID: String, name: String, description: String?) throws -> String {
        let rows = try connection.query("""
            WITH g AS (INSERT INTO user_groups (tenant_id, name, description) VALUES ($1, $2, $3)
                       ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *)
            SELECT \(Self.groupJSON) FROM g
            """, [tenantID, name, description])
        guard rows.count == 1 else { throw AccessRefusal.conflict("a group named \(name) exists already") }
        return rows[0, 0]!
    }

    public func groups(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT g.name, \(Self.groupJSON) FROM user_groups g
            WHERE g.tenant_id = $1 AND ($2::text IS NULL OR g.name COLLATE "C" > $2) ORDER BY g.name COLLATE "C" LIMIT $3
            """, [tenantID, after, String(limit + 1)])
        return jsonPage(rows, limit: limit, keyColumns: 1)
    }

    public func group(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.groupWithMembersJSON) FROM user_groups g WHERE g.id = $2::uuid AND g.tenant_id = $1",
                                        [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func updateGroup(tenantID: String, id: String, name: String?, description: String??) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        return try connection.withTransaction {
            if let name {
                let taken = try connection.query("SELECT 1 FROM user_groups WHERE tenant_id = $1 AND name = $2 AND id <> $3::uuid",
                                                 [tenantID, name, id])
                if taken.count > 0 { throw AccessRefusal.conflict("a group named \(name) exists already") }
            }
            let rows = try connection.query("""
                WITH g AS (UPDATE user_groups SET name = coalesce($3, name),
                                                  description = CASE WHEN $4::bool THEN $5 ELSE description END
                           WHERE id = $2::uuid AND tenant_id = $1 RETURNING *)
                SELECT \(Self.groupWithMembersJSON) FROM g
                """, [tenantID, id, name, description == nil ? "false" : "true", description ?? nil])
            return rows.count == 1 ? rows[0, 0] : nil
        }
    }

    public func deleteGroup(tenantID: String, id: String) throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try connection.query("DELETE FROM user_groups WHERE id = $2::uuid AND tenant_id = $1 RETURNING id", [tenantID, id]).count == 1
    }

    public func addGroupMember(tenantID: String, groupID: String, userID: String) throws -> String? {
        guard UUIDText.isValid(groupID), UUIDText.isValid(userID) else { return nil }
        let rows = try connection.query("SELECT 1 FROM user_groups WHERE id = $2::uuid AND tenant_id = $1", [tenantID, groupID])
        guard rows.count == 1 else { return nil }
        _ = try connection.query("""
            INSERT INTO group_members (group_id, user_id)
            SELECT $2::uuid, id FROM users WHERE id = $3::uuid AND tenant_id = $1 ON CONFLICT DO NOTHING
            """, [tenantID, groupID, userID])
        return try group(tenantID: tenantID, id: groupID)
    }

    public func removeGroupMember(tenantID: String, groupID: String, userID: String) throws -> Bool? {
        guard UUIDText.isValid(groupID) else { return nil }
        guard try connection.query("SELECT 1 FROM user_groups WHERE id = $2::uuid AND tenant_id = $1", [tenantID, groupID]).count == 1 else {
            return nil
        }
        guard UUIDText.isValid(userID) else { return false }
        return try connection.query("DELETE FROM group_members WHERE group_id = $1::uuid AND user_id = $2::uuid RETURNING user_id",
                                    [groupID, userID]).count == 1
    }

    // MARK: Tags

    public func createTag(tenantID: String, name: String) throws -> String {
        let rows = try connection.query("""
            WITH t AS (INSERT INTO workspace_tags (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING *)
            SELECT json_build_object('name', t.name, 'createdAt', \(SQLTime.iso("t.created_at")))::text FROM t
            """, [tenantID, name])
        guard rows.count == 1 else { throw AccessRefusal.conflict("the tag \(name) exists already") }
        return rows[0, 0]!
    }

    public func tags(tenantID: String) throws -> [String] {
        let rows = try connection.query("""
            SELECT json_build_object('name', t.name, 'createdAt', \(SQLTime.iso("t.created_at")))::text
            FROM workspace_tags t WHERE t.tenant_id = $1 ORDER BY t.name COLLATE "C"
            """, [tenantID])
        return (0..<rows.count).map { rows[$0, 0]! }
    }

    public func deleteTag(tenantID: String, name: String) throws -> Bool {
        try connection.withTransaction {
            let gone = try connection.query("DELETE FROM workspace_tags WHERE tenant_id = $1 AND name = $2 RETURNING name", [tenantID, name])
            guard gone.count == 1 else { return false }
            _ = try connection.query("UPDATE projects SET tags = array_remove(tags, $2) WHERE tenant_id = $1 AND $2 = ANY (tags)",
                                     [tenantID, name])
            return true
        }
    }

    // MARK: Projects

    /// Refuses tags not in the tenant's list, an ontology or datasets not of the tenant.
    private func checkReferences(tenantID: String, tags: [String]?, ontologyID: String??, datasetIDs: [String]) throws {
        if let tags, !tags.isEmpty {
            let rows = try connection.query("""
                SELECT t FROM unnest($2::text[]) WITH ORDINALITY AS x(t, n)
                WHERE NOT EXISTS (SELECT 1 FROM workspace_tags w WHERE w.tenant_id = $1 AND w.name = x.t) ORDER BY n LIMIT 1
                """, [tenantID, PGArray.text(tags)])
            if rows.count == 1 { throw AccessRefusal.unknownTag(rows[0, 0]!) }
        }
        if case .some(.some(let ontology)) = ontologyID {
            guard UUIDText.isValid(ontology),
                  try connection.query("SELECT 1 FROM ontologies WHERE id = $2::uuid AND tenant_id = $1", [tenantID, ontology]).count == 1
            else { throw AccessRefusal.notFound(field: "ontologyId", id: ontology) }
        }
        for dataset in datasetIDs {
            guard UUIDText.isValid(dataset),
                  try connection.query("SELECT 1 FROM datasets WHERE id = $2::uuid AND tenant_id = $1", [tenantID, dataset]).count == 1
            else { throw AccessRefusal.notFound(field: "datasetIds", id: dataset) }
        }
    }

    public func createProject(_ p: NewProject) throws -> String {
        try connection.withTransaction {
            try checkReferences(tenantID: p.tenantID, tags: p.tags, ontologyID: .some(p.ontologyID), datasetIDs: p.datasetIDs)
            let id = try connection.query("""
                INSERT INTO projects (tenant_id, title, description, tags, ontology_id, workflow, created_by)
                VALUES ($1, $2, $3, $4::text[], $5::uuid, $6, $7::uuid) RETURNING id
                """, [p.tenantID, p.title, p.description, PGArray.text(p.tags), p.ontologyID, p.workflow, p.createdBy])[0, 0]!
            let linked = try connection.query("""
                INSERT INTO project_datasets (project_id, dataset_id) SELECT $1::uuid, d::uuid FROM unnest($2::text[]) d ON CONFLICT DO NOTHING
                RETURNING dataset_id
                """, [id, PGArray.text(p.datasetIDs)])
            try startTaskCreation(tenantID: p.tenantID, projectID: id, datasetIDs: (0..<linked.count).map { linked[$0, 0]! })
            if let creator = p.createdBy {
                _ = try connection.query("INSERT INTO project_members (project_id, user_id, role) VALUES ($1::uuid, $2::uuid, 'ADMIN')",
                                         [id, creator])
            }
            return try project(tenantID: p.tenantID, id: id)!
        }
    }

    public func projects(tenantID: String, visibleTo userID: String?, after: [String]?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT p.title, p.id, \(Self.projectJSON) FROM projects p
            WHERE p.tenant_id = $1
              AND ($2::uuid IS NULL OR EXISTS (
                    SELECT 1 FROM project_members m WHERE m.project_id = p.id
                    AND (m.user_id = $2::uuid OR m.group_id IN (SELECT group_id FROM group_members WHERE user_id = $2::uuid))))
              AND ($3::text IS NULL OR p.title COLLATE "C" > $3 OR (p.title = $3 AND p.id > $4::uuid))
            ORDER BY p.title COLLATE "C", p.id LIMIT $5
            """, [tenantID, userID, after?[0], after?[1], String(limit + 1)])
        return jsonPage(rows, limit: limit, keyColumns: 2)
    }

    public func project(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.projectJSON) FROM projects p WHERE p.id = $2::uuid AND p.tenant_id = $1", [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func updateProject(tenantID: String, id: String, change: ProjectChange) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        return try connection.withTransaction {
            guard try connection.query("SELECT 1 FROM projects WHERE id = $2::uuid AND tenant_id = $1 FOR UPDATE", [tenantID, id]).count == 1 else {
                return nil
            }
            try checkReferences(tenantID: tenantID, tags: change.tags, ontologyID: change.ontologyID, datasetIDs: [])
            _ = try connection.query("""
                UPDATE projects SET title = coalesce($2, title),
                    description = CASE WHEN $3::bool THEN $4 ELSE description END,
                    tags = CASE WHEN $5::bool THEN $6::text[] ELSE tags END,
                    ontology_id = CASE WHEN $7::bool THEN $8::uuid ELSE ontology_id END,
                    updated_at = now()
                WHERE id = $1::uuid
                """, [id, change.title, change.description == nil ? "false" : "true", change.description ?? nil,
                      change.tags == nil ? "false" : "true", change.tags.map(PGArray.text),
                      change.ontologyID == nil ? "false" : "true", change.ontologyID ?? nil])
            return try project(tenantID: tenantID, id: id)
        }
    }

    public func deleteProject(tenantID: String, id: String) throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try connection.query("DELETE FROM projects WHERE id = $2::uuid AND tenant_id = $1 RETURNING id", [tenantID, id]).count == 1
    }

    public func attachDatasets(tenantID: String, projectID: String, datasetIDs: [String]) throws -> String? {
        guard UUIDText.isValid(projectID) else { return nil }
        return try connection.withTransaction {
            guard try connection.query("SELECT 1 FROM projects WHERE id = $2::uuid AND tenant_id = $1 FOR UPDATE",
                                       [tenantID, projectID]).count == 1 else { return nil }
            try checkReferences(tenantID: tenantID, tags: nil, ontologyID: nil, datasetIDs: datasetIDs)
            let linked = try connection.query("""
                INSERT INTO project_datasets (project_id, dataset_id) SELECT $1::uuid, d::uuid FROM unnest($2::text[]) d ON CONFLICT DO NOTHING
                RETURNING dataset_id
                """, [projectID, PGArray.text(datasetIDs)])
            try startTaskCreation(tenantID: tenantID, projectID: projectID, datasetIDs: (0..<linked.count).map { linked[$0, 0]! })
            _ = try connection.query("UPDATE projects SET updated_at = now() WHERE id = $1::uuid", [projectID])
            return try project(tenantID: tenantID, id: projectID)
        }
    }

    public func detachDataset(tenantID: String, projectID: String, datasetID: String) throws -> Bool? {
        guard UUIDText.isValid(projectID) else { return nil }
        guard try connection.query("SELECT 1 FROM projects WHERE id = $2::uuid AND tenant_id = $1", [tenantID, projectID]).count == 1 else {
            return nil
        }
        guard UUIDText.isValid(datasetID) else { return false }
        return try connection.withTransaction {
            guard try connection.query("DELETE FROM project_datasets WHERE project_id = $1::uuid AND dataset_id = $2::uuid RETURNING dataset_id",
                                       [projectID, datasetID]).count == 1 else { return false }
            try removeTasks(projectID: projectID, datasetID: datasetID)
            return true
        }
    }

    // MARK: Collaborators

    public func projectRoles(tenantID: String, projectID: String, userID: String?) throws -> [ProjectRole]? {
        guard UUIDText.isValid(projectID) else { return nil }
        let rows = try connection.query("""
            SELECT p.id, m.role FROM projects p
            LEFT JOIN project_members m ON m.project_id = p.id AND $3::uuid IS NOT NULL
                 AND (m.user_id = $3::uuid OR m.group_id IN (SELECT group_id FROM group_members WHERE user_id = $3::uuid))
            WHERE p.id = $2::uuid AND p.tenant_id = $1
            """, [tenantID, projectID, userID])
        guard rows.count > 0 else { return nil }
        return (0..<rows.count).compactMap { rows[$0, 1].flatMap(ProjectRole.init(rawValue:)) }
    }

    public func addMember(projectID: String, subject: MemberSubject, role: ProjectRole) throws -> String {
        let (column, id, what): (String, String, String) = switch subject {
        case .user(let id): ("user_id", id, "user")
        case .group(let id): ("group_id", id, "group")
        }
        let rows = try connection.query("""
            WITH m AS (INSERT INTO project_members (project_id, \(column), role) VALUES ($1::uuid, $2::uuid, $3)
                       ON CONFLICT DO NOTHING RETURNING *)
            SELECT \(Self.memberJSON) FROM m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN user_groups g ON g.id = m.group_id
            """, [projectID, id, role.rawValue])
        guard rows.count == 1 else { throw AccessRefusal.conflict("the \(what) is a collaborator of the project already; change its role instead") }
        return rows[0, 0]!
    }

    public func members(projectID: String) throws -> [String] {
        guard UUIDText.isValid(projectID) else { return [] }
        let rows = try connection.query("""
            SELECT \(Self.memberJSON) FROM \(Self.memberFrom) WHERE m.project_id = $1::uuid
            ORDER BY m.group_id IS NOT NULL, u.email COLLATE "C", g.name COLLATE "C", m.id
            """, [projectID])
        return (0..<rows.count).map { rows[$0, 0]! }
    }

    public func member(projectID: String, memberID: String) throws -> ProjectMember? {
        guard UUIDText.isValid(projectID), UUIDText.isValid(memberID) else { return nil }
        let rows = try connection.query("SELECT id, role, user_id, group_id FROM project_members WHERE id = $2::uuid AND project_id = $1::uuid",
                                        [projectID, memberID])
        guard rows.count == 1, let role = rows[0, 1].flatMap(ProjectRole.init(rawValue:)) else { return nil }
        let subject: MemberSubject = rows[0, 2].map { .user($0) } ?? .group(rows[0, 3]!)
        return ProjectMember(id: rows[0, 0]!, role: role, subject: subject)
    }

    /// Refuses to take the ADMIN role from the project's last direct user ADMIN. Runs in the
    /// caller's transaction, after the project row is locked (so two demotions serialise).
    private func guardLastAdmin(projectID: String, member: ProjectMember, newRole: ProjectRole?) throws {
        guard member.role == .admin, newRole != .admin, case .user = member.subject else { return }
        let others = try connection.query("""
            SELECT count(*) FROM project_members WHERE project_id = $1::uuid AND role = 'ADMIN' AND user_id IS NOT NULL AND id <> $2::uuid
            """, [projectID, member.id])
        if others[0, 0] == "0" {
            let title = try connection.query("SELECT title FROM projects WHERE id = $1::uuid", [projectID])[0, 0] ?? projectID
            throw AccessRefusal.lastAdmin("this is the last ADMIN of project \(title); make someone else ADMIN first")
        }
    }

    public func setMemberRole(projectID: String, memberID: String, role: ProjectRole) throws -> String? {
        guard UUIDText.isValid(projectID), UUIDText.isValid(memberID) else { return nil }
        return try connection.withTransaction {
            _ = try connection.query("SELECT 1 FROM projects WHERE id = $1::uuid FOR UPDATE", [projectID])
            guard let member = try member(projectID: projectID, memberID: memberID) else { return nil }
            try guardLastAdmin(projectID: projectID, member: member, newRole: role)
            let rows = try connection.query("""
                WITH m AS (UPDATE project_members SET role = $2 WHERE id = $1::uuid RETURNING *)
                SELECT \(Self.memberJSON) FROM m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN user_groups g ON g.id = m.group_id
                """, [memberID, role.rawValue])
            return rows.count == 1 ? rows[0, 0] : nil
        }
    }

    public func removeMember(projectID: String, memberID: String) throws -> Bool {
        guard UUIDText.isValid(projectID), UUIDText.isValid(memberID) else { return false }
        return try connection.withTransaction {
            _ = try connection.query("SELECT 1 FROM projects WHERE id = $1::uuid FOR UPDATE", [projectID])
            guard let member = try member(projectID: projectID, memberID: memberID) else { return false }
            try guardLastAdmin(projectID: projectID, member: member, newRole: nil)
            return try connection.query("DELETE FROM project_members WHERE id = $1::uuid RETURNING id", [memberID]).count == 1
        }
    }

    // MARK: Operator side (`registrar users|keys`)

    /// Stores a key that acts as a user of the tenant; returns the key record's id.
    public func storeAPIKey(tenantID: String, userID: String, name: String?, prefix: String, hash: String) throws -> String {
        try connection.query("""
            INSERT INTO api_keys (tenant_id, user_id, name, prefix, key_hash) VALUES ($1, $2::uuid, $3, $4, $5) RETURNING id
            """, [tenantID, userID, name, prefix, hash])[0, 0]!
    }

    /// The users with this (normalised) email, in any tenant (tenant id and name, user id), for
    /// `keys create --user` without `--tenant`.
    public func usersByEmail(_ email: String) throws -> [(tenantID: String, tenantName: String, userID: String)] {
        let rows = try connection.query("""
            SELECT u.tenant_id, t.name, u.id FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1 ORDER BY t.name
            """, [email])
        return (0..<rows.count).map { (rows[$0, 0]!, rows[$0, 1]!, rows[$0, 2]!) }
    }
}
