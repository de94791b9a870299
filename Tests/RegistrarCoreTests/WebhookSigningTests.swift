import Testing
@testable import RegistrarCore

struct WebhookSigningTests {
    let body = Array("{\"a\":1}".utf8)

    @Test func theSignatureIsHMACSHA256OfTimestampDotBody() {
        // Expected value from Python: hmac.new(b"whsec_test", b"1700000000." + body, sha256).hexdigest()
        #expect(WebhookSigning.signature(secret: "whsec_test", timestamp: 1_700_000_000, body: body)
                == "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789")
    }

    @Test func verifyChecksSecretBodyAndFreshness() {
        let sig = WebhookSigning.signature(secret: "s", timestamp: 1000, body: body)
        #expect(WebhookSigning.verify(secret: "s", timestamp: 1000, body: body, signature: sig.uppercased(), now: 1300))
        #expect(!WebhookSigning.verify(secret: "s", timestamp: 1000, body: body, signature: sig, now: 1301), "older than 300 s")
        #expect(!WebhookSigning.verify(secret: "t", timestamp: 1000, body: body, signature: sig, now: 1000))
        #expect(!WebhookSigning.verify(secret: "s", timestamp: 1000, body: Array("{\"a\":2}".utf8), signature: sig, now: 1000))
        #expect(!WebhookSigning.verify(secret: "s", timestamp: 1001, body: body, signature: sig, now: 1001), "the timestamp is signed")
    }

    @Test func theEnvelopeHasEncordsFieldsInOrder() {
        let e = WebhookSigning.envelope(uid: "u1", eventType: "task_submitted_event", createdAt: "2026-12-07T10:00:00+00:00",
                                        payload: .object([("project_hash", .string("p"))]))
        #expect(e.compactText == "{\"uid\":\"u1\",\"version\":1,\"source\":\"Encord\",\"event_type\":\"task_submitted_event\",\"event_created_timestamp\":\"2026-12-07T10:00:00+00:00\",\"payload\":{\"project_hash\":\"p\"}}")
    }
}
