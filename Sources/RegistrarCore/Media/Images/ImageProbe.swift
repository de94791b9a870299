/// Image header probing: recognises JPEG, PNG, GIF, WebP, BMP, TIFF, AVIF and HEIF by their
/// magic bytes and reads width and height from their headers.
///
/// Pure: no I/O, no Foundation, nothing allocated in proportion to declared dimensions, and
/// no traps on hostile input. When the header lies beyond the bytes held (a JPEG whose EXIF/ICC
/// segments push the frame header past the first 64 KiB, a TIFF whose IFD is at the end, an
/// AVIF/HEIF whose `meta` box follows `mdat`) the answer is `.needBytes` for the range to read
/// next; the caller adds it to the `ProbeData` and calls `parse` again.
///
/// Dimensions are those a viewer shows: PNG, GIF, WebP, BMP and TIFF as stored; JPEG after its
/// EXIF orientation (a quarter turn swaps width and height, as browsers display it; the
/// orientation is recorded, `MediaOrientation`); AVIF/HEIF after the primary item's
/// clean-aperture crop (`clap`) and rotation (`irot`), as in libheif.
public enum ImageProbe {
    /// The image format of `head` by magic bytes, or nil when it is none of them.
    public static func detect(_ head: ArraySlice<UInt8>) -> MediaFormat? {
        let r = ImageByteReader(head)
        func starts(_ magic: [UInt8]) -> Bool {
            guard head.count >= magic.count else { return false }
            for (i, b) in magic.enumerated() where r.byte(at: i) != b { return false }
            return true
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)), r.uint(at: 8, width: 4, .big) == UInt64(imageFourCC("WEBP")) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B]) {
            return .tiff
        }
        if starts([0x42, 0x4D]), let dib = r.uint(at: 14, width: 4, .little),
           BMPImageParser.headerSizes.contains(dib) {
            return .bmp
        }
        if r.uint(at: 4, width: 4, .big) == UInt64(imageFourCC("ftyp")) {
            return HEIFImageParser.kind(ofFtypIn: head)
        }
        return nil
    }

    /// Describes the image whose bytes `data` holds (some of), or says which bytes to read next,
    /// or refuses it (`corrupt`, `dimensions_exceed_limit`, `empty_object`, `too_large`,
    /// `unsupported_type`).
    public static func parse(_ format: MediaFormat, _ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        if data.totalSize == 0 || (data.totalSize == nil && data.bytesRead == 0) {
            return .refused(code: .emptyObject, message: "the object is empty")
        }
        if let total = data.totalSize, total < 0 {
            return .refused(code: .corrupt, message: "the object's size is negative (\(total))")
        }
        if let max = limits.maxObjectBytes, let total = data.totalSize, total > max {
            return .refused(code: .tooLarge, message: "the object is \(total) bytes; the limit is \(max)")
        }
        let source = ImageProbeSource(data)
        let found: ImageDimensions
        do throws(ImageParseStop) {
            switch format {
            case .jpeg: found = try JPEGImageParser.dimensions(source)
            case .png: found = try PNGImageParser.dimensions(source)
            case .gif: found = try GIFImageParser.dimensions(source)
            case .webp: found = try WebPImageParser.dimensions(source)
            case .bmp: found = try BMPImageParser.dimensions(source)
            case .tiff: found = try TIFFImageParser.dimensions(source)
            case .avif, .heif: found = try HEIFImageParser.dimensions(source)
            default:
                return .refused(code: .unsupportedType, message: "\(format.rawValue) is not an image format")
            }
        } catch {
            switch error {
            case .need(let offset, let length): return .needBytes(offset: offset, length: length)
            case .corrupt(let message): return .refused(code: .corrupt, message: "\(formatName(format)): \(message)")
            }
        }
        let described = describe(found, data: data, limits: limits)
        // The whole object in hand: it must also end where its format says (a header alone,
        // cut from a larger picture, is not an image).
        if case .described = described, let whole = data.wholeObject, let problem = ImageEndCheck.problem(format, whole) {
            return .refused(code: .corrupt, message: "\(formatName(format)): \(problem)")
        }
        return described
    }

    private static func formatName(_ format: MediaFormat) -> String {
        switch format {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .gif: return "GIF"
        case .webp: return "WebP"
        case .bmp: return "BMP"
        case .tiff: return "TIFF"
        case .avif: return "AVIF"
        case .heif: return "HEIF"
        default: return format.rawValue
        }
    }

    static func mimeType(_ format: MediaFormat, heic: Bool = true) -> String? {
        switch format {
        // HEIF's own MIME type when the brand says HEIC (`MediaFormat.mimeType` names the family).
        case .heif: return heic ? "image/heic" : "image/heif"
        case .jpeg, .png, .gif, .webp, .bmp, .tiff, .avif: return format.mimeType
        default: return nil
        }
    }

    private static func describe(_ found: ImageDimensions, data: ProbeData, limits: ProbeLimits) -> FormatParse {
        let name = formatName(found.format)
        guard found.width > 0, found.height > 0 else {
            return .refused(code: .corrupt, message: "\(name): the header declares \(found.width)×\(found.height) pixels (zero width or height)")
        }
        let (pixels, overflow) = Int64(found.width).multipliedReportingOverflow(by: Int64(found.height))
        if found.width > limits.maxDimension || found.height > limits.maxDimension || overflow || pixels > limits.maxPixels {
            return .refused(
                code: .dimensionsExceedLimit,
                message: "\(name): the header declares \(found.width)×\(found.height) pixels; the limits are \(limits.maxDimension) per side and \(limits.maxPixels) in all")
        }
        var info = MediaInfo()
        info.format = found.format
        // The displayed picture's sides (MediaOrientation): a quarter turn swaps them.
        let swap = MediaOrientation.swapsSides(found.orientation)
        info.width = swap ? found.height : found.width
        info.height = swap ? found.width : found.height
        info.orientation = found.orientation
        info.mimeType = mimeType(found.format, heic: found.heic)
        info.size = data.totalSize
        info.probeRequests = data.ranges.count
        info.probeBytes = data.bytesRead
        return .described(info)
    }
}

/// What an image parser found. Width and height come from at most 32-bit header fields, so
/// they always fit in `Int` on the 64-bit platforms the project runs on.
struct ImageDimensions {
    var format: MediaFormat
    var width: Int
    var height: Int
    /// HEIF only: the brands say HEVC-coded (`image/heic`) rather than generic HEIF.
    var heic = true
    /// JPEG only: the EXIF orientation (1–8), when the file has one.
    var orientation: Int?

    init(_ format: MediaFormat, width: UInt64, height: UInt64, heic: Bool = true) {
        self.format = format
        self.width = Int(clamping: width)
        self.height = Int(clamping: height)
        self.heic = heic
    }
}
