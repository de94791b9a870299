import RegistrarCore
import RegistrarRuntime

/// `ExportURLSigner` over the integrations: loads (and decrypts) a file's integration through
/// `loader`, resolves its credentials (an AWS role is assumed through STS, by the same fetcher
/// and address policy as reads) and presigns with `IntegrationRequestPlanner.presign`. Loaded
/// integrations are kept for a minute. Owned by one thread.
public final class IntegrationURLSigner: ExportURLSigner {
    public typealias Loader = (String) throws -> (kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret)
    private let loader: Loader
    private let fetcher: RangeFetcher
    private var cache: [String: (authenticator: IntegrationAuthenticator, secret: IntegrationSecret, loadedAt: Double)] = [:]
    private let clock: () -> SigningDate

    /// Why a URL could not be signed; never holds a credential or the URL's query.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(policy: FetchPolicy, loader: @escaping Loader, clock: @escaping () -> SigningDate = IntegrationAuthenticator.systemClock) throws {
        var p = policy
        p.maxConcurrent = 1
        fetcher = try RangeFetcher(policy: p)
        self.loader = loader
        self.clock = clock
    }

    public func sign(_ url: String, integrationID: String, ttlSeconds: Int) throws -> String {
        let now = monotonicNow()
        let entry: (authenticator: IntegrationAuthenticator, secret: IntegrationSecret, loadedAt: Double)
        if let cached = cache[integrationID], now - cached.loadedAt < 60 {
            entry = cached
        } else {
            let loaded: (kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret)
            do { loaded = try loader(integrationID) } catch {
                throw Failure(description: "signing \(URLRedaction.redact(url)): the file's integration cannot be used: \(error)")
            }
            entry = (IntegrationAuthenticator(kind: loaded.kind, settings: loaded.settings, secret: loaded.secret, clock: clock), loaded.secret, now)
            cache[integrationID] = entry
        }
        // Only AWS keys need resolving (an assumed role); GCS and Azure sign with the key itself.
        var auth = RequestAuth.none
        if case .awsKeys = entry.secret {
            switch entry.authenticator.currentAuth(using: fetcher) {
            case .success(let a): auth = a
            case .failure(let f): throw Failure(description: "signing \(URLRedaction.redact(url)): \(f.message)")
            }
        }
        switch entry.authenticator.planner.presign(url, secret: entry.secret, auth: auth, date: entry.authenticator.now, ttl: ttlSeconds) {
        case .success(let signed): return signed
        case .failure(let e): throw Failure(description: "signing \(URLRedaction.redact(url)): \(e.message)")
        }
    }
}
