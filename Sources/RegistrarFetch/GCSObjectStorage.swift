import RegistrarCore
import RegistrarRuntime

/// `ObjectStorage` in a Google Cloud Storage bucket (`REGISTRAR_STORAGE_URL=gs://BUCKET/PREFIX?integration=NAME`),
/// through the XML API with the `gcp` integration's OAuth2 bearer token.
///
/// The layout is `S3ObjectStorage`'s: an object is `PREFIX/KEY`, its metadata (size, SHA-256,
/// content type) the small JSON object `PREFIX/.meta/KEY`, written after the object and
/// removed first by `delete`. The metadata is the commit record: `stat`, `open` and `keys`
/// see only objects that have it, so a reader never sees half an object.
///
/// Writes below the multipart threshold are buffered, hashed and sent as one PUT with
/// `Content-MD5` and `x-goog-hash: md5=` (GCS refuses a body that does not match); larger ones
/// go up as an XML API multipart upload of threshold-sized parts, each with its `Content-MD5`
/// and its answered ETag checked against the MD5 we computed, aborted on any failure. Reads are
/// ranged GETs whose SHA-256 is checked against the metadata at the end.
///
/// The token comes from the integration's service-account key (`IntegrationAuthenticator`,
/// scope `devstorage.read_write`), is cached until five minutes before it expires, and is
/// exchanged again once when the store answers 401 (revoked or expired early). Every request,
/// the token exchange included, goes through a `RangeFetcher` under the reads' address policy.
/// Errors name the operation, bucket, key and HTTP outcome, never the token.
///
/// Owned by one thread, like the fetcher it uses.
public final class GCSObjectStorage: ObjectStorage {
    public let requests: GCSStorageRequests
    public var target: GCSStorageTarget { requests.target }
    private let fetcher: RangeFetcher
    /// The integration's credentials (tests read `exchanges` to check the token caching).
    public let authenticator: IntegrationAuthenticator
    /// Bytes per ranged GET when reading an object back.
    public var readChunk = 8 << 20
    /// The integration's id: set, uploaded files are registered as `gs://` URLs read with it.
    public var integrationID: String?

    public init(target: GCSStorageTarget, kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret,
                policy: FetchPolicy, clock: @escaping () -> SigningDate = IntegrationAuthenticator.systemClock) throws {
        var serviceAccount = false
        if case .gcpServiceAccount = secret { serviceAccount = true }
        do { requests = try GCSStorageRequests(target: target, kind: kind, settings: settings, hasServiceAccountKey: serviceAccount) } catch {
            throw StorageError.unavailable(error.description)
        }
        fetcher = try RangeFetcher(policy: BucketStorageSupport.writePolicy(policy))
        authenticator = IntegrationAuthenticator(kind: kind, settings: settings, secret: secret, clock: clock)
        authenticator.gcpScope = ServiceAccountJWT.readWriteScope
    }

    // MARK: ObjectStorage

    public func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject {
        let name = target.objectKey(key)
        let threshold = target.multipartThreshold
        var hasher = ContentHasher()
        var first = try VerifiedRangeReader.fill(&source, upTo: threshold)
        first.withUnsafeBytes { hasher.update($0) }
        if first.count < threshold {
            // One PUT: the whole body is known, so a wrong checksum stores nothing at all.
            let sha = hasher.finalizeHex()
            try check(key, expected: expectedSHA256, actual: sha)
            let body = first
            _ = try send(what: "writing \(display(name))") { try requests.put(objectName: name, body: body, contentType: contentType, token: $0) }
            let object = StoredObject(key: key, size: Int64(first.count), sha256: sha, contentType: contentType)
            try writeMeta(object)
            return object
        }
        // Multipart: parts of `threshold` bytes; any failure aborts the upload.
        let created = try send(what: "starting a multipart upload of \(display(name))") { try requests.createMultipart(objectName: name, contentType: contentType, token: $0) }
        guard let uploadID = S3XML.value("UploadId", in: created.bytes), !uploadID.isEmpty else {
            throw StorageError.unavailable("starting a multipart upload of \(display(name)): the answer has no UploadId")
        }
        do {
            var parts: [S3UploadedPart] = []
            var total: Int64 = 0
            var part = first
            first = []
            while !part.isEmpty {
                let number = parts.count + 1
                guard number <= 10_000 else { throw StorageError.unavailable("\(display(name)): more than 10,000 parts; raise multipartMiB") }
                let body = part
                let r = try send(what: "uploading part \(number) of \(display(name))") {
                    try requests.uploadPart(objectName: name, uploadID: uploadID, number: number, body: body, token: $0)
                }
                // A part's ETag is the MD5 of the bytes GCS kept: one that is not ours is refused.
                let md5 = GCSStorageRequests.md5Hex(body)
                guard let etag = r.etag, !etag.isEmpty else { throw StorageError.unavailable("uploading part \(number) of \(display(name)): the answer has no ETag") }
                guard etag.trimmingQuotes.lowercased() == md5 else {
                    throw StorageError.unavailable("uploading part \(number) of \(display(name)): GCS kept bytes whose MD5 is \(etag.trimmingQuotes), sent \(md5)")
                }
                parts.append(S3UploadedPart(number: number, etag: etag, sha256Base64: ""))
                total += Int64(body.count)
                part = try VerifiedRangeReader.fill(&source, upTo: threshold)
                part.withUnsafeBytes { hasher.update($0) }
            }
            let sha = hasher.finalizeHex()
            try check(key, expected: expectedSHA256, actual: sha)
            let list = parts
            let done = try send(what: "completing the multipart upload of \(display(name))") {
                try requests.completeMultipart(objectName: name, uploadID: uploadID, parts: list, token: $0)
            }
            if RangeFetcher.contains(done.bytes, "<Error>") {
                throw StorageError.unavailable("completing the multipart upload of \(display(name)): GCS answered \(S3XML.value("Code", in: done.bytes) ?? "an error")")
            }
            let object = StoredObject(key: key, size: total, sha256: sha, contentType: contentType)
            try writeMeta(object)
            return object
        } catch {
            _ = try? send(what: "aborting the multipart upload of \(display(name))") { try requests.abortMultipart(objectName: name, uploadID: uploadID, token: $0) }
            throw error
        }
    }

    public func stat(_ key: ObjectKey) throws -> StoredObject? {
        let metaKey = target.metaKey(key)
        let r = try send(what: "reading the metadata of \(display(target.objectKey(key)))", rangeLength: 64 << 10, allowNotFound: true) {
            try requests.get(objectName: metaKey, token: $0)
        }
        guard let r else { return nil }
        return try BucketStorageSupport.storedObject(key, metadata: r.bytes, shown: display(metaKey))
    }

    public func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)? {
        guard let object = try stat(key) else { return nil }
        let name = target.objectKey(key)
        return (object, VerifiedRangeReader(display: display(name), object: object, chunk: readChunk) { [self] start, length in
            try readRange(name: name, start: start, length: length)
        })
    }

    public func delete(_ key: ObjectKey) throws -> Bool {
        let existed = try stat(key) != nil
        let name = target.objectKey(key), meta = target.metaKey(key)
        // The metadata first: from then on the object does not exist for readers. GCS answers
        // 404 for a name already gone, which is what a delete wants.
        _ = try send(what: "deleting the metadata of \(display(name))", allowNotFound: true) { try requests.delete(objectName: meta, token: $0) }
        _ = try send(what: "deleting \(display(name))", allowNotFound: true) { try requests.delete(objectName: name, token: $0) }
        return existed
    }

    public func keys(prefix: String) throws -> [ObjectKey] {
        let root = target.metaRoot
        var out: [ObjectKey] = []
        var token: String?
        repeat {
            let continuation = token
            let r = try send(what: "listing \(target.display)/\(prefix)", rangeLength: 4 << 20) {
                try requests.list(prefix: root + prefix, continuation: continuation, token: $0)
            }
            for k in S3XML.values("Key", in: r.bytes) where k.hasPrefix(root) {
                if let key = ObjectKey(String(k.dropFirst(root.count))) { out.append(key) }
            }
            token = S3XML.value("IsTruncated", in: r.bytes) == "true" ? S3XML.value("NextContinuationToken", in: r.bytes) : nil
        } while token != nil
        return out.sorted { $0.text < $1.text }
    }

    /// Multipart uploads still open under the storage's prefix (none, unless a process died
    /// mid-upload: a bucket lifecycle rule "abort incomplete multipart uploads" sweeps those).
    public func openMultipartUploads() throws -> [String] {
        let r = try send(what: "listing multipart uploads in \(target.display)", rangeLength: 4 << 20) {
            try requests.listMultipartUploads(prefix: target.prefix, token: $0)
        }
        return S3XML.values("Key", in: r.bytes)
    }

    public func bucketObject(_ key: ObjectKey) -> BucketObjectReference? {
        integrationID.map { BucketObjectReference(url: "gs://\(target.bucket)/\(target.objectKey(key))", integrationID: $0) }
    }

    // MARK: Requests

    /// One ranged GET of an object's bytes (the reader's step).
    func readRange(name: String, start: Int64, length: Int) throws -> [UInt8] {
        let r = try send(what: "reading \(display(name)) at byte \(start)", rangeStart: start, rangeLength: length) { try requests.get(objectName: name, token: $0) }
        guard r.bytesOffset == start else { throw StorageError.unavailable("reading \(display(name)): asked for byte \(start), got \(r.bytesOffset)") }
        return r.bytes
    }

    private func writeMeta(_ object: StoredObject) throws {
        let json = BucketStorageSupport.metadataBody(object)
        let meta = target.metaKey(object.key)
        _ = try send(what: "writing the metadata of \(display(target.objectKey(object.key)))") {
            try requests.put(objectName: meta, body: json, contentType: "application/json", token: $0)
        }
    }

    private func check(_ key: ObjectKey, expected: String?, actual: String) throws {
        if let expected = expected?.lowercased(), expected != actual {
            throw StorageError.checksumMismatch(key: key.text, expected: expected, actual: actual)
        }
    }

    /// The current access token (exchanged and cached by the authenticator).
    private func bearer() throws -> GCSAccessToken {
        switch authenticator.currentAuth(using: fetcher) {
        case .success(.gcsBearer(let t)): return t
        case .success(let other): throw StorageError.unavailable("\(target.display): integration '\(target.integration)' gives \(other) credentials, not a service-account token")
        case .failure(let f): throw StorageError.unavailable("\(target.display): no access token from integration '\(target.integration)': \(f.message)")
        }
    }

    private func send(what: String, rangeStart: Int64 = 0, rangeLength: Int = 64 << 10,
                      _ make: (GCSAccessToken) throws -> S3StorageRequest) throws -> FetchResult {
        // allowNotFound false: a result is always returned or an error thrown.
        try send(what: what, rangeStart: rangeStart, rangeLength: rangeLength, allowNotFound: false, make)!
    }

    /// Sends a request built with the current token; a 401 drops the cached token and the
    /// request is sent once more with a fresh one. With `allowNotFound`, a 404 answers nil.
    private func send(what: String, rangeStart: Int64 = 0, rangeLength: Int = 64 << 10, allowNotFound: Bool,
                      _ make: (GCSAccessToken) throws -> S3StorageRequest) throws -> FetchResult? {
        var retried = false
        while true {
            let req: S3StorageRequest
            do { req = try make(try bearer()) } catch let e as SigningError {
                throw StorageError.unavailable("\(target.display): the access token cannot be sent (\(e.description))")
            }
            var headers = req.headers.map { "\($0.0): \($0.1)" }
            // "Expect:" off: curl would wait for a 100 Continue before every body over 1 MiB.
            if req.body != nil { headers.append("Expect:") }
            let r = fetcher.fetch([FetchRequest(id: 0, url: req.url, rangeStart: rangeStart, rangeLength: rangeLength, headers: headers,
                                                postBody: req.body, method: req.method == "GET" ? nil : req.method)])[0]
            if r.failure == .accessDenied && r.status == 401 && !retried {
                retried = true
                authenticator.invalidateToken()
                continue
            }
            if r.failure == .notFound && allowNotFound { return nil }
            if let failure = r.failure { throw failureError(failure, r, what: what) }
            return r
        }
    }

    /// A storage error naming the operation, bucket and key and the HTTP outcome; the fetcher's
    /// message leaves out the URL's query, and headers (the token) are never part of it.
    private func failureError(_ failure: FetchFailure, _ r: FetchResult, what: String) -> StorageError {
        let why: String
        switch failure {
        case .accessDenied where r.status == 401:
            why = "unauthorized (HTTP 401) even with a freshly exchanged token: check integration '\(target.integration)''s service account"
        case .accessDenied:
            why = "access denied (HTTP \(r.status)): check that integration '\(target.integration)''s service account may write to \(target.bucket) (roles/storage.objectAdmin)"
        case .notFound: why = "not found (HTTP \(r.status)): does bucket \(target.bucket) exist?"
        case .destinationForbidden: why = "the endpoint is refused by the address policy (REGISTRAR_FETCH_ALLOW): \(r.message ?? "")"
        case .httpError where r.status == 400:
            why = "refused (HTTP 400): GCS rejected the request (a body whose Content-MD5 does not match is refused so)"
        default: why = "\(failure.rawValue)" + (r.status > 0 ? " (HTTP \(r.status))" : "") + (r.message.map { ": \($0)" } ?? "")
        }
        return StorageError.unavailable("\(what): \(why)")
    }

    private func display(_ name: String) -> String { "gs://\(target.bucket)/\(name)" }
}

extension String {
    /// Without the double quotes an ETag header carries.
    fileprivate var trimmingQuotes: String {
        var s = Substring(self)
        if s.hasPrefix("W/") { s = s.dropFirst(2) }
        while s.hasPrefix("\"") { s = s.dropFirst() }
        while s.hasSuffix("\"") { s = s.dropLast() }
        return String(s)
    }
}
