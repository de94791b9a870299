import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// An `ObjectVerifier` under test, with a place to put objects it will read.
public struct ObjectVerifierUnderTest {
    public var verifier: any ObjectVerifier
    /// Stores an object under a name; returns its URL.
    public var put: (_ name: String, _ bytes: [UInt8]) throws -> String
    /// A URL where no object is.
    public var missing: (_ name: String) -> String

    public init(verifier: any ObjectVerifier, put: @escaping (String, [UInt8]) throws -> String, missing: @escaping (String) -> String) {
        self.verifier = verifier
        self.put = put
        self.missing = missing
    }
}

/// Every promise of `ObjectVerifier`'s doc comments, checked against one implementation (the
/// twin `MemoryObjectVerifier`, and `HTTPObjectVerifier` reading a real HTTP object server):
/// one outcome per unit, in order; failures are values with stable codes; the same bytes give
/// the same media facts.
public enum ObjectVerifierConformance {
    public static func exercise(_ v: ObjectVerifierUnderTest) throws {
        let png = try v.put("a.png", Fixtures.png(width: 33, height: 17))
        let text = try v.put("notes.txt", Array("plain words\nand lines\n".utf8))
        let frames = try (0..<3).map { try v.put("g/\($0).png", Fixtures.png(width: 8, height: 8)) }
        let gone = v.missing("gone.png")
        let manifest = """
            {"images": [{"objectUrl": "\(png)"}, {"objectUrl": "\(gone)"}, {"objectUrl": "\(text)"},
                        {"objectUrl": "\(gone)", "imageMetadata": {"mimeType": "image/jpeg", "fileSize": 5, "width": 640, "height": 480}}],
             "text": [{"objectUrl": "\(text)"}],
             "image_groups": [{"title": "g", "objectUrl_0": "\(frames[0])", "objectUrl_1": "\(frames[1])", "objectUrl_2": "\(frames[2])"}]}
            """
        let units = try Fixtures.units(manifest)
        #expect(units.count == 6)
        let outcomes = v.verifier.verify(units, context: VerificationContext(jobID: UUID().uuidString.lowercased(), integrationID: nil))
        #expect(outcomes.count == units.count)
        guard outcomes.count == 6 else { return }
        func info(_ i: Int) -> MediaInfo? { if case .verified(let m) = outcomes[i] { return m } else { return nil } }
        func code(_ i: Int) -> UnitErrorCode? { if case .failed(let c, _) = outcomes[i] { return c } else { return nil } }

        let image = try #require(info(0))
        #expect(image.width == 33 && image.height == 17 && image.mimeType == "image/png")
        #expect(image.size == Int64(Fixtures.png(width: 33, height: 17).count))
        #expect(code(1) == "not_found")
        #expect(code(2) == "type_mismatch")                  // declared an image, is text
        #expect(info(3)?.width == 640 && info(3)?.supplied == true)  // supplied metadata is trusted, never read
        #expect(info(4)?.mimeType == "text/plain")
        let group = try #require(info(5))
        #expect(group.frameCount == 3 && group.width == 8)
        #expect(group.size == Int64(3 * Fixtures.png(width: 8, height: 8).count))
    }
}
