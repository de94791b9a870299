/// What one caller may do on one project: the authorizer every project route asks.
///
/// Rules (docs/catalog.md, "Enforcement"): a caller's effective roles on a project are its
/// direct role ∪ the roles of the groups it belongs to; a workspace admin (and a service key)
/// acts as `ADMIN` on every project of its workspace; a permission is granted when any
/// effective role allows it (`ProjectRole.allows`). Whether the project is in the caller's
/// tenant at all is the store's question (another tenant's project is "not found").
public struct ProjectAccess: Sendable, Equatable {
    /// The effective roles (empty: not a collaborator).
    public var roles: Set<ProjectRole>

    public init(workspaceRole: WorkspaceRole, memberRoles: some Sequence<ProjectRole>) {
        var roles = Set(memberRoles)
        if workspaceRole == .admin { roles.insert(.admin) }
        self.roles = roles
    }

    /// Whether any effective role grants the permission.
    public func allows(_ permission: ProjectPermission) -> Bool {
        roles.contains { $0.allows(permission) }
    }

    /// Every permission granted, in declaration order (what `GET /v1/projects/{id}/me` shows).
    public var permissions: [ProjectPermission] {
        ProjectPermission.allCases.filter(allows)
    }

    /// The permission a change of a collaborator's role needs: anything that adds, changes or
    /// removes an `ADMIN` role is `administer`; other changes are `manageMembers`.
    /// `from` nil: a new collaborator; `to` nil: a removal.
    public static func permissionToChange(from old: ProjectRole?, to new: ProjectRole?) -> ProjectPermission {
        old == .admin || new == .admin ? .administer : .manageMembers
    }
}

/// Email addresses as users are stored: trimmed, lower-case, checked for shape only (one `@`,
/// a non-empty local part and a dotted-or-not domain of non-empty labels, no spaces or control
/// characters, at most 254 characters). Deliverability is not checked.
public enum EmailAddress {
    /// The normalised address, or nil when it is not one.
    public static func normalized(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        let trimmed = scalars.drop { $0.properties.isWhitespace }.reversed().drop { $0.properties.isWhitespace }.reversed()
        let email = String(String.UnicodeScalarView(trimmed)).lowercased()
        guard email.count <= 254, !email.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].count), !parts[1].isEmpty else { return nil }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { return nil }
        return email
    }
}
