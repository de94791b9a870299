import Foundation
import Testing

/// The fake Google Cloud Storage of `gcs_fixture.py` (token endpoint, XML and JSON APIs, checks
/// on tokens and checksums, per-object GET counts), started for one test in its work directory.
/// Its port comes from REGISTRAR_TEST_GCS_PORTS (FROM-TO) when set, else it is ephemeral; it
/// exits when our end of its stdin closes.
final class GCSFixture {
    let process = Process()
    let stdin = Pipe()
    let endpoint: String
    let workDir: URL
    let bucket: String
    /// The key files it wrote: one the service account has, one it does not.
    var goodKey: String { workDir.appendingPathComponent("sa-good.json").path }
    var wrongKey: String { workDir.appendingPathComponent("sa-wrong.json").path }

    init(workDir: URL, bucket: String, pageSize: Int? = nil) throws {
        self.workDir = workDir
        self.bucket = bucket
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("gcs_fixture.py").path
        var args = [script, workDir.path, bucket]
        if let ports = ProcessInfo.processInfo.environment["REGISTRAR_TEST_GCS_PORTS"] { args += ["--ports", ports] }
        if let pageSize { args += ["--page-size", String(pageSize)] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = args
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        let log = workDir.appendingPathComponent("gcs_fixture.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(60)
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty || Date() > deadline {
                throw PipelineHarness.HarnessError("the fake GCS did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else { throw PipelineHarness.HarnessError("fake GCS said '\(text)'") }
        endpoint = "http://127.0.0.1:\(p)"
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func get(_ path: String) throws -> [String: Any] {
        let text = try MotoServer.output(["/usr/bin/curl", "-sf", "\(endpoint)/_fixture/\(path)"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Counters (see the script's docstring); `gets_per_key` maps names to object GETs.
    func stats() throws -> [String: Any] { try get("stats") }
    func stat(_ name: String) throws -> Int { try stats()[name] as? Int ?? -1 }
    func getsPerKey() throws -> [String: Int] { try stats()["gets_per_key"] as? [String: Int] ?? [:] }

    /// `{name: sha256}` of the objects under a prefix.
    func objects(prefix: String) throws -> [String: String] {
        try get("list?prefix=\(prefix.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? prefix)") as? [String: String] ?? [:]
    }

    /// Writes objects from outside (as another writer would): `[(name, local file)]`, one
    /// Python process for all of them.
    func put(_ objects: [(String, String)]) throws {
        let script = """
            import sys, urllib.parse, urllib.request
            ep = sys.argv[1]
            for i in range(2, len(sys.argv), 2):
                with open(sys.argv[i + 1], "rb") as f:
                    data = f.read()
                req = urllib.request.Request(ep + "/_fixture/object/" + urllib.parse.quote(sys.argv[i]), data=data, method="PUT")
                urllib.request.urlopen(req).read()
            """
        for batch in stride(from: 0, to: objects.count, by: 500) {
            let part = objects[batch..<min(batch + 500, objects.count)]
            _ = try MotoServer.output(["/usr/bin/python3", "-c", script, endpoint] + part.flatMap { [$0.0, $0.1] })
        }
    }

    /// A control call: `expire-tokens`, `corrupt-next?n=1`, `reset-counts`, or an object
    /// written (`PUT object/NAME`) or removed (`DELETE object/NAME`) from outside.
    func control(_ method: String, _ path: String, body: URL? = nil, contentType: String = "application/octet-stream") throws {
        var argv = ["/usr/bin/curl", "-sf", "-X", method, "-H", "Content-Type: \(contentType)"]
        if let body { argv += ["--data-binary", "@\(body.path)"] }
        _ = try MotoServer.output(argv + ["\(endpoint)/_fixture/\(path)"])
    }
}
