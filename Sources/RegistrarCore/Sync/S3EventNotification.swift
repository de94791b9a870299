/// One key a bucket notification names.
public struct NotifiedKey: Sendable, Equatable {
    public enum Change: String, Sendable { case created, removed }
    public var change: Change
    /// The object key, URL-decoded (S3 sends keys form-encoded: `+` for space, `%XX`).
    public var key: String
    public var size: Int64?
    public var etag: String?
    public init(change: Change, key: String, size: Int64? = nil, etag: String? = nil) {
        self.change = change
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// Reads S3 / MinIO event notifications (`{"Records": [{"eventName": "ObjectCreated:Put",
/// "s3": {"bucket": {"name"}, "object": {"key", "size", "eTag"}}}]}`). S3's test event
/// (`"Event": "s3:TestEvent"`) reads as no keys. Other event names (restores, replication, …)
/// are ignored; a record that is malformed is refused with its index and field.
public enum S3EventNotification {
    public static let maxRecords = 1000

    public static func parse(_ bytes: [UInt8], bucket: String) -> Result<[NotifiedKey], FieldError> {
        guard let root = JSONValue.parse(bytes), case .object = root else {
            return .failure(FieldError(field: "body", message: "not a JSON object"))
        }
        if case .string(let e)? = root["Event"], e == "s3:TestEvent" { return .success([]) }
        guard case .array(let records)? = root["Records"] else {
            return .failure(FieldError(field: "Records", message: "missing: send the S3 event JSON ({\"Records\": [...]})"))
        }
        guard records.count <= maxRecords else {
            return .failure(FieldError(field: "Records", message: "\(records.count) records; at most \(maxRecords) per notification"))
        }
        var out: [NotifiedKey] = []
        for (i, r) in records.enumerated() {
            let at = "Records[\(i)]"
            guard case .string(let name)? = r["eventName"] else { return .failure(FieldError(field: "\(at).eventName", message: "missing or not a string")) }
            let change: NotifiedKey.Change
            let bare = name.hasPrefix("s3:") ? String(name.dropFirst(3)) : name
            if bare.hasPrefix("ObjectCreated:") { change = .created } else if bare.hasPrefix("ObjectRemoved:") { change = .removed } else { continue }
            guard let s3 = r["s3"], let object = s3["object"], case .string(let rawKey)? = object["key"], !rawKey.isEmpty else {
                return .failure(FieldError(field: "\(at).s3.object.key", message: "missing or empty"))
            }
            if case .string(let b)? = s3["bucket"]?["name"], b != bucket {
                return .failure(FieldError(field: "\(at).s3.bucket.name", message: "'\(b)' is not the synced bucket '\(bucket)'"))
            }
            guard let key = formDecode(rawKey) else {
                return .failure(FieldError(field: "\(at).s3.object.key", message: "not a valid URL-encoded key"))
            }
            var size: Int64?
            if case .number(let n)? = object["size"] { size = Int64(n) }
            var etag: String?
            if case .string(let e)? = object["eTag"] ?? object["etag"] { etag = S3ListingXML.unquoted(e) }
            out.append(NotifiedKey(change: change, key: key, size: size, etag: etag))
        }
        return .success(out)
    }

    /// `application/x-www-form-urlencoded` decoding as S3 applies it to event keys; nil for a
    /// bad escape or bytes that are not UTF-8.
    static func formDecode(_ s: String) -> String? {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x37
            case 0x61...0x66: return c - 0x57
            default: return nil
            }
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "+") { out.append(0x20); i += 1; continue }
            if b[i] == UInt8(ascii: "%") {
                guard i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) else { return nil }
                out.append(h << 4 | l); i += 3; continue
            }
            out.append(b[i]); i += 1
        }
        return String(validating: out, as: UTF8.self)
    }
}
