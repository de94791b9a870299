import RegistrarCore
import Testing

/// Webhook URLs at creation and the retry schedule (docs/workflows.md, "Webhooks").
@Suite struct WebhookEventsTests {
    func refusal(_ url: String, allow: String = "") throws -> WebhookURLRefusal? {
        if case .failure(let r) = WebhookURLCheck.check(url, policy: try AddressPolicy(allowList: allow)) { return r }
        return nil
    }

    @Test func privateAndMetadataAddressesAreRefusedUnlessAllowed() throws {
        #expect(try refusal("http://10.0.0.1/hook")?.code == "destination_forbidden")
        #expect(try refusal("http://10.0.0.1/hook")?.message.contains("10.0.0.1") == true)
        #expect(try refusal("http://169.254.169.254/latest")?.code == "destination_forbidden")
        #expect(try refusal("http://[::1]:8080/x")?.code == "destination_forbidden")
        #expect(try refusal("http://127.0.0.1:9/x")?.code == "destination_forbidden")
        #expect(try refusal("http://metadata.google.internal/x")?.code == "destination_forbidden")
        // Allowed by the operator's list (a network never unlocks a metadata address; naming it does).
        #expect(try refusal("http://10.0.0.1/hook", allow: "10.0.0.0/8") == nil)
        #expect(try refusal("http://127.0.0.1:9/x", allow: "127.0.0.0/8") == nil)
        #expect(try refusal("http://169.254.169.254/latest", allow: "169.254.0.0/16")?.code == "destination_forbidden")
        #expect(try refusal("http://169.254.169.254/latest", allow: "169.254.169.254/32") == nil)
        // Public names and addresses pass; names are checked again when they are resolved.
        #expect(try refusal("https://hooks.example.com/in?x=1") == nil)
        #expect(try refusal("https://93.184.216.34/in") == nil)
    }

    @Test func onlyHTTPURLsWithAHostAndNoCredentials() throws {
        #expect(try refusal("ftp://example.com/x")?.code == "invalid_url")
        #expect(try refusal("example.com/x")?.code == "invalid_url")
        #expect(try refusal("https:///x")?.code == "invalid_url")
        #expect(try refusal("https://user:pw@example.com/x")?.code == "invalid_url")
        #expect(try refusal("https://example.com/a b")?.code == "invalid_url")
    }

    @Test func backoffDoublesUpToItsCapAndEndsInDeath() {
        let p = WebhookRetryPolicy(maxAttempts: 4, baseSeconds: 10, maxSeconds: 50)
        #expect((1...5).map { p.backoff(afterAttempt: $0) } == [10, 20, 40, 50, 50])
        #expect([1, 2, 3, 4].map { p.isDead(afterAttempt: $0) } == [false, false, false, true])
        #expect(WebhookRetryPolicy().backoff(afterAttempt: 1000) == 3600)
    }

    @Test func eachStageTypeHasItsEvent() {
        #expect(WebhookEventType.forStage(.annotation) == .taskSubmitted)
        #expect(WebhookEventType.forStage(.done) == .taskCompleted)
        #expect(WebhookEventType.forStage(.agent) == .agentWorkAvailable)
        #expect(WebhookEventType.forStage(.review) == nil && WebhookEventType.forStage(.percentageRouter) == nil)
    }
}
