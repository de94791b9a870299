import RegistrarCore
import RegistrarRuntime

/// `ObjectStorage` in an S3 or S3-compatible bucket (`REGISTRAR_STORAGE_URL=s3://BUCKET/PREFIX?integration=NAME`).
///
/// An object is the S3 object `PREFIX/KEY`; its metadata (size, SHA-256, content type) is the
/// small JSON object `PREFIX/.meta/KEY`, written after the object. The metadata is the commit
/// record, as in `LocalObjectStorage`: `stat`, `open` and `keys` see only objects that have it,
/// and `delete` removes it first. So a reader never sees half an object.
///
/// Writes below the multipart threshold are buffered, hashed and sent as one PutObject whose
/// SHA-256 (signed payload hash and `x-amz-checksum-sha256`) and `Content-MD5` S3 verifies;
/// larger ones go up as a multipart upload of threshold-sized parts, each checksummed likewise,
/// and are aborted on any failure (a source that breaks, a refused part, a SHA-256 that is not
/// the expected one), so no parts are left behind. Reads are ranged GETs of `readChunk` bytes
/// whose SHA-256 is checked against the metadata at the end.
///
/// Every request goes through a `RangeFetcher`: the same SSRF rules as object reads (the
/// endpoint must pass the address policy; tests allow loopback explicitly). Credentials come
/// from the integration (`IntegrationAuthenticator`: static keys or an assumed role) and are
/// never put in an error: messages name the bucket and key, not the URL's query or headers.
///
/// Owned by one thread, like the fetcher it uses.
public final class S3ObjectStorage: ObjectStorage {
    public let requests: S3StorageRequests
    public var target: S3StorageTarget { requests.target }
    private let fetcher: RangeFetcher
    private let authenticator: IntegrationAuthenticator
    /// Bytes per ranged GET when reading an object back.
    public var readChunk = 8 << 20
    /// The integration's id: set, uploaded files are registered as `s3://` URLs read with it.
    public var integrationID: String?

    public init(target: S3StorageTarget, kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret,
                policy: FetchPolicy) throws {
        do { requests = try S3StorageRequests(target: target, kind: kind, settings: settings) } catch {
            throw StorageError.unavailable(error.description)
        }
        fetcher = try RangeFetcher(policy: BucketStorageSupport.writePolicy(policy))
        authenticator = IntegrationAuthenticator(kind: kind, settings: settings, secret: secret)
    }

    // MARK: ObjectStorage

    public func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject {
        let s3Key = target.objectKey(key)
        let threshold = target.multipartThreshold
        var hasher = ContentHasher()
        var first = try VerifiedRangeReader.fill(&source, upTo: threshold)
        first.withUnsafeBytes { hasher.update($0) }
        let size: Int64
        if first.count < threshold {
            // One PutObject: the whole body is known, so a wrong checksum stores nothing at all.
            let sha = hasher.finalizeHex()
            try check(key, expected: expectedSHA256, actual: sha)
            let credentials = try awsCredentials()
            _ = try send(build { try requests.put(s3Key: s3Key, body: first, contentType: contentType, credentials: credentials, date: authenticator.now) },
                         what: "writing \(display(s3Key))")
            size = Int64(first.count)
            let object = StoredObject(key: key, size: size, sha256: sha, contentType: contentType)
            try writeMeta(object)
            return object
        }
        // Multipart: parts of `threshold` bytes; any failure aborts the upload.
        let credentials = try awsCredentials()
        let created = try send(build { try requests.createMultipart(s3Key: s3Key, contentType: contentType, credentials: credentials, date: authenticator.now) },
                               what: "starting a multipart upload of \(display(s3Key))")
        guard let uploadID = S3XML.value("UploadId", in: created.bytes), !uploadID.isEmpty else {
            throw StorageError.unavailable("starting a multipart upload of \(display(s3Key)): the answer names no UploadId")
        }
        do {
            var parts: [S3UploadedPart] = []
            var total: Int64 = 0
            var part = first
            first = []
            while !part.isEmpty {
                let number = parts.count + 1
                guard number <= 10_000 else { throw StorageError.unavailable("\(display(s3Key)): more than 10,000 parts; raise multipartMiB") }
                let body = part
                let r = try send(build { try requests.uploadPart(s3Key: s3Key, uploadID: uploadID, number: number, body: body, credentials: credentials, date: authenticator.now) },
                                 what: "uploading part \(number) of \(display(s3Key))")
                guard let etag = r.etag, !etag.isEmpty else { throw StorageError.unavailable("uploading part \(number) of \(display(s3Key)): the answer has no ETag") }
                parts.append(S3UploadedPart(number: number, etag: etag, sha256Base64: S3StorageRequests.checksums(body).sha256Base64))
                total += Int64(body.count)
                part = try VerifiedRangeReader.fill(&source, upTo: threshold)
                part.withUnsafeBytes { hasher.update($0) }
            }
            let sha = hasher.finalizeHex()
            try check(key, expected: expectedSHA256, actual: sha)
            let done = try send(build { try requests.completeMultipart(s3Key: s3Key, uploadID: uploadID, parts: parts, credentials: credentials, date: authenticator.now) },
                                what: "completing the multipart upload of \(display(s3Key))")
            // S3 may answer 200 with an <Error> body to a CompleteMultipartUpload.
            if RangeFetcher.contains(done.bytes, "<Error>") {
                throw StorageError.unavailable("completing the multipart upload of \(display(s3Key)): S3 answered \(S3XML.value("Code", in: done.bytes) ?? "an error")")
            }
            let object = StoredObject(key: key, size: total, sha256: sha, contentType: contentType)
            try writeMeta(object)
            return object
        } catch {
            abort(s3Key: s3Key, uploadID: uploadID, credentials: credentials)
            throw error
        }
    }

    public func stat(_ key: ObjectKey) throws -> StoredObject? {
        let credentials = try awsCredentials()
        let metaKey = target.metaKey(key)
        let r = try sendAllowingNotFound(build { try requests.get(s3Key: metaKey, credentials: credentials, date: authenticator.now) },
                                         what: "reading the metadata of \(display(target.objectKey(key)))", rangeLength: 64 << 10)
        guard let r else { return nil }
        return try BucketStorageSupport.storedObject(key, metadata: r.bytes, shown: display(metaKey))
    }

    public func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)? {
        guard let object = try stat(key) else { return nil }
        let s3Key = target.objectKey(key)
        return (object, VerifiedRangeReader(display: display(s3Key), object: object, chunk: readChunk) { [self] start, length in
            try readRange(s3Key: s3Key, start: start, length: length)
        })
    }

    public func delete(_ key: ObjectKey) throws -> Bool {
        let existed = try stat(key) != nil
        let credentials = try awsCredentials()
        // The metadata first: from then on the object does not exist for readers.
        _ = try send(build { try requests.delete(s3Key: target.metaKey(key), credentials: credentials, date: authenticator.now) },
                     what: "deleting the metadata of \(display(target.objectKey(key)))")
        _ = try send(build { try requests.delete(s3Key: target.objectKey(key), credentials: credentials, date: authenticator.now) },
                     what: "deleting \(display(target.objectKey(key)))")
        return existed
    }

    public func keys(prefix: String) throws -> [ObjectKey] {
        let credentials = try awsCredentials()
        let root = target.metaRoot
        var out: [ObjectKey] = []
        var token: String?
        repeat {
            let continuation = token
            let r = try send(build { try requests.list(s3Prefix: root + prefix, continuation: continuation, credentials: credentials, date: authenticator.now) },
                             what: "listing \(target.display)/\(prefix)", rangeLength: 4 << 20)
            for k in S3XML.values("Key", in: r.bytes) where k.hasPrefix(root) {
                if let key = ObjectKey(String(k.dropFirst(root.count))) { out.append(key) }
            }
            token = S3XML.value("IsTruncated", in: r.bytes) == "true" ? S3XML.value("NextContinuationToken", in: r.bytes) : nil
        } while token != nil
        return out.sorted { $0.text < $1.text }
    }

    /// Multipart uploads still open under the storage's prefix (none, unless a process died
    /// mid-upload: a bucket lifecycle rule `AbortIncompleteMultipartUpload` sweeps those).
    public func openMultipartUploads() throws -> [String] {
        let credentials = try awsCredentials()
        let r = try send(build { try requests.listMultipartUploads(s3Prefix: target.prefix, credentials: credentials, date: authenticator.now) },
                         what: "listing multipart uploads in \(target.display)", rangeLength: 4 << 20)
        return S3XML.values("Key", in: r.bytes)
    }

    public func bucketObject(_ key: ObjectKey) -> BucketObjectReference? {
        integrationID.map { BucketObjectReference(url: "s3://\(target.bucket)/\(target.objectKey(key))", integrationID: $0) }
    }

    // MARK: Requests

    /// One ranged GET of an object's bytes (the reader's step).
    func readRange(s3Key: String, start: Int64, length: Int) throws -> [UInt8] {
        let credentials = try awsCredentials()
        let req = try build { try requests.get(s3Key: s3Key, credentials: credentials, date: authenticator.now) }
        let r = fetcher.fetch([FetchRequest(id: 0, url: req.url, rangeStart: start, rangeLength: length,
                                            headers: req.headers.map { "\($0.0): \($0.1)" })])[0]
        if let failure = r.failure { throw failureError(failure, r, what: "reading \(display(s3Key)) at byte \(start)") }
        guard r.bytesOffset == start else { throw StorageError.unavailable("reading \(display(s3Key)): asked for byte \(start), got \(r.bytesOffset)") }
        return r.bytes
    }

    private func writeMeta(_ object: StoredObject) throws {
        let json = BucketStorageSupport.metadataBody(object)
        let credentials = try awsCredentials()
        _ = try send(build { try requests.put(s3Key: target.metaKey(object.key), body: json, contentType: "application/json",
                                              credentials: credentials, date: authenticator.now) },
                     what: "writing the metadata of \(display(target.objectKey(object.key)))")
    }

    private func abort(s3Key: String, uploadID: String, credentials: AWSCredentials) {
        guard let req = try? requests.abortMultipart(s3Key: s3Key, uploadID: uploadID, credentials: credentials, date: authenticator.now) else { return }
        _ = try? send(req, what: "aborting the multipart upload of \(display(s3Key))")
    }

    private func check(_ key: ObjectKey, expected: String?, actual: String) throws {
        if let expected = expected?.lowercased(), expected != actual {
            throw StorageError.checksumMismatch(key: key.text, expected: expected, actual: actual)
        }
    }

    private func awsCredentials() throws -> AWSCredentials {
        switch authenticator.currentAuth(using: fetcher) {
        case .success(.aws(let c)): return c
        case .success(let other): throw StorageError.unavailable("\(target.display): integration '\(target.integration)' gives \(other) credentials, not AWS keys")
        case .failure(let f): throw StorageError.unavailable("\(target.display): no credentials from integration '\(target.integration)': \(f.message)")
        }
    }

    /// Runs a request builder, turning a signing failure into a storage error (it holds no secret).
    private func build(_ make: () throws -> S3StorageRequest) throws -> S3StorageRequest {
        do { return try make() } catch let e as SigningError { throw StorageError.unavailable("\(target.display): \(e.description)") }
    }

    private func send(_ req: S3StorageRequest, what: String, rangeLength: Int = 64 << 10) throws -> FetchResult {
        let r = fetcher.fetch([fetchRequest(req, rangeLength: rangeLength)])[0]
        if let failure = r.failure { throw failureError(failure, r, what: what) }
        return r
    }

    /// A GET that may find nothing (404): nil then.
    private func sendAllowingNotFound(_ req: S3StorageRequest, what: String, rangeLength: Int) throws -> FetchResult? {
        let r = fetcher.fetch([FetchRequest(id: 0, url: req.url, rangeStart: 0, rangeLength: rangeLength,
                                            headers: req.headers.map { "\($0.0): \($0.1)" })])[0]
        if r.failure == .notFound { return nil }
        if let failure = r.failure { throw failureError(failure, r, what: what) }
        return r
    }

    private func fetchRequest(_ req: S3StorageRequest, rangeLength: Int) -> FetchRequest {
        // "Expect:" off: curl would wait for a 100 Continue before every body over 1 MiB.
        var headers = req.headers.map { "\($0.0): \($0.1)" }
        if req.body != nil { headers.append("Expect:") }
        return FetchRequest(id: 0, url: req.url, rangeLength: rangeLength, headers: headers,
                            postBody: req.body, method: req.method == "GET" ? nil : req.method)
    }

    /// A storage error naming the operation, bucket and key and the HTTP outcome; the fetcher's
    /// message already leaves out the URL's query, and headers are never part of it.
    private func failureError(_ failure: FetchFailure, _ r: FetchResult, what: String) -> StorageError {
        let why: String
        switch failure {
        case .accessDenied: why = "access denied (HTTP \(r.status)): check integration '\(target.integration)''s keys and its write permission on \(target.bucket)"
        case .notFound: why = "not found (HTTP \(r.status)): does bucket \(target.bucket) exist?"
        case .destinationForbidden: why = "the endpoint is refused by the address policy (REGISTRAR_FETCH_ALLOW): \(r.message ?? "")"
        default: why = "\(failure.rawValue)" + (r.status > 0 ? " (HTTP \(r.status))" : "") + (r.message.map { ": \($0)" } ?? "")
        }
        return StorageError.unavailable("\(what): \(why)")
    }

    private func display(_ s3Key: String) -> String { "s3://\(target.bucket)/\(s3Key)" }
}
