import Foundation  // only to load the fixture files from the test bundle
import RegistrarCore
import Testing

// Image header probing (ImageProbe), against real files made with Pillow, pillow-heif, pypng,
// tifffile and libtiff's tiffcp (see Fixtures/media/images/README.md), and against hand-built
// hostile headers, truncations and mutations.

// MARK: - Fixtures and helpers

fileprivate struct ImageFixture: CustomTestStringConvertible, Sendable {
    var file: String
    var format: MediaFormat
    var mime: String
    var width: Int
    var height: Int
    var testDescription: String { file }

    static let all: [ImageFixture] = [
        .init(file: "jpeg-baseline.jpg", format: .jpeg, mime: "image/jpeg", width: 37, height: 23),
        .init(file: "jpeg-progressive.jpg", format: .jpeg, mime: "image/jpeg", width: 41, height: 29),
        .init(file: "jpeg-exif.jpg", format: .jpeg, mime: "image/jpeg", width: 45, height: 27),
        .init(file: "jpeg-big-exif.jpg", format: .jpeg, mime: "image/jpeg", width: 53, height: 31),
        .init(file: "png-rgb8.png", format: .png, mime: "image/png", width: 61, height: 17),
        .init(file: "png-gray16.png", format: .png, mime: "image/png", width: 19, height: 43),
        .init(file: "png-interlaced.png", format: .png, mime: "image/png", width: 33, height: 21),
        .init(file: "gif-static.gif", format: .gif, mime: "image/gif", width: 47, height: 13),
        .init(file: "gif-animated.gif", format: .gif, mime: "image/gif", width: 24, height: 18),
        .init(file: "webp-lossy.webp", format: .webp, mime: "image/webp", width: 57, height: 35),
        .init(file: "webp-lossless.webp", format: .webp, mime: "image/webp", width: 29, height: 51),
        .init(file: "webp-alpha.webp", format: .webp, mime: "image/webp", width: 63, height: 27),
        .init(file: "bmp-24.bmp", format: .bmp, mime: "image/bmp", width: 31, height: 15),
        .init(file: "bmp-topdown.bmp", format: .bmp, mime: "image/bmp", width: 22, height: 13),
        .init(file: "bmp-core.bmp", format: .bmp, mime: "image/bmp", width: 14, height: 9),
        .init(file: "tiff-le.tif", format: .tiff, mime: "image/tiff", width: 27, height: 38),
        .init(file: "tiff-be.tif", format: .tiff, mime: "image/tiff", width: 39, height: 26),
        .init(file: "tiff-ifd-at-end.tif", format: .tiff, mime: "image/tiff", width: 300, height: 250),
        .init(file: "avif-rgb.avif", format: .avif, mime: "image/avif", width: 49, height: 31),
        .init(file: "avif-alpha.avif", format: .avif, mime: "image/avif", width: 45, height: 33),
        .init(file: "heic-rgb.heic", format: .heif, mime: "image/heic", width: 66, height: 38),
        .init(file: "heic-two-images.heic", format: .heif, mime: "image/heic", width: 96, height: 64),
    ]

    /// The fixtures whose header lies beyond the first 64 KiB.
    static let beyondHead: Set<String> = ["jpeg-big-exif.jpg", "tiff-ifd-at-end.tif"]

    nonisolated(unsafe) private static var cache: [String: [UInt8]] = [:]
    private static let lock = NSLock()

    var bytes: [UInt8] {
        get throws {
            try Self.lock.withLock {
                if let b = Self.cache[file] { return b }
                let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
                let url = dir.appendingPathComponent("media/images").appendingPathComponent(file)
                let b = [UInt8](try Data(contentsOf: url))
                Self.cache[file] = b
                return b
            }
        }
    }
}

fileprivate let imageHeadSize = 65_536

/// What a probe driver saw: the final answer, the follow-up requests, the bytes handed over.
fileprivate struct ImageDriveResult {
    var result: FormatParse
    var requests: [(offset: Int64, length: Int)] = []
    var bytesRead = 0
}

/// Plays the caller: first 64 KiB (or less), then each requested range, checking every request
/// is sane (inside the object, not already held, non-empty). `totalKnown: false` plays a server
/// that did not say the size (the object still ends at `bytes.count`).
fileprivate func imageDrive(
    _ format: MediaFormat, _ bytes: [UInt8], head: Int = imageHeadSize, totalKnown: Bool = true,
    limits: ProbeLimits = ProbeLimits(), maxRounds: Int = 16,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ImageDriveResult {
    let total = Int64(bytes.count)
    var data = ProbeData(head: Array(bytes.prefix(head)), totalSize: totalKnown ? total : nil)
    var out = ImageDriveResult(result: .refused(code: "unfinished", message: ""))
    for _ in 0..<maxRounds {
        let r = ImageProbe.parse(format, data, limits: limits)
        out.result = r
        out.bytesRead = data.bytesRead
        guard case .needBytes(let offset, let length) = r else { return out }
        out.requests.append((offset, length))
        guard offset >= 0, length > 0, data.bytes(at: offset, count: 1) == nil else {
            Issue.record("bad request \(offset)+\(length) (already held or empty)", sourceLocation: sourceLocation)
            return out
        }
        if totalKnown {
            guard offset + Int64(length) <= total else {
                Issue.record("request \(offset)+\(length) past the object's end \(total)", sourceLocation: sourceLocation)
                return out
            }
        }
        guard offset < total else { return out }  // nothing to give: the caller stops here
        let end = Int(min(offset + Int64(length), total))
        data.add(offset: offset, bytes: Array(bytes[Int(offset)..<end]))
    }
    Issue.record("still asking for bytes after \(maxRounds) rounds", sourceLocation: sourceLocation)
    return out
}

fileprivate func imageDescribed(_ r: FormatParse) -> MediaInfo? {
    if case .described(let info) = r { return info }
    return nil
}

fileprivate func imageRefusal(_ r: FormatParse) -> String? {
    if case .refused(let code, _) = r { return code.rawValue }
    return nil
}

fileprivate func imageBE32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
fileprivate func imageBE16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
fileprivate func imageLE32(_ v: UInt32) -> [UInt8] { imageBE32(v).reversed() }
fileprivate func imageLE16(_ v: UInt16) -> [UInt8] { imageBE16(v).reversed() }

fileprivate func imageTestCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A PNG signature and IHDR chunk (with a correct CRC) and nothing else.
fileprivate func imagePNGHeader(width: UInt32, height: UInt32, depth: UInt8 = 8, colour: UInt8 = 2) -> [UInt8] {
    let body = Array("IHDR".utf8) + imageBE32(width) + imageBE32(height) + [depth, colour, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + imageBE32(13) + body + imageBE32(imageTestCRC32(body))
}

/// An ISO-BMFF box.
fileprivate func imageBox(_ type: String, _ payload: [UInt8]) -> [UInt8] {
    imageBE32(UInt32(8 + payload.count)) + Array(type.utf8) + payload
}

fileprivate func imageFullBox(_ type: String, version: UInt8 = 0, flags: UInt32 = 0, _ payload: [UInt8]) -> [UInt8] {
    imageBox(type, [version, UInt8(flags >> 16 & 0xFF), UInt8(flags >> 8 & 0xFF), UInt8(flags & 0xFF)] + payload)
}

/// A minimal HEIF: ftyp, then meta (pitm item 1; ipco with the given properties; ipma giving
/// item 1 the properties 1…n in order), optionally after `padding` bytes of a `free` box.
fileprivate func imageHEIF(brand: String = "heic", properties: [[UInt8]], padding: Int = 0) -> [UInt8] {
    let ftyp = imageBox("ftyp", Array(brand.utf8) + [0, 0, 0, 0] + Array("mif1".utf8) + Array(brand.utf8))
    let ipco = imageBox("ipco", properties.flatMap { $0 })
    let ipma = imageFullBox("ipma", imageBE32(1) + imageBE16(1) + [UInt8(properties.count)] + (1...properties.count).map { UInt8($0) })
    let meta = imageFullBox("meta", imageFullBox("hdlr", [0, 0, 0, 0] + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
        + imageFullBox("pitm", imageBE16(1)) + imageBox("iprp", ipco + ipma))
    let free = padding > 0 ? imageBox("free", [UInt8](repeating: 0, count: padding)) : []
    return ftyp + free + meta + imageBox("mdat", [1, 2, 3, 4])
}

fileprivate func imageISPE(_ w: UInt32, _ h: UInt32) -> [UInt8] { imageFullBox("ispe", imageBE32(w) + imageBE32(h)) }

// MARK: - Real files

@Suite("Image probe: fixtures")
struct ImageProbeFixtureTests {
    @Test("detects the format by magic bytes", arguments: ImageFixture.all)
    fileprivate func detects(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        #expect(ImageProbe.detect(bytes.prefix(64)) == f.format)
        #expect(ImageProbe.detect(bytes[...]) == f.format)
    }

    @Test("describes the whole file: exact width, height, mime and format", arguments: ImageFixture.all)
    fileprivate func describesWholeFile(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        #expect(bytes.count < 100_000)
        let r = ImageProbe.parse(f.format, ProbeData(head: bytes, totalSize: Int64(bytes.count)), limits: ProbeLimits())
        let info = try #require(imageDescribed(r), "\(r)")
        #expect(info.width == f.width)
        #expect(info.height == f.height)
        #expect(info.mimeType == f.mime)
        #expect(info.format == f.format)
        #expect(info.size == Int64(bytes.count))
    }

    @Test("the first 64 KiB are enough, except where the header lies beyond them", arguments: ImageFixture.all)
    fileprivate func firstRangeSuffices(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        for totalKnown in [true, false] {
            let d = imageDrive(f.format, bytes, totalKnown: totalKnown)
            let info = try #require(imageDescribed(d.result), "\(d.result)")
            #expect(info.width == f.width && info.height == f.height)
            if ImageFixture.beyondHead.contains(f.file) {
                #expect(d.requests.count == 1)
            } else {
                #expect(d.requests.isEmpty)
                #expect(d.bytesRead <= imageHeadSize)
            }
        }
    }

    @Test("a JPEG whose EXIF, XMP and ICC segments push the frame header past 64 KiB asks for the bytes from the next marker")
    func bigExifJPEG() throws {
        let bytes = try ImageFixture.all.first { $0.file == "jpeg-big-exif.jpg" }!.bytes
        #expect(bytes.count > imageHeadSize)
        let total = Int64(bytes.count)
        var data = ProbeData(head: Array(bytes.prefix(imageHeadSize)), totalSize: total)
        // Segments: APP0 at 2, APP1 Exif at 20 (60086), APP1 XMP at 60108 (8156), APP2 ICC at 68266.
        #expect(ImageProbe.parse(.jpeg, data, limits: ProbeLimits()) == .needBytes(offset: 68_266, length: Int(total - 68_266)))
        data.add(offset: 68_266, bytes: Array(bytes[68_266...]))
        let info = try #require(imageDescribed(ImageProbe.parse(.jpeg, data, limits: ProbeLimits())))
        #expect(info.width == 53 && info.height == 31)
        #expect(info.probeRequests == 2)
        #expect(info.probeBytes == imageHeadSize + bytes.count - 68_266)

        // Size unknown: the request is a full 64 KiB from the marker; the server returns what there is.
        var unknown = ProbeData(head: Array(bytes.prefix(imageHeadSize)), totalSize: nil)
        #expect(ImageProbe.parse(.jpeg, unknown, limits: ProbeLimits()) == .needBytes(offset: 68_266, length: 65_536))
        unknown.add(offset: 68_266, bytes: Array(bytes[68_266...]))
        #expect(imageDescribed(ImageProbe.parse(.jpeg, unknown, limits: ProbeLimits()))?.width == 53)
    }

    @Test("a TIFF whose IFD follows the image data asks for the IFD only")
    func tiffIFDAtEnd() throws {
        let bytes = try ImageFixture.all.first { $0.file == "tiff-ifd-at-end.tif" }!.bytes
        let total = Int64(bytes.count)
        let data = ProbeData(head: Array(bytes.prefix(imageHeadSize)), totalSize: total)
        // IFD at 75008 (16 entries): the request runs to the end of the object, which is nearer
        // than 64 entries' worth.
        #expect(ImageProbe.parse(.tiff, data, limits: ProbeLimits()) == .needBytes(offset: 75_008, length: Int(total - 75_008)))
        // Size unknown: a guess of 64 entries (2 + 64×12 + 4 bytes).
        let unknown = ProbeData(head: Array(bytes.prefix(imageHeadSize)), totalSize: nil)
        #expect(ImageProbe.parse(.tiff, unknown, limits: ProbeLimits()) == .needBytes(offset: 75_008, length: 774))
    }

    @Test("limits are applied to real files")
    func limitsOnFixtures() throws {
        let bytes = try ImageFixture.all.first { $0.file == "tiff-ifd-at-end.tif" }!.bytes
        var limits = ProbeLimits()
        limits.maxDimension = 299
        #expect(imageRefusal(imageDrive(.tiff, bytes, limits: limits).result) == "dimensions_exceed_limit")
        limits = ProbeLimits()
        limits.maxPixels = 74_999
        #expect(imageRefusal(imageDrive(.tiff, bytes, limits: limits).result) == "dimensions_exceed_limit")
        limits.maxPixels = 75_000
        #expect(imageDescribed(imageDrive(.tiff, bytes, limits: limits).result) != nil)
        limits.maxObjectBytes = 1000
        #expect(imageRefusal(imageDrive(.tiff, bytes, limits: limits).result) == "too_large")
    }

    @Test("truncated at every length: the right size, a corrupt refusal or a request for the missing bytes", arguments: ImageFixture.all)
    fileprivate func truncations(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        for length in 0...bytes.count {
            let cut = Array(bytes.prefix(length))
            // Size known: described correctly, or refused as corrupt (empty when 0 bytes).
            let known = imageDrive(f.format, cut)
            switch known.result {
            case .described(let info):
                #expect(info.width == f.width && info.height == f.height, "\(length)")
            case .refused(let code, _):
                #expect(code == (length == 0 ? "empty_object" : "corrupt"), "\(length): \(known.result)")
            case .needBytes:
                Issue.record("\(length): still asking for bytes")
            }
            // Size unknown, one call with the (at most 64 KiB) head: described correctly, or a
            // request for bytes not held (where they stop, or where a segment length or an IFD
            // offset points past them).
            if length > imageHeadSize { continue }
            let r = ImageProbe.parse(f.format, ProbeData(head: cut, totalSize: nil), limits: ProbeLimits())
            switch r {
            case .described(let info):
                #expect(info.width == f.width && info.height == f.height, "\(length)")
            case .needBytes(let offset, let n):
                #expect(offset >= Int64(length) && n > 0, "\(length): \(r)")
            case .refused(let code, _):
                #expect(length == 0 && code == "empty_object", "\(length): \(r)")
            }
        }
    }
}

// MARK: - Hostile and hand-built headers

@Suite("Image probe: hostile headers")
struct ImageProbeHostileTests {
    @Test("a 200000×200000 PNG is refused without allocating")
    func pngBomb() {
        let png = imagePNGHeader(width: 200_000, height: 200_000)
        #expect(ImageProbe.detect(png[...]) == .png)
        let r = ImageProbe.parse(.png, ProbeData(head: png, totalSize: 10_000_000), limits: ProbeLimits())
        #expect(imageRefusal(r) == "dimensions_exceed_limit")
        // Within the per-side limit but over the pixel limit.
        let wide = imagePNGHeader(width: 100_000, height: 20_000)
        #expect(imageRefusal(ImageProbe.parse(.png, ProbeData(head: wide, totalSize: nil), limits: ProbeLimits())) == "dimensions_exceed_limit")
        // The largest PNG dimensions with a limit that lets them through: no overflow.
        var open = ProbeLimits()
        open.maxDimension = .max
        open.maxPixels = .max
        let huge = imagePNGHeader(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF)
        #expect(imageDescribed(ImageProbe.parse(.png, ProbeData(head: huge, totalSize: nil), limits: open))?.width == 0x7FFF_FFFF)
    }

    @Test("zero and invalid PNG headers are corrupt")
    func pngInvalid() {
        let cases: [[UInt8]] = [
            imagePNGHeader(width: 0, height: 0),
            imagePNGHeader(width: 10, height: 0),
            imagePNGHeader(width: 0x8000_0000, height: 1),
            imagePNGHeader(width: 10, height: 10, depth: 16, colour: 3),  // 16-bit palette
            imagePNGHeader(width: 10, height: 10, depth: 8, colour: 5),
        ]
        for png in cases {
            let r = ImageProbe.parse(.png, ProbeData(head: png, totalSize: Int64(png.count)), limits: ProbeLimits())
            #expect(imageRefusal(r) == "corrupt", "\(r)")
        }
        var badCRC = imagePNGHeader(width: 10, height: 10)
        badCRC[badCRC.count - 1] ^= 1
        #expect(imageRefusal(ImageProbe.parse(.png, ProbeData(head: badCRC, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        // 16-bit RGB is fine.
        let deep = imagePNGHeader(width: 10, height: 7, depth: 16, colour: 2)
        #expect(imageDescribed(ImageProbe.parse(.png, ProbeData(head: deep, totalSize: nil), limits: ProbeLimits()))?.height == 7)
    }

    @Test("huge declared sizes in every format are refused, not trapped on")
    func hugeEverywhere() {
        let limits = ProbeLimits()
        let gif = Array("GIF89a".utf8) + imageLE16(65_535) + imageLE16(65_535) + [0, 0, 0]
        #expect(imageRefusal(ImageProbe.parse(.gif, ProbeData(head: gif, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")

        let vp8x = Array("RIFF".utf8) + imageLE32(30) + Array("WEBPVP8X".utf8) + imageLE32(10) + [0x10, 0, 0, 0]
            + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(ImageProbe.detect(vp8x[...]) == .webp)
        #expect(imageRefusal(ImageProbe.parse(.webp, ProbeData(head: vp8x, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")

        // BMP with height Int32.min (top-down): its magnitude does not fit Int32.
        let bmp = Array("BM".utf8) + imageLE32(54) + imageLE32(0) + imageLE32(54) + imageLE32(40)
            + imageLE32(10) + imageLE32(0x8000_0000) + imageLE16(1) + imageLE16(24) + [UInt8](repeating: 0, count: 24)
        #expect(ImageProbe.detect(bmp[...]) == .bmp)
        #expect(imageRefusal(ImageProbe.parse(.bmp, ProbeData(head: bmp, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")
        var negWidth = bmp
        negWidth.replaceSubrange(18..<22, with: imageLE32(0xFFFF_FFF0))
        #expect(imageRefusal(ImageProbe.parse(.bmp, ProbeData(head: negWidth, totalSize: nil), limits: limits)) == "corrupt")

        // TIFF with LONG width and length of 4 billion.
        let tiff = [0x4D, 0x4D, 0x00, 0x2A] + imageBE32(8) + imageBE16(2)
            + imageBE16(256) + imageBE16(4) + imageBE32(1) + imageBE32(0xFFFF_FFFF)
            + imageBE16(257) + imageBE16(4) + imageBE32(1) + imageBE32(0xFFFF_FFFF) + imageBE32(0)
        #expect(imageRefusal(ImageProbe.parse(.tiff, ProbeData(head: tiff, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")

        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x03]
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: jpeg, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")

        let heif = imageHEIF(properties: [imageISPE(0xFFFF_FFFF, 0xFFFF_FFFF)])
        #expect(imageRefusal(ImageProbe.parse(.heif, ProbeData(head: heif, totalSize: nil), limits: limits)) == "dimensions_exceed_limit")
    }

    @Test("empty objects, non-image formats and wrong formats")
    func emptyAndWrong() throws {
        #expect(imageRefusal(ImageProbe.parse(.png, ProbeData(head: [], totalSize: 0), limits: ProbeLimits())) == "empty_object")
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: [], totalSize: nil), limits: ProbeLimits())) == "empty_object")
        let png = imagePNGHeader(width: 3, height: 2)
        #expect(imageRefusal(ImageProbe.parse(.mp4, ProbeData(head: png, totalSize: nil), limits: ProbeLimits())) == "unsupported_type")
        for format in [MediaFormat.jpeg, .gif, .webp, .bmp, .tiff, .avif, .heif] {
            let r = ImageProbe.parse(format, ProbeData(head: png, totalSize: Int64(png.count)), limits: ProbeLimits())
            #expect(imageRefusal(r) == "corrupt", "\(format): \(r)")
        }
        #expect(ImageProbe.detect([][...]) == nil)
        #expect(ImageProbe.detect(Array("%PDF-1.7\n".utf8)[...]) == nil)
        #expect(ImageProbe.detect(Array("BM is not a bitmap, just text".utf8)[...]) == nil)
        let mp4 = imageBox("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isomiso2avc1mp41".utf8))
        #expect(ImageProbe.detect(mp4[...]) == nil)
        #expect(ImageProbe.detect(imageHEIF(brand: "avif", properties: [imageISPE(4, 4)])[...]) == .avif)
        #expect(ImageProbe.detect(imageHEIF(brand: "heic", properties: [imageISPE(4, 4)])[...]) == .heif)
        #expect(ImageProbe.detect(imageHEIF(brand: "mif1", properties: [imageISPE(4, 4)])[...]) == .heif)
        #expect(ImageProbe.detect([0x49, 0x49, 0x2B, 0x00][...]) == .tiff)
    }

    @Test("JPEG: fill bytes, standalone markers, DHT/DAC before the frame header, progressive SOF2")
    func jpegMarkers() throws {
        let dht: [UInt8] = [0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00]
        let dac: [UInt8] = [0xFF, 0xCC, 0x00, 0x04, 0x00, 0x00]
        let jpg: [UInt8] = [0xFF, 0xC8, 0x00, 0x02]
        let sof2: [UInt8] = [0xFF, 0xFF, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x01, 0x2C, 0x02, 0x58, 0x01, 0x01, 0x11, 0x00]
        let bytes: [UInt8] = [0xFF, 0xD8] + [0xFF, 0x01] + [0xFF, 0xD3] + dht + dac + jpg + [0xFF, 0xFF, 0xFE, 0x00, 0x03, 0x41] + sof2
        let info = try #require(imageDescribed(ImageProbe.parse(.jpeg, ProbeData(head: bytes, totalSize: nil), limits: ProbeLimits())))
        #expect(info.width == 600 && info.height == 300)

        // SOS or EOI before any frame header, garbage where a marker should be, DNL height.
        for bad: [UInt8] in [
            [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02],
            [0xFF, 0xD8, 0xFF, 0xD9],
            [0xFF, 0xD8, 0x12, 0x34],
            [0xFF, 0xD8, 0xFF, 0x00],
            [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01],
            [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 0x08, 0x00, 0x00, 0x00, 0x10],
            [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x00, 0x10, 0x03],
        ] {
            let r = ImageProbe.parse(.jpeg, ProbeData(head: bad, totalSize: Int64(bad.count)), limits: ProbeLimits())
            #expect(imageRefusal(r) == "corrupt", "\(bad): \(r)")
        }
    }

    @Test("JPEG: endless segments and fill bytes end in a refusal, not a loop")
    func jpegBounded() {
        let com: [UInt8] = [0xFF, 0xFE, 0x00, 0x02]
        let many = [0xFF, 0xD8] + Array([[UInt8]](repeating: com, count: 5000).joined())
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: many, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        let fill = [0xFF, 0xD8] + [UInt8](repeating: 0xFF, count: 20_000)
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: fill, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        // A segment length pointing far beyond the object: truncated.
        let far: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x00]
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: far, totalSize: 7), limits: ProbeLimits())) == "corrupt")
        #expect(ImageProbe.parse(.jpeg, ProbeData(head: far, totalSize: nil), limits: ProbeLimits()) == .needBytes(offset: 65_539, length: 65_536))
    }

    @Test("HEIF: meta after a large box is fetched; clap crops and irot rotates")
    func heifStructure() throws {
        let real = try ImageFixture.all.first { $0.file == "avif-rgb.avif" }!.bytes
        // Move the real AVIF's meta box behind 70000 bytes of `free`.
        let ftypSize = Int(UInt32(real[0]) << 24 | UInt32(real[1]) << 16 | UInt32(real[2]) << 8 | UInt32(real[3]))
        let pad = imageBox("free", [UInt8](repeating: 0, count: 70_000))
        let moved = Array(real[..<ftypSize]) + pad + Array(real[ftypSize...])
        let metaAt = Int64(ftypSize + pad.count)
        let data = ProbeData(head: Array(moved.prefix(imageHeadSize)), totalSize: Int64(moved.count))
        #expect(ImageProbe.parse(.avif, data, limits: ProbeLimits()) == .needBytes(offset: metaAt, length: moved.count - Int(metaAt)))
        let d = imageDrive(.avif, moved)
        #expect(imageDescribed(d.result)?.width == 49 && imageDescribed(d.result)?.height == 31)
        #expect(d.requests.count == 1)

        let clap = imageBox("clap", imageBE32(30) + imageBE32(1) + imageBE32(17) + imageBE32(1) + [UInt8](repeating: 0, count: 16))
        let irot = imageBox("irot", [1])
        let rotated = imageHEIF(properties: [imageISPE(32, 24), clap, irot])
        let info = try #require(imageDescribed(ImageProbe.parse(.heif, ProbeData(head: rotated, totalSize: nil), limits: ProbeLimits())))
        #expect(info.width == 17 && info.height == 30)
        #expect(info.mimeType == "image/heic")
        let generic = imageHEIF(brand: "mif1", properties: [imageISPE(8, 6)])
        #expect(imageDescribed(ImageProbe.parse(.heif, ProbeData(head: generic, totalSize: nil), limits: ProbeLimits()))?.mimeType == "image/heif")
        // Zero denominator; no ispe at all; no meta.
        let zeroD = imageHEIF(properties: [imageISPE(32, 24), imageBox("clap", [UInt8](repeating: 0, count: 32))])
        #expect(imageRefusal(ImageProbe.parse(.heif, ProbeData(head: zeroD, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        let noISPE = imageHEIF(properties: [irot])
        #expect(imageRefusal(ImageProbe.parse(.heif, ProbeData(head: noISPE, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        let noMeta = imageBox("ftyp", Array("heic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8)) + imageBox("mdat", [1, 2])
        #expect(imageRefusal(ImageProbe.parse(.heif, ProbeData(head: noMeta, totalSize: Int64(noMeta.count)), limits: ProbeLimits())) == "corrupt")
    }

    @Test("TIFF: BigTIFF, SHORT values, IFD offsets inside the header or beyond the object")
    func tiffVariants() throws {
        // BigTIFF, little-endian: header 16 bytes, IFD at 16 with 2 entries of 20 bytes.
        var big: [UInt8] = [0x49, 0x49, 0x2B, 0x00] + imageLE16(8) + imageLE16(0) + imageLE32(16) + imageLE32(0)
        big += imageLE32(2) + imageLE32(0)
        big += imageLE16(256) + imageLE16(16) + imageLE32(1) + imageLE32(0) + imageLE32(70_000) + imageLE32(0)
        big += imageLE16(257) + imageLE16(3) + imageLE32(1) + imageLE32(0) + imageLE16(5) + [UInt8](repeating: 0, count: 6)
        big += [UInt8](repeating: 0, count: 8)
        let info = try #require(imageDescribed(ImageProbe.parse(.tiff, ProbeData(head: big, totalSize: nil), limits: ProbeLimits())))
        #expect(info.width == 70_000 && info.height == 5)

        let inside = [0x49, 0x49, 0x2A, 0x00] + imageLE32(4)
        #expect(imageRefusal(ImageProbe.parse(.tiff, ProbeData(head: inside, totalSize: nil), limits: ProbeLimits())) == "corrupt")
        let beyond = [0x49, 0x49, 0x2A, 0x00] + imageLE32(0xFFFF_FFF0)
        #expect(imageRefusal(ImageProbe.parse(.tiff, ProbeData(head: beyond, totalSize: 8), limits: ProbeLimits())) == "corrupt")
        #expect(ImageProbe.parse(.tiff, ProbeData(head: beyond, totalSize: nil), limits: ProbeLimits()) == .needBytes(offset: 0xFFFF_FFF0, length: 774))
        let noWidth = [0x49, 0x49, 0x2A, 0x00] + imageLE32(8) + imageLE16(1) + imageLE16(257) + imageLE16(3) + imageLE32(1) + imageLE32(9) + imageLE32(0)
        #expect(imageRefusal(ImageProbe.parse(.tiff, ProbeData(head: noWidth, totalSize: nil), limits: ProbeLimits())) == "corrupt")
    }

    @Test("fuzz: 2000 seeded mutations of the fixtures end without a crash, in bounds")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0x5EED_1234_ABCD_0042)
        let fixtures = try ImageFixture.all.map { ($0, try $0.bytes) }
        var described = 0, refused = 0
        for i in 0..<2000 {
            let (f, original) = fixtures[Int(rng.next() % UInt64(fixtures.count))]
            var bytes = original
            let mutations = 1 + Int(rng.next() % 4)
            for _ in 0..<mutations where !bytes.isEmpty {
                // Mostly in the header, where the parsers look.
                let window = rng.next() % 4 == 0 ? bytes.count : min(bytes.count, 256)
                let at = Int(rng.next() % UInt64(window))
                switch rng.next() % 7 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[at] ^= 1 << UInt8(rng.next() % 8)
                case 2: bytes[at] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                case 3: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                case 4: bytes.remove(at: at)
                case 5: bytes.removeSubrange(at...)
                default:
                    for k in 0..<4 where at + k < bytes.count { bytes[at + k] = [0xFF, 0xFF, 0xFF, 0xF0][k] }
                }
            }
            let format = ImageProbe.detect(bytes.prefix(imageHeadSize)) ?? f.format
            let d = imageDrive(format, bytes, totalKnown: i % 3 != 0)
            switch d.result {
            case .described(let info):
                described += 1
                let w = try #require(info.width), h = try #require(info.height)
                #expect(w > 0 && h > 0 && w <= 100_000 && h <= 100_000 && w * h <= 1_000_000_000)
            case .refused(let code, let message):
                refused += 1
                #expect(["corrupt", "dimensions_exceed_limit", "empty_object"].contains(code), "\(code): \(message)")
                #expect(!message.isEmpty)
            case .needBytes:
                // Only when the object's size is unknown and the bytes ran out.
                #expect(i % 3 == 0)
            }
            #expect(d.bytesRead <= max(bytes.count, imageHeadSize))
        }
        #expect(described > 100 && refused > 100)
    }
}

// MARK: - The whole object in hand: end markers (issue 20, Weak 7)

/// A JPEG header for `width`×`height` (SOI, APP0 JFIF, DQT, SOF0, DHT, SOS) followed by `scan`
/// bytes of entropy-coded data and, when `eoi`, the end-of-image marker.
fileprivate func imageJPEG(width: UInt16, height: UInt16, scan: [UInt8], eoi: Bool) -> [UInt8] {
    let app0: [UInt8] = [0xFF, 0xE0] + imageBE16(16) + Array("JFIF".utf8) + [0, 1, 1, 0] + imageBE16(1) + imageBE16(1) + [0, 0]
    let dqt: [UInt8] = [0xFF, 0xDB] + imageBE16(67) + [0] + [UInt8](repeating: 1, count: 64)
    let sof: [UInt8] = [0xFF, 0xC0] + imageBE16(17) + [8] + imageBE16(height) + imageBE16(width) + [3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]
    let dht: [UInt8] = [0xFF, 0xC4] + imageBE16(20) + [0x00] + [1] + [UInt8](repeating: 0, count: 15) + [0]
    let sos: [UInt8] = [0xFF, 0xDA] + imageBE16(12) + [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]
    return [0xFF, 0xD8] + app0 + dqt + sof + dht + sos + scan + (eoi ? [0xFF, 0xD9] : [])
}

@Suite("Image probe: end markers when the whole object is held")
struct ImageProbeEndMarkerTests {
    fileprivate static let endMarked: [ImageFixture] = ImageFixture.all.filter { [.jpeg, .png, .gif].contains($0.format) }

    /// The issue's case: 300 bytes, a 640×480 header, no EOI. It used to be registered as a
    /// 640×480 image.
    @Test func aJPEGCutAfterItsHeaderIsCorrupt() throws {
        var cut = imageJPEG(width: 640, height: 480, scan: [], eoi: false)
        let fill = (0..<(300 - cut.count)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) == 0xFF ? 0x12 : UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        cut += fill
        #expect(cut.count == 300)
        let r = ImageProbe.parse(.jpeg, ProbeData(head: cut, totalSize: 300), limits: ProbeLimits())
        guard case .refused(let code, let message) = r else { Issue.record("registered: \(r)"); return }
        #expect(code == "corrupt")
        #expect(message.contains("end-of-image marker FF D9") && message.contains("300 bytes"), "\(message)")
        // The same bytes with the end marker are a picture; and through the prober the unit is refused.
        let whole = imageJPEG(width: 640, height: 480, scan: fill, eoi: true)
        #expect(imageDescribed(ImageProbe.parse(.jpeg, ProbeData(head: whole, totalSize: Int64(whole.count)), limits: ProbeLimits()))?.width == 640)
        let unit = ContentProber().probe(type: .image, data: ProbeData(head: cut, totalSize: 300), contentType: "image/jpeg")
        #expect(imageRefusal(unit) == "corrupt", "\(unit)")
    }

    /// Every cut of a JPEG, PNG or GIF fixture (whole object in hand, size known) is refused; the
    /// whole file is described.
    @Test("every truncation of a whole JPEG, PNG or GIF is refused", arguments: endMarked)
    fileprivate func everyCutIsRefused(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        guard !ImageFixture.beyondHead.contains(f.file) else { return }
        for length in 1..<bytes.count {
            let cut = Array(bytes.prefix(length))
            let r = ImageProbe.parse(f.format, ProbeData(head: cut, totalSize: Int64(length)), limits: ProbeLimits())
            #expect(imageRefusal(r) == "corrupt", "\(f.file) cut at \(length): \(r)")
        }
        #expect(imageDescribed(ImageProbe.parse(f.format, ProbeData(head: bytes, totalSize: Int64(bytes.count)), limits: ProbeLimits())) != nil)
    }

    /// Bytes after the end marker (a "motion photo" appends a video to its JPEG; some tools pad)
    /// are accepted: the structure ends where it says.
    @Test("data after the end marker is accepted", arguments: endMarked)
    fileprivate func trailingDataIsAccepted(_ f: ImageFixture) throws {
        let bytes = try f.bytes
        guard !ImageFixture.beyondHead.contains(f.file) else { return }
        let padded = bytes + [UInt8](repeating: 0, count: 100) + Array("ftypmp42 trailing video".utf8)
        let info = imageDescribed(ImageProbe.parse(f.format, ProbeData(head: padded, totalSize: Int64(padded.count)), limits: ProbeLimits()))
        #expect(info?.width == f.width && info?.height == f.height)
    }

    /// An EXIF thumbnail is a JPEG inside an APP1 segment, with its own FF D9: it does not stand
    /// in for the main image's end marker.
    @Test func aThumbnailsEndMarkerDoesNotCount() throws {
        let thumbnail = imageJPEG(width: 8, height: 8, scan: [1, 2, 3], eoi: true)
        let app1: [UInt8] = [0xFF, 0xE1] + imageBE16(UInt16(2 + 6 + thumbnail.count)) + Array("Exif".utf8) + [0, 0] + thumbnail
        let main = imageJPEG(width: 320, height: 200, scan: [9, 8, 0xFF, 0x00, 7, 0xFF, 0xD3, 6], eoi: true)
        let withExif = Array(main[0..<2]) + app1 + Array(main[2...])
        let ok = ImageProbe.parse(.jpeg, ProbeData(head: withExif, totalSize: Int64(withExif.count)), limits: ProbeLimits())
        #expect(imageDescribed(ok)?.width == 320, "stuffed FF 00 and a restart marker inside the scan are data: \(ok)")
        let cut = Array(withExif.dropLast(2))
        #expect(imageRefusal(ImageProbe.parse(.jpeg, ProbeData(head: cut, totalSize: Int64(cut.count)), limits: ProbeLimits())) == "corrupt")
    }

    @Test func aPNGWithoutImageDataOrIENDIsCorrupt() {
        let header = imagePNGHeader(width: 4, height: 3)
        let iend = imageBE32(0) + Array("IEND".utf8) + imageBE32(imageTestCRC32(Array("IEND".utf8)))
        let idat = imageBE32(2) + Array("IDAT".utf8) + [0x78, 0x9C] + imageBE32(imageTestCRC32(Array("IDAT".utf8) + [0x78, 0x9C]))
        func parse(_ b: [UInt8]) -> FormatParse { ImageProbe.parse(.png, ProbeData(head: b, totalSize: Int64(b.count)), limits: ProbeLimits()) }
        #expect(imageDescribed(parse(header + idat + iend))?.width == 4)
        #expect(imageRefusal(parse(header + iend)) == "corrupt", "no IDAT")
        #expect(imageRefusal(parse(header + idat)) == "corrupt", "no IEND")
        #expect(imageRefusal(parse(header)) == "corrupt", "the header alone (it used to be a 4×3 image)")
    }

    @Test func aGIFWithoutAnImageOrTrailerIsCorrupt() {
        let screen = Array("GIF89a".utf8) + imageLE16(5) + imageLE16(4) + [0x00, 0, 0]
        let image: [UInt8] = [0x2C] + imageLE16(0) + imageLE16(0) + imageLE16(5) + imageLE16(4) + [0x00] + [2, 2, 0x4C, 0x01, 0]
        let ext: [UInt8] = [0x21, 0xF9, 4, 0, 0, 0, 0, 0]
        func parse(_ b: [UInt8]) -> FormatParse { ImageProbe.parse(.gif, ProbeData(head: b, totalSize: Int64(b.count)), limits: ProbeLimits()) }
        #expect(imageDescribed(parse(screen + ext + image + [0x3B]))?.width == 5)
        #expect(imageRefusal(parse(screen + [0x3B])) == "corrupt", "no image")
        #expect(imageRefusal(parse(screen + ext + image)) == "corrupt", "no trailer")
        #expect(imageRefusal(parse(screen)) == "corrupt")
    }

    /// What is not detected, as docs/probing.md says: with the size unknown, or when the object is
    /// larger than the bytes read (the probe holds its head, and maybe a later range, not all of
    /// it), a missing end marker goes unnoticed.
    @Test func whatIsNotDetected() throws {
        let baseline = try ImageFixture.all.first { $0.file == "jpeg-baseline.jpg" }!.bytes
        let cut = Array(baseline.dropLast(2))
        #expect(imageDescribed(ImageProbe.parse(.jpeg, ProbeData(head: cut, totalSize: nil), limits: ProbeLimits())) != nil,
                "size unknown: not checked")
        // A larger object: the first 64 KiB of a 200,000-byte file whose end is missing.
        let big = imageJPEG(width: 50, height: 40, scan: [UInt8](repeating: 0x11, count: 200_000), eoi: false)
        let head = ProbeData(head: Array(big.prefix(imageHeadSize)), totalSize: Int64(big.count))
        #expect(imageDescribed(ImageProbe.parse(.jpeg, head, limits: ProbeLimits())) != nil, "larger than the read: not checked")
        // The big-EXIF fixture is read as a head and a later range, with a gap: not checked either.
        let bigExif = try ImageFixture.all.first { $0.file == "jpeg-big-exif.jpg" }!.bytes
        let cutExif = Array(bigExif.dropLast(2))
        let d = imageDrive(.jpeg, cutExif)
        #expect(imageDescribed(d.result)?.width == 53, "\(d.result)")
        // …but when the ranges read do cover the whole object, it is checked.
        var covered = ProbeData(head: Array(cutExif.prefix(imageHeadSize)), totalSize: Int64(cutExif.count))
        covered.add(offset: Int64(imageHeadSize), bytes: Array(cutExif[imageHeadSize...]))
        #expect(imageRefusal(ImageProbe.parse(.jpeg, covered, limits: ProbeLimits())) == "corrupt")
    }

    @Test func wholeObjectIsAssembledFromRanges() {
        var d = ProbeData(head: [1, 2, 3, 4], totalSize: 10)
        #expect(d.wholeObject == nil)
        d.add(offset: 6, bytes: [7, 8, 9, 10])
        #expect(d.wholeObject == nil, "a gap at 4..<6")
        d.add(offset: 3, bytes: [4, 5, 6, 7])
        #expect(d.wholeObject.map(Array.init) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(ProbeData(head: [1, 2, 3], totalSize: nil).wholeObject == nil)
        #expect(ProbeData(head: [1, 2, 3, 4], totalSize: 3).wholeObject.map(Array.init) == [1, 2, 3])
    }
}
