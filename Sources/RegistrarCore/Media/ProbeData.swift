/// The bytes a probe has of one object so far: one or more ranges (the first one always starts
/// at offset 0), and the object's total size when the server said it (`Content-Range`).
///
/// Probes are pure: they never fetch. When they need bytes they do not have, they say which
/// (`FormatParse.needBytes`), the caller fetches that range and calls them again with it added.
public struct ProbeData: Sendable {
    public private(set) var ranges: [(offset: Int64, bytes: [UInt8])]
    public var totalSize: Int64?

    public init(head: [UInt8], totalSize: Int64?) {
        ranges = [(0, head)]
        self.totalSize = totalSize
    }

    /// Adds a range read later (e.g. the tail of an MP4 whose `moov` box is at the end).
    public mutating func add(offset: Int64, bytes: [UInt8]) {
        ranges.append((offset, bytes))
        ranges.sort { $0.offset < $1.offset }
    }

    /// The first range (from offset 0).
    public var head: [UInt8] { ranges[0].bytes }

    /// Bytes read in all.
    public var bytesRead: Int { ranges.reduce(0) { $0 + $1.bytes.count } }

    /// Every byte of the object, when its size is known and the ranges held cover it from 0 to
    /// the end; nil otherwise. (No copy when the first range holds it all, the usual case.)
    public var wholeObject: ArraySlice<UInt8>? {
        guard let total = totalSize, total >= 0, total <= Int64(Int.max) else { return nil }
        let n = Int(total)
        if ranges[0].bytes.count >= n { return ranges[0].bytes[0..<n] }
        var covered: Int64 = 0
        for r in ranges where r.offset <= covered { covered = max(covered, r.offset + Int64(r.bytes.count)) }
        guard covered >= total else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        for r in ranges where r.offset <= Int64(out.count) {
            let skip = Int(Int64(out.count) - r.offset)
            if skip < r.bytes.count { out.append(contentsOf: r.bytes[skip..<min(r.bytes.count, skip + n - out.count)]) }
            if out.count >= n { break }
        }
        return out.count == n ? out[...] : nil
    }

    /// `count` bytes at `offset` if one range holds them all, else nil.
    public func bytes(at offset: Int64, count: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, count >= 0 else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(Int64(count))
        guard !overflow else { return nil }
        for r in ranges where offset >= r.offset && end <= r.offset + Int64(r.bytes.count) {
            let start = Int(offset - r.offset)
            return r.bytes[start..<(start + count)]
        }
        return nil
    }
}

/// A format parser's answer.
public enum FormatParse: Sendable, Equatable {
    /// Identified and described.
    case described(MediaInfo)
    /// More bytes are needed: the range to read next. The driver reads at most a few of these
    /// per object (see `ContentProber.maxRounds`).
    case needBytes(offset: Int64, length: Int)
    /// Not acceptable: a stable code (`corrupt`, `unsupported_type`, `dimensions_exceed_limit`,
    /// `too_large`, …) and a sentence for people.
    case refused(code: UnitErrorCode, message: String)
}

/// Limits a probe enforces, so a hostile header is refused without allocating.
public struct ProbeLimits: Sendable, Equatable {
    /// Largest width or height accepted for images and video frames.
    public var maxDimension = 100_000
    /// Largest width × height accepted.
    public var maxPixels: Int64 = 1_000_000_000
    /// Largest object accepted, in bytes (nil: no limit).
    public var maxObjectBytes: Int64? = nil
    public init() {}
}

/// The formats the sniffer recognises by content (never by extension).
public enum MediaFormat: String, Sendable, CaseIterable {
    // images
    case jpeg, png, gif, webp, bmp, tiff, avif, heif
    // video
    case mp4, mov, webm, matroska
    // audio
    case wav, mp3, flac, ogg, m4a
    // documents
    case pdf, dicom, nifti1, nifti2, gzip
    // text
    case text

    /// The usual MIME type, for messages ("Expected a video, got a file of type image/png").
    public var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .gif: return "image/gif"
        case .webp: return "image/webp"
        case .bmp: return "image/bmp"
        case .tiff: return "image/tiff"
        case .avif: return "image/avif"
        case .heif: return "image/heif"
        case .mp4: return "video/mp4"
        case .mov: return "video/quicktime"
        case .webm: return "video/webm"
        case .matroska: return "video/x-matroska"
        case .wav: return "audio/wav"
        case .mp3: return "audio/mpeg"
        case .flac: return "audio/flac"
        case .ogg: return "audio/ogg"
        case .m4a: return "audio/mp4"
        case .pdf: return "application/pdf"
        case .dicom: return "application/dicom"
        case .nifti1, .nifti2: return "application/x-nifti"
        case .gzip: return "application/gzip"
        case .text: return "text/plain"
        }
    }

    /// The data type a file of this format registers as (gzip: NIfTI when it decompresses to one).
    public var dataType: DataType? {
        switch self {
        case .jpeg, .png, .gif, .webp, .bmp, .tiff, .avif, .heif: return .image
        case .mp4, .mov, .webm, .matroska: return .video
        case .wav, .mp3, .flac, .ogg, .m4a: return .audio
        case .pdf: return .pdf
        case .dicom: return .dicomSeries
        case .nifti1, .nifti2, .gzip: return .nifti
        case .text: return .text
        }
    }
}
