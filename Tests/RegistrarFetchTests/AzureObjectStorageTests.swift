import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarRuntime
import RegistrarTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `AzureObjectStorage` against `azure_fixture.py`, a fake Blob service that checks every
/// request's Shared Key signature (or SAS) with the official SDK's signing code and every body's
/// Content-MD5: the same `ObjectStorageConformance` the twin, the directory and S3 pass; a block
/// list write; a wrong key; a SAS; the SSRF rules.
@Suite(.serialized) struct AzureObjectStorageTests {
    /// One fixture for the suite, on a port of 56270–56279 (REGISTRAR_TEST_AZURE_PORTS overrides
    /// the range), killed when our stdin side closes (the test process exits).
    final class Fixture: @unchecked Sendable {
        let endpoint: String
        let account = "acct"
        /// A random account key (base64), as the portal shows one.
        let key = Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let stdin = Pipe()

        static let shared: Result<Fixture, ServerStartError> = Result { try Fixture() }.mapError { ServerStartError(description: "\($0)") }

        static var python: String { (ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv") + "/bin/python" }
        static var script: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../RegistrarIntegrationTests/Support/azure_fixture.py").standardized.path
        }

        init() throws {
            let range = ProcessInfo.processInfo.environment["REGISTRAR_TEST_AZURE_PORTS"] ?? "56270-56279"
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2 else { throw ServerStartError(description: "REGISTRAR_TEST_AZURE_PORTS must be FROM-TO") }
            let pick = try S3ObjectStorageTests.Moto.output([Self.python, "-c", """
                import socket
                for p in range(\(bounds[0]), \(bounds[1]) + 1):
                    s = socket.socket()
                    try:
                        s.bind(('127.0.0.1', p)); print(p); break
                    except OSError: pass
                    finally: s.close()
                """])
            guard let port = Int(pick.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw ServerStartError(description: "no free port in \(range)") }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.python)
            p.arguments = [Self.script, String(port), account, key]
            p.standardInput = stdin
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            // The fixture prints "ready" once it listens (or exits: azure-storage-blob missing).
            let line = out.fileHandleForReading.availableDataLine()
            guard line.hasPrefix("ready") else { throw ServerStartError(description: "azure_fixture.py did not start (run scripts/setup for azure-storage-blob)") }
            endpoint = "http://127.0.0.1:\(port)"
            try control("bulk", method: "POST", body: #"{"containers": ["store"]}"#)
        }

        /// An unauthenticated control call of the fixture (`/_fixture/…`); its answer.
        @discardableResult
        func control(_ path: String, method: String = "GET", body: String? = nil) throws -> String {
            var argv = ["/usr/bin/curl", "-sf", "-X", method, "\(endpoint)/_fixture/\(path)"]
            if let body { argv += ["-H", "Content-Type: application/json", "--data-binary", body] }
            return try S3ObjectStorageTests.Moto.output(argv)
        }

        func stats() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(control("stats").utf8)) as? [String: Any] ?? [:]
        }

        func storage(prefix: String, key: String? = nil, sas: String? = nil, blockMiB: Int? = nil,
                     policy: AddressPolicy = RangeFetcherTests.loopbackOnly) throws -> AzureObjectStorage {
            var text = "https://\(account).blob.core.windows.net/store/\(prefix)?integration=fx"
            if let blockMiB { text += "&blockMiB=\(blockMiB)" }
            guard case .azure(let target) = try StorageLocation.parse(text) else { throw ServerStartError(description: "not azure") }
            var settings = IntegrationSettings()
            settings.endpoint = endpoint
            settings.account = account
            let secret: IntegrationSecret = try sas.map { .azureSAS($0) }
                ?? .azureSharedKey(AzureSharedKeyCredentials(account: account, base64Key: key ?? self.key))
            return try AzureObjectStorage(target: target, kind: .azure, settings: settings, secret: secret,
                                          policy: FetchPolicy(addressPolicy: policy, maxAttempts: 2, baseBackoff: 0.01))
        }
    }

    static func run() -> String { "t\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func conformanceAgainstTheFixtureWithSignatureChecks() throws {
        let fx = try Fixture.shared.get()
        let failuresBefore = try fx.stats()["auth_failures"] as? Int ?? -1
        let prefix = "conf/\(Self.run())"
        try ObjectStorageConformance.exercise { try fx.storage(prefix: prefix) }
        let s = try fx.storage(prefix: prefix)
        #expect(try s.keys(prefix: "").count == 1)
        // Every request of the suite was signed correctly: none refused.
        #expect(try fx.stats()["auth_failures"] as? Int == failuresBefore)
        // The blobs are plain blobs under the prefix, their metadata beside them.
        let raw = try s.listPage(prefix: prefix + "/", marker: nil).objects.map(\.key)
        #expect(raw.count == 2 && raw.contains { $0.hasPrefix("\(prefix)/.meta/") }, "\(raw)")
    }

    @Test func blockListWritesAndTheirFailures() throws {
        let fx = try Fixture.shared.get()
        let s = try fx.storage(prefix: "blocks/\(Self.run())", blockMiB: 1)
        // 3 MiB + 5 bytes: blocks of 1, 1, 1 MiB and 5 bytes, committed by one Put Block List.
        let size = (3 << 20) + 5
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        var hasher = ContentHasher()
        content.withUnsafeBytes { hasher.update($0) }
        let sha = hasher.finalizeHex()
        var source = MemoryByteSource(content, maxPerRead: 300_001)
        let key = ObjectKey("videos/big.bin")!
        let stored = try s.write(key, contentType: "video/mp4", from: &source, expectedSHA256: sha)
        #expect(stored.size == Int64(size) && stored.sha256 == sha)
        #expect(try s.stat(key) == stored)
        s.readChunk = 700_000
        #expect(try ObjectStorageConformance.readAll(s.open(key)?.reader) == content)
        let listed = try s.listPage(prefix: s.target.blobName(key), marker: nil).objects
        // The committed blob carries the whole content's MD5 (the fixture checked it against the blocks).
        let md5 = Data(Insecure_MD5(content)).base64EncodedString()
        #expect(listed.first?.etag == md5, "\(listed)")
        // A wrong expected SHA-256 and a source that breaks after two blocks: nothing committed.
        var again = MemoryByteSource(content)
        #expect(throws: StorageError.self) {
            try s.write(ObjectKey("videos/wrong.bin")!, contentType: "application/octet-stream", from: &again, expectedSHA256: String(repeating: "a", count: 64))
        }
        var failing = ObjectStorageConformance.FailingSource(bytes: (2 << 20) + 10)
        #expect(throws: (any Error).self) { try s.write(ObjectKey("videos/broken.bin")!, contentType: "application/octet-stream", from: &failing, expectedSHA256: nil) }
        #expect(try s.stat(ObjectKey("videos/wrong.bin")!) == nil)
        #expect(try s.stat(ObjectKey("videos/broken.bin")!) == nil)
        #expect(try s.listPage(prefix: s.target.prefix + "/videos/", marker: nil).objects.map(\.key) == [s.target.blobName(key)],
                "no blob committed for the failed writes")
        #expect(try s.keys(prefix: "videos/").map(\.text) == ["videos/big.bin"])
    }

    @Test func aWrongKeyIsRefusedAndNeverShown() throws {
        let fx = try Fixture.shared.get()
        let canary = Data("wrongKEYcanary0123456789abcdefABCDEF".utf8).base64EncodedString()
        let s = try fx.storage(prefix: "wrong/\(Self.run())", key: canary)
        var source = MemoryByteSource(Array("x".utf8))
        do {
            _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a write signed with a wrong key was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("access denied (HTTP 403)") && text.contains("Put Blob") && text.contains("/store/wrong/"), "\(text)")
            #expect(!text.contains(canary) && !text.contains("SharedKey"), "\(text)")
        }
        #expect(throws: StorageError.self) { try s.keys(prefix: "") }
    }

    @Test func aContainerSASSignsEveryCallAndAnExpiredOneIsRefused() throws {
        let fx = try Fixture.shared.get()
        let sas = try fx.control("sas?container=store&permissions=rwdl&seconds=3600")
        let prefix = "sas/\(Self.run())"
        try ObjectStorageConformance.exercise { try fx.storage(prefix: prefix, sas: sas) }
        // A token signed with the right key but already expired: 403, the token not in the message.
        let expired = try fx.control("sas?container=store&permissions=rwdl&seconds=-60")
        let s = try fx.storage(prefix: prefix, sas: expired)
        do {
            _ = try s.stat(ObjectKey("a.txt")!)
            Issue.record("an expired SAS was accepted")
        } catch {
            #expect("\(error)".contains("access denied (HTTP 403)") && !"\(error)".contains("sig="), "\(error)")
        }
    }

    @Test func theEndpointObeysTheAddressPolicy() throws {
        let fx = try Fixture.shared.get()
        let s = try fx.storage(prefix: "ssrf", policy: AddressPolicy())
        var source = MemoryByteSource(Array("x".utf8))
        do {
            _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a loopback endpoint was reached without being allowed")
        } catch {
            #expect("\(error)".contains("address policy"), "\(error)")
        }
    }

    /// MD5 for the expectation, computed by the system's md5sum so it is independent of our code.
    func Insecure_MD5(_ bytes: [UInt8]) -> [UInt8] {
        let path = NSTemporaryDirectory() + "md5-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let hex = (try? S3ObjectStorageTests.Moto.output(["/usr/bin/md5sum", path]))?.prefix(32) ?? ""
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); out.append(UInt8(hex[i..<j], radix: 16)!); i = j }
        return out
    }
}

extension FileHandle {
    /// Reads up to the first newline (or the end): the fixture's "ready" line.
    func availableDataLine() -> String {
        var out = Data()
        while true {
            let d = readData(ofLength: 1)
            if d.isEmpty || d == Data("\n".utf8) { break }
            out.append(d)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
