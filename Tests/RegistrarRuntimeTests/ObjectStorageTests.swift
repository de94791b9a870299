import Foundation
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `ObjectStorage`: the twin and the local-directory adapter pass one conformance suite; the
/// adapter also leaves no temporary file behind and keeps keys inside its root.
struct ObjectStorageTests {
    @Test func twin() throws {
        try ObjectStorageConformance.exercise { MemoryObjectStorage() }
    }

    @Test func localDirectory() throws {
        let root = NSTemporaryDirectory() + "registrar-storage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ObjectStorageConformance.exercise { try LocalObjectStorage(root: root) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/.tmp").isEmpty, "no temporary file is left behind")
        // The object is a plain file under the root, at its key.
        let s = try LocalObjectStorage(root: root)
        var source = MemoryByteSource(Array("abc".utf8))
        _ = try s.write(ObjectKey("exports/x/y.txt")!, contentType: "text/plain", from: &source, expectedSHA256: nil)
        #expect(FileManager.default.contents(atPath: root + "/exports/x/y.txt") == Data("abc".utf8))
        // Metadata files are not objects.
        #expect(try s.keys(prefix: "").map(\.text).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func keysNeverLeaveTheRoot() {
        for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "a/", "./a", "a b", "é", "a\u{0}b", String(repeating: "a", count: 513)] {
            #expect(ObjectKey(bad) == nil, "\(bad) accepted")
        }
        #expect(ObjectKey("exports/2026-12-07/v1.json") != nil)
        #expect(ObjectKey.problem(with: "a/../b") == "has a '..' segment")
        #expect(ObjectKey.segment(from: "../../etc/pass wd.jpg") == "_.._etc_pass_wd.jpg")
        #expect(ObjectKey.segment(from: "...") == "file")
        #expect(ObjectKey(ObjectKey.segment(from: "../x")) != nil)
    }

    @Test func signedLinksBindKeyAndExpiry() throws {
        let signer = try #require(SignedLink(secret: Array(repeating: 9, count: 32)))
        #expect(SignedLink(secret: Array(repeating: 9, count: 31)) == nil, "short secrets are refused")
        let key = ObjectKey("exports/a.json")!
        let query = signer.query(for: key, expires: 2_000)
        let parts = Dictionary(uniqueKeysWithValues: query.split(separator: "&").map { p in
            let kv = p.split(separator: "=", maxSplits: 1); return (String(kv[0]), String(kv[1])) })
        #expect(signer.verify(key, expires: parts["expires"], signature: parts["signature"], now: 1_999) == .valid)
        #expect(signer.verify(key, expires: parts["expires"], signature: parts["signature"], now: 2_001) == .expired)
        #expect(signer.verify(key, expires: "3000", signature: parts["signature"], now: 1_000) == .badSignature, "a stretched expiry")
        #expect(signer.verify(ObjectKey("exports/b.json")!, expires: parts["expires"], signature: parts["signature"], now: 1_000) == .badSignature)
        #expect(signer.verify(key, expires: nil, signature: parts["signature"], now: 1_000) == .malformed)
        #expect(SignedLink(secret: Array(repeating: 8, count: 32))!.verify(key, expires: parts["expires"], signature: parts["signature"], now: 1_000) == .badSignature)
    }

    @Test func storageLocations() throws {
        #expect(try StorageLocation.parse("file:///var/lib/registrar/objects/") == .directory("/var/lib/registrar/objects"))
        #expect(try StorageLocation.parse(" /data ") == .directory("/data"))
        #expect(throws: StorageLocationError.self) { try StorageLocation.parse("/data/../etc") }
        #expect(throws: StorageLocationError("relative/dir: expected an absolute directory path, file:///path, s3://BUCKET/PREFIX?integration=NAME, gs://BUCKET/PREFIX?integration=NAME or https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME")) { try StorageLocation.parse("relative/dir") }
        #expect(try StorageLocation.parse("s3://media-out/registrar/objects/?integration=store") ==
                .s3(S3StorageTarget(bucket: "media-out", prefix: "registrar/objects", integration: "store")))
    }
}
