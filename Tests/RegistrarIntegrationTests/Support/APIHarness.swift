import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarRuntime

typealias HarnessError = PipelineHarness.HarnessError

/// A running `registrar api` process on a free loopback port, over a `PipelineHarness`'s
/// database, with a tenant and API key made through the real CLI.
final class APIHarness {
    let h: PipelineHarness
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(_ h: PipelineHarness, name: String = "api", extraArgs: [String] = [], extraEnv: [String: String] = [:]) throws {
        self.h = h
        port = try Self.freePort()
        try h.start(name, ["api", "--port", String(port)] + extraArgs, extraEnv: extraEnv)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let r = try? HTTP.send("GET", "http://127.0.0.1:\(port)/healthz"), r.status == 200 { return }
            usleep(100_000)
        }
        throw HarnessError("registrar api did not answer on port \(port)")
    }

    /// Creates a tenant and returns a fresh key for it (the key is the CLI's last line).
    func tenantKey(_ tenant: String) throws -> String {
        let add = try h.run(["tenants", "add", tenant])
        guard add.status == 0 || add.stderr.contains("exists") else { throw HarnessError("tenants add: \(add.stderr)") }
        let keys = try h.run(["keys", "create", "--tenant", tenant])
        guard keys.status == 0 else { throw HarnessError("keys create: \(keys.stderr)") }
        return keys.lastLine
    }

    func call(_ method: String, _ path: String, key: String?, body: Data? = nil, headers: [String: String] = [:]) throws -> HTTP.Reply {
        var all = headers
        if let key { all["Authorization"] = "Bearer \(key)" }
        return try HTTP.send(method, base + path, headers: all, body: body)
    }

    /// A JSON object answer; fails the caller with the body when it is not one.
    func json(_ method: String, _ path: String, key: String?, body: Data? = nil, headers: [String: String] = [:],
              expect: Int) throws -> [String: Any] {
        let r = try call(method, path, key: key, body: body, headers: headers)
        guard r.status == expect else { throw HarnessError("\(method) \(path): HTTP \(r.status), expected \(expect): \(r.text)") }
        guard let obj = try JSONSerialization.jsonObject(with: r.body) as? [String: Any] else { throw HarnessError("not an object: \(r.text)") }
        return obj
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw HarnessError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Synchronous HTTP for tests (URLSession underneath).
enum HTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil, timeout: Double = 90) throws -> Reply {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var reply: Reply?
        nonisolated(unsafe) var failure: Error?
        // URLSession.shared gives up after 60 s of silence whatever the request says; a longer
        // wait (a big export assembled on its first download) needs a session of its own.
        let session: URLSession
        if timeout > 60 {
            let config = URLSessionConfiguration.default
            config.timeoutIntervalForRequest = timeout
            session = URLSession(configuration: config)
        } else {
            session = URLSession.shared
        }
        defer { if timeout > 60 { session.finishTasksAndInvalidate() } }
        session.dataTask(with: request) { data, response, error in
            if let error { failure = error } else if let http = response as? HTTPURLResponse {
                var h: [String: String] = [:]
                for (k, v) in http.allHeaderFields { h["\(k)"] = "\(v)" }
                reply = Reply(status: http.statusCode, headers: h, body: data ?? Data())
            }
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        guard let reply else { throw HarnessError("no HTTP reply from \(url)") }
        return reply
    }
}

extension APIHarness {
    /// The stack the export and editor tests share: empty export and task-create queues, an API
    /// and a worker for those two kinds writing into a fresh local storage directory named after
    /// `name`, and the coordinator. Answers the API and the storage directory. `kinds` nil: the
    /// worker takes every kind (registration too).
    static func exportStack(_ h: PipelineHarness, name: String, kinds: String? = "export,task-create") throws -> (api: APIHarness, root: String) {
        try h.emptyQueues([Export.queues, TaskCreate.queues])
        let root = NSTemporaryDirectory() + "registrar-\(name)-\(UUID().uuidString)"
        let storage = ["REGISTRAR_STORAGE_URL": "file://" + root]
        let api = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator()
        try h.startWorker("w1", extraArgs: kinds.map { ["--kinds", $0] } ?? [], extraEnv: storage)
        return (api, root)
    }
}
