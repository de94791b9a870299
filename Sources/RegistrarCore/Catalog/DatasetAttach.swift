/// What attaching a file that is already in the dataset does: Encord's `DataLinkDuplicatesBehavior`.
public enum DuplicatesBehavior: String, Sendable, CaseIterable {
    /// The file stays as it is; the unit counts `skipped` (the default).
    case skip = "SKIP"
    /// The unit fails with `already_in_dataset`; the other units are attached, and the job ends `ERROR`.
    case fail = "FAIL"
    /// A new data unit for the file: `copy` is one more than its highest copy.
    case duplicate = "DUPLICATE"
}

/// A `dataset-attach` job's parameters (`Job.params`), fixed when the job is created: the
/// folders with the highest file id each had then (the snapshot the planner pages over, so a
/// re-plan after a crash yields the same chunks and files registered later are not part of the
/// job), and the single files (sorted, without repeats, without files of the listed folders).
public struct DatasetAttachParams: Sendable, Equatable {
    public struct FolderSnapshot: Sendable, Equatable {
        public var id: String
        public var maxFileID: Int64
        public init(id: String, maxFileID: Int64) { self.id = id; self.maxFileID = maxFileID }
    }
    public var datasetID: String
    public var duplicates: DuplicatesBehavior
    public var folders: [FolderSnapshot]
    public var fileIDs: [Int64]
    /// Started by creating a mirrored dataset (for the folder's files of that moment).
    public var mirror: Bool

    public init(datasetID: String, duplicates: DuplicatesBehavior, folders: [FolderSnapshot], fileIDs: [Int64], mirror: Bool = false) {
        self.datasetID = datasetID; self.duplicates = duplicates; self.folders = folders; self.fileIDs = fileIDs; self.mirror = mirror
    }

    public var json: JSONValue {
        .object([("datasetId", .string(datasetID)), ("duplicates", .string(duplicates.rawValue)),
                 ("folders", .array(folders.map { .object([("id", .string($0.id)), ("maxFileId", .number(String($0.maxFileID)))]) })),
                 ("fileIds", .array(fileIDs.map { .number(String($0)) })), ("mirror", .bool(mirror))])
    }

    /// Reads stored parameters; the failure names the field.
    public static func parse(_ v: JSONValue) -> Result<DatasetAttachParams, DatasetAttachIssue> {
        guard case .string(let dataset)? = v["datasetId"], UUIDText.isValid(dataset) else { return .failure(.init(field: "datasetId", message: "must be a dataset id")) }
        guard case .string(let d)? = v["duplicates"], let dup = DuplicatesBehavior(rawValue: d) else {
            return .failure(.init(field: "duplicates", message: "must be SKIP, FAIL or DUPLICATE"))
        }
        var folders: [FolderSnapshot] = []
        if case .array(let items)? = v["folders"] {
            for (i, item) in items.enumerated() {
                guard case .string(let id)? = item["id"], case .number(let n)? = item["maxFileId"], let max = Int64(n) else {
                    return .failure(.init(field: "folders[\(i)]", message: "must be {id, maxFileId}"))
                }
                folders.append(FolderSnapshot(id: id, maxFileID: max))
            }
        }
        var files: [Int64] = []
        if case .array(let items)? = v["fileIds"] {
            for (i, item) in items.enumerated() {
                guard case .number(let n) = item, let id = Int64(n) else { return .failure(.init(field: "fileIds[\(i)]", message: "must be a file id")) }
                files.append(id)
            }
        }
        var mirror = false
        if case .bool(let b)? = v["mirror"] { mirror = b }
        return .success(DatasetAttachParams(datasetID: dataset, duplicates: dup, folders: folders, fileIDs: files, mirror: mirror))
    }
}

/// A parameter that does not read as it should, by field.
public struct DatasetAttachIssue: Error, Sendable, Equatable {
    public var field: String
    public var message: String
    public init(field: String, message: String) { self.field = field; self.message = message }
}

/// One chunk of an attach job: the files to attach (unit index = `firstUnit` + position).
public struct DatasetAttachChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var tenantID: String
    public var datasetID: String
    public var duplicates: DuplicatesBehavior
    public var firstUnit: Int
    public var fileIDs: [Int64]

    public init(jobID: String, seq: Int, tenantID: String, datasetID: String, duplicates: DuplicatesBehavior, firstUnit: Int, fileIDs: [Int64]) {
        self.jobID = jobID; self.seq = seq; self.tenantID = tenantID; self.datasetID = datasetID; self.duplicates = duplicates
        self.firstUnit = firstUnit; self.fileIDs = fileIDs
    }

    public var bytes: [UInt8] {
        var out = "{\"job\":\"\(jobID)\",\"seq\":\(seq),\"tenant\":\"\(tenantID)\",\"dataset\":\"\(datasetID)\","
        out += "\"duplicates\":\"\(duplicates.rawValue)\",\"first\":\(firstUnit),\"files\":["
        out += fileIDs.map(String.init).joined(separator: ",")
        return Array((out + "]}").utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> DatasetAttachChunk? {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"], case .string(let tenant)? = v["tenant"],
              case .string(let dataset)? = v["dataset"], case .string(let d)? = v["duplicates"], let dup = DuplicatesBehavior(rawValue: d),
              case .number(let s)? = v["seq"], let seq = Int(s), case .number(let f)? = v["first"], let first = Int(f),
              case .array(let items)? = v["files"] else { return nil }
        var ids: [Int64] = []
        ids.reserveCapacity(items.count)
        for item in items {
            guard case .number(let n) = item, let id = Int64(n) else { return nil }
            ids.append(id)
        }
        return DatasetAttachChunk(jobID: job, seq: seq, tenantID: tenant, datasetID: dataset, duplicates: dup, firstUnit: first, fileIDs: ids)
    }
}
