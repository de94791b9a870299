/// Reads a CSV registration manifest (Encord's format) as a stream of items.
///
/// The header row decides the type of the rows under it (headers are case-insensitive;
/// spaces and underscores inside them are ignored):
/// - `ObjectUrl, Video title` → videos; a lone `ObjectUrl` column → videos (legacy form)
/// - `ObjectUrl, Image title` → images
/// - `ObjectUrl, Image group title, Create video` → image groups (`false`) or image sequences
///   (`true` or blank: Encord's default is true)
/// - `ObjectUrl, Series title` (or `Dicom title`) → DICOM series
/// A multi-type file repeats a header row whenever the type changes.
///
/// Grouping: consecutive rows with the same group/series title form one unit, in file order.
/// Rows of one group must be contiguous: a title that comes back after other rows is refused
/// with `csv_group_not_contiguous` rather than guessed at. That keeps memory bounded to one
/// group however large the file is (see docs/manifests.md, "Manifest formats").
public struct CSVManifestReader: ManifestReader {
    private enum Kind: Equatable {
        case video, image, group, dicom

        var label: String {
            switch self {
            case .video: return "Video title"
            case .image: return "Image title"
            case .group: return "Image group title"
            case .dicom: return "Series title"
            }
        }
    }

    private struct Header {
        var kind: Kind
        var urlColumn: Int
        var urlName: String
        var titleColumn: Int?
        var createVideoColumn: Int?
        var line: Int
    }

    /// The group or series being accumulated.
    private struct OpenGroup {
        var kind: Kind
        var title: String
        var createVideo: Bool
        var raw: RawItem
        var closedBefore: Bool
    }

    private var rows: CSVRowReader
    private let limits: ManifestLimits
    private var counter: EntryCounter
    private var issues: [ManifestIssue] = []
    private var header: Header?
    private var open: OpenGroup?
    /// Hashes of (kind, title) of groups already emitted, to catch non-contiguous rows.
    private var closedGroups = Set<Int>()
    private var pending: [ManifestEntry] = []
    private var pendingHead = 0
    private var dataRows = 0
    private var finished = false

    public let options = ManifestOptions() // CSV has no file-level flags; submit options apply.

    public init(source: some ByteSource, limits: ManifestLimits = .default, blockSize: Int = 1 << 20) {
        rows = CSVRowReader(source: source, maxLineBytes: limits.maxCSVLineBytes,
                            maxTotalBytes: limits.maxFileBytes, blockSize: blockSize)
        self.limits = limits
        counter = EntryCounter(limits: limits)
    }

    public var bytesRead: Int64 { rows.bytesRead }
    public var peakBufferedBytes: Int { rows.peakBufferedBytes }

    public mutating func takeIssues() -> [ManifestIssue] {
        defer { issues.removeAll(keepingCapacity: true) }
        return issues
    }

    public mutating func next() throws -> ManifestEntry? {
        while true {
            if pendingHead < pending.count {
                let e = pending[pendingHead]
                pendingHead += 1
                if pendingHead == pending.count { pending.removeAll(keepingCapacity: true); pendingHead = 0 }
                return e
            }
            if finished { return nil }
            guard let row = try rows.next() else {
                try closeGroup()
                finished = true
                if header == nil {
                    throw ManifestError(.emptyManifest, "the CSV manifest has no rows")
                }
                continue
            }
            try handle(row)
        }
    }

    // MARK: - Rows

    private static let headerNames: Set<String> = ["objecturl", "videotitle", "imagetitle", "imagegrouptitle", "seriestitle",
                                                   "dicomtitle", "createvideo"]

    /// A header row names the `ObjectUrl` column; once a header is known, the row's cell in the
    /// current URL column must itself be a header name too — so a data row whose *title* happens
    /// to read "Object URL" stays a data row.
    private func isHeaderRow(_ fields: [String]) -> Bool {
        guard fields.contains(where: Self.isObjectURLHeader) else { return false }
        guard let header else { return true }
        guard header.urlColumn < fields.count else { return true }
        return Self.headerNames.contains(Self.normalizedHeader(fields[header.urlColumn]))
    }

    /// Whether a cell is the `ObjectUrl` header (any case, spaces/underscores ignored), without
    /// allocating: this runs on every cell of every row, since a header may come back anywhere.
    private static func isObjectURLHeader(_ cell: String) -> Bool {
        var matched = 0
        let target: StaticString = "objecturl"
        return target.withUTF8Buffer { t in
            for b in cell.utf8 {
                if b == 0x20 || b == 0x5F || b == 0x09 { continue }
                guard matched < t.count, (b | 0x20) == t[matched] else { return false }
                matched += 1
            }
            return matched == t.count
        }
    }

    private static func normalizedHeader(_ cell: String) -> String {
        String(cell.lowercased().unicodeScalars.filter { $0 != " " && $0 != "_" && $0 != "\t" })
    }

    private mutating func handle(_ row: CSVRow) throws {
        let fields = row.fields
        if fields.allSatisfy({ $0.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 } }) { return } // blank row
        if isHeaderRow(fields) {
            try closeGroup()
            header = try parseHeader(fields, names: fields.map(Self.normalizedHeader), line: row.line)
            return
        }
        guard let header else {
            throw ManifestError(.csvMissingHeader, item: "line \(row.line)",
                                "the first row must be a header naming the ObjectUrl column (e.g. \"ObjectUrl,Image title\")",
                                line: row.line)
        }
        dataRows += 1
        let url = header.urlColumn < fields.count ? fields[header.urlColumn] : ""
        let title = header.titleColumn.flatMap { $0 < fields.count ? trim(fields[$0]) : nil } ?? ""
        let location = ItemLocation(section: "csv", indexInSection: dataRows - 1, line: row.line)
        let urlField = RawItem.URLField(field: header.urlName, value: url)

        switch header.kind {
        case .video, .image:
            try closeGroup()
            var raw = RawItem(type: header.kind == .video ? .video : .image, location: location, fromCSV: true)
            raw.url = urlField
            raw.title = title.isEmpty ? nil : title
            try emit(raw)
        case .group, .dicom:
            var createVideo = true
            var createVideoError: ManifestIssue?
            if header.kind == .group, let c = header.createVideoColumn, c < fields.count {
                switch trim(fields[c]).lowercased() {
                case "", "true": createVideo = true
                case "false": createVideo = false
                default:
                    createVideoError = ManifestIssue(.error, .invalidCreateVideo, item: location.itemName, field: "Create video",
                                                     message: "Create video must be true, false or blank, got '\(ObjectURLCheck.clip(fields[c], 40))'",
                                                     line: row.line)
                }
            }
            if title.isEmpty {
                try closeGroup()
                // A blank series title makes the file its own series (Encord); a group needs a title.
                var raw = RawItem(type: header.kind == .dicom ? .dicomSeries : (createVideo ? .imageSequence : .imageGroup),
                                  location: location, fromCSV: true)
                raw.indexedURLs = [(0, urlField)]
                if header.kind == .group {
                    raw.issues.append(ManifestIssue(.error, .missingTitle, item: location.itemName, field: "Image group title",
                                                    message: "the image group title is blank; it decides which group the row belongs to",
                                                    line: row.line))
                }
                if let createVideoError { raw.issues.append(createVideoError) }
                try emit(raw)
                return
            }
            if var g = open, g.kind == header.kind, g.title == title {
                g.raw.indexedURLs.append((g.raw.indexedURLs.count, RawItem.URLField(field: "\(header.urlName) (line \(row.line))", value: url)))
                g.raw.location.lastLine = row.line
                if let createVideoError { g.raw.issues.append(createVideoError) }
                if header.kind == .group && createVideo != g.createVideo {
                    g.raw.issues.append(ManifestIssue(.error, .invalidCreateVideo, item: g.raw.location.itemName, field: "Create video",
                                                      message: "rows of '\(ObjectURLCheck.clip(title, 60))' disagree on Create video (line \(row.line))",
                                                      line: row.line))
                }
                open = g
                // Don't hold a group larger than the whole-file limit: emitting it now makes the
                // counter refuse the manifest at once.
                if g.raw.indexedURLs.count + counter.urls > limits.maxURLs { try closeGroup() }
                return
            }
            try closeGroup()
            let type: DataType = header.kind == .dicom ? .dicomSeries : (createVideo ? .imageSequence : .imageGroup)
            var raw = RawItem(type: type, location: location, fromCSV: true)
            raw.indexedURLs = [(0, RawItem.URLField(field: "\(header.urlName) (line \(row.line))", value: url))]
            raw.title = title
            if let createVideoError { raw.issues.append(createVideoError) }
            let closedBefore = closedGroups.contains(groupHash(header.kind, title))
            open = OpenGroup(kind: header.kind, title: title, createVideo: createVideo, raw: raw, closedBefore: closedBefore)
        }
    }

    private mutating func parseHeader(_ fields: [String], names: [String], line: Int) throws -> Header {
        var urlColumn = -1
        var titles: [(Kind, Int)] = []
        var createVideoColumn: Int?
        var ignored: [String] = []
        for (i, name) in names.enumerated() {
            switch name {
            case "objecturl": if urlColumn < 0 { urlColumn = i } else { ignored.append(fields[i]) }
            case "videotitle": titles.append((.video, i))
            case "imagetitle": titles.append((.image, i))
            case "imagegrouptitle": titles.append((.group, i))
            case "seriestitle", "dicomtitle": titles.append((.dicom, i))
            case "createvideo": createVideoColumn = i
            case "": break
            default: ignored.append(fields[i])
            }
        }
        guard titles.count <= 1 else {
            throw ManifestError(.invalidCSV, item: "line \(line)",
                                "the header names more than one title column (\(titles.map { $0.0.label }.joined(separator: ", "))); use one header row per type",
                                line: line)
        }
        if !ignored.isEmpty {
            issues.append(ManifestIssue(.warning, .csvIgnoredColumn, item: "line \(line)",
                                        message: "column\(ignored.count == 1 ? "" : "s") \(ignored.map { "'\($0)'" }.joined(separator: ", ")) ignored",
                                        line: line))
        }
        let kind = titles.first?.0 ?? .video
        if kind != .group && createVideoColumn != nil && kind != .image && kind != .video {
            issues.append(ManifestIssue(.warning, .csvIgnoredColumn, item: "line \(line)",
                                        message: "'Create video' applies only to image groups and is ignored here", line: line))
        }
        return Header(kind: kind, urlColumn: urlColumn, urlName: fields[urlColumn].trimmingASCIISpaces,
                      titleColumn: titles.first?.1, createVideoColumn: createVideoColumn, line: line)
    }

    private mutating func closeGroup() throws {
        guard let g = open else { return }
        open = nil
        var raw = g.raw
        if g.closedBefore {
            raw.issues.append(ManifestIssue(.error, .csvGroupNotContiguous, item: raw.location.itemName, field: g.kind.label,
                                            message: "rows titled '\(ObjectURLCheck.clip(g.title, 60))' continue a group that ended earlier in the file; keep a group's rows together",
                                            line: raw.location.line))
        }
        closedGroups.insert(groupHash(g.kind, g.title))
        try emit(raw)
    }

    private mutating func emit(_ raw: RawItem) throws {
        pending.append(try counter.emit(raw, warnings: &issues))
    }

    private func groupHash(_ kind: Kind, _ title: String) -> Int {
        var h = Hasher()
        h.combine(kind == .dicom)
        h.combine(title)
        return h.finalize()
    }

    private func trim(_ s: String) -> String { s.trimmingASCIISpaces }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs.
    var trimmingASCIISpaces: String {
        let u = utf8
        guard let first = u.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = u.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        if first == u.startIndex && last == u.index(before: u.endIndex) { return self }
        return String(self[first...last])
    }
}
