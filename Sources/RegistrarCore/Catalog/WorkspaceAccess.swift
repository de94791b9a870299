/// Who may change a workspace-level object (a dataset, an ontology, a group, a user).
///
/// Rules (docs/catalog.md, "Roles"): every user of the workspace may create datasets,
/// ontologies and projects and may read the workspace's datasets and ontologies; changing or
/// deleting a dataset or an ontology is for its creator or a workspace admin; users, groups and
/// tags are managed by workspace admins only. Service keys act as workspace admins.
public enum WorkspaceAccess {
    /// Whether the caller may change an object created by `createdBy` (nil: created by a
    /// service key, or by a user since removed: admins only).
    public static func mayModify(role: WorkspaceRole, userID: String?, createdBy: String?) -> Bool {
        if role == .admin { return true }
        guard let userID, let createdBy else { return false }
        return userID == createdBy
    }
}
