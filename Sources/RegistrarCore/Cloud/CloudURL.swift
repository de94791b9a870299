/// Where an object lives, as far as its URL says: which provider, which bucket (container), which
/// key, and where to send the request. Pure: no DNS, no I/O, no credentials.
///
/// The integration layer (issue 5) signs requests from this, so the key is stored percent-DECODED:
/// each signer re-encodes it the one way its provider's canonical request needs, and two spellings
/// of one key (`a%2Fb` and `a/b`, `%7E` and `~`) sign identically.
public enum CloudProvider: String, Sendable, CaseIterable {
    case aws, gcp, azure, otc, wasabi, oracle
    /// Any S3 API at an endpoint the integration names (MinIO, moto, Ceph…). URLs only parse to
    /// this through `CloudURL.parse(_:customEndpoint:)`: a host alone cannot say it speaks S3.
    case s3Compatible = "s3-compatible"
    /// Any other http(s) URL: public or presigned, fetched exactly as given.
    case direct
}

public struct CloudObjectLocation: Sendable, Equatable {
    public enum Style: String, Sendable {
        /// Bucket in the host: `b.s3.eu-west-2.amazonaws.com/k`, `b.storage.googleapis.com/k`.
        case virtualHosted
        /// Bucket as the first path segment: `s3.eu-west-2.amazonaws.com/b/k`; also Azure, whose
        /// container is the first segment (`ACCOUNT.blob.core.windows.net/container/blob`).
        case pathStyle
        /// S3 access point: `NAME-ACCOUNT.s3-accesspoint.REGION.amazonaws.com/k`.
        case accessPoint
        /// S3 Multi-Region Access Point (signed with SigV4A, no region).
        case multiRegionAccessPoint
        /// `s3://b/k`, `gs://b/k`: no endpoint in the URL; the integration supplies it.
        case scheme
        /// Oracle's native API, `objectstorage.REGION.oraclecloud.com/n/NS/b/B/o/OBJ`. Signed
        /// with OCI's own scheme; an S3-compatible integration re-addresses it to
        /// `NS.compat.objectstorage.REGION.oraclecloud.com/B/OBJ` (same bucket, same object).
        case oracleNative
        /// A `direct` URL: fetched exactly as given.
        case direct
    }

    public var provider: CloudProvider
    /// S3/GCS/OTC/Wasabi/Oracle bucket, Azure container (`$root` for a one-segment blob URL),
    /// access point name, or MRAP alias. Empty for `direct`.
    public var bucket: String
    /// Object key / blob name, percent-decoded (UTF-8; `+` stays `+`). For `direct`, the path
    /// exactly as written (not decoded: a direct URL is fetched verbatim, so its spelling is what counts).
    public var key: String
    /// The region, only when the URL says it (`s3.eu-west-2…`, `obs.eu-de…`, `s3-external-1` → us-east-1).
    public var region: String?
    /// Azure storage account; AWS account id for access point and MRAP ARNs; Oracle namespace.
    public var account: String?
    /// The host to send the request to, lower-cased, without a trailing dot or port; IPv6
    /// literals keep their brackets. For `.scheme` URLs the provider's global endpoint.
    public var endpointHost: String
    /// The port when the URL gives one other than the scheme's default.
    public var port: Int?
    /// `https`, `http`, `s3` or `gs`, lower-cased.
    public var scheme: String
    public var style: Style
    public var dualStack: Bool
    public var fips: Bool
    /// The Multi-Region Access Point alias as AWS writes it, `.mrap` included (`mfzwi23gnjvgw.mrap`).
    public var mrapAlias: String?
    /// The query string without `?`, verbatim; nil when absent or empty. Presigned URLs carry
    /// their signature here: treat it as a secret (never log it).
    public var query: String?
    /// True for Encord's MRAP form `https://arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap…/key`: not
    /// a fetchable URL (its "host" is an ARN), so only an `aws` integration can use it.
    public var writtenAsARN: Bool

    public init(provider: CloudProvider, bucket: String, key: String, region: String? = nil,
                account: String? = nil, endpointHost: String, port: Int? = nil, scheme: String = "https",
                style: Style, dualStack: Bool = false, fips: Bool = false, mrapAlias: String? = nil,
                query: String? = nil, writtenAsARN: Bool = false) {
        self.provider = provider
        self.bucket = bucket
        self.key = key
        self.region = region
        self.account = account
        self.endpointHost = endpointHost
        self.port = port
        self.scheme = scheme
        self.style = style
        self.dualStack = dualStack
        self.fips = fips
        self.mrapAlias = mrapAlias
        self.query = query
        self.writtenAsARN = writtenAsARN
    }

    /// The ARN of an access point or MRAP when the URL gives enough to write it (MRAP host
    /// forms carry no account id, so they have none).
    public var accessPointARN: String? {
        guard let account else { return nil }
        switch style {
        case .multiRegionAccessPoint:
            return mrapAlias.map { "arn:aws:s3::\(account):accesspoint/\($0)" }
        case .accessPoint:
            guard let region else { return nil }
            let partition = region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
            return "arn:\(partition):s3:\(region):\(account):accesspoint/\(bucket)"
        default:
            return nil
        }
    }

    /// Whether this URL may be used by a job whose integration is `integration`, restricted (when
    /// `bucketRestriction` is non-nil) to that one bucket. See `CloudURL.check`.
    public func belongs(to integration: CloudProvider, bucketRestriction: String?) -> Bool {
        CloudURL.check(self, against: integration, allowedBuckets: bucketRestriction.map { [$0] }) == nil
    }
}

public struct CloudURLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable, machine-readable; see `Code`.
    public var code: String
    /// For people. Never contains the query string (presigned URLs carry secrets there).
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public enum Code {
        /// Not an absolute URL, or its authority is malformed (bad host, port, userinfo…).
        public static let invalidURL = "invalid_url"
        /// A scheme other than https, http, s3 or gs.
        public static let unsupportedScheme = "unsupported_scheme"
        /// A provider's host, but not an object form we understand (S3 Object Lambda, a bad
        /// Azure account name, an Oracle path that is not `/n/…/b/…/o/…`).
        public static let unknownProviderForm = "unknown_provider_form"
        public static let missingBucket = "missing_bucket"
        public static let invalidBucket = "invalid_bucket"
        /// A cloud form with no object key (`https://b.s3.amazonaws.com/`, `s3://b`).
        public static let missingKey = "missing_key"
        /// The key does not decode to UTF-8.
        public static let invalidKey = "invalid_key"
        /// The URL does not belong to the job's integration (provider or bucket).
        public static let wrongIntegration = "wrong_integration"
    }
}

/// Parses object URLs into `CloudObjectLocation`s, and decides whether one belongs to an integration.
public enum CloudURL {
    /// Every URL form the integrations accept (docs/integrations.md): S3 (virtual-hosted, path-style,
    /// legacy `s3-REGION`, dual-stack, FIPS, access points, Multi-Region Access Points, `s3://`),
    /// GCS (`storage.cloud.google.com`, `storage.googleapis.com`, `gs://`), Azure Blob (public
    /// and sovereign clouds), OTC OBS, Wasabi, Oracle (S3-compatible and native). Any other
    /// well-formed http(s) URL is `direct` — never an error, since public and presigned URLs are allowed.
    public static func parse(_ url: String) -> Result<CloudObjectLocation, CloudURLError> {
        parse(url, customEndpoint: nil)
    }

    /// As `parse(_:)`, but URLs at `customEndpoint` (`host`, `host:port`, optionally with a
    /// scheme: the endpoint of an S3-compatible integration, e.g. `http://127.0.0.1:5000` for moto
    /// or `minio.internal:9000`) parse as `s3Compatible`: path-style at the host itself, virtual-hosted
    /// at a subdomain of it. Checked before the built-in forms, so an integration may point at any host.
    public static func parse(_ url: String, customEndpoint: String?) -> Result<CloudObjectLocation, CloudURLError> {
        parseParts(url).flatMap { CloudForms.locate($0, customEndpoint: customEndpoint.flatMap(CloudForms.endpoint)) }
    }

    static func parseParts(_ url: String) -> Result<CloudURLParts, CloudURLError> {
        var copy = url
        return copy.withUTF8 { CloudURLParts.split($0) }
    }

    /// Nil when `location` may be used by a job whose integration is `provider`; otherwise a
    /// `wrong_integration` error (a unit error: the rest of the job goes on).
    ///
    /// - `direct` takes any http(s) URL — a cloud URL too, since it may be public or presigned —
    ///   but not `s3://`/`gs://` or the ARN form, which cannot be fetched without signing.
    /// - `aws` takes AWS forms; `gcp` GCS; `azure` Azure.
    /// - `s3-compatible`, `otc`, `wasabi` and `oracle` take their own forms, and `s3-compatible`
    ///   takes all three (OTC, Wasabi and Oracle are S3-compatible stores).
    /// - Every S3-speaking integration takes `s3://` (the integration supplies the endpoint) and
    ///   `s3Compatible` locations: those only come from `parse(_:customEndpoint:)` with the
    ///   integration's own endpoint, so the caller has already tied them to it.
    /// - `allowedBuckets`: nil means no restriction; otherwise the bucket must be listed exactly
    ///   (an empty list allows nothing: a restriction that names no bucket fails closed). Access
    ///   points match by name or ARN, MRAPs by alias or ARN, Azure by container or
    ///   `account/container`. Not applied to `direct`, which has no buckets.
    public static func check(_ location: CloudObjectLocation, against provider: CloudProvider,
                             allowedBuckets: [String]?) -> CloudURLError? {
        let isS3Scheme = location.style == .scheme && location.scheme == "s3"
        let fits: Bool
        switch provider {
        case .direct:
            let fetchable = (location.scheme == "https" || location.scheme == "http") && !location.writtenAsARN
            return fetchable ? nil : CloudURLError(
                code: CloudURLError.Code.wrongIntegration,
                message: location.writtenAsARN
                    ? "an access point ARN URL needs an aws integration: a direct integration fetches URLs as given"
                    : "a \(location.scheme):// URL needs a \(location.scheme == "gs" ? "gcp" : "aws") integration: a direct integration fetches http(s) URLs as given")
        case .aws:
            fits = location.provider == .aws || location.provider == .s3Compatible
        case .gcp:
            fits = location.provider == .gcp
        case .azure:
            fits = location.provider == .azure
        case .s3Compatible:
            fits = [.s3Compatible, .otc, .wasabi, .oracle].contains(location.provider) || isS3Scheme
        case .otc, .wasabi, .oracle:
            fits = location.provider == provider || location.provider == .s3Compatible || isS3Scheme
        }
        guard fits else {
            let what = location.provider == .direct ? "a URL outside any cloud storage form" : "a \(location.provider.rawValue) URL"
            return CloudURLError(code: CloudURLError.Code.wrongIntegration,
                                 message: "\(what) does not belong to the job's \(provider.rawValue) integration")
        }
        guard let allowed = allowedBuckets else { return nil }
        var names = [location.bucket]
        if let arn = location.accessPointARN { names.append(arn) }
        if location.provider == .azure, let account = location.account { names.append("\(account)/\(location.bucket)") }
        if names.contains(where: allowed.contains) { return nil }
        return CloudURLError(code: CloudURLError.Code.wrongIntegration,
                             message: "bucket '\(location.bucket)' is not one the job's \(provider.rawValue) integration allows")
    }
}
