import RegistrarCore

// Datasets (docs/datasets.md): the API's port and the `dataset-attach` kind's store port.

/// Who created a dataset, for `WorkspaceAccess.mayModify`.
public struct DatasetOwner: Sendable, Equatable {
    public var id: String
    public var createdBy: String?
    public var mirroredFolderID: String?
    public init(id: String, createdBy: String?, mirroredFolderID: String?) {
        self.id = id; self.createdBy = createdBy; self.mirroredFolderID = mirroredFolderID
    }
}

/// What creating a dataset did.
public enum DatasetCreation: Sendable, Equatable {
    /// The dataset's JSON, and the attach job started for a mirrored folder that already had files.
    case created(json: String, attachJobID: String?)
    /// The mirrored folder is not the tenant's.
    case folderNotFound(String)
}

/// What deleting a dataset did.
public enum DatasetDeleteOutcome: Sendable, Equatable {
    case deleted, notFound
    /// Projects use it (their ids, sorted).
    case inUse([String])
}

/// What an attach or detach request named that the tenant does not have.
public enum DatasetTargetOutcome: Error, Sendable, Equatable {
    /// Attach: the new job's id. Detach: memberships removed.
    case attachJob(String)
    case detached(Int)
    case datasetNotFound
    /// `folder` or `file`, and the id as given.
    case targetNotFound(what: String, id: String)
}

/// Datasets as the API shows them. Tenant-scoped like every API port (another tenant's dataset,
/// folder or file is "not found"); JSON built by the store.
public protocol DatasetStore: AnyObject {
    /// Creates a dataset (`{id, title, description, mirroredFolderId, createdBy, createdAt, fileCount, byType}`).
    /// With a mirrored folder: the folder row is locked while the dataset is created, so a
    /// registration commit into the folder either finished before (its files are in the attach
    /// job this starts, when the folder has files) or sees the dataset (its files join by
    /// themselves): no file is missed. The job is created, not published (the caller publishes).
    func createDataset(tenantID: String, title: String, description: String?, mirroredFolderID: String?, createdBy: String?) throws -> DatasetCreation
    /// A dataset's JSON with its data-unit count and counts by file type.
    func dataset(tenantID: String, id: String) throws -> String?
    func datasetOwner(tenantID: String, id: String) throws -> DatasetOwner?
    /// The tenant's datasets by id (the cursor is the last id).
    func datasets(tenantID: String, after: String?, limit: Int) throws -> JSONPage
    /// Changes the title and/or the description (`.some(nil)` clears it); the new JSON, nil when not found.
    func updateDataset(tenantID: String, id: String, title: String?, description: String??) throws -> String?
    /// Deletes a dataset (its memberships go with it) unless a project uses it.
    func deleteDataset(tenantID: String, id: String) throws -> DatasetDeleteOutcome
    /// The dataset's data units by membership id (`{id, fileId, copy, type, title, url, folderId, jobId, addedAt}`,
    /// URLs redacted); nil when the dataset is not the tenant's.
    func datasetFiles(tenantID: String, datasetID: String, after: Int64, limit: Int) throws -> JSONPage?
    /// Checks every folder and file is the tenant's, fixes the snapshot (each folder's highest
    /// file id now) and creates a `dataset-attach` job (not published). Refuses with the first
    /// id that is not the tenant's.
    func createAttachJob(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64], duplicates: DuplicatesBehavior) throws -> DatasetTargetOutcome
    /// Removes every copy of the listed files and of the folders' files from the dataset, in one transaction.
    func detach(tenantID: String, datasetID: String, folderIDs: [String], fileIDs: [Int64]) throws -> DatasetTargetOutcome
    /// Any engine job of the tenant as the API shows it: its kind and what `UploadSnapshot` needs.
    func anyJobExtras(tenantID: String, jobID: String, window: Int) throws -> (kind: String, extras: JobExtras)?
}

/// The `dataset-attach` kind's rows: what its planner reads and its handler commits.
public protocol DatasetAttachStore: AnyObject {
    /// Files of the job's snapshot (each folder's files up to its `maxFileId`, plus the single files).
    func attachUnitCount(tenantID: String, params: DatasetAttachParams) throws -> Int
    /// Up to `limit` file ids of one folder with ids in (`after`, `maxFileID`], ascending.
    func folderFileIDs(folderID: String, after: Int64, maxFileID: Int64, limit: Int) throws -> [Int64]
    /// Commits a chunk's memberships inside the engine's ledger-guarded transaction.
    func commitAttach(_ chunk: DatasetAttachChunk, failAll: DeadLetter?) throws -> CommitOutcome
}

/// The attach kind's unit error codes.
extension UnitErrorCode {
    /// FAIL: the file is in the dataset already.
    public static let alreadyInDataset: UnitErrorCode = "already_in_dataset"
    /// The file was deleted after the job was created.
    public static let fileGone: UnitErrorCode = "file_gone"
    /// The dataset was deleted while the job ran.
    public static let datasetGone: UnitErrorCode = "dataset_gone"
}
