import Foundation
import RegistrarRedis
import Testing

/// A real S3 implementation (moto in server mode, authentication on: every request after the
/// fixture's first three must carry a valid SigV4 signature of a known IAM key) holding a private
/// bucket, registered through integrations by real `registrar` processes.
///
/// Part of `PipelineTests` (an extension, so it runs serialized with the other pipeline tests:
/// they share the queues and Redis).
final class MotoServer {
    let process = Process()
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }
    let credentials: [String: String]

    static var python: String {
        (ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv") + "/bin/python"
    }

    /// Starts moto on a free loopback port and prepares the bucket with `files`.
    /// `port`: a fixed port (runs that must stay in a port range), else a free one.
    init(bucket: String, files: [URL], workDir: URL, port fixed: Int? = nil) throws {
        let pick = try fixed.map(String.init) ?? Self.output([Self.python, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        guard let port = Int(pick.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PipelineHarness.HarnessError("no free port: \(pick)")
        }
        self.port = port
        let moto = (Self.python as NSString).deletingLastPathComponent + "/moto_server"
        guard FileManager.default.isExecutableFile(atPath: moto) else {
            throw PipelineHarness.HarnessError("\(moto) is missing: run scripts/setup (it installs moto[server] into the tools venv)")
        }
        process.executableURL = URL(fileURLWithPath: moto)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        var env = ProcessInfo.processInfo.environment
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        process.environment = env
        let log = workDir.appendingPathComponent("moto.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // Ready when it answers (a refused connection until then); no fixed sleep.
        let deadline = Date().addingTimeInterval(30)
        while (try? Self.output(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/moto-api/"]))?.hasPrefix("200") != true {
            guard Date() < deadline, process.isRunning else { throw PipelineHarness.HarnessError("moto did not start on port \(port)") }
            usleep(100_000)
        }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/moto_fixture.py").path
        let json = try Self.output([Self.python, fixture, "http://127.0.0.1:\(port)", bucket] + files.map(\.path))
        guard let d = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String] else {
            throw PipelineHarness.HarnessError("moto fixture printed no JSON: \(json)")
        }
        credentials = d
    }

    /// Adds an `s3-compatible` integration named `store` holding this server's keys, and
    /// answers the environment that makes `registrar` write into `bucket/prefix` through it
    /// (with the key ring and a link secret), for the bucket-storage tests.
    func storageEnvironment(_ h: PipelineHarness, bucket: String, prefix: String, linkSecret: String) throws -> [String: String] {
        let keyRing = ["REGISTRAR_ENCRYPTION_KEYS": LiveServers.PipelineTests.keyRing]
        let creds = h.workDir.appendingPathComponent("store.json")
        try JSONSerialization.data(withJSONObject: ["access_key_id": credentials["access_key_id"]!, "secret_access_key": credentials["secret_access_key"]!,
                                                    "endpoint": endpoint]).write(to: creds)
        let added = try h.run(["integrations", "add", "s3-compatible", "--name", "store", "--from-file", creds.path], extraEnv: keyRing)
        guard added.status == 0 else { throw PipelineHarness.HarnessError("integrations add store: \(added.stderr)") }
        return keyRing.merging(["REGISTRAR_STORAGE_URL": "s3://\(bucket)/\(prefix)?integration=store", "REGISTRAR_LINK_SECRET": linkSecret]) { $1 }
    }

    deinit {
        // SIGKILL, not a graceful stop: moto's server does not always exit on SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    static func output(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw PipelineHarness.HarnessError("\(argv[0]) failed (\(p.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension LiveServers.PipelineTests {
    static let keyRing = "it1:" + Data(repeating: 7, count: 32).base64EncodedString()

    func writeJSON(_ h: PipelineHarness, _ name: String, _ object: [String: String]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object)
        let url = h.workDir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// Everything an operator could see: CLI output, process logs, unit_errors, Redis.
    func observable(_ h: PipelineHarness, cliOutput: String) throws -> String {
        var all = cliOutput + h.log("coordinator") + h.log("w1")
        let errors = try h.db.query("SELECT coalesce(string_agg(array_to_string(object_urls, ' ') || ' ' || code || ' ' || message || ' ' || action, E'\\n'), '') FROM unit_errors")
        all += errors[row: 0, column: 0] ?? ""
        all += try h.db.query("SELECT coalesce(string_agg(coalesce(error::text, ''), ' '), '') FROM upload_jobs")[row: 0, column: 0] ?? ""
        // Redis: every key of the pipeline tests' database and every value in it.
        let redis = try RedisConnection(url: h.env.redis)
        defer { redis.close() }
        for key in redisText(try redis.command(["KEYS", "*"])).split(separator: " ").map(String.init) {
            all += key + " "
            switch redisText(try redis.command(["TYPE", key])) {
            case "string": all += redisText(try redis.command(["GET", key]))
            case "hash": all += redisText(try redis.command(["HGETALL", key]))
            case "set": all += redisText(try redis.command(["SMEMBERS", key]))
            case "zset": all += redisText(try redis.command(["ZRANGE", key, "0", "-1"]))
            case "list": all += redisText(try redis.command(["LRANGE", key, "0", "-1"]))
            default: break
            }
        }
        return all
    }

    @Test func privateS3BucketRegistersThroughIntegrationsAndSecretsNeverLeak() throws {
        let h = try PipelineHarness()
        let png = h.workDir.appendingPathComponent("photo.png")
        let mp3 = h.workDir.appendingPathComponent("song.mp3")
        try Data(try MediaSamples.bytes("images/png-gray16.png")).write(to: png)
        try Data(try MediaSamples.bytes("av/mp3_cbr.mp3")).write(to: mp3)
        let moto = try MotoServer(bucket: "private-media", files: [png, mp3], workDir: h.workDir)
        let secret = try #require(moto.credentials["secret_access_key"])
        let keyID = try #require(moto.credentials["access_key_id"])
        let canary = "CANARY-\(UUID().uuidString)"
        let keys = ["REGISTRAR_ENCRYPTION_KEYS": Self.keyRing]
        var cli = ""
        func registrar(_ args: [String]) throws -> PipelineHarness.Run {
            let r = try h.run(args, extraEnv: keys)
            cli += r.stdout + r.stderr
            return r
        }

        // The bucket is private: without signing, nothing is readable.
        let plainURL = "\(moto.endpoint)/private-media/media/photo.png"
        #expect(try MotoServer.output(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", plainURL]) == "403")

        let good = try writeJSON(h, "good.json", ["access_key_id": keyID, "secret_access_key": secret, "endpoint": moto.endpoint])
        let wrong = try writeJSON(h, "wrong.json", ["access_key_id": keyID, "secret_access_key": canary, "endpoint": moto.endpoint])
        let role = try writeJSON(h, "role.json", ["access_key_id": keyID, "secret_access_key": secret, "endpoint": moto.endpoint,
                                                  "role_arn": moto.credentials["role_arn"]!, "external_id": "registrar-ext",
                                                  "sts_endpoint": moto.endpoint])
        #expect(try registrar(["integrations", "add", "s3-compatible", "--name", "moto", "--from-file", good]).status == 0)
        #expect(try registrar(["integrations", "add", "s3-compatible", "--name", "moto-wrong", "--from-file", wrong]).status == 0)
        #expect(try registrar(["integrations", "add", "aws", "--name", "moto-role", "--from-file", role]).status == 0)
        #expect(try registrar(["integrations", "add", "direct", "--name", "public"]).status == 0)
        #expect(try registrar(["integrations", "add", "s3-compatible", "--name", "moto", "--from-file", good]).status == 2, "names are unique")
        let listed = try registrar(["integrations", "list", "--json"])
        #expect(listed.stdout.split(separator: "\n").count == 4)
        let test = try registrar(["integrations", "test", "moto", "s3://private-media/media/song.mp3", "--json"])
        #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
        #expect(test.stdout.contains(#""bucket":"private-media""#) && test.stdout.contains(#""size":8255"#))
        #expect(try registrar(["integrations", "test", "moto-wrong", plainURL]).status == 1)

        try h.startCoordinator(extraEnv: keys)
        try h.startWorker("w1", extraEnv: keys)
        func job(_ manifest: String, integration: String?) throws -> [String: Any] {
            let path = try h.writeManifest("m-\(UUID().uuidString).json", manifest)
            var args = ["submit", path, "--folder", "f-\(integration ?? "none")", "--json", "--ignore-errors", "--wait"]
            if let integration { args += ["--integration", integration] }
            let r = try registrar(args)
            return try r.json()
        }
        // Path-style URLs at the endpoint and s3:// (addressed by the integration), signed SigV4.
        let pathStyle = #"{"images": [{"objectUrl": "\#(plainURL)"}], "audio": [{"objectUrl": "s3://private-media/media/song.mp3"}, {"objectUrl": "s3://private-media/media/absent.mp3"}, {"objectUrl": "https://other.s3.eu-west-2.amazonaws.com/x.mp3"}]}"#
        let ok = try job(pathStyle, integration: "moto")
        #expect(ok.string("status") == "DONE" && ok.int("done") == 2 && ok.int("errors") == 2, "\(ok)")
        let okID = ok.string("id")
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'image' AND width IS NOT NULL", [okID]) == 1)
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'audio' AND sample_rate IS NOT NULL", [okID]) == 1)
        #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 2", [okID]) == "not_found")
        #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 3", [okID]) == "wrong_integration")

        // A role assumed through moto's STS with the external id.
        let viaRole = try job(#"{"audio": [{"objectUrl": "s3://private-media/media/song.mp3"}]}"#, integration: "moto-role")
        #expect(viaRole.string("status") == "DONE" && viaRole.int("done") == 1, "\(viaRole)")

        // A wrong secret: every unit access_denied, the job still finishes.
        let denied = try job(pathStyle, integration: "moto-wrong")
        #expect(denied.int("done") == 0)
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1 AND code = 'access_denied'", [denied.string("id")]) == 3)

        // Presigned URLs through a direct integration are fetched as given (nginx ignores the
        // query; moto with authentication on cannot serve query-string auth), unsigned ones are
        // refused by the private bucket, and the signature stays out of every error row.
        let signature = "SIG\(UUID().uuidString.prefix(12))"
        let served = try h.putObject("pre/photo.png", bytes: try MediaSamples.bytes("images/png-gray16.png"))
        let presigned = served + "?X-Amz-Expires=3600&X-Amz-Signature=" + signature
        let missing = h.objectURL("pre/missing.png") + "?X-Amz-Signature=" + signature
        let direct = try job(#"{"images": [{"objectUrl": "\#(presigned)"}, {"objectUrl": "\#(missing)"}, {"objectUrl": "\#(plainURL)"}]}"#, integration: "public")
        #expect(direct.int("done") == 1 && direct.int("errors") == 2, "\(direct)")
        #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 1", [direct.string("id")]) == "not_found")
        #expect(try h.scalar("SELECT code FROM unit_errors WHERE job_id = $1 AND unit_index = 2", [direct.string("id")]) == "access_denied")

        // An integration in use by a finished job may go; one named wrongly is a usage error.
        #expect(try registrar(["integrations", "remove", "moto-wrong"]).status == 0)
        #expect(try registrar(["integrations", "remove", "moto-wrong"]).status == 2)

        // The canary (and the real secret, and the presigned signature) appear nowhere an operator looks.
        h.stopAll()
        let seen = try observable(h, cliOutput: cli)
        #expect(!seen.contains(canary), "the canary secret leaked")
        #expect(!seen.contains(secret), "the secret leaked")
        #expect(!seen.contains(signature), "a presigned signature leaked")
        #expect(try h.count("SELECT count(*) FROM integrations WHERE credentials LIKE '%' || $1 || '%' OR settings::text LIKE '%' || $1 || '%'", [secret]) == 0)
    }
}
