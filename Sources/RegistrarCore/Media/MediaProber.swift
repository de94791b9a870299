/// The seam where media probing plugs in: given the bytes held of one object (and what the
/// server said about it), decide whether it is what the manifest claims and describe it — or
/// name the byte range it needs next. Pure: it asks, it never fetches.
public protocol MediaProber: Sendable {
    /// Ranges a prober may ask for per object, the first (from offset 0) included.
    var maxRounds: Int { get }
    func probe(type: DataType, data: ProbeData, contentType: String?) -> FormatParse
}

/// Reachability only: an object that answered with bytes is accepted, its size and type recorded
/// as the server gave them. Used when content probing is switched off (`worker --probe reachability`).
public struct ReachabilityProber: MediaProber {
    public init() {}
    public var maxRounds: Int { 1 }

    public func probe(type: DataType, data: ProbeData, contentType: String?) -> FormatParse {
        if data.head.isEmpty || data.totalSize == 0 {
            return .refused(code: .emptyObject, message: "the object is empty")
        }
        var info = MediaInfo()
        info.size = data.totalSize
        info.mimeType = contentType
        return .described(info)
    }
}
