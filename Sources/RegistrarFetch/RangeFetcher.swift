#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCurl
import RegistrarCore

/// Process-wide setup, once: libcurl's global init, and SIGPIPE ignored (a peer closing a TLS
/// connection must not kill the process; CURLOPT_NOSIGNAL leaves signals to us).
private let curlGlobalSetup: Bool = {
    _ = signal(SIGPIPE, SIG_IGN)
    return curl_global_init(3 /* CURL_GLOBAL_ALL */) == CURLE_OK
}()

/// Ranged GETs over one libcurl multi handle (docs/design.md, "Verifying an object" and "Security").
///
/// Synchronous and blocking; owned by one thread (not thread-safe, not reentrant). All transfers
/// of one `fetch` call run concurrently through one CURLM driven by `curl_multi_poll`; retries wait
/// in a timer list without holding a transfer slot. Easy handles are pooled and reused, so are
/// connections (curl's connection cache lives in the multi handle and outlives `fetch` calls).
///
/// SSRF: each destination host is resolved once per `fetch` call with getaddrinfo, every address
/// is checked by `FetchPolicy.addressPolicy`, and the vetted addresses are pinned with
/// CURLOPT_RESOLVE. As a second line, CURLOPT_OPENSOCKETFUNCTION refuses any socket to an
/// address that was not vetted for that transfer, so nothing else can be connected to (DNS
/// rebinding, proxies, a resolve entry curl did not use). Environment proxies are disabled.
public final class RangeFetcher {
    public let policy: FetchPolicy
    /// TCP connections opened so far (over this fetcher's lifetime): shows connection reuse.
    public internal(set) var connectionsOpened = 0
    /// Tests only: vet and pin as usual, but give the connect-time check an empty set, to prove
    /// that CURLOPT_OPENSOCKETFUNCTION refuses any address it was not told about.
    var testingHideVettedAddresses = false

    // Internal rather than private: completion (RangeFetcher+Completion.swift) shares the state.
    let multi: UnsafeMutableRawPointer
    var transfers: [Transfer] = []
    var idle: [Int] = []

    // State of the current `fetch` call.
    var jobs: [Job] = []
    var results: [FetchResult?] = []
    var remaining = 0
    var active = 0
    var activePerHost: [String: Int] = [:]
    var queues: [String: JobQueue] = [:]
    var hostsWaiting: [String] = []
    var delayed: [(due: Double, job: Int)] = []
    var vetCache: [String: Vetting] = [:]
    var progressed = false
    /// `Accept-Encoding: identity`, the header every request sends, as one list for all.
    let defaultHeaders: UnsafeMutablePointer<curl_slist>
    static let identityEncoding = "Accept-Encoding: identity"

    public init(policy: FetchPolicy) throws {
        guard curlGlobalSetup else { throw FetcherSetupError(description: "curl_global_init failed") }
        guard policy.maxConcurrent >= 1, policy.maxPerHost >= 1, policy.maxAttempts >= 1,
              policy.connectTimeout > 0, policy.totalTimeout > 0, policy.deadline > 0,
              policy.baseBackoff >= 0, policy.maxBackoff >= 0, policy.lowSpeedLimit >= 0, policy.lowSpeedTime >= 0,
              policy.maxRedirects >= 0 else {
            throw FetcherSetupError(description: "invalid fetch policy: concurrency and attempts must be at least 1, timeouts and the deadline positive, backoffs, low-speed settings and redirect hops non-negative")
        }
        guard let m = curl_multi_init() else { throw FetcherSetupError(description: "curl_multi_init failed") }
        multi = m
        self.policy = policy
        defaultHeaders = curl_slist_append(nil, Self.identityEncoding)
        _ = registrar_curl_multi_setopt_long(m, CURLMOPT_MAX_HOST_CONNECTIONS, policy.maxPerHost)
        _ = registrar_curl_multi_setopt_long(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, policy.maxConcurrent)
        _ = registrar_curl_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, max(policy.maxConcurrent, 8))
    }

    deinit {
        for t in transfers {
            _ = curl_multi_remove_handle(multi, t.easy)
            t.releaseLists()
            curl_easy_cleanup(t.easy)
            t.errorBuffer.deallocate()
        }
        curl_multi_cleanup(multi)
        curl_slist_free_all(defaultHeaders)
    }

    /// How often (seconds) `shouldStop` is asked while transfers run.
    public static let stopCheckInterval = 0.25

    /// One result per request, in any order (match them by `id`).
    ///
    /// `shouldStop` is asked about every `stopCheckInterval` seconds while transfers run or wait
    /// (it runs on this thread, between libcurl calls, so it may use the caller's own connections).
    /// When it answers true, every transfer in flight is abandoned and every request not finished
    /// yet ends `.cancelled` at once.
    public func fetch(_ requests: [FetchRequest], shouldStop: (() -> Bool)? = nil) -> [FetchResult] {
        jobs = requests.map { Job(request: $0) }
        results = Array(repeating: nil, count: requests.count)
        remaining = requests.count
        active = 0
        activePerHost = [:]
        queues = [:]
        hostsWaiting = []
        delayed = []
        vetCache = [:]
        for j in jobs.indices { intake(j) }

        var nextStopCheck = monotonicNow() + Self.stopCheckInterval
        while remaining > 0 {
            if let shouldStop, monotonicNow() >= nextStopCheck {
                if shouldStop() { abandonAll(); break }
                nextStopCheck = monotonicNow() + Self.stopCheckInterval
            }
            progressed = false
            promoteDueRetries()
            admit()
            if active > 0 {
                var running: Int32 = 0
                _ = curl_multi_perform(multi, &running)
                drainMessages()
            }
            if remaining == 0 { break }
            if progressed { continue }
            if active == 0 && delayed.isEmpty && hostsWaiting.isEmpty { break }  // cannot happen; never spin
            let cap: Double = shouldStop == nil ? 1000 : Self.stopCheckInterval * 1000
            var timeoutMs = Int32(cap)
            if let due = delayed.map(\.due).min() {
                let ms = (due - monotonicNow()) * 1000
                timeoutMs = ms <= 0 ? 0 : Int32(min(cap, ms.rounded(.up)))
            }
            var fds: Int32 = 0
            _ = curl_multi_poll(multi, nil, 0, timeoutMs, &fds)
        }
        var out: [FetchResult] = []
        out.reserveCapacity(results.count)
        for (j, r) in results.enumerated() {
            out.append(r ?? FetchResult(id: jobs[j].request.id, failure: .httpError, message: "internal error: the request was never completed"))
        }
        jobs = []
        results = []
        vetCache = [:]
        return out
    }

    /// The caller asked to stop: every transfer in flight is removed (libcurl closes its
    /// connection), and every unfinished request ends `.cancelled`.
    func abandonAll() {
        for t in transfers where t.job >= 0 {
            _ = curl_multi_remove_handle(multi, t.easy)
            connectionsOpened += t.socketsOpened
            releaseTransfer(t)
        }
        active = 0
        activePerHost = [:]
        queues = [:]
        hostsWaiting = []
        delayed = []
        for j in jobs.indices where results[j] == nil {
            finish(j, failure: .cancelled, message: "abandoned: the fetch was stopped (the job was cancelled)")
        }
    }

    // MARK: - Scheduling

    func intake(_ j: Int) {
        let r = jobs[j].request
        guard r.rangeStart >= 0, r.rangeLength >= 1,
              r.rangeStart <= Int64.max - Int64(r.rangeLength) else {
            return finish(j, failure: .httpError, message: "invalid byte range (start \(r.rangeStart), length \(r.rangeLength))")
        }
        for (n, h) in r.headers.enumerated() {
            let u = h.utf8
            guard let colon = u.firstIndex(of: UInt8(ascii: ":")), colon != u.startIndex,
                  !u.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                return finish(j, failure: .httpError, message: "extra request header #\(n + 1) is malformed")
            }
        }
        switch Destination.parse(r.url) {
        case .failed(let failure, let message):
            finish(j, failure: failure, message: message)
        case .ok(let d):
            jobs[j].destination = d
            enqueue(j)
        }
    }

    func enqueue(_ j: Int) {
        let key = jobs[j].destination!.hostKey
        if queues[key, default: JobQueue()].push(j) { hostsWaiting.append(key) }
    }

    func promoteDueRetries() {
        guard !delayed.isEmpty else { return }
        let now = monotonicNow()
        var k = 0
        while k < delayed.count {
            if delayed[k].due <= now {
                let j = delayed[k].job
                delayed.swapAt(k, delayed.count - 1)
                delayed.removeLast()
                enqueue(j)
            } else { k += 1 }
        }
    }

    /// Starts waiting jobs, round-robin over hosts, within the global and per-host limits.
    func admit() {
        var h = 0
        while h < hostsWaiting.count && active < policy.maxConcurrent {
            let key = hostsWaiting[h]
            while active < policy.maxConcurrent,
                  activePerHost[key, default: 0] < policy.maxPerHost,
                  let j = queues[key]?.pop() {
                start(j)
            }
            if queues[key]?.isEmpty ?? true {
                queues[key] = nil
                hostsWaiting.remove(at: h)
            } else { h += 1 }
        }
    }

    func start(_ j: Int) {
        let dest = jobs[j].destination!
        let now = monotonicNow()
        if jobs[j].firstStart < 0 {
            jobs[j].firstStart = now
            jobs[j].deadlineAt = now + policy.deadline - max(0, jobs[j].request.timeUsed)
        }
        let left = jobs[j].deadlineAt - now
        if left <= 0 {
            return finish(j, failure: .timeout, status: 0, message: deadlineMessage(j, last: jobs[j].lastFailure))
        }
        let addresses: [IPAddress]
        switch vet(dest) {
        case .refused(let reason):
            return finish(j, failure: .destinationForbidden, message: reason)
        case .unresolved(let text, let retryable):
            jobs[j].attempts += 1
            return retryOrFinish(j, failure: .connectFailed, status: 0,
                                 message: "could not resolve host \(dest.vettingName) (\(text))",
                                 retryable: retryable, retryAfter: nil)
        case .allowed(let a):
            addresses = a
        }
        if jobs[j].nextIsRedirectHop { jobs[j].nextIsRedirectHop = false } else { jobs[j].attempts += 1 }

        let t = acquireTransfer()
        let r = jobs[j].request
        t.job = j
        t.limit = r.rangeLength
        // The buffer is kept between requests (complete() copies small bodies out).
        t.body.removeAll(keepingCapacity: true)
        t.body.reserveCapacity(min(r.rangeLength, 1 << 16))
        t.reachedLimit = false
        t.refusedAddress = nil
        t.socketsOpened = 0
        t.vetted = testingHideVettedAddresses ? [] : addresses
        t.destination = dest
        t.errorBuffer[0] = 0

        if jobs[j].sendExtraHeaders && !r.headers.isEmpty {
            var headers: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, Self.identityEncoding)
            for h in r.headers { headers = curl_slist_append(headers, h) }
            t.headerList = headers
        }
        // Pin the vetted addresses for names (curl never resolves literals). libcurl 7.88 matches
        // resolve entries case-insensitively but keeps a trailing dot, so a name ending in "." is
        // pinned with and without it. A pin curl did not use is still caught by `openSocket`.
        if IPAddress(dest.host) == nil {
            let list = addresses.map { $0.family == .v6 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
            var resolve: UnsafeMutablePointer<curl_slist>? = nil
            var names = [dest.host]
            if dest.host.hasSuffix(".") { names.append(String(dest.host.dropLast())) }
            for name in names { resolve = curl_slist_append(resolve, "\(name):\(dest.port):\(list)") }
            t.resolveList = resolve
        }
        let easy = t.easy
        // This attempt's time: the per-attempt timeout, or what is left of the deadline.
        let attemptSeconds = min(policy.totalTimeout, left)
        t.cutByDeadline = left < policy.totalTimeout
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int((attemptSeconds * 1000).rounded(.up))))
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_CURLU, UnsafeRawPointer(dest.handle))
        // Most requests send only the default header: one list, built once per fetcher.
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, t.headerList ?? defaultHeaders)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_RESOLVE, t.resolveList)
        // A pooled handle may have sent another method before.
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, nil)
        if r.method != nil && r.postBody == nil {
            _ = registrar_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
            _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_RANGE, nil)
            _ = r.method!.withCString { registrar_curl_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, $0) }
        } else if let body = r.postBody {
            if let method = r.method, method != "POST" { _ = method.withCString { registrar_curl_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, $0) } }
            _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_RANGE, nil)
            _ = registrar_curl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeBytes { registrar_curl_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        } else {
            // A pooled handle may have sent a POST before: back to GET.
            _ = registrar_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
            _ = "\(r.rangeStart)-\(r.rangeStart + Int64(r.rangeLength) - 1)".withCString {
                registrar_curl_easy_setopt_ptr(easy, CURLOPT_RANGE, $0)
            }
        }
        let rc = curl_multi_add_handle(multi, easy)
        guard rc == CURLM_OK else {
            releaseTransfer(t)
            return finish(j, failure: .connectFailed, message: "could not start the transfer (\(String(cString: curl_multi_strerror(rc))))")
        }
        active += 1
        activePerHost[dest.hostKey, default: 0] += 1
    }

    func vet(_ dest: Destination) -> Vetting {
        let name = dest.vettingName
        if let v = vetCache[name] { return v }
        let policy = self.policy.addressPolicy
        let v: Vetting
        if name.utf8.contains(where: { $0 >= 0x80 }) {
            // libcurl converts a non-ASCII name with IDNA before connecting ("１２７.0.0.1" and
            // "127。0。0。1" become 127.0.0.1), so the name getaddrinfo vets is not the one curl
            // would use. Refused outright: object stores have ASCII names, and punycode works.
            v = .refused("refusing to fetch from \(name): host names with non-ASCII characters are not fetched (libcurl would connect to their IDNA form, not the name vetted); write the name in punycode (xn--…)")
        } else if case .refused(_, let reason) = policy.checkName(name) {
            v = .refused(reason)
        } else {
            switch HostResolver.resolve(name) {
            case .failure(let e):
                v = .unresolved(e.message, retryable: e.retryable)
                if e.retryable { return v }
            case .success(let addresses):
                switch policy.check(host: name, addresses: addresses) {
                case .allowed: v = .allowed(addresses)
                case .refused(_, let reason): v = .refused(reason)
                }
            }
        }
        vetCache[name] = v
        return v
    }

    // MARK: - Easy handle pool

    func acquireTransfer() -> Transfer {
        if let slot = idle.popLast() { return transfers[slot] }
        let easy = curl_easy_init()!
        let t = Transfer(easy: easy, slot: transfers.count)
        transfers.append(t)
        let me = Unmanaged.passUnretained(t).toOpaque()
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_PROXY, "")  // never an environment proxy
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_HTTP_CONTENT_DECODING, 0)
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_PATH_AS_IS, 1)
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int((policy.connectTimeout * 1000).rounded(.up)))
        _ = registrar_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int((policy.totalTimeout * 1000).rounded(.up)))
        if policy.lowSpeedLimit > 0 && policy.lowSpeedTime > 0 {
            _ = registrar_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, policy.lowSpeedLimit)
            _ = registrar_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(policy.lowSpeedTime.rounded(.up))))
        }
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_USERAGENT, "registrar-fetch/1")
        if let ca = policy.caBundlePath { _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_CAINFO, ca) }
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, t.errorBuffer)
        _ = registrar_curl_easy_setopt_write(easy, writeBody)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
        _ = registrar_curl_easy_setopt_opensocket(easy, openSocket)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_OPENSOCKETDATA, me)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_PRIVATE, UnsafeRawPointer(bitPattern: t.slot + 1))
        return t
    }

    func releaseTransfer(_ t: Transfer) {
        // Detach everything the handle points at before freeing it.
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_HTTPHEADER, nil)
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_RESOLVE, nil)
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_CURLU, nil)
        t.releaseLists()
        t.destination = nil
        t.job = -1
        t.vetted = []
        idle.append(t.slot)
    }
}
