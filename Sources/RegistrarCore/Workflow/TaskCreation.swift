/// A `task-create` job's parameters (`Job.params`), fixed when a dataset is attached to a
/// project: the project, the dataset, and the highest data-unit id the dataset had then (the
/// snapshot the planner pages over, so a re-plan after a crash gives the same chunks; units that
/// join later get their tasks in the transaction that adds them).
public struct TaskCreateParams: Sendable, Equatable {
    public var projectID: String
    public var datasetID: String
    public var maxUnitID: Int64

    public init(projectID: String, datasetID: String, maxUnitID: Int64) {
        self.projectID = projectID.lowercased(); self.datasetID = datasetID.lowercased(); self.maxUnitID = maxUnitID
    }

    public var json: JSONValue {
        .object([("projectId", .string(projectID)), ("datasetId", .string(datasetID)), ("maxUnitId", .number(String(maxUnitID)))])
    }

    /// The parameters, or the field that does not read (`field`, `message`).
    public static func parse(_ v: JSONValue) -> Result<TaskCreateParams, DatasetAttachIssue> {
        guard case .string(let project)? = v["projectId"], UUIDText.isValid(project) else {
            return .failure(DatasetAttachIssue(field: "projectId", message: "must be a project id (a UUID)"))
        }
        guard case .string(let dataset)? = v["datasetId"], UUIDText.isValid(dataset) else {
            return .failure(DatasetAttachIssue(field: "datasetId", message: "must be a dataset id (a UUID)"))
        }
        guard case .number(let n)? = v["maxUnitId"], let max = Int64(n), max >= 0 else {
            return .failure(DatasetAttachIssue(field: "maxUnitId", message: "must be a data unit id (a whole number ≥ 0)"))
        }
        return .success(TaskCreateParams(projectID: project, datasetID: dataset, maxUnitID: max))
    }
}

/// One chunk of a `task-create` job: the data units (dataset_files ids, ascending) whose tasks
/// it creates; unit index = `firstUnit` + position.
public struct TaskCreateChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var tenantID: String
    public var projectID: String
    public var datasetID: String
    public var firstUnit: Int
    public var unitIDs: [Int64]

    public init(jobID: String, seq: Int, tenantID: String, projectID: String, datasetID: String, firstUnit: Int, unitIDs: [Int64]) {
        self.jobID = jobID; self.seq = seq; self.tenantID = tenantID; self.projectID = projectID; self.datasetID = datasetID
        self.firstUnit = firstUnit; self.unitIDs = unitIDs
    }

    public var bytes: [UInt8] {
        var out = "{\"job\":\"\(jobID)\",\"seq\":\(seq),\"tenant\":\"\(tenantID)\",\"project\":\"\(projectID)\",\"dataset\":\"\(datasetID)\","
        out += "\"first\":\(firstUnit),\"units\":["
        out += unitIDs.map(String.init).joined(separator: ",")
        return Array((out + "]}").utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> TaskCreateChunk? {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"], case .string(let tenant)? = v["tenant"],
              case .string(let project)? = v["project"], case .string(let dataset)? = v["dataset"],
              case .number(let s)? = v["seq"], let seq = Int(s), case .number(let f)? = v["first"], let first = Int(f),
              case .array(let items)? = v["units"] else { return nil }
        var ids: [Int64] = []
        ids.reserveCapacity(items.count)
        for item in items {
            guard case .number(let n) = item, let id = Int64(n) else { return nil }
            ids.append(id)
        }
        return TaskCreateChunk(jobID: job, seq: seq, tenantID: tenant, projectID: project, datasetID: dataset, firstUnit: first, unitIDs: ids)
    }
}

/// The filters of `GET /v1/projects/{id}/workflow/stages/{stage}/tasks` (Encord's names), checked.
public struct TaskFilter: Sendable, Equatable {
    public var userEmails: [String] = []
    public var dataHashes: [String] = []
    public var datasetHashes: [String] = []
    public var dataTitleContains: String?
    public var statuses: [TaskStatus] = []
    public init() {}
}
