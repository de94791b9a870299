import RegistrarCore
import RegistrarRuntime

/// Verifies units with ranged GETs over libcurl multi, then the `MediaProber`.
///
/// Round 1 fetches the first `headBytes` of every URL of every unit of the chunk, concurrently.
/// Objects whose probe names a further range (an MP4's `moov` at the end, a JPEG's SOF after a
/// large EXIF block) are fetched again in the next round, all together, up to the prober's
/// `maxRounds`. A unit is verified when every one of its files is; its first failure is its error.
/// Groups and sequences are described by their first frame (Encord: "the dimensions of the image
/// sequence are determined by the first file"); a DICOM series must share one SeriesInstanceUID
/// and is ordered by InstanceNumber.
///
/// Units of a job with an integration are read with it: each URL must belong to the integration
/// (else `wrong_integration`), and each ranged GET is signed (SigV4/SigV4A, GCS bearer or HMAC,
/// Azure Shared Key or SAS) at the moment it is sent.
public final class HTTPObjectVerifier: ObjectVerifier {
    let fetcher: RangeFetcher
    let prober: any MediaProber
    let headBytes: Int
    /// Loads an integration by id (from the store, decrypted). nil: jobs with an integration fail
    /// their units with `integration_unavailable`.
    public var integrationLoader: ((String) throws -> (kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret))?
    /// How long a loaded integration is reused before it is read again (so a removed or
    /// re-keyed integration is noticed); temporary credentials live in its authenticator.
    public var integrationTTL: Double = 60
    private var authenticators: [String: (auth: IntegrationAuthenticator, loadedAt: Double)] = [:]

    public init(policy: FetchPolicy, prober: any MediaProber = ReachabilityProber(), headBytes: Int = 64 * 1024) throws {
        fetcher = try RangeFetcher(policy: policy)
        self.prober = prober
        self.headBytes = headBytes
    }

    public func verify(_ units: [RegistrationUnit], context: VerificationContext) -> [UnitOutcome] {
        verify(units, context: context, shouldStop: { false })!
    }

    public func verify(_ units: [RegistrationUnit], context: VerificationContext, shouldStop: @escaping () -> Bool) -> [UnitOutcome]? {
        guard let id = context.integrationID else { return verify(units, authenticator: nil, shouldStop: shouldStop) }
        switch authenticator(id) {
        case .success(let a):
            return verify(units, authenticator: a, shouldStop: shouldStop)
        case .failure(let f):
            return units.map { _ in .failed(code: f.code, message: f.message) }
        }
    }

    /// The integration's authenticator, loaded (and decrypted) at most once per TTL.
    func authenticator(_ id: String) -> Result<IntegrationAuthenticator, IntegrationAuthenticator.Failure> {
        let now = monotonicNow()
        if let cached = authenticators[id], now - cached.loadedAt < integrationTTL { return .success(cached.auth) }
        guard let integrationLoader else {
            return .failure(.init(code: .integrationUnavailable, message: "this worker cannot load integrations"))
        }
        do {
            let loaded = try integrationLoader(id)
            let a = IntegrationAuthenticator(kind: loaded.kind, settings: loaded.settings, secret: loaded.secret)
            if authenticators.count >= 256 { authenticators.removeAll(keepingCapacity: true) }
            authenticators[id] = (a, now)
            return .success(a)
        } catch {
            // The error names the integration and the key id at most (CredentialCipher's errors
            // carry no secret); it is the operator's to fix, so the units say so.
            authenticators[id] = nil
            return .failure(.init(code: .integrationUnavailable, message: "the job's integration cannot be used: \(error)"))
        }
    }

    /// One file being probed.
    private struct Object {
        let unit: Int
        let url: String
        var data: ProbeData?
        var contentType: String?
        var etag: String?
        var requests = 0
        /// Time spent in this object's requests, over every round (its probe latency).
        var seconds = 0.0
        var next: (offset: Int64, length: Int)? = (0, 0)
        var result: Result<MediaInfo, UnitFailure>?
    }

    private struct UnitFailure: Error {
        let code: UnitErrorCode
        let message: String
    }

    public func verify(_ units: [RegistrationUnit]) -> [UnitOutcome] {
        verify(units, authenticator: nil, shouldStop: { false })!
    }

    /// nil when `shouldStop` answered true: the reads in flight were abandoned.
    func verify(_ units: [RegistrationUnit], authenticator: IntegrationAuthenticator?,
                shouldStop: @escaping () -> Bool) -> [UnitOutcome]? {
        var outcomes = [UnitOutcome?](repeating: nil, count: units.count)
        var objects: [Object] = []
        for (i, u) in units.enumerated() {
            if let supplied = u.suppliedMetadata {
                // Encord's rule: supplied metadata is trusted as given; the object is not read.
                outcomes[i] = .verified(MediaInfo(supplied: supplied))
                continue
            }
            for url in u.urls { objects.append(Object(unit: i, url: url, next: (0, headBytes))) }
        }

        var round = 0
        while round < max(1, prober.maxRounds) {
            let pending = objects.indices.filter { objects[$0].result == nil && objects[$0].next != nil }
            if pending.isEmpty { break }
            var requests: [FetchRequest] = []
            var sent: [Int] = []
            requests.reserveCapacity(pending.count)
            // Credentials once per round: temporary ones are fetched or refreshed here.
            var auth: Result<RequestAuth, IntegrationAuthenticator.Failure> = .success(.none)
            if let authenticator { auth = authenticator.currentAuth(using: fetcher) }
            let date = authenticator?.now
            for i in pending {
                // The object's earlier rounds count against the fetch deadline.
                var request = FetchRequest(id: sent.count, url: objects[i].url, rangeStart: objects[i].next!.offset,
                                           rangeLength: objects[i].next!.length, timeUsed: objects[i].seconds)
                if let authenticator, let date, let f = authenticator.sign(&request, auth: auth, date: date) {
                    objects[i].result = .failure(UnitFailure(code: f.code, message: f.message))
                    objects[i].next = nil
                    continue
                }
                requests.append(request)
                sent.append(i)
            }
            let results = fetcher.fetch(requests, shouldStop: shouldStop)
            if results.contains(where: { $0.failure == .cancelled }) { return nil }
            for r in results {
                let i = sent[r.id]
                objects[i].requests += r.attempts
                objects[i].seconds += r.elapsedSeconds
                FetchMetrics.response(status: r.status)
                objects[i].next = nil
                if let failure = r.failure {
                    objects[i].result = .failure(UnitFailure(code: failure.code, message: r.message ?? failure.rawValue))
                    continue
                }
                if objects[i].data == nil {
                    objects[i].data = ProbeData(head: r.bytes, totalSize: r.totalSize)
                    objects[i].contentType = r.contentType
                    objects[i].etag = r.etag
                } else {
                    objects[i].data!.add(offset: r.bytesOffset, bytes: r.bytes)
                }
                switch prober.probe(type: units[objects[i].unit].type, data: objects[i].data!, contentType: objects[i].contentType) {
                case .described(var info):
                    info.etag = info.etag ?? objects[i].etag
                    info.probeRequests = objects[i].requests
                    info.probeBytes = objects[i].data!.bytesRead
                    objects[i].result = .success(info)
                case .refused(let code, let message):
                    objects[i].result = .failure(UnitFailure(code: code, message: message))
                case .needBytes(let offset, let length):
                    if round + 1 >= prober.maxRounds {
                        objects[i].result = .failure(UnitFailure(code: .corrupt, message: "the header could not be read within \(prober.maxRounds) ranged reads"))
                    } else {
                        objects[i].next = (offset, length)
                    }
                }
            }
            round += 1
        }

        var files = [[Object]](repeating: [], count: units.count)
        for o in objects {
            files[o.unit].append(o)
            if o.requests > 0 { FetchMetrics.probed(seconds: o.seconds, bytes: o.data?.bytesRead ?? 0) }
        }
        return units.indices.map { i in
            if let o = outcomes[i] { return o }
            // Every file has a result once the rounds are over; a missing one (a bug) fails the
            // unit, unless an earlier file already did.
            var results: [UnitAssembly.FileResult] = []
            for o in files[i] {
                switch o.result {
                case .success(let info)?: results.append(.described(info))
                case .failure(let f)?: results.append(.failed(code: f.code, message: f.message))
                case nil: return .failed(code: .internalError, message: "no probe result")
                }
                if case .failed? = results.last { break }
            }
            return UnitAssembly.outcome(units[i], files: results)
        }
    }
}
