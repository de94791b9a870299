/// Where Registrar writes objects (`REGISTRAR_STORAGE_URL`): a local directory by default, or
/// an S3 / S3-compatible bucket and prefix signed with one of the tenant's integrations.
///
/// `file:///absolute/path` or a plain absolute path; `s3://BUCKET[/PREFIX]?integration=NAME`
/// (the integration, of kind `aws` or `s3-compatible`, gives the credentials, endpoint and
/// region; optional `multipartMiB=N` sets the multipart threshold and part size, 5…5120,
/// default 64); `gs://BUCKET[/PREFIX]?integration=NAME` (a `gcp` integration with a
/// service-account key, `GCSStorageTarget`); `https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]?integration=NAME`
/// (an azure integration: see ``AzureStorageTarget``).
public enum StorageLocation: Sendable, Equatable {
    case directory(String)
    case s3(S3StorageTarget)
    case gcs(GCSStorageTarget)
    case azure(AzureStorageTarget)

    /// Parses the setting; throws a message that names what is wrong.
    public static func parse(_ text: String) throws(StorageLocationError) -> StorageLocation {
        let t = text.trimmingASCIISpaces
        var path = t
        if t.hasPrefix("file://") { path = String(t.dropFirst("file://".count)) }
        if path.hasPrefix("/") {
            if path.split(separator: "/").contains(where: { $0 == ".." }) { throw StorageLocationError("\(t): '..' is not allowed in the storage path") }
            return .directory(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path)
        }
        if t.hasPrefix("s3://") { return .s3(try S3StorageTarget.parse(t)) }
        if t.hasPrefix("gs://") { return .gcs(try GCSStorageTarget.parse(t)) }
        if AzureStorageTarget.isAzureURL(t) { return .azure(try AzureStorageTarget.parse(t)) }
        if t.hasPrefix("https://") || t.hasPrefix("http://") {
            throw StorageLocationError("\(S3StorageTarget.withoutQuery(t)): writing to http(s) stores other than Azure Blob Storage is not supported; use s3://BUCKET/PREFIX?integration=NAME (aws or s3-compatible), gs://BUCKET/PREFIX?integration=NAME (gcp), https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME (azure) or a local directory")
        }
        throw StorageLocationError("\(t.isEmpty ? "(empty)" : t): expected an absolute directory path, file:///path, s3://BUCKET/PREFIX?integration=NAME, gs://BUCKET/PREFIX?integration=NAME or https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME")
    }
}

/// An S3 (or S3-compatible) bucket and key prefix Registrar writes to, and the integration whose
/// credentials sign the requests.
public struct S3StorageTarget: Sendable, Equatable {
    public var bucket: String
    /// Key prefix without leading or trailing `/`; empty for the bucket's root.
    public var prefix: String
    /// The integration's name (looked up in the default tenant).
    public var integration: String
    /// Objects of at least this many bytes go up as multipart uploads of parts this size.
    public var multipartThreshold: Int

    public static let defaultMultipartThreshold = 64 << 20
    /// S3's smallest part (all but the last); also the smallest threshold accepted.
    public static let minimumPartSize = 5 << 20
    public static let maximumPartSize = 5 << 30

    public init(bucket: String, prefix: String, integration: String, multipartThreshold: Int = S3StorageTarget.defaultMultipartThreshold) {
        self.bucket = bucket; self.prefix = prefix; self.integration = integration; self.multipartThreshold = multipartThreshold
    }

    /// The full S3 key of a storage key.
    public func objectKey(_ key: ObjectKey) -> String { prefix.isEmpty ? key.text : "\(prefix)/\(key.text)" }
    /// Where the object's metadata (size, SHA-256, content type) is kept: written after the
    /// object, it is the commit record — an object without it does not exist for the storage.
    public func metaKey(_ key: ObjectKey) -> String { metaRoot + key.text }
    /// The S3 key prefix under which all metadata objects live.
    public var metaRoot: String { prefix.isEmpty ? ".meta/" : "\(prefix)/.meta/" }
    /// `s3://bucket/prefix` (no query: nothing secret, but the integration name is noise).
    public var display: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    static func withoutQuery(_ t: String) -> String { t.firstIndex(of: "?").map { String(t[..<$0]) } ?? t }

    static func parse(_ t: String) throws(StorageLocationError) -> S3StorageTarget {
        let parts = try StorageURLParts.parse(t, scheme: "s3://", sizeName: "multipartMiB", sizes: 5...5120, sizeWhy: "S3's part sizes",
                                              integrationKinds: "an aws or s3-compatible integration")
        let (bucket, prefix) = try parts.bucketAndPrefix(bucketProblem: bucketProblem)
        return S3StorageTarget(bucket: bucket, prefix: prefix, integration: parts.integration,
                               multipartThreshold: parts.partBytes ?? defaultMultipartThreshold)
    }

    /// Why a bucket name is not one S3 accepts (3–63 of `a-z 0-9 . -`, starting and ending with
    /// a letter or digit), or nil.
    static func bucketProblem(_ b: String) -> String? {
        if b.isEmpty { return "is missing (s3://BUCKET/PREFIX?integration=NAME)" }
        guard (3...63).contains(b.utf8.count) else { return "'\(b)' must be 3 to 63 characters" }
        guard b.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) else {
            return "'\(b)' may hold only lower-case letters, digits, '.' and '-'"
        }
        guard let f = b.utf8.first, let l = b.utf8.last, f != 0x2E, f != 0x2D, l != 0x2E, l != 0x2D else {
            return "'\(b)' must start and end with a letter or digit"
        }
        return nil
    }
}

/// A `REGISTRAR_STORAGE_URL` that cannot be used, and why.
public struct StorageLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
