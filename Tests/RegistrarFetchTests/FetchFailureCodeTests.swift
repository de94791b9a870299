import RegistrarCore
@testable import RegistrarFetch
import Testing

/// A failed fetch fails its unit with the unit error code of the same wire string, in the
/// "Fetching object" group, except `invalid_url` (a URL refused before any request is the manifest
/// item's fault) and `cancelled` (never a unit's outcome: the chunk is recorded as cancelled).
@Suite struct FetchFailureCodeTests {
    @Test func everyFetchFailureIsAUnitErrorCode() {
        for failure in FetchFailure.allCases {
            #expect(failure.code.rawValue == failure.rawValue)
            switch failure {
            case .cancelled: continue
            case .invalidURL: #expect(failure.code == .invalidURL && failure.code.action == "Validating manifest item")
            default: #expect(failure.code.action == "Fetching object", "\(failure)")
            }
        }
        #expect(FetchFailure.notFound.code == .notFound)
        #expect(FetchFailure.invalidResponse.code == .invalidResponse)
    }
}
