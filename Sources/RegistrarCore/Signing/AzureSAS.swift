// Azure Blob service SAS (shared access signature) for reading one blob, signed with the
// account key: `sv`, `sr=b`, `sp=r`, `se` (and `st`), `spr`, `sig` — the token the storage SDKs'
// `generate_blob_sas(permission="r")` build. Service version 2020-12-06's string to sign
// (permissions, start, expiry, canonicalized resource, identifier, IP, protocol, version,
// resource, snapshot time, encryption scope, then the five response-header overrides).

/// Read-only service SAS URLs for blobs.
public enum AzureSAS {
    /// The signed service version.
    public static let version = "2020-12-06"

    /// `url` (a blob URL: `https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`, or an
    /// emulator's `ENDPOINT/ACCOUNT/CONTAINER/BLOB`) with a SAS that allows reading it until
    /// `date + expires`. `container` and `blob` are as stored (not percent-encoded).
    public static func readURL(
        _ url: String, container: String, blob: String, credentials: AzureSharedKeyCredentials, date: SigningDate, expires: Int,
        httpsOnly: Bool = false, version: String = AzureSAS.version
    ) throws(SigningError) -> String {
        guard (1...604_800).contains(expires) else { throw .invalidExpiry(expires) }
        guard !credentials.key.isEmpty else { throw .invalidKey }
        _ = try SigningURL(url)
        let expiry = isoSeconds(SigningDate(secondsSince1970: date.secondsSince1970 + Int64(expires)))
        let proto = httpsOnly ? "https" : "https,http"
        let sts = stringToSign(permissions: "r", start: "", expiry: expiry, account: credentials.account, container: container, blob: blob,
                               protocolSet: proto, version: version)
        let sig = SigningBase64.encode(SigningCrypto.hmac(key: credentials.key, sts))
        let enc = { (s: String) in SigningPercentEncoding.encode(s) }
        let query = "sv=\(version)&spr=\(enc(proto))&se=\(enc(expiry))&sr=b&sp=r&sig=\(enc(sig))"
        return url + (url.contains("?") ? "&" : "?") + query
    }

    /// The string to sign of a blob service SAS (version 2020-12-06 and later).
    public static func stringToSign(permissions: String, start: String, expiry: String, account: String, container: String, blob: String,
                                    protocolSet: String, version: String = AzureSAS.version) -> String {
        [permissions, start, expiry, "/blob/\(account)/\(container)/\(blob)", "", "", protocolSet, version, "b", "", "",
         "", "", "", "", ""].joined(separator: "\n")
    }

    /// `yyyy-MM-ddTHH:mm:ssZ`, the SAS time format.
    static func isoSeconds(_ d: SigningDate) -> String {
        let b = Array(d.iso8601Basic.utf8)   // yyyyMMddTHHmmssZ
        func s(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }
        return "\(s(0..<4))-\(s(4..<6))-\(s(6..<8))T\(s(9..<11)):\(s(11..<13)):\(s(13..<15))Z"
    }
}
