import RegistrarCore
import RegistrarRuntime

/// Streams a stored object by ranged reads of `chunk` bytes and checks its SHA-256 at the end:
/// an object changed behind Registrar's back fails the read instead of passing as the recorded
/// one. Shared by the bucket adapters (S3, GCS, Azure); each gives its ranged GET and the name
/// its messages use (`s3://bucket/key`, a blob URL, …).
struct VerifiedRangeReader: ByteSource {
    let display: String
    let object: StoredObject
    let chunk: Int
    let readRange: (_ start: Int64, _ length: Int) throws -> [UInt8]
    private var offset: Int64 = 0
    private var pending: [UInt8] = []
    private var pendingAt = 0
    private var hasher = ContentHasher()
    private var verified = false

    init(display: String, object: StoredObject, chunk: Int, readRange: @escaping (_ start: Int64, _ length: Int) throws -> [UInt8]) {
        self.display = display; self.object = object; self.chunk = chunk; self.readRange = readRange
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pendingAt == pending.count {
            if offset >= object.size {
                if !verified {
                    let sha = hasher.finalizeHex()
                    guard sha == object.sha256 else {
                        throw StorageError.unavailable("\(display): the bytes read hash to \(sha), the stored SHA-256 is \(object.sha256)")
                    }
                    verified = true
                }
                return 0
            }
            let length = Int(min(Int64(chunk), object.size - offset))
            pending = try readRange(offset, length)
            pendingAt = 0
            guard pending.count == length else {
                throw StorageError.unavailable("\(display): \(pending.count) bytes at \(offset), expected \(length) (the object is shorter than recorded)")
            }
            pending.withUnsafeBytes { hasher.update($0) }
            offset += Int64(length)
        }
        let n = min(buffer.count, pending.count - pendingAt)
        pending.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + pendingAt, byteCount: n)
        }
        pendingAt += n
        return n
    }

    /// Reads up to `limit` bytes of `source` (fewer only at its end): one part or block of a
    /// bucket write.
    static func fill(_ source: inout some ByteSource, upTo limit: Int) throws -> [UInt8] {
        // Grown as bytes arrive: a small object must not cost a threshold-sized buffer.
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(limit, 1 << 20))
        while out.count < limit {
            let want = min(buffer.count, limit - out.count)
            let got = try buffer.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            if got == 0 { break }
            out.append(contentsOf: buffer[0..<got])
        }
        return out
    }
}
