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

/// Ranged GETs over one libcurl multi handle (DESIGN.md §4–5).
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
    public private(set) var connectionsOpened = 0
    /// Tests only: vet and pin as usual, but give the connect-time check an empty set, to prove
    /// that CURLOPT_OPENSOCKETFUNCTION refuses any address it was not told about.
    var testingHideVettedAddresses = false

    private let multi: UnsafeMutableRawPointer
    private var transfers: [Transfer] = []
    private var idle: [Int] = []

    // State of the current `fetch` call.
    private var jobs: [Job] = []
    private var results: [FetchResult?] = []
    private var remaining = 0
    private var active = 0
    private var activePerHost: [String: Int] = [:]
    private var queues: [String: JobQueue] = [:]
    private var hostsWaiting: [String] = []
    private var delayed: [(due: Double, job: Int)] = []
    private var vetCache: [String: Vetting] = [:]
    private var progressed = false

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
    private func abandonAll() {
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

    private func intake(_ j: Int) {
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

    private func enqueue(_ j: Int) {
        let key = jobs[j].destination!.hostKey
        if queues[key, default: JobQueue()].push(j) { hostsWaiting.append(key) }
    }

    private func promoteDueRetries() {
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
    private func admit() {
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

    private func start(_ j: Int) {
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
        t.body = []
        t.body.reserveCapacity(min(r.rangeLength, 1 << 16))
        t.reachedLimit = false
        t.refusedAddress = nil
        t.socketsOpened = 0
        t.vetted = testingHideVettedAddresses ? [] : addresses
        t.destination = dest
        t.errorBuffer[0] = 0

        var headers: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Accept-Encoding: identity")
        if jobs[j].sendExtraHeaders {
            for h in r.headers { headers = curl_slist_append(headers, h) }
        }
        t.headerList = headers
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
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, t.headerList)
        _ = registrar_curl_easy_setopt_ptr(easy, CURLOPT_RESOLVE, t.resolveList)
        if let body = r.postBody {
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

    private func vet(_ dest: Destination) -> Vetting {
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

    // MARK: - Completion

    private func drainMessages() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            let code = msg.pointee.data.result
            var priv: UnsafeMutableRawPointer? = nil
            _ = registrar_curl_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &priv)
            let slot = Int(bitPattern: priv) - 1
            guard slot >= 0, slot < transfers.count else { continue }
            complete(transfers[slot], code: code)
            progressed = true
        }
    }

    private func complete(_ t: Transfer, code: CURLcode) {
        let j = t.job
        let easy = t.easy
        var statusLong = 0
        _ = registrar_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &statusLong)
        let status = statusLong
        var retryAfter: curl_off_t = 0
        _ = registrar_curl_easy_getinfo_off(easy, CURLINFO_RETRY_AFTER, &retryAfter)
        var contentLength: curl_off_t = -1
        _ = registrar_curl_easy_getinfo_off(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &contentLength)
        var redirectPtr: UnsafeMutablePointer<CChar>? = nil
        _ = registrar_curl_easy_getinfo_string(easy, CURLINFO_REDIRECT_URL, &redirectPtr)
        let redirectURL = redirectPtr.map { String(cString: $0) }
        let contentRange = header(easy, "Content-Range")
        let contentType = header(easy, "Content-Type")
        let etag = header(easy, "ETag")
        let lastModified = header(easy, "Last-Modified")
        let bucketRegion = header(easy, "x-amz-bucket-region").flatMap(RangeFetcher.regionName)
        let curlText = t.errorBuffer[0] != 0 ? String(cString: t.errorBuffer) : String(cString: curl_easy_strerror(code))
        let refused = t.refusedAddress
        let cutByDeadline = t.cutByDeadline
        // Results live until the whole chunk is verified: keep only the bytes received, not the
        // 64 KiB reserved for each transfer (a 2,000-URL chunk of small objects held ~128 MiB).
        let body = t.body.capacity > 2 * t.body.count + 4096 ? t.body.withUnsafeBufferPointer { Array($0) } : t.body
        let reachedLimit = t.reachedLimit
        connectionsOpened += t.socketsOpened

        _ = curl_multi_remove_handle(multi, easy)
        releaseTransfer(t)
        active -= 1
        let dest = jobs[j].destination!
        activePerHost[dest.hostKey, default: 1] -= 1

        let where_ = dest.redacted
        let ok = code == CURLE_OK || (code == CURLE_WRITE_ERROR && reachedLimit)
        if !ok {
            if refused != nil && status == 0 {
                return finish(j, failure: .destinationForbidden,
                              message: "refusing to connect to \(dest.vettingName): the connection address was not vetted by the address policy")
            }
            if RangeFetcher.isOversizedHeader(code: code, text: curlText) {
                return finish(j, failure: .invalidResponse, status: 0,
                              message: "the response headers from \(where_) are larger than libcurl accepts (100 KiB per line, 300 KiB in all; libcurl: \(URLRedaction.scrub(curlText)))")
            }
            if code == CURLE_OPERATION_TIMEDOUT {
                if curlText.hasPrefix("Operation too slow") {
                    return retryOrFinish(j, failure: .timeout, status: 0,
                                         message: "the transfer moved less than \(policy.lowSpeedLimit) bytes/s for \(Self.seconds(policy.lowSpeedTime)) (the low-speed limit) from \(where_)",
                                         retryable: true, retryAfter: nil)
                }
                if cutByDeadline && monotonicNow() >= jobs[j].deadlineAt - 0.05 {
                    return finish(j, failure: .timeout, status: 0, message: deadlineMessage(j, last: "the last attempt was cut off (\(where_))"))
                }
                if curlText.hasPrefix("Operation timed out") {
                    return retryOrFinish(j, failure: .timeout, status: 0,
                                         message: "no complete answer within \(Self.seconds(policy.totalTimeout)) (the per-attempt timeout) from \(where_)",
                                         retryable: true, retryAfter: nil)
                }
            }
            let (failure, retryable) = RangeFetcher.classify(code)
            let text = URLRedaction.scrub(curlText)
            return retryOrFinish(j, failure: failure, status: 0, message: "\(text) (\(where_))",
                                 retryable: retryable, retryAfter: nil)
        }

        let regionError = bucketRegion != nil || RangeFetcher.contains(body, "AuthorizationHeaderMalformed")
            || RangeFetcher.contains(body, "PermanentRedirect")
        switch status {
        case 200, 206:
            var offset: Int64 = 0
            var total: Int64? = nil
            if let cr = contentRange.flatMap(ContentRange.init) {
                total = cr.total
                if status == 206 { offset = cr.start ?? jobs[j].request.rangeStart }
            } else if status == 206 {
                offset = jobs[j].request.rangeStart
            }
            var declared: Int64? = nil
            if status == 200 && total == nil {
                // A 200 to a ranged GET ignored the Range. Its size is known only if the whole body
                // arrived; a body cut off at the read limit leaves Content-Length a claim.
                if !reachedLimit || (contentLength >= 0 && Int64(body.count) == Int64(contentLength)) {
                    total = Int64(body.count)
                } else if contentLength >= 0 {
                    declared = Int64(contentLength)
                }
            }
            finish(j, status: status, bytes: body, bytesOffset: offset, totalSize: total, declaredSize: declared,
                   contentType: contentType, etag: etag, lastModified: lastModified)
        case 416:
            // The range starts at or past the end: the object exists (possibly empty).
            if let cr = contentRange.flatMap(ContentRange.init), let total = cr.total, jobs[j].request.rangeStart >= total {
                finish(j, status: status, bytes: [], bytesOffset: jobs[j].request.rangeStart, totalSize: total,
                       contentType: nil, etag: etag, lastModified: lastModified)
            } else {
                finish(j, failure: .httpError, status: status, message: "HTTP 416 (range not satisfiable) from \(where_)")
            }
        case 301 where regionError, 400 where regionError:
            // S3's wrong-region answers: a stable code and the region to use, not a redirect chase.
            let hint = bucketRegion ?? RangeFetcher.xmlRegion(body)
            finish(j, failure: .wrongRegion, status: status,
                   message: "HTTP \(status): the bucket is in another region" + (hint.map { " (\($0))" } ?? "") + " than the request was signed for: \(where_)")
        case 301, 302, 303, 307, 308:
            redirect(j, status: status, location: redirectURL)
        case 404, 410:
            finish(j, failure: .notFound, status: status, message: "HTTP \(status): no object at \(where_)")
        case 401, 403:
            finish(j, failure: .accessDenied, status: status, message: "HTTP \(status): access denied to \(where_)")
        case 408:
            retryOrFinish(j, failure: .timeout, status: status, message: "HTTP 408 (request timeout) from \(where_)",
                          retryable: true, retryAfter: nil)
        case 429:
            retryOrFinish(j, failure: .throttled, status: status, message: "HTTP 429 (too many requests) from \(where_)",
                          retryable: true, retryAfter: Int64(retryAfter))
        case 503:
            let slowDown = RangeFetcher.contains(body, "SlowDown")
            retryOrFinish(j, failure: slowDown ? .throttled : .serverError, status: status,
                          message: slowDown ? "HTTP 503 SlowDown from \(where_)" : "HTTP 503 (service unavailable) from \(where_)",
                          retryable: true, retryAfter: Int64(retryAfter))
        case 500...599:
            retryOrFinish(j, failure: .serverError, status: status, message: "HTTP \(status) from \(where_)",
                          retryable: true, retryAfter: nil)
        default:
            finish(j, failure: .httpError, status: status, message: "HTTP \(status) from \(where_)")
        }
    }

    private func redirect(_ j: Int, status: Int, location: String?) {
        let from = jobs[j].destination!
        guard let location else {
            return finish(j, failure: .httpError, status: status, message: "HTTP \(status) without a Location from \(from.redacted)")
        }
        guard policy.followRedirects, policy.maxRedirects > 0 else {
            return finish(j, failure: .tooManyRedirects, status: status,
                          message: "HTTP \(status) redirect from \(from.redacted) to \(URLRedaction.redact(location)) not followed (redirects are disabled)")
        }
        guard jobs[j].request.postBody == nil else {
            // A token request's body holds credentials (a signed assertion, a secret): it goes to
            // the endpoint named, never to wherever that endpoint points.
            return finish(j, failure: .tooManyRedirects, status: status,
                          message: "HTTP \(status) redirect from \(from.redacted) not followed: requests with a body are never redirected")
        }
        guard jobs[j].redirects < policy.maxRedirects else {
            return finish(j, failure: .tooManyRedirects, status: status,
                          message: "more than \(policy.maxRedirects) redirects, last from \(from.redacted)")
        }
        switch Destination.parse(location) {
        case .failed(let failure, let message):
            finish(j, failure: failure, status: status, message: "redirect from \(from.redacted): \(message)")
        case .ok(let next):
            if next.origin != from.origin { jobs[j].sendExtraHeaders = false }
            jobs[j].destination = next
            jobs[j].redirects += 1
            jobs[j].nextIsRedirectHop = true
            enqueue(j)
            progressed = true
        }
    }

    private func retryOrFinish(_ j: Int, failure: FetchFailure, status: Int, message: String,
                               retryable: Bool, retryAfter: Int64?) {
        let attempts = jobs[j].attempts
        if retryable && attempts < policy.maxAttempts {
            let delay = backoff(afterAttempt: attempts, retryAfter: retryAfter)
            let due = monotonicNow() + delay
            if jobs[j].firstStart >= 0 && due >= jobs[j].deadlineAt {
                // Waiting for the next attempt would pass the deadline: stop now, saying why.
                return finish(j, failure: .timeout, status: status, message: deadlineMessage(j, last: message))
            }
            jobs[j].lastFailure = message
            delayed.append((due, j))
            return
        }
        let suffix = attempts > 1 ? " (gave up after \(attempts) attempts)" : ""
        finish(j, failure: failure, status: status, message: message + suffix)
    }

    /// Full jitter: uniform in [0, min(maxBackoff, base·2^(n-1))]; a Retry-After is a floor,
    /// capped at maxBackoff·3.
    func backoff(afterAttempt n: Int, retryAfter: Int64?) -> Double {
        var cap = policy.baseBackoff
        var k = 1
        while k < n && cap < policy.maxBackoff { cap *= 2; k += 1 }
        cap = min(cap, policy.maxBackoff)
        var delay = cap > 0 ? Double.random(in: 0...cap) : 0
        if let ra = retryAfter, ra > 0 { delay = max(delay, min(Double(ra), policy.maxBackoff * 3)) }
        return delay
    }

    private func finish(_ j: Int, failure: FetchFailure, status: Int = 0, message: String) {
        results[j] = FetchResult(id: jobs[j].request.id, status: status, failure: failure, message: message,
                                 attempts: jobs[j].attempts, elapsedSeconds: elapsed(j))
        remaining -= 1
    }

    private func finish(_ j: Int, status: Int, bytes: [UInt8], bytesOffset: Int64, totalSize: Int64?, declaredSize: Int64? = nil,
                        contentType: String?, etag: String?, lastModified: String?) {
        results[j] = FetchResult(id: jobs[j].request.id, status: status, bytes: bytes, bytesOffset: bytesOffset,
                                 totalSize: totalSize, declaredSize: declaredSize, contentType: contentType, etag: etag, lastModified: lastModified,
                                 attempts: jobs[j].attempts, elapsedSeconds: elapsed(j))
        remaining -= 1
    }

    /// `timeout` because of the deadline: which bound, how many attempts, what the last one saw.
    private func deadlineMessage(_ j: Int, last: String?) -> String {
        let used = max(0, jobs[j].request.timeUsed)
        let spent = used > 0 ? " (\(Self.seconds(used)) of it in earlier reads)" : ""
        let attempts = jobs[j].attempts
        let tried = "\(attempts) attempt\(attempts == 1 ? "" : "s")"
        return "gave up after \(tried): the fetch deadline of \(Self.seconds(policy.deadline)) per object was reached\(spent)"
            + (last.map { "; last: \($0)" } ?? "")
    }

    /// `2 s`, `0.5 s`: for messages.
    static func seconds(_ s: Double) -> String {
        s == s.rounded() && s < 1e9 ? "\(Int(s)) s" : "\((s * 100).rounded() / 100) s"
    }

    /// libcurl refuses response headers past its limits: one header line over 100 KiB (its
    /// header buffer refuses to grow: CURLE_OUT_OF_MEMORY, in 7.88 with no more text than "Out of
    /// memory"; older releases said "Rejected … bytes header") or 300 KiB in all ("Too large
    /// response headers", CURLE_RECV_ERROR). Neither is a connection failure. (A transfer's
    /// memory is bounded by our write callback, so CURLE_OUT_OF_MEMORY means the headers.)
    static func isOversizedHeader(code: CURLcode, text: String) -> Bool {
        code == CURLE_OUT_OF_MEMORY || text.hasPrefix("Too large response headers")
    }

    private func elapsed(_ j: Int) -> Double {
        jobs[j].firstStart < 0 ? 0 : monotonicNow() - jobs[j].firstStart
    }

    /// CURLcode → outcome code and whether it is worth another attempt.
    static func classify(_ code: CURLcode) -> (FetchFailure, Bool) {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return (.timeout, true)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
             CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR,
             CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP3, CURLE_QUIC_CONNECT_ERROR:
            return (.connectFailed, true)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return (.invalidURL, false)
        case CURLE_TOO_MANY_REDIRECTS:
            return (.tooManyRedirects, false)
        default:
            // TLS verification failures and the like: retrying would not help.
            return (.connectFailed, false)
        }
    }

    private func header(_ easy: UnsafeMutableRawPointer, _ name: String) -> String? {
        var h: UnsafeMutablePointer<curl_header>? = nil
        guard curl_easy_header(easy, name, 0, UInt32(CURLH_HEADER), -1, &h) == CURLHE_OK,
              let h, let v = h.pointee.value else { return nil }
        return String(cString: v)
    }

    /// A region name as S3 writes one (`eu-west-2`), nil for anything else: only that much of a
    /// response goes into a message.
    static func regionName(_ s: String) -> String? {
        let t = s.trimmingCharacters(in: " \t\r\n")
        guard !t.isEmpty, t.utf8.count <= 32,
              t.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else { return nil }
        return t
    }

    /// `<Region>…</Region>` from an S3 error body (AuthorizationHeaderMalformed), validated.
    static func xmlRegion(_ body: [UInt8]) -> String? {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        guard let open = text.firstRange(of: "<Region>"), let close = text[open.upperBound...].firstRange(of: "</Region>") else { return nil }
        return regionName(String(text[open.upperBound..<close.lowerBound]))
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, haystack.count >= n.count else { return false }
        for i in 0...(haystack.count - n.count) where haystack[i] == n[0] {
            if haystack[i..<(i + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    // MARK: - Easy handle pool

    private func acquireTransfer() -> Transfer {
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

    private func releaseTransfer(_ t: Transfer) {
        // Detach everything the handle points at before freeing it.
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_HTTPHEADER, nil)
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_RESOLVE, nil)
        _ = registrar_curl_easy_setopt_ptr(t.easy, CURLOPT_CURLU, nil)
        t.releaseLists()
        t.destination = nil
        t.job = -1
        t.body = []
        t.vetted = []
        idle.append(t.slot)
    }
}

// MARK: - Internals

/// Per easy-handle state; C callbacks reach it through an unretained pointer (the fetcher's
/// `transfers` array keeps it alive for the handle's lifetime).
final class Transfer {
    let easy: UnsafeMutableRawPointer
    let slot: Int
    let errorBuffer: UnsafeMutablePointer<CChar>
    var job = -1
    var body: [UInt8] = []
    var limit = 0
    var reachedLimit = false
    /// This attempt's timeout is what was left of the request's deadline (shorter than the
    /// per-attempt timeout): a timeout then means the deadline.
    var cutByDeadline = false
    var vetted: [IPAddress] = []
    var refusedAddress: IPAddress? = nil
    var socketsOpened = 0
    var headerList: UnsafeMutablePointer<curl_slist>? = nil
    var resolveList: UnsafeMutablePointer<curl_slist>? = nil
    var destination: Destination? = nil

    init(easy: UnsafeMutableRawPointer, slot: Int) {
        self.easy = easy
        self.slot = slot
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    func releaseLists() {
        if let l = headerList { curl_slist_free_all(l); headerList = nil }
        if let l = resolveList { curl_slist_free_all(l); resolveList = nil }
    }
}

struct Job {
    var request: FetchRequest
    var destination: Destination? = nil
    var sendExtraHeaders = true
    var attempts = 0
    var redirects = 0
    var firstStart: Double = -1
    /// firstStart + the policy's deadline − the request's `timeUsed`.
    var deadlineAt: Double = .infinity
    /// The message of the last failed attempt, for a deadline message.
    var lastFailure: String? = nil
    var nextIsRedirectHop = false

    init(request: FetchRequest) { self.request = request }
}

/// FIFO of job indices.
struct JobQueue {
    private var items: [Int] = []
    private var head = 0
    var isEmpty: Bool { head >= items.count }

    /// Returns true when the queue was empty before.
    mutating func push(_ j: Int) -> Bool {
        let wasEmpty = isEmpty
        if wasEmpty { items.removeAll(keepingCapacity: true); head = 0 }
        items.append(j)
        return wasEmpty
    }

    mutating func pop() -> Int? {
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }
}

/// `Content-Range: bytes a-b/total`, `bytes a-b/*`, `bytes */total`.
struct ContentRange {
    var start: Int64?
    var end: Int64?
    var total: Int64?

    init?(_ value: String) {
        var s = Substring(value)
        while s.first == " " { s = s.dropFirst() }
        guard s.lowercased().hasPrefix("bytes") else { return nil }
        s = s.dropFirst(5)
        while s.first == " " || s.first == "=" { s = s.dropFirst() }
        guard let slash = s.firstIndex(of: "/") else { return nil }
        let range = s[..<slash], totalText = s[s.index(after: slash)...].trimmingTrailingSpaces()
        if totalText != "*" {
            guard let t = Int64(totalText), t >= 0 else { return nil }
            total = t
        }
        if range != "*" {
            let parts = range.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Int64(parts[0]), let b = Int64(parts[1]), a >= 0, b >= a else { return nil }
            start = a
            end = b
        }
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

private extension Substring {
    func trimmingTrailingSpaces() -> Substring {
        var s = self
        while let l = s.last, l == " " || l == "\r" || l == "\n" || l == "\t" { s = s.dropLast() }
        return s
    }
}

@inline(__always) func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

// MARK: - C callbacks (no captures; state arrives as user data)

private let writeBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
    let total = size * count
    guard total > 0 else { return 0 }
    guard let user, let data else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let room = t.limit - t.body.count
    let take = min(max(room, 0), total)
    if take > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: take) {
            t.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: take))
        }
    }
    if take < total { t.reachedLimit = true; return 0 }  // enough: abort the transfer
    if t.body.count >= t.limit {
        // Full. A 206 ends by itself (and keeps its connection); anything else — a 200 that
        // ignored Range — is cut off now rather than read to its end.
        var code = 0
        _ = registrar_curl_easy_getinfo_long(t.easy, CURLINFO_RESPONSE_CODE, &code)
        if code != 206 { t.reachedLimit = true; return 0 }
    }
    return total
}

private let openSocket: @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t = { user, _, address in
    guard let user, let address else { return CURL_SOCKET_BAD }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
    let ip = HostResolver.address(of: UnsafeRawPointer(address) + offset, length: Int(address.pointee.addrlen))
    guard let ip, t.vetted.contains(ip) else {
        t.refusedAddress = ip ?? IPAddress(v4: 0)
        return CURL_SOCKET_BAD
    }
    #if canImport(Glibc)
    let type = address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue)
    #else
    let type = address.pointee.socktype
    #endif
    let fd = socket(address.pointee.family, type, address.pointee.protocol)
    if fd >= 0 { t.socketsOpened += 1 }
    return fd
}
