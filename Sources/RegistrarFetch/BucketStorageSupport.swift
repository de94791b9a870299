import RegistrarCore
import RegistrarRuntime

/// What the bucket adapters (S3, GCS, Azure) share besides `VerifiedRangeReader`: the fetch
/// policy their writes need, and the metadata object that commits a stored object
/// (`PREFIX/.meta/KEY`, `{size, sha256, contentType}` JSON: docs/storage.md).
enum BucketStorageSupport {
    /// The reads' policy (its SSRF rules unchanged) with room for large bodies: a 64 MiB part
    /// on a slow link takes minutes, which the probe-sized defaults would cut off; no redirects
    /// (a store that redirects a signed write is misconfigured), a few transfers at once.
    static func writePolicy(_ policy: FetchPolicy) -> FetchPolicy {
        var p = policy
        p.totalTimeout = max(p.totalTimeout, 600)
        p.deadline = max(p.deadline, 1800)
        p.followRedirects = false
        p.maxConcurrent = 4
        p.maxPerHost = 4
        return p
    }

    /// The metadata object's body for `object`.
    static func metadataBody(_ object: StoredObject) -> [UInt8] {
        Array(JSONValue.object([("size", .number(String(object.size))), ("sha256", .string(object.sha256)),
                                ("contentType", .string(object.contentType))]).compactText.utf8)
    }

    /// `key`'s stored object from its metadata object's bytes; `shown` names the metadata
    /// object in the error when the bytes are not what Registrar writes.
    static func storedObject(_ key: ObjectKey, metadata bytes: [UInt8], shown: String) throws -> StoredObject {
        guard let v = JSONValue.parse(bytes), let size = v["size"]?.intValue, let sha = v["sha256"]?.stringValue,
              let type = v["contentType"]?.stringValue else {
            throw StorageError.unavailable("\(shown): the metadata object is not {size, sha256, contentType} JSON")
        }
        return StoredObject(key: key, size: Int64(size), sha256: sha, contentType: type)
    }
}
