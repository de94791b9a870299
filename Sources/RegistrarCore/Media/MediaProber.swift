/// The seam where media probing plugs in: given the first bytes of an object (and what the
/// server said about it), decide whether it is what the manifest claims and describe it.
/// Pure: it asks for nothing and does no I/O.
public protocol MediaProber: Sendable {
    func probe(type: DataType, head: [UInt8], totalSize: Int64?, contentType: String?) -> ProbeOutcome
}

public enum ProbeOutcome: Sendable, Equatable {
    case described(MediaInfo)
    case refused(code: String, message: String)
}

/// Reachability only: an object that answered with bytes is accepted, its size, type and ETag
/// recorded as the server gave them. Header parsing per format replaces this in the media
/// probing layer.
public struct ReachabilityProber: MediaProber {
    public init() {}

    public func probe(type: DataType, head: [UInt8], totalSize: Int64?, contentType: String?) -> ProbeOutcome {
        if head.isEmpty || totalSize == 0 {
            return .refused(code: "empty_object", message: "the object is empty")
        }
        var info = MediaInfo()
        info.size = totalSize
        info.mimeType = contentType
        return .described(info)
    }
}
