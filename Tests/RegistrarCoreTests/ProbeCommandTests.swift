import Foundation
import Testing

/// `registrar probe`'s output contract for targets it cannot read, with the real binary.
@Suite struct ProbeCommandTests {
    /// With `--json`, a target that is neither an http(s) URL nor a readable file is reported as
    /// the `{"error": {"code", "message"}}` object every other probe error uses (it used to be
    /// plain text); the exit status stays 2 (a usage error). Without `--json`, plain text.
    @Test func anUnreadableTargetIsAJSONErrorWithJSON() throws {
        let cli = ValidateCommandTests()
        for target in ["/nonexistent/registrar-\(UUID().uuidString).png", "s3://bucket/key.png?X-Amz-Signature=secret"] {
            let run = try cli.registrar(["probe", target, "--json"])
            #expect(run.status == 2, "\(target): exit \(run.status)")
            let object = try cli.json(run)
            let error = try #require(object["error"] as? [String: Any], "\(run.stdout)")
            #expect(error["code"] as? String == "invalid_target")
            #expect((error["message"] as? String)?.contains("not an http(s) URL") == true)
            #expect(!run.stdout.contains("secret"), "the query string is a secret: \(run.stdout)")
        }
        let plain = try cli.registrar(["probe", "/nonexistent/x.png"])
        #expect(plain.status == 2 && plain.stdout.isEmpty && plain.stderr.contains("cannot open"), "\(plain)")
    }
}
