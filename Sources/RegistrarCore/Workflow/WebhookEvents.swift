/// The events a webhook can deliver (docs/workflows.md, "Webhooks"), and which stage type each
/// belongs to: a webhook sits on one stage, and the stage's type decides its events.
public enum WebhookEventType: String, Sendable, CaseIterable {
    /// A task was submitted at an Annotate stage.
    case taskSubmitted = "task_submitted_event"
    /// A task entered a DONE stage (by any action or move).
    case taskCompleted = "task_completed_event"
    /// Tasks arrived at an Agent stage (coalesced: at most one undelivered, unattempted event per webhook).
    case agentWorkAvailable = "agent_stage_work_available_event"

    /// The event a webhook on a stage of this type sends; nil for stages that take no webhook.
    public static func forStage(_ type: StageType) -> WebhookEventType? {
        switch type {
        case .annotation: return .taskSubmitted
        case .done: return .taskCompleted
        case .agent: return .agentWorkAvailable
        default: return nil
        }
    }
}

/// How often a delivery is retried: exponential backoff, bounded, then the event is dead
/// (kept in the delivery log, re-drivable by `POST …/webhooks/{id}/redeliver`).
public struct WebhookRetryPolicy: Sendable, Equatable {
    /// Attempts before an event is dead, the first included.
    public var maxAttempts: Int
    /// The wait after the first failed attempt; doubled after each further failure.
    public var baseSeconds: Double
    /// The longest wait between two attempts.
    public var maxSeconds: Double

    /// 10 attempts, 10 s doubling to at most 1 h: an event is dead after ~2 h 15 min of failures.
    public init(maxAttempts: Int = 10, baseSeconds: Double = 10, maxSeconds: Double = 3600) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseSeconds = max(0, baseSeconds)
        self.maxSeconds = max(0, maxSeconds)
    }

    /// The wait after failed attempt number `attempt` (1-based): base·2^(attempt-1), at most `maxSeconds`.
    public func backoff(afterAttempt attempt: Int) -> Double {
        let exponent = min(max(0, attempt - 1), 40)
        return min(maxSeconds, baseSeconds * Double(UInt64(1) << UInt64(exponent)))
    }

    /// Whether the event is dead after failed attempt number `attempt`.
    public func isDead(afterAttempt attempt: Int) -> Bool { attempt >= maxAttempts }
}

/// Checks a webhook URL when it is created: http(s) only, a host, and a literal address (or a
/// cloud metadata name) must pass the fetch address policy. Names are resolved only when a
/// delivery is made, where the same policy refuses what they resolve to.
public enum WebhookURLCheck {
    public static func check(_ url: String, policy: AddressPolicy) -> Result<Void, WebhookURLRefusal> {
        guard url.utf8.count <= 2048 else { return .failure(.init(code: "invalid_url", message: "url is longer than 2048 bytes")) }
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") { rest = Substring(url).dropFirst(8) } else if lower.hasPrefix("http://") { rest = Substring(url).dropFirst(7) } else {
            return .failure(.init(code: "invalid_url", message: "url must start with http:// or https://"))
        }
        guard !url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) else {
            return .failure(.init(code: "invalid_url", message: "url must not contain whitespace"))
        }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") {
            return .failure(.init(code: "invalid_url", message: "url must not carry credentials (user:password@)"))
        }
        var host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(.init(code: "invalid_url", message: "url has an unclosed IPv6 bracket")) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            authority = authority[authority.index(after: close)...]
            guard authority.isEmpty || authority.hasPrefix(":") else { return .failure(.init(code: "invalid_url", message: "url has text after the IPv6 address")) }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        guard !host.isEmpty else { return .failure(.init(code: "invalid_url", message: "url has no host")) }
        let name = AddressPolicy.normalizeHost(host)
        if case .refused(_, let reason) = policy.checkName(name) { return .failure(.init(code: "destination_forbidden", message: reason)) }
        if let address = IPAddress(name) {
            if case .refused(_, let reason) = policy.check(host: name, addresses: [address]) {
                return .failure(.init(code: "destination_forbidden", message: reason))
            }
        }
        return .success(())
    }
}

/// Why a webhook URL was refused (`code`: `invalid_url` or `destination_forbidden`).
public struct WebhookURLRefusal: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }
}
