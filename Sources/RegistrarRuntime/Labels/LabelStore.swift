import RegistrarCore

/// Everything a label-row read or write needs about one data unit of a project, read together.
public struct LabelRowContext: Sendable {
    /// The project's ontology structure (normalised JSON text); nil when the project has none.
    public var ontology: String?
    public var facts: LabelUnitFacts
    /// The stored row (JSON text, `to_encord_dict()` order) and its version; nil / 0 when never saved.
    public var stored: String?
    public var version: Int
    /// The stored row's label hash and creation time (seconds since 1970), when saved.
    public var labelHash: String?
    public var createdAt: Double?
    public init(ontology: String?, facts: LabelUnitFacts, stored: String?, version: Int, labelHash: String?, createdAt: Double?) {
        self.ontology = ontology; self.facts = facts; self.stored = stored; self.version = version
        self.labelHash = labelHash; self.createdAt = createdAt
    }
}

/// How a guarded label-row write ended.
public enum LabelWriteOutcome: Sendable, Equatable {
    /// Stored; the new version.
    case saved(version: Int)
    /// The stored version is no longer the one the writer read (HTTP 412).
    case stale(current: Int)
    /// The data unit is not (or no longer) in the project.
    case notFound
}

/// Filters of a label-row listing.
public struct LabelRowFilter: Sendable, Equatable {
    /// The task's stage (uuid), if any.
    public var stage: String?
    /// Label statuses (`NOT_LABELLED`, `LABEL_IN_PROGRESS`, …); empty: all.
    public var labelStatuses: [String] = []
    public init(stage: String? = nil, labelStatuses: [String] = []) { self.stage = stage; self.labelStatuses = labelStatuses }
}

/// Label rows (docs/labels.md): one per data unit per project, keyed by the data unit's
/// `dataHash` (the same id the task API shows), written whole with an optimistic version
/// (the API's `ETag` / `If-Match`) instead of Encord's last-writer-wins.
public protocol LabelStore: AnyObject {
    /// The unit's context, or nil when the project is not the tenant's or the unit is not in one
    /// of its datasets (a unit with a task in the project).
    func labelRowContext(tenantID: String, projectID: String, dataHash: String) throws -> LabelRowContext?
    /// Stores `row` if the stored version is still `expected` (0: never saved), raising it by one.
    func saveLabelRow(projectID: String, dataHash: String, expected: Int, row: String, labelHash: String, labelStatus: String,
                      actor: String?) throws -> LabelWriteOutcome
    /// A page of the project's label rows, one per task (units never saved come as facts, for
    /// the empty row), ordered by data hash.
    func labelRows(projectID: String, filter: LabelRowFilter, after: Int64?, limit: Int) throws -> (rows: [LabelRowItem], next: Int64?)
    /// The data hash of each of these tasks of the project (task uuid, lower case → data hash);
    /// tasks not in the project are left out. `SUBMIT` uses it to check `required` labels.
    func taskDataHashes(projectID: String, taskUUIDs: [String]) throws -> [String: String]
}

/// One item of a label-row listing: the stored row, or the facts of a unit never saved.
public enum LabelRowItem: Sendable {
    case stored(String)
    case unsaved(LabelUnitFacts)
}
