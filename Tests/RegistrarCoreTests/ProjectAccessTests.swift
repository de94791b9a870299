import RegistrarCore
import Testing

/// The authorizer's pure rules: effective roles, workspace admins, what a member change needs,
/// email normalisation and the default workflow graph.
@Suite struct ProjectAccessTests {
    @Test func effectiveRolesAreTheUnionAndWorkspaceAdminsAreAdmins() {
        let reviewerViaGroup = ProjectAccess(workspaceRole: .member, memberRoles: [.annotator, .reviewer])
        #expect(reviewerViaGroup.allows(.annotate) && reviewerViaGroup.allows(.review))
        #expect(!reviewerViaGroup.allows(.manageMembers) && !reviewerViaGroup.allows(.export))
        #expect(reviewerViaGroup.permissions == [.view, .annotate, .review])
        let outsider = ProjectAccess(workspaceRole: .member, memberRoles: [])
        #expect(ProjectPermission.allCases.allSatisfy { !outsider.allows($0) })
        let admin = ProjectAccess(workspaceRole: .admin, memberRoles: [])
        #expect(admin.roles == [.admin] && ProjectPermission.allCases.allSatisfy(admin.allows))
        // Every single role grants exactly what the table says.
        for role in ProjectRole.allCases {
            let access = ProjectAccess(workspaceRole: .member, memberRoles: [role])
            #expect(access.permissions == ProjectPermission.allCases.filter(role.allows))
        }
    }

    @Test func anythingTouchingAdminNeedsAdminister() {
        #expect(ProjectAccess.permissionToChange(from: nil, to: .annotator) == .manageMembers)
        #expect(ProjectAccess.permissionToChange(from: .annotator, to: .teamManager) == .manageMembers)
        #expect(ProjectAccess.permissionToChange(from: .viewer, to: nil) == .manageMembers)
        #expect(ProjectAccess.permissionToChange(from: nil, to: .admin) == .administer)
        #expect(ProjectAccess.permissionToChange(from: .annotator, to: .admin) == .administer)
        #expect(ProjectAccess.permissionToChange(from: .admin, to: .viewer) == .administer)
        #expect(ProjectAccess.permissionToChange(from: .admin, to: nil) == .administer)
    }

    @Test func emailsAreTrimmedLowerCasedAndShapeChecked() {
        #expect(EmailAddress.normalized("  Ann.Lee@Example.COM\n") == "ann.lee@example.com")
        #expect(EmailAddress.normalized("a@localhost") == "a@localhost")
        for bad in ["", "ann", "@x.io", "ann@", "a@b@c", "a b@x.io", "a@x..io", "a@-x.io", "a\u{0}@x.io",
                    String(repeating: "a", count: 65) + "@x.io", "a@" + String(repeating: "b", count: 250) + ".io"] {
            #expect(EmailAddress.normalized(bad) == nil, "\(bad)")
        }
    }
}
