import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RegistrarAPI
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The API application on twins (`MemoryAPIWorld`), driven in process through
/// HummingbirdTesting's `.router` framework: no socket, no servers, the same routes,
/// middleware and services (`BootstrapService` included) as `registrar api`.
struct APIRig {
    let world = MemoryAPIWorld()
    let tester = MemoryIntegrationTester(readable: ["https://b.example/ok.png"])
    var config = APIConfiguration()
    static let ring = try! EncryptionKeyRing(text: "k1:" + SigningBase64.encode([UInt8](repeating: 9, count: 32)))

    init() {
        config.blockingThreads = 2
        // The test process also runs the engine (RegistrarRuntimeTests): leave swift-metrics' global factory alone.
        config.bootstrapsMetrics = false
        config.keyRing = { APIRig.ring }
        config.spoolDirectory = FileManager.default.temporaryDirectory.path
    }

    /// A new tenant and a key for it.
    func tenant(_ name: String = "t-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)) throws -> (id: String, key: String) {
        let id = try #require(world.registry.createTenant(name: name))
        let key = APIKey.generate()
        _ = world.registry.storeAPIKey(tenantID: id, hash: APIKey.hash(key))
        return (id, key)
    }

    func run(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let world = self.world
        let app = APIServer.make(config: config, backends: { world.backends() }, integrationTester: tester,
                                 logger: Logger(label: "registrar.api.test"))
        try await app.test(.router, test)
    }
}

/// Request helpers: bearer key, JSON bodies, parsed answers.
extension TestClientProtocol {
    @discardableResult
    func call(_ uri: String, _ method: HTTPRequest.Method = .get, key: String?, headers: HTTPFields = [:], body: String? = nil,
              bytes: [UInt8]? = nil) async throws -> TestResponse {
        var fields = headers
        if let key { fields[.authorization] = "Bearer \(key)" }
        if body != nil || bytes != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
        let buffer = bytes.map { ByteBuffer(bytes: $0) } ?? body.map { ByteBuffer(string: $0) }
        return try await executeRequest(uri: uri, method: method, headers: fields, body: buffer)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue { JSONValue.parse(Array(buffer: body)) ?? .null }
    /// `error.code` of an error answer.
    var errorCode: String? { if case .string(let s)? = json["error"]?["code"] { return s } else { return nil } }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var int: Int? { if case .number(let n) = self { return Int(n) } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var items: [JSONValue] { if case .array(let a)? = self["items"] { return a } else { return [] } }
}

/// A tiny gzip (`gzip -c`) of bytes, for Content-Encoding tests.
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-api-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m").path
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["gzip", "-c", path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Array(data)
}
