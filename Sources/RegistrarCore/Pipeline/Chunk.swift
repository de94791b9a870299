/// A chunk: up to N consecutive manifest entries plus the job context a worker needs, so that
/// workers never read the manifest. Its id `(jobID, seq)` is deterministic from the manifest,
/// which makes republishing after a crash harmless.
public struct Chunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var folderID: String
    public var skipDuplicates: Bool
    public var entries: [ManifestEntry]

    public init(jobID: String, seq: Int, folderID: String, skipDuplicates: Bool, entries: [ManifestEntry]) {
        self.jobID = jobID
        self.seq = seq
        self.folderID = folderID
        self.skipDuplicates = skipDuplicates
        self.entries = entries
    }

    public var firstUnit: Int { entries.first?.index ?? 0 }
    public var urlCount: Int { entries.reduce(0) { $0 + $1.urlCount } }
}

/// Groups a stream of entries into chunks: at most `maxUnits` units and (so that a chunk of big
/// image groups still finishes well inside the broker's consumer timeout) at most `maxURLs` URLs,
/// except that one unit is never split.
public struct ChunkPlanner: Sendable {
    public var maxUnits: Int
    public var maxURLs: Int
    private var pending: [ManifestEntry] = []
    private var pendingURLs = 0

    public init(maxUnits: Int = 500, maxURLs: Int = 2000) {
        precondition(maxUnits > 0 && maxURLs > 0)
        self.maxUnits = maxUnits
        self.maxURLs = maxURLs
    }

    /// Adds an entry; returns the previous chunk's entries when this entry would not fit in it.
    public mutating func add(_ entry: ManifestEntry) -> [ManifestEntry]? {
        var out: [ManifestEntry]?
        if !pending.isEmpty && (pending.count >= maxUnits || pendingURLs + entry.urlCount > maxURLs) {
            out = pending
            pending = []
            pendingURLs = 0
        }
        pending.append(entry)
        pendingURLs += entry.urlCount
        return out
    }

    /// The last, partial chunk, if any.
    public mutating func finish() -> [ManifestEntry]? {
        defer { pending = []; pendingURLs = 0 }
        return pending.isEmpty ? nil : pending
    }
}
