/// One manifest item as read, before validation: what the JSON and CSV readers both produce, so
/// that the rules live in one place (`ItemValidator`).
public struct RawItem: Sendable {
    /// A field value with where it was written.
    public struct URLField: Sendable {
        public var field: String
        public var value: String
        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }

    public var type: DataType
    public var location: ItemLocation
    public var fromCSV: Bool
    /// `objectUrl` for single-file types; nil if absent.
    public var url: URLField?
    /// `objectUrl_N` for groups, sequences and series, keyed by N (any order; sorted later).
    public var indexedURLs: [(n: Int, url: URLField)] = []
    public var title: String?
    public var clientMetadata: String?
    /// Supplied metadata blocks as written: (key as written, value).
    public var metadataBlocks: [(key: String, value: JSONValue)] = []
    /// Errors and warnings already found while reading (wrong JSON types, unknown fields…).
    public var issues: [ManifestIssue] = []

    public init(type: DataType, location: ItemLocation, fromCSV: Bool) {
        self.type = type
        self.location = location
        self.fromCSV = fromCSV
    }

    /// Every URL value read, in frame order where known (for rejected-item reports).
    var allURLValues: [String] {
        if let url { return [url.value] }
        return indexedURLs.sorted { $0.n < $1.n }.map(\.url.value)
    }
}
