import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener that counts every connection it accepts: the proof that a refused fetch made no
/// connection. It listens on one port at several loopback addresses (127.0.0.1, 127.0.0.2, ::1),
/// reads one request head per connection and answers with `respond(head)` (default: 200 with
/// `body`), then closes the connection (no reuse, so every fetch that reaches it is counted).
///
/// `barrier()` makes the count trustworthy: it connects once to every listening address and waits
/// until those connections were accepted. Accept queues are FIFO, so once the barrier's
/// connections are counted, every connection made before them has been counted as well.
final class CanaryServer: @unchecked Sendable {
    static let body = "canary-ok"

    let port: Int
    /// The addresses listened on, as URL hosts (`127.0.0.1`, `[::1]`).
    let hosts: [String]
    private let fds: [Int32]
    private let lock = NSLock()
    private var accepted = 0
    private var barriers = 0
    private var stopped = false
    private let respond: @Sendable (String) -> [UInt8]
    private var threads: [Thread] = []

    struct StartError: Error, CustomStringConvertible { var description: String }

    init(respond: @escaping @Sendable (String) -> [UInt8] = { _ in CanaryServer.ok() }) throws {
        self.respond = respond
        var lastError = ""
        for _ in 0..<20 {
            var opened: [Int32] = []
            var port = 0
            var hosts: [String] = []
            var failed = false
            for (family, text, urlHost) in [(AF_INET, "127.0.0.1", "127.0.0.1"), (AF_INET, "127.0.0.2", "127.0.0.2"), (AF_INET6, "::1", "[::1]")] {
                do {
                    let (fd, p) = try Self.listen(family: family, address: text, port: port)
                    opened.append(fd)
                    port = p
                    hosts.append(urlHost)
                } catch {
                    lastError = "\(error)"
                    failed = true
                    break
                }
            }
            if failed { opened.forEach { _ = close($0) }; continue }
            self.port = port
            self.hosts = hosts
            self.fds = opened
            for fd in opened {
                let t = Thread { self.serve(fd) }  // strong: call stop() when done
                t.start()
                threads.append(t)
            }
            return
        }
        throw StartError(description: "the canary could not listen on 127.0.0.1, 127.0.0.2 and ::1 with one port: \(lastError)")
    }

    /// Connections accepted, barrier connections not included.
    var connections: Int { lock.lock(); defer { lock.unlock() }; return accepted - barriers }

    func stop() {
        lock.lock()
        let was = stopped
        stopped = true
        lock.unlock()
        if !was { fds.forEach { _ = close($0) } }
    }

    /// Waits (polling, at most 5 s) until one fresh connection to every address was accepted.
    func barrier() throws {
        lock.lock(); let target = accepted + fds.count; barriers += fds.count; lock.unlock()
        for host in hosts {
            let v6 = host.hasPrefix("[")
            let s = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { _ = close(s) }
            var ok: Int32
            if v6 {
                var a = sockaddr_in6()
                a.sin6_family = sa_family_t(AF_INET6)
                a.sin6_port = in_port_t(UInt16(port).bigEndian)
                _ = inet_pton(AF_INET6, "::1", &a.sin6_addr)
                ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            } else {
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_port = in_port_t(UInt16(port).bigEndian)
                _ = inet_pton(AF_INET, host, &a.sin_addr)
                ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            guard ok == 0 else { throw StartError(description: "barrier connect to \(host):\(port) failed (errno \(errno))") }
            _ = "BARRIER\r\n\r\n".withCString { send(s, $0, 11, Int32(MSG_NOSIGNAL)) }
        }
        let deadline = Date().addingTimeInterval(5)
        while true {
            lock.lock(); let n = accepted; lock.unlock()
            if n >= target { return }
            guard Date() < deadline else { throw StartError(description: "the canary did not accept the barrier connections") }
            usleep(2_000)
        }
    }

    static func ok(_ body: String = CanaryServer.body) -> [UInt8] {
        response(200, "OK", headers: [("Content-Type", "text/plain")], body: body)
    }

    static func response(_ status: Int, _ reason: String, headers: [(String, String)] = [], body: String) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return Array((head + body).utf8)
    }

    // MARK: - Internals

    private static func listen(family: Int32, address: String, port: Int) throws -> (Int32, Int) {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket: errno \(errno)") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var rc: Int32
        if family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(port).bigEndian)
            _ = inet_pton(AF_INET6, address, &a.sin6_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            _ = inet_pton(AF_INET, address, &a.sin_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0, Glibc.listen(fd, 128) == 0 else {
            let e = errno
            _ = close(fd)
            throw StartError(description: "bind/listen \(address):\(port): errno \(e)")
        }
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let bound = withUnsafePointer(to: &ss) { p -> Int in
            if family == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        return (fd, bound)
    }

    private func serve(_ listener: Int32) {
        while true {
            lock.lock(); let done = stopped; lock.unlock()
            if done { return }
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let c = accept(listener, nil, nil)
            guard c >= 0 else { continue }
            lock.lock(); accepted += 1; lock.unlock()
            handle(c)
        }
    }

    private func handle(_ c: Int32) {
        defer { _ = close(c) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var head: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while head.count < 65536 {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return }
            head.append(contentsOf: buf[0..<n])
            if String(decoding: head, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let text = String(decoding: head, as: UTF8.self)
        if text.hasPrefix("BARRIER") { return }
        let reply = respond(text)
        _ = reply.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
