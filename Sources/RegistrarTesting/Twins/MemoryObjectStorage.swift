import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `ObjectStorage`. `failAfterBytes` makes the next write fail midway
/// (a full disk), to prove callers leave nothing behind.
public final class MemoryObjectStorage: ObjectStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: (object: StoredObject, bytes: [UInt8])] = [:]
    public var failAfterBytes: Int?

    public init() {}

    public func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var hasher = ContentHasher()
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            bytes += buffer[0..<n]
            if let limit = failAfterBytes, bytes.count > limit {
                failAfterBytes = nil
                throw StorageError.unavailable("twin: failing after \(limit) bytes")
            }
        }
        let sha = hasher.finalizeHex()
        if let expected = expectedSHA256?.lowercased(), expected != sha {
            throw StorageError.checksumMismatch(key: key.text, expected: expected, actual: sha)
        }
        let object = StoredObject(key: key, size: Int64(bytes.count), sha256: sha, contentType: contentType)
        lock.withLock { objects[key.text] = (object, bytes) }
        return object
    }

    public func stat(_ key: ObjectKey) throws -> StoredObject? { lock.withLock { objects[key.text]?.object } }

    public func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)? {
        guard let entry = lock.withLock({ objects[key.text] }) else { return nil }
        return (entry.object, MemoryByteSource(entry.bytes))
    }

    public func delete(_ key: ObjectKey) throws -> Bool { lock.withLock { objects.removeValue(forKey: key.text) != nil } }

    public func keys(prefix: String) throws -> [ObjectKey] {
        lock.withLock { objects.keys.filter { $0.hasPrefix(prefix) }.sorted().compactMap(ObjectKey.init) }
    }
}
