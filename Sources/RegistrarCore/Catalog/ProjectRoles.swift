/// A user's role in the workspace (tenant). Service keys (`keys create --tenant`) act as `admin`.
///
/// `admin` sees and manages everything in the workspace and acts as a project `ADMIN` on every
/// project; `member` creates datasets, ontologies and projects and sees the projects it
/// collaborates on (Encord's workspace Admin and Member; its Workforce Manager and Tasker roles
/// are not modelled).
public enum WorkspaceRole: String, Sendable, CaseIterable, Codable {
    case admin
    case member

    /// Parses a role as users write it (case-insensitive); nil for anything else.
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased())
    }
}

/// A collaborator's role in one project, exactly as Encord's `ProjectUserRole` (names and the
/// SDK's integer values).
public enum ProjectRole: String, Sendable, CaseIterable, Codable, Comparable {
    case admin = "ADMIN"
    case annotator = "ANNOTATOR"
    case reviewer = "REVIEWER"
    case annotatorReviewer = "ANNOTATOR_REVIEWER"
    case teamManager = "TEAM_MANAGER"
    case viewer = "VIEWER"

    /// Encord SDK's `ProjectUserRole` value.
    public var encordValue: Int {
        switch self {
        case .admin: 0
        case .annotator: 1
        case .reviewer: 2
        case .annotatorReviewer: 3
        case .teamManager: 4
        case .viewer: 5
        }
    }

    /// Parses a role name (case-insensitive, `-` or `_`) or its Encord integer; nil otherwise.
    public init?(parsing text: String) {
        let name = String(text.uppercased().map { $0 == "-" ? "_" : $0 })
        if let role = ProjectRole(rawValue: name) { self = role; return }
        if let value = Int(text), let role = ProjectRole.allCases.first(where: { $0.encordValue == value }) { self = role; return }
        return nil
    }

    public static func < (a: ProjectRole, b: ProjectRole) -> Bool { a.encordValue < b.encordValue }

    /// The role names as a list for error messages: "ADMIN, TEAM_MANAGER".
    public static func names(_ roles: some Sequence<ProjectRole>) -> String {
        roles.sorted().map(\.rawValue).joined(separator: ", ")
    }
}

/// What a request does to a project. Each route needs exactly one permission; the table
/// (`ProjectRole.allows`) follows Encord's permission table (docs/catalog.md, "Roles").
public enum ProjectPermission: String, Sendable, CaseIterable {
    /// Read the project, its datasets, ontology, workflow and collaborators.
    case view
    /// Attach/detach datasets, attach/switch the ontology, edit the project's settings, delete
    /// the project, add or remove admins.
    case administer
    /// Invite collaborators and change roles other than `ADMIN`.
    case manageMembers
    /// Work tasks at annotation stages.
    case annotate
    /// Work tasks at review stages.
    case review
    /// Confirm annotations; assign, release and move anyone's tasks.
    case controlTasks
    /// Export labels. Encord's sources conflict for team managers (the admin table and the
    /// getting-started text say admins only; the team-manager page lists export): we follow the
    /// two that agree, admins only.
    case export
}

extension ProjectRole {
    /// Whether this role grants the permission.
    public func allows(_ permission: ProjectPermission) -> Bool {
        switch permission {
        case .view: true
        case .administer, .export: self == .admin
        case .manageMembers, .controlTasks: self == .admin || self == .teamManager
        case .annotate: [.admin, .teamManager, .annotator, .annotatorReviewer].contains(self)
        case .review: [.admin, .teamManager, .reviewer, .annotatorReviewer].contains(self)
        }
    }

    /// The roles that grant a permission, for the 403's message.
    public static func granting(_ permission: ProjectPermission) -> [ProjectRole] {
        allCases.filter { $0.allows(permission) }.sorted()
    }
}
