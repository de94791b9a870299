/// Plans one signed S3 `ListObjectsV2` page request for an integration (pure: the caller gives
/// the credentials and the time). Bucket URLs follow the integration's rules for `s3://` URLs:
/// at its endpoint (path-style unless told otherwise), else AWS's regional endpoint.
public enum S3ListRequest {
    /// Keys per page: S3's maximum.
    public static let maxKeys = 1000

    /// Where to start a page: a continuation token (the next page of a listing), else after a
    /// key (`StartAfter`, append-only prefixes), else from the prefix's beginning.
    public struct Position: Sendable, Equatable {
        public var continuationToken: String?
        public var startAfter: String?
        public init(continuationToken: String? = nil, startAfter: String? = nil) {
            self.continuationToken = continuationToken
            self.startAfter = startAfter
        }
    }

    /// The page request's URL and signing headers. The URL and headers are secrets (a signature):
    /// log the bucket and prefix instead.
    public static func plan(kind: IntegrationKind, settings: IntegrationSettings, bucket: String, prefix: String,
                            at position: Position, maxKeys: Int = maxKeys, auth: RequestAuth,
                            date: SigningDate) -> Result<(url: String, headers: [(String, String)]), CloudURLError> {
        guard kind == .aws || kind == .s3Compatible else {
            return .failure(CloudURLError(code: "unsupported_listing",
                                          message: "bucket listing is built for aws and s3-compatible integrations only, not \(kind.rawValue)"))
        }
        guard case .aws(let credentials) = auth else {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: "the integration has no AWS keys to sign the listing with"))
        }
        let region = settings.region ?? "us-east-1"
        var query: [(String, String)] = [("list-type", "2"), ("max-keys", String(max(1, min(maxKeys, Self.maxKeys))))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let token = position.continuationToken { query.append(("continuation-token", token)) }
        else if let after = position.startAfter { query.append(("start-after", after)) }
        query.sort { $0.0 < $1.0 }
        let queryText = query.map { "\($0.0)=\(SigningPercentEncoding.encode($0.1))" }.joined(separator: "&")
        let url = bucketURL(settings: settings, bucket: bucket, region: region) + "?" + queryText
        do {
            let headers = try SigV4.sign(SigningRequest(method: "GET", url: url, payloadHash: SigningRequest.emptyPayloadHash),
                                         credentials: credentials, region: region, service: "s3", date: date)
            return .success((url, headers))
        } catch {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: "\(error)"))
        }
    }

    /// `ENDPOINT/bucket/` (path-style), `scheme://bucket.ENDPOINT/`, or AWS's virtual-hosted URL.
    public static func bucketURL(settings: IntegrationSettings, bucket: String, region: String) -> String {
        if var base = settings.endpoint {
            if !base.hasPrefix("http://") && !base.hasPrefix("https://") { base = "https://" + base }
            while base.hasSuffix("/") { base.removeLast() }
            if settings.pathStyle ?? true { return "\(base)/\(SigningPercentEncoding.encode(bucket))/" }
            guard let sep = base.firstRange(of: "://") else { return "\(base)/\(bucket)/" }
            return "\(base[..<sep.upperBound])\(bucket).\(base[sep.upperBound...])/"
        }
        if settings.pathStyle == true { return "https://s3.\(region).amazonaws.com/\(SigningPercentEncoding.encode(bucket))/" }
        return "https://\(bucket).s3.\(region).amazonaws.com/"
    }
}
