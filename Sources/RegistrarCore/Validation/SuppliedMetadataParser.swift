/// Reads `videoMetadata`, `audioMetadata`, `imageMetadata`, `pdfMetadata` and `textMetadata`
/// blocks (and their snake_case spellings). Every field Encord's DTOs require must be present
/// and of the right JSON type; both `file_size` and `fileSize` styles are accepted per field.
enum SuppliedMetadataParser {
    struct Failure: Error {
        var issues: [(code: IssueCode, field: String, message: String)]
    }

    /// The data type a block key belongs to, or nil if `key` is not a metadata block key.
    static func blockType(forKey key: String) -> DataType? {
        switch key {
        case "videoMetadata", "video_metadata": return .video
        case "audioMetadata", "audio_metadata": return .audio
        case "imageMetadata", "image_metadata": return .image
        case "pdfMetadata", "pdf_metadata": return .pdf
        case "textMetadata", "text_metadata": return .text
        default: return nil
        }
    }

    static func parse(_ value: JSONValue, blockKey: String, for type: DataType) -> Result<SuppliedMetadata, Failure> {
        guard let blockType = blockType(forKey: blockKey) else {
            return .failure(Failure(issues: [(.unexpectedMetadata, blockKey, "unknown metadata block")]))
        }
        guard blockType == type else {
            return .failure(Failure(issues: [(.unexpectedMetadata, blockKey,
                                              "\(blockKey) does not apply to a \(type.rawValue) item")]))
        }
        guard case .object = value else {
            return .failure(Failure(issues: [(.invalidMetadataField, blockKey, "\(blockKey) must be an object, got \(value.kindName)")]))
        }
        var reader = FieldReader(block: value, blockKey: blockKey)
        let result: SuppliedMetadata?
        switch type {
        case .video:
            let fps = reader.double("fps"), duration = reader.double("duration")
            let width = reader.int("width"), height = reader.int("height")
            let size = reader.int("file_size", "fileSize"), mime = reader.string("mime_type", "mimeType")
            if let fps, let duration, let width, let height, let size, let mime {
                result = .video(.init(fps: fps, duration: duration, width: width, height: height, fileSize: size, mimeType: mime))
            } else { result = nil }
        case .audio:
            let duration = reader.double("duration"), size = reader.int("file_size", "fileSize")
            let mime = reader.string("mime_type", "mimeType"), rate = reader.int("sample_rate", "sampleRate")
            let depth = reader.int("bit_depth", "bitDepth"), codec = reader.string("codec")
            let channels = reader.int("num_channels", "numChannels")
            if let duration, let size, let mime, let rate, let depth, let codec, let channels {
                result = .audio(.init(duration: duration, fileSize: size, mimeType: mime, sampleRate: rate,
                                      bitDepth: depth, codec: codec, numChannels: channels))
            } else { result = nil }
        case .image:
            let mime = reader.string("mime_type", "mimeType"), size = reader.int("file_size", "fileSize")
            let width = reader.int("width"), height = reader.int("height")
            if let mime, let size, let width, let height {
                result = .image(.init(mimeType: mime, fileSize: size, width: width, height: height))
            } else { result = nil }
        case .pdf:
            let size = reader.int("file_size", "fileSize"), pages = reader.int("num_pages", "numPages")
            if let size, let pages { result = .pdf(.init(fileSize: size, numPages: pages)) } else { result = nil }
        case .text:
            let size = reader.int("file_size", "fileSize"), mime = reader.string("mime_type", "mimeType")
            if let size, let mime { result = .text(.init(fileSize: size, mimeType: mime)) } else { result = nil }
        default:
            result = nil
        }
        if let result, reader.issues.isEmpty { return .success(result) }
        return .failure(Failure(issues: reader.issues))
    }

    /// Reads typed fields from a block, collecting one issue per missing or mistyped field.
    private struct FieldReader {
        let block: JSONValue
        let blockKey: String
        var issues: [(code: IssueCode, field: String, message: String)] = []

        /// The value under the first spelling present, with the spelling used.
        private func lookup(_ names: [String]) -> (String, JSONValue)? {
            for n in names { if let v = block[n] { return (n, v) } }
            return nil
        }

        private mutating func missing(_ names: [String]) {
            issues.append((.missingMetadataField, "\(blockKey).\(names[0])",
                           "\(blockKey) is missing \(names.map { "'\($0)'" }.joined(separator: " or "))"))
        }

        private mutating func mistyped(_ name: String, _ expected: String, _ got: JSONValue) {
            issues.append((.invalidMetadataField, "\(blockKey).\(name)", "\(blockKey).\(name) must be \(expected), got \(got.kindName)"))
        }

        mutating func double(_ names: String...) -> Double? {
            guard let (name, v) = lookup(names) else { missing(names); return nil }
            guard case .number(let text) = v, let d = Double(text), d.isFinite, d >= 0 else {
                mistyped(name, "a non-negative number", v); return nil
            }
            return d
        }

        mutating func int(_ names: String...) -> Int? {
            guard let (name, v) = lookup(names) else { missing(names); return nil }
            guard case .number(let text) = v else { mistyped(name, "a non-negative integer", v); return nil }
            // Accept integral values written as 1280.0 or 1.28e3, as Python's int validation does.
            if let i = Int(text), i >= 0 { return i }
            if let d = Double(text), d >= 0, d.rounded() == d, d < 9.0e15 { return Int(d) }
            issues.append((.invalidMetadataField, "\(blockKey).\(name)", "\(blockKey).\(name) must be a non-negative integer, got \(text)"))
            return nil
        }

        mutating func string(_ names: String...) -> String? {
            guard let (name, v) = lookup(names) else { missing(names); return nil }
            guard case .string(let s) = v, !s.isEmpty else { mistyped(name, "a non-empty string", v); return nil }
            return s
        }
    }
}
