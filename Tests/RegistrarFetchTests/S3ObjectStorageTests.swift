import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarRuntime
import RegistrarTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `S3ObjectStorage` against a real S3 implementation: moto in server mode with authentication
/// on (after the fixture's first three calls every request must carry a valid SigV4 signature
/// of a known IAM key). The same `ObjectStorageConformance` the twin and the local directory
/// pass; multipart uploads, their abort, a wrong secret and the SSRF rules.
@Suite(.serialized) struct S3ObjectStorageTests {
    /// One moto for the suite, on a port of 56290–56299 (REGISTRAR_TEST_MOTO_PORTS overrides the
    /// range), under a shell that kills it when our stdin side closes (the test process exits).
    final class Moto: @unchecked Sendable {
        let endpoint: String
        let keyID: String
        let secret: String
        let stdin = Pipe()

        static let shared: Result<Moto, ServerStartError> = Result { try Moto() }.mapError { ServerStartError(description: "\($0)") }

        static var python: String { (ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv") + "/bin/python" }

        init() throws {
            let range = ProcessInfo.processInfo.environment["REGISTRAR_TEST_MOTO_PORTS"] ?? "56290-56299"
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2 else { throw ServerStartError(description: "REGISTRAR_TEST_MOTO_PORTS must be FROM-TO") }
            let pick = try Self.output([Self.python, "-c", """
                import socket
                for p in range(\(bounds[0]), \(bounds[1]) + 1):
                    s = socket.socket()
                    try:
                        s.bind(('127.0.0.1', p)); print(p); break
                    except OSError: pass
                    finally: s.close()
                """])
            guard let port = Int(pick.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw ServerStartError(description: "no free port in \(range)") }
            let moto = (Self.python as NSString).deletingLastPathComponent + "/moto_server"
            guard FileManager.default.isExecutableFile(atPath: moto) else { throw ServerStartError(description: "\(moto) is missing: run scripts/setup") }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            let log = NSTemporaryDirectory() + "registrar-moto-\(port).log"
            p.arguments = ["-c", "INITIAL_NO_AUTH_ACTION_COUNT=3 \"$0\" -H 127.0.0.1 -p \(port) >\"$1\" 2>&1 & pid=$!; cat >/dev/null; kill -9 $pid", moto, log]
            p.standardInput = stdin
            try p.run()
            endpoint = "http://127.0.0.1:\(port)"
            // Generous: with the whole suite running in parallel on two cores, moto's imports take a while.
            let deadline = Date().addingTimeInterval(120)
            while (try? Self.output(["/usr/bin/curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "\(endpoint)/moto-api/"]))?.hasPrefix("200") != true {
                guard Date() < deadline else {
                    let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(500) ?? ""
                    throw ServerStartError(description: "moto did not start on port \(port): \(tail)")
                }
                usleep(100_000)
            }
            let seed = NSTemporaryDirectory() + "moto-seed-\(UUID().uuidString).txt"
            FileManager.default.createFile(atPath: seed, contents: Data("seed".utf8))
            let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../RegistrarIntegrationTests/Support/moto_fixture.py").standardized.path
            let json = try Self.output([Self.python, fixture, endpoint, "registrar-store", seed])
            guard let d = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String],
                  let k = d["access_key_id"], let s = d["secret_access_key"] else { throw ServerStartError(description: "moto fixture printed no JSON: \(json)") }
            keyID = k
            secret = s
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
            guard p.terminationStatus == 0 else { throw ServerStartError(description: "\(argv[0]) failed (\(p.terminationStatus))") }
            return String(decoding: data, as: UTF8.self)
        }

        func storage(prefix: String, secret: String? = nil, multipartMiB: Int? = nil, policy: AddressPolicy = RangeFetcherTests.loopbackOnly) throws -> S3ObjectStorage {
            var text = "s3://registrar-store/\(prefix)?integration=moto"
            if let multipartMiB { text += "&multipartMiB=\(multipartMiB)" }
            guard case .s3(let target) = try StorageLocation.parse(text) else { throw ServerStartError(description: "not s3") }
            var settings = IntegrationSettings()
            settings.endpoint = endpoint
            return try S3ObjectStorage(target: target, kind: .s3Compatible, settings: settings,
                                       secret: .awsKeys(AWSCredentials(accessKeyID: keyID, secretAccessKey: secret ?? self.secret)),
                                       policy: FetchPolicy(addressPolicy: policy, maxAttempts: 2, baseBackoff: 0.01))
        }
    }

    static func run() -> String { "t\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func conformanceAgainstMotoWithSignatureChecks() throws {
        let moto = try Moto.shared.get()
        let prefix = "conf/\(Self.run())"
        try ObjectStorageConformance.exercise { try moto.storage(prefix: prefix) }
        // The objects are plain S3 objects under the prefix, their metadata beside them.
        let s = try moto.storage(prefix: prefix)
        #expect(try s.keys(prefix: "").count == 1)
        #expect(try s.openMultipartUploads().isEmpty)
    }

    @Test func aWrongSecretIsRefusedAndNeverShown() throws {
        let moto = try Moto.shared.get()
        let canary = "wrongSECRETcanary0123456789abcdefABCDEF"
        let s = try moto.storage(prefix: "wrong/\(Self.run())", secret: canary)
        var source = MemoryByteSource(Array("x".utf8))
        do {
            _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a write signed with a wrong secret was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("access denied"), "\(text)")
            #expect(!text.contains(canary) && !text.contains("Signature="), "\(text)")
        }
        #expect(throws: StorageError.self) { try s.keys(prefix: "") }
    }

    @Test func multipartUploadsAndTheirAbort() throws {
        let moto = try Moto.shared.get()
        let s = try moto.storage(prefix: "mp/\(Self.run())", multipartMiB: 5)
        // 12 MiB + 3 bytes: parts of 5, 5 and 2 MiB.
        let size = (12 << 20) + 3
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        var hasher = ContentHasher()
        content.withUnsafeBytes { hasher.update($0) }
        let sha = hasher.finalizeHex()
        var source = MemoryByteSource(content, maxPerRead: 700_001)
        let key = ObjectKey("videos/big.bin")!
        let stored = try s.write(key, contentType: "application/octet-stream", from: &source, expectedSHA256: sha)
        #expect(stored.size == Int64(size) && stored.sha256 == sha)
        #expect(try s.stat(key) == stored)
        s.readChunk = 3 << 20
        #expect(try ObjectStorageConformance.readAll(s.open(key)?.reader) == content)
        // A multipart write whose SHA-256 is not the expected one, and one whose source breaks
        // after two parts: both aborted, nothing stored, no upload left open.
        var again = MemoryByteSource(content)
        #expect(throws: StorageError.self) {
            try s.write(ObjectKey("videos/wrong.bin")!, contentType: "application/octet-stream", from: &again, expectedSHA256: String(repeating: "a", count: 64))
        }
        var failing = ObjectStorageConformance.FailingSource(bytes: 11 << 20)
        #expect(throws: (any Error).self) { try s.write(ObjectKey("videos/broken.bin")!, contentType: "application/octet-stream", from: &failing, expectedSHA256: nil) }
        #expect(try s.stat(ObjectKey("videos/wrong.bin")!) == nil)
        #expect(try s.stat(ObjectKey("videos/broken.bin")!) == nil)
        #expect(try s.openMultipartUploads().isEmpty, "every failed multipart upload was aborted")
        #expect(try s.keys(prefix: "videos/").map(\.text) == ["videos/big.bin"])
    }

    @Test func anObjectChangedBehindTheStoragesBackFailsTheRead() throws {
        let moto = try Moto.shared.get()
        let run = Self.run()
        let s = try moto.storage(prefix: "tamper/\(run)")
        var source = MemoryByteSource(Array("original bytes".utf8))
        let key = ObjectKey("a.txt")!
        _ = try s.write(key, contentType: "text/plain", from: &source, expectedSHA256: nil)
        // The same S3 object rewritten from outside (a storage rooted at the bucket), same size.
        let outside = try moto.storage(prefix: "")
        var other = MemoryByteSource(Array("tampered bytes".utf8))
        _ = try outside.write(ObjectKey("tamper/\(run)/a.txt")!, contentType: "text/plain", from: &other, expectedSHA256: nil)
        do {
            _ = try ObjectStorageConformance.readAll(s.open(key)?.reader)
            Issue.record("a changed object was read as the stored one")
        } catch {
            #expect("\(error)".contains("the stored SHA-256 is"), "\(error)")
        }
    }

    @Test func theEndpointObeysTheAddressPolicy() throws {
        let moto = try Moto.shared.get()
        let s = try moto.storage(prefix: "ssrf", policy: AddressPolicy())
        var source = MemoryByteSource(Array("x".utf8))
        do {
            _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a loopback endpoint was reached without being allowed")
        } catch {
            #expect("\(error)".contains("address policy"), "\(error)")
        }
    }
}
