import Foundation
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRedis
import RegistrarRuntime
import Testing

/// Runs the real pipeline for one test: a fresh PostgreSQL database, purged queues, a flushed
/// Redis, objects on the local nginx, and real `registrar` processes (coordinator, workers).
///
/// The servers come from `scripts/services up` (the test command starts them); their URLs are
/// read from the environment it writes. A missing variable fails the test: these tests never
/// pass without the real servers.
final class PipelineHarness {
    struct Env {
        let postgresBase: String
        let amqp: String
        let redis: String
        let objectsURL: String
        let objectsDir: String

        static func load() throws -> Env {
            let env = ProcessInfo.processInfo.environment
            func need(_ name: String) throws -> String {
                guard let v = env[name], !v.isEmpty else {
                    throw HarnessError("\(name) is not set: run the suite with scripts/test (it starts the servers), or `eval \"$(scripts/services env)\"` after `scripts/services up`")
                }
                return v
            }
            // Redis database 5 is the pipeline tests' own, so flushing it between tests never
            // disturbs the adapter suites running beside them on database 0.
            var redis = try need("REGISTRAR_REDIS_URL")
            while redis.hasSuffix("/") { redis.removeLast() }
            if let slash = redis.range(of: "/", options: .backwards), redis[slash.upperBound...].allSatisfy(\.isNumber),
               slash.lowerBound > redis.index(redis.startIndex, offsetBy: 8) {
                redis = String(redis[..<slash.lowerBound])
            }
            return Env(postgresBase: try need("REGISTRAR_POSTGRES_URL"), amqp: try need("REGISTRAR_AMQP_URL"),
                       redis: redis + "/5", objectsURL: try need("REGISTRAR_OBJECTS_URL"),
                       objectsDir: try need("REGISTRAR_OBJECTS_DIR"))
        }
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    let env: Env
    let id = "t" + UUID().uuidString.prefix(8).lowercased()
    let postgresURL: String
    let workDir: URL
    let objectsDir: URL
    let objectsBase: String
    private(set) var processes: [String: Process] = [:]
    let db: PGConnection

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("registrar")
    }

    init() throws {
        env = try Env.load()
        // A database of its own (created from the base URL's server).
        let admin = try PGConnection(url: env.postgresBase)
        try admin.execute("CREATE DATABASE \(id)")
        admin.close()
        guard let slash = env.postgresBase.range(of: "/", options: .backwards) else { throw HarnessError("bad REGISTRAR_POSTGRES_URL") }
        var rest = String(env.postgresBase[slash.upperBound...])
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        rest = id + query
        postgresURL = String(env.postgresBase[..<slash.upperBound]) + rest
        workDir = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-it-\(id)")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        objectsDir = URL(fileURLWithPath: env.objectsDir).appendingPathComponent(id)
        try FileManager.default.createDirectory(at: objectsDir, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: objectsDir.path)
        objectsBase = env.objectsURL + "/" + id
        // Queues and Redis are shared: the suite runs serialized and starts each test clean.
        let mq = try AMQPWorkQueue(url: env.amqp, role: .publisher)
        mq.close()
        let amqp = try AMQPConnection(url: env.amqp)
        for q in [AMQPWorkQueue.jobsQueue, AMQPWorkQueue.chunksQueue, AMQPWorkQueue.deadQueue] { _ = try amqp.purgeQueue(q) }
        amqp.close()
        let redis = try RedisConnection(url: env.redis)
        _ = try redis.command(["FLUSHDB"])
        redis.close()
        db = try PGConnection(url: postgresURL)
        let migrate = try run(["migrate"])
        guard migrate.status == 0 else { throw HarnessError("migrate failed: \(migrate.stdout) \(migrate.stderr)") }
    }

    deinit {
        stopAll()
        db.close()
        try? FileManager.default.removeItem(at: objectsDir)
        if let admin = try? PGConnection(url: env.postgresBase) {
            try? admin.execute("DROP DATABASE IF EXISTS \(id) WITH (FORCE)")
            admin.close()
        }
    }

    var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["REGISTRAR_POSTGRES_URL"] = postgresURL
        e["REGISTRAR_AMQP_URL"] = env.amqp
        e["REGISTRAR_REDIS_URL"] = env.redis
        e["REGISTRAR_FETCH_ALLOW"] = "127.0.0.0/8"
        e["REGISTRAR_LOG_LEVEL"] = "info"
        // The fault and pacing hooks (REGISTRAR_FAULT_*, REGISTRAR_TEST_CHUNK_DELAY_MS) some
        // tests pass are read only behind this one switch.
        e["REGISTRAR_TEST_HOOKS"] = "1"
        // One consume slot per worker process unless a test says otherwise: the paced tests
        // (REGISTRAR_TEST_CHUNK_DELAY_MS) are timed for one chunk at a time per worker.
        e["REGISTRAR_WORKER_SLOTS"] = "1"
        return e
    }

    // MARK: - Objects

    /// Writes an object under the test's folder on the object server; returns its URL.
    @discardableResult
    func putObject(_ path: String, bytes: [UInt8], readable: Bool = true) throws -> String {
        let url = objectsDir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try Data(bytes).write(to: url)
        // nginx workers run unprivileged: an unreadable file answers 403.
        try FileManager.default.setAttributes([.posixPermissions: readable ? 0o644 : 0o600], ofItemAtPath: url.path)
        return objectURL(path)
    }

    func objectURL(_ path: String) -> String { objectsBase + "/" + path }

    func writeManifest(_ name: String, _ text: String) throws -> String {
        let url = workDir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    // MARK: - Processes

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
        func json() throws -> [String: Any] {
            let obj = try JSONSerialization.jsonObject(with: Data(lastLine.utf8))
            guard let d = obj as? [String: Any] else { throw HarnessError("not a JSON object: \(lastLine)") }
            return d
        }
    }

    /// Runs a `registrar` command to completion.
    func run(_ args: [String], extraEnv: [String: String] = [:]) throws -> Run {
        try runProgram(Self.binary, args, environment: environment.merging(extraEnv) { $1 })
    }

    /// Runs any program to completion, its output captured in files of the work folder.
    func runProgram(_ executable: URL, _ args: [String], environment: [String: String]? = nil) throws -> Run {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        if let environment { p.environment = environment }
        let out = workDir.appendingPathComponent("run-\(UUID().uuidString).out")
        let err = workDir.appendingPathComponent("run-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Starts a long-running `registrar` role (coordinator, worker) in the background.
    func start(_ name: String, _ args: [String], extraEnv: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.environment = environment.merging(extraEnv) { $1 }
        let log = workDir.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        processes[name] = p
    }

    func startCoordinator(_ name: String = "coordinator", extraArgs: [String] = [], extraEnv: [String: String] = [:]) throws {
        try start(name, ["coordinator"] + extraArgs, extraEnv: extraEnv)
    }

    func startWorker(_ name: String, extraArgs: [String] = [], extraEnv: [String: String] = [:]) throws {
        try start(name, ["worker", "--concurrency", "32"] + extraArgs, extraEnv: extraEnv)
    }

    /// SIGKILL: no chance to drain or ack.
    func kill9(_ name: String) {
        guard let p = processes[name] else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        processes[name] = nil
    }

    /// Waits for a process to exit on its own (e.g. a fault hook), up to `timeout` seconds.
    func waitForExit(_ name: String, timeout: Double) -> Int32? {
        guard let p = processes[name] else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { return nil }
        processes[name] = nil
        return p.terminationStatus
    }

    func stopAll() {
        for (_, p) in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        for (_, p) in processes {
            while p.isRunning && Date() < deadline { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        processes.removeAll()
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: workDir.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    // MARK: - Observing

    /// Declares these kinds' queues and empties their work and dead queues: they outlive tests,
    /// and a chunk another test left behind must not reach this test's workers.
    func emptyQueues(_ kinds: [KindQueues]) throws {
        let setup = try AMQPWorkQueue(url: env.amqp, role: .worker(kinds: kinds))
        setup.close()
        let amqp = try AMQPConnection(url: env.amqp)
        defer { amqp.close() }
        for k in kinds { for q in [k.work, k.dead] { _ = try amqp.purgeQueue(q) } }
    }

    func scalar(_ sql: String, _ params: [String?] = []) throws -> String? {
        let rows = try db.query(sql, params)
        return rows.count == 0 ? nil : rows[row: 0, column: 0]
    }

    func count(_ sql: String, _ params: [String?] = []) throws -> Int {
        Int(try scalar(sql, params) ?? "0") ?? 0
    }

    /// Polls `registrar status --json` until the job ends (or the timeout passes).
    func waitForJob(_ jobID: String, timeout: Double = 240) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try run(["status", jobID, "--json"])
            if r.status == 0, let j = try? r.json(), let s = j["status"] as? String, s != "PENDING" { return j }
            if Date() > deadline {
                throw HarnessError("job \(jobID) did not finish in \(timeout) s; last status: \(r.stdout) \(r.stderr)\ncoordinator log:\n\(log("coordinator").suffix(3000))")
            }
            usleep(300_000)
        }
    }

    /// Polls until `condition` holds on the job's live state.
    func waitUntil(_ jobID: String, timeout: Double = 120, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try run(["status", jobID, "--json"])
            if r.status == 0, let j = try? r.json(), condition(j) { return j }
            if Date() > deadline { throw HarnessError("condition not reached for \(jobID): \(r.stdout)") }
            usleep(100_000)
        }
    }
}

/// Convenience for counters in status JSON.
extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int { (self[key] as? Int) ?? -1 }
    func string(_ key: String) -> String { (self[key] as? String) ?? "" }
}

/// Empties the pipeline tests' Redis database, as a lost or restarted Redis would.
struct RedisFlush {
    let connection: RedisConnection
    init(url: String) throws { connection = try RedisConnection(url: url) }
    func flush() throws { _ = try connection.command(["FLUSHDB"]) }
}

/// Real media files from the core tests' fixtures, for the object server.
enum MediaSamples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("RegistrarCoreTests/Fixtures/media")
    nonisolated(unsafe) static var cache: [String: [UInt8]] = [:]
    static let lock = NSLock()

    static func bytes(_ path: String) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if let b = cache[path] { return b }
        let b = Array(try Data(contentsOf: root.appendingPathComponent(path)))
        cache[path] = b
        return b
    }
}
