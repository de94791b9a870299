/// A streaming manifest reader: yields one entry per item, in file order, holding only the
/// current item in memory. Both formats conform.
///
/// Contract:
/// - `next()` returns each item exactly once with consecutive indices from 0, then nil.
/// - Item problems come back as `.rejected` entries; whole-file problems (syntax, encoding,
///   limits) are thrown as `ManifestError` and end reading.
/// - Warnings (and whole-file errors that do not stop reading, such as a mistyped
///   `skip_duplicate_urls`) accumulate inside the reader; callers drain them as they go with
///   `takeIssues()`, so a million warnings never pile up there.
/// - `options` is final once `next()` has returned nil.
public protocol ManifestReader {
    mutating func next() throws -> ManifestEntry?
    mutating func takeIssues() -> [ManifestIssue]
    var options: ManifestOptions { get }
    /// Bytes consumed so far.
    var bytesRead: Int64 { get }
    /// Most bytes held in the reader's own buffers at once.
    var peakBufferedBytes: Int { get }
}

/// Manifest file formats.
public enum ManifestFormat: String, Sendable, CaseIterable {
    case json, csv

    /// Guesses the format from a file name's extension, else from the first non-blank byte
    /// (`{` or `[` means JSON).
    public static func detect(fileName: String, firstBytes: [UInt8]) -> ManifestFormat {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".csv") { return .csv }
        var bytes = firstBytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let first = bytes.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .json : .csv
    }
}

/// Makes the reader for a format.
public func makeManifestReader(format: ManifestFormat, source: some ByteSource,
                               limits: ManifestLimits = .default) -> any ManifestReader {
    switch format {
    case .json: return JSONManifestReader(source: source, limits: limits)
    case .csv: return CSVManifestReader(source: source, limits: limits)
    }
}
