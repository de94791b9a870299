import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Every promise of `IntegrationTester`'s doc comments, checked against one tester (the twin
/// `MemoryIntegrationTester`; the live one, libcurl's `IntegrationCheck` wired in the executable,
/// is checked end to end by `APITests.integrationsThroughTheAPINeverShowTheirSecrets`).
public enum IntegrationTesterConformance {
    /// - Parameters:
    ///   - readable: a URL the tester can read with `integration`; `missing`: one it cannot.
    public static func exercise(_ tester: any IntegrationTester, integration: StoredIntegration, secret: IntegrationSecret,
                                readable: String, missing: String) throws {
        let ok = try #require(JSONValue.parse(Array(try tester.test(integration, secret: secret, url: readable).utf8)))
        #expect(ok["ok"] == .bool(true), "\(ok.compactText)")
        // An unreadable object is a report, never a thrown error: `ok` false with a code.
        let text = try tester.test(integration, secret: secret, url: missing)
        let failed = try #require(JSONValue.parse(Array(text.utf8)))
        #expect(failed["ok"] == .bool(false), "\(text)")
        if case .string(let code)? = failed["code"] { #expect(!code.isEmpty) } else { Issue.record("no code in \(text)") }
        // Never a URL's query (a presigned signature) nor the sealed credentials.
        let signed = try tester.test(integration, secret: secret, url: missing + "?X-Amz-Signature=CANARY")
        #expect(!signed.contains("CANARY") && !signed.contains(integration.credentials))
    }
}
