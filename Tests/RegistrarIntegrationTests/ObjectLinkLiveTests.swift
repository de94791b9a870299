import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Registrar's own storage through a real `registrar api`: an object written into
/// `REGISTRAR_STORAGE_URL`'s directory is served by a link signed with `REGISTRAR_LINK_SECRET`,
/// byte for byte with its checksum; a changed expiry or key is refused.
extension LiveServers {
@Suite(.serialized) struct ObjectLinkLiveTests {
    @Test func signedLinksServeStoredObjects() throws {
        let h = try PipelineHarness()
        let root = h.workDir.appendingPathComponent("objects").path
        let secret = "live-link-secret-0123456789abcdef0123"
        let a = try APIHarness(h, extraEnv: ["REGISTRAR_STORAGE_URL": "file://" + root, "REGISTRAR_LINK_SECRET": secret])

        let storage = try LocalObjectStorage(root: root)
        let content = (0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var source = MemoryByteSource(content)
        let key = try #require(ObjectKey("exports/live/v1.json"))
        let stored = try storage.write(key, contentType: "application/json", from: &source, expectedSHA256: nil)

        let signer = try #require(SignedLink(secret: Array(secret.utf8)))
        let expires = Int(Date().timeIntervalSince1970) + 300
        let ok = try a.call("GET", "/v1/objects/\(key.text)?" + signer.query(for: key, expires: expires), key: nil)
        #expect(ok.status == 200)
        #expect(ok.body == Data(content))
        #expect(ok.header("X-Content-SHA256") == stored.sha256)

        let stretched = signer.query(for: key, expires: expires).replacingOccurrences(of: "expires=\(expires)", with: "expires=\(expires + 3600)")
        #expect(try a.call("GET", "/v1/objects/\(key.text)?" + stretched, key: nil).status == 403)
        // A link signed with another secret (another deployment) is refused.
        let stranger = try #require(SignedLink(secret: Array("another-secret-0123456789abcdef0123".utf8)))
        #expect(try a.call("GET", "/v1/objects/\(key.text)?" + stranger.query(for: key, expires: expires), key: nil).status == 403)
    }
}
}
