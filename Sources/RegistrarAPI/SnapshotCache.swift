import Foundation
import NIOConcurrencyHelpers

/// Upload snapshots for a fraction of a second, so a crowd of pollers of one upload costs one
/// set of store/tracker reads per `ttl` instead of one per request (at 500 req/s: 5 a second).
///
/// Counters shown may be up to `ttl` old — less than the long-poll's re-read interval — and a
/// finished upload's snapshot is final anyway. Keyed by tenant and job, so a cached snapshot is
/// only ever served to the tenant it was loaded for.
final class SnapshotCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (UploadSnapshot, Date)]>([:])
    let ttl: TimeInterval

    init(ttl: TimeInterval) { self.ttl = ttl }

    func get(tenantID: String, jobID: String) -> UploadSnapshot? {
        guard ttl > 0 else { return nil }
        return entries.withLockedValue { e in
            guard let (s, at) = e[tenantID + "/" + jobID], Date().timeIntervalSince(at) < ttl else { return nil }
            return s
        }
    }

    func put(_ snapshot: UploadSnapshot, tenantID: String) {
        guard ttl > 0 else { return }
        entries.withLockedValue { e in
            if e.count > 10_000 { e.removeAll() }
            e[tenantID + "/" + snapshot.state.id] = (snapshot, Date())
        }
    }
}
