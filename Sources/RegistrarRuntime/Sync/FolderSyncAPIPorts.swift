import RegistrarCore

/// What creating a binding did.
public enum SyncBindingCreated: Sendable, Equatable {
    /// Created; `secret` authenticates the folder's bucket notifications and is shown only now.
    case created(secret: String)
    case folderNotFound
    case integrationNotFound
    /// The folder is bound already (delete the binding first).
    case exists
}

/// What starting a sync did.
public enum SyncStart: Sendable, Equatable {
    /// A new job, to publish.
    case started(jobID: String)
    /// A sync of the binding is running already: its job (one at a time per binding).
    case running(jobID: String)
    case noBinding
}

/// Where a folder's bucket notifications go, and what authenticates them.
public struct SyncNotificationTarget: Sendable, Equatable {
    public var tenantID: String
    public var bucket: String
    /// SHA-256 of the folder's notification secret, hex.
    public var secretDigest: String
    public init(tenantID: String, bucket: String, secretDigest: String) {
        self.tenantID = tenantID; self.bucket = bucket; self.secretDigest = secretDigest
    }
}

/// The API's side of cloud-synced folders (PostgreSQL): bindings, starting syncs, and the
/// notification target. Every call is scoped to the caller's tenant (another tenant's folder
/// is "not found"), except `notificationTarget`, which the folder's secret authenticates.
public protocol FolderSyncAPIStore: AnyObject {
    func createBinding(tenantID: String, folderID: String, integrationID: String, spec: SyncBindingSpec) throws -> SyncBindingCreated
    /// The binding as JSON (never the secret), nil when the folder has none.
    func bindingJSON(tenantID: String, folderID: String) throws -> String?
    func deleteBinding(tenantID: String, folderID: String) throws -> Bool
    /// Starts a sync unless one is running; `keys`: a notification's keys only (always started).
    func startSync(tenantID: String, folderID: String, keys: (created: [NotifiedKey], removed: [String])?) throws -> SyncStart
    func notificationTarget(folderID: String) throws -> SyncNotificationTarget?
}

/// The API backends that can reach folder syncs (the live ones; twins may not).
public protocol FolderSyncBackends: AnyObject {
    func folderSync() throws -> any FolderSyncAPIStore
}
