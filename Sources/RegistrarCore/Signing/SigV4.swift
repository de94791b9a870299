// AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing and presigned URLs, with S3's
// rules (path not normalised nor encoded twice, `X-Amz-Content-SHA256`, `UNSIGNED-PAYLOAD`).
// Also serves S3-compatible stores (OTC OBS, Wasabi, Oracle, MinIO), which verify SigV4.

/// AWS access key credentials. `description` and `debugDescription` show the access key ID
/// only, so the secret and the session token cannot reach a log through interpolation.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The access key ID (`AKIA…`/`ASIA…`); not secret.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary (STS) credentials.
    public var sessionToken: String?

    /// Credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWSCredentials(accessKeyID: AKID…, secretAccessKey: <redacted>[, sessionToken: <redacted>])`.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`).
public enum SigV4 {
    /// How the canonical request is built; ``s3`` and ``standard`` cover AWS's two families.
    public struct Options: Sendable, Equatable {
        /// Remove `.`/`..` segments and empty segments from the path before signing
        /// (every AWS service but S3).
        public var normalizePath: Bool
        /// Encode the (already encoded) path once more (every AWS service but S3).
        public var encodePathTwice: Bool
        /// Send and sign `X-Amz-Content-SHA256` (required by S3).
        public var addContentSHA256Header: Bool
        /// Sign `X-Amz-Security-Token` (false only for the few services that want it added after
        /// signing); the header is returned either way.
        public var signSessionToken: Bool

        /// Options from their parts.
        public init(normalizePath: Bool, encodePathTwice: Bool, addContentSHA256Header: Bool, signSessionToken: Bool = true) {
            self.normalizePath = normalizePath
            self.encodePathTwice = encodePathTwice
            self.addContentSHA256Header = addContentSHA256Header
            self.signSessionToken = signSessionToken
        }

        /// S3 and S3-compatible stores: the path as sent, `X-Amz-Content-SHA256` added.
        public static let s3 = Options(normalizePath: false, encodePathTwice: false, addContentSHA256Header: true)
        /// Every other AWS service (and the AWS SigV4 test suite): normalised, twice-encoded path.
        public static let standard = Options(normalizePath: true, encodePathTwice: true, addContentSHA256Header: false)

        /// ``s3`` for `s3`, ``standard`` otherwise.
        public static func forService(_ service: String) -> Options { service == "s3" ? .s3 : .standard }

        var rules: SigningV4Rules {
            SigningV4Rules(normalizePath: normalizePath, encodePathTwice: encodePathTwice,
                           addContentSHA256Header: addContentSHA256Header, signSessionToken: signSessionToken)
        }
    }

    /// The headers to add to `request`: `Authorization`, `X-Amz-Date`, `X-Amz-Content-SHA256`
    /// (S3 rules) and `X-Amz-Security-Token` (temporary credentials). Headers of those names
    /// already in the request are ignored, not signed: send the returned ones instead.
    ///
    /// - Parameters:
    ///   - request: the request; its `payloadHash` nil means `UNSIGNED-PAYLOAD`.
    ///   - region: the signing region, e.g. `us-east-1`.
    ///   - service: the signing name, `s3` for S3 and S3-compatible stores.
    ///   - options: canonicalisation rules; nil picks ``Options/forService(_:)``.
    public static func sign(
        _ request: SigningRequest, credentials: AWSCredentials, region: String, service: String = "s3",
        date: SigningDate, options: Options? = nil
    ) throws(SigningError) -> [(String, String)] {
        try signDetailed(request, credentials: credentials, region: region, service: service, date: date, options: options).headers
    }

    /// ``sign(_:credentials:region:service:date:options:)`` with the canonical request and
    /// string to sign (the canonical request holds header values: never log it).
    public static func signDetailed(
        _ request: SigningRequest, credentials: AWSCredentials, region: String, service: String = "s3",
        date: SigningDate, options: Options? = nil
    ) throws(SigningError) -> SigningResult {
        let rules = (options ?? .forService(service)).rules
        let scope = credentialScope(date: date, region: region, service: service)
        let key = signingKey(secretAccessKey: credentials.secretAccessKey, date: date, region: region, service: service)
        return try SigningV4Engine.signHeaders(
            request, dialect: .aws, rules: rules, accessKey: credentials.accessKeyID, scope: scope, date: date,
            sessionToken: credentials.sessionToken, extra: []
        ) { sts throws(SigningError) in SigningHex.encode(SigningCrypto.hmac(key: key, sts)) }
    }

    /// A presigned URL (query-string authentication) valid for `expires` seconds (1…604800):
    /// the request's URL with `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
    /// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` and `X-Amz-Signature`
    /// appended. Any headers in `request` (besides `Host`) are signed and must be sent with it.
    /// The URL is a bearer credential: log it without its query.
    public static func presign(
        _ request: SigningRequest, credentials: AWSCredentials, region: String, service: String = "s3",
        date: SigningDate, expires: Int, options: Options? = nil
    ) throws(SigningError) -> String {
        try presignDetailed(request, credentials: credentials, region: region, service: service, date: date,
                            expires: expires, options: options).url ?? ""
    }

    /// ``presign(_:credentials:region:service:date:expires:options:)`` with the canonical request
    /// and string to sign.
    public static func presignDetailed(
        _ request: SigningRequest, credentials: AWSCredentials, region: String, service: String = "s3",
        date: SigningDate, expires: Int, options: Options? = nil
    ) throws(SigningError) -> SigningResult {
        let rules = (options ?? .forService(service)).rules
        let scope = credentialScope(date: date, region: region, service: service)
        let key = signingKey(secretAccessKey: credentials.secretAccessKey, date: date, region: region, service: service)
        return try SigningV4Engine.presign(
            request, dialect: .aws, rules: rules, accessKey: credentials.accessKeyID, scope: scope, date: date,
            expires: expires, sessionToken: credentials.sessionToken, extra: []
        ) { sts throws(SigningError) in SigningHex.encode(SigningCrypto.hmac(key: key, sts)) }
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    public static func credentialScope(date: SigningDate, region: String, service: String) -> String {
        "\(date.dateStamp)/\(region)/\(service)/aws4_request"
    }

    /// The derived signing key `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`.
    static func signingKey(secretAccessKey: String, date: SigningDate, region: String, service: String) -> [UInt8] {
        SigningV4Engine.hmacSigningKey(prefix: "AWS4", secret: secretAccessKey, scopeParts: [date.dateStamp, region, service, "aws4_request"])
    }
}
