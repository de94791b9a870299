import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 client on a plain socket, for what URLSession cannot do: send a body in pieces of
/// a chosen size (each its own `send`, with Nagle off, or each its own chunk of a chunked body),
/// send only part of a body and wait for the answer, or declare a length it never sends.
final class RawHTTP {
    enum Framing {
        /// `Content-Length: <whole body>`, written in pieces of this size.
        case contentLength(piece: Int)
        /// `Transfer-Encoding: chunked`, one chunk of this size per write.
        case chunked(size: Int)
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    private let fd: Int32

    init(port: Int, timeout: Double = 120) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { close(fd); throw HarnessError("connect to port \(port): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Writes all of `bytes`; false once the peer stopped reading (closed, or reset).
    @discardableResult
    func write(_ bytes: some Collection<UInt8>) -> Bool {
        let array = Array(bytes)
        var sent = 0
        while sent < array.count {
            let n = array.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, array.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    func writeHead(_ method: String, _ path: String, headers: [(String, String)]) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        write(Array((head + "\r\n").utf8))
    }

    /// Sends `body` framed as asked; false if the server stopped reading before the end.
    @discardableResult
    func writeBody(_ body: [UInt8], framing: Framing) -> Bool {
        switch framing {
        case .contentLength(let piece):
            var i = 0
            while i < body.count {
                let j = min(body.count, i + piece)
                guard write(body[i..<j]) else { return false }
                i = j
            }
            return true
        case .chunked(let size):
            var i = 0
            while i < body.count {
                let j = min(body.count, i + size)
                guard write(Array("\(String(j - i, radix: 16))\r\n".utf8) + body[i..<j] + Array("\r\n".utf8)) else { return false }
                i = j
            }
            return write(Array("0\r\n\r\n".utf8))
        }
    }

    /// One whole request, the body framed as asked, and its answer.
    static func request(port: Int, _ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                     framing: Framing, timeout: Double = 120) throws -> Reply {
        let c = try RawHTTP(port: port, timeout: timeout)
        var all = headers
        switch framing {
        case .contentLength: all.append(("Content-Length", String(body.count)))
        case .chunked: all.append(("Transfer-Encoding", "chunked"))
        }
        c.writeHead(method, path, headers: all)
        c.writeBody(body, framing: framing)
        return try c.readReply()
    }

    /// Reads one response (head, then a Content-Length or chunked body). Throws on timeout.
    func readReply() throws -> Reply {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() throws {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw HarnessError(errno == EAGAIN || errno == EWOULDBLOCK ? "no answer before the timeout" : "recv: errno \(errno)") }
            if n == 0 { throw HarnessError("the server closed the connection without a complete answer: \(String(decoding: buffer, as: UTF8.self))") }
            buffer += chunk[0..<n]
        }
        let crlf2: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            try fill()
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where Array(buffer[i..<i + 4]) == crlf2 { headEnd = i; break }
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var rest = Array(buffer[(headEnd! + 4)...])
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            while rest.count < length {
                buffer = []
                try fill()
                rest += buffer
            }
            return Reply(status: status, headers: headers, body: Data(rest.prefix(length)))
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while true {
                while !rest.contains(UInt8(ascii: "\n")) { buffer = []; try fill(); rest += buffer }
                let nl = rest.firstIndex(of: UInt8(ascii: "\n"))!
                let size = Int(String(decoding: rest[0..<nl], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) ?? 0
                rest.removeFirst(nl + 1)
                if size == 0 { break }
                while rest.count < size + 2 { buffer = []; try fill(); rest += buffer }
                body += rest[0..<size]
                rest.removeFirst(size + 2)
            }
            return Reply(status: status, headers: headers, body: Data(body))
        }
        return Reply(status: status, headers: headers, body: Data(rest))
    }
}
