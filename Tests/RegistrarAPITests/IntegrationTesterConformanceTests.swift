import Foundation
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `IntegrationTester`'s conformance suite on the twin (the live tester is in the executable; `APITests` checks it end to end).
@Suite struct IntegrationTesterConformanceTests {
    @Test func twin() throws {
        let ring = try EncryptionKeyRing(text: "k1:" + SigningBase64.encode([UInt8](repeating: 3, count: 32)))
        let definition = try IntegrationDefinition.build(kind: .direct, fields: [:], buckets: nil)
        let store = MemoryRegistry()
        let stored = try store.addIntegration(name: "plain", definition: definition, ring: ring, tenantID: DefaultTenant.id)
        try IntegrationTesterConformance.exercise(MemoryIntegrationTester(readable: ["https://b.example/a.png"]), integration: stored,
                                                  secret: try stored.decryptSecret(ring: ring),
                                                  readable: "https://b.example/a.png", missing: "https://b.example/none.png")
    }
}
