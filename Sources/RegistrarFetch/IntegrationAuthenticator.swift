#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RegistrarCore

/// The credentials an integration's requests are signed with, right now.
///
/// Static keys are used as stored. An AWS role is assumed through STS and a GCP service account's
/// key is exchanged for an access token; both are fetched through the caller's `RangeFetcher` —
/// the same address policy (SSRF rules) as object reads, so an integration cannot point its token
/// endpoint into the private network — and cached until five minutes before they expire.
///
/// Owned by one thread, like the fetcher it is used with.
public final class IntegrationAuthenticator {
    public let kind: IntegrationKind
    public let settings: IntegrationSettings
    public let planner: IntegrationRequestPlanner
    private let secret: IntegrationSecret
    private let clock: () -> SigningDate
    /// The OAuth2 scope a service-account token is asked for: read-only for object reads,
    /// read-write for Registrar's own gs:// storage.
    public var gcpScope = ServiceAccountJWT.readOnlyScope
    private var temporary: TemporaryAWSCredentials?
    private var token: GCSAccessToken?
    /// Exchanges made so far (tests check the caching with it).
    public private(set) var exchanges = 0

    /// Why no credentials could be had. `message` never holds a secret or a response body.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var code: UnitErrorCode
        public var message: String
        public var description: String { "\(code): \(message)" }
        public init(code: UnitErrorCode, message: String) {
            self.code = code
            self.message = message
        }
    }

    public init(kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret,
                clock: @escaping () -> SigningDate = IntegrationAuthenticator.systemClock) {
        self.kind = kind
        self.settings = settings
        self.secret = secret
        self.clock = clock
        planner = IntegrationRequestPlanner(kind: kind, settings: settings)
    }

    /// Wall-clock time, whole seconds.
    public static func systemClock() -> SigningDate {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return SigningDate(secondsSince1970: Int64(ts.tv_sec))
    }

    /// The time requests are signed at.
    public var now: SigningDate { clock() }

    /// Signs `request` for its own URL with `auth` at `date` (URL and headers replaced), or
    /// answers why it cannot be signed. Object reads and frame reads share it.
    public func sign(_ request: inout FetchRequest, auth: Result<RequestAuth, Failure>, date: SigningDate) -> Failure? {
        let url = request.url
        // The Range header the fetcher will send for a plain GET (Azure's Shared Key signs it).
        let range = request.method == nil && request.postBody == nil
            ? "bytes=\(request.rangeStart)-\(request.rangeStart + Int64(request.rangeLength) - 1)" : nil
        switch auth.flatMap({ a in planner.plan(url, auth: a, date: date, range: range)
            .mapError { Failure(code: UnitErrorCode(rawValue: $0.code), message: $0.message) } }) {
        case .failure(let f): return f
        case .success(let planned):
            request.url = planned.url
            request.headers = planned.headers.map { "\($0.0): \($0.1)" }
            return nil
        }
    }

    /// Forgets a cached access token, so the next call exchanges the key again (after the
    /// storage refused the token with 401: revoked, or expired early).
    public func invalidateToken() { token = nil }

    /// Current credentials, fetching (and caching) temporary ones when needed.
    public func currentAuth(using fetcher: RangeFetcher) -> Result<RequestAuth, Failure> {
        let now = clock()
        switch secret {
        case .none:
            return .success(.none)
        case .awsKeys(let keys):
            guard let role = settings.roleARN else { return .success(.aws(keys)) }
            if let t = temporary, !t.needsRefresh(at: now) { return .success(.aws(t.credentials)) }
            return assumeRole(role, keys: keys, now: now, fetcher: fetcher).map { .aws($0.credentials) }
        case .gcpServiceAccount(let key):
            if let t = token, !t.needsRefresh(at: now) { return .success(.gcsBearer(t)) }
            return exchangeToken(key, now: now, fetcher: fetcher).map { .gcsBearer($0) }
        case .gcpHMAC(let c):
            return .success(.gcsHMAC(c))
        case .azureSharedKey(let c):
            return .success(.azureSharedKey(c))
        case .azureSAS(let sas):
            return .success(.azureSAS(sas))
        }
    }

    private func assumeRole(_ role: String, keys: AWSCredentials, now: SigningDate, fetcher: RangeFetcher) -> Result<TemporaryAWSCredentials, Failure> {
        let request: (url: String, headers: [(String, String)], body: [UInt8])
        do {
            request = try STSAssumeRole.request(roleARN: role, externalID: settings.externalID, endpoint: settings.stsEndpoint,
                                                region: settings.stsRegion, credentials: keys, date: now)
        } catch {
            return .failure(Failure(code: .credentialsUnavailable, message: "could not sign the STS request: \(error)"))
        }
        exchanges += 1
        let r = fetcher.fetch([FetchRequest(id: 0, url: request.url, rangeLength: 64 * 1024,
                                            headers: request.headers.map { "\($0.0): \($0.1)" }, postBody: request.body)])[0]
        if let failure = r.failure {
            return .failure(Failure(code: failure == .accessDenied || failure == .destinationForbidden ? failure.code : .credentialsUnavailable,
                                    message: "assuming role \(role) failed: \(r.message ?? failure.rawValue)"))
        }
        do {
            let t = try STSAssumeRole.parseResponse(r.bytes)
            temporary = t
            return .success(t)
        } catch {
            return .failure(Failure(code: .credentialsUnavailable, message: "assuming role \(role) failed: \(error)"))
        }
    }

    private func exchangeToken(_ key: GCPServiceAccountKey, now: SigningDate, fetcher: RangeFetcher) -> Result<GCSAccessToken, Failure> {
        let assertion: String
        do { assertion = try ServiceAccountJWT.assertion(for: key, scope: gcpScope, now: now) } catch {
            return .failure(Failure(code: .credentialsUnavailable, message: "could not sign the service-account JWT (is private_key an RSA key?)"))
        }
        exchanges += 1
        let body = Array(ServiceAccountJWT.tokenRequestBody(assertion: assertion).utf8)
        let r = fetcher.fetch([FetchRequest(id: 0, url: key.tokenURI, rangeLength: 64 * 1024,
                                            headers: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json"],
                                            postBody: body)])[0]
        let endpoint = URLRedaction.redact(key.tokenURI)
        if let failure = r.failure {
            // RFC 6749 §5.2: a grant the endpoint will not honour (a JWT signed with a key the
            // account does not have, an unknown or disabled account) is answered 400 invalid_grant
            // (Google) or 401 invalid_client: the credentials are wrong, as with a 403 from STS.
            if failure == .accessDenied || (failure == .httpError && r.status == 400) {
                return .failure(Failure(code: .accessDenied,
                                        message: "the token endpoint \(endpoint) refused the key of \(key.clientEmail) (HTTP \(r.status))"))
            }
            return .failure(Failure(code: failure == .destinationForbidden ? failure.code : .credentialsUnavailable,
                                    message: "the token exchange at \(endpoint) for \(key.clientEmail) failed: \(r.message ?? failure.rawValue)"))
        }
        do {
            let t = try ServiceAccountJWT.parseTokenResponse(r.bytes, now: now)
            token = t
            return .success(t)
        } catch {
            return .failure(Failure(code: .credentialsUnavailable, message: "the token exchange at \(endpoint) failed: \(error)"))
        }
    }
}
