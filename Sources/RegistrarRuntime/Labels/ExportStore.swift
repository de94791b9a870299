import RegistrarCore

/// One data unit as an export chunk reads it: its facts, its saved row (nil: never saved) and
/// what COCO's file names need.
public struct ExportSource: Sendable {
    public var facts: LabelUnitFacts
    public var row: String?
    public var frameURLs: [String]
    public var sopInstanceUIDs: [String]
    /// The integration the file was registered with (its URLs are signed with it), or nil.
    public var integrationID: String?
    public init(facts: LabelUnitFacts, row: String?, frameURLs: [String], sopInstanceUIDs: [String], integrationID: String? = nil) {
        self.facts = facts; self.row = row; self.frameURLs = frameURLs; self.sopInstanceUIDs = sopInstanceUIDs
        self.integrationID = integrationID
    }
}

/// A chunk's part file, as recorded in the chunk's commit.
public struct ExportPartRecord: Sendable, Equatable {
    public var seq: Int
    public var key: String
    /// Rows in the part, and (COCO) the images, annotations and tracks it holds.
    public var rows: Int
    public var images: Int
    public var annotations: Int
    public var tracks: Int
    public init(seq: Int, key: String, rows: Int, images: Int, annotations: Int, tracks: Int) {
        self.seq = seq; self.key = key; self.rows = rows; self.images = images; self.annotations = annotations; self.tracks = tracks
    }
}

/// An export as the API shows it.
public struct ExportRecord: Sendable {
    public var jobID: String
    public var projectID: String
    public var projectTitle: String
    public var params: ExportParams
    /// The assembled file, once someone asked for it after the job ended.
    public var file: StoredObject?
    public init(jobID: String, projectID: String, projectTitle: String, params: ExportParams, file: StoredObject?) {
        self.jobID = jobID; self.projectID = projectID; self.projectTitle = projectTitle; self.params = params; self.file = file
    }
}

/// Exports on a store (docs/labels.md, "Exports"): the `export` kind's reads and guarded
/// commits, and the API's records of exports and their assembled files.
public protocol ExportStore: AnyObject {
    /// Creates the export's job (kind `export`) with its total and snapshot, and its record.
    /// `params.maxUnitID` is filled in by the store. nil: no such project for the tenant.
    func createExport(tenantID: String, params: ExportParams) throws -> String?
    func exportRecord(tenantID: String, jobID: String) throws -> ExportRecord?
    func exportUnitCount(params: ExportParams) throws -> Int
    /// Up to `limit` data-unit ids of the project's datasets in (`after`, `maxUnitID`], ascending.
    func exportUnitIDs(projectID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64]
    /// The units' sources, ascending, leaving out units not in the project (any more) or whose
    /// task is not at `stage` when one is given.
    func exportSources(projectID: String, unitIDs: [Int64], stage: String?) throws -> [ExportSource]
    /// The project's ontology structure text and title.
    func exportProject(projectID: String) throws -> (title: String, ontology: String?)?
    /// Records a chunk's part inside the engine's guarded commit (`exported` rows done, the rest skipped).
    func commitExportPart(_ chunk: ExportChunk, part: ExportPartRecord?, failAll: DeadLetter?) throws -> CommitOutcome
    /// The parts of a job, by seq.
    func exportParts(jobID: String) throws -> [ExportPartRecord]
    /// Records the assembled file unless one is recorded; returns the recorded one.
    func recordExportFile(jobID: String, file: StoredObject) throws -> StoredObject
}
