import RegistrarCore
import RegistrarRuntime

/// The `BucketReader` adapter: S3 `ListObjectsV2` pages (GCS JSON API pages for gcp integrations) and small whole objects (sidecars) over
/// libcurl, signed with the binding's integration at the moment each request is sent, under
/// the same address policy (SSRF rules) as every object read.
public final class S3BucketReader: BucketReader {
    let fetcher: RangeFetcher
    /// Loads an integration by id (from the store, decrypted).
    public var integrationLoader: ((String) throws -> (kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret))?
    /// Largest listing page body read (a 1,000-key page is ~300 KB).
    public var maxPageBytes = 16 * 1024 * 1024
    private var authenticators: [String: (auth: IntegrationAuthenticator, loadedAt: Double)] = [:]
    /// Listing requests sent (the bench reports them).
    public private(set) var pagesRead = 0

    public init(policy: FetchPolicy) throws {
        fetcher = try RangeFetcher(policy: policy)
    }

    func authenticator(_ id: String) -> Result<IntegrationAuthenticator, BucketListingError> {
        let now = monotonicNow()
        if let cached = authenticators[id], now - cached.loadedAt < 60 { return .success(cached.auth) }
        guard let integrationLoader else { return .failure(BucketListingError(code: "integration_unavailable", message: "this process cannot load integrations")) }
        do {
            let loaded = try integrationLoader(id)
            let a = IntegrationAuthenticator(kind: loaded.kind, settings: loaded.settings, secret: loaded.secret)
            authenticators[id] = (a, now)
            return .success(a)
        } catch {
            return .failure(BucketListingError(code: "integration_unavailable", message: "the binding's integration cannot be used: \(error)"))
        }
    }

    public func listPage(integrationID: String, bucket: String, prefix: String, at position: S3ListRequest.Position) -> Result<S3ListingPage, BucketListingError> {
        if bucket.hasPrefix("https://") { return azureListPage(integrationID: integrationID, containerURL: bucket, prefix: prefix, at: position) }
        let a: IntegrationAuthenticator
        switch authenticator(integrationID) {
        case .failure(let e): return .failure(e)
        case .success(let x): a = x
        }
        let auth: RequestAuth
        switch a.currentAuth(using: fetcher) {
        case .failure(let f): return .failure(BucketListingError(code: f.code.rawValue, message: f.message))
        case .success(let x): auth = x
        }
        // A gcp integration's binding is a gs:// one: the JSON API listing (GCSBucketListing.swift).
        if a.kind == .gcp { return listGCSPage(a, auth: auth, bucket: bucket, prefix: prefix, at: position) }
        let planned: (url: String, headers: [(String, String)])
        switch S3ListRequest.plan(kind: a.kind, settings: a.settings, bucket: bucket, prefix: prefix, at: position, auth: auth, date: a.now) {
        case .failure(let e): return .failure(BucketListingError(code: e.code, message: e.message))
        case .success(let p): planned = p
        }
        pagesRead += 1
        let r = fetcher.fetch([FetchRequest(id: 0, url: planned.url, rangeLength: maxPageBytes, headers: planned.headers.map { "\($0.0): \($0.1)" })])[0]
        if let failure = r.failure {
            return .failure(BucketListingError(code: failure.code.rawValue,
                                               message: "listing s3://\(bucket)/\(prefix) failed (HTTP \(r.status)): \(r.message ?? failure.rawValue)"))
        }
        if r.totalSize == nil && r.declaredSize != nil {
            return .failure(BucketListingError(code: "invalid_response", message: "a listing page of s3://\(bucket)/\(prefix) was larger than \(maxPageBytes) bytes"))
        }
        return S3ListingXML.parse(r.bytes).mapError { BucketListingError(code: "invalid_listing", message: "s3://\(bucket)/\(prefix): \($0.message)") }
    }

    public func read(integrationID: String, url: String, maxBytes: Int) -> Result<[UInt8], BucketListingError> {
        let a: IntegrationAuthenticator
        switch authenticator(integrationID) {
        case .failure(let e): return .failure(e)
        case .success(let x): a = x
        }
        let planned: PlannedRequest
        switch a.currentAuth(using: fetcher).flatMap({ auth in
            a.planner.plan(url, auth: auth, date: a.now, range: "bytes=0-\(maxBytes - 1)").mapError { IntegrationAuthenticator.Failure(code: UnitErrorCode(rawValue: $0.code), message: $0.message) }
        }) {
        case .failure(let f): return .failure(BucketListingError(code: f.code.rawValue, message: f.message))
        case .success(let p): planned = p
        }
        let r = fetcher.fetch([FetchRequest(id: 0, url: planned.url, rangeLength: maxBytes, headers: planned.headers.map { "\($0.0): \($0.1)" })])[0]
        if let failure = r.failure { return .failure(BucketListingError(code: failure.code.rawValue, message: r.message ?? failure.rawValue)) }
        if let total = r.totalSize, total > Int64(maxBytes) {
            return .failure(BucketListingError(code: "too_large", message: "\(total) bytes; at most \(maxBytes)"))
        }
        return .success(r.bytes)
    }

    /// An Azure binding's page: List Blobs from the marker (the position's continuation token),
    /// handed on in the S3 page's shape (the marker as the continuation token).
    func azureListPage(integrationID: String, containerURL: String, prefix: String, at position: S3ListRequest.Position) -> Result<S3ListingPage, BucketListingError> {
        let shown = "\(containerURL)/\(prefix)"
        guard position.startAfter == nil || position.continuationToken != nil else {
            return .failure(BucketListingError(code: "unsupported_listing", message: "\(shown): Azure List Blobs cannot start after a name"))
        }
        let a: IntegrationAuthenticator
        switch authenticator(integrationID) {
        case .failure(let e): return .failure(e)
        case .success(let x): a = x
        }
        let auth: RequestAuth
        switch a.currentAuth(using: fetcher) {
        case .failure(let f): return .failure(BucketListingError(code: f.code.rawValue, message: f.message))
        case .success(let x): auth = x
        }
        let planned: (url: String, headers: [(String, String)])
        switch AzureListRequest.plan(kind: a.kind, settings: a.settings, containerURL: containerURL, prefix: prefix, marker: position.continuationToken,
                                     rangeLength: maxPageBytes, auth: auth, date: a.now) {
        case .failure(let e): return .failure(BucketListingError(code: e.code, message: e.message))
        case .success(let p): planned = p
        }
        pagesRead += 1
        let r = fetcher.fetch([FetchRequest(id: 0, url: planned.url, rangeLength: maxPageBytes, headers: planned.headers.map { "\($0.0): \($0.1)" })])[0]
        if let failure = r.failure {
            return .failure(BucketListingError(code: failure.code.rawValue, message: "listing \(shown) failed (HTTP \(r.status)): \(r.message ?? failure.rawValue)"))
        }
        if r.totalSize == nil && r.declaredSize != nil {
            return .failure(BucketListingError(code: "invalid_response", message: "a listing page of \(shown) was larger than \(maxPageBytes) bytes"))
        }
        return AzureListingXML.parse(r.bytes)
            .map { S3ListingPage(objects: $0.objects, isTruncated: $0.nextMarker != nil, nextContinuationToken: $0.nextMarker) }
            .mapError { BucketListingError(code: "invalid_listing", message: "\(shown): \($0.message)") }
    }
}
