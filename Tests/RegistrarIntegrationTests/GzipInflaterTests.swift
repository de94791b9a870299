import Foundation
import NIOCore
@testable import RegistrarAPI
import Testing

// Needs no server: it lives in this target only because `GzipInflater` is RegistrarAPI's (the
// one test target that links RegistrarAPI); it runs in a second without `scripts/services`.

/// `GzipInflater` (zlib through compress-nio) on real gzip streams made by `/bin/gzip`: every
/// way of splitting a stream gives back the original bytes, with windows and budgets small
/// enough that each piece fills the window many times (the seam where uploads were corrupted),
/// and every stream that is not a complete gzip stream is refused.
@Suite struct GzipInflaterTests {
    /// A CSV manifest of ~6 KB, compressible but not trivially.
    static let original: [UInt8] = {
        var text = "ObjectUrl,Image title\n"
        var x: UInt64 = 42
        for i in 0..<120 {
            x = x &* 6_364_136_223_846_793_005 &+ 1
            text += "https://bucket.example.com/scans/\(i)-\(String(x >> 40, radix: 16)).png,slice \(i)\n"
        }
        return Array(text.utf8)
    }()

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("m.csv")
        try Data(bytes).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-9", file.path]
        try p.run()
        p.waitUntilExit()
        return Array(try Data(contentsOf: dir.appendingPathComponent("m.csv.gz")))
    }

    /// Inflates `pieces` in order (budget-sized steps), then checks the end; the output.
    static func inflate(_ pieces: [ArraySlice<UInt8>], window: Int, budget: Int = .max) throws -> [UInt8] {
        let inflater = try GzipInflater(windowBytes: window)
        var out: [UInt8] = []
        for piece in pieces {
            inflater.feed(ByteBuffer(bytes: piece))
            var steps = 0
            while try !inflater.inflate(budget: budget, into: { out += $0.readableBytesView }) {
                steps += 1
                #expect(steps < 100_000, "no end to the steps")
            }
        }
        try inflater.finish()
        #expect(inflater.produced == out.count)
        return out
    }

    static func split(_ bytes: [UInt8], every size: Int) -> [ArraySlice<UInt8>] {
        stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min(bytes.count, $0 + size)] }
    }

    @Test func everyPieceSizeAndWindowGivesBackTheOriginal() throws {
        let zipped = try Self.gzip(Self.original)
        #expect(zipped.count < Self.original.count / 2)
        for window in [3, 64, 4096, 1 << 16] {
            for size in 1...zipped.count where size < 32 || size % 61 == 0 || size == zipped.count {
                let out = try Self.inflate(Self.split(zipped, every: size), window: window)
                #expect(out == Self.original, "window \(window), pieces of \(size): \(out.count) bytes")
            }
        }
    }

    @Test func everySplitPointGivesBackTheOriginal() throws {
        let zipped = try Self.gzip(Self.original)
        for cut in 0...zipped.count {
            let out = try Self.inflate([zipped[..<cut], zipped[cut...]], window: 100)
            #expect(out == Self.original, "cut at \(cut)")
        }
    }

    @Test func aSmallBudgetStopsAndResumesWithoutLosingBytes() throws {
        let zipped = try Self.gzip(Self.original)
        let out = try Self.inflate(Self.split(zipped, every: 500), window: 64, budget: 100)
        #expect(out == Self.original)
        // One step of a large piece produces about the budget, not the whole piece.
        let inflater = try GzipInflater(windowBytes: 64)
        inflater.feed(ByteBuffer(bytes: zipped))
        var first = 0
        #expect(try !inflater.inflate(budget: 256, into: { first += $0.readableBytes }))
        #expect(first >= 256 && first < 256 + 64)
    }

    @Test func membersInARowAreOneStream() throws {
        let zipped = try Self.gzip(Self.original)
        let twice = zipped + zipped
        for size in [1, 5, 333, zipped.count, twice.count] {
            #expect(try Self.inflate(Self.split(twice, every: size), window: 50) == Self.original + Self.original, "pieces of \(size)")
        }
    }

    @Test func anythingButACompleteStreamIsRefused() throws {
        let zipped = try Self.gzip(Self.original)
        // Every proper prefix (including nothing at all) is cut short.
        for length in 0..<zipped.count {
            #expect(throws: GzipInflater.Failure.self, "prefix of \(length) bytes") {
                _ = try Self.inflate(Self.split(Array(zipped.prefix(length)), every: 97), window: 128)
            }
        }
        // Bytes after the end that are not a gzip member; a flipped bit in the data or trailer.
        for tail in [[0x00] as [UInt8], Array("garbage".utf8), [0x1F, 0x8B, 0x08], [UInt8](repeating: 0, count: 100)] {
            #expect(throws: GzipInflater.Failure.self, "tail \(tail.prefix(8))") {
                _ = try Self.inflate(Self.split(zipped + tail, every: 64), window: 128)
            }
        }
        for position in [zipped.count / 2, zipped.count - 6, zipped.count - 1] {
            var broken = zipped
            broken[position] ^= 0x10
            #expect(throws: GzipInflater.Failure.self, "bit flipped at \(position)") {
                _ = try Self.inflate([broken[...]], window: 1 << 16)
            }
        }
    }
}
