// Cloud Storage's JSON API object listing for cloud-synced gs:// folders: the page request
// (`GET /storage/v1/b/BUCKET/o?prefix=&pageToken=&maxResults=&startOffset=&fields=`) and the
// page read into the same `S3ListingPage` the S3 listing gives, so the sync's diff, chunks,
// tombstones and re-probes are the S3 ones. Pure: the adapter sends the request with the
// integration's bearer token.

/// Plans one JSON API listing page.
public enum GCSListRequest {
    /// Objects per page: the JSON API's maximum.
    public static let maxResults = 1000
    /// Only what the sync uses (the answer is ~4× smaller than the full resource).
    public static let fields = "nextPageToken,items(name,size,md5Hash,crc32c,etag,generation,updated,contentType)"

    /// The page's URL at `base` (`https://storage.googleapis.com` or the integration's
    /// endpoint). A continuation (`pageToken`) wins over `startAfter`; `startAfter` becomes
    /// `startOffset` (inclusive in GCS: the parser drops that one name).
    public static func url(base: String, bucket: String, prefix: String, at position: S3ListRequest.Position, maxResults: Int = maxResults) -> String {
        var query: [(String, String)] = [("fields", fields), ("maxResults", String(max(1, min(maxResults, Self.maxResults))))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let token = position.continuationToken { query.append(("pageToken", token)) }
        else if let after = position.startAfter { query.append(("startOffset", after)) }
        return "\(base)/storage/v1/b/\(SigningPercentEncoding.encode(bucket))/o?" + query.map { "\($0.0)=\(SigningPercentEncoding.encode($0.1))" }.joined(separator: "&")
    }
}

/// Reads a JSON API `storage#objects` page.
public enum GCSListingJSON {
    /// The page as an `S3ListingPage`: each item's name, size and change tag (see
    /// ``changeTag(md5Hash:crc32c:generation:)``), `nextPageToken` as the continuation. Items
    /// named `excluding` (the `startOffset` of an append-only sync, already seen) are dropped.
    /// Anything malformed is refused naming the item and the field.
    public static func parse(_ bytes: [UInt8], excluding: String? = nil) -> Result<S3ListingPage, S3ListingError> {
        guard let doc = JSONValue.parse(bytes), case .object = doc else { return .failure(S3ListingError("listing JSON: the answer is not a JSON object")) }
        if doc["error"] != nil { return .failure(S3ListingError("the store answered with an error document")) }
        var objects: [ListedObject] = []
        if let items = doc["items"] {
            guard case .array(let list) = items else { return .failure(S3ListingError("listing JSON: items is not an array")) }
            for (i, item) in list.enumerated() {
                guard let name = item["name"]?.stringValue, !name.isEmpty else {
                    return .failure(S3ListingError("listing JSON: item \(i + 1) has no name"))
                }
                // The JSON API writes 64-bit numbers as strings.
                guard let sizeText = item["size"]?.stringValue ?? item["size"].flatMap({ if case .number(let n) = $0 { n } else { nil } }),
                      let size = Int64(sizeText), size >= 0 else {
                    return .failure(S3ListingError("listing JSON: item '\(name)' has no size (or not a number)"))
                }
                if let m = item["md5Hash"]?.stringValue, SigningBase64.decode(m)?.count != 16 {
                    return .failure(S3ListingError("listing JSON: item '\(name)' has an md5Hash that is not 16 bytes of base64"))
                }
                guard let tag = changeTag(md5Hash: item["md5Hash"]?.stringValue, crc32c: item["crc32c"]?.stringValue,
                                          generation: item["generation"]?.stringValue) else {
                    return .failure(S3ListingError("listing JSON: item '\(name)' has neither md5Hash, crc32c nor generation"))
                }
                if name == excluding { continue }
                objects.append(ListedObject(key: name, size: size, etag: tag))
            }
        }
        var token: String?
        if let t = doc["nextPageToken"] {
            guard let s = t.stringValue, !s.isEmpty else { return .failure(S3ListingError("listing JSON: nextPageToken is not a string")) }
            token = s
        }
        return .success(S3ListingPage(objects: objects, isTruncated: token != nil, nextContinuationToken: token))
    }

    /// What a sync compares to see that an object changed, as S3's ETag: the MD5 in lower-case
    /// hex (the same text as the XML API's ETag for a simple object); for composite objects,
    /// which have no MD5, `crc32c:` and the base64 CRC32C; failing both, `generation:` and the
    /// generation (every overwrite makes a new one). Nil when none is given or the MD5 is not
    /// 16 bytes of base64.
    public static func changeTag(md5Hash: String?, crc32c: String?, generation: String?) -> String? {
        if let md5Hash {
            guard let bytes = SigningBase64.decode(md5Hash), bytes.count == 16 else { return nil }
            return SigningHex.encode(bytes)
        }
        if let crc32c, !crc32c.isEmpty { return "crc32c:\(crc32c)" }
        if let generation, !generation.isEmpty { return "generation:\(generation)" }
        return nil
    }
}
