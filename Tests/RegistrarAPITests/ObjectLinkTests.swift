import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `GET /v1/objects/{key}`: signed, expiring links to Registrar's own objects, no API key.
struct ObjectLinkTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    func rig() -> APIRig {
        var rig = APIRig()
        rig.config.linkSecret = Self.secret
        return rig
    }

    @Test func aSignedLinkServesTheObjectWithItsChecksum() async throws {
        let rig = rig()
        let content = (0..<(3 << 20)).map { UInt8($0 % 251) }   // 3 MiB: several streamed pieces
        var source = MemoryByteSource(content)
        let key = ObjectKey("exports/p1/v1.json")!
        let stored = try rig.world.storage.write(key, contentType: "application/json", from: &source, expectedSHA256: nil)
        let signer = SignedLink(secret: Self.secret)!
        let future = Int(Date().timeIntervalSince1970) + 600
        try await rig.run { client in
            let ok = try await client.call("/v1/objects/\(key.text)?\(signer.query(for: key, expires: future))", key: nil)
            #expect(ok.status == .ok)
            #expect(Array(buffer: ok.body) == content)
            #expect(ok.headers[.contentType] == "application/json")
            #expect(ok.headers[HTTPField.Name("X-Content-SHA256")!] == stored.sha256)
            #expect(ok.headers[.contentLength] == String(content.count))

            let past = Int(Date().timeIntervalSince1970) - 1
            let expired = try await client.call("/v1/objects/\(key.text)?\(signer.query(for: key, expires: past))", key: nil)
            #expect(expired.status == .forbidden && expired.errorCode == "link_expired")

            let forged = try await client.call("/v1/objects/exports/p1/other.json?\(signer.query(for: key, expires: future))", key: nil)
            #expect(forged.status == .forbidden && forged.errorCode == "invalid_signature", "a link is good for its key only")
            let bare = try await client.call("/v1/objects/\(key.text)", key: nil)
            #expect(bare.status == .forbidden && bare.errorCode == "invalid_signature")

            let gone = ObjectKey("exports/p1/missing.json")!
            let missing = try await client.call("/v1/objects/\(gone.text)?\(signer.query(for: gone, expires: future))", key: nil)
            #expect(missing.status == .notFound)
            let traversal = try await client.call("/v1/objects/exports/../secrets?expires=1&signature=x", key: nil)
            #expect(traversal.status == .notFound || traversal.status == .forbidden)
        }
    }
}
