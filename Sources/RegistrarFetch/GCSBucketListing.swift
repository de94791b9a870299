import RegistrarCore
import RegistrarRuntime

extension S3BucketReader {
    /// One page of a gs:// binding's listing: the JSON API's object list at
    /// `https://storage.googleapis.com` (or the integration's endpoint), with the service
    /// account's bearer token, under the same address policy as every read. A token the store
    /// refuses with 401 is exchanged again once.
    func listGCSPage(_ a: IntegrationAuthenticator, auth: RequestAuth, bucket: String, prefix: String,
                     at position: S3ListRequest.Position) -> Result<S3ListingPage, BucketListingError> {
        let shown = "gs://\(bucket)/\(prefix)"
        let base = a.planner.trimmedEndpointForListing ?? "https://storage.googleapis.com"
        let url = GCSListRequest.url(base: base, bucket: bucket, prefix: prefix, at: position)
        var current = auth
        var retried = false
        while true {
            guard case .gcsBearer(let token) = current, let headers = try? GCSBearer.sign(token: token) else {
                return .failure(BucketListingError(code: "unsupported_listing",
                                                   message: "listing \(shown) needs a gcp integration with a service-account key (HMAC keys cannot list through the JSON API)"))
            }
            let r = fetcher.fetch([FetchRequest(id: 0, url: url, rangeLength: maxPageBytes, headers: headers.map { "\($0.0): \($0.1)" })])[0]
            if r.failure == .accessDenied && r.status == 401 && !retried {
                retried = true
                a.invalidateToken()
                switch a.currentAuth(using: fetcher) {
                case .failure(let f): return .failure(BucketListingError(code: f.code.rawValue, message: f.message))
                case .success(let x): current = x
                }
                continue
            }
            if let failure = r.failure {
                return .failure(BucketListingError(code: failure.code.rawValue,
                                                   message: "listing \(shown) failed (HTTP \(r.status)): \(r.message ?? failure.rawValue)"))
            }
            if r.totalSize == nil && r.declaredSize != nil {
                return .failure(BucketListingError(code: "invalid_response", message: "a listing page of \(shown) was larger than \(maxPageBytes) bytes"))
            }
            let excluded = position.continuationToken == nil ? position.startAfter : nil
            return GCSListingJSON.parse(r.bytes, excluding: excluded).mapError { BucketListingError(code: "invalid_listing", message: "\(shown): \($0.message)") }
        }
    }
}

extension IntegrationRequestPlanner {
    /// The integration's endpoint with a scheme and no trailing slash (an emulator), or nil.
    var trimmedEndpointForListing: String? {
        guard var e = settings.endpoint else { return nil }
        if !e.hasPrefix("http://") && !e.hasPrefix("https://") { e = "https://" + e }
        while e.hasSuffix("/") { e.removeLast() }
        return e
    }
}
