import RegistrarCore

// Users, groups, workspace tags, projects and their collaborators (docs/catalog.md). Same rules
// as the other API ports (APIPorts.swift): synchronous, tenant-scoped (another tenant's object
// and malformed ids are "not found"), JSON answers built by the store (PostgreSQL in SQL), the
// twin `MemoryRegistry` gives the same JSON, `AccessStoreConformance` checks both.
//
// Who may call what is the routes' business (`ProjectAccess`, `APIContext.workspaceAdmin`): the
// store only keeps the data's own rules (unique emails and names, tags from the list, objects
// of the same tenant, at least one direct ADMIN once a project has one).

/// Users, groups, tags, projects and collaborators.
public protocol AccessStore: AnyObject {
    // MARK: Users (JSON: id, email, name, role, createdAt)

    /// Creates a user; `AccessRefusal.conflict` when the tenant has one with that email. The
    /// email is already normalised (`EmailAddress`).
    func createUser(tenantID: String, email: String, name: String?, role: WorkspaceRole) throws -> String
    /// The tenant's users by email (the cursor is the last email).
    func users(tenantID: String, after: String?, limit: Int) throws -> JSONPage
    func user(tenantID: String, id: String) throws -> String?
    /// The id of the tenant's user with that (normalised) email.
    func userID(tenantID: String, email: String) throws -> String?
    /// Changes a user's name (`.some(nil)` clears it) and/or role; nil when no such user.
    func updateUser(tenantID: String, id: String, name: String??, role: WorkspaceRole?) throws -> String?
    /// Deletes a user with its keys, group memberships and collaborations. Refused
    /// (`AccessRefusal.lastAdmin`) while the user is the last direct ADMIN of a project.
    func deleteUser(tenantID: String, id: String) throws -> Bool

    // MARK: Groups (JSON: id, name, description, createdAt, memberCount; one group also `members`)

    /// `AccessRefusal.conflict` when the tenant has a group of that name.
    func createGroup(tenantID: String, name: String, description: String?) throws -> String
    /// By name (the cursor is the last name).
    func groups(tenantID: String, after: String?, limit: Int) throws -> JSONPage
    /// One group with `members`: [{userId, email, name, addedAt}] by email.
    func group(tenantID: String, id: String) throws -> String?
    func updateGroup(tenantID: String, id: String, name: String?, description: String??) throws -> String?
    func deleteGroup(tenantID: String, id: String) throws -> Bool
    /// Adds a user of the tenant to a group (idempotent); the group's JSON, nil when no such group.
    func addGroupMember(tenantID: String, groupID: String, userID: String) throws -> String?
    /// nil: no such group; false: the user was not a member.
    func removeGroupMember(tenantID: String, groupID: String, userID: String) throws -> Bool?

    // MARK: Workspace tags (JSON: name, createdAt)

    /// `AccessRefusal.conflict` when the tag exists.
    func createTag(tenantID: String, name: String) throws -> String
    /// Every tag of the tenant, by name.
    func tags(tenantID: String) throws -> [String]
    /// Deletes a tag and removes it from the tenant's projects; false when there is none.
    func deleteTag(tenantID: String, name: String) throws -> Bool

    // MARK: Projects (JSON: id, title, description, tags, ontologyId, datasetIds, workflow,
    // createdBy, createdAt, updatedAt, memberCount, groupCount)

    /// Creates a project, its dataset bindings and (when `createdBy` is a user) its creator's
    /// ADMIN membership, in one transaction. Refusals: `unknownTag`, `notFound` (ontologyId,
    /// datasetIds: not the tenant's).
    func createProject(_ project: NewProject) throws -> String
    /// The tenant's projects by title then id; `visibleTo` a user id: only the projects it
    /// collaborates on (directly or through a group); nil: all (workspace admins). The cursor
    /// is the last row's [title, id].
    func projects(tenantID: String, visibleTo userID: String?, after: [String]?, limit: Int) throws -> JSONPage
    func project(tenantID: String, id: String) throws -> String?
    /// Changes what is set in `change`; nil when no such project. Same refusals as create.
    func updateProject(tenantID: String, id: String, change: ProjectChange) throws -> String?
    func deleteProject(tenantID: String, id: String) throws -> Bool
    /// Binds datasets (already bound ones are left as they are); nil when no such project;
    /// `AccessRefusal.notFound` (field datasetIds) for a dataset not of the tenant.
    func attachDatasets(tenantID: String, projectID: String, datasetIDs: [String]) throws -> String?
    /// nil: no such project; false: the dataset was not bound.
    func detachDataset(tenantID: String, projectID: String, datasetID: String) throws -> Bool?

    // MARK: Collaborators (JSON: id, role, userId, email, groupId, groupName, addedAt)

    /// The roles a user holds on a project, directly and through its groups; nil when the
    /// project is not the tenant's. `userID` nil (a service key): no roles.
    func projectRoles(tenantID: String, projectID: String, userID: String?) throws -> [ProjectRole]?
    /// Adds a collaborator (a user or a group of the tenant; the route resolved them);
    /// `AccessRefusal.conflict` when it is one already. The caller checked the project.
    func addMember(projectID: String, subject: MemberSubject, role: ProjectRole) throws -> String
    /// The project's collaborators: users by email, then groups by name.
    func members(projectID: String) throws -> [String]
    /// One collaborator of the project.
    func member(projectID: String, memberID: String) throws -> ProjectMember?
    /// Changes a role; nil when no such collaborator; `AccessRefusal.lastAdmin` when it would
    /// leave the project without a direct user ADMIN.
    func setMemberRole(projectID: String, memberID: String, role: ProjectRole) throws -> String?
    /// Removes a collaborator; false when none; `AccessRefusal.lastAdmin` as above.
    func removeMember(projectID: String, memberID: String) throws -> Bool
}

/// A project as `POST /v1/projects` creates it (the route checked the fields' shapes).
public struct NewProject: Sendable, Equatable {
    public var tenantID: String
    public var title: String
    public var description: String?
    public var tags: [String]
    public var ontologyID: String?
    public var datasetIDs: [String]
    /// The workflow graph as JSON text.
    public var workflow: String
    /// The creating user (nil: a service key); becomes the project's ADMIN.
    public var createdBy: String?

    public init(tenantID: String, title: String, description: String?, tags: [String], ontologyID: String?, datasetIDs: [String],
                workflow: String, createdBy: String?) {
        self.tenantID = tenantID; self.title = title; self.description = description; self.tags = tags
        self.ontologyID = ontologyID; self.datasetIDs = datasetIDs; self.workflow = workflow; self.createdBy = createdBy
    }
}

/// What `PATCH /v1/projects/{id}` changes: nil leaves a field; `.some(nil)` clears it.
public struct ProjectChange: Sendable, Equatable {
    public var title: String?
    public var description: String??
    public var tags: [String]?
    public var ontologyID: String??
    public init(title: String? = nil, description: String?? = nil, tags: [String]? = nil, ontologyID: String?? = nil) {
        self.title = title; self.description = description; self.tags = tags; self.ontologyID = ontologyID
    }
}

/// Who a collaborator is.
public enum MemberSubject: Sendable, Equatable {
    case user(String)
    case group(String)
}

/// A collaborator as the routes need it to authorise a change.
public struct ProjectMember: Sendable, Equatable {
    public var id: String
    public var role: ProjectRole
    public var subject: MemberSubject
    public init(id: String, role: ProjectRole, subject: MemberSubject) {
        self.id = id; self.role = role; self.subject = subject
    }
}

/// A write the access store refuses (the API maps each to its answer).
public enum AccessRefusal: Error, Equatable {
    /// A unique name or email is taken, or the collaborator exists (409).
    case conflict(String)
    /// A tag not in the workspace's list (422, naming the tag).
    case unknownTag(String)
    /// A referenced object is not the tenant's (404 naming the field and the id).
    case notFound(field: String, id: String)
    /// The change would leave a project without a direct ADMIN (409 `last_admin`; the
    /// message names the project(s)).
    case lastAdmin(String)
}
