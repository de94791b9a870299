/// A stable, machine-readable code for everything the manifest readers can say about their input.
/// The raw values are a contract: scripts match on them, so they never change meaning.
public enum IssueCode: String, Sendable, Codable, CaseIterable {
    // Whole-file faults (fatal: reading stops).
    case invalidJSON = "invalid_json"
    case invalidUTF8 = "invalid_utf8"
    case truncated = "truncated"
    case trailingData = "trailing_data"
    case emptyManifest = "empty_manifest"
    case notAnObject = "not_an_object"
    case nestingTooDeep = "nesting_too_deep"
    case stringTooLong = "string_too_long"
    case fileTooLarge = "file_too_large"
    case tooManyURLs = "too_many_urls"
    case tooManyUnits = "too_many_units"
    case invalidCSV = "invalid_csv"
    case csvLineTooLong = "csv_line_too_long"
    case csvMissingHeader = "csv_missing_header"
    case csvGroupNotContiguous = "csv_group_not_contiguous"
    case readFailed = "read_failed"

    // Item errors: the item is refused, the rest of the file is still read.
    case missingObjectURL = "missing_object_url"
    case emptyObjectURL = "empty_object_url"
    case invalidType = "invalid_type"
    case invalidURL = "invalid_url"
    case unsupportedScheme = "unsupported_scheme"
    case urlTooLong = "url_too_long"
    case urlContainsWhitespace = "url_contains_whitespace"
    /// A user name or password in the URL (`https://user:pw@host/…`). Refused, and the whole
    /// manifest with it (even with ignore-errors), so the secret is never stored.
    case urlContainsCredentials = "url_contains_credentials"
    case titleTooLong = "title_too_long"
    case missingTitle = "missing_title"
    case urlIndexGap = "url_index_gap"
    case duplicateField = "duplicate_field"
    case sequenceTooLong = "sequence_too_long"
    case missingMetadataField = "missing_metadata_field"
    case invalidMetadataField = "invalid_metadata_field"
    case unexpectedMetadata = "unexpected_metadata"
    case metadataTooLarge = "metadata_too_large"
    case notAnItemObject = "not_an_item_object"
    case invalidCreateVideo = "invalid_create_video"

    // Warnings: the input was accepted, possibly after a documented repair.
    case trailingComma = "trailing_comma"
    case duplicateKey = "duplicate_key"
    case unknownKey = "unknown_key"
    case unknownField = "unknown_field"
    case urlRepaired = "url_repaired"
    case urlTrimmed = "url_trimmed"
    case titleDefaulted = "title_defaulted"
    case titleTruncated = "title_truncated"
    case urlIndexStartsAtOne = "url_index_starts_at_one"
    case duplicateURL = "duplicate_url"
    case emptySection = "empty_section"
    case typeHintMismatch = "type_hint_mismatch"
    case csvIgnoredColumn = "csv_ignored_column"
}

/// One finding about a manifest: which item, which field, a stable code and a sentence for people.
public struct ManifestIssue: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case warning, error }

    public var severity: Severity
    public var code: IssueCode
    /// The item, e.g. `videos[3]` (JSON) or `line 17` (CSV); `manifest` for whole-file findings.
    public var item: String
    /// The field within the item, e.g. `objectUrl_2` or `videoMetadata.fps`; nil when none applies.
    public var field: String?
    public var message: String
    /// 1-based line of the item or fault, when known.
    public var line: Int?
    /// 0-based byte offset of the fault, for whole-file syntax faults.
    public var offset: Int?

    public init(_ severity: Severity, _ code: IssueCode, item: String, field: String? = nil,
                message: String, line: Int? = nil, offset: Int? = nil) {
        self.severity = severity
        self.code = code
        self.item = item
        self.field = field
        self.message = message
        self.line = line
        self.offset = offset
    }

    public var description: String {
        var where_ = item
        if let field { where_ += " \(field)" }
        // Say the line once: CSV items are named by line, syntax messages carry line and column.
        if let line, !item.hasPrefix("line"), !message.contains("(line ") { where_ += " (line \(line))" }
        return "\(where_): \(code.rawValue): \(message)"
    }
}

/// A fault that stops reading the manifest: syntax, encoding, limits. Items read before it
/// were well-formed, but a manifest with a fatal fault is never registered in part.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issue: ManifestIssue

    public init(_ code: IssueCode, item: String = "manifest", field: String? = nil,
                _ message: String, line: Int? = nil, offset: Int? = nil) {
        issue = ManifestIssue(.error, code, item: item, field: field, message: message,
                              line: line, offset: offset)
    }

    public var code: IssueCode { issue.code }
    public var description: String { issue.description }
}
