/// Where Registrar writes objects (`REGISTRAR_STORAGE_URL`): a local directory by default.
///
/// `file:///absolute/path` or a plain absolute path. Cloud buckets (`s3://`, `gs://`, Azure
/// blob URLs, each with `?integration=NAME`) are named here so the error for them is precise;
/// writing to them is issue 15's next step (docs/storage.md).
public enum StorageLocation: Sendable, Equatable {
    case directory(String)

    /// Parses the setting; throws a message that names what is wrong.
    public static func parse(_ text: String) throws(StorageLocationError) -> StorageLocation {
        let t = text.trimmingASCIISpaces
        var path = t
        if t.hasPrefix("file://") { path = String(t.dropFirst("file://".count)) }
        if path.hasPrefix("/") {
            if path.split(separator: "/").contains(where: { $0 == ".." }) { throw StorageLocationError("\(t): '..' is not allowed in the storage path") }
            return .directory(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path)
        }
        for scheme in ["s3://", "gs://", "https://"] where t.hasPrefix(scheme) {
            throw StorageLocationError("\(t): writing to cloud storage is not supported yet; use a local directory (file:///path)")
        }
        throw StorageLocationError("\(t.isEmpty ? "(empty)" : t): expected an absolute directory path or file:///path")
    }
}

/// A `REGISTRAR_STORAGE_URL` that cannot be used, and why.
public struct StorageLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
