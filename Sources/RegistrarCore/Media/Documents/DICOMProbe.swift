/// DICOM Part 10: 128-byte preamble, `DICM`, the File Meta group (explicit VR little endian),
/// then the dataset in the transfer syntax's encoding, read up to PixelData (7FE0,0010).
enum DICOMProbe {
    enum Encoding: Equatable {
        case implicitLittle, explicitLittle, explicitBig
        var explicit: Bool { self != .implicitLittle }
        var bigEndian: Bool { self == .explicitBig }
    }

    enum Stop: Error {
        case need(Int64)
        case corrupt(String)
        case unsupported(String)
    }

    struct Element {
        var group: UInt16
        var element: UInt16
        var vr: (UInt8, UInt8)?
        var length: UInt32
        var valueOffset: Int64
        var tag: UInt32 { UInt32(group) << 16 | UInt32(element) }
        var undefinedLength: Bool { length == 0xFFFF_FFFF }
        var end: Int64 { valueOffset + Int64(length) }
    }

    struct Found {
        var transferSyntax: String?
        var study: String?
        var series: String?
        var sop: String?
        var modality: String?
        var instanceNumber: Int?
        var frames: Int?
        var rows: Int?
        var columns: Int?
        var hasPatientID = false
    }

    static let pixelData: UInt32 = 0x7FE0_0010
    static let lastWanted: UInt32 = 0x0028_0011  // Columns: every wanted tag sorts at or before it
    static let maxDepth = 16
    static let maxValue: UInt32 = 1024  // longest value of a wanted tag we read

    static let implicitLE = "1.2.840.10008.1.2"
    static let explicitLE = "1.2.840.10008.1.2.1"
    static let explicitBE = "1.2.840.10008.1.2.2"
    static let deflatedLE = "1.2.840.10008.1.2.1.99"

    static func parse(_ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        let bytes = DocRanges(data)
        var found = Found()
        do {
            try walk(bytes, &found)
        } catch {
            switch error {
            case .need(let offset): return .needBytes(offset: offset, length: DocLimits.chunk)
            case .corrupt(let m): return DocRefusal.corrupt(m)
            case .unsupported(let m): return DocRefusal.unsupported(m)
            }
        }
        if let c = found.columns, let r = found.rows {
            if c > limits.maxDimension || r > limits.maxDimension || Int64(c) * Int64(r) > limits.maxPixels {
                return .refused(code: .dimensionsExceedLimit, message: "DICOM frames of \(c)×\(r) exceed the configured limit")
            }
        }
        var info = MediaInfo()
        info.format = .dicom
        info.mimeType = "application/dicom"
        info.dicomStudyUID = found.study
        info.dicomSeriesUID = found.series
        info.dicomSOPInstanceUID = found.sop
        info.dicomModality = found.modality
        info.dicomInstanceNumber = found.instanceNumber
        info.dicomHasPatientID = found.hasPatientID
        info.width = found.columns
        info.height = found.rows
        info.frameCount = found.frames ?? (found.rows != nil ? 1 : nil)
        return .described(info)
    }

    // MARK: Walking

    static func walk(_ b: DocRanges, _ found: inout Found) throws(Stop) {
        guard let magic = b.bytes(at: 128, count: 4) else {
            if b.isPastEnd(131) { throw .corrupt("too short for a DICOM Part 10 file") }
            throw .need(b.heldEnd(from: 0))
        }
        guard magic == Array("DICM".utf8) else { throw .corrupt("no DICM marker after the preamble") }

        // File Meta: explicit VR little endian, group 0002.
        var p: Int64 = 132
        while true {
            guard let g = try peekGroup(b, p, bigEndian: false) else { throw .corrupt("no dataset after the file meta group") }
            if g != 0x0002 { break }
            let e = try element(b, p, .explicitLittle)
            guard !e.undefinedLength else { throw .corrupt("undefined length in the file meta group") }
            if e.tag == 0x0002_0010 { found.transferSyntax = try text(b, e) }
            p = try advance(e)
        }

        let encoding: Encoding
        switch found.transferSyntax {
        case implicitLE: encoding = .implicitLittle
        case explicitBE: encoding = .explicitBig
        case deflatedLE: throw .unsupported("deflated DICOM transfer syntax is not supported")
        case nil: encoding = try guessEncoding(b, p)
        default: encoding = .explicitLittle  // explicit LE, and every encapsulated (compressed) syntax
        }

        // Dataset, top level.
        while true {
            if b.isPastEnd(p) { return }
            let e = try element(b, p, encoding)
            if e.tag >= pixelData || e.tag > lastWanted { return }
            if e.undefinedLength {
                p = try skipUndefined(b, e.valueOffset, encoding: nested(e, encoding), depth: 1)
                continue
            }
            switch e.tag {
            case 0x0020_000D: found.study = try uid(b, e)
            case 0x0020_000E: found.series = try uid(b, e)
            case 0x0008_0018: found.sop = try uid(b, e)
            case 0x0008_0060: found.modality = try text(b, e).flatMap { $0.isEmpty ? nil : $0 }
            case 0x0020_0013: found.instanceNumber = try integerString(b, e)
            case 0x0028_0008: found.frames = try integerString(b, e)
            case 0x0028_0010: found.rows = try unsignedShort(b, e, encoding)
            case 0x0028_0011: found.columns = try unsignedShort(b, e, encoding)
            case 0x0010_0020: found.hasPatientID = try hasContent(b, e)
            default: break
            }
            p = try advance(e)
        }
    }

    /// The encoding of an undefined-length element's items: UN contents are implicit VR LE.
    static func nested(_ e: Element, _ encoding: Encoding) -> Encoding {
        if let vr = e.vr, vr == (0x55, 0x4E) { return .implicitLittle }  // "UN"
        return encoding
    }

    static func advance(_ e: Element) throws(Stop) -> Int64 {
        let (end, overflow) = e.valueOffset.addingReportingOverflow(Int64(e.length))
        guard !overflow else { throw .corrupt("element length overflows") }
        return end
    }

    /// Skips the items of an undefined-length element (a sequence, or encapsulated fragments)
    /// starting at `p`; returns the offset after its sequence delimitation item.
    static func skipUndefined(_ b: DocRanges, _ start: Int64, encoding: Encoding, depth: Int) throws(Stop) -> Int64 {
        guard depth <= maxDepth else { throw .corrupt("DICOM sequences nest deeper than \(maxDepth)") }
        var p = start
        while true {
            let item = try itemHeader(b, p, bigEndian: encoding.bigEndian)
            p += 8
            switch item.tag {
            case 0xFFFE_E0DD:  // sequence delimitation
                return p
            case 0xFFFE_E000:  // item
                if item.length != 0xFFFF_FFFF {
                    p = try advance(Element(group: 0, element: 0, vr: nil, length: item.length, valueOffset: p))
                    continue
                }
                // Undefined-length item: elements until the item delimitation.
                while true {
                    if b.isPastEnd(p) { throw .corrupt("a DICOM item runs past the end of the file") }
                    if let g = try peekGroup(b, p, bigEndian: encoding.bigEndian), g == 0xFFFE {
                        let d = try itemHeader(b, p, bigEndian: encoding.bigEndian)
                        guard d.tag == 0xFFFE_E00D else { throw .corrupt("unexpected item tag inside a DICOM item") }
                        p += 8
                        break
                    }
                    let e = try element(b, p, encoding)
                    if e.undefinedLength {
                        p = try skipUndefined(b, e.valueOffset, encoding: nested(e, encoding), depth: depth + 1)
                    } else {
                        p = try advance(e)
                    }
                }
            default:
                throw .corrupt("unexpected tag inside a DICOM sequence")
            }
        }
    }

    // MARK: Reading elements

    static func bytes(_ b: DocRanges, _ p: Int64, _ n: Int) throws(Stop) -> DocByteReader {
        guard p >= 0 else { throw .corrupt("negative offset") }
        if let s = b.bytes(at: p, count: n) { return DocByteReader(s) }
        if let t = b.totalSize, p + Int64(n) > t { throw .corrupt("the DICOM data is truncated") }
        throw .need(b.heldEnd(from: p))
    }

    static func peekGroup(_ b: DocRanges, _ p: Int64, bigEndian: Bool) throws(Stop) -> UInt16? {
        if b.isPastEnd(p) { return nil }
        return try bytes(b, p, 2).u16(at: 0, bigEndian: bigEndian)
    }

    static func itemHeader(_ b: DocRanges, _ p: Int64, bigEndian: Bool) throws(Stop) -> (tag: UInt32, length: UInt32) {
        let r = try bytes(b, p, 8)
        let g = r.u16(at: 0, bigEndian: bigEndian) ?? 0, e = r.u16(at: 2, bigEndian: bigEndian) ?? 0
        return (UInt32(g) << 16 | UInt32(e), r.u32(at: 4, bigEndian: bigEndian) ?? 0)
    }

    static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]

    static func element(_ b: DocRanges, _ p: Int64, _ enc: Encoding) throws(Stop) -> Element {
        let head = try bytes(b, p, 8)
        let be = enc.bigEndian
        let g = head.u16(at: 0, bigEndian: be) ?? 0, el = head.u16(at: 2, bigEndian: be) ?? 0
        // Item and delimitation tags never carry a VR.
        if !enc.explicit || g == 0xFFFE {
            return Element(group: g, element: el, vr: nil, length: head.u32(at: 4, bigEndian: be) ?? 0, valueOffset: p + 8)
        }
        let v0 = head.u8(at: 4) ?? 0, v1 = head.u8(at: 5) ?? 0
        guard (0x41...0x5A).contains(v0), (0x41...0x5A).contains(v1) else {
            throw .corrupt("invalid value representation in an explicit VR dataset")
        }
        let vr = String(decoding: [v0, v1], as: UTF8.self)
        if longVRs.contains(vr) {
            let long = try bytes(b, p, 12)
            return Element(group: g, element: el, vr: (v0, v1), length: long.u32(at: 8, bigEndian: be) ?? 0, valueOffset: p + 12)
        }
        return Element(group: g, element: el, vr: (v0, v1), length: UInt32(head.u16(at: 6, bigEndian: be) ?? 0), valueOffset: p + 8)
    }

    /// No transfer syntax in the meta group: explicit if the first element carries a VR.
    static func guessEncoding(_ b: DocRanges, _ p: Int64) throws(Stop) -> Encoding {
        let r = try bytes(b, p, 6)
        let v = String(decoding: [r.u8(at: 4) ?? 0, r.u8(at: 5) ?? 0], as: UTF8.self)
        let shortVRs: Set<String> = ["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN",
                                     "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"]
        return shortVRs.contains(v) || longVRs.contains(v) ? .explicitLittle : .implicitLittle
    }

    // MARK: Values

    /// A short string value with trailing NULs and spaces (and leading spaces) trimmed.
    static func text(_ b: DocRanges, _ e: Element) throws(Stop) -> String? {
        guard e.length <= maxValue else { return nil }
        let r = try bytes(b, e.valueOffset, Int(e.length))
        var s = Array(r.bytes)
        while let last = s.last, last == 0 || last == 0x20 { s.removeLast() }
        while let first = s.first, first == 0x20 { s.removeFirst() }
        guard s.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || $0 == 0x5C }) else { return nil }
        return String(decoding: s, as: UTF8.self)
    }

    /// Whether a value holds anything but padding (presence only: the value is never kept).
    static func hasContent(_ b: DocRanges, _ e: Element) throws(Stop) -> Bool {
        guard e.length > 0 else { return false }
        guard e.length <= maxValue else { return true }
        return try bytes(b, e.valueOffset, Int(e.length)).bytes.contains { $0 != 0 && $0 != 0x20 }
    }

    static func uid(_ b: DocRanges, _ e: Element) throws(Stop) -> String? {
        guard let s = try text(b, e), !s.isEmpty, s.utf8.count <= 64 else { return nil }
        return s
    }

    /// An IS (integer string) value; the first of several.
    static func integerString(_ b: DocRanges, _ e: Element) throws(Stop) -> Int? {
        guard let s = try text(b, e) else { return nil }
        let first = s.split(separator: "\\", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var t = Substring(first)
        while t.first == " " { t.removeFirst() }
        while t.last == " " { t.removeLast() }
        if t.first == "+" { t.removeFirst() }
        guard t.count <= 12, let v = Int(t) else { return nil }
        return v
    }

    static func unsignedShort(_ b: DocRanges, _ e: Element, _ enc: Encoding) throws(Stop) -> Int? {
        guard e.length >= 2, e.length <= maxValue else { return nil }
        return try bytes(b, e.valueOffset, 2).u16(at: 0, bigEndian: enc.bigEndian).map(Int.init)
    }
}
