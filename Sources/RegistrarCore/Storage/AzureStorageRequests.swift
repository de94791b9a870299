import Crypto

// The Azure Blob requests Registrar's Azure storage sends (Put Blob, Put Block, Put Block List,
// ranged Get Blob, Delete Blob, List Blobs), built and signed here (Shared Key, or the
// integration's SAS appended). Pure: the adapter (RegistrarFetch's `AzureObjectStorage`) does
// the I/O and hands in credentials and the time.

/// One request to send: method, URL, headers (signature included) and body. `url` (a SAS) and
/// `headers` (Shared Key) hold secrets: never log them, log ``AzureStorageRequests/display(_:)``.
public struct AzureStorageRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
}

/// Builds signed requests against one container, addressed the way the integration reads it:
/// `https://ACCOUNT.blob.core.windows.net/CONTAINER/…`, or at the integration's endpoint
/// (`ENDPOINT/ACCOUNT/CONTAINER/…`, the emulators' path style).
public struct AzureStorageRequests: Sendable {
    public let target: AzureStorageTarget
    /// The container's URL, no trailing slash.
    public let containerURL: String
    /// The service version sent (`x-ms-version`).
    public static let apiVersion = AzureSharedKey.defaultAPIVersion

    /// Refuses integrations of another kind, of another account, or limited to other containers.
    public init(target: AzureStorageTarget, kind: IntegrationKind, settings: IntegrationSettings) throws(StorageLocationError) {
        guard kind == .azure else {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is of kind \(kind.rawValue); Azure Blob storage needs an azure integration")
        }
        if let account = settings.account, account != target.account {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is for storage account '\(account)', not '\(target.account)'")
        }
        if let buckets = settings.buckets, !buckets.isEmpty, !buckets.contains(target.container), !buckets.contains("\(target.account)/\(target.container)") {
            throw StorageLocationError("\(target.display): integration '\(target.integration)' is limited to the containers \(buckets.joined(separator: ", ")), not \(target.container)")
        }
        self.target = target
        let planner = IntegrationRequestPlanner(kind: kind, settings: settings)
        if let base = planner.trimmedEndpoint {
            containerURL = "\(base)/\(target.account)/\(target.container)"
        } else {
            containerURL = "https://\(target.host)/\(target.container)"
        }
    }

    /// The URL of a blob (name path-encoded), with an optional (already encoded) query.
    public func url(blob: String, query: String? = nil) -> String {
        "\(containerURL)/\(SigningPercentEncoding.encodePath(blob))" + (query.map { "?" + $0 } ?? "")
    }

    /// `https://host/container/blob`: what messages name (no query, no endpoint secrets).
    public func display(_ blob: String) -> String { "https://\(target.host)/\(target.container)/\(blob)" }

    // MARK: Requests

    /// Put Blob (BlockBlob) with `Content-MD5`: the service refuses the body (400 Md5Mismatch)
    /// if the bytes it received differ, and keeps the MD5 as the blob's Content-MD5.
    public func putBlob(_ blob: String, body: [UInt8], contentType: String, auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        try sign("PUT", url(blob: blob), [("Content-Type", contentType), ("Content-MD5", Self.md5Base64(body)), ("x-ms-blob-type", "BlockBlob")],
                 body: body, auth: auth, date: date)
    }

    /// Put Block: one uncommitted block of a blob, its `Content-MD5` checked by the service.
    public func putBlock(_ blob: String, blockID: String, body: [UInt8], auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        let q = "comp=block&blockid=\(SigningPercentEncoding.encode(blockID))"
        return try sign("PUT", url(blob: blob, query: q), [("Content-Type", "application/octet-stream"), ("Content-MD5", Self.md5Base64(body))],
                        body: body, auth: auth, date: date)
    }

    /// Put Block List: commits the blocks, in order, as the blob; until then no blob exists and
    /// the uncommitted blocks are discarded by the service after a week. The whole blob's MD5 is
    /// stored as its Content-MD5 (`x-ms-blob-content-md5`), as Put Blob does.
    public func putBlockList(_ blob: String, blockIDs: [String], contentType: String, blobMD5Base64: String,
                             auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
        for id in blockIDs { xml += "<Latest>\(id)</Latest>" }
        xml += "</BlockList>"
        let body = Array(xml.utf8)
        return try sign("PUT", url(blob: blob, query: "comp=blocklist"),
                        [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(body)),
                         ("x-ms-blob-content-type", contentType), ("x-ms-blob-content-md5", blobMD5Base64)],
                        body: body, auth: auth, date: date)
    }

    /// Get Blob of `length` bytes from `start`. The fetcher sends `Range: bytes=a-b` itself;
    /// Shared Key signs that header's value, so it is signed here and left out of `headers`.
    public func get(_ blob: String, start: Int64, length: Int, auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        try sign("GET", url(blob: blob), [], signedOnly: [("Range", Self.range(start: start, length: length))], body: nil, auth: auth, date: date)
    }

    /// Delete Blob (404 BlobNotFound when it does not exist).
    public func delete(_ blob: String, auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        try sign("DELETE", url(blob: blob), [], body: nil, auth: auth, date: date)
    }

    /// List Blobs under a blob-name prefix, one page (`maxResults` at most 5000), from `marker`.
    /// The first `rangeLength` bytes are the page: the caller must send the same range it was
    /// signed with.
    public func list(prefix: String, marker: String?, maxResults: Int = 5000, rangeLength: Int, auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        var q = "restype=container&comp=list&prefix=\(SigningPercentEncoding.encode(prefix))&maxresults=\(maxResults)"
        if let marker, !marker.isEmpty { q += "&marker=\(SigningPercentEncoding.encode(marker))" }
        return try sign("GET", containerURL + "?" + q, [], signedOnly: [("Range", Self.range(start: 0, length: rangeLength))], body: nil, auth: auth, date: date)
    }

    /// `bytes=a-b`, exactly as the fetcher (libcurl's `CURLOPT_RANGE`) sends it.
    public static func range(start: Int64, length: Int) -> String { "bytes=\(start)-\(start + Int64(length) - 1)" }

    /// The block id of the `n`-th block (1-based): base64 of a fixed-length text, as Put Block
    /// List wants every id of a blob to be the same length.
    public static func blockID(_ n: Int) -> String {
        let digits = String(n)
        return SigningBase64.encode(Array(("registrar-block-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8))
    }

    /// Base64 MD5 of a body (`Content-MD5`).
    public static func md5Base64(_ body: [UInt8]) -> String { SigningBase64.encode(Array(Insecure.MD5.hash(data: body))) }

    /// Signs with the integration's credentials: Shared Key headers (`signedOnly` headers are
    /// part of the string to sign but sent by the fetcher itself: `Range`, `Content-Length`), or
    /// the SAS token appended to the query.
    private func sign(_ method: String, _ url: String, _ headers: [(String, String)], signedOnly: [(String, String)] = [],
                      body: [UInt8]?, auth: RequestAuth, date: SigningDate) throws(SigningError) -> AzureStorageRequest {
        switch auth {
        case .azureSharedKey(let c):
            var signed = headers + signedOnly
            if let body, !body.isEmpty { signed.append(("Content-Length", String(body.count))) }
            let added = try AzureSharedKey.sign(SigningRequest(method: method, url: url, headers: signed), credentials: c, date: date,
                                                apiVersion: Self.apiVersion)
            return AzureStorageRequest(method: method, url: url, headers: headers + added, body: body)
        case .azureSAS(let sas):
            let joined = url + (url.contains("?") ? "&" : "?") + sas
            return AzureStorageRequest(method: method, url: joined, headers: headers + [("x-ms-version", Self.apiVersion)], body: body)
        default:
            throw .invalidKey
        }
    }
}

/// A running MD5 of a blob written block by block (its Content-MD5, base64).
public struct AzureBlobMD5: Sendable {
    private var md5 = Insecure.MD5()
    public init() {}
    public mutating func update(_ bytes: [UInt8]) { md5.update(data: bytes) }
    public func finalizeBase64() -> String { SigningBase64.encode(Array(md5.finalize())) }
}
