import RegistrarCore

// The values the HTTP API's ports exchange (`APIPorts.swift`). They belong to no adapter: the
// PostgreSQL adapter and the in-memory twins produce the same ones.

/// Who a request acts for, once its bearer key matched.
public struct Principal: Sendable, Equatable {
    public var tenantID: String
    public var tenantName: String
    public var keyID: String
    /// The user the key acts as; nil for a workspace service key (`keys create --tenant`).
    public var userID: String?
    /// The user's email (nil for a service key).
    public var userEmail: String?
    /// The workspace role the key acts with: a service key is `admin`.
    public var workspaceRole: WorkspaceRole
    public init(tenantID: String, tenantName: String, keyID: String, userID: String? = nil, userEmail: String? = nil,
                workspaceRole: WorkspaceRole = .admin) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.keyID = keyID
        self.userID = userID
        self.userEmail = userEmail
        self.workspaceRole = workspaceRole
    }
}

/// One page of a listing: JSON objects (as text, built by the store: by PostgreSQL in
/// production) and the cursor of the next page (nil on the last one). Cursors are opaque to
/// clients; here they are the last row's key (the API wraps them in `PageCursor` tokens).
public struct JSONPage: Sendable {
    public var items: [String]
    public var nextCursor: String?
    public init(items: [String], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Where a job sits in the newest-first listing: its creation time in microseconds since the
/// epoch, and its id (the tie-breaker).
public struct JobPosition: Sendable, Equatable {
    public var createdMicros: Int64
    public var id: String
    public init(createdMicros: Int64, id: String) {
        self.createdMicros = createdMicros
        self.id = id
    }
}

/// What the API adds to a job's state.
public struct JobExtras: Sendable, Equatable {
    public var tenantID: String
    public var folderID: String
    public var retryOf: String?
    public var fileName: String?
    public var format: String
    public var manifestBytes: Int
    public var ignoreErrors: Bool
    public var createdAt: String
    /// Units whose chunks finished in the recent window, and that window's length in seconds.
    public var recentUnits: Int
    public var recentSeconds: Double

    public init(tenantID: String, folderID: String, retryOf: String?, fileName: String?, format: String, manifestBytes: Int,
                ignoreErrors: Bool, createdAt: String, recentUnits: Int, recentSeconds: Double) {
        self.tenantID = tenantID
        self.folderID = folderID
        self.retryOf = retryOf
        self.fileName = fileName
        self.format = format
        self.manifestBytes = manifestBytes
        self.ignoreErrors = ignoreErrors
        self.createdAt = createdAt
        self.recentUnits = recentUnits
        self.recentSeconds = recentSeconds
    }
}

/// What deleting a folder did.
public enum FolderDeleteOutcome: Sendable, Equatable {
    case deleted, notFound
    /// Refused: the folder holds files or has a running upload (the reason says which).
    case notEmpty(String)
    /// Refused: datasets hold files of the folder or mirror it (their ids, sorted).
    case inDatasets([String])
}

/// A new upload (registration job) as the API submits it: the manifest is stored with it.
public struct NewUpload: Sendable, Equatable {
    public var tenantID: String
    public var folderID: String
    public var fileName: String
    public var format: ManifestFormat
    public var ignoreErrors: Bool
    /// The integration its objects are read with (nil: URLs fetched as given).
    public var integrationID: String?
    public init(tenantID: String, folderID: String, fileName: String, format: ManifestFormat, ignoreErrors: Bool, integrationID: String?) {
        self.tenantID = tenantID
        self.folderID = folderID
        self.fileName = fileName
        self.format = format
        self.ignoreErrors = ignoreErrors
        self.integrationID = integrationID
    }
}

/// An integration record. `credentials` is the sealed envelope: open it with `decryptSecret`.
public struct StoredIntegration: Sendable {
    public var id: String
    public var name: String
    public var kind: IntegrationKind
    public var settings: IntegrationSettings
    /// `v1:KEYID:BASE64` (CredentialCipher); never shown.
    public var credentials: String
    public var keyID: String
    public var createdAt: String

    public init(id: String, name: String, kind: IntegrationKind, settings: IntegrationSettings, credentials: String, keyID: String, createdAt: String) {
        self.id = id
        self.name = name
        self.kind = kind
        self.settings = settings
        self.credentials = credentials
        self.keyID = keyID
        self.createdAt = createdAt
    }

    /// Binds a ciphertext to its row: a blob pasted onto another row does not open.
    public static func associatedData(id: String) -> String { "registrar:integration:\(id)" }

    /// The secret, decrypted with `ring`.
    public func decryptSecret(ring: EncryptionKeyRing) throws -> IntegrationSecret {
        let plain = try CredentialCipher.open(credentials, ring: ring, associatedData: Self.associatedData(id: id))
        return try IntegrationSecret(serialized: plain)
    }
}

/// Why an integration operation was refused (operator errors, not faults): a name taken, an
/// integration still used by an unfinished job.
public struct IntegrationStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The tenant every deployment has (migration 1): the CLI acts for it, and the bootstrap key
/// (`REGISTRAR_BOOTSTRAP_API_KEY`) belongs to it.
public enum DefaultTenant {
    public static let id = "00000000-0000-0000-0000-000000000001"
}
