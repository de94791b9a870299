// The canonical-request machinery shared by AWS SigV4, SigV4A and GCS V4 (GOOG4-HMAC-SHA256):
// the three differ only in prefixes, the credential scope and how the string to sign is signed.

/// What a signer produced, for callers that want more than the headers (diagnostics, tests).
///
/// `canonicalRequest` contains every signed header value, a session token included: treat it as
/// a secret and never log it. `description` shows the signature only.
public struct SigningResult: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Headers to add to the request (empty for a presigned URL).
    public var headers: [(String, String)]
    /// The presigned URL (query-string authentication), nil for header signing.
    public var url: String?
    /// The canonical request (V4 family) or empty (Azure, which signs `stringToSign` directly).
    public var canonicalRequest: String
    /// The string that was signed.
    public var stringToSign: String
    /// The signature: lower-case hex (V4 family; DER for SigV4A) or base64 (Azure).
    public var signature: String
    /// `SignedHeaders` (V4 family), `;`-separated lower-case names; empty for Azure.
    public var signedHeaders: String

    /// Shows the signed header names and the signature, never a header value or the URL's query.
    public var description: String { "SigningResult(signedHeaders: \(signedHeaders), signature: \(signature))" }
    /// Same as ``description``.
    public var debugDescription: String { description }
}

/// Prefixes that tell the V4 dialects apart.
struct SigningV4Dialect: Sendable {
    /// `AWS4-HMAC-SHA256`, `AWS4-ECDSA-P256-SHA256` or `GOOG4-HMAC-SHA256`.
    var algorithm: String
    /// Lower-case header prefix, `x-amz` or `x-goog`.
    var headerPrefix: String
    /// Query parameter prefix, `X-Amz` or `X-Goog`.
    var queryPrefix: String
    /// Header names as returned to the caller.
    var dateHeader: String
    var contentHeader: String

    static let aws = SigningV4Dialect(algorithm: "AWS4-HMAC-SHA256", headerPrefix: "x-amz", queryPrefix: "X-Amz",
                                      dateHeader: "X-Amz-Date", contentHeader: "X-Amz-Content-SHA256")
    static let awsECDSA = SigningV4Dialect(algorithm: "AWS4-ECDSA-P256-SHA256", headerPrefix: "x-amz", queryPrefix: "X-Amz",
                                           dateHeader: "X-Amz-Date", contentHeader: "X-Amz-Content-SHA256")
    static let gcs = SigningV4Dialect(algorithm: "GOOG4-HMAC-SHA256", headerPrefix: "x-goog", queryPrefix: "X-Goog",
                                      dateHeader: "X-Goog-Date", contentHeader: "X-Goog-Content-SHA256")
    static let gcsRSA = SigningV4Dialect(algorithm: "GOOG4-RSA-SHA256", headerPrefix: "x-goog", queryPrefix: "X-Goog",
                                         dateHeader: "X-Goog-Date", contentHeader: "X-Goog-Content-SHA256")
}

/// How a V4 signer treats the path and body; ``SigV4/Options`` is the public face.
struct SigningV4Rules: Sendable {
    var normalizePath: Bool
    var encodePathTwice: Bool
    var addContentSHA256Header: Bool
    var signSessionToken: Bool
}

enum SigningV4Engine {
    /// Headers never signed (botocore's list): hop-by-hop headers, `User-Agent`, tracing.
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    /// RFC 3986 §5.2.4 dot-segment removal plus AWS's collapsing of empty segments (`//`).
    static func normalize(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var out: [Substring] = []
        for seg in path.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(seg)
        }
        let lead = path.hasPrefix("/") ? "/" : ""
        let trail = path.hasSuffix("/") && !out.isEmpty ? "/" : ""
        return lead + out.joined(separator: "/") + trail
    }

    /// The canonical URI. S3/GCS rules (`encodePathTwice == false`): the wire path with its
    /// escapes normalised and nothing encoded twice. Other AWS services: the path (dot
    /// segments removed when `normalizePath`) encoded once more, `%` included.
    static func canonicalPath(_ path: String, rules: SigningV4Rules) -> String {
        var p = path.isEmpty ? "/" : path
        if rules.normalizePath { p = normalize(p) }
        if rules.encodePathTwice { return SigningPercentEncoding.encode(p, keepSlash: true) }
        return SigningPercentEncoding.canonicalize(p, keepSlash: true)
    }

    /// The query's pairs with each name and value in canonical encoding, in URL order.
    static func canonicalPairs(_ url: SigningURL) -> [(String, String)] {
        url.rawQueryPairs.map {
            (SigningPercentEncoding.canonicalize($0.name, keepSlash: false), SigningPercentEncoding.canonicalize($0.value, keepSlash: false))
        }
    }

    /// Pairs sorted by encoded name, then encoded value (byte order), joined as `n=v&…`.
    static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        pairs.sorted { a, b in
            if a.0 != b.0 { return Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8)) }
            return Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
        }
        .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The request's own headers that take part in signing: reserved names (those the signer sets)
    /// and ``unsignedHeaders`` dropped, `host` added from the URL when absent.
    static func requestHeaders(_ r: SigningRequest, url: SigningURL, reserved: Set<String>) -> [(String, String)] {
        var out: [(String, String)] = []
        var hasHost = false
        for (n, v) in r.headers {
            let name = SigningHeaders.canonicalName(n)
            if unsignedHeaders.contains(name) || reserved.contains(name) { continue }
            if name == "host" { hasHost = true }
            out.append((name, v))
        }
        if !hasHost { out.append(("host", url.hostHeader)) }
        return out
    }

    /// Builds the canonical request; returns it with the `SignedHeaders` list.
    static func canonicalRequest(method: String, path: String, query: String, headers: [(String, String)], payload: String) -> (String, String) {
        let groups = SigningHeaders.canonicalGroups(headers)
        let canonicalHeaders = groups.map { "\($0.name):\($0.value)\n" }.joined()
        let signed = groups.map(\.name).joined(separator: ";")
        let creq = [method.uppercased(), path, query, canonicalHeaders, signed, payload].joined(separator: "\n")
        return (creq, signed)
    }

    /// `ALGORITHM\nDATE\nSCOPE\nhex(sha256(creq))`.
    static func stringToSign(dialect: SigningV4Dialect, date: SigningDate, scope: String, canonicalRequest: String) -> String {
        [dialect.algorithm, date.iso8601Basic, scope, SigningCrypto.sha256Hex(canonicalRequest)].joined(separator: "\n")
    }

    /// HMAC key chain: `kDate = HMAC(prefix+secret, date)`, then region, service, terminator.
    static func hmacSigningKey(prefix: String, secret: String, scopeParts: [String]) -> [UInt8] {
        var key = Array((prefix + secret).utf8)
        for part in scopeParts { key = SigningCrypto.hmac(key: key, part) }
        return key
    }

    /// Header-based signing shared by the V4 dialects. `extra` are dialect headers to add and
    /// sign (SigV4A's region set); `sign` turns the string to sign into the signature.
    static func signHeaders(
        _ r: SigningRequest, dialect: SigningV4Dialect, rules: SigningV4Rules, accessKey: String, scope: String,
        date: SigningDate, sessionToken: String?, extra: [(String, String)],
        sign: (String) throws(SigningError) -> String
    ) throws(SigningError) -> SigningResult {
        let url = try SigningURL(r.url)
        try SigningHeaders.check(r.headers)
        let p = dialect.headerPrefix
        var reserved: Set<String> = ["\(p)-date", "\(p)-content-sha256", "\(p)-security-token"]
        for (n, _) in extra { reserved.insert(n.lowercased()) }
        let payload = r.payloadHash ?? SigningRequest.unsignedPayload
        var added: [(String, String)] = [(dialect.dateHeader, date.iso8601Basic)]
        if rules.addContentSHA256Header { added.append((dialect.contentHeader, payload)) }
        added += extra
        var signedSet = requestHeaders(r, url: url, reserved: reserved) + added
        if let token = sessionToken {
            let h = ("X-Amz-Security-Token", token)
            if rules.signSessionToken { signedSet.append(h) }
            added.append(h)
        }
        let (creq, signed) = canonicalRequest(
            method: r.method, path: canonicalPath(url.path, rules: rules),
            query: canonicalQuery(canonicalPairs(url)), headers: signedSet, payload: payload)
        let sts = stringToSign(dialect: dialect, date: date, scope: scope, canonicalRequest: creq)
        let signature = try sign(sts)
        let auth = "\(dialect.algorithm) Credential=\(accessKey)/\(scope), SignedHeaders=\(signed), Signature=\(signature)"
        return SigningResult(headers: [("Authorization", auth)] + added, url: nil, canonicalRequest: creq,
                             stringToSign: sts, signature: signature, signedHeaders: signed)
    }

    /// Query-string signing (presigned URL) shared by the V4 dialects. The URL keeps the
    /// request's own parameters first, in order, then the authentication parameters, then the
    /// signature (botocore's layout).
    static func presign(
        _ r: SigningRequest, dialect: SigningV4Dialect, rules: SigningV4Rules, accessKey: String, scope: String,
        date: SigningDate, expires: Int, sessionToken: String?, extra: [(String, String)],
        sign: (String) throws(SigningError) -> String
    ) throws(SigningError) -> SigningResult {
        guard (1...604_800).contains(expires) else { throw .invalidExpiry(expires) }
        let url = try SigningURL(r.url)
        try SigningHeaders.check(r.headers)
        let q = dialect.queryPrefix
        let headers = requestHeaders(r, url: url, reserved: [])
        let signed = SigningHeaders.canonicalGroups(headers).map(\.name).joined(separator: ";")
        let enc = { (s: String) in SigningPercentEncoding.encode(s) }
        var auth: [(String, String)] = [
            ("\(q)-Algorithm", dialect.algorithm),
            ("\(q)-Credential", enc("\(accessKey)/\(scope)")),
            ("\(q)-Date", date.iso8601Basic),
            ("\(q)-Expires", String(expires)),
            ("\(q)-SignedHeaders", enc(signed)),
        ]
        var unsignedTail: [(String, String)] = []
        if let token = sessionToken {
            if rules.signSessionToken { auth.append(("\(q)-Security-Token", enc(token))) } else { unsignedTail.append(("\(q)-Security-Token", enc(token))) }
        }
        for (n, v) in extra { auth.append((n, enc(v))) }
        // The caller's own parameters may not carry authentication parameters of ours.
        let own = canonicalPairs(url).filter { !$0.0.lowercased().hasPrefix("\(q.lowercased())-") }
        let pairs = own + auth
        let path = canonicalPath(url.path, rules: rules)
        let (creq, _) = canonicalRequest(
            method: r.method, path: path, query: canonicalQuery(pairs), headers: headers,
            payload: r.payloadHash ?? SigningRequest.unsignedPayload)
        let sts = stringToSign(dialect: dialect, date: date, scope: scope, canonicalRequest: creq)
        let signature = try sign(sts)
        let wirePath = rules.encodePathTwice ? (url.path.isEmpty ? "/" : url.path) : path
        let query = (pairs + [("\(q)-Signature", signature)] + unsignedTail).map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        return SigningResult(headers: [], url: url.origin + wirePath + "?" + query, canonicalRequest: creq,
                             stringToSign: sts, signature: signature, signedHeaders: signed)
    }
}
