/// A folder's sync binding as given (`registrar folders sync-create`, `POST /v1/folders/{id}/sync`),
/// checked: which bucket and prefix, how often, which sidecars, append-only or not.
public struct SyncBindingSpec: Sendable, Equatable {
    /// The S3 bucket; for an Azure binding, the container's URL
    /// (`https://ACCOUNT.blob.core.windows.net/CONTAINER`): see ``isAzure``.
    public var bucket: String
    /// The key prefix synced (may be empty: the whole bucket).
    public var prefix: String
    /// Seconds between interval syncs; nil: only on demand and by notification.
    public var intervalSeconds: Int?
    /// `key + suffix` is a JSON sidecar holding `key`'s client metadata (not a file itself).
    public var sidecarSuffix: String?
    /// Objects are only ever added with keys after the last one: an incremental sync lists from
    /// the last key seen (S3 `StartAfter`) and does not look for deletions or overwrites.
    public var appendOnly: Bool

    public var uri: String { isAzure ? "\(bucket)/\(prefix)" : "s3://\(bucket)/\(prefix)" }

    /// An Azure Blob container (listed with List Blobs), not an S3 bucket. Kept in `bucket` as
    /// the container's URL so the stored binding needs no other column; no S3 bucket name
    /// contains `/`, so the two never mix (and S3 notifications never match an Azure binding).
    public var isAzure: Bool { bucket.hasPrefix("https://") }

    /// The URL an object of the binding is read with: `s3://bucket/key`, or the blob's URL
    /// (`https://ACCOUNT.blob.core.windows.net/CONTAINER/key`), the key path-encoded.
    public func objectURL(key: String) -> String { Self.objectURL(bucket: bucket, key: key) }

    /// ``objectURL(key:)`` for a stored `bucket` value.
    public static func objectURL(bucket: String, key: String) -> String {
        bucket.hasPrefix("https://") ? "\(bucket)/" + SigningPercentEncoding.encodePath(key) : "s3://\(bucket)/" + SigningPercentEncoding.encodePath(key)
    }

    public init(bucket: String, prefix: String, intervalSeconds: Int?, sidecarSuffix: String?, appendOnly: Bool) {
        self.bucket = bucket; self.prefix = prefix; self.intervalSeconds = intervalSeconds
        self.sidecarSuffix = sidecarSuffix; self.appendOnly = appendOnly
    }

    /// The smallest interval accepted (a sync lists the whole prefix).
    public static let minInterval = 60

    /// Checks the given values; the error names the field and why.
    public static func parse(uri: String, interval: String?, sidecarSuffix: String?, appendOnly: Bool) -> Result<SyncBindingSpec, FieldError> {
        let bucket: String, prefix: String
        if AzureStorageTarget.isAzureURL(uri) {
            // https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix: the container URL is the "bucket".
            switch AzureSyncContainer.parse(uri) {
            case .failure(let e): return .failure(e)
            case .success(let c): bucket = c.url; prefix = c.prefix
            }
            if appendOnly {
                return .failure(FieldError(field: "appendOnly", message: "Azure List Blobs cannot start after a name, so an Azure binding cannot be append-only"))
            }
        } else {
            guard uri.hasPrefix("s3://") else {
                return .failure(FieldError(field: "uri", message: "'\(uri)' is not an s3:// URI (s3://bucket/prefix/) or an Azure container URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/); gs:// listings are not built yet"))
            }
            let rest = uri.dropFirst(5)
            bucket = String(rest.prefix { $0 != "/" })
            prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
            guard bucket.count >= 3, bucket.count <= 63,
                  bucket.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) else {
                return .failure(FieldError(field: "uri", message: "'\(bucket)' is not a bucket name (3 to 63 of a-z 0-9 . -)"))
            }
        }
        guard prefix.utf8.count <= 1024, !prefix.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            return .failure(FieldError(field: "uri", message: "the prefix must be at most 1024 bytes with no control characters"))
        }
        var seconds: Int?
        if let interval {
            switch parseInterval(interval) {
            case .failure(let e): return .failure(e)
            case .success(let s): seconds = s
            }
        }
        if let s = sidecarSuffix {
            guard !s.isEmpty, s.utf8.count <= 64, !s.contains("/"), !s.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                return .failure(FieldError(field: "sidecarSuffix", message: "'\(s)' must be 1 to 64 bytes with no '/' or control characters (e.g. .metadata.json)"))
            }
        }
        return .success(SyncBindingSpec(bucket: bucket, prefix: prefix, intervalSeconds: seconds, sidecarSuffix: sidecarSuffix, appendOnly: appendOnly))
    }

    /// `24h`, `90m`, `3600s`, `2d` (or plain seconds) → seconds, at least `minInterval`.
    public static func parseInterval(_ text: String) -> Result<Int, FieldError> {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(text)
        var unit = 1
        if let last = digits.last, let u = units[last] { unit = u; digits = digits.dropLast() }
        guard let n = Int(digits), n > 0, n <= 365 * 86400 / unit else {
            return .failure(FieldError(field: "interval", message: "'\(text)' is not an interval (e.g. 24h, 90m, 3600s, 2d)"))
        }
        guard n * unit >= minInterval else {
            return .failure(FieldError(field: "interval", message: "'\(text)' is shorter than the minimum of \(minInterval)s"))
        }
        return .success(n * unit)
    }
}

/// A refused input value: which field, and why.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}
