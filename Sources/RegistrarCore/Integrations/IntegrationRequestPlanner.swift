// From an object URL in a manifest to the request a worker sends: which URL (s3:// and the MRAP
// ARN form become real endpoints), and which headers sign it, for the job's integration. Pure:
// the caller supplies the current credentials (static, or fetched from STS / a token endpoint)
// and the time.

/// The credentials a request is signed with, already resolved (temporary ones fetched).
public enum RequestAuth: Sendable, CustomStringConvertible {
    case none
    case aws(AWSCredentials)
    case gcsBearer(GCSAccessToken)
    case gcsHMAC(GCSHMACCredentials)
    case azureSharedKey(AzureSharedKeyCredentials)
    /// SAS query string, without `?`.
    case azureSAS(String)

    /// Names the kind only.
    public var description: String {
        switch self {
        case .none: return "none"
        case .aws(let c): return "aws(\(c.accessKeyID))"
        case .gcsBearer: return "gcsBearer"
        case .gcsHMAC(let c): return "gcsHMAC(\(c.accessID))"
        case .azureSharedKey(let c): return "azureSharedKey(\(c.account))"
        case .azureSAS: return "azureSAS"
        }
    }
}

/// One request to send. `url` and `headers` are secrets (signatures, SAS tokens): log
/// `location` or a redacted URL instead.
public struct PlannedRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    /// What the URL was understood as (provider, bucket, key, region).
    public var location: CloudObjectLocation
    /// The region the request was signed for (nil when not SigV4-signed).
    public var signingRegion: String?
}

/// Plans requests for one integration.
public struct IntegrationRequestPlanner: Sendable {
    public let kind: IntegrationKind
    public let settings: IntegrationSettings

    public init(kind: IntegrationKind, settings: IntegrationSettings) {
        self.kind = kind
        self.settings = settings
    }

    static let defaultAWSRegion = "us-east-1"

    /// The URL understood for this integration, or why it does not belong to it
    /// (`wrong_integration`) or cannot be read (`invalid_url`, `missing_key`, …).
    public func locate(_ url: String) -> Result<CloudObjectLocation, CloudURLError> {
        let endpoint = kind == .direct ? nil : settings.endpoint
        var location: CloudObjectLocation
        switch CloudURL.parse(url, customEndpoint: endpoint) {
        case .failure(let e): return .failure(e)
        case .success(let l): location = l
        }
        // A GCS emulator at the endpoint speaks GCS, not S3: URLs there are path-style GCS URLs.
        if kind == .gcp && location.provider == .s3Compatible && location.style == .pathStyle {
            location.provider = .gcp
        }
        if let e = CloudURL.check(location, against: kind.provider, allowedBuckets: kind == .direct ? nil : settings.buckets) {
            return .failure(e)
        }
        if kind == .azure, let want = settings.account, let got = location.account, want != got {
            return .failure(CloudURLError(code: CloudURLError.Code.wrongIntegration,
                                          message: "storage account '\(got)' is not the azure integration's account '\(want)'"))
        }
        return .success(location)
    }

    /// The request for `url`, signed with `auth` at `date`. `range` is the `Range` header the
    /// fetcher will send (`bytes=a-b`): Azure's Shared Key signs its value, so a ranged read
    /// signed without it is refused with 403 AuthenticationFailed.
    public func plan(_ url: String, auth: RequestAuth, date: SigningDate, range: String? = nil) -> Result<PlannedRequest, CloudURLError> {
        let location: CloudObjectLocation
        switch locate(url) {
        case .failure(let e): return .failure(e)
        case .success(let l): location = l
        }
        do {
            return .success(try signedRequest(url, location, auth: auth, date: date, range: range))
        } catch {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: error.description))
        }
    }

    private func signedRequest(_ original: String, _ l: CloudObjectLocation, auth: RequestAuth,
                               date: SigningDate, range: String?) throws(SigningError) -> PlannedRequest {
        var given = original
        if let hash = given.firstIndex(of: "#") { given = String(given[..<hash]) }
        // A URL that carries its own signature is used as given: adding ours would conflict.
        if kind == .direct || Self.isPresigned(l.query) {
            return PlannedRequest(url: given, headers: [], location: l, signingRegion: nil)
        }
        let key = SigningPercentEncoding.encodePath(l.key)
        switch kind {
        case .direct:
            return PlannedRequest(url: given, headers: [], location: l, signingRegion: nil)
        case .aws, .s3Compatible:
            guard case .aws(let credentials) = auth else { throw .invalidKey }
            if l.style == .multiRegionAccessPoint, let alias = l.mrapAlias {
                // Multi-Region Access Points: the global endpoint, signed with SigV4A for every region.
                let url = "https://\(alias).accesspoint.s3-global.amazonaws.com/\(key)"
                let headers = try SigV4A.sign(SigningRequest(method: "GET", url: url, payloadHash: SigningRequest.emptyPayloadHash),
                                              credentials: credentials, regionSet: ["*"], date: date)
                return PlannedRequest(url: url, headers: headers, location: l, signingRegion: "*")
            }
            let region = l.region ?? settings.region ?? Self.defaultAWSRegion
            let url: String
            switch l.style {
            case .scheme:
                url = s3URL(bucket: l.bucket, key: key, region: region)
            case .oracleNative:
                url = "https://\(l.account ?? "").compat.objectstorage.\(region).oraclecloud.com/\(SigningPercentEncoding.encode(l.bucket))/\(key)"
            default:
                url = given
            }
            let headers = try SigV4.sign(SigningRequest(method: "GET", url: url, payloadHash: SigningRequest.emptyPayloadHash),
                                         credentials: credentials, region: region, service: "s3", date: date)
            return PlannedRequest(url: url, headers: headers, location: l, signingRegion: region)
        case .gcp:
            let base = trimmedEndpoint ?? "https://storage.googleapis.com"
            let url = "\(base)/\(SigningPercentEncoding.encode(l.bucket))/\(key)"
            switch auth {
            case .gcsBearer(let token):
                return PlannedRequest(url: url, headers: try GCSBearer.sign(token: token), location: l, signingRegion: nil)
            case .gcsHMAC(let c):
                let headers = try GCSHMAC.sign(SigningRequest(method: "GET", url: url, payloadHash: SigningRequest.emptyPayloadHash),
                                               credentials: c, date: date)
                return PlannedRequest(url: url, headers: headers, location: l, signingRegion: GCSHMAC.defaultRegion)
            default:
                throw .invalidKey
            }
        case .azure:
            var url = given
            if let base = trimmedEndpoint {
                // Azurite and private endpoints: ENDPOINT/ACCOUNT/CONTAINER/BLOB.
                url = "\(base)/\(l.account ?? "")/\(SigningPercentEncoding.encode(l.bucket))/\(key)"
            }
            switch auth {
            case .azureSharedKey(let c):
                let headers = try AzureSharedKey.sign(SigningRequest(method: "GET", url: url, headers: range.map { [("Range", $0)] } ?? []),
                                                      credentials: c, date: date)
                return PlannedRequest(url: url, headers: headers, location: l, signingRegion: nil)
            case .azureSAS(let sas):
                let joined = url + (url.contains("?") ? "&" : "?") + sas
                return PlannedRequest(url: joined, headers: [("x-ms-version", AzureSharedKey.defaultAPIVersion)], location: l, signingRegion: nil)
            default:
                throw .invalidKey
            }
        }
    }

    /// `s3://bucket/key` made fetchable: at the integration's endpoint (path-style unless told
    /// otherwise), else AWS's regional virtual-hosted endpoint.
    func s3URL(bucket: String, key: String, region: String) -> String {
        if let base = trimmedEndpoint {
            if settings.pathStyle ?? true { return "\(base)/\(SigningPercentEncoding.encode(bucket))/\(key)" }
            guard let sep = base.firstRange(of: "://") else { return "\(base)/\(bucket)/\(key)" }
            return "\(base[..<sep.upperBound])\(bucket).\(base[sep.upperBound...])/\(key)"
        }
        if settings.pathStyle == true { return "https://s3.\(region).amazonaws.com/\(SigningPercentEncoding.encode(bucket))/\(key)" }
        return "https://\(bucket).s3.\(region).amazonaws.com/\(key)"
    }

    /// The endpoint with a scheme and no trailing slash.
    var trimmedEndpoint: String? {
        guard var e = settings.endpoint else { return nil }
        if !e.hasPrefix("http://") && !e.hasPrefix("https://") { e = "https://" + e }
        while e.hasSuffix("/") { e.removeLast() }
        return e
    }

    /// Presigned S3/GCS URLs and Azure SAS URLs carry their signature in the query.
    static func isPresigned(_ query: String?) -> Bool {
        guard let q = query?.lowercased() else { return false }
        return q.contains("x-amz-signature=") || q.contains("x-goog-signature=") || q.contains("sig=") || q.contains("signature=")
    }
}
