import Foundation

/// `azure_fixture.py`, the fake Azure Blob service that checks Shared Key signatures and SAS
/// tokens with azure-storage-blob's own code, on a free port of REGISTRAR_TEST_AZURE_PORTS
/// (default 56270–56279), stopped when this object goes away.
final class AzureFixtureServer {
    let process = Process()
    let stdin = Pipe()
    let port: Int
    let account = "acct"
    /// A random account key, base64 (as the portal shows it).
    let key = Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(containers: [String]) throws {
        let range = ProcessInfo.processInfo.environment["REGISTRAR_TEST_AZURE_PORTS"] ?? "56270-56279"
        let b = range.split(separator: "-").compactMap { Int($0) }
        guard b.count == 2 else { throw PipelineHarness.HarnessError("REGISTRAR_TEST_AZURE_PORTS must be FROM-TO") }
        let pick = try MotoServer.output([MotoServer.python, "-c", """
            import socket
            for p in range(\(b[0]), \(b[1]) + 1):
                s = socket.socket()
                try:
                    s.bind(('127.0.0.1', p)); print(p); break
                except OSError: pass
                finally: s.close()
            """])
        guard let port = Int(pick.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw PipelineHarness.HarnessError("no free port in \(range)") }
        self.port = port
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("azure_fixture.py").path
        process.executableURL = URL(fileURLWithPath: MotoServer.python)
        process.arguments = [script, String(port), account, key]
        process.standardInput = stdin
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while true {
            let d = out.fileHandleForReading.readData(ofLength: 1)
            if d.isEmpty || d == Data("\n".utf8) { break }
            line.append(d)
        }
        guard String(decoding: line, as: UTF8.self) == "ready" else {
            throw PipelineHarness.HarnessError("azure_fixture.py did not start (scripts/setup installs azure-storage-blob)")
        }
        try bulk(["containers": containers])
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The fixture's unauthenticated control calls (`/_fixture/…`).
    @discardableResult
    func control(_ path: String, method: String = "GET", body: Data? = nil) throws -> Data {
        var argv = ["/usr/bin/curl", "-sf", "-X", method, "\(endpoint)/_fixture/\(path)"]
        var file: String?
        if let body {
            file = NSTemporaryDirectory() + "azure-bulk-\(UUID().uuidString).json"
            FileManager.default.createFile(atPath: file!, contents: body)
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@\(file!)"]
        }
        defer { if let file { try? FileManager.default.removeItem(atPath: file) } }
        return Data(try MotoServer.output(argv).utf8)
    }

    /// Writes and deletes blobs directly (`{"containers", "put": [{container, name, file|text}], "delete": [...]}`).
    func bulk(_ request: [String: Any]) throws {
        try control("bulk", method: "POST", body: JSONSerialization.data(withJSONObject: request))
    }

    /// `{"container/blob": GET count}` since the last reset.
    func gets(reset: Bool = false) throws -> [String: Int] {
        (try JSONSerialization.jsonObject(with: control("gets", method: reset ? "DELETE" : "GET")) as? [String: Int]) ?? [:]
    }

    func stats() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: control("stats")) as? [String: Any]) ?? [:]
    }
}
