import RegistrarCore

/// Registrar's own object storage (`REGISTRAR_STORAGE_URL`): where it writes what it makes —
/// export files, uploaded files, encoded videos — and reads them back to serve signed links.
///
/// Same rules as every port: synchronous, one instance per thread, an in-memory twin
/// (`MemoryObjectStorage`) and a conformance suite both pass. Writes are all-or-nothing: a
/// reader never sees half an object, and a failed or abandoned write leaves nothing behind.
public protocol ObjectStorage: AnyObject {
    /// Writes an object from a byte source, replacing any object of that key, and returns what
    /// was stored (size and SHA-256 computed while writing). If `expectedSHA256` is given and
    /// does not match, nothing is stored and `StorageError.checksumMismatch` is thrown.
    func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject
    /// What is stored under a key, or nil.
    func stat(_ key: ObjectKey) throws -> StoredObject?
    /// A reader over a stored object, or nil when there is none.
    func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)?
    /// Removes an object; false when there was none.
    func delete(_ key: ObjectKey) throws -> Bool
    /// Keys under a prefix (a whole segment path, e.g. `exports/`), sorted.
    func keys(prefix: String) throws -> [ObjectKey]
    /// Where workers can read the object directly from its bucket, with the storage's
    /// integration (uploaded files are registered this way); nil for storage only the API
    /// serves (a local directory), whose objects are registered as signed API links.
    func bucketObject(_ key: ObjectKey) -> BucketObjectReference?
}

extension ObjectStorage {
    public func bucketObject(_ key: ObjectKey) -> BucketObjectReference? { nil }
}

/// An object of bucket storage as a cloud URL (`s3://bucket/key`) and the id of the
/// integration that signs reads of it.
public struct BucketObjectReference: Sendable, Equatable {
    public var url: String
    public var integrationID: String
    public init(url: String, integrationID: String) { self.url = url; self.integrationID = integrationID }
}

/// One stored object.
public struct StoredObject: Sendable, Equatable {
    public var key: ObjectKey
    public var size: Int64
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String
    public var contentType: String
    public init(key: ObjectKey, size: Int64, sha256: String, contentType: String) {
        self.key = key; self.size = size; self.sha256 = sha256; self.contentType = contentType
    }
}

/// A storage failure callers tell apart.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes written do not hash to what the caller expected: nothing was stored.
    case checksumMismatch(key: String, expected: String, actual: String)
    /// The storage cannot be written or read (disk full, permissions); the detail says which.
    case unavailable(String)

    public var description: String {
        switch self {
        case .checksumMismatch(let key, let expected, let actual): "\(key): SHA-256 is \(actual), expected \(expected); nothing was stored"
        case .unavailable(let detail): "storage unavailable: \(detail)"
        }
    }
}
