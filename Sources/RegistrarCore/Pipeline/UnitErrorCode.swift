/// The stable code of a unit that failed (`unit_errors.code`, the API's `code`, `registrar errors`).
///
/// A struct over its wire string rather than an enum, so that a kind or a probe can add a code
/// without breaking anyone's `switch` (callers compare codes). The raw values are a contract:
/// scripts match on them, so a code never changes meaning. Manifest item codes (`IssueCode`) are
/// unit error codes too: a refused item fails its unit with its issue's code.
public struct UnitErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(_ issue: IssueCode) { self.rawValue = issue.rawValue }
    public var description: String { rawValue }

    // Fetching the object.
    public static let notFound: UnitErrorCode = "not_found"
    public static let accessDenied: UnitErrorCode = "access_denied"
    public static let timeout: UnitErrorCode = "timeout"
    public static let throttled: UnitErrorCode = "throttled"
    public static let serverError: UnitErrorCode = "server_error"
    public static let connectFailed: UnitErrorCode = "connect_failed"
    public static let destinationForbidden: UnitErrorCode = "destination_forbidden"
    public static let tooManyRedirects: UnitErrorCode = "too_many_redirects"
    public static let httpError: UnitErrorCode = "http_error"
    public static let wrongRegion: UnitErrorCode = "wrong_region"
    public static let wrongIntegration: UnitErrorCode = "wrong_integration"
    public static let credentialsUnavailable: UnitErrorCode = "credentials_unavailable"
    public static let integrationUnavailable: UnitErrorCode = "integration_unavailable"
    public static let signingFailed: UnitErrorCode = "signing_failed"
    /// Response headers over libcurl's limits (one line over 100 KiB or 300 KiB in all).
    public static let invalidResponse: UnitErrorCode = "invalid_response"

    // Verifying what was read.
    public static let typeMismatch: UnitErrorCode = "type_mismatch"
    public static let unsupportedType: UnitErrorCode = "unsupported_type"
    public static let corrupt: UnitErrorCode = "corrupt"
    public static let tooLarge: UnitErrorCode = "too_large"
    public static let dimensionsExceedLimit: UnitErrorCode = "dimensions_exceed_limit"
    public static let emptyObject: UnitErrorCode = "empty_object"
    /// The files of a DICOM series name more than one SeriesInstanceUID.
    public static let seriesMismatch: UnitErrorCode = "series_mismatch"

    // The manifest item itself (refused before any fetch).
    public static let invalidItem: UnitErrorCode = "invalid_item"
    public static let invalidURL: UnitErrorCode = "invalid_url"

    /// The engine: the unit's chunk failed every delivery and was dead-lettered.
    public static let internalError: UnitErrorCode = "internal_error"

    /// Encord's `action_description`: what was being done when the unit failed.
    public var action: String {
        switch self {
        case .internalError: return "Processing chunk"
        case .notFound, .accessDenied, .timeout, .throttled, .serverError, .connectFailed, .destinationForbidden,
             .tooManyRedirects, .httpError, .wrongRegion, .wrongIntegration, .credentialsUnavailable,
             .integrationUnavailable, .signingFailed, .invalidResponse:
            return "Fetching object"
        case .typeMismatch, .unsupportedType, .corrupt, .tooLarge, .dimensionsExceedLimit, .emptyObject, .seriesMismatch:
            return "Verifying object"
        default: return "Validating manifest item"
        }
    }
}

extension UnitErrorCode {
    // Encoding an image sequence into a video (the `sequence-encode` kind, docs/sequences.md).
    /// A frame could not be read (its index and URL are in the message, with the fetch's reason).
    public static let frameUnreadable: UnitErrorCode = "frame_unreadable"
    /// A frame was read but is not an image the encoder can decode (index and URL in the message).
    public static let frameDecodeFailed: UnitErrorCode = "frame_decode_failed"
    /// The encoder (ffmpeg) failed or produced no video.
    public static let encoderFailed: UnitErrorCode = "encoder_failed"
    /// More frames than a video made from a sequence may hold (32,767).
    public static let tooManyFrames: UnitErrorCode = "too_many_frames"
}
