import RegistrarCore

/// Reads one object through an integration the way a worker would, and says what it derived:
/// provider, bucket, key, region, the request (without its query string), the answer's status,
/// size and content type. Shared by `registrar integrations test` and the API's
/// `POST /v1/integrations/{id}/test`. Never reports credentials or fetched bytes.
public enum IntegrationCheck {
    public struct Report: Sendable {
        public var ok: Bool
        public var members: [(key: String, value: JSONValue)]
        public var json: String { JSONValue.object(members).compactText }
    }

    public static func run(name: String, kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret,
                           url: String, fetcher: RangeFetcher) -> Report {
        let authenticator = IntegrationAuthenticator(kind: kind, settings: settings, secret: secret)
        var members: [(key: String, value: JSONValue)] = [("integration", .string(name)), ("kind", .string(kind.rawValue))]
        func report(_ ok: Bool, code: String? = nil, message: String? = nil) -> Report {
            if let code { members.append(("code", .string(code))) }
            if let message { members.append(("message", .string(message))) }
            members.insert(("ok", .bool(ok)), at: 0)
            return Report(ok: ok, members: members)
        }
        let planned: PlannedRequest
        switch authenticator.currentAuth(using: fetcher).flatMap({ auth in
            authenticator.planner.plan(url, auth: auth, date: authenticator.now, range: "bytes=0-\(64 * 1024 - 1)")
                .mapError { IntegrationAuthenticator.Failure(code: UnitErrorCode(rawValue: $0.code), message: $0.message) }
        }) {
        case .failure(let f): return report(false, code: f.code.rawValue, message: f.message)
        case .success(let p): planned = p
        }
        let l = planned.location
        members += [("provider", .string(l.provider.rawValue)), ("bucket", .string(l.bucket)), ("key", .string(l.key)),
                    ("region", l.region.map(JSONValue.string) ?? planned.signingRegion.map(JSONValue.string) ?? .null),
                    ("request", .string(URLRedaction.redact(planned.url)))]
        let r = fetcher.fetch([FetchRequest(id: 0, url: planned.url, rangeLength: 64 * 1024,
                                            headers: planned.headers.map { "\($0.0): \($0.1)" })])[0]
        members.append(("status", .number(String(r.status))))
        if let failure = r.failure { return report(false, code: failure.code.rawValue, message: r.message) }
        members.append(("size", r.totalSize.map { .number(String($0)) } ?? .null))
        members.append(("contentType", r.contentType.map(JSONValue.string) ?? .null))
        return report(true)
    }
}
