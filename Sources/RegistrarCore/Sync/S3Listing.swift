/// One object from a bucket listing (S3 `ListObjectsV2` `<Contents>`).
public struct ListedObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// The ETag without its quotes (`"abc"` → `abc`); multipart ETags keep their `-N` suffix.
    public var etag: String
    public init(key: String, size: Int64, etag: String) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// One page of an S3 `ListObjectsV2` answer.
public struct S3ListingPage: Sendable, Equatable {
    public var objects: [ListedObject]
    public var isTruncated: Bool
    /// `NextContinuationToken`: where the next page starts (nil on the last page).
    public var nextContinuationToken: String?
    public init(objects: [ListedObject], isTruncated: Bool, nextContinuationToken: String?) {
        self.objects = objects
        self.isTruncated = isTruncated
        self.nextContinuationToken = nextContinuationToken
    }
}

/// Why a listing answer could not be read: names the element and what was wrong.
public struct S3ListingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads S3 `ListObjectsV2` XML (`<ListBucketResult>`) as S3, MinIO and moto write it. Pure and
/// small on purpose: the answer's shape is fixed (a flat list of `<Contents>` with text
/// children), so a full XML parser is not needed; entities (`&amp;`, `&#x…;`) in keys are decoded,
/// CDATA is accepted, and anything malformed is refused with the element it was in.
public enum S3ListingXML {
    public static func parse(_ bytes: [UInt8]) -> Result<S3ListingPage, S3ListingError> {
        var scanner = XMLScanner(bytes)
        var objects: [ListedObject] = []
        var truncated = false
        var token: String?
        var sawRoot = false
        // The element path: only the text of direct children of <ListBucketResult> and of its
        // <Contents> matters.
        var path: [String] = []
        var current: (key: String?, size: Int64?, etag: String?)?
        var text = ""
        while let event = scanner.next() {
            switch event {
            case .failure(let message):
                return .failure(S3ListingError("listing XML: \(message)"))
            case .open(let name):
                if path.isEmpty {
                    if name == "Error" { return .failure(S3ListingError("the store answered with an error document")) }
                    guard name == "ListBucketResult" else { return .failure(S3ListingError("listing XML: the root is <\(name)>, not <ListBucketResult>")) }
                    sawRoot = true
                }
                path.append(name)
                text = ""
                if path.count == 2 && name == "Contents" { current = (nil, nil, nil) }
            case .text(let t):
                text += t
            case .close(let name):
                guard path.last == name else { return .failure(S3ListingError("listing XML: </\(name)> closes <\(path.last ?? "nothing")>")) }
                if path.count == 3 && path[1] == "Contents" {
                    switch name {
                    case "Key": current?.key = text
                    case "Size":
                        guard let n = Int64(text.trimmedSpaces), n >= 0 else {
                            return .failure(S3ListingError("listing XML: <Contents><Size> is '\(text)', not a size"))
                        }
                        current?.size = n
                    case "ETag": current?.etag = unquoted(text.trimmedSpaces)
                    default: break
                    }
                } else if path.count == 2 {
                    switch name {
                    case "IsTruncated": truncated = text.trimmedSpaces == "true"
                    case "NextContinuationToken": token = text
                    case "Contents":
                        guard let c = current, let key = c.key, !key.isEmpty else {
                            return .failure(S3ListingError("listing XML: a <Contents> (the \(objects.count + 1)th) has no <Key>"))
                        }
                        guard let size = c.size else { return .failure(S3ListingError("listing XML: <Contents> of '\(key)' has no <Size>")) }
                        objects.append(ListedObject(key: key, size: size, etag: c.etag ?? ""))
                        current = nil
                    default: break
                    }
                }
                path.removeLast()
                text = ""
            }
        }
        guard sawRoot else { return .failure(S3ListingError("listing XML: no <ListBucketResult>")) }
        guard path.isEmpty else { return .failure(S3ListingError("listing XML: <\(path.last!)> is not closed")) }
        if truncated && (token ?? "").isEmpty {
            return .failure(S3ListingError("listing XML: IsTruncated is true but there is no NextContinuationToken"))
        }
        return .success(S3ListingPage(objects: objects, isTruncated: truncated, nextContinuationToken: truncated ? token : nil))
    }

    static func unquoted(_ s: String) -> String {
        var t = Substring(s)
        if t.hasPrefix("\"") { t = t.dropFirst() }
        if t.hasSuffix("\"") { t = t.dropLast() }
        return String(t)
    }
}

/// A minimal pull scanner over the subset of XML that listing answers use: a prolog, elements
/// without attributes that matter, text with the five entities and numeric references, CDATA
/// and comments.
struct XMLScanner {
    enum Event { case open(String), close(String), text(String), failure(String) }
    let bytes: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> Event? {
        if let p = pendingClose {
            pendingClose = nil
            return .close(p)
        }
        guard i < bytes.count else { return nil }
        if bytes[i] != UInt8(ascii: "<") {
            let start = i
            while i < bytes.count && bytes[i] != UInt8(ascii: "<") { i += 1 }
            guard let decoded = Self.decodeEntities(bytes[start..<i]) else { return .failure("a bad entity in text at byte \(start)") }
            return .text(decoded)
        }
        if starts("<?") { return skip(to: "?>") ?? next() }
        if starts("<!--") { return skip(to: "-->") ?? next() }
        if starts("<![CDATA[") {
            let start = i + 9
            guard let end = find("]]>", from: start) else { return .failure("an unterminated CDATA section") }
            i = end + 3
            return .text(String(decoding: bytes[start..<end], as: UTF8.self))
        }
        if starts("<!") { return skip(to: ">") ?? next() }
        guard let end = find(">", from: i) else { return .failure("an unterminated tag at byte \(i)") }
        var tag = bytes[(i + 1)..<end]
        i = end + 1
        let closing = tag.first == UInt8(ascii: "/")
        if closing { tag = tag.dropFirst() }
        let selfClosing = tag.last == UInt8(ascii: "/")
        if selfClosing { tag = tag.dropLast() }
        let nameEnd = tag.firstIndex { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } ?? tag.endIndex
        let name = String(decoding: tag[tag.startIndex..<nameEnd], as: UTF8.self)
        guard !name.isEmpty else { return .failure("an empty tag name at byte \(end)") }
        if closing { return .close(name) }
        if selfClosing {
            // <Tag/>: an open immediately closed; hand back the open now and the close next.
            pendingClose = name
        }
        return .open(name)
    }

    var pendingClose: String?

    private mutating func skip(to terminator: String) -> Event? {
        guard let end = find(terminator, from: i) else { return .failure("unterminated markup at byte \(i)") }
        i = end + terminator.utf8.count
        return nil
    }

    private func starts(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= bytes.count && Array(bytes[i..<(i + u.count)]) == u
    }

    private func find(_ s: String, from: Int) -> Int? {
        let u = Array(s.utf8)
        var j = from
        while j + u.count <= bytes.count {
            if bytes[j] == u[0] && Array(bytes[j..<(j + u.count)]) == u { return j }
            j += 1
        }
        return nil
    }

    /// Text with `&lt; &gt; &amp; &quot; &apos; &#N; &#xH;` decoded; nil for a malformed reference.
    static func decodeEntities(_ slice: ArraySlice<UInt8>) -> String? {
        guard slice.contains(UInt8(ascii: "&")) else { return String(decoding: slice, as: UTF8.self) }
        var out = ""
        var j = slice.startIndex
        while j < slice.endIndex {
            if slice[j] != UInt8(ascii: "&") {
                let start = j
                while j < slice.endIndex && slice[j] != UInt8(ascii: "&") { j += 1 }
                out += String(decoding: slice[start..<j], as: UTF8.self)
                continue
            }
            guard let semi = slice[j...].firstIndex(of: UInt8(ascii: ";")), semi - j <= 10 else { return nil }
            let name = String(decoding: slice[(j + 1)..<semi], as: UTF8.self)
            switch name {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                guard name.hasPrefix("#") else { return nil }
                let digits = name.dropFirst()
                let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                guard let value, let scalar = Unicode.Scalar(value) else { return nil }
                out.unicodeScalars.append(scalar)
            }
            j = semi + 1
        }
        return out
    }
}
