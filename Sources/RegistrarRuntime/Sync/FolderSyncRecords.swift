import RegistrarCore

/// The `folder-sync` job kind (docs/sync.md): a folder bound to a bucket prefix, kept in step
/// with it by jobs on the engine.
public enum FolderSync {
    public static let kind = "folder-sync"
    public static let queues = KindQueues.named(kind)
    /// Objects probed per chunk.
    public static let chunkUnits = 250
    /// Most bytes of a sidecar read (client metadata is small; Encord caps it well below this).
    public static let maxSidecarBytes = 256 * 1024
}

/// A folder's sync binding as stored.
public struct SyncBinding: Sendable, Equatable {
    public var folderID: String
    public var tenantID: String
    public var integrationID: String
    public var spec: SyncBindingSpec
    /// The greatest key a sync has listed (append-only bindings list after it).
    public var lastKey: String?
    public init(folderID: String, tenantID: String, integrationID: String, spec: SyncBindingSpec, lastKey: String? = nil) {
        self.folderID = folderID; self.tenantID = tenantID; self.integrationID = integrationID; self.spec = spec; self.lastKey = lastKey
    }
}

/// What one sync job does, kept in the job's params.
public struct SyncJobParams: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// List the prefix (from the start, or after `startAfter` for append-only bindings).
        case listing(startAfter: String?)
        /// A bucket notification: just these keys.
        case keys(created: [NotifiedKey], removed: [String])
    }
    public var folderID: String
    public var mode: Mode
    public init(folderID: String, mode: Mode) {
        self.folderID = folderID
        self.mode = mode
    }

    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("folderId", .string(folderID))]
        switch mode {
        case .listing(let after):
            members.append(("mode", .string("listing")))
            if let after { members.append(("startAfter", .string(after))) }
        case .keys(let created, let removed):
            members.append(("mode", .string("keys")))
            members.append(("created", .array(created.map { k in
                var o: [(key: String, value: JSONValue)] = [("key", .string(k.key))]
                if let s = k.size { o.append(("size", .number(String(s)))) }
                if let e = k.etag { o.append(("etag", .string(e))) }
                return .object(o)
            })))
            members.append(("removed", .array(removed.map(JSONValue.string))))
        }
        return .object(members)
    }

    public static func parse(_ v: JSONValue) -> Result<SyncJobParams, FieldError> {
        guard case .string(let folder)? = v["folderId"] else { return .failure(FieldError(field: "folderId", message: "missing")) }
        switch v["mode"] {
        case .string("listing")?:
            if case .string(let a)? = v["startAfter"] { return .success(SyncJobParams(folderID: folder, mode: .listing(startAfter: a))) }
            return .success(SyncJobParams(folderID: folder, mode: .listing(startAfter: nil)))
        case .string("keys")?:
            guard case .array(let c)? = v["created"], case .array(let r)? = v["removed"] else {
                return .failure(FieldError(field: "created", message: "keys mode needs created and removed"))
            }
            var created: [NotifiedKey] = []
            for item in c {
                guard case .string(let key)? = item["key"] else { return .failure(FieldError(field: "created.key", message: "missing")) }
                var size: Int64?
                if case .number(let n)? = item["size"] { size = Int64(n) }
                var etag: String?
                if case .string(let e)? = item["etag"] { etag = e }
                created.append(NotifiedKey(change: .created, key: key, size: size, etag: etag))
            }
            let removed = r.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            return .success(SyncJobParams(folderID: folder, mode: .keys(created: created, removed: removed)))
        default:
            return .failure(FieldError(field: "mode", message: "must be listing or keys"))
        }
    }
}

/// A chunk of a sync job on the wire: only its identity and where to read. The objects it
/// probes are the files the planner assigned to `(job, seq)` in the store, so a re-plan after a
/// crash and a redelivery both find exactly the same objects.
public struct FolderSyncChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var folderID: String
    public init(jobID: String, seq: Int, folderID: String) {
        self.jobID = jobID; self.seq = seq; self.folderID = folderID
    }
    public var bytes: [UInt8] {
        Array(JSONValue.object([("job", .string(jobID)), ("seq", .number(String(seq))), ("folder", .string(folderID))]).compactText.utf8)
    }
    public static func decode(_ body: [UInt8]) -> FolderSyncChunk? {
        guard let v = JSONValue.parse(body), case .string(let job)? = v["job"], case .number(let n)? = v["seq"], let seq = Int(n),
              case .string(let folder)? = v["folder"] else { return nil }
        return FolderSyncChunk(jobID: job, seq: seq, folderID: folder)
    }
}

/// One listed object and what the sync does with it, as the planner hands it to the store.
public struct SyncPlanEntry: Sendable, Equatable {
    public var object: SyncedObject
    public var action: SyncAction
    /// For probed entries: the unit index within the job (assigned by the planner).
    public var unit: Int?
    public init(object: SyncedObject, action: SyncAction, unit: Int? = nil) {
        self.object = object; self.action = action; self.unit = unit
    }
}

/// A file a sync chunk probes.
public struct SyncFile: Sendable, Equatable {
    public var fileID: Int64
    /// Its unit index within the probing job.
    public var unit: Int
    public var key: String
    /// `s3://bucket/key` (key path-encoded): read through the binding's integration.
    public var url: String
    public var type: DataType
    /// `key + suffix` was listed with it: its JSON becomes the file's client metadata.
    public var sidecarURL: String?
    public init(fileID: Int64, unit: Int, key: String, url: String, type: DataType, sidecarURL: String?) {
        self.fileID = fileID; self.unit = unit; self.key = key; self.url = url; self.type = type; self.sidecarURL = sidecarURL
    }
}

/// What a worker learned about a sync chunk's files, committed in one transaction.
public struct SyncProbeResult: Sendable {
    public enum Item: Sendable {
        case verified(fileID: Int64, info: MediaInfo, clientMetadata: String?)
        case failed(fileID: Int64, error: UnitError)
    }
    public var items: [Item]
    public init(items: [Item]) { self.items = items }
    public var errors: [UnitError] { items.compactMap { if case .failed(_, let e) = $0 { return e } else { return nil } } }
}

/// What a listing did so far, for the binding's status.
public struct SyncListingStats: Sendable, Equatable {
    public var listed = 0
    public var created = 0
    public var reprobed = 0
    public var restored = 0
    public var unchanged = 0
    public var ignored = 0
    public var tombstoned = 0
    public var complete = false
    public init() {}
    public var json: JSONValue {
        func n(_ v: Int) -> JSONValue { .number(String(v)) }
        return .object([("listed", n(listed)), ("created", n(created)), ("reprobed", n(reprobed)), ("restored", n(restored)),
                        ("unchanged", n(unchanged)), ("ignored", n(ignored)), ("tombstoned", n(tombstoned)), ("complete", .bool(complete))])
    }
}
