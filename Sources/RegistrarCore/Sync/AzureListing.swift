/// One page of an Azure Blob `List Blobs` answer (`<EnumerationResults>`).
public struct AzureListingPage: Sendable, Equatable {
    /// The blobs in name order. `etag` holds the change marker a sync compares: the blob's
    /// `Content-MD5` (base64) when it has one — the content's own hash, as an S3 single-part
    /// ETag is — else its `Etag` (which changes on every write).
    public var objects: [ListedObject]
    /// `NextMarker`: where the next page starts (nil on the last page).
    public var nextMarker: String?
    public init(objects: [ListedObject], nextMarker: String?) {
        self.objects = objects
        self.nextMarker = nextMarker
    }
}

/// Reads Azure Blob `List Blobs` XML (`?restype=container&comp=list`) as the service writes it:
/// `<EnumerationResults><Blobs><Blob><Name>…</Name><Properties><Content-Length>…`
/// `<Content-MD5>…<Etag>…</Properties></Blob>…</Blobs><NextMarker>…</NextMarker>`. Pure, on the
/// same small scanner as ``S3ListingXML``; `<BlobPrefix>` entries (a delimiter listing) are
/// skipped, and anything malformed is refused with the element it was in.
public enum AzureListingXML {
    public static func parse(_ bytes: [UInt8]) -> Result<AzureListingPage, S3ListingError> {
        var scanner = XMLScanner(bytes)
        var objects: [ListedObject] = []
        var marker: String?
        var sawRoot = false
        var path: [String] = []
        var current: (name: String?, size: Int64?, etag: String?, md5: String?)?
        var text = ""
        while let event = scanner.next() {
            switch event {
            case .failure(let message):
                return .failure(S3ListingError("listing XML: \(message)"))
            case .open(let name):
                if path.isEmpty {
                    if name == "Error" { return .failure(S3ListingError("the store answered with an error document")) }
                    guard name == "EnumerationResults" else {
                        return .failure(S3ListingError("listing XML: the root is <\(name)>, not <EnumerationResults>"))
                    }
                    sawRoot = true
                }
                path.append(name)
                text = ""
                if path.count == 3 && path[1] == "Blobs" && name == "Blob" { current = (nil, nil, nil, nil) }
            case .text(let t):
                text += t
            case .close(let name):
                guard path.last == name else { return .failure(S3ListingError("listing XML: </\(name)> closes <\(path.last ?? "nothing")>")) }
                let inBlob = path.count >= 3 && path[1] == "Blobs" && path[2] == "Blob"
                if inBlob && path.count == 4 && name == "Name" {
                    current?.name = text
                } else if inBlob && path.count == 5 && path[3] == "Properties" {
                    switch name {
                    case "Content-Length":
                        guard let n = Int64(text.trimmedSpaces), n >= 0 else {
                            return .failure(S3ListingError("listing XML: <Blob><Properties><Content-Length> of '\(current?.name ?? "?")' is '\(text)', not a size"))
                        }
                        current?.size = n
                    case "Etag": current?.etag = S3ListingXML.unquoted(text.trimmedSpaces)
                    case "Content-MD5": current?.md5 = text.trimmedSpaces
                    default: break
                    }
                } else if inBlob && path.count == 3 {
                    guard let c = current, let blob = c.name, !blob.isEmpty else {
                        return .failure(S3ListingError("listing XML: a <Blob> (the \(objects.count + 1)th) has no <Name>"))
                    }
                    guard let size = c.size else { return .failure(S3ListingError("listing XML: <Blob> '\(blob)' has no <Content-Length>")) }
                    let md5 = c.md5 ?? ""
                    objects.append(ListedObject(key: blob, size: size, etag: md5.isEmpty ? (c.etag ?? "") : md5))
                    current = nil
                } else if path.count == 2 && name == "NextMarker" {
                    marker = text.trimmedSpaces
                }
                path.removeLast()
                text = ""
            }
        }
        guard sawRoot else { return .failure(S3ListingError("listing XML: no <EnumerationResults>")) }
        guard path.isEmpty else { return .failure(S3ListingError("listing XML: <\(path.last!)> is not closed")) }
        return .success(AzureListingPage(objects: objects, nextMarker: (marker ?? "").isEmpty ? nil : marker))
    }
}
