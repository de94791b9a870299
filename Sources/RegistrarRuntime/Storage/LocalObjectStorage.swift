#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RegistrarCore

/// `ObjectStorage` in a local directory (the default, `REGISTRAR_STORAGE_URL=file:///…`).
///
/// An object is the file `root/key`, its metadata (size, SHA-256, content type) the file
/// `root/.meta/key`. A write goes to a temporary file in `root/.tmp`, is fsynced, and renamed
/// into place (rename is atomic on one filesystem), then its metadata likewise; a crash leaves
/// at most a temporary file, never a half object. Keys are `ObjectKey`s, so no key reaches
/// outside the root.
public final class LocalObjectStorage: ObjectStorage {
    public let root: String

    public init(root: String) throws {
        self.root = root
        for dir in [root, root + "/.tmp", root + "/.meta"] {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw StorageError.unavailable("cannot create \(dir): \(error.localizedDescription)")
            }
        }
    }

    public func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject {
        let temp = "\(root)/.tmp/\(UUID().uuidString)"
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.unavailable("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) }; unlink(temp) }
        var hasher = ContentHasher()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes {
                let chunk = UnsafeRawBufferPointer(rebasing: $0[0..<n])
                hasher.update(chunk)
                try writeAll(fd, chunk, path: temp)
            }
            size += Int64(n)
        }
        let sha = hasher.finalizeHex()
        if let expected = expectedSHA256?.lowercased(), expected != sha {
            throw StorageError.checksumMismatch(key: key.text, expected: expected, actual: sha)
        }
        guard fsync(fd) == 0 else { throw StorageError.unavailable("cannot sync \(temp): \(String(cString: strerror(errno)))") }
        close(fd)
        closed = true
        let object = StoredObject(key: key, size: size, sha256: sha, contentType: contentType)
        try place(temp, at: path(key))
        try writeMeta(object)
        return object
    }

    public func stat(_ key: ObjectKey) throws -> StoredObject? {
        guard FileManager.default.fileExists(atPath: path(key)),
              let data = FileManager.default.contents(atPath: metaPath(key)),
              let meta = try? JSONDecoder().decode(Meta.self, from: data) else { return nil }
        return StoredObject(key: key, size: meta.size, sha256: meta.sha256, contentType: meta.contentType)
    }

    public func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)? {
        guard let object = try stat(key), let reader = try? FileByteSource(path: path(key)) else { return nil }
        return (object, reader)
    }

    public func delete(_ key: ObjectKey) throws -> Bool {
        let existed = unlink(path(key)) == 0
        unlink(metaPath(key))
        return existed
    }

    public func keys(prefix: String) throws -> [ObjectKey] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [ObjectKey] = []
        while let relative = walker.nextObject() as? String {
            if relative == ".tmp" || relative == ".meta" { walker.skipDescendants(); continue }
            var isDirectory: ObjCBool = false
            guard relative.hasPrefix(prefix), let key = ObjectKey(relative),
                  FileManager.default.fileExists(atPath: metaPath(key), isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            out.append(key)
        }
        return out.sorted { $0.text < $1.text }
    }

    // MARK: Files

    private struct Meta: Codable { var size: Int64; var sha256: String; var contentType: String }

    private func path(_ key: ObjectKey) -> String { "\(root)/\(key.text)" }
    private func metaPath(_ key: ObjectKey) -> String { "\(root)/.meta/\(key.text)" }

    private func writeMeta(_ object: StoredObject) throws {
        let data = try JSONEncoder().encode(Meta(size: object.size, sha256: object.sha256, contentType: object.contentType))
        let temp = "\(root)/.tmp/\(UUID().uuidString).meta"
        guard FileManager.default.createFile(atPath: temp, contents: data) else { throw StorageError.unavailable("cannot write \(temp)") }
        defer { unlink(temp) }
        try place(temp, at: metaPath(object.key))
    }

    /// Renames a finished temporary file into place, making the key's directories first.
    private func place(_ temp: String, at target: String) throws {
        let dir = (target as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StorageError.unavailable("cannot create \(dir): \(error.localizedDescription)")
        }
        guard rename(temp, target) == 0 else { throw StorageError.unavailable("cannot move into \(target): \(String(cString: strerror(errno)))") }
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.unavailable("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
