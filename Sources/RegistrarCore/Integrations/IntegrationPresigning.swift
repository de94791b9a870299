// Presigned GET URLs for a registered file, with the file's integration (exports with
// `signedUrls: true`, docs/labels.md): S3 and S3-compatible stores get SigV4 query signing,
// Multi-Region Access Points SigV4A, GCS a V4 signed URL (service-account RSA or HMAC key),
// Azure a read-only service SAS (account key) or the integration's own SAS token. Pure: the
// caller supplies the credentials (assumed-role ones already fetched) and the time.

/// The lifetime bounds of a signed URL in an export.
public enum SignedURLLifetime {
    /// 1 second to 7 days: SigV4's and GCS V4's own bounds.
    public static let range = 1...604_800
    /// When the request names none: one hour.
    public static let defaultSeconds = 3600
}

extension IntegrationRequestPlanner {
    /// `url` (as registered) presigned for a GET valid `ttl` seconds from `date`. A URL that
    /// already carries a signature, or one of a `direct` integration, comes back unchanged.
    /// The failure names the URL without its query and never holds a credential.
    public func presign(_ url: String, secret: IntegrationSecret, auth: RequestAuth, date: SigningDate, ttl: Int) -> Result<String, CloudURLError> {
        guard SignedURLLifetime.range.contains(ttl) else {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: "a signed URL's lifetime must be 1 to 604800 seconds, not \(ttl)"))
        }
        let location: CloudObjectLocation
        switch locate(url) {
        case .failure(let e): return .failure(e)
        case .success(let l): location = l
        }
        if kind == .direct || Self.isPresigned(location.query) { return .success(url) }
        do {
            return .success(try presigned(url, location, secret: secret, auth: auth, date: date, ttl: ttl))
        } catch {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: error.description))
        }
    }

    private func presigned(_ given: String, _ l: CloudObjectLocation, secret: IntegrationSecret, auth: RequestAuth,
                           date: SigningDate, ttl: Int) throws(SigningError) -> String {
        var given = given
        if let hash = given.firstIndex(of: "#") { given = String(given[..<hash]) }
        let key = SigningPercentEncoding.encodePath(l.key)
        switch kind {
        case .direct:
            return given
        case .aws, .s3Compatible:
            guard case .aws(let credentials) = auth else { throw .invalidKey }
            if l.style == .multiRegionAccessPoint, let alias = l.mrapAlias {
                return try SigV4A.presign(SigningRequest(method: "GET", url: "https://\(alias).accesspoint.s3-global.amazonaws.com/\(key)"),
                                          credentials: credentials, regionSet: ["*"], date: date, expires: ttl)
            }
            let region = l.region ?? settings.region ?? Self.defaultAWSRegion
            let url: String
            switch l.style {
            case .scheme: url = s3URL(bucket: l.bucket, key: key, region: region)
            case .oracleNative: url = "https://\(l.account ?? "").compat.objectstorage.\(region).oraclecloud.com/\(SigningPercentEncoding.encode(l.bucket))/\(key)"
            default: url = given
            }
            return try SigV4.presign(SigningRequest(method: "GET", url: url), credentials: credentials, region: region, service: "s3",
                                     date: date, expires: ttl)
        case .gcp:
            let url = "\(trimmedEndpoint ?? "https://storage.googleapis.com")/\(SigningPercentEncoding.encode(l.bucket))/\(key)"
            switch secret {
            case .gcpServiceAccount(let k): return try GCSServiceAccountSigning.presign(SigningRequest(method: "GET", url: url), key: k, date: date, expires: ttl)
            case .gcpHMAC(let c): return try GCSHMAC.presign(SigningRequest(method: "GET", url: url), credentials: c, date: date, expires: ttl)
            default: throw .invalidKey
            }
        case .azure:
            var url = given
            if let base = trimmedEndpoint { url = "\(base)/\(l.account ?? "")/\(SigningPercentEncoding.encode(l.bucket))/\(key)" }
            switch secret {
            case .azureSharedKey(let c):
                return try AzureSAS.readURL(url, container: l.bucket, blob: l.key, credentials: c, date: date, expires: ttl)
            case .azureSAS(let sas):
                // The integration's own token: its lifetime is the one it was issued with.
                return url + (url.contains("?") ? "&" : "?") + sas
            default:
                throw .invalidKey
            }
        }
    }
}

/// Replaces registered URLs by their signed forms anywhere in a label row (`data_link`,
/// frame links), leaving every other string alone.
public enum ExportURLRewrite {
    public static func replacing(_ urls: [String: String], in value: JSONValue) -> JSONValue {
        guard !urls.isEmpty else { return value }
        switch value {
        case .string(let s): return urls[s].map(JSONValue.string) ?? value
        case .array(let a): return .array(a.map { replacing(urls, in: $0) })
        case .object(let m): return .object(m.map { (key: $0.key, value: replacing(urls, in: $0.value)) })
        default: return value
        }
    }
}
