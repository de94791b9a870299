/// A streaming `multipart/form-data` reader (RFC 7578): fed the body in pieces of any size,
/// it reports each part's headers, then its content in pieces, then its end — never holding
/// more than one piece plus a boundary's length, so a many-gigabyte part streams through.
/// Pure: the API feeds it request chunks and writes the content where it belongs.
public struct MultipartReader {
    public enum Event: Equatable {
        /// A part starts; header names lower-cased.
        case part(headers: [String: String])
        case content([UInt8])
        /// The current part is complete (its closing boundary was seen).
        case partEnd
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private enum State { case preamble, headers, content, done }
    private let delimiter: [UInt8]      // "\r\n--" + boundary
    private var buffer: [UInt8] = []
    private var state = State.preamble
    /// Bytes of headers read for the current part (capped).
    static let maxHeaderBytes = 16 << 10

    /// The boundary from a Content-Type such as `multipart/form-data; boundary=XyZ`; nil when
    /// the type is not multipart/form-data or has no usable boundary.
    public static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        let parts = contentType.split(separator: ";").map { $0.trimmedSpaces }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var b = String(p.dropFirst(9))
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            return (1...70).contains(b.utf8.count) ? b : nil
        }
        return nil
    }

    public init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first boundary may start the body without the CRLF before it.
        buffer = Array("\r\n".utf8)
    }

    public var isFinished: Bool { state == .done }

    /// Feeds more body bytes; returns what they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        while true {
            switch state {
            case .done:
                buffer.removeAll()
                return events
            case .preamble:
                guard let at = find(delimiter, in: buffer, from: 0) else {
                    // Keep only what could still begin the delimiter.
                    if buffer.count > delimiter.count { buffer.removeFirst(buffer.count - delimiter.count) }
                    return events
                }
                guard let after = try afterDelimiter(at) else { return events }
                if after == -1 { state = .done; continue }
                buffer.removeFirst(after)
                state = .headers
            case .headers:
                guard let end = find(Array("\r\n\r\n".utf8), in: buffer, from: 0) else {
                    if buffer.count > Self.maxHeaderBytes { throw Failure(message: "a part's headers are longer than \(Self.maxHeaderBytes) bytes") }
                    return events
                }
                events.append(.part(headers: Self.parseHeaders(Array(buffer[0..<end]))))
                buffer.removeFirst(end + 4)
                state = .content
            case .content:
                if let at = find(delimiter, in: buffer, from: 0) {
                    guard let after = try afterDelimiter(at) else {
                        if at > 0 { events.append(.content(Array(buffer[0..<at]))); buffer.removeFirst(at) }
                        return events
                    }
                    if at > 0 { events.append(.content(Array(buffer[0..<at]))) }
                    events.append(.partEnd)
                    if after == -1 { state = .done; continue }
                    buffer.removeFirst(after)
                    state = .headers
                } else {
                    // Everything but a possible delimiter prefix at the end is content.
                    let keep = min(buffer.count, delimiter.count - 1)
                    let safe = buffer.count - keep
                    if safe > 0 { events.append(.content(Array(buffer[0..<safe]))); buffer.removeFirst(safe) }
                    return events
                }
            }
        }
    }

    /// The body ended: it must have ended with the closing boundary.
    public func finish() throws {
        guard state == .done else {
            throw Failure(message: state == .content ? "the body ended inside a part (truncated upload)" : "the body ended before the closing boundary")
        }
    }

    /// Where the next part begins after the delimiter at `at` (past its line's CRLF), -1 for the
    /// closing `--`, nil when more bytes are needed to tell.
    private func afterDelimiter(_ at: Int) throws -> Int? {
        let rest = at + delimiter.count
        guard buffer.count >= rest + 2 else { return nil }
        if buffer[rest] == UInt8(ascii: "-") && buffer[rest + 1] == UInt8(ascii: "-") { return -1 }
        // Transport padding (spaces/tabs) may follow the boundary before its CRLF.
        var i = rest
        while i < buffer.count, buffer[i] == 0x20 || buffer[i] == 0x09 { i += 1 }
        guard buffer.count >= i + 2 else { return nil }
        guard buffer[i] == 0x0D, buffer[i + 1] == 0x0A else { throw Failure(message: "a boundary line is followed by something other than CRLF") }
        return i + 2
    }

    private func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count else { return nil }
        let first = needle[0]
        var i = from
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func parseHeaders(_ bytes: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[line[..<colon].trimmedSpaces.lowercased()] = line[line.index(after: colon)...].trimmedSpaces
        }
        return out
    }

    /// `filename` (or `filename*=UTF-8''…`, percent-decoded) and `name` of a Content-Disposition.
    public static func disposition(_ value: String?) -> (name: String?, fileName: String?) {
        guard let value else { return (nil, nil) }
        var name: String?, fileName: String?
        for raw in value.split(separator: ";").dropFirst() {
            let p = raw.trimmedSpaces
            guard let eq = p.firstIndex(of: "=") else { continue }
            let k = p[..<eq].lowercased()
            var v = String(p[p.index(after: eq)...])
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            switch k {
            case "name": name = v
            case "filename": if fileName == nil { fileName = v }
            case "filename*":
                // charset'language'value: the value follows the second quote.
                let quoted = v.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if quoted.count == 3 { fileName = String(quoted[2]).removingPercentEncodingSimple() }
            default: break
            }
        }
        return (name, fileName)
    }
}

extension String {
    /// Percent-decoding without Foundation (invalid escapes kept as written).
    func removingPercentEncodingSimple() -> String {
        var out: [UInt8] = []
        let b = Array(utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = URLKey.hexValue(b[i + 1]), let l = URLKey.hexValue(b[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else { out.append(b[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
