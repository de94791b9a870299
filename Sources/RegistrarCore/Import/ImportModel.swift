/// The other tools whose manifests `registrar convert --from` reads. The mapping of each is
/// documented in docs/importers.md, with what does not carry over.
public enum ImportSource: String, Sendable, CaseIterable {
    /// Label Studio task JSON: a list of tasks `{id, data: {image|video|audio|text|…: URL}, …}`.
    case labelstudio
    /// CVAT's dataset manifest (`manifest.jsonl`) for images or for one video.
    case cvat
    /// Labelbox data rows (`row_data`, `global_key`, `media_type`, `metadata_fields`,
    /// `attachments`), as a JSON list or NDJSON (creation payloads or export lines).
    case labelbox
}

/// Options a conversion needs besides the input.
public struct ImportOptions: Sendable {
    /// Prefix that turns relative names (CVAT's) into object URLs, e.g. `s3://bucket/prefix/`.
    public var baseURL: String?
    /// Largest single task/row/line, in serialised bytes; larger ones are refused, not held.
    public var maxRecordBytes = 1 << 20
    public init(baseURL: String? = nil) { self.baseURL = baseURL }
}

/// One converted item, ready to be written as an item of our JSON manifest.
public struct ImportedItem: Sendable, Equatable {
    public var type: DataType
    public var objectURL: String
    public var title: String?
    /// Kept verbatim under the item's `clientMetadata`.
    public var clientMetadata: JSONValue?

    public init(type: DataType, objectURL: String, title: String? = nil, clientMetadata: JSONValue? = nil) {
        self.type = type
        self.objectURL = objectURL
        self.title = title
        self.clientMetadata = clientMetadata
    }

    /// The key of our JSON manifest that holds items of this type (single-URL types only).
    public var section: String { ImportedItem.section(for: type) }

    public static func section(for type: DataType) -> String {
        switch type {
        case .image: return "images"
        case .video: return "videos"
        case .audio: return "audio"
        case .pdf: return "pdfs"
        case .text: return "text"
        case .nifti: return "nifti"
        case .imageGroup, .imageSequence: return "image_groups"
        case .dicomSeries: return "dicom_series"
        }
    }

    /// The item as compact JSON text: `{"objectUrl":…,"title":…,"clientMetadata":…}`.
    public var jsonText: String {
        var members: [(key: String, value: JSONValue)] = [("objectUrl", .string(objectURL))]
        if let title { members.append(("title", .string(title))) }
        if let clientMetadata { members.append(("clientMetadata", clientMetadata)) }
        return JSONValue.object(members).compactText
    }
}

/// An input item that could not be converted: which one, which field, why.
public struct ImportRefusal: Sendable, Equatable, CustomStringConvertible {
    /// `line 12`, `task[3] (line 40)`, `row[7]`…
    public var item: String
    public var field: String?
    public var message: String

    public init(item: String, field: String?, _ message: String) {
        self.item = item
        self.field = field
        self.message = message
    }

    public var description: String {
        field.map { "\(item), \($0): \(message)" } ?? "\(item): \(message)"
    }
}

/// A fault that stops the whole conversion (the input is not the format it was said to be).
public struct ImportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a conversion did, for the summary `registrar convert` prints.
public struct ImportSummary: Sendable {
    /// Items converted, per type.
    public var converted: [DataType: Int] = [:]
    /// Refused items; the first `maxListed` are kept, `refusedCount` is the total.
    public var refusals: [ImportRefusal] = []
    public var refusedCount = 0
    /// Records read and deliberately not turned into items (CVAT header and key-frame lines).
    public var skippedRecords = 0
    /// Input fields that do not carry over, with how many items held them
    /// (`annotations` → 40): printed so nothing is dropped silently.
    public var notCarried: [String: Int] = [:]
    public var maxListed = 1000

    public init() {}

    public var convertedCount: Int { converted.values.reduce(0, +) }

    mutating func refuse(_ refusal: ImportRefusal) {
        refusedCount += 1
        if refusals.count < maxListed { refusals.append(refusal) }
    }

    mutating func dropped(_ field: String) { notCarried[field, default: 0] += 1 }
}

/// URL checks shared by the importers: what our manifest reader would refuse is refused here,
/// by item and field, so the written manifest validates.
enum ImportURL {
    static let schemes = ["https://", "http://", "s3://", "gs://"]

    /// nil when the URL can go into our manifest, else why not.
    static func problem(_ url: String) -> String? {
        if url.isEmpty { return "empty URL" }
        let lower = url.lowercased()
        guard schemes.contains(where: { lower.hasPrefix($0) }) else {
            if url.hasPrefix("/data/") || url.hasPrefix("/") {
                return "'\(clip(url))' is a path on the tool's own server (an upload or local file), not a cloud URL"
            }
            if let colon = url.firstIndex(of: ":") {
                return "scheme '\(url[..<colon])' is not supported (https, http, s3, gs)"
            }
            return "'\(clip(url))' is not an absolute URL"
        }
        if url.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return "the URL contains whitespace"
        }
        return nil
    }

    /// Joins a base URL and a relative name, percent-encoding the name's path segments
    /// (CVAT names are file paths, and may hold spaces or `#`).
    static func join(base: String, name: String) -> String {
        var out = base
        if !out.hasSuffix("/") { out += "/" }
        var rel = Substring(name)
        while rel.hasPrefix("/") { rel = rel.dropFirst() }
        out += rel.split(separator: "/", omittingEmptySubsequences: false).map { encodeSegment($0) }.joined(separator: "/")
        return out
    }

    private static func encodeSegment(_ s: Substring) -> String {
        var out = ""
        for b in s.utf8 {
            let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            // Sub-delims and ':' '@' are legal in a path segment and common in object keys.
            let legal = unreserved || "!$&'()*+,;=:@".utf8.contains(b)
            if legal { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    static func clip(_ s: String) -> String { s.count > 80 ? String(s.prefix(77)) + "..." : s }

    /// The type a URL's extension suggests (image, video, audio, pdf, text), else nil.
    static func guessType(_ url: String) -> DataType? {
        switch TypeHint.type(forURL: url) {
        case .image?: return .image
        case .video?: return .video
        case .audio?: return .audio
        case .pdf?: return .pdf
        case .text?: return .text
        case .nifti?: return .nifti
        default: return nil
        }
    }
}

extension String {
    /// Without leading/trailing blanks (our manifest reader trims URLs the same way, with a warning).
    var importTrimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
