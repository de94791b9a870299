import RegistrarCore
import RegistrarRuntime

/// Verifies units with ranged GETs over libcurl multi: every URL of every unit of a chunk is
/// fetched concurrently (first `headBytes` bytes only), then handed to the `MediaProber`.
/// A unit is verified when all its URLs are; its first failure is its error.
public final class HTTPObjectVerifier: ObjectVerifier {
    let fetcher: RangeFetcher
    let prober: any MediaProber
    let headBytes: Int

    public init(policy: FetchPolicy, prober: any MediaProber = ReachabilityProber(), headBytes: Int = 64 * 1024) throws {
        fetcher = try RangeFetcher(policy: policy)
        self.prober = prober
        self.headBytes = headBytes
    }

    public func verify(_ units: [RegistrationUnit]) -> [UnitOutcome] {
        var outcomes = [UnitOutcome?](repeating: nil, count: units.count)
        var requests: [FetchRequest] = []
        var owner: [Int] = [] // request id → unit position
        for (i, u) in units.enumerated() {
            if let supplied = u.suppliedMetadata {
                // Encord's rule: supplied metadata is trusted as given; the object is not read.
                outcomes[i] = .verified(MediaInfo(supplied: supplied))
                continue
            }
            for url in u.urls {
                requests.append(FetchRequest(id: requests.count, url: url, rangeStart: 0, rangeLength: headBytes))
                owner.append(i)
            }
        }
        var results = [FetchResult?](repeating: nil, count: requests.count)
        for r in fetcher.fetch(requests) { results[r.id] = r }

        var firstResult = [Int: FetchResult]()
        for (id, result) in results.enumerated() {
            guard let result else { continue }
            let i = owner[id]
            if outcomes[i] != nil { continue } // already failed
            if let failure = result.failure {
                outcomes[i] = .failed(code: failure.rawValue, message: result.message ?? failure.rawValue)
                continue
            }
            switch prober.probe(type: units[i].type, head: result.bytes, totalSize: result.totalSize, contentType: result.contentType) {
            case .refused(let code, let message):
                outcomes[i] = .failed(code: code, message: message)
            case .described:
                if firstResult[i] == nil { firstResult[i] = result }
            }
        }
        return units.indices.map { i in
            if let o = outcomes[i] { return o }
            guard let first = firstResult[i] else { return .failed(code: "internal_error", message: "no fetch result") }
            // A group's record describes its first frame (an image sequence's size is its first file's).
            guard case .described(var info) = prober.probe(type: units[i].type, head: first.bytes, totalSize: first.totalSize,
                                                           contentType: first.contentType) else {
                return .failed(code: "internal_error", message: "probe changed its answer")
            }
            info.etag = first.etag
            return .verified(info)
        }
    }
}
