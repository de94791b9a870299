import RegistrarCore
import RegistrarRuntime

/// `ObjectStorage` in an Azure Blob Storage container
/// (`REGISTRAR_STORAGE_URL=https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME`).
///
/// The same layout as `S3ObjectStorage`: an object is the block blob `PREFIX/KEY`, its metadata
/// (size, SHA-256, content type) the small JSON blob `PREFIX/.meta/KEY`, written after it. The
/// metadata is the commit record: `stat`, `open` and `keys` see only objects that have it, and
/// `delete` removes it first. So a reader never sees half an object.
///
/// Writes below the block threshold are buffered, hashed and sent as one Put Blob whose
/// `Content-MD5` the service verifies; larger ones go up as Put Block calls of threshold-sized
/// blocks (each with its `Content-MD5`) committed by one Put Block List carrying the whole blob's
/// MD5. Nothing is committed before the SHA-256 is known to be the expected one; a failed block
/// write leaves only uncommitted blocks, which are invisible and which the service discards
/// after a week (Azure has no abort call). Reads are ranged GETs whose SHA-256 is checked
/// against the metadata at the end.
///
/// Every request goes through a `RangeFetcher` (the reads' SSRF rules). Credentials come from
/// the azure integration (Shared Key, or its SAS token appended) and never reach an error:
/// messages name the operation, container, blob and HTTP outcome.
///
/// Owned by one thread, like the fetcher it uses.
public final class AzureObjectStorage: ObjectStorage {
    public let requests: AzureStorageRequests
    public var target: AzureStorageTarget { requests.target }
    private let fetcher: RangeFetcher
    private let authenticator: IntegrationAuthenticator
    /// Bytes per ranged GET when reading an object back.
    public var readChunk = 8 << 20
    /// The integration's id: set, uploaded files are registered as their blob URLs read with it.
    public var integrationID: String?

    public init(target: AzureStorageTarget, kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret,
                policy: FetchPolicy) throws {
        do { requests = try AzureStorageRequests(target: target, kind: kind, settings: settings) } catch {
            throw StorageError.unavailable(error.description)
        }
        fetcher = try RangeFetcher(policy: BucketStorageSupport.writePolicy(policy))
        authenticator = IntegrationAuthenticator(kind: kind, settings: settings, secret: secret)
    }

    // MARK: ObjectStorage

    public func write(_ key: ObjectKey, contentType: String, from source: inout some ByteSource, expectedSHA256: String?) throws -> StoredObject {
        let blob = target.blobName(key)
        let threshold = target.blockThreshold
        var hasher = ContentHasher()
        var first = try VerifiedRangeReader.fill(&source, upTo: threshold)
        first.withUnsafeBytes { hasher.update($0) }
        if first.count < threshold {
            // One Put Blob: the whole body is known, so a wrong checksum stores nothing at all.
            let sha = hasher.finalizeHex()
            try check(key, expected: expectedSHA256, actual: sha)
            let auth = try currentAuth()
            _ = try send(build { try requests.putBlob(blob, body: first, contentType: contentType, auth: auth, date: authenticator.now) },
                         what: "writing (Put Blob) \(requests.display(blob))")
            let object = StoredObject(key: key, size: Int64(first.count), sha256: sha, contentType: contentType)
            try writeMeta(object)
            return object
        }
        // Blocks of `threshold` bytes, committed only once the whole content is known and checked.
        let auth = try currentAuth()
        var md5 = AzureBlobMD5()
        var ids: [String] = []
        var total: Int64 = 0
        var block = first
        first = []
        while !block.isEmpty {
            let number = ids.count + 1
            guard number <= 50_000 else { throw StorageError.unavailable("\(requests.display(blob)): more than 50,000 blocks; raise blockMiB") }
            let id = AzureStorageRequests.blockID(number)
            let body = block
            _ = try send(build { try requests.putBlock(blob, blockID: id, body: body, auth: auth, date: authenticator.now) },
                         what: "uploading block \(number) (Put Block) of \(requests.display(blob))")
            md5.update(body)
            ids.append(id)
            total += Int64(body.count)
            block = try VerifiedRangeReader.fill(&source, upTo: threshold)
            block.withUnsafeBytes { hasher.update($0) }
        }
        let sha = hasher.finalizeHex()
        try check(key, expected: expectedSHA256, actual: sha)
        let blobMD5 = md5.finalizeBase64()
        _ = try send(build { try requests.putBlockList(blob, blockIDs: ids, contentType: contentType, blobMD5Base64: blobMD5, auth: auth, date: authenticator.now) },
                     what: "committing \(ids.count) blocks (Put Block List) of \(requests.display(blob))")
        let object = StoredObject(key: key, size: total, sha256: sha, contentType: contentType)
        try writeMeta(object)
        return object
    }

    public func stat(_ key: ObjectKey) throws -> StoredObject? {
        let meta = target.metaName(key)
        let auth = try currentAuth()
        let length = 64 << 10
        let req = try build { try requests.get(meta, start: 0, length: length, auth: auth, date: authenticator.now) }
        guard let r = try sendAllowingNotFound(req, what: "reading the metadata (Get Blob) of \(requests.display(target.blobName(key)))", rangeLength: length) else {
            return nil
        }
        return try BucketStorageSupport.storedObject(key, metadata: r.bytes, shown: requests.display(meta))
    }

    public func open(_ key: ObjectKey) throws -> (object: StoredObject, reader: any ByteSource)? {
        guard let object = try stat(key) else { return nil }
        let blob = target.blobName(key)
        return (object, VerifiedRangeReader(display: requests.display(blob), object: object, chunk: readChunk) { [self] start, length in
            try readRange(blob: blob, start: start, length: length)
        })
    }

    public func delete(_ key: ObjectKey) throws -> Bool {
        let existed = try stat(key) != nil
        let auth = try currentAuth()
        // The metadata first: from then on the object does not exist for readers.
        for (name, what) in [(target.metaName(key), "deleting the metadata (Delete Blob) of"), (target.blobName(key), "deleting (Delete Blob)")] {
            let req = try build { try requests.delete(name, auth: auth, date: authenticator.now) }
            _ = try sendAllowingNotFound(req, what: "\(what) \(requests.display(target.blobName(key)))", rangeLength: 64 << 10)
        }
        return existed
    }

    public func keys(prefix: String) throws -> [ObjectKey] {
        let root = target.metaRoot
        var out: [ObjectKey] = []
        var marker: String?
        repeat {
            let page = try listPage(prefix: root + prefix, marker: marker)
            for o in page.objects where o.key.hasPrefix(root) {
                if let key = ObjectKey(String(o.key.dropFirst(root.count))) { out.append(key) }
            }
            marker = page.nextMarker
        } while marker != nil
        return out.sorted { $0.text < $1.text }
    }

    public func bucketObject(_ key: ObjectKey) -> BucketObjectReference? {
        integrationID.map { BucketObjectReference(url: target.blobURL(target.blobName(key)), integrationID: $0) }
    }

    /// One List Blobs page under a full blob-name prefix (tests look at raw blobs with it).
    public func listPage(prefix: String, marker: String?) throws -> AzureListingPage {
        let auth = try currentAuth()
        let length = 8 << 20
        let r = try send(build { try requests.list(prefix: prefix, marker: marker, rangeLength: length, auth: auth, date: authenticator.now) },
                         what: "listing (List Blobs) \(target.display)/\(prefix)", rangeLength: length)
        switch AzureListingXML.parse(r.bytes) {
        case .success(let page): return page
        case .failure(let e): throw StorageError.unavailable("listing (List Blobs) \(target.display): \(e.message)")
        }
    }

    // MARK: Requests

    /// One ranged GET of a blob's bytes (the reader's step).
    func readRange(blob: String, start: Int64, length: Int) throws -> [UInt8] {
        let auth = try currentAuth()
        let req = try build { try requests.get(blob, start: start, length: length, auth: auth, date: authenticator.now) }
        let r = fetcher.fetch([FetchRequest(id: 0, url: req.url, rangeStart: start, rangeLength: length,
                                            headers: req.headers.map { "\($0.0): \($0.1)" })])[0]
        if let failure = r.failure { throw failureError(failure, r, what: "reading (Get Blob) \(requests.display(blob)) at byte \(start)") }
        guard r.bytesOffset == start else { throw StorageError.unavailable("reading \(requests.display(blob)): asked for byte \(start), got \(r.bytesOffset)") }
        return r.bytes
    }

    private func writeMeta(_ object: StoredObject) throws {
        let json = BucketStorageSupport.metadataBody(object)
        let auth = try currentAuth()
        _ = try send(build { try requests.putBlob(target.metaName(object.key), body: json, contentType: "application/json",
                                                  auth: auth, date: authenticator.now) },
                     what: "writing the metadata (Put Blob) of \(requests.display(target.blobName(object.key)))")
    }

    private func check(_ key: ObjectKey, expected: String?, actual: String) throws {
        if let expected = expected?.lowercased(), expected != actual {
            throw StorageError.checksumMismatch(key: key.text, expected: expected, actual: actual)
        }
    }

    private func currentAuth() throws -> RequestAuth {
        switch authenticator.currentAuth(using: fetcher) {
        case .success(let a):
            switch a {
            case .azureSharedKey, .azureSAS: return a
            default: throw StorageError.unavailable("\(target.display): integration '\(target.integration)' gives \(a) credentials, not an Azure key or SAS")
            }
        case .failure(let f): throw StorageError.unavailable("\(target.display): no credentials from integration '\(target.integration)': \(f.message)")
        }
    }

    /// Runs a request builder, turning a signing failure into a storage error (it holds no secret).
    private func build(_ make: () throws -> AzureStorageRequest) throws -> AzureStorageRequest {
        do { return try make() } catch let e as SigningError { throw StorageError.unavailable("\(target.display): \(e.description)") }
    }

    private func send(_ req: AzureStorageRequest, what: String, rangeLength: Int = 64 << 10) throws -> FetchResult {
        let r = fetcher.fetch([fetchRequest(req, rangeLength: rangeLength)])[0]
        if let failure = r.failure { throw failureError(failure, r, what: what) }
        return r
    }

    /// A request that may find nothing (404): nil then.
    private func sendAllowingNotFound(_ req: AzureStorageRequest, what: String, rangeLength: Int) throws -> FetchResult? {
        let r = fetcher.fetch([fetchRequest(req, rangeLength: rangeLength)])[0]
        if r.failure == .notFound { return nil }
        if let failure = r.failure { throw failureError(failure, r, what: what) }
        return r
    }

    private func fetchRequest(_ req: AzureStorageRequest, rangeLength: Int) -> FetchRequest {
        // "Expect:" off: curl would wait for a 100 Continue before every body over 1 MiB.
        var headers = req.headers.map { "\($0.0): \($0.1)" }
        if req.body != nil { headers.append("Expect:") }
        return FetchRequest(id: 0, url: req.url, rangeLength: rangeLength, headers: headers,
                            postBody: req.body, method: req.method == "GET" ? nil : req.method)
    }

    /// A storage error naming the operation, container and blob and the HTTP outcome; the
    /// fetcher's message already leaves out the URL's query (a SAS), and headers are never in it.
    private func failureError(_ failure: FetchFailure, _ r: FetchResult, what: String) -> StorageError {
        let why: String
        switch failure {
        case .accessDenied:
            why = "access denied (HTTP \(r.status)): check integration '\(target.integration)''s key or SAS and its write permission on container \(target.container)"
        case .notFound: why = "not found (HTTP \(r.status)): does container \(target.container) exist in account \(target.account)?"
        case .destinationForbidden: why = "the endpoint is refused by the address policy (REGISTRAR_FETCH_ALLOW): \(r.message ?? "")"
        default: why = "\(failure.rawValue)" + (r.status > 0 ? " (HTTP \(r.status))" : "") + (r.message.map { ": \($0)" } ?? "")
        }
        return StorageError.unavailable("\(what): \(why)")
    }
}
