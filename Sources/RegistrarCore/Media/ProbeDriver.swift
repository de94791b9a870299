/// Runs a `MediaProber` on one object, reading ranges through a closure — for `registrar probe`
/// and tests. (Workers batch many objects per round instead: `HTTPObjectVerifier`.)
public enum ProbeDriver {
    /// What one read returned.
    public enum Read {
        case bytes([UInt8], offset: Int64, totalSize: Int64?, contentType: String?)
        case failure(code: UnitErrorCode, message: String)
    }

    /// Probes as `type`, or — when nil — as whatever the content is.
    public static func run(type: DataType?, prober: ContentProber, headBytes: Int = 64 * 1024,
                           read: (Int64, Int) -> Read) -> FormatParse {
        var data: ProbeData?
        var contentType: String?
        var next: (Int64, Int) = (0, headBytes)
        var requests = 0
        for _ in 0..<prober.maxRounds {
            requests += 1
            switch read(next.0, next.1) {
            case .failure(let code, let message):
                return .refused(code: code, message: message)
            case .bytes(let bytes, let offset, let total, let type):
                if data == nil {
                    data = ProbeData(head: bytes, totalSize: total)
                    contentType = type
                } else {
                    data!.add(offset: offset, bytes: bytes)
                }
            }
            switch prober.describe(declared: type, data: data!, contentType: contentType) {
            case .described(var info):
                info.probeRequests = requests
                info.probeBytes = data!.bytesRead
                return .described(info)
            case .refused(let code, let message):
                return .refused(code: code, message: message)
            case .needBytes(let offset, let length):
                next = (offset, length)
            }
        }
        return .refused(code: .corrupt, message: "the header could not be read within \(prober.maxRounds) ranged reads")
    }
}
