/// Pure header parsers for video (MP4, MOV, WebM, Matroska) and audio (WAV, MP3, FLAC, Ogg
/// Vorbis/Opus/FLAC/Speex, M4A): sniffing by content and describing an object from the bytes a
/// caller holds, asking for at most a few more ranges (`FormatParse.needBytes`) when the header
/// is elsewhere.
///
/// No I/O, no Foundation; nothing allocated in proportion to a size the file declares; every
/// read bounds-checked and every offset sum checked, so hostile input ends in `.refused` or a
/// `.needBytes` inside the object, never a trap or an endless loop.
///
/// Reads per object (head included), in the usual case / at most:
/// - MP4/MOV/M4A: 1 with `moov` in the head / 2 with `moov` at the end (3 when `moov` is over
///   4 MiB); fragmented files with no duration in `mvhd`/`mehd` whose fragments run past the head:
///   3 (the last 64 KiB for `mfra`, then the last `moof`).
/// - WebM/Matroska: 1 / 2 (Info or Tracks past the head, or the tail when Info has no Duration).
/// - WAV: 1 / a few (one per chunk header past the head before `fmt ` and `data` are seen).
/// - MP3: 1 / 2 (audio after a large ID3v2 tag). FLAC: 1 / 2. Ogg: 2 (the last 64 KiB for the
///   final granule position) unless the head holds the whole object.
public enum AVProbe {
    /// The most ranges (head included) any supported layout needs; a driver allowing fewer gets
    /// `.needBytes` it cannot honour for those layouts.
    public static let maxRounds = 3

    /// The audio/video format of `head` (the object's first bytes), by content, or nil.
    /// ISO-BMFF `ftyp` with an image brand (AVIF, HEIF) answers nil: those are images.
    public static func detect(_ head: ArraySlice<UInt8>) -> MediaFormat? {
        let r = AVByteReader(head)
        if r.bytes.count >= 12, r.matches(Array("ftyp".utf8), at: 4) {
            guard let major = r.uintBE(at: 8, 4).map({ UInt32($0) }) else { return nil }
            if imageBrands.contains(major) { return nil }
            switch avFourCCString(major) {
            case "qt": return .mov
            case "M4A", "M4B", "M4P", "F4A", "F4B": return .m4a
            default: return .mp4
            }
        }
        if r.bytes.count >= 8, let size = r.uintBE(at: 0, 4), size >= 8 || size == 1 || size == 0,
           let type = r.uintBE(at: 4, 4).map({ UInt32($0) }),
           [MP4Box.moov, MP4Box.mdat, MP4Box.wide, MP4Box.pnot].contains(type) {
            return .mov
        }
        if r.matches([0x1A, 0x45, 0xDF, 0xA3]) {
            switch MatroskaParser.docType(r) {
            case "webm"?: return .webm
            case "matroska"?, nil: return .matroska
            default: return nil
            }
        }
        if r.bytes.count >= 12, r.matches(Array("RIFF".utf8)) || r.matches(Array("RF64".utf8)) || r.matches(Array("BW64".utf8)),
           r.matches(Array("WAVE".utf8), at: 8) {
            return .wav
        }
        if r.matches(Array("fLaC".utf8)) { return .flac }
        if r.matches(Array("OggS".utf8)), r.byte(at: 4) == 0 { return .ogg }
        if r.matches(Array("ID3".utf8)) {
            guard let v = r.byte(at: 3), v >= 2, v <= 4, let size = MP3Parser.id3Size(r) else { return nil }
            if size <= Int64(r.bytes.count - 4), r.matches(Array("fLaC".utf8), at: Int(size)) { return .flac }
            return .mp3
        }
        if let h = MP3Frame(r, at: 0) {
            // A lone sync word is weak evidence (a UTF-16LE BOM, FF FE, reads as one): the next
            // frame must follow. Heads are 64 KiB, so a head too short to hold it is a whole object
            // smaller than two frames — accepted only if it is exactly one frame.
            if h.length + 4 <= r.bytes.count {
                guard let next = MP3Frame(r, at: h.length), next.matches(h) else { return nil }
            } else if h.length != r.bytes.count {
                return nil
            }
            return .mp3
        }
        return nil
    }

    /// Describes an object of `format` (as `detect` found it) from the bytes in `data`, or names
    /// the range it needs next, or refuses it (`corrupt`, `unsupported_type`,
    /// `dimensions_exceed_limit`, `too_large`, `empty_object`).
    public static func parse(_ format: MediaFormat, _ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        if data.head.isEmpty || data.totalSize == 0 {
            return .refused(code: .emptyObject, message: "the object is empty")
        }
        if let max = limits.maxObjectBytes, let t = data.totalSize, t > max {
            return .refused(code: .tooLarge, message: "the object is \(t) bytes; at most \(max) are accepted")
        }
        let src = AVSource(data)
        let result: FormatParse
        switch format {
        case .mp4, .mov, .m4a: result = MP4Parser.parse(src, detected: format, limits: limits)
        case .webm, .matroska: result = MatroskaParser.parse(src, detected: format, limits: limits)
        case .wav: result = WAVParser.parse(src)
        case .mp3: result = MP3Parser.parse(src)
        case .flac:
            // FLAC behind an ID3v2 tag (non-standard, but written by some taggers): skip the tag.
            let id3 = AVByteReader(data.head[...]).matches(Array("ID3".utf8))
            result = id3 ? MP3Parser.parse(src) : FLACParser.parse(src, at: 0)
        case .ogg: result = OggParser.parse(src)
        default:
            return .refused(code: .unsupportedType, message: "\(format.rawValue) is not an audio or video format")
        }
        if case .described(var info) = result {
            info.size = info.size ?? data.totalSize
            // Defence in depth: no NaN, infinite or negative numbers leave the parser.
            if let d = info.duration, !(d.isFinite && d >= 0 && d < 1e12) { info.duration = nil }
            if let f = info.fps, !(f.isFinite && f > 0) { info.fps = nil }
            return .described(info)
        }
        return result
    }

    static let imageBrands: Set<UInt32> = Set(["avif", "avis", "heic", "heix", "heim", "heis", "hevc", "hevx",
                                               "mif1", "mif2", "msf1", "heif", "jpeg", "crx "].map { s in
        s.utf8.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
    })

    /// `dimensions_exceed_limit` when a frame is wider, taller or larger than `limits` allow.
    static func checkDimensions(_ w: Int, _ h: Int, _ limits: ProbeLimits) -> FormatParse? {
        let (pixels, overflow) = Int64(w).multipliedReportingOverflow(by: Int64(h))
        if w > limits.maxDimension || h > limits.maxDimension || overflow || pixels > limits.maxPixels {
            return .refused(code: .dimensionsExceedLimit,
                            message: "the video is \(w)×\(h); the limit is \(limits.maxDimension) per side and \(limits.maxPixels) pixels")
        }
        return nil
    }
}
