import Foundation  // only to read the fixture files from the test bundle
import RegistrarCore
import Testing

// Document probes (PDF, DICOM, NIfTI, text) and the DEFLATE decoder, against real files made by
// reportlab/pypdf/qpdf, pydicom, nibabel and Python's zlib (Fixtures/media/documents, see the
// README there for how each was made and where the expected values come from).

// MARK: - Helpers

fileprivate func fixture(_ name: String) throws -> [UInt8] {
    let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let url = dir.appendingPathComponent("media/documents").appendingPathComponent(name)
    return [UInt8](try Data(contentsOf: url))
}

/// What a probe conversation came to.
fileprivate struct Drive {
    var result: FormatParse
    /// The ranges asked for, in order.
    var requests: [(offset: Int64, length: Int)]
    var info: MediaInfo? { if case .described(let i) = result { return i } else { return nil } }
    var refusal: String? { if case .refused(let c, _) = result { return c.rawValue } else { return nil } }
}

/// Plays the driver: the first `head` bytes, then whatever ranges the probe asks for (clipped to
/// the object), at most `maxRounds` times.
fileprivate func drive(_ format: MediaFormat, _ bytes: [UInt8], head: Int = 1 << 16, sizeKnown: Bool = true,
                       limits: ProbeLimits = ProbeLimits(), maxRounds: Int = 12) -> Drive {
    var data = ProbeData(head: Array(bytes.prefix(head)), totalSize: sizeKnown ? Int64(bytes.count) : nil)
    var requests: [(Int64, Int)] = []
    while true {
        let r = DocumentProbe.parse(format, data, limits: limits)
        guard case .needBytes(let offset, let length) = r, requests.count < maxRounds else {
            return Drive(result: r, requests: requests)
        }
        requests.append((offset, length))
        let start = Int(clamping: max(0, min(offset, Int64(bytes.count))))
        let end = Int(clamping: min(Int64(bytes.count), offset + Int64(max(0, length))))
        data.add(offset: offset, bytes: start < end ? Array(bytes[start..<end]) : [])
    }
}

/// One random mutation: flips, overwrites with boundary values, inserts, deletes, truncates, or
/// duplicates a chunk.
fileprivate func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    let edits = Int.random(in: 1...4, using: &rng)
    for _ in 0..<edits {
        if b.isEmpty { b = [UInt8.random(in: 0...255, using: &rng)]; continue }
        let i = Int.random(in: 0..<b.count, using: &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: b[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
        case 1: b[i] = UInt8.random(in: 0...255, using: &rng)
        case 2:
            let values: [[UInt8]] = [[0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0],
                                     Array("99999999999999999999".utf8), Array("-1".utf8), Array(" 0 R".utf8)]
            let v = values[Int.random(in: 0..<values.count, using: &rng)]
            for (k, x) in v.enumerated() where i + k < b.count { b[i + k] = x }
        case 3: b.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
        case 4: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...64, using: &rng)))
        case 5: b.removeSubrange(i...)
        case 6:
            let n = min(b.count - i, Int.random(in: 1...256, using: &rng))
            let chunk = Array(b[i..<(i + n)])
            b.insert(contentsOf: chunk, at: Int.random(in: 0...b.count, using: &rng))
        default:
            // Big-endian/little-endian 16- or 32-bit garbage length.
            for k in 0..<4 where i + k < b.count { b[i + k] = UInt8.random(in: 0...255, using: &rng) }
        }
    }
    return b
}

fileprivate func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

fileprivate struct Vector {
    var wrapper: UInt8  // 0 raw, 1 zlib, 2 gzip
    var length: Int
    var crc: UInt32
    var compressed: [UInt8]
}

fileprivate func vectors() throws -> [Vector] {
    let blob = try fixture("inflate-vectors.bin")
    var out: [Vector] = []
    var p = 0
    func u32(_ at: Int) -> UInt32 {
        UInt32(blob[at]) | UInt32(blob[at + 1]) << 8 | UInt32(blob[at + 2]) << 16 | UInt32(blob[at + 3]) << 24
    }
    while p + 13 <= blob.count {
        let n = Int(u32(p + 9))
        try #require(p + 13 + n <= blob.count)
        out.append(Vector(wrapper: blob[p], length: Int(u32(p + 1)), crc: u32(p + 5), compressed: Array(blob[(p + 13)..<(p + 13 + n)])))
        p += 13 + n
    }
    try #require(p == blob.count)
    return out
}

fileprivate func decode(_ v: Vector, _ input: [UInt8], maxOutput: Int) throws(InflateError) -> InflateResult {
    switch v.wrapper {
    case 0: return try InflateDecoder.inflate(input[...], maxOutput: maxOutput)
    case 1: return try InflateDecoder.zlibDecompress(input[...], maxOutput: maxOutput)
    default: return try InflateDecoder.gunzip(input[...], maxOutput: maxOutput)
    }
}

// MARK: - Detection

@Suite("Document detection")
struct DocumentDetectionTests {
    fileprivate static let cases: [(String, MediaFormat?)] = [
        ("pdf-classic-3p.pdf", .pdf), ("pdf-objstm-5p.pdf", .pdf), ("pdf-linearized-4p.pdf", .pdf),
        ("pdf-incremental-3p.pdf", .pdf), ("pdf-large-4p.pdf", .pdf),
        ("dicom-explicit-le.dcm", .dicom), ("dicom-implicit-le.dcm", .dicom), ("dicom-big-endian.dcm", .dicom),
        ("dicom-deflated.dcm", .dicom),
        ("nifti1-8x6x4.nii", .nifti1), ("nifti1-be-7x5.nii", .nifti1), ("nifti2-4x4x3x5.nii", .nifti2),
        ("nifti1-8x6x4.nii.gz", .gzip), ("nifti2-4x4x3x5.nii.gz", .gzip), ("not-nifti.txt.gz", .gzip),
        ("text-plain-utf8.txt", .text), ("text-ascii.txt", .text), ("text-utf16le-bom.txt", .text),
        ("text-utf16be-bom.txt", .text), ("text-data.csv", .text), ("text-page.html", .text),
        ("text-doc.xml", .text), ("text-data.json", .text),
    ]

    @Test(arguments: cases)
    func detectsFixture(_ name: String, _ expected: MediaFormat?) throws {
        let bytes = try fixture(name)
        #expect(DocumentProbe.detect(bytes.prefix(1 << 16)) == expected)
    }

    @Test func detectsFromSlicesNotStartingAtZero() {
        let bytes: [UInt8] = Array("xx%PDF-1.7\n".utf8)
        #expect(DocumentProbe.detect(bytes[2...]) == .pdf)
        #expect(DocumentProbe.detect(bytes[2...].dropFirst(0)) == .pdf)
    }

    @Test func pdfHeaderWithinFirstKilobyte() {
        #expect(DocumentProbe.detect((Array(repeating: 0x20, count: 1000) + Array("%PDF-1.4".utf8))[...]) == .pdf)
        // Past 1024 bytes it is only text.
        #expect(DocumentProbe.detect((Array(repeating: 0x20, count: 1100) + Array("%PDF-1.4".utf8))[...]) == .text)
    }

    @Test func binaryIsNotText() {
        #expect(DocumentProbe.detect([0x00, 0x01, 0x02, 0x03][...]) == nil)
        #expect(DocumentProbe.detect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13][...]) == nil)
        #expect(DocumentProbe.detect([0xC3, 0x28, 0x41][...]) == nil)  // invalid UTF-8
        #expect(DocumentProbe.detect([][...]) == nil)
        // Mostly control characters.
        #expect(DocumentProbe.detect(Array(repeating: UInt8(0x07), count: 40)[...]) == nil)
    }
}

// MARK: - PDF

@Suite("PDF page count")
struct PDFProbeTests {
    /// (file, pages, requests with a 64 KiB head, requests with a 512-byte head)
    fileprivate static let cases: [(String, Int, Int, Int)] = [
        // Under 64 KiB: the tail read is the rest of the file. Linearized: the head is enough.
        ("pdf-classic-3p.pdf", 3, 0, 1),
        ("pdf-objstm-5p.pdf", 5, 0, 1),
        ("pdf-linearized-4p.pdf", 4, 0, 0),
        ("pdf-incremental-3p.pdf", 3, 0, 1),
        ("pdf-linearized-updated-5p.pdf", 5, 0, 1),
        ("pdf-encrypted-3p.pdf", 3, 0, 1),
        // Over 64 KiB: the tail, then (small head) the catalog / the object stream holding it.
        ("pdf-large-4p.pdf", 4, 1, 2),
        ("pdf-large-objstm-4p.pdf", 4, 1, 2),
    ]

    @Test(arguments: cases)
    func pageCount(_ name: String, _ pages: Int, _ requestsBigHead: Int, _ requestsSmallHead: Int) throws {
        let bytes = try fixture(name)
        for (head, expectedRequests) in [(1 << 16, requestsBigHead), (512, requestsSmallHead)] {
            let d = drive(.pdf, bytes, head: head)
            let info = try #require(d.info, "\(name) head \(head): \(d.result)")
            #expect(info.pageCount == pages, "\(name) head \(head)")
            #expect(info.format == .pdf)
            #expect(info.mimeType == "application/pdf")
            #expect(info.size == Int64(bytes.count))
            #expect(d.requests.count == expectedRequests, "\(name) head \(head): \(d.requests)")
            #expect(info.probeRequests == 1 + d.requests.count)
            #expect(info.probeBytes <= (1 << 20))
        }
    }

    @Test func largeFileReadsTailThenCatalog() throws {
        // Catalog and page tree at ~25 KB: outside a 16 KiB head and outside the 64 KiB tail.
        let bytes = try fixture("pdf-large-4p.pdf")
        #expect(bytes.count > 1 << 16)
        let d = drive(.pdf, bytes, head: 1 << 14)
        #expect(d.info?.pageCount == 4)
        try #require(d.requests.count == 2)
        let tailStart = Int64(bytes.count) - (1 << 16)
        #expect(d.requests[0].offset == tailStart && d.requests[0].length == 1 << 16)
        #expect(d.requests[1].offset < tailStart && d.requests[1].offset >= 1 << 14)
        // A 64 KiB head holds the catalog: only the missing part of the tail is read.
        let d2 = drive(.pdf, bytes, head: 1 << 16)
        #expect(d2.requests.count == 1)
        #expect(d2.requests.first?.offset == 1 << 16)
        #expect(d2.requests.first.map { Int64($0.length) } == Int64(bytes.count) - (1 << 16))
    }

    @Test func linearizedNeedsOnlyTheHead() throws {
        let bytes = try fixture("pdf-linearized-4p.pdf")
        let d = drive(.pdf, bytes, head: 1024)
        #expect(d.info?.pageCount == 4)
        #expect(d.requests.isEmpty)
    }

    @Test func staleLinearizationIsIgnored() throws {
        // /N says 4 and /L is the pre-update size: the xref chain's newest /Count (5) wins.
        let bytes = try fixture("pdf-linearized-updated-5p.pdf")
        #expect(drive(.pdf, bytes).info?.pageCount == 5)
    }

    @Test func encryptedObjectStreamsAreUnsupported() throws {
        // The catalog is compressed inside an AES-encrypted object stream.
        #expect(drive(.pdf, try fixture("pdf-encrypted-objstm-3p.pdf")).refusal == "unsupported_type")
    }

    @Test func unknownSizeUsesTheHeadAsTheFile() throws {
        let bytes = try fixture("pdf-classic-3p.pdf")
        #expect(drive(.pdf, bytes, sizeKnown: false).info?.pageCount == 3)
        let large = try fixture("pdf-large-4p.pdf")
        #expect(drive(.pdf, large, sizeKnown: false).refusal == "corrupt")
    }

    @Test func handWrittenMinimalPDF() {
        // Offsets computed here; /Count as an indirect reference, comments and odd whitespace.
        var body = "%PDF-1.4\n%\u{e2}\u{e3}\n"
        var offsets: [Int] = []
        func obj(_ s: String) { offsets.append(body.utf8.count); body += s }
        obj("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
        obj("2 0 obj\n<< /Type /Pages /Kids [3 0 R] % comment\n /Count 4 0 R >>\nendobj\n")
        obj("3 0 obj\n<< /Type /Page /Parent 2 0 R /Title (a (nested) \\) string) /X <414243> >>\nendobj\n")
        obj("4 0 obj\n  7\nendobj\n")
        let xref = body.utf8.count
        body += "xref\n0 5\n0000000000 65535 f \n"
        for o in offsets { body += String(repeating: "0", count: 10 - String(o).count) + "\(o) 00000 n \n" }
        body += "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        let bytes = Array(body.utf8)
        #expect(drive(.pdf, bytes).info?.pageCount == 7)
    }

    @Test func hybridFileWithXRefStmAndUnfilteredObjectStream() {
        // A classic table for the catalog; /XRefStm (an unfiltered xref stream, /W [1 2 1]) puts
        // the page tree in an unfiltered object stream whose /Length is an indirect reference.
        var body: [UInt8] = Array("%PDF-1.5\n".utf8)
        func add(_ s: String) -> Int { let at = body.count; body += Array(s.utf8); return at }
        let o1 = add("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
        let inner = "2 0 << /Type /Pages /Count 9 /Kids [] >>"
        let o3 = add("3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length 5 0 R >>\nstream\n\(inner)\nendstream\nendobj\n")
        let o5 = add("5 0 obj \(inner.utf8.count) endobj\n")
        let o4 = add("4 0 obj\n<< /Type /XRef /W [1 2 1] /Index [2 1] /Size 6 /Length 4 >>\nstream\n")
        body += [2, 0, 3, 0]
        _ = add("\nendstream\nendobj\n")
        func entry(_ o: Int) -> String { String(repeating: "0", count: 10 - String(o).count) + "\(o) 00000 n \n" }
        let x = add("xref\n0 2\n0000000000 65535 f \n" + entry(o1) + "3 1\n" + entry(o3) + "5 1\n" + entry(o5))
        _ = add("trailer\n<< /Size 6 /Root 1 0 R /XRefStm \(o4) >>\nstartxref\n\(x)\n%%EOF\n")
        let d = drive(.pdf, body)
        #expect(d.info?.pageCount == 9, "\(d.result)")
    }

    @Test func refusals() {
        func refusal(_ s: String) -> String? { drive(.pdf, Array(s.utf8)).refusal }
        #expect(refusal("%PDF-1.4\nno trailer at all\n") == "corrupt")
        #expect(refusal("%PDF-1.4\nstartxref\n999999\n%%EOF") == "corrupt")
        #expect(refusal("%PDF-1.4\nstartxref\n0\n%%EOF") == "corrupt")
        #expect(refusal("not a pdf") == "corrupt")
        #expect(drive(.pdf, []).refusal == "empty_object")
        // A /Prev chain that loops ends; a missing root is corrupt.
        let loop = "%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev 9 >>\nstartxref\n9\n%%EOF\n"
        #expect(refusal(loop) == "corrupt")
    }

    @Test func truncationsNeverCrash() throws {
        for name in ["pdf-classic-3p.pdf", "pdf-objstm-5p.pdf", "pdf-linearized-4p.pdf", "pdf-incremental-3p.pdf",
                     "pdf-linearized-updated-5p.pdf"] {
            let bytes = try fixture(name)
            for n in stride(from: 0, through: bytes.count, by: 7) {
                let cut = Array(bytes.prefix(n))
                _ = drive(.pdf, cut)
                _ = drive(.pdf, cut, head: 300)
                _ = drive(.pdf, cut, sizeKnown: false)
            }
        }
        let large = try fixture("pdf-large-objstm-4p.pdf")
        for n in stride(from: 0, through: large.count, by: 997) { _ = drive(.pdf, Array(large.prefix(n)), head: 4096) }
    }
}

// MARK: - DICOM

@Suite("DICOM header")
struct DICOMProbeTests {
    fileprivate struct Expect: Sendable, CustomStringConvertible {
        var file: String
        var suffix: String
        var modality: String
        var rows: Int
        var columns: Int
        var instance: Int
        var frames: Int
        var patientID: Bool
        var description: String { file }
    }

    fileprivate static let cases: [Expect] = [
        Expect(file: "dicom-explicit-le.dcm", suffix: "1", modality: "CT", rows: 4, columns: 6, instance: 7, frames: 1, patientID: true),
        Expect(file: "dicom-implicit-le.dcm", suffix: "2", modality: "MR", rows: 5, columns: 3, instance: 12, frames: 1, patientID: false),
        Expect(file: "dicom-explicit-undefined-seq.dcm", suffix: "3", modality: "US", rows: 2, columns: 2, instance: 3, frames: 1, patientID: true),
        Expect(file: "dicom-multiframe.dcm", suffix: "4", modality: "XA", rows: 4, columns: 4, instance: 1, frames: 3, patientID: true),
        Expect(file: "dicom-big-endian.dcm", suffix: "5", modality: "CR", rows: 3, columns: 2, instance: 2, frames: 1, patientID: true),
        Expect(file: "dicom-big-private.dcm", suffix: "7", modality: "OT", rows: 8, columns: 8, instance: 42, frames: 1, patientID: true),
        Expect(file: "dicom-empty-patient-id.dcm", suffix: "8", modality: "CT", rows: 2, columns: 2, instance: 7, frames: 1, patientID: false),
    ]

    @Test(arguments: cases)
    fileprivate func header(_ e: Expect) throws {
        let bytes = try fixture(e.file)
        let d = drive(.dicom, bytes)
        let info = try #require(d.info, "\(d.result)")
        #expect(info.format == .dicom)
        #expect(info.mimeType == "application/dicom")
        #expect(info.dicomStudyUID == "1.2.826.0.1.3680043.8.498.2\(e.suffix)")
        #expect(info.dicomSeriesUID == "1.2.826.0.1.3680043.8.498.3\(e.suffix)")
        #expect(info.dicomSOPInstanceUID == "1.2.826.0.1.3680043.8.498.1\(e.suffix)")
        #expect(info.dicomModality == e.modality)
        #expect(info.height == e.rows)
        #expect(info.width == e.columns)
        #expect(info.dicomInstanceNumber == e.instance)
        #expect(info.frameCount == e.frames)
        #expect(info.dicomHasPatientID == e.patientID)
        // The header fits the 64 KiB head, except where an 80 KB private element precedes the UIDs:
        // it is skipped by seeking past it, not by reading it.
        let expectedRequests = e.file == "dicom-big-private.dcm" ? 1 : 0
        #expect(d.requests.count == expectedRequests, "\(d.requests)")
        if e.file == "dicom-big-private.dcm" {
            #expect(d.requests[0].offset > 80_000)
            #expect(info.probeBytes < 70_000)  // head + the bytes after the blob, not the blob
        }
    }

    @Test func patientIDValueIsNeverStored() throws {
        let info = try #require(drive(.dicom, try fixture("dicom-explicit-le.dcm")).info)
        #expect(!String(describing: info).contains("PAT-0001"))
    }

    @Test func smallHeadAsksForMore() throws {
        let bytes = try fixture("dicom-explicit-undefined-seq.dcm")
        for head in [100, 132, 140, 300, 500] {
            let d = drive(.dicom, bytes, head: head)
            #expect(d.info?.dicomSOPInstanceUID == "1.2.826.0.1.3680043.8.498.13", "head \(head)")
            #expect(d.requests.count == 1, "head \(head)")
        }
    }

    @Test func deflatedIsUnsupported() throws {
        #expect(drive(.dicom, try fixture("dicom-deflated.dcm")).refusal == "unsupported_type")
    }

    @Test func refusals() throws {
        #expect(drive(.dicom, Array(repeating: 0, count: 100)).refusal == "corrupt")
        #expect(drive(.dicom, Array(repeating: 0, count: 200)).refusal == "corrupt")
        // A sequence nested far too deep.
        var bytes = Array(repeating: UInt8(0), count: 128) + Array("DICM".utf8)
        bytes += [0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x14, 0x00] + Array("1.2.840.10008.1.2.1\0".utf8)
        for _ in 0..<40 {
            bytes += [0x08, 0x00, 0x40, 0x11, 0x53, 0x51, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]  // SQ, undefined length
            bytes += [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]  // item, undefined length
        }
        #expect(drive(.dicom, bytes).refusal == "corrupt")
        // Rows × Columns over the limit.
        var limits = ProbeLimits()
        limits.maxDimension = 4
        #expect(drive(.dicom, try fixture("dicom-explicit-le.dcm"), limits: limits).refusal == "dimensions_exceed_limit")
    }

    @Test func truncationsNeverCrash() throws {
        for name in ["dicom-explicit-le.dcm", "dicom-implicit-le.dcm", "dicom-explicit-undefined-seq.dcm",
                     "dicom-big-endian.dcm", "dicom-multiframe.dcm"] {
            let bytes = try fixture(name)
            for n in 0...bytes.count {
                let cut = Array(bytes.prefix(n))
                _ = drive(.dicom, cut)
                _ = drive(.dicom, cut, head: 200)
                _ = drive(.dicom, cut, sizeKnown: false, maxRounds: 3)
            }
        }
    }
}

// MARK: - NIfTI

@Suite("NIfTI header")
struct NIfTIProbeTests {
    fileprivate static let cases: [(String, MediaFormat, [Int], [Double], Int)] = [
        ("nifti1-8x6x4.nii", .nifti1, [8, 6, 4], [1.5, 1.5, 3.0], 4),
        ("nifti1-8x6x4.nii.gz", .gzip, [8, 6, 4], [1.5, 1.5, 3.0], 4),
        ("nifti1-be-7x5.nii", .nifti1, [7, 5], [0.5, 0.25], 1),
        ("nifti2-4x4x3x5.nii", .nifti2, [4, 4, 3, 5], [2.0, 2.0, 2.5, 0.8], 3),
        ("nifti2-4x4x3x5.nii.gz", .gzip, [4, 4, 3, 5], [2.0, 2.0, 2.5, 0.8], 3),
    ]

    @Test(arguments: cases)
    func header(_ name: String, _ format: MediaFormat, _ dims: [Int], _ pixdim: [Double], _ frames: Int) throws {
        let bytes = try fixture(name)
        let detected = try #require(DocumentProbe.detect(bytes[...]))
        #expect(detected == format)
        let d = drive(detected, bytes)
        let info = try #require(d.info, "\(d.result)")
        #expect(info.format == format)
        #expect(info.mimeType == "application/x-nifti")
        #expect(info.niftiDims == dims)
        #expect(info.niftiPixdim == pixdim)
        #expect(info.width == dims[0])
        #expect(info.height == dims[1])
        #expect(info.frameCount == frames)
        #expect(d.requests.isEmpty)
        #expect(info.probeRequests == 1)
    }

    @Test func smallHeadsAskForTheRest() throws {
        for name in ["nifti1-8x6x4.nii", "nifti2-4x4x3x5.nii", "nifti1-8x6x4.nii.gz"] {
            let bytes = try fixture(name)
            let format = try #require(DocumentProbe.detect(bytes[...]))
            for head in name.hasSuffix(".gz") ? [1, 20, 60] : [1, 20, 100, 347] {
                let d = drive(format, bytes, head: head)
                #expect(d.info?.niftiDims?.isEmpty == false, "\(name) head \(head): \(d.result)")
                #expect(d.requests.count == 1, "\(name) head \(head)")
            }
        }
    }

    @Test func gzipThatIsNotNIfTI() throws {
        #expect(drive(.gzip, try fixture("not-nifti.txt.gz")).refusal == "unsupported_type")
    }

    @Test func absurdHeadersAreRefused() throws {
        let good = try fixture("nifti1-8x6x4.nii")
        func with(_ edit: (inout [UInt8]) -> Void) -> String? {
            var b = good
            edit(&b)
            return drive(.nifti1, b).refusal
        }
        #expect(with { $0[40] = 0 } == "corrupt")  // dim[0] = 0
        #expect(with { $0[40] = 8 } == "corrupt")  // dim[0] = 8
        #expect(with { $0[42] = 0xFF; $0[43] = 0xFF } == "corrupt")  // dim[1] = -1
        #expect(with { $0[80] = 0; $0[81] = 0; $0[82] = 0xC0; $0[83] = 0x7F } == "corrupt")  // pixdim[1] = NaN
        var limits = ProbeLimits()
        limits.maxDimension = 7
        #expect(drive(.nifti1, good, limits: limits).refusal == "dimensions_exceed_limit")
        #expect(drive(.nifti1, Array(good.prefix(300))).refusal == "corrupt")
    }

    @Test func truncationsNeverCrash() throws {
        for name in ["nifti1-8x6x4.nii", "nifti1-8x6x4.nii.gz", "nifti2-4x4x3x5.nii", "nifti2-4x4x3x5.nii.gz"] {
            let bytes = try fixture(name)
            let format = try #require(DocumentProbe.detect(bytes[...]))
            for n in 0...bytes.count {
                let cut = Array(bytes.prefix(n))
                _ = drive(format, cut)
                _ = drive(format, cut, head: 50)
                _ = drive(format, cut, sizeKnown: false, maxRounds: 3)
            }
        }
    }
}

// MARK: - Text

@Suite("Text type and encoding")
struct TextProbeTests {
    fileprivate static let cases: [(String, String, String)] = [
        ("text-plain-utf8.txt", "text/plain", "utf-8"),
        ("text-ascii.txt", "text/plain", "ascii"),
        ("text-utf16le-bom.txt", "text/plain", "utf-16le"),
        ("text-utf16be-bom.txt", "text/plain", "utf-16be"),
        ("text-data.csv", "text/csv", "ascii"),
        ("text-semicolon.csv", "text/csv", "ascii"),
        ("text-tabs.tsv", "text/csv", "ascii"),
        ("text-page.html", "text/html", "ascii"),
        ("text-doc.xml", "application/xml", "ascii"),
        ("text-rootonly.xml", "application/xml", "ascii"),
        ("text-data.json", "application/json", "ascii"),
        ("text-array.json", "application/json", "ascii"),
    ]

    @Test(arguments: cases)
    func classify(_ name: String, _ mime: String, _ encoding: String) throws {
        let bytes = try fixture(name)
        #expect(DocumentProbe.detect(bytes[...]) == .text)
        let d = drive(.text, bytes)
        let info = try #require(d.info)
        #expect(info.format == .text)
        #expect(info.mimeType == mime)
        #expect(info.textEncoding == encoding)
        #expect(info.size == Int64(bytes.count))
        #expect(d.requests.isEmpty)
    }

    fileprivate func mime(_ s: String, complete: Bool = true) -> String? {
        let bytes = Array(s.utf8)
        return drive(.text, bytes, sizeKnown: complete).info?.mimeType
    }

    @Test func subtypes() {
        #expect(mime("<!doctype HTML><p>x") == "text/html")
        #expect(mime("  <HTML>\n<body></body></HTML>") == "text/html")
        #expect(mime("<!-- note --><html>") == "text/html")
        #expect(mime("<?xml version=\"1.0\"?><a/>") == "application/xml")
        #expect(mime("<feed xmlns=\"x\"><entry/></feed>") == "application/xml")
        #expect(mime("{\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\"}") == "application/json")
        #expect(mime("[1, 2, 3]") == "application/json")
        // Not JSON: bare words, trailing text, truncated in a complete file.
        #expect(mime("{a: 1}") == "text/plain")
        #expect(mime("{} trailing") == "text/plain")
        #expect(mime("{\"a\": [1, 2") == "text/plain")
        // A head cut inside a JSON document is still JSON when the object is bigger.
        #expect(mime("{\"a\": [1, 2", complete: false) == "application/json")
        #expect(mime("a,b\n1,2\n") == "text/csv")
        #expect(mime("a,b\n1,2,3\n") == "text/plain")
        #expect(mime("just one line, with a comma") == "text/plain")
        #expect(mime("") == nil)
    }

    @Test func encodings() {
        func enc(_ b: [UInt8]) -> String? { drive(.text, b).info?.textEncoding }
        #expect(enc(Array("héllo".utf8)) == "utf-8")
        #expect(enc([0xEF, 0xBB, 0xBF] + Array("hello".utf8)) == "utf-8")
        #expect(enc([0xFF, 0xFE, 0x68, 0x00, 0x69, 0x00]) == "utf-16le")
        #expect(enc([0xFE, 0xFF, 0x00, 0x68, 0x00, 0x69]) == "utf-16be")
        // A UTF-8 sequence cut by the end of the head (object bigger than the head) is fine.
        var data = ProbeData(head: Array("caf".utf8) + [0xC3], totalSize: 100)
        if case .described(let i) = DocumentProbe.parse(.text, data, limits: ProbeLimits()) {
            #expect(i.textEncoding == "utf-8")
        } else {
            Issue.record("cut UTF-8 not described")
        }
        // …but not when it is the whole object.
        data = ProbeData(head: Array("caf".utf8) + [0xC3], totalSize: 4)
        if case .refused(let code, _) = DocumentProbe.parse(.text, data, limits: ProbeLimits()) {
            #expect(code == "unsupported_type")
        } else {
            Issue.record("invalid UTF-8 accepted")
        }
        // Unpaired surrogates and NULs are not text.
        #expect(drive(.text, [0xFF, 0xFE, 0x00, 0xDC, 0x41, 0x00]).refusal == "unsupported_type")
        #expect(drive(.text, Array("ab\0cd".utf8)).refusal == "unsupported_type")
        #expect(drive(.text, []).refusal == "empty_object")
    }

    @Test func truncationsNeverCrash() throws {
        for (name, _, _) in Self.cases {
            let bytes = try fixture(name)
            for n in 0...bytes.count {
                _ = drive(.text, Array(bytes.prefix(n)))
                _ = DocumentProbe.detect(bytes.prefix(n))
            }
        }
    }
}

// MARK: - Inflate

@Suite("DEFLATE decoder")
struct InflateDecoderTests {
    @Test func decodesPythonZlibVectors() throws {
        let all = try vectors()
        #expect(all.count >= 150)
        var wrappers = Set<UInt8>()
        for (i, v) in all.enumerated() {
            let r = try decode(v, v.compressed, maxOutput: 1 << 20)
            #expect(r.end == .streamEnd, "vector \(i)")
            #expect(r.output.count == v.length, "vector \(i)")
            #expect(crc32(r.output) == v.crc, "vector \(i)")
            #expect(r.inputConsumed == v.compressed.count, "vector \(i)")
            wrappers.insert(v.wrapper)
        }
        #expect(wrappers == [0, 1, 2])
    }

    @Test func stopsAfterMaxOutput() throws {
        for v in try vectors() where v.length >= 100 {
            let full = try decode(v, v.compressed, maxOutput: 1 << 20).output
            for cap in [0, 1, 348, 540, v.length / 2, v.length - 1] where cap < v.length {
                let r = try decode(v, v.compressed, maxOutput: cap)
                #expect(r.end == .outputLimit)
                #expect(r.output == Array(full.prefix(cap)))
            }
            // Exactly the length: the stream ends (and the checksum is checked).
            #expect(try decode(v, v.compressed, maxOutput: v.length).end == .streamEnd)
        }
    }

    @Test func truncatedInputGivesAPrefix() throws {
        let all = try vectors()
        for (i, v) in all.enumerated() where i % 3 == 0 {
            let full = try decode(v, v.compressed, maxOutput: 1 << 20).output
            let steps = Set([0, 1, 2, 5, 10, v.compressed.count / 3, v.compressed.count / 2, v.compressed.count - 5,
                             v.compressed.count - 1].filter { $0 >= 0 && $0 < v.compressed.count })
            for n in steps {
                let r = try decode(v, Array(v.compressed.prefix(n)), maxOutput: 1 << 20)
                #expect(r.end == .inputExhausted || (v.wrapper == 0 && r.end == .streamEnd && r.output == full),
                        "vector \(i) cut at \(n): \(r.end)")
                #expect(Array(full.prefix(r.output.count)) == r.output, "vector \(i) cut at \(n)")
            }
        }
    }

    @Test func refusesMalformedStreams() {
        func raw(_ b: [UInt8]) -> InflateError? {
            do { _ = try InflateDecoder.inflate(b[...], maxOutput: 1000); return nil } catch { return error }
        }
        #expect(raw([0x07]) == .invalidBlockType)  // BFINAL=1, BTYPE=11
        #expect(raw([0x01, 0x05, 0x00, 0x00, 0x00]) == .storedLengthMismatch)
        // Fixed block: a match at distance 1 with nothing written.
        #expect(raw([0x03, 0x02]) == .distanceTooFar)
        // Dynamic block whose code-length code is over-subscribed (all 19 lengths = 1).
        var bits: [Int] = [1, 0, 1]  // final, dynamic (10 little-endian)
        func put(_ v: Int, _ n: Int) { for k in 0..<n { bits.append((v >> k) & 1) } }
        put(0, 5); put(0, 5); put(15, 4)
        for _ in 0..<19 { put(1, 3) }
        var bytes = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b == 1 { bytes[i / 8] |= UInt8(1) << UInt8(i % 8) }
        #expect(raw(bytes) == .invalidCodeLengths)

        func z(_ b: [UInt8]) -> InflateError? {
            do { _ = try InflateDecoder.zlibDecompress(b[...], maxOutput: 1000); return nil } catch { return error }
        }
        #expect(z([0x78, 0x9D, 0x03, 0x00]) != nil)  // header check fails
        #expect(z([0x78, 0xBB, 0x03, 0x00]) != nil)  // preset dictionary
        // Empty stream "78 9C 03 00" with a wrong Adler-32.
        #expect(z([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x02]) == .checksumMismatch)
        #expect(z([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) == nil)
        #expect((try? InflateDecoder.zlibDecompress([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x02][...],
                                                    maxOutput: 10, verifyChecksum: false))?.end == .streamEnd)

        func gz(_ b: [UInt8]) -> InflateError? {
            do { _ = try InflateDecoder.gunzip(b[...], maxOutput: 1000); return nil } catch { return error }
        }
        let emptyGzip: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(gz(emptyGzip) == nil)
        var badCRC = emptyGzip
        badCRC[12] = 1
        #expect(gz(badCRC) == .checksumMismatch)
        #expect(gz([0x1F, 0x8C, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0]) != nil)
        #expect(gz([0x1F, 0x8B, 8, 0xE0, 0, 0, 0, 0, 0, 3, 3, 0]) != nil)
    }

    @Test func bombIsCappedWithoutAllocatingItAll() throws {
        // 70 000 bytes of runs; the cap keeps the output at 64 KiB.
        let v = try #require(try vectors().first { $0.length == 70000 })
        let r = try decode(v, v.compressed, maxOutput: 1 << 16)
        #expect(r.output.count == 1 << 16)
        #expect(r.end == .outputLimit)
    }

    @Test func fuzzTerminatesWithoutCrashing() throws {
        var rng = SplitMix64(seed: 0x1951)
        let all = try vectors().filter { $0.compressed.count < 20_000 }
        var outcomes = [0, 0, 0]
        for _ in 0..<2000 {
            let v = all[Int.random(in: 0..<all.count, using: &rng)]
            let input = mutate(v.compressed, &rng)
            do {
                let r = try decode(v, input, maxOutput: 1 << 18)
                #expect(r.output.count <= 1 << 18)
                outcomes[r.end == .streamEnd ? 0 : 1] += 1
            } catch {
                outcomes[2] += 1
            }
        }
        // Pure noise too.
        for _ in 0..<500 {
            let n = Int.random(in: 0...600, using: &rng)
            let input = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? InflateDecoder.inflate(input[...], maxOutput: 1 << 16)
            _ = try? InflateDecoder.zlibDecompress(input[...], maxOutput: 1 << 16)
            _ = try? InflateDecoder.gunzip(([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3] + input)[...], maxOutput: 1 << 16)
        }
        #expect(outcomes[2] > 0)  // the mutations do reach the error paths
    }
}

// MARK: - Fuzz

@Suite("Document probe fuzzing")
struct DocumentFuzzTests {
    fileprivate static let families: [(String, [String], UInt64)] = [
        ("pdf", ["pdf-classic-3p.pdf", "pdf-objstm-5p.pdf", "pdf-linearized-4p.pdf", "pdf-incremental-3p.pdf",
                 "pdf-linearized-updated-5p.pdf"], 0xBDF),
        ("dicom", ["dicom-explicit-le.dcm", "dicom-implicit-le.dcm", "dicom-explicit-undefined-seq.dcm",
                   "dicom-big-endian.dcm", "dicom-multiframe.dcm", "dicom-deflated.dcm"], 0xDC0),
        ("nifti", ["nifti1-8x6x4.nii", "nifti1-be-7x5.nii", "nifti2-4x4x3x5.nii", "nifti1-8x6x4.nii.gz",
                   "nifti2-4x4x3x5.nii.gz"], 0x4E1),
        ("text", ["text-plain-utf8.txt", "text-utf16le-bom.txt", "text-data.csv", "text-page.html", "text-doc.xml",
                  "text-data.json"], 0x7E7),
    ]

    @Test(arguments: families)
    func mutationsTerminate(_ family: String, _ files: [String], _ seed: UInt64) throws {
        let inputs = try files.map(fixture)
        var rng = SplitMix64(seed: seed)
        var described = 0, refused = 0
        for i in 0..<2000 {
            let original = inputs[i % inputs.count]
            let bytes = mutate(original, &rng)
            // Parse as the format the bytes claim, and as the family's formats regardless.
            var formats: [MediaFormat] = DocumentProbe.detect(bytes[...]).map { [$0] } ?? []
            switch family {
            case "pdf": formats.append(.pdf)
            case "dicom": formats.append(.dicom)
            case "nifti": formats += [.nifti1, .gzip]
            default: formats.append(.text)
            }
            for f in formats {
                let head = [64, 300, 1 << 16][i % 3]
                let d = drive(f, bytes, head: head, sizeKnown: i % 5 != 0)
                #expect(d.requests.count <= DocLimits.maxRounds)
                switch d.result {
                case .described: described += 1
                case .refused: refused += 1
                case .needBytes: Issue.record("needBytes after \(d.requests.count) rounds")
                }
            }
        }
        #expect(described > 0 && refused > 0)
    }

    @Test func largeFilesMutated() throws {
        var rng = SplitMix64(seed: 0x1A6E)
        let inputs = try ["pdf-large-4p.pdf", "pdf-large-objstm-4p.pdf", "dicom-big-private.dcm"].map(fixture)
        for i in 0..<150 {
            let bytes = mutate(inputs[i % inputs.count], &rng)
            let d = drive(i % 3 == 2 ? .dicom : .pdf, bytes, head: [4096, 1 << 16][i % 2])
            #expect(d.requests.count <= DocLimits.maxRounds)
        }
    }

    @Test func otherFormatsAreRefused() {
        let data = ProbeData(head: [1, 2, 3], totalSize: 3)
        #expect(DocumentProbe.parse(.png, data, limits: ProbeLimits()) == .refused(code: "unsupported_type", message: "png is not a document format"))
        var limits = ProbeLimits()
        limits.maxObjectBytes = 2
        if case .refused(let code, _) = DocumentProbe.parse(.text, data, limits: limits) {
            #expect(code == "too_large")
        } else {
            Issue.record("size limit ignored")
        }
    }
}

/// Regression: small UTF-16LE files (FF FE …) were sniffed as an MPEG audio frame.
@Suite struct SniffOrderTests {
    @Test func utf16TextIsTextNotMP3() {
        for text in ["Hello, world", "Hé", "Hello, world, a little longer line of text\nand a second line"] {
            let le: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let be: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            #expect(ContentProber.sniff(le[...]) == .text)
            #expect(ContentProber.sniff(be[...]) == .text)
            guard case .described(let info) = ContentProber().probe(type: .text, data: ProbeData(head: le, totalSize: Int64(le.count)), contentType: nil) else {
                Issue.record("UTF-16LE text refused"); continue
            }
            #expect(info.textEncoding == "utf-16le")
        }
    }
}
