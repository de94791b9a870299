// AWS STS AssumeRole over the query API: a SigV4-signed GET (service `sts`), answered with XML
// holding temporary credentials. Pure: the request and the response parsing; the caller sends it.

/// Temporary credentials and when they stop working.
public struct TemporaryAWSCredentials: Sendable, Equatable {
    public var credentials: AWSCredentials
    public var expiration: SigningDate

    public init(credentials: AWSCredentials, expiration: SigningDate) {
        self.credentials = credentials
        self.expiration = expiration
    }

    /// Refresh this long before expiry, so no request is signed with credentials about to lapse.
    public func needsRefresh(at now: SigningDate, margin: Int64 = 300) -> Bool {
        now.secondsSince1970 + margin >= expiration.secondsSince1970
    }
}

/// Builds AssumeRole requests and reads their responses.
public enum STSAssumeRole {
    public static let defaultEndpoint = "https://sts.amazonaws.com"
    public static let defaultRegion = "us-east-1"

    /// The signed request: a form POST, as the AWS SDKs send it (STS also takes GET, but
    /// emulators and proxies handle the POST form best). Send `body` with `headers` to `url`.
    public static func request(roleARN: String, externalID: String?, sessionName: String = "registrar",
                               durationSeconds: Int = 3600, endpoint: String?, region: String?,
                               credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> (url: String, headers: [(String, String)], body: [UInt8]) {
        var base = endpoint ?? defaultEndpoint
        while base.hasSuffix("/") { base.removeLast() }
        var params = [("Action", "AssumeRole"), ("DurationSeconds", String(durationSeconds)), ("RoleArn", roleARN),
                      ("RoleSessionName", sessionName), ("Version", "2011-06-15")]
        if let externalID { params.append(("ExternalId", externalID)) }
        let body = Array(params.map { SigningPercentEncoding.encode($0.0) + "=" + SigningPercentEncoding.encode($0.1) }
            .joined(separator: "&").utf8)
        let url = base + "/"
        let contentType = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        let signed = try SigV4.sign(SigningRequest(method: "POST", url: url, headers: [contentType],
                                                   payloadHash: SigningRequest.sha256Hex(body)),
                                    credentials: credentials, region: region ?? defaultRegion, service: "sts", date: date)
        return (url, [contentType] + signed, body)
    }

    /// Reads `<AssumeRoleResponse>…<Credentials><AccessKeyId>…</Credentials>`. Errors never quote
    /// the response.
    public static func parseResponse(_ bytes: [UInt8]) throws(IntegrationInputError) -> TemporaryAWSCredentials {
        let xml = String(decoding: bytes, as: UTF8.self)
        guard let creds = element("Credentials", in: Substring(xml)) else {
            throw IntegrationInputError("the STS response holds no Credentials element")
        }
        guard let id = element("AccessKeyId", in: creds), let secret = element("SecretAccessKey", in: creds),
              let expiration = element("Expiration", in: creds) else {
            throw IntegrationInputError("the STS response's Credentials lack AccessKeyId, SecretAccessKey or Expiration")
        }
        guard let date = parseISO8601(String(expiration)) else {
            throw IntegrationInputError("the STS response's Expiration is not an ISO 8601 time")
        }
        return TemporaryAWSCredentials(
            credentials: AWSCredentials(accessKeyID: unescape(id), secretAccessKey: unescape(secret),
                                        sessionToken: element("SessionToken", in: creds).map(unescape)),
            expiration: date)
    }

    /// The text between `<name>` and `</name>` (first occurrence; no attributes on these elements).
    static func element(_ name: String, in text: Substring) -> Substring? {
        guard let open = text.firstRange(of: "<\(name)>"),
              let close = text[open.upperBound...].firstRange(of: "</\(name)>") else { return nil }
        return text[open.upperBound..<close.lowerBound]
    }

    /// XML's five predefined entities (session tokens are base64, but an id might carry `&amp;`).
    static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        return s.replacingOccurrences("&lt;", "<").replacingOccurrences("&gt;", ">").replacingOccurrences("&quot;", "\"")
            .replacingOccurrences("&apos;", "'").replacingOccurrences("&amp;", "&")
    }

    /// `2024-05-01T12:34:56Z` or with fractional seconds / `+00:00`.
    static func parseISO8601(_ s: String) -> SigningDate? {
        let b = Array(s.utf8)
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }; v = v * 10 + Int(b[i] - 0x30) }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let se = num(17..<19) else { return nil }
        return SigningDate(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
    }
}

extension StringProtocol {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
