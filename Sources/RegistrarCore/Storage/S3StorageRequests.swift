import Crypto

// The S3 requests Registrar's bucket storage sends (PutObject, the multipart calls, ranged
// GetObject, DeleteObject, ListObjectsV2, ListMultipartUploads), built and SigV4-signed here
// and parsed from their XML answers here. Pure: the adapter (RegistrarFetch's
// `S3ObjectStorage`) does the I/O and hands in credentials and the time.

/// One request to send: method, URL, headers (signature included) and body. `headers` hold the
/// signature: never log them, log `URLRedaction`'s form of `url` instead.
public struct S3StorageRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
}

/// Builds signed requests against one bucket, addressed the way the integration reads it
/// (its endpoint, path style and region).
public struct S3StorageRequests: Sendable {
    public let target: S3StorageTarget
    public let region: String
    private let planner: IntegrationRequestPlanner

    /// Refuses integrations that do not speak S3.
    public init(target: S3StorageTarget, kind: IntegrationKind, settings: IntegrationSettings) throws(StorageLocationError) {
        guard kind == .aws || kind == .s3Compatible else {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is of kind \(kind.rawValue); s3:// storage needs an aws or s3-compatible integration")
        }
        if let buckets = settings.buckets, !buckets.isEmpty, !buckets.contains(target.bucket) {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is limited to the buckets \(buckets.joined(separator: ", ")), not \(target.bucket)")
        }
        self.target = target
        region = settings.region ?? IntegrationRequestPlanner.defaultAWSRegion
        planner = IntegrationRequestPlanner(kind: kind, settings: settings)
    }

    /// The URL of a full S3 key, with an optional (already encoded) query.
    public func url(s3Key: String, query: String? = nil) -> String {
        planner.s3URL(bucket: target.bucket, key: SigningPercentEncoding.encodePath(s3Key), region: region) + (query.map { "?" + $0 } ?? "")
    }

    /// The bucket's URL with a query (ListObjectsV2, ListMultipartUploads).
    public func bucketURL(query: String) -> String {
        var u = planner.s3URL(bucket: target.bucket, key: "", region: region)
        if !u.hasSuffix("/") { u += "/" }
        return u + "?" + query
    }

    // MARK: Requests

    /// PutObject with the body's SHA-256 signed as the payload hash and sent as
    /// `x-amz-checksum-sha256`, and its MD5 as `Content-MD5`: S3 refuses the object (400
    /// BadDigest / XAmzContentSHA256Mismatch) if the bytes it received differ.
    public func put(s3Key: String, body: [UInt8], contentType: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        let sums = Self.checksums(body)
        return try sign("PUT", url(s3Key: s3Key), [("Content-Type", contentType), ("Content-MD5", sums.md5Base64), ("x-amz-checksum-sha256", sums.sha256Base64)],
                        body: body, payloadHash: sums.sha256Hex, credentials: credentials, date: date)
    }

    /// CreateMultipartUpload, declaring SHA-256 part checksums.
    public func createMultipart(s3Key: String, contentType: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        try sign("POST", url(s3Key: s3Key, query: "uploads"), [("Content-Type", contentType), ("x-amz-checksum-algorithm", "SHA256")],
                 body: [], payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    /// UploadPart `number` (1…10000), checksummed like ``put(s3Key:body:contentType:credentials:date:)``.
    public func uploadPart(s3Key: String, uploadID: String, number: Int, body: [UInt8], credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        let sums = Self.checksums(body)
        let q = "partNumber=\(number)&uploadId=\(SigningPercentEncoding.encode(uploadID))"
        return try sign("PUT", url(s3Key: s3Key, query: q),
                        [("Content-Type", "application/octet-stream"), ("Content-MD5", sums.md5Base64), ("x-amz-checksum-sha256", sums.sha256Base64)],
                        body: body, payloadHash: sums.sha256Hex, credentials: credentials, date: date)
    }

    /// CompleteMultipartUpload with every part's ETag and SHA-256.
    public func completeMultipart(s3Key: String, uploadID: String, parts: [S3UploadedPart], credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for p in parts {
            xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\(S3XML.escape(p.etag))</ETag><ChecksumSHA256>\(p.sha256Base64)</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        return try sign("POST", url(s3Key: s3Key, query: "uploadId=\(SigningPercentEncoding.encode(uploadID))"), [("Content-Type", "application/xml")],
                        body: body, payloadHash: SigningRequest.sha256Hex(body), credentials: credentials, date: date)
    }

    /// AbortMultipartUpload: the parts uploaded so far are discarded.
    public func abortMultipart(s3Key: String, uploadID: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        try sign("DELETE", url(s3Key: s3Key, query: "uploadId=\(SigningPercentEncoding.encode(uploadID))"), [],
                 body: nil, payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    /// GetObject (the caller adds the byte range).
    public func get(s3Key: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        try sign("GET", url(s3Key: s3Key), [], body: nil, payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    /// DeleteObject (S3 answers 204 whether or not the key existed).
    public func delete(s3Key: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        try sign("DELETE", url(s3Key: s3Key), [], body: nil, payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    /// ListObjectsV2 under a full S3 key prefix, one page.
    public func list(s3Prefix: String, continuation: String?, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        var q = "list-type=2&prefix=\(SigningPercentEncoding.encode(s3Prefix))"
        if let continuation { q += "&continuation-token=\(SigningPercentEncoding.encode(continuation))" }
        return try sign("GET", bucketURL(query: q), [], body: nil, payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    /// ListMultipartUploads under a full S3 key prefix (tests and operators: nothing half-written).
    public func listMultipartUploads(s3Prefix: String, credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        try sign("GET", bucketURL(query: "prefix=\(SigningPercentEncoding.encode(s3Prefix))&uploads"), [], body: nil,
                 payloadHash: SigningRequest.emptyPayloadHash, credentials: credentials, date: date)
    }

    private func sign(_ method: String, _ url: String, _ headers: [(String, String)], body: [UInt8]?, payloadHash: String,
                      credentials: AWSCredentials, date: SigningDate) throws(SigningError) -> S3StorageRequest {
        let signed = try SigV4.sign(SigningRequest(method: method, url: url, headers: headers, payloadHash: payloadHash),
                                    credentials: credentials, region: region, service: "s3", date: date)
        return S3StorageRequest(method: method, url: url, headers: headers + signed, body: body)
    }

    /// The checksums sent with a body: hex SHA-256 (the signed payload hash), base64 SHA-256
    /// (`x-amz-checksum-sha256`) and base64 MD5 (`Content-MD5`).
    public static func checksums(_ body: [UInt8]) -> (sha256Hex: String, sha256Base64: String, md5Base64: String) {
        let sha = Array(SHA256.hash(data: body))
        return (SigningHex.encode(sha), SigningBase64.encode(sha), SigningBase64.encode(Array(Insecure.MD5.hash(data: body))))
    }
}

/// One uploaded part: its number, the ETag S3 answered and its base64 SHA-256.
public struct S3UploadedPart: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var sha256Base64: String
    public init(number: Int, etag: String, sha256Base64: String) { self.number = number; self.etag = etag; self.sha256Base64 = sha256Base64 }
}

/// The few elements Registrar reads from S3's XML answers. S3's documents are flat enough that
/// a tag scan is exact for these (no element nests inside another of the same name).
public enum S3XML {
    /// Every text of `<tag>…</tag>`, unescaped, in document order.
    public static func values(_ tag: String, in body: [UInt8]) -> [String] {
        let text = String(decoding: body, as: UTF8.self)
        var out: [String] = []
        var rest = Substring(text)
        let open = "<\(tag)>", close = "</\(tag)>"
        while let a = rest.firstRange(of: open), let b = rest[a.upperBound...].firstRange(of: close) {
            out.append(unescape(String(rest[a.upperBound..<b.lowerBound])))
            rest = rest[b.upperBound...]
        }
        return out
    }

    /// The first text of `<tag>`, or nil.
    public static func value(_ tag: String, in body: [UInt8]) -> String? { values(tag, in: body).first }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingAll("&quot;", "\"").replacingAll("&apos;", "'").replacingAll("&lt;", "<").replacingAll("&gt;", ">").replacingAll("&amp;", "&")
    }

    static func escape(_ s: String) -> String {
        s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;").replacingAll("\"", "&quot;")
    }
}

extension String {
    /// Every occurrence of `a` replaced by `b` (Foundation-free).
    fileprivate func replacingAll(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) { out += rest[..<r.lowerBound]; out += b; rest = rest[r.upperBound...] }
        return out + rest
    }
}
