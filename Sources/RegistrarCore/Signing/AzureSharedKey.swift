// Azure Storage Shared Key authorization (Blob, Queue, File, Data Lake), service version
// 2015-02-21 and later: `Authorization: SharedKey account:base64(HMAC-SHA256(key, StringToSign))`.

/// A storage account name and its account key. `description`/`debugDescription` show the
/// account only.
public struct AzureSharedKeyCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The storage account name (`myaccount` in `myaccount.blob.core.windows.net`).
    public var account: String
    /// The account key's bytes (base64-decoded).
    public var key: [UInt8]

    /// Credentials from the decoded key bytes.
    public init(account: String, key: [UInt8]) {
        self.account = account
        self.key = key
    }

    /// Credentials from the key as the portal shows it (base64). Throws ``SigningError/invalidKey``
    /// (which never includes the key) when it is not base64 or is empty.
    public init(account: String, base64Key: String) throws(SigningError) {
        guard let bytes = SigningBase64.decode(base64Key), !bytes.isEmpty else { throw .invalidKey }
        self.init(account: account, key: bytes)
    }

    /// `AzureSharedKeyCredentials(account: name, key: <redacted>)`.
    public var description: String { "AzureSharedKeyCredentials(account: \(account), key: <redacted>)" }
    /// Same as ``description``.
    public var debugDescription: String { description }
}

/// Azure Storage Shared Key signing.
///
/// String to sign: `VERB`, then the values of `Content-Encoding`, `Content-Language`,
/// `Content-Length` (empty when 0), `Content-MD5`, `Content-Type`, `Date`, `If-Modified-Since`,
/// `If-Match`, `If-None-Match`, `If-Unmodified-Since` and `Range`, one a line; then the
/// canonicalized `x-ms-*` headers (`name:value\n`, names lower-cased, sorted as the service
/// sorts them); then the canonicalized resource: `/account/path` (the path as sent) and one
/// `\nname:value1,value2` line per query parameter (names lower-cased and sorted, values decoded,
/// sorted and comma-joined). Prefer `x-ms-range` to `Range` for ranged reads, as the SDKs do.
public enum AzureSharedKey {
    /// The `x-ms-version` sent when the caller names none.
    public static let defaultAPIVersion = "2021-08-06"

    /// The headers to add: `x-ms-date` (RFC 1123), `x-ms-version` and `Authorization`.
    /// Headers of those names already in the request are ignored.
    public static func sign(
        _ request: SigningRequest, credentials: AzureSharedKeyCredentials, date: SigningDate,
        apiVersion: String = defaultAPIVersion
    ) throws(SigningError) -> [(String, String)] {
        try signDetailed(request, credentials: credentials, date: date, apiVersion: apiVersion).headers
    }

    /// ``sign(_:credentials:date:apiVersion:)`` with the string to sign.
    public static func signDetailed(
        _ request: SigningRequest, credentials: AzureSharedKeyCredentials, date: SigningDate,
        apiVersion: String = defaultAPIVersion
    ) throws(SigningError) -> SigningResult {
        guard !credentials.key.isEmpty else { throw .invalidKey }
        try SigningHeaders.check(request.headers)
        let added = [("x-ms-date", date.rfc1123), ("x-ms-version", apiVersion)]
        var headers = request.headers.filter {
            let n = SigningHeaders.canonicalName($0.0)
            return n != "x-ms-date" && n != "x-ms-version" && n != "authorization"
        }
        headers += added
        let sts = try stringToSign(SigningRequest(method: request.method, url: request.url, headers: headers),
                                   account: credentials.account)
        let signature = SigningBase64.encode(SigningCrypto.hmac(key: credentials.key, sts))
        return SigningResult(headers: added + [("Authorization", "SharedKey \(credentials.account):\(signature)")],
                             url: nil, canonicalRequest: "", stringToSign: sts, signature: signature, signedHeaders: "")
    }

    /// The Shared Key string to sign for a request whose headers already include `x-ms-date`
    /// and `x-ms-version`.
    public static func stringToSign(_ request: SigningRequest, account: String) throws(SigningError) -> String {
        let url = try SigningURL(request.url)
        var values: [String: [String]] = [:]
        var msNames: [String] = []
        for (n, v) in request.headers {
            let name = SigningHeaders.canonicalName(n)
            if name.hasPrefix("x-ms-"), values[name] == nil { msNames.append(name) }
            values[name, default: []].append(SigningHeaders.trimAll(v))
        }
        func standard(_ name: String) -> String {
            guard let v = values[name]?.filter({ !$0.isEmpty }), !v.isEmpty else { return "" }
            let joined = v.joined(separator: ",")
            return name == "content-length" && joined == "0" ? "" : joined
        }
        var lines = [request.method.uppercased()]
        for name in ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
                     "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"] {
            lines.append(standard(name))
        }
        var out = lines.joined(separator: "\n") + "\n"
        for name in msNames.sorted(by: { serviceOrder($0, $1) < 0 }) {
            out += "\(name):\(values[name]!.joined(separator: ","))\n"
        }
        out += "/\(account)\(url.path.isEmpty ? "/" : url.path)"
        var params: [String: [String]] = [:]
        for (n, v) in url.rawQueryPairs {
            params[SigningPercentEncoding.decode(n).lowercased(), default: []].append(SigningPercentEncoding.decode(v))
        }
        for name in params.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let vs = params[name]!.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            out += "\n\(name):\(vs.joined(separator: ","))"
        }
        return out
    }

    // The service orders canonicalized headers with a culture-aware comparison in which `-`
    // (and `'`) are ignored at the first level and only break ties at the second: so
    // `x-ms-meta-ab` sorts before `x-ms-meta-a-c`. These weights are the ones the official
    // SDKs (azure-storage-blob's `_storage_header_sort`, .NET, Java) use to emulate it.
    private static let level0: [UInt16] = [
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x71C, 0x0, 0x71F, 0x721, 0x723, 0x725,
        0x0, 0x0, 0x0, 0x72D, 0x803, 0x0, 0x0, 0x733, 0x0, 0xD03, 0xD1A, 0xD1C, 0xD1E,
        0xD20, 0xD22, 0xD24, 0xD26, 0xD28, 0xD2A, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0xE02, 0xE09, 0xE0A, 0xE1A, 0xE21, 0xE23, 0xE25, 0xE2C, 0xE32, 0xE35, 0xE36, 0xE48, 0xE51,
        0xE70, 0xE7C, 0xE7E, 0xE89, 0xE8A, 0xE91, 0xE99, 0xE9F, 0xEA2, 0xEA4, 0xEA6, 0xEA7, 0xEA9,
        0x0, 0x0, 0x0, 0x743, 0x744, 0x748, 0xE02, 0xE09, 0xE0A, 0xE1A, 0xE21, 0xE23, 0xE25,
        0xE2C, 0xE32, 0xE35, 0xE36, 0xE48, 0xE51, 0xE70, 0xE7C, 0xE7E, 0xE89, 0xE8A, 0xE91, 0xE99,
        0xE9F, 0xEA2, 0xEA4, 0xEA6, 0xEA7, 0xEA9, 0x0, 0x74C, 0x0, 0x750, 0x0,
    ]
    private static let level4: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 128)
        t[0x27] = 0x8012 // '
        t[0x2D] = 0x8212 // -
        return t
    }()

    /// Negative, zero or positive as `a` sorts before, with or after `b` in the service's order.
    static func serviceOrder(_ a: String, _ b: String) -> Int {
        let l = Array(a.utf8), r = Array(b.utf8)
        let tables = [level0, level4]
        var level = 0, i = 0, j = 0
        func weight(_ t: [UInt16], _ s: [UInt8], _ k: Int) -> UInt16 {
            guard k < s.count else { return 1 }
            return s[k] < 128 ? t[Int(s[k])] : 0xFFFF // non-ASCII never occurs in header names
        }
        while level < tables.count {
            if level == tables.count - 1 && i != j { return i > j ? -1 : 1 }
            let w1 = weight(tables[level], l, i), w2 = weight(tables[level], r, j)
            if w1 == 1 && w2 == 1 {
                i = 0; j = 0; level += 1
            } else if w1 == w2 {
                i += 1; j += 1
            } else if w1 == 0 {
                i += 1
            } else if w2 == 0 {
                j += 1
            } else {
                return w1 < w2 ? -1 : 1
            }
        }
        return 0
    }
}
