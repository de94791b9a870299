/// A Google Cloud Storage bucket and key prefix Registrar writes to
/// (`gs://BUCKET[/PREFIX]?integration=NAME[&multipartMiB=N]`), and the `gcp` integration whose
/// service-account key is exchanged for the OAuth2 bearer token that authorizes the requests.
///
/// The layout is the S3 storage's: an object is `PREFIX/KEY`, its metadata the small JSON
/// object `PREFIX/.meta/KEY`, written after it (the commit record).
public struct GCSStorageTarget: Sendable, Equatable {
    public var bucket: String
    /// Key prefix without leading or trailing `/`; empty for the bucket's root.
    public var prefix: String
    /// The integration's name (looked up in the default tenant).
    public var integration: String
    /// Objects of at least this many bytes go up as an XML API multipart upload of parts this size.
    public var multipartThreshold: Int

    public static let defaultMultipartThreshold = S3StorageTarget.defaultMultipartThreshold

    public init(bucket: String, prefix: String, integration: String, multipartThreshold: Int = GCSStorageTarget.defaultMultipartThreshold) {
        self.bucket = bucket; self.prefix = prefix; self.integration = integration; self.multipartThreshold = multipartThreshold
    }

    /// The full GCS object name of a storage key.
    public func objectKey(_ key: ObjectKey) -> String { prefix.isEmpty ? key.text : "\(prefix)/\(key.text)" }
    /// Where the object's metadata (size, SHA-256, content type) is kept: written after the
    /// object, it is the commit record.
    public func metaKey(_ key: ObjectKey) -> String { metaRoot + key.text }
    /// The object-name prefix under which all metadata objects live.
    public var metaRoot: String { prefix.isEmpty ? ".meta/" : "\(prefix)/.meta/" }
    /// `gs://bucket/prefix` (no query).
    public var display: String { "gs://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    static func parse(_ t: String) throws(StorageLocationError) -> GCSStorageTarget {
        // GCS's XML multipart upload has S3's limits: parts of 5 MiB to 5 GiB but the last.
        let parts = try StorageURLParts.parse(t, scheme: "gs://", sizeName: "multipartMiB", sizes: 5...5120, sizeWhy: "the XML API's part sizes",
                                              integrationKinds: "a gcp integration with a service-account key")
        let (bucket, prefix) = try parts.bucketAndPrefix(bucketProblem: bucketProblem)
        return GCSStorageTarget(bucket: bucket, prefix: prefix, integration: parts.integration,
                                multipartThreshold: parts.partBytes ?? defaultMultipartThreshold)
    }

    /// Why a bucket name is not one GCS accepts (3–63 of `a-z 0-9 . _ -`, or up to 222 with
    /// dots, starting and ending with a letter or digit), or nil.
    static func bucketProblem(_ b: String) -> String? {
        if b.isEmpty { return "is missing (gs://BUCKET/PREFIX?integration=NAME)" }
        let limit = b.contains(".") ? 222 : 63
        guard (3...limit).contains(b.utf8.count) else { return "'\(b)' must be 3 to \(limit) characters" }
        guard b.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F }) else {
            return "'\(b)' may hold only lower-case letters, digits, '.', '_' and '-'"
        }
        guard let f = b.utf8.first, let l = b.utf8.last, ![0x2E, 0x2D, 0x5F].contains(f), ![0x2E, 0x2D, 0x5F].contains(l) else {
            return "'\(b)' must start and end with a letter or digit"
        }
        return nil
    }
}
