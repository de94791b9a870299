/// Where a manifest's bytes come from. The readers pull from it in large blocks and never ask
/// for the whole document, so memory stays bounded however large the manifest is.
///
/// The core does no I/O itself: the executable supplies a file-backed source, tests supply
/// in-memory ones.
public protocol ByteSource {
    /// Fills `buffer` from the start with up to `buffer.count` bytes and returns how many were
    /// written; 0 means end of input. Throws only for I/O faults.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A `ByteSource` over bytes already in memory. Optionally hands them out in small pieces,
/// which tests use to prove that tokens split across reads are handled.
public struct MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    private let maxPerRead: Int

    public init(_ bytes: [UInt8], maxPerRead: Int = .max) {
        self.bytes = bytes
        self.maxPerRead = max(1, maxPerRead)
    }

    public init(_ text: String, maxPerRead: Int = .max) {
        self.init(Array(text.utf8), maxPerRead: maxPerRead)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position, maxPerRead)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}
