import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `ObjectVerifier`'s conformance suite on the twin (objects in memory) and on the worker's
/// `HTTPObjectVerifier` reading the same bytes from a real nginx on loopback.
@Suite struct VerifierConformanceTests {
    @Test func twin() throws {
        let twin = MemoryObjectVerifier()
        try ObjectVerifierConformance.exercise(ObjectVerifierUnderTest(
            verifier: twin,
            put: { name, bytes in
                let url = "https://bucket.example/conformance/\(name)"
                twin.put(url, .bytes(bytes))
                return url
            },
            missing: { "https://bucket.example/conformance/missing/\($0)" }))
    }

    @Test func http() throws {
        let env = ProcessInfo.processInfo.environment
        let base = try #require(env["REGISTRAR_OBJECTS_URL"].flatMap { $0.isEmpty ? nil : $0 }, "REGISTRAR_OBJECTS_URL is not set: run scripts/services up")
        let dir = try #require(env["REGISTRAR_OBJECTS_DIR"].flatMap { $0.isEmpty ? nil : $0 }, "REGISTRAR_OBJECTS_DIR is not set: run scripts/services up")
        let sub = "verifier-conformance-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let root = URL(fileURLWithPath: dir).appendingPathComponent(sub)
        defer { try? FileManager.default.removeItem(at: root) }
        let policy = FetchPolicy(addressPolicy: try AddressPolicy(allowList: "127.0.0.0/8"))
        let verifier = try HTTPObjectVerifier(policy: policy, prober: ContentProber())
        try ObjectVerifierConformance.exercise(ObjectVerifierUnderTest(
            verifier: verifier,
            put: { name, bytes in
                let file = root.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                try Data(bytes).write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
                return "\(base)/\(sub)/\(name)"
            },
            missing: { "\(base)/\(sub)/missing/\($0)" }))
    }
}
