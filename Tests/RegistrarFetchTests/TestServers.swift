import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Real HTTP servers on 127.0.0.1 for the fetcher tests, started once per test process.
///
/// Each runs under a pipe connected to our stdin side: when the test process exits (normally or
/// not) the pipe closes and the server exits too, so no server outlives `swift test`.
final class RunningServer: @unchecked Sendable {
    let process: Process
    let stdin: Pipe
    let baseURL: String
    let port: Int

    init(process: Process, stdin: Pipe, baseURL: String, port: Int) {
        self.process = process
        self.stdin = stdin
        self.baseURL = baseURL
        self.port = port
    }
}

struct ServerStartError: Error, CustomStringConvertible { var description: String }

enum TestServers {
    static let supportDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support")

    /// The misbehaving Python server (Support/fault_server.py).
    static let fault: Result<RunningServer, ServerStartError> = Result { try startFaultServer() }.mapError { ServerStartError(description: "\($0)") }

    /// nginx serving `objectFiles` over plain HTTP: the scripts/services one when
    /// REGISTRAR_OBJECTS_URL and REGISTRAR_OBJECTS_DIR are set, else `ownNginx`.
    static let objects: Result<ObjectServer, ServerStartError> = Result { try startObjects() }.mapError { ServerStartError(description: "\($0)") }

    /// Our own nginx on free loopback ports: `objectFiles` over HTTP and, when openssl can make a
    /// throwaway certificate, over HTTPS with HTTP/2.
    static let ownNginx: Result<ObjectServer, ServerStartError> = Result { try startOwnNginx() }.mapError { ServerStartError(description: "\($0)") }

    struct ObjectServer: Sendable {
        var baseURL: String      // objects live at baseURL + "/" + name
        var server: RunningServer?
        /// The same objects over HTTPS (HTTP/2 by ALPN), with a throwaway CA; only for our own nginx.
        var tlsBaseURL: String? = nil
        var caBundlePath: String? = nil
    }

    /// Test objects: name → size. Content is `expectedByte(i)` for byte i.
    static let objectFiles: [(name: String, size: Int)] = [
        ("empty.bin", 0), ("one.bin", 1), ("small.bin", 1000), ("edge-65535.bin", 65535),
        ("edge-65536.bin", 65536), ("edge-65537.bin", 65537), ("medium.bin", 200_000), ("large.bin", 1_000_000),
    ]

    static func expectedByte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 31 &+ 7) }

    static func expectedBytes(_ range: Range<Int>) -> [UInt8] { range.map(expectedByte) }

    // MARK: - Starting

    static func startFaultServer() throws -> RunningServer {
        let script = supportDirectory.appendingPathComponent("fault_server.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice  // never hand our stdout/stderr to a server: `swift test` waits for them to close
        try p.run()
        // First line: "PORT <n>".
        var line = Data()
        let deadline = Date().addingTimeInterval(15)
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty || Date() > deadline { throw ServerStartError(description: "fault_server.py did not report its port") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            throw ServerStartError(description: "fault_server.py said '\(text)'")
        }
        return RunningServer(process: p, stdin: input, baseURL: "http://127.0.0.1:\(port)", port: port)
    }

    static func startObjects() throws -> ObjectServer {
        let env = ProcessInfo.processInfo.environment
        if let url = env["REGISTRAR_OBJECTS_URL"], let dir = env["REGISTRAR_OBJECTS_DIR"], !url.isEmpty, !dir.isEmpty {
            let sub = "registrar-http-tests"
            try writeObjects(into: URL(fileURLWithPath: dir).appendingPathComponent(sub))
            let base = url.hasSuffix("/") ? String(url.dropLast()) : url
            return ObjectServer(baseURL: base + "/" + sub, server: nil)
        }
        return try ownNginx.get()
    }

    static func startOwnNginx() throws -> ObjectServer {
        guard let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServerStartError(description: "nginx is not installed (run scripts/setup), and REGISTRAR_OBJECTS_URL/REGISTRAR_OBJECTS_DIR are not set")
        }
        var template = Array("/tmp/registrar-http-nginx-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerStartError(description: "mkdtemp failed") }
        let root = String(cString: made)
        chmod(root, 0o755)  // nginx workers run as nobody
        let objects = root + "/objects"
        try writeObjects(into: URL(fileURLWithPath: objects))
        let port = try freeLoopbackPort()
        // A self-signed certificate for 127.0.0.1 (it is its own CA) when openssl is there.
        var tlsPort: Int? = nil
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                             "-keyout", root + "/key.pem", "-out", root + "/cert.pem", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        if (try? openssl.run()) != nil {
            openssl.waitUntilExit()
            if openssl.terminationStatus == 0 {
                chmod(root + "/key.pem", 0o644)
                tlsPort = try freeLoopbackPort()
            }
        }
        let tlsServer = tlsPort.map { """
                server {
                    listen 127.0.0.1:\($0) ssl http2;
                    ssl_certificate \(root)/cert.pem;
                    ssl_certificate_key \(root)/key.pem;
                    root \(objects);
                }
            """ } ?? ""
        let conf = """
        worker_processes 1;
        pid \(root)/nginx.pid;
        error_log \(root)/error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            client_body_temp_path \(root)/client_body;
            proxy_temp_path \(root)/proxy;
            fastcgi_temp_path \(root)/fastcgi;
            uwsgi_temp_path \(root)/uwsgi;
            scgi_temp_path \(root)/scgi;
            keepalive_requests 1000000;
            keepalive_timeout 120s;
            default_type application/octet-stream;
            server {
                listen 127.0.0.1:\(port);
                root \(objects);
            }
        \(tlsServer)
        }
        """
        try conf.write(toFile: root + "/nginx.conf", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // nginx in the foreground under a shell that stops it when our end of the pipe closes.
        // Its folder goes with it. (No `wait` after the kill: under gVisor a shell waiting for its
        // child was seen hanging forever.)
        p.arguments = ["-c", "'\(nginx)' -g 'daemon off;' -e '\(root)/error.log' -p '\(root)/' -c '\(root)/nginx.conf' </dev/null & pid=$!; read x; kill $pid; rm -rf '\(root)'"]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice  // never hand our stdout/stderr to a server: `swift test` waits for them to close
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(10)
        while !canConnect(port: port) {
            if Date() > deadline || !p.isRunning {
                let log = (try? String(contentsOfFile: root + "/error.log", encoding: .utf8)) ?? ""
                throw ServerStartError(description: "nginx did not start on 127.0.0.1:\(port): \(log)")
            }
            usleep(20_000)
        }
        let server = RunningServer(process: p, stdin: input, baseURL: "http://127.0.0.1:\(port)", port: port)
        return ObjectServer(baseURL: server.baseURL, server: server,
                            tlsBaseURL: tlsPort.map { "https://127.0.0.1:\($0)" }, caBundlePath: tlsPort.map { _ in root + "/cert.pem" })
    }

    static func writeObjects(into dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for (name, size) in objectFiles {
            let path = dir.appendingPathComponent(name).path
            try Data(expectedBytes(0..<size)).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o644)
        }
    }

    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerStartError(description: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw ServerStartError(description: "bind() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    // MARK: - Fault server helpers

    struct Stats: Decodable {
        var connections: Int
        var requests: [String: Int]
        var huge_bytes_sent: Int
        var huge_requests: Int
    }

    /// The fault server's counters, read over a raw HTTP/1.0 socket (not through the fetcher
    /// under test).
    static func stats(_ server: RunningServer) throws -> Stats {
        let body = try rawGET(port: server.port, path: "/stats")
        return try JSONDecoder().decode(Stats.self, from: Data(body))
    }

    /// Minimal HTTP/1.0 GET over a socket; returns the body.
    static func rawGET(port: Int, path: String) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerStartError(description: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw ServerStartError(description: "connect to 127.0.0.1:\(port) failed") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        let sep: [UInt8] = [13, 10, 13, 10]
        guard let i = (0..<max(0, response.count - 3)).first(where: { Array(response[$0..<$0 + 4]) == sep }) else {
            throw ServerStartError(description: "malformed response from \(path)")
        }
        return Array(response[(i + 4)...])
    }
}
