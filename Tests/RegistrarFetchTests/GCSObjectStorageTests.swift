import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarRuntime
import RegistrarTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `GCSObjectStorage` against the fake GCS of `Support/gcs_fixture.py`: a service-account token
/// endpoint that verifies the RS256 JWT and its scope, and an XML API that accepts only the
/// bearer tokens it issued (not expired; read-write for writes) and verifies every body's
/// `Content-MD5` / `x-goog-hash`. The same `ObjectStorageConformance` as the twin, the local
/// directory and S3; multipart uploads and their abort; damaged bodies; token expiry; SSRF.
@Suite(.serialized) struct GCSObjectStorageTests {
    /// One fixture for the suite, on a port of REGISTRAR_TEST_GCS_PORTS (FROM-TO) or an
    /// ephemeral one; it exits when our stdin side closes (the test process exits).
    final class FakeGCS: @unchecked Sendable {
        let endpoint: String
        let workDir: URL
        let process = Process()
        let stdin = Pipe()
        static let bucket = "registrar-gcs"

        static let shared: Result<FakeGCS, ServerStartError> = Result { try FakeGCS() }.mapError { ServerStartError(description: "\($0)") }

        init() throws {
            workDir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gcs-fixture-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../RegistrarIntegrationTests/Support/gcs_fixture.py").standardized.path
            var args = [script, workDir.path, Self.bucket]
            if let ports = ProcessInfo.processInfo.environment["REGISTRAR_TEST_GCS_PORTS"] { args += ["--ports", ports] }
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = args
            let out = Pipe()
            process.standardInput = stdin
            process.standardOutput = out
            process.standardError = FileHandle.standardError
            try process.run()
            var line = Data()
            let deadline = Date().addingTimeInterval(60)
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty || Date() > deadline { throw ServerStartError(description: "the fake GCS did not start") }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else { throw ServerStartError(description: "fake GCS said '\(text)'") }
            endpoint = "http://127.0.0.1:\(port)"
        }

        func key(_ file: String) throws -> GCPServiceAccountKey {
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: workDir.appendingPathComponent(file))) as? [String: Any])
            return GCPServiceAccountKey(clientEmail: doc["client_email"] as! String, privateKeyPEM: doc["private_key"] as! String,
                                        privateKeyID: doc["private_key_id"] as? String, tokenURI: doc["token_uri"] as! String)
        }

        func storage(prefix: String, keyFile: String = "sa-good.json", multipartMiB: Int? = nil,
                     policy: AddressPolicy = RangeFetcherTests.loopbackOnly) throws -> GCSObjectStorage {
            var text = "gs://\(Self.bucket)/\(prefix)?integration=g"
            if let multipartMiB { text += "&multipartMiB=\(multipartMiB)" }
            guard case .gcs(let target) = try StorageLocation.parse(text) else { throw ServerStartError(description: "not gs") }
            var settings = IntegrationSettings()
            settings.endpoint = endpoint
            return try GCSObjectStorage(target: target, kind: .gcp, settings: settings, secret: .gcpServiceAccount(try key(keyFile)),
                                        policy: FetchPolicy(addressPolicy: policy, maxAttempts: 2, baseBackoff: 0.01))
        }

        func stats() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(string: "\(endpoint)/_fixture/stats")!)) as? [String: Any])
        }

        func stat(_ name: String) throws -> Int { try stats()[name] as? Int ?? -1 }

        /// A control call of the fixture (`/_fixture/...`), e.g. `expire-tokens`.
        func control(_ method: String, _ path: String, body: [UInt8] = []) throws {
            _ = try S3ObjectStorageTests.Moto.output(["/usr/bin/curl", "-sf", "-X", method, "--data-binary", String(decoding: body, as: UTF8.self),
                                                      "\(endpoint)/_fixture/\(path)"])
        }
    }

    static func run() -> String { "t\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func conformanceAgainstTheFakeGCSWithTokensAndChecksums() throws {
        let gcs = try FakeGCS.shared.get()
        let before = try gcs.stats()
        let prefix = "conf/\(Self.run())"
        try ObjectStorageConformance.exercise { try gcs.storage(prefix: prefix) }
        let s = try gcs.storage(prefix: prefix)
        #expect(try s.keys(prefix: "").count == 1)
        #expect(try s.openMultipartUploads().isEmpty)
        let after = try gcs.stats()
        func delta(_ k: String) -> Int { (after[k] as? Int ?? 0) - (before[k] as? Int ?? 0) }
        // Every PUT carried a checksum the store verified; every request carried a valid token.
        #expect(delta("puts_verified") >= 6 && delta("puts_unverified") == 0, "\(after)")
        #expect(delta("unauthenticated") == 0 && delta("unknown_token") == 0 && delta("expired") == 0 && delta("forbidden") == 0, "\(after)")
        // The token is asked for with write access, and cached: one exchange per storage instance.
        #expect((after["scopes"] as? [String])?.last == ServiceAccountJWT.readWriteScope)
        #expect(s.authenticator.exchanges == 1)
    }

    @Test func multipartUploadsAndTheirAbort() throws {
        let gcs = try FakeGCS.shared.get()
        let s = try gcs.storage(prefix: "mp/\(Self.run())", multipartMiB: 5)
        let before = try gcs.stats()
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
        let after = try gcs.stats()
        #expect((after["multipart_completed"] as? Int ?? 0) - (before["multipart_completed"] as? Int ?? 0) == 1)
        #expect((after["parts_verified"] as? Int ?? 0) - (before["parts_verified"] as? Int ?? 0) == 3, "three parts, each with its Content-MD5")
        // A wrong expected SHA-256, a source that breaks after two parts, a part damaged on the
        // way: all aborted, nothing stored, no upload left open.
        var again = MemoryByteSource(content)
        #expect(throws: StorageError.self) {
            try s.write(ObjectKey("videos/wrong.bin")!, contentType: "application/octet-stream", from: &again, expectedSHA256: String(repeating: "a", count: 64))
        }
        var failing = ObjectStorageConformance.FailingSource(bytes: 11 << 20)
        #expect(throws: (any Error).self) { try s.write(ObjectKey("videos/broken.bin")!, contentType: "application/octet-stream", from: &failing, expectedSHA256: nil) }
        try gcs.control("POST", "corrupt-next?n=1")
        var damaged = MemoryByteSource(content)
        do {
            _ = try s.write(ObjectKey("videos/damaged.bin")!, contentType: "application/octet-stream", from: &damaged, expectedSHA256: nil)
            Issue.record("a part damaged on the way was accepted")
        } catch {
            #expect("\(error)".contains("uploading part 1 of gs://registrar-gcs/mp/") && "\(error)".contains("HTTP 400"), "\(error)")
        }
        for name in ["wrong", "broken", "damaged"] { #expect(try s.stat(ObjectKey("videos/\(name).bin")!) == nil) }
        #expect(try s.openMultipartUploads().isEmpty, "every failed multipart upload was aborted")
        #expect(try s.keys(prefix: "videos/").map(\.text) == ["videos/big.bin"])
        #expect((try gcs.stats()["multipart_aborted"] as? Int ?? 0) - (before["multipart_aborted"] as? Int ?? 0) == 3)
    }

    @Test func aBodyDamagedOnTheWayIsRefusedAndNothingIsStored() throws {
        let gcs = try FakeGCS.shared.get()
        let s = try gcs.storage(prefix: "digest/\(Self.run())")
        let bad = try gcs.stat("bad_digest")
        try gcs.control("POST", "corrupt-next?n=1")
        var source = MemoryByteSource(Array("payload bytes".utf8))
        let key = ObjectKey("a.txt")!
        do {
            _ = try s.write(key, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a damaged body was stored")
        } catch {
            let text = "\(error)"
            #expect(text.contains("writing gs://registrar-gcs/digest/") && text.contains("/a.txt: refused (HTTP 400)"), "\(text)")
            #expect(!text.contains("ya29.") && !text.contains("Bearer"), "\(text)")
        }
        #expect(try gcs.stat("bad_digest") == bad + 1)
        #expect(try s.stat(key) == nil)
    }

    @Test func anExpiredTokenIsExchangedAgainAndAWrongKeyIsRefused() throws {
        let gcs = try FakeGCS.shared.get()
        let s = try gcs.storage(prefix: "tokens/\(Self.run())")
        var a = MemoryByteSource(Array("one".utf8))
        _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &a, expectedSHA256: nil)
        var b = MemoryByteSource(Array("two".utf8))
        _ = try s.write(ObjectKey("b.txt")!, contentType: "text/plain", from: &b, expectedSHA256: nil)
        #expect(s.authenticator.exchanges == 1, "the token is cached")
        // The store stops honouring every token issued so far: the next request is refused with
        // 401, the token exchanged again, and the request repeated with the new one.
        let expired = try gcs.stat("expired")
        try gcs.control("POST", "expire-tokens")
        #expect(try ObjectStorageConformance.readAll(s.open(ObjectKey("a.txt")!)?.reader) == Array("one".utf8))
        #expect(s.authenticator.exchanges == 2)
        #expect(try gcs.stat("expired") == expired + 1)

        // A key the service account does not have: the token endpoint refuses it, nothing is
        // sent to the bucket, and neither the key nor a token shows in the error.
        let wrong = try gcs.storage(prefix: "tokens/\(Self.run())", keyFile: "sa-wrong.json")
        let gets = try gcs.stat("object_gets")
        var c = MemoryByteSource(Array("x".utf8))
        do {
            _ = try wrong.write(ObjectKey("c.txt")!, contentType: "text/plain", from: &c, expectedSHA256: nil)
            Issue.record("a write with a refused key was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("gs://registrar-gcs/tokens/") && text.contains("refused the key of registrar-it@"), "\(text)")
            let pem = try gcs.key("sa-wrong.json").privateKeyPEM.split(separator: "\n")[1]
            #expect(!text.contains(pem) && !text.contains("invalid_grant") && !text.contains("ya29."), "\(text)")
        }
        #expect(try gcs.stat("object_gets") == gets)
    }

    @Test func anObjectChangedBehindTheStoragesBackFailsTheRead() throws {
        let gcs = try FakeGCS.shared.get()
        let run = Self.run()
        let s = try gcs.storage(prefix: "tamper/\(run)")
        var source = MemoryByteSource(Array("original bytes".utf8))
        _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
        try gcs.control("PUT", "object/tamper/\(run)/a.txt", body: Array("tampered bytes".utf8))
        do {
            _ = try ObjectStorageConformance.readAll(s.open(ObjectKey("a.txt")!)?.reader)
            Issue.record("a changed object was read as the stored one")
        } catch {
            #expect("\(error)".contains("the stored SHA-256 is"), "\(error)")
        }
    }

    @Test func theEndpointObeysTheAddressPolicyAndOnlyGCPServiceAccountsWrite() throws {
        let gcs = try FakeGCS.shared.get()
        let s = try gcs.storage(prefix: "ssrf", policy: AddressPolicy())
        var source = MemoryByteSource(Array("x".utf8))
        do {
            _ = try s.write(ObjectKey("a.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
            Issue.record("a loopback endpoint was reached without being allowed")
        } catch {
            // The first request is the token exchange at the (loopback) token endpoint: refused there.
            #expect("\(error)".contains("gs://registrar-gcs/ssrf: no access token") && "\(error)".contains("not in the fetch allow-list"), "\(error)")
        }
        let target = GCSStorageTarget(bucket: "registrar-gcs", prefix: "", integration: "h")
        #expect(throws: StorageError.unavailable("gs://registrar-gcs: integration 'h' holds HMAC keys; gs:// storage writes with a service-account key's OAuth2 token (add the integration from the key file)")) {
            try GCSObjectStorage(target: target, kind: .gcp, settings: IntegrationSettings(),
                                 secret: .gcpHMAC(GCSHMACCredentials(accessID: "GOOG1EXAMPLE", secret: "s")), policy: FetchPolicy(addressPolicy: AddressPolicy()))
        }
    }
}
