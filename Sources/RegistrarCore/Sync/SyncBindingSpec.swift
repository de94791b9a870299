/// A folder's sync binding as given (`registrar folders sync-create`, `POST /v1/folders/{id}/sync`),
/// checked: which bucket and prefix, how often, which sidecars, append-only or not.
public struct SyncBindingSpec: Sendable, Equatable {
    /// `s3` (AWS S3 or S3-compatible, ListObjectsV2), `gs` (Google Cloud Storage, the JSON
    /// API's object listing) or `azure` (an Azure Blob container, List Blobs): how the store is
    /// listed and how its files' URLs are written.
    public var scheme: String
    /// The S3 or GCS bucket; for an Azure binding, the container's URL
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

    public var uri: String { isAzure ? "\(bucket)/\(prefix)" : "\(scheme)://\(bucket)/\(prefix)" }

    /// An Azure Blob container (listed with List Blobs), not a bucket. Its `bucket` is the
    /// container's URL; no S3 or GCS bucket name contains `/`, so the two never mix (and S3
    /// notifications never match an Azure binding).
    public var isAzure: Bool { scheme == "azure" }

    /// The URL an object of the binding is read with: `s3://bucket/key`, `gs://bucket/key`, or
    /// the blob's URL (`https://ACCOUNT.blob.core.windows.net/CONTAINER/key`), the key path-encoded.
    public func objectURL(key: String) -> String { Self.objectURL(scheme: scheme, bucket: bucket, key: key) }

    /// ``objectURL(key:)`` for a stored binding's `scheme` and `bucket`.
    public static func objectURL(scheme: String, bucket: String, key: String) -> String {
        scheme == "azure" ? "\(bucket)/" + SigningPercentEncoding.encodePath(key) : "\(scheme)://\(bucket)/" + SigningPercentEncoding.encodePath(key)
    }

    public init(scheme: String = "s3", bucket: String, prefix: String, intervalSeconds: Int?, sidecarSuffix: String?, appendOnly: Bool) {
        self.scheme = scheme; self.bucket = bucket; self.prefix = prefix; self.intervalSeconds = intervalSeconds
        self.sidecarSuffix = sidecarSuffix; self.appendOnly = appendOnly
    }

    /// Whether an integration of `kind` can list this binding's store: s3 needs aws or
    /// s3-compatible, gs needs gcp, an Azure container azure; nil when it can, else why not.
    /// An azure integration must also be for the container's storage account (`settings`).
    public func integrationProblem(_ kind: IntegrationKind, name: String, settings: IntegrationSettings = IntegrationSettings()) -> String? {
        switch scheme {
        case "gs" where kind != .gcp:
            return "'\(name)' is \(kind.rawValue); a gs:// binding is listed with a gcp integration (a service-account key)"
        case "s3" where kind != .aws && kind != .s3Compatible:
            return "'\(name)' is \(kind.rawValue); an s3:// binding is listed with an aws or s3-compatible integration"
        case "azure" where kind != .azure:
            return "'\(name)' is \(kind.rawValue); an Azure container is listed with an azure integration"
        case "azure":
            return AzureSyncContainer.accountProblem(containerURL: bucket, settings: settings).map { "'\(name)' \($0)" }
        default:
            return nil
        }
    }

    /// The smallest interval accepted (a sync lists the whole prefix).
    public static let minInterval = 60

    /// Checks the given values; the error names the field and why.
    public static func parse(uri: String, interval: String?, sidecarSuffix: String?, appendOnly: Bool) -> Result<SyncBindingSpec, FieldError> {
        if AzureStorageTarget.isAzureURL(uri) {
            // https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix: the container URL is the "bucket".
            guard !appendOnly else {
                return .failure(FieldError(field: "appendOnly", message: "Azure List Blobs cannot start after a name, so an Azure binding cannot be append-only"))
            }
            switch AzureSyncContainer.parse(uri) {
            case .failure(let e): return .failure(e)
            case .success(let c): return finish(scheme: "azure", bucket: c.url, prefix: c.prefix, interval: interval, sidecarSuffix: sidecarSuffix, appendOnly: appendOnly)
            }
        }
        let scheme = uri.hasPrefix("s3://") ? "s3" : uri.hasPrefix("gs://") ? "gs" : ""
        guard !scheme.isEmpty else {
            return .failure(FieldError(field: "uri", message: "'\(uri)' is not an s3:// or gs:// URI (s3://bucket/prefix/, gs://bucket/prefix/) or an Azure container URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/)"))
        }
        let rest = uri.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        if scheme == "gs" {
            if let problem = GCSStorageTarget.bucketProblem(bucket) {
                return .failure(FieldError(field: "uri", message: "the GCS bucket name \(problem)"))
            }
        } else {
            guard bucket.count >= 3, bucket.count <= 63,
                  bucket.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) else {
                return .failure(FieldError(field: "uri", message: "'\(bucket)' is not a bucket name (3 to 63 of a-z 0-9 . -)"))
            }
        }
        return finish(scheme: scheme, bucket: bucket, prefix: prefix, interval: interval, sidecarSuffix: sidecarSuffix, appendOnly: appendOnly)
    }

    /// The checks every store shares: the prefix, the interval, the sidecar suffix.
    private static func finish(scheme: String, bucket: String, prefix: String, interval: String?, sidecarSuffix: String?,
                               appendOnly: Bool) -> Result<SyncBindingSpec, FieldError> {
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
        return .success(SyncBindingSpec(scheme: scheme, bucket: bucket, prefix: prefix, intervalSeconds: seconds, sidecarSuffix: sidecarSuffix, appendOnly: appendOnly))
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
