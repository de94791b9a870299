// Google Cloud Storage: V4 signing with HMAC interoperability keys (GOOG4-HMAC-SHA256 over the
// XML API) and OAuth 2.0 bearer tokens. The GOOG4 scheme is SigV4 with Google's names: the
// algorithm `GOOG4-HMAC-SHA256`, key prefix `GOOG4`, scope terminator `goog4_request`, service
// `storage`, and `x-goog-`/`X-Goog-` headers and parameters. Canonicalisation is S3's (path as
// sent, never encoded twice). GCS also accepts plain AWS SigV4 with HMAC keys (service `s3`,
// region `auto`), which ``SigV4`` already does.

/// A GCS HMAC key (interoperability access ID and secret). `description` shows the access ID only.
public struct GCSHMACCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The access ID (`GOOG1E…`); not secret.
    public var accessID: String
    /// The HMAC secret.
    public var secret: String

    /// A key from its parts.
    public init(accessID: String, secret: String) {
        self.accessID = accessID
        self.secret = secret
    }

    /// `GCSHMACCredentials(accessID: GOOG1E…, secret: <redacted>)`.
    public var description: String { "GCSHMACCredentials(accessID: \(accessID), secret: <redacted>)" }
    /// Same as ``description``.
    public var debugDescription: String { description }
}

/// GCS V4 signing with HMAC keys (`GOOG4-HMAC-SHA256`).
public enum GCSHMAC {
    /// The region GCS expects in the scope when the bucket's location does not matter.
    public static let defaultRegion = "auto"

    /// The headers to add: `Authorization`, `X-Goog-Date` and `X-Goog-Content-SHA256`
    /// (the payload hash, `UNSIGNED-PAYLOAD` when `payloadHash` is nil).
    public static func sign(
        _ request: SigningRequest, credentials: GCSHMACCredentials, region: String = defaultRegion, date: SigningDate
    ) throws(SigningError) -> [(String, String)] {
        try signDetailed(request, credentials: credentials, region: region, date: date).headers
    }

    /// ``sign(_:credentials:region:date:)`` with the canonical request and string to sign.
    public static func signDetailed(
        _ request: SigningRequest, credentials: GCSHMACCredentials, region: String = defaultRegion, date: SigningDate
    ) throws(SigningError) -> SigningResult {
        let key = signingKey(secret: credentials.secret, date: date, region: region)
        return try SigningV4Engine.signHeaders(
            request, dialect: .gcs, rules: rules, accessKey: credentials.accessID,
            scope: credentialScope(date: date, region: region), date: date, sessionToken: nil, extra: []
        ) { sts throws(SigningError) in SigningHex.encode(SigningCrypto.hmac(key: key, sts)) }
    }

    /// A signed URL valid for `expires` seconds (1…604800) with `X-Goog-Algorithm`,
    /// `X-Goog-Credential`, `X-Goog-Date`, `X-Goog-Expires`, `X-Goog-SignedHeaders` and
    /// `X-Goog-Signature`. The URL is a bearer credential: log it without its query.
    public static func presign(
        _ request: SigningRequest, credentials: GCSHMACCredentials, region: String = defaultRegion, date: SigningDate,
        expires: Int
    ) throws(SigningError) -> String {
        try presignDetailed(request, credentials: credentials, region: region, date: date, expires: expires).url ?? ""
    }

    /// ``presign(_:credentials:region:date:expires:)`` with the canonical request and string to sign.
    public static func presignDetailed(
        _ request: SigningRequest, credentials: GCSHMACCredentials, region: String = defaultRegion, date: SigningDate,
        expires: Int
    ) throws(SigningError) -> SigningResult {
        let key = signingKey(secret: credentials.secret, date: date, region: region)
        return try SigningV4Engine.presign(
            request, dialect: .gcs, rules: rules, accessKey: credentials.accessID,
            scope: credentialScope(date: date, region: region), date: date, expires: expires, sessionToken: nil, extra: []
        ) { sts throws(SigningError) in SigningHex.encode(SigningCrypto.hmac(key: key, sts)) }
    }

    /// `yyyyMMdd/region/storage/goog4_request`.
    public static func credentialScope(date: SigningDate, region: String) -> String {
        "\(date.dateStamp)/\(region)/storage/goog4_request"
    }

    static let rules = SigningV4Rules(normalizePath: false, encodePathTwice: false, addContentSHA256Header: true, signSessionToken: true)

    static func signingKey(secret: String, date: SigningDate, region: String) -> [UInt8] {
        SigningV4Engine.hmacSigningKey(prefix: "GOOG4", secret: secret, scopeParts: [date.dateStamp, region, "storage", "goog4_request"])
    }
}

/// An OAuth 2.0 access token for GCS's JSON and XML APIs (from a service-account JWT exchange or
/// the metadata server, obtained elsewhere). `description` never shows the token.
public struct GCSAccessToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The bearer token.
    public var token: String
    /// When it stops being valid, if known; refresh a little before.
    public var expiresAt: SigningDate?

    /// A token with its expiry.
    public init(token: String, expiresAt: SigningDate? = nil) {
        self.token = token
        self.expiresAt = expiresAt
    }

    /// True when the token is within `margin` seconds of its expiry (or past it) at `now`.
    public func needsRefresh(at now: SigningDate, margin: Int64 = 300) -> Bool {
        guard let expiresAt else { return false }
        return now.secondsSince1970 + margin >= expiresAt.secondsSince1970
    }

    /// `GCSAccessToken(<redacted>[, expiresAt: …])`.
    public var description: String {
        "GCSAccessToken(<redacted>\(expiresAt.map { ", expiresAt: \($0)" } ?? ""))"
    }
    /// Same as ``description``.
    public var debugDescription: String { description }
}

/// OAuth 2.0 bearer authorization for GCS.
public enum GCSBearer {
    /// `[("Authorization", "Bearer TOKEN")]`. Throws ``SigningError/invalidKey`` for an empty
    /// token or one with characters a header cannot carry.
    public static func sign(token: GCSAccessToken) throws(SigningError) -> [(String, String)] {
        guard !token.token.isEmpty,
              token.token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidKey }
        return [("Authorization", "Bearer \(token.token)")]
    }
}
