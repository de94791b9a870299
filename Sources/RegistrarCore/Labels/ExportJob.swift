/// The formats of `POST /v1/projects/{id}/exports`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case json, coco
    public var contentType: String { "application/json" }
}

/// An `export` job's parameters (`Job.params`), fixed when it is created: the project, what to
/// include, and the highest data-unit id the project had then (the snapshot the planner pages
/// over, so a re-plan after a crash gives the same chunks and the same file).
public struct ExportParams: Sendable, Equatable {
    public var projectID: String
    public var format: ExportFormat
    /// Only units whose task waits at this stage (uuid).
    public var stage: String?
    /// Only labels of these ontology feature hashes (objects and classifications); nil: all.
    public var featureHashes: [String]?
    public var signedURLs: Bool
    public var signedURLTTLSeconds: Int
    public var versionName: String?
    public var maxUnitID: Int64

    public init(projectID: String, format: ExportFormat, stage: String?, featureHashes: [String]?, signedURLs: Bool,
                signedURLTTLSeconds: Int, versionName: String?, maxUnitID: Int64) {
        self.projectID = projectID.lowercased(); self.format = format; self.stage = stage?.lowercased(); self.featureHashes = featureHashes
        self.signedURLs = signedURLs; self.signedURLTTLSeconds = signedURLTTLSeconds; self.versionName = versionName; self.maxUnitID = maxUnitID
    }

    public var json: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            ("projectId", .string(projectID)), ("format", .string(format.rawValue)), ("stage", opt(stage)),
            ("featureHashes", featureHashes.map { .array($0.map(JSONValue.string)) } ?? .null), ("signedUrls", .bool(signedURLs)),
            ("signedUrlTtlSeconds", .number(String(signedURLTTLSeconds))), ("versionName", opt(versionName)), ("maxUnitId", .number(String(maxUnitID))),
        ])
    }

    public static func parse(_ v: JSONValue) -> Result<ExportParams, DatasetAttachIssue> {
        guard case .string(let project)? = v["projectId"], UUIDText.isValid(project) else {
            return .failure(DatasetAttachIssue(field: "projectId", message: "must be a project id (a UUID)"))
        }
        guard let format = v["format"]?.stringValue.flatMap(ExportFormat.init(rawValue:)) else {
            return .failure(DatasetAttachIssue(field: "format", message: "must be json or coco"))
        }
        guard case .number(let n)? = v["maxUnitId"], let max = Int64(n), max >= 0 else {
            return .failure(DatasetAttachIssue(field: "maxUnitId", message: "must be a data unit id (a whole number ≥ 0)"))
        }
        var features: [String]?
        if case .array(let items)? = v["featureHashes"] { features = items.compactMap(\.stringValue) }
        return .success(ExportParams(projectID: project, format: format, stage: v["stage"]?.stringValue, featureHashes: features,
                                     signedURLs: v["signedUrls"] == .bool(true), signedURLTTLSeconds: v["signedUrlTtlSeconds"]?.intValue ?? 3600,
                                     versionName: v["versionName"]?.stringValue, maxUnitID: max))
    }
}

/// One chunk of an `export` job: the data units (ids, ascending) whose rows it writes into one
/// part file; unit index = `firstUnit` + position.
public struct ExportChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var tenantID: String
    public var firstUnit: Int
    public var unitIDs: [Int64]

    public init(jobID: String, seq: Int, tenantID: String, firstUnit: Int, unitIDs: [Int64]) {
        self.jobID = jobID; self.seq = seq; self.tenantID = tenantID; self.firstUnit = firstUnit; self.unitIDs = unitIDs
    }

    public var bytes: [UInt8] {
        Array(("{\"job\":\"\(jobID)\",\"seq\":\(seq),\"tenant\":\"\(tenantID)\",\"first\":\(firstUnit),\"units\":["
               + unitIDs.map(String.init).joined(separator: ",") + "]}").utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> ExportChunk? {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"], case .string(let tenant)? = v["tenant"],
              let seq = v["seq"]?.intValue, let first = v["first"]?.intValue, case .array(let items)? = v["units"] else { return nil }
        let ids = items.compactMap { $0.intValue.map(Int64.init) }
        guard ids.count == items.count else { return nil }
        return ExportChunk(jobID: job, seq: seq, tenantID: tenant, firstUnit: first, unitIDs: ids)
    }

    /// The storage key of this chunk's part file.
    public static func partKey(job: String, seq: Int) -> String {
        let n = String(seq)
        return "exports/\(job.lowercased())/parts/" + String(repeating: "0", count: max(0, 7 - n.count)) + n + ".json"
    }
}
