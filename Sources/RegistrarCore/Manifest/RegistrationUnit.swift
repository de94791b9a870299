/// Where an item came from, for error messages and for a later per-unit error report.
public struct ItemLocation: Sendable, Equatable, Hashable, Codable {
    /// The JSON section (`videos`, `image_groups`, …) or `csv`.
    public var section: String
    /// 0-based position within the section across the whole file (a repeated top-level key
    /// continues the count), or the CSV data-row number.
    public var indexInSection: Int
    /// 1-based first line of the item (for CSV groups: the group's first row).
    public var line: Int
    /// 1-based last line of a CSV group; nil otherwise.
    public var lastLine: Int?

    public init(section: String, indexInSection: Int, line: Int, lastLine: Int? = nil) {
        self.section = section
        self.indexInSection = indexInSection
        self.line = line
        self.lastLine = lastLine
    }

    /// `videos[3]`, `line 17` or `lines 5-9`.
    public var itemName: String {
        if section == "csv" {
            if let lastLine, lastLine != line { return "lines \(line)-\(lastLine)" }
            return "line \(line)"
        }
        return "\(section)[\(indexInSection)]"
    }
}

/// One validated unit, ready to be chunked: what a worker needs to verify and record it.
public struct RegistrationUnit: Sendable, Equatable {
    /// 0-based position among all items of the manifest, in file order. Stable: the same
    /// manifest always gives the same indices, which makes chunk ids deterministic.
    public var index: Int
    public var type: DataType
    /// The object URLs, in frame order for groups, sequences and series (repaired if a
    /// documented repair applied, otherwise exactly as written).
    public var urls: [String]
    /// How the title was decided: given in the manifest, or defaulted from the first URL.
    public var titleStyle: TitleStyle
    /// The title as given; nil when defaulted.
    public var givenTitle: String?
    /// The title limit that applies to a defaulted title (it keeps the end of a long path).
    public var maxTitleCharacters: Int
    /// The item's `clientMetadata` object as compact JSON text: keys in their original order,
    /// numbers exactly as written. Nil when absent.
    public var clientMetadata: String?
    /// Metadata the user supplied (`videoMetadata`, …); trusted, it skips probing.
    public var suppliedMetadata: SuppliedMetadata?
    /// Normalised URL (or newline-joined URL list) used to detect duplicates; see `URLKey`.
    public var urlKey: String
    public var location: ItemLocation

    public enum TitleStyle: Sendable, Equatable {
        /// Given in the manifest.
        case given
        /// Encord's JSON default: the URL's path, e.g. `/path/to/video23.mp4`.
        case urlPath
        /// Encord's CSV default: the original file name, e.g. `video23.mp4`.
        case fileName
    }

    /// The unit's title: as given, or the default derived from the first URL (percent-decoded;
    /// a path longer than the title limit keeps its last characters).
    public var title: String {
        if let givenTitle { return givenTitle }
        return RegistrationUnit.defaultTitle(style: titleStyle, url: urls[0], maxCharacters: maxTitleCharacters)
    }

    public static func defaultTitle(style: TitleStyle, url: String, maxCharacters: Int) -> String {
        let title = style == .fileName ? URLKey.fileName(of: url) : URLKey.decodedPath(of: url)
        return title.count > maxCharacters ? String(title.suffix(maxCharacters)) : title
    }

    public init(index: Int, type: DataType, urls: [String], titleStyle: TitleStyle = .given, givenTitle: String?,
                maxTitleCharacters: Int = ManifestLimits.default.maxTitleCharacters,
                clientMetadata: String? = nil, suppliedMetadata: SuppliedMetadata? = nil,
                urlKey: String, location: ItemLocation) {
        self.index = index
        self.type = type
        self.urls = urls
        self.titleStyle = givenTitle == nil ? (titleStyle == .given ? .urlPath : titleStyle) : .given
        self.givenTitle = givenTitle
        self.maxTitleCharacters = maxTitleCharacters
        self.clientMetadata = clientMetadata
        self.suppliedMetadata = suppliedMetadata
        self.urlKey = urlKey
        self.location = location
    }
}

/// An item that was refused. It still counts as a unit of the manifest (so counters stay exact
/// downstream), carries every URL that could be read, and every error found in it.
public struct RejectedItem: Sendable, Equatable {
    public var index: Int
    public var type: DataType?
    public var urls: [String]
    public var location: ItemLocation
    public var errors: [ManifestIssue]
}

/// What a manifest reader yields, one per item, in file order.
public enum ManifestEntry: Sendable, Equatable {
    case unit(RegistrationUnit)
    case rejected(RejectedItem)

    public var index: Int {
        switch self {
        case .unit(let u): return u.index
        case .rejected(let r): return r.index
        }
    }

    public var urlCount: Int {
        switch self {
        case .unit(let u): return u.urls.count
        case .rejected(let r): return r.urls.count
        }
    }
}

/// Settings that apply to the whole manifest. In JSON they may appear after the items (every
/// example in Encord's docs puts `skip_duplicate_urls` last), so they are final only once the
/// reader has reached the end.
public struct ManifestOptions: Sendable, Equatable {
    public var skipDuplicateURLs = false
    public init() {}
}
