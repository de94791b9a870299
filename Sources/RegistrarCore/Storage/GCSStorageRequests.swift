import Crypto

// The Cloud Storage XML API requests Registrar's gs:// storage sends (object PUT, the XML
// multipart upload — POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId, DELETE ?uploadId
// — ranged GET, DELETE, the bucket listing), each authorized with the integration's OAuth2
// bearer token, and what is read back from their answers. Pure: the adapter (RegistrarFetch's
// `GCSObjectStorage`) does the I/O and hands in the current token.

/// Builds requests against one bucket, path-style at `https://storage.googleapis.com` or at the
/// integration's `endpoint` (an emulator or private endpoint).
public struct GCSStorageRequests: Sendable {
    public let target: GCSStorageTarget
    /// `https://storage.googleapis.com` or the integration's endpoint, no trailing slash.
    public let base: String

    /// Refuses integrations that are not `gcp` with a service-account key, and buckets the
    /// integration is not allowed to reach.
    public init(target: GCSStorageTarget, kind: IntegrationKind, settings: IntegrationSettings, hasServiceAccountKey: Bool) throws(StorageLocationError) {
        guard kind == .gcp else {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is of kind \(kind.rawValue); gs:// storage needs a gcp integration")
        }
        guard hasServiceAccountKey else {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' holds HMAC keys; gs:// storage writes with a service-account key's OAuth2 token (add the integration from the key file)")
        }
        if let buckets = settings.buckets, !buckets.isEmpty, !buckets.contains(target.bucket) {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is limited to the buckets \(buckets.joined(separator: ", ")), not \(target.bucket)")
        }
        self.target = target
        base = IntegrationRequestPlanner(kind: kind, settings: settings).trimmedEndpoint ?? "https://storage.googleapis.com"
    }

    /// The URL of a full object name, with an optional (already encoded) query.
    public func url(objectName: String, query: String? = nil) -> String {
        "\(base)/\(SigningPercentEncoding.encode(target.bucket))/\(SigningPercentEncoding.encodePath(objectName))" + (query.map { "?" + $0 } ?? "")
    }

    /// The bucket's URL with a query (listings).
    public func bucketURL(query: String) -> String { "\(base)/\(SigningPercentEncoding.encode(target.bucket))?\(query)" }

    // MARK: Requests

    /// An object PUT whose body GCS verifies twice: `Content-MD5` and `x-goog-hash: md5=…`
    /// (a body changed on the way is refused with 400 BadDigest, nothing stored).
    public func put(objectName: String, body: [UInt8], contentType: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        let md5 = Self.md5Base64(body)
        return try request("PUT", url(objectName: objectName), [("Content-Type", contentType), ("Content-MD5", md5), ("x-goog-hash", "md5=\(md5)")],
                           body: body, token: token)
    }

    /// Starts an XML API multipart upload (the answer's `<UploadId>`).
    public func createMultipart(objectName: String, contentType: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        try request("POST", url(objectName: objectName, query: "uploads"), [("Content-Type", contentType)], body: [], token: token)
    }

    /// Part `number` (1…10000), checked by GCS against its `Content-MD5`.
    public func uploadPart(objectName: String, uploadID: String, number: Int, body: [UInt8], token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        let q = "partNumber=\(number)&uploadId=\(SigningPercentEncoding.encode(uploadID))"
        return try request("PUT", url(objectName: objectName, query: q), [("Content-Type", "application/octet-stream"), ("Content-MD5", Self.md5Base64(body))],
                           body: body, token: token)
    }

    /// Completes the upload from its parts' numbers and ETags (each part's ETag is its MD5, so
    /// GCS assembles exactly the bytes we sent).
    public func completeMultipart(objectName: String, uploadID: String, parts: [S3UploadedPart], token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        var xml = "<CompleteMultipartUpload>"
        for p in parts { xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\(S3XML.escape(p.etag))</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        return try request("POST", url(objectName: objectName, query: "uploadId=\(SigningPercentEncoding.encode(uploadID))"),
                           [("Content-Type", "application/xml")], body: Array(xml.utf8), token: token)
    }

    /// Aborts the upload: its parts are discarded.
    public func abortMultipart(objectName: String, uploadID: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        try request("DELETE", url(objectName: objectName, query: "uploadId=\(SigningPercentEncoding.encode(uploadID))"), [], body: nil, token: token)
    }

    /// An object GET (the caller adds the byte range).
    public func get(objectName: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        try request("GET", url(objectName: objectName), [], body: nil, token: token)
    }

    /// An object DELETE (GCS answers 404 for a name that does not exist; the caller treats
    /// that as done).
    public func delete(objectName: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        try request("DELETE", url(objectName: objectName), [], body: nil, token: token)
    }

    /// One page of the XML API's bucket listing (`list-type=2`) under a full name prefix.
    public func list(prefix: String, continuation: String?, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        var q = "list-type=2&prefix=\(SigningPercentEncoding.encode(prefix))"
        if let continuation { q += "&continuation-token=\(SigningPercentEncoding.encode(continuation))" }
        return try request("GET", bucketURL(query: q), [], body: nil, token: token)
    }

    /// The multipart uploads still open under a name prefix (tests and operators).
    public func listMultipartUploads(prefix: String, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        try request("GET", bucketURL(query: "uploads&prefix=\(SigningPercentEncoding.encode(prefix))"), [], body: nil, token: token)
    }

    private func request(_ method: String, _ url: String, _ headers: [(String, String)], body: [UInt8]?, token: GCSAccessToken) throws(SigningError) -> S3StorageRequest {
        S3StorageRequest(method: method, url: url, headers: headers + (try GCSBearer.sign(token: token)), body: body)
    }

    /// Base64 MD5 of a body (`Content-MD5`, `x-goog-hash: md5=`).
    public static func md5Base64(_ body: [UInt8]) -> String { SigningBase64.encode(Array(Insecure.MD5.hash(data: body))) }

    /// Lower-case hex MD5: the ETag GCS gives a part or a single-PUT object.
    public static func md5Hex(_ body: [UInt8]) -> String { SigningHex.encode(Array(Insecure.MD5.hash(data: body))) }
}
