import RegistrarCore
import RegistrarRuntime

/// An upload (job) as the API shows it: the pipeline's exact counters plus rate and ETA.
///
/// Counters come from Redis while the job runs (rebuilt from PostgreSQL's ledger when Redis lost
/// them) and from PostgreSQL once it finished. The rate is measured, not guessed: units of the
/// chunks that finished in the last `rateWindow` seconds, from the ledger's `finished_at` (for a
/// finished job: its average over the whole run).
public struct UploadSnapshot: Sendable {
    public var state: JobState
    public var extras: JobExtras
    public var createdAt: String
    public var rate: Double
    public var rebuilt: Bool

    public static let rateWindow = 30

    /// nil when the job does not exist or belongs to another tenant.
    public static func load(jobID: String, tenantID: String, backends: any APIBackends) throws -> UploadSnapshot? {
        let registry = try backends.registry()
        guard let extras = try registry.jobExtras(jobID: jobID, window: rateWindow), extras.tenantID == tenantID else { return nil }
        return try load(jobID: jobID, extras: extras, registry: registry, backends: backends)
    }

    /// Any engine job of the tenant (`GET /v1/jobs/{id}`), with its kind; nil when there is none.
    public static func loadAnyKind(jobID: String, tenantID: String, backends: any APIBackends) throws -> (kind: String, snapshot: UploadSnapshot)? {
        let registry = try backends.registry()
        guard let (kind, extras) = try registry.anyJobExtras(tenantID: tenantID, jobID: jobID, window: rateWindow),
              let snapshot = try load(jobID: jobID, extras: extras, registry: registry, backends: backends) else { return nil }
        return (kind, snapshot)
    }

    private static func load(jobID: String, extras: JobExtras, registry: any APIStore, backends: any APIBackends) throws -> UploadSnapshot? {
        var rebuilt = false
        let state: JobState
        if let tracker = try? backends.tracker(), let s = try? JobMonitor(jobs: registry.jobStore, progress: tracker).state(jobID: jobID) {
            state = s.state
            rebuilt = s.rebuilt
        } else if let s = try registry.jobState(jobID: jobID) {
            state = s   // Redis down: PostgreSQL's numbers are exact anyway
        } else {
            return nil
        }
        let rate = extras.recentSeconds >= 0.2 ? Double(extras.recentUnits) / extras.recentSeconds : 0
        return UploadSnapshot(state: state, extras: extras, createdAt: extras.createdAt, rate: rate, rebuilt: rebuilt)
    }

    /// Seconds left at the current rate; nil when unknown (no total yet, no rate yet, finished).
    public var etaSeconds: Int? {
        guard state.status == .pending, let total = state.total, rate > 0 else { return nil }
        return Int((Double(max(0, total - state.counts.finished)) / rate).rounded(.up))
    }

    /// What long-polls and event streams compare to decide that "something changed".
    public var fingerprint: String {
        "\(state.status.rawValue)|\(state.phase.rawValue)|\(state.total ?? -1)|\(state.counts.done)|\(state.counts.errors)|\(state.counts.skipped)|\(state.counts.cancelled)"
    }

    /// The progress fields every kind shows, from `status` to `finishedAt`.
    var progressMembers: [(key: String, value: JSONValue)] {
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func int(_ n: Int?) -> JSONValue { n.map { .number(String($0)) } ?? .null }
        let c = state.counts
        return [
            ("status", .string(state.status.rawValue)), ("phase", .string(state.phase.rawValue)),
            ("total", int(state.total)), ("totalKnown", .bool(state.total != nil)),
            ("done", int(c.done)), ("errors", int(c.errors)), ("skipped", int(c.skipped)), ("cancelled", int(c.cancelled)),
            ("pending", int(state.pending)),
            ("rate", .number(String(format3(rate)))), ("etaSeconds", int(etaSeconds)),
            ("createdAt", str(createdAt)), ("startedAt", str(state.startedAt)), ("finishedAt", str(state.finishedAt)),
        ]
    }

    /// `GET /v1/jobs/{id}`: the job's kind and the progress fields (an upload's own fields are at `links.upload`).
    public func jobJSON(kind: String) -> String {
        var members: [(key: String, value: JSONValue)] = [("id", .string(state.id)), ("kind", .string(kind))]
        members += progressMembers
        members += [("ignoreErrors", .bool(extras.ignoreErrors)), ("error", state.error.map(JSONValue.string) ?? .null)]
        var links: [(key: String, value: JSONValue)] = [("self", .string("/v1/jobs/\(state.id)")), ("errors", .string("/v1/jobs/\(state.id)/errors"))]
        if kind == KindQueues.registration.kind { links.append(("upload", .string("/v1/uploads/\(state.id)"))) }
        members.append(("links", .object(links)))
        return JSONValue.object(members).compactText
    }

    public var json: String {
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func int(_ n: Int?) -> JSONValue { n.map { .number(String($0)) } ?? .null }
        var members: [(key: String, value: JSONValue)] = [("id", .string(state.id))]
        members += progressMembers
        members += [
            ("folderId", .string(extras.folderID)), ("fileName", str(extras.fileName)), ("format", .string(extras.format)),
            ("manifestBytes", int(extras.manifestBytes)), ("ignoreErrors", .bool(extras.ignoreErrors)),
            ("retryOf", str(extras.retryOf)), ("error", str(state.error)),
        ]
        members.append(("links", .object([("self", .string("/v1/uploads/\(state.id)")),
                                          ("errors", .string("/v1/uploads/\(state.id)/errors")),
                                          ("events", .string("/v1/uploads/\(state.id)/events"))])))
        return JSONValue.object(members).compactText
    }
}

/// A number with at most three decimals, as JSON number text.
func format3(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let scaled = (x * 1000).rounded()
    let whole = Int(scaled) / 1000
    let frac = abs(Int(scaled) % 1000)
    return frac == 0 ? String(whole) : String(whole) + "." + String(String(frac + 1000).dropFirst()).replacingSuffixZeros()
}

extension String {
    fileprivate func replacingSuffixZeros() -> String {
        var s = self
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
