/// Verifies objects by their content: sniffs the format from magic bytes (never the extension),
/// checks it is what the manifest declares, and describes it with the format's header parser.
/// Pure: when a parser needs more bytes it says which range (`FormatParse.needBytes`), the
/// caller fetches it and asks again, at most `maxRounds` times per object.
public struct ContentProber: MediaProber {
    public var limits: ProbeLimits
    /// Ranges read per object, the first included (an MP4 with `moov` at the end needs 2).
    public var maxRounds: Int

    public init(limits: ProbeLimits = ProbeLimits(), maxRounds: Int = 6) {
        self.limits = limits
        self.maxRounds = maxRounds
    }

    /// The format of `head`, or nil. Text is tried last: it is what is left when nothing binary matched.
    public static func sniff(_ head: ArraySlice<UInt8>) -> MediaFormat? {
        // A UTF-16 byte order mark is text before anything else (FF FE also starts an MPEG sync word).
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]), DocumentProbe.detect(head) == .text {
            return .text
        }
        return ImageProbe.detect(head) ?? AVProbe.detect(head) ?? DocumentProbe.detect(head)
    }

    public func probe(type: DataType, data: ProbeData, contentType: String?) -> FormatParse {
        describe(declared: type, data: data, contentType: contentType)
    }

    /// Like `probe`, but with no declared type (`registrar probe` without `--type`), the content
    /// alone decides and no type check applies.
    public func describe(declared type: DataType?, data: ProbeData, contentType: String?) -> FormatParse {
        if data.head.isEmpty || data.totalSize == 0 {
            return .refused(code: .emptyObject, message: "the object is empty")
        }
        if let max = limits.maxObjectBytes, let size = data.totalSize, size > max {
            return .refused(code: .tooLarge, message: "the object is \(size) bytes; the limit is \(max)")
        }
        guard let format = Self.sniff(data.head[...]) else {
            return .refused(code: .unsupportedType, message: "unrecognised content (\(Self.describeMagic(data.head)))")
        }
        let expected = type.map(Self.expectedType(for:))
        // MP4 and M4A share a container: the tracks decide, so AV formats are checked after parsing.
        if let expected, !Self.isISOMedia(format), let actual = format.dataType, !Self.compatible(expected: expected, actual: actual, format: format) {
            return .refused(code: .typeMismatch, message: Self.mismatch(expected, format))
        }
        let result: FormatParse
        switch format.dataType {
        case .image?: result = ImageProbe.parse(format, data, limits: limits)
        case .video?, .audio?: result = AVProbe.parse(format, data, limits: limits)
        default: result = DocumentProbe.parse(format, data, limits: limits)
        }
        guard case .described(var info) = result else { return result }
        if let expected, let actualFormat = info.format ?? Optional(format), Self.isISOMedia(actualFormat) {
            // A container's tracks decide: pictures make it a video, sound alone an audio file.
            let actual: DataType = info.width != nil || info.height != nil ? .video : .audio
            if !Self.compatible(expected: expected, actual: actual, format: actualFormat) {
                return .refused(code: .typeMismatch, message: Self.mismatch(expected, actualFormat, mime: info.mimeType))
            }
        }
        if info.format == nil { info.format = format }
        if info.size == nil { info.size = data.totalSize }
        return .described(info)
    }

    /// What a unit of `type` must contain, per file.
    static func expectedType(for type: DataType) -> DataType {
        switch type {
        case .imageGroup, .imageSequence: return .image
        default: return type
        }
    }

    static func compatible(expected: DataType, actual: DataType, format: MediaFormat) -> Bool {
        if expected == actual { return true }
        // An audio-only MP4 declared as a video is refused; a video declared as audio likewise.
        return false
    }

    /// Containers that hold video or audio alone (MP4/M4A, QuickTime, WebM, Matroska): their
    /// type is checked after parsing, from the tracks found.
    static func isISOMedia(_ f: MediaFormat) -> Bool { f == .mp4 || f == .mov || f == .m4a || f == .webm || f == .matroska }

    static func mismatch(_ expected: DataType, _ format: MediaFormat, mime: String? = nil) -> String {
        let noun: String
        switch expected {
        case .image: noun = "an image"
        case .video: noun = "a video"
        case .audio: noun = "an audio file"
        case .pdf: noun = "a PDF"
        case .text: noun = "a text file"
        case .dicomSeries: noun = "a DICOM file"
        case .nifti: noun = "a NIfTI file"
        default: noun = "a \(expected.rawValue)"
        }
        return "Expected \(noun), got a file of type \(mime ?? format.mimeType)"
    }

    /// The first bytes in hex, for an unrecognised-content message (never more than 8 bytes:
    /// fetched content is not echoed into errors).
    static func describeMagic(_ head: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return "starts with " + head.prefix(8).map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: " ")
    }
}
