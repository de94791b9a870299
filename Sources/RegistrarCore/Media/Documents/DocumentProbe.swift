/// Sniffing and header parsing for documents and scientific formats: PDF, DICOM Part 10,
/// NIfTI-1/-2 (raw and gzip-compressed) and text (plain, CSV, HTML, XML, JSON).
///
/// Pure: no I/O, no Foundation. `parse` reads only the bytes in `ProbeData`; when it needs more
/// it answers `.needBytes` and is called again with them added. Every read is bounds-checked,
/// nothing is allocated in proportion to a size the file declares, and every loop is bounded.
public enum DocumentProbe {
    /// The document format the first bytes show, or nil. Text is the fallback: call this after
    /// the binary sniffers (images, audio, video) have had their say.
    public static func detect(_ head: ArraySlice<UInt8>) -> MediaFormat? {
        let r = DocByteReader(head)
        if PDFProbe.headerOffset(r) != nil { return .pdf }
        if r.matches(Array("DICM".utf8), at: 128) { return .dicom }
        if NIfTIProbe.kind(r) == .nifti1 { return .nifti1 }
        if NIfTIProbe.kind(r) == .nifti2 { return .nifti2 }
        if r.u8(at: 0) == 0x1F, r.u8(at: 1) == 0x8B, r.u8(at: 2) == 8 { return .gzip }
        if TextProbe.classify(head) != nil { return .text }
        return nil
    }

    /// Describes an object of a document format, or says which bytes it needs next.
    public static func parse(_ format: MediaFormat, _ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        if data.ranges.allSatisfy({ $0.bytes.isEmpty }) || data.totalSize == 0 {
            return .refused(code: .emptyObject, message: "the object is empty")
        }
        if let max = limits.maxObjectBytes, let size = data.totalSize, size > max {
            return .refused(code: .tooLarge, message: "the object is \(size) bytes, over the limit of \(max)")
        }
        var result: FormatParse
        switch format {
        case .pdf: result = PDFProbe.parse(data)
        case .dicom: result = DICOMProbe.parse(data, limits: limits)
        case .nifti1, .nifti2: result = NIfTIProbe.parse(data, limits: limits)
        case .gzip: result = NIfTIProbe.parseGzip(data, limits: limits)
        case .text: result = TextProbe.parse(data)
        default:
            return .refused(code: .unsupportedType, message: "\(format.rawValue) is not a document format")
        }
        switch result {
        case .described(var info):
            info.size = data.totalSize
            info.probeRequests = data.ranges.count
            info.probeBytes = data.bytesRead
            result = .described(info)
        case .needBytes(let offset, var length):
            // Bound the conversation whatever the parser asked: rounds, bytes, and never a range
            // outside the object or one already held (either would loop).
            if let t = data.totalSize {
                guard offset < t else { return DocRefusal.corrupt("the \(format.rawValue) data is truncated") }
                length = Int(min(Int64(length), t - offset))
            }
            guard offset >= 0, length > 0, DocRanges(data).byte(at: offset) == nil else {
                return DocRefusal.corrupt("the \(format.rawValue) structure is inconsistent")
            }
            guard data.ranges.count - 1 < DocLimits.maxRounds else {
                return DocRefusal.corrupt("the \(format.rawValue) header needs more than \(DocLimits.maxRounds) extra reads")
            }
            guard data.bytesRead + length <= DocLimits.maxBytes else {
                return DocRefusal.corrupt("the \(format.rawValue) header needs more than \(DocLimits.maxBytes) bytes")
            }
            result = .needBytes(offset: offset, length: length)
        case .refused:
            break
        }
        return result
    }
}

/// Bounds on how much a document probe reads.
public enum DocLimits {
    /// Extra ranges a probe may ask for after the head.
    public static let maxRounds = 6
    /// Bytes a probe may hold in all (head included).
    public static let maxBytes = 1 << 20
    /// The size of one follow-up read when the parser cannot tell how much it needs.
    public static let chunk = 1 << 16
}

/// Shared refusals.
enum DocRefusal {
    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }
    static func unsupported(_ message: String) -> FormatParse { .refused(code: .unsupportedType, message: message) }
}
