import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Every promise of `ObjectStorage`'s doc comments, checked against one implementation (the
/// twin, and `LocalObjectStorage` on a real directory). Keys are fresh each run.
public enum ObjectStorageConformance {
    public static func exercise(_ make: () throws -> any ObjectStorage) throws {
        let s = try make()
        let run = UUID().uuidString.lowercased()
        let key = ObjectKey("conformance/\(run)/a/export.json")!
        let content = Array("{\"hello\": \"world\"}".utf8)
        let wrongSHA = String(repeating: "0", count: 64)

        #expect(try s.stat(key) == nil)
        #expect(try s.open(key) == nil)

        // A write reports size and SHA-256, and reads back byte for byte.
        var source = MemoryByteSource(content, maxPerRead: 5)
        let stored = try s.write(key, contentType: "application/json", from: &source, expectedSHA256: nil)
        #expect(stored.size == Int64(content.count))
        #expect(stored.sha256 == "5f8f04f6a3a892aaabbddb6cf273894493773960d4a325b105fee46eef4304f1")
        #expect(try s.stat(key) == stored)
        #expect(try readAll(s.open(key)?.reader) == content)

        // A checksum that does not match stores nothing (and leaves the old object alone).
        var other = MemoryByteSource(Array("changed".utf8))
        #expect(throws: StorageError.self) { try s.write(key, contentType: "text/plain", from: &other, expectedSHA256: wrongSHA) }
        #expect(try s.stat(key) == stored)
        #expect(try readAll(s.open(key)?.reader) == content)

        // A matching checksum replaces it.
        var replacement = MemoryByteSource(Array("changed".utf8))
        let replaced = try s.write(key, contentType: "text/plain", from: &replacement,
                                   expectedSHA256: "D67E2E944994496C8D8EC76EED0CF9F09679448D584B532BEBF941852A37F5ED")
        #expect(replaced.contentType == "text/plain" && replaced.size == 7)

        // A write that fails midway leaves nothing under its key.
        let broken = ObjectKey("conformance/\(run)/broken.bin")!
        var failing = FailingSource(bytes: 300_000)
        #expect(throws: (any Error).self) { try s.write(broken, contentType: "application/octet-stream", from: &failing, expectedSHA256: nil) }
        #expect(try s.stat(broken) == nil)

        // Listing by prefix, sorted; delete.
        var small = MemoryByteSource([1, 2, 3])
        _ = try s.write(ObjectKey("conformance/\(run)/b.bin")!, contentType: "application/octet-stream", from: &small, expectedSHA256: nil)
        #expect(try s.keys(prefix: "conformance/\(run)/").map(\.text) == ["conformance/\(run)/a/export.json", "conformance/\(run)/b.bin"])
        #expect(try s.delete(key))
        #expect(try !s.delete(key))
        #expect(try s.stat(key) == nil)
        #expect(try s.keys(prefix: "conformance/\(run)/").map(\.text) == ["conformance/\(run)/b.bin"])
    }

    public static func readAll(_ source: (any ByteSource)?) throws -> [UInt8]? {
        guard var source else { return nil }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    /// Gives `bytes` bytes, then fails like a broken upload.
    public struct FailingSource: ByteSource {
        var bytes: Int
        public init(bytes: Int) { self.bytes = bytes }
        public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard bytes > 0 else { throw StorageError.unavailable("the source broke") }
            let n = min(bytes, buffer.count)
            for i in 0..<n { buffer[i] = 7 }
            bytes -= n
            return n
        }
    }
}
