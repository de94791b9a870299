/// Caps that keep a manifest — and a hostile one especially — cheap to refuse.
/// Defaults are Encord's per-file limits where Encord has one; the rest are generous bounds
/// that no real manifest reaches but that stop JSON bombs early.
public struct ManifestLimits: Sendable, Equatable {
    /// URLs per manifest (Encord: 1,000,000).
    public var maxURLs = 1_000_000
    /// Units per manifest (Encord: 500,000 "items").
    public var maxUnits = 500_000
    /// Bytes per URL (Encord: 16 KB).
    public var maxURLBytes = 16 * 1024
    /// Characters per title (Encord: 300).
    public var maxTitleCharacters = 300
    /// Frames per image sequence (Encord: 32,767).
    public var maxSequenceFrames = 32_767
    /// Bytes per manifest file. A 1M-URL manifest is ~150 MB; 2 GiB leaves room for metadata.
    public var maxFileBytes: Int64 = 2 * 1024 * 1024 * 1024
    /// JSON nesting depth (the manifest itself needs 3; client metadata gets the rest).
    public var maxDepth = 64
    /// Bytes in any one JSON string.
    public var maxStringBytes = 1024 * 1024
    /// Bytes of one item's client metadata and supplied metadata, serialised.
    public var maxItemMetadataBytes = 1024 * 1024
    /// Bytes in one CSV line (a 16 KB URL plus a title fits many times over).
    public var maxCSVLineBytes = 256 * 1024

    public init() {}

    public static let `default` = ManifestLimits()
}
