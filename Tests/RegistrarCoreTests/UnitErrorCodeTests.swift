import Testing
@testable import RegistrarCore

// The unit error codes: every named code, its wire string and its action group (Encord's
// `action_description`). The wire strings are a contract, so they are spelled out here, not
// derived from the type.

@Suite struct UnitErrorCodeTests {
    static let fetching: [(UnitErrorCode, String)] = [
        (.notFound, "not_found"), (.accessDenied, "access_denied"), (.timeout, "timeout"), (.throttled, "throttled"),
        (.serverError, "server_error"), (.connectFailed, "connect_failed"), (.destinationForbidden, "destination_forbidden"),
        (.tooManyRedirects, "too_many_redirects"), (.httpError, "http_error"), (.wrongRegion, "wrong_region"),
        (.wrongIntegration, "wrong_integration"), (.credentialsUnavailable, "credentials_unavailable"),
        (.integrationUnavailable, "integration_unavailable"), (.signingFailed, "signing_failed"),
        (.invalidResponse, "invalid_response"),
    ]
    static let verifying: [(UnitErrorCode, String)] = [
        (.typeMismatch, "type_mismatch"), (.unsupportedType, "unsupported_type"), (.corrupt, "corrupt"),
        (.tooLarge, "too_large"), (.dimensionsExceedLimit, "dimensions_exceed_limit"), (.emptyObject, "empty_object"),
        (.seriesMismatch, "series_mismatch"),
    ]
    static let validating: [(UnitErrorCode, String)] = [(.invalidItem, "invalid_item"), (.invalidURL, "invalid_url")]
    static let processing: [(UnitErrorCode, String)] = [(.internalError, "internal_error")]

    @Test func everyCodeHasItsWireStringAndAction() {
        for (code, raw) in Self.fetching { #expect(code.rawValue == raw); #expect(code.action == "Fetching object", "\(code)") }
        for (code, raw) in Self.verifying { #expect(code.rawValue == raw); #expect(code.action == "Verifying object", "\(code)") }
        for (code, raw) in Self.validating { #expect(code.rawValue == raw); #expect(code.action == "Validating manifest item", "\(code)") }
        for (code, raw) in Self.processing { #expect(code.rawValue == raw); #expect(code.action == "Processing chunk", "\(code)") }
    }

    @Test func rawValuesAreUnique() {
        let all = (Self.fetching + Self.verifying + Self.validating + Self.processing).map(\.0.rawValue)
        #expect(Set(all).count == all.count)
    }

    /// A refused manifest item fails its unit with its issue's code, validated, not fetched.
    @Test func manifestIssueCodesAreValidationCodes() {
        for issue in IssueCode.allCases {
            let code = UnitErrorCode(issue)
            #expect(code.rawValue == issue.rawValue)
            #expect(code.action == "Validating manifest item", "\(issue)")
        }
    }

    /// The probes' refusals carry the typed codes, with the same wire strings as before.
    @Test func probeRefusalsUseTheTypedCodes() {
        let prober = ContentProber()
        switch prober.describe(declared: .image, data: ProbeData(head: [], totalSize: 0), contentType: nil) {
        case .refused(let code, _): #expect(code == .emptyObject && code.rawValue == "empty_object")
        default: Issue.record("an empty object was not refused")
        }
        let text = Array("hello, this is plain text and not an image at all".utf8)
        switch prober.describe(declared: .image, data: ProbeData(head: text, totalSize: Int64(text.count)), contentType: nil) {
        case .refused(let code, _): #expect(code == .unsupportedType || code == .typeMismatch)
        default: Issue.record("text was accepted as an image")
        }
    }
}
