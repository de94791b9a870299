import Foundation
@testable import RegistrarCore
import Testing

/// The orientation convention (docs/probing.md): a JPEG's EXIF Orientation and an MP4
/// track's display matrix are recorded, and the recorded width and height are the displayed
/// picture's (a quarter turn swaps them), as a browser shows it.
@Suite("Media orientation: EXIF and the MP4 display matrix")
struct MediaOrientationTests {
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    /// A minimal baseline JPEG, stored `width`×`height`, with an EXIF APP1 whose IFD0 holds
    /// Make and Orientation (`littleEndian` picks II or MM).
    static func jpeg(width: UInt16, height: UInt16, orientation: UInt16?, littleEndian: Bool) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { littleEndian ? be16(v).reversed() : be16(v) }
        func u32(_ v: UInt32) -> [UInt8] { let b = be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)); return littleEndian ? b.reversed() : b }
        var entries: [[UInt8]] = [u16(0x010F) + u16(2) + u32(4) + Array("Reg\0".utf8)]
        if let o = orientation { entries.append(u16(0x0112) + u16(3) + u32(1) + u16(o) + [0, 0]) }
        let tiff = (littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]) + u16(42) + u32(8) + u16(UInt16(entries.count)) + entries.flatMap { $0 } + u32(0)
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let app1: [UInt8] = [0xFF, 0xE1] + be16(UInt16(2 + payload.count)) + payload
        let dqt: [UInt8] = [0xFF, 0xDB] + be16(67) + [0] + [UInt8](repeating: 1, count: 64)
        let sof: [UInt8] = [0xFF, 0xC0] + be16(17) + [8] + be16(height) + be16(width) + [3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]
        let dht: [UInt8] = [0xFF, 0xC4] + be16(20) + [0x00] + [1] + [UInt8](repeating: 0, count: 15) + [0]
        let sos: [UInt8] = [0xFF, 0xDA] + be16(12) + [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]
        return [0xFF, 0xD8] + app1 + dqt + sof + dht + sos + [1, 2, 3] + [0xFF, 0xD9]
    }

    static func described(_ r: FormatParse) -> MediaInfo? {
        if case .described(let info) = r { return info }
        return nil
    }

    @Test("a JPEG's EXIF orientation is recorded; 5–8 swap the recorded width and height", arguments: [true, false])
    func jpegOrientation(littleEndian: Bool) throws {
        for (o, w, h) in [(nil, 640, 480), (1, 640, 480), (3, 640, 480), (6, 480, 640), (8, 480, 640), (5, 480, 640)] as [(UInt16?, Int, Int)] {
            let bytes = Self.jpeg(width: 640, height: 480, orientation: o, littleEndian: littleEndian)
            let info = try #require(Self.described(ImageProbe.parse(.jpeg, ProbeData(head: bytes, totalSize: Int64(bytes.count)), limits: ProbeLimits())))
            #expect(info.width == w && info.height == h, "orientation \(o.map(String.init) ?? "none"): \(info.width ?? 0)×\(info.height ?? 0)")
            #expect(info.orientation == o.map(Int.init), "orientation recorded: \(info.orientation.map(String.init) ?? "nil")")
        }
    }

    @Test("odd EXIF is no orientation, never a refusal")
    func oddExif() throws {
        var bytes = Self.jpeg(width: 64, height: 32, orientation: 9, littleEndian: true)
        var info = try #require(Self.described(ImageProbe.parse(.jpeg, ProbeData(head: bytes, totalSize: Int64(bytes.count)), limits: ProbeLimits())))
        #expect(info.orientation == nil && info.width == 64)
        bytes[12] = 0x58   // the TIFF byte order becomes "XI": not EXIF
        info = try #require(Self.described(ImageProbe.parse(.jpeg, ProbeData(head: bytes, totalSize: Int64(bytes.count)), limits: ProbeLimits())))
        #expect(info.orientation == nil && info.width == 64)
    }

    @Test("the display matrix: identity, quarter, half and three-quarter turns; anything else is none")
    func matrices() {
        let one: Int32 = 0x10000
        #expect(MediaOrientation.matrix(a: one, b: 0, c: 0, d: one) == 1)
        #expect(MediaOrientation.matrix(a: 0, b: one, c: -one, d: 0) == 6)
        #expect(MediaOrientation.matrix(a: -one, b: 0, c: 0, d: -one) == 3)
        #expect(MediaOrientation.matrix(a: 0, b: -one, c: one, d: 0) == 8)
        #expect(MediaOrientation.matrix(a: -one, b: 0, c: 0, d: one) == nil)   // a mirror
    }

    /// The fixture MP4 with every track header's matrix turned a quarter clockwise.
    @Test("an MP4 whose track header turns a quarter records orientation 6 and the displayed sides")
    func mp4Rotation() throws {
        let url = try #require(Bundle.module.url(forResource: "mp4_faststart", withExtension: "mp4", subdirectory: "Fixtures/media/av"))
        let original = [UInt8](try Data(contentsOf: url))
        func probe(_ b: [UInt8]) throws -> MediaInfo {
            try #require(Self.described(AVProbe.parse(.mp4, ProbeData(head: b, totalSize: Int64(b.count)), limits: ProbeLimits())))
        }
        let plain = try probe(original)
        var rotated = original
        let tag = Array("tkhd".utf8)
        var patched = 0
        for i in 0..<(rotated.count - 64) where Array(rotated[i..<(i + 4)]) == tag && rotated[i + 4] == 0 {
            let m = i + 4 + 40   // version 0: 40 bytes of fields, then the matrix
            let words: [UInt32] = [0, 0x0001_0000, 0, 0xFFFF_0000, 0]
            for (k, w) in words.enumerated() { rotated[(m + 4 * k)..<(m + 4 * k + 4)] = ArraySlice(Self.be16(UInt16(w >> 16)) + Self.be16(UInt16(w & 0xFFFF))) }
            patched += 1
        }
        try #require(patched > 0, "no tkhd in the fixture")
        let turned = try probe(rotated)
        #expect(plain.orientation == 1 && plain.width != nil)
        #expect(turned.orientation == 6 && turned.width == plain.height && turned.height == plain.width,
                "plain \(plain.width ?? 0)×\(plain.height ?? 0), turned \(turned.width ?? 0)×\(turned.height ?? 0) orientation \(turned.orientation ?? 0)")
    }
}
