// What happens when a transfer ends: the outcome read from curl and the response headers,
// redirects, retries with backoff, the fetch deadline, and the failure classification.

import CCurl
import RegistrarCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RangeFetcher {
    func drainMessages() {
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

    func complete(_ t: Transfer, code: CURLcode) {
        let j = t.job
        let easy = t.easy
        var statusLong = 0
        _ = registrar_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &statusLong)
        let status = statusLong
        var retryAfter: curl_off_t = 0
        _ = registrar_curl_easy_getinfo_off(easy, CURLINFO_RETRY_AFTER, &retryAfter)
        var contentLength: curl_off_t = -1
        _ = registrar_curl_easy_getinfo_off(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &contentLength)
        // Read only what the common case needs: the redirect target, the region header and the
        // error text are fetched below on the paths that use them (each costs a lookup and an
        // allocation, per request, on the hottest path of a worker).
        let redirectURL: () -> String? = {
            var redirectPtr: UnsafeMutablePointer<CChar>? = nil
            _ = registrar_curl_easy_getinfo_string(easy, CURLINFO_REDIRECT_URL, &redirectPtr)
            return redirectPtr.map { String(cString: $0) }
        }
        let contentRange = header(easy, "Content-Range")
        let contentType = header(easy, "Content-Type")
        let etag = header(easy, "ETag")
        let lastModified = header(easy, "Last-Modified")
        let ok = code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.reachedLimit)
        let curlText = ok ? "" : (t.errorBuffer[0] != 0 ? String(cString: t.errorBuffer) : String(cString: curl_easy_strerror(code)))
        let bucketRegion = (status == 301 || status == 400) ? header(easy, "x-amz-bucket-region").flatMap(RangeFetcher.regionName) : nil
        let refused = t.refusedAddress
        let cutByDeadline = t.cutByDeadline
        // Results live until the whole chunk is verified: keep only the bytes received, not the
        // 64 KiB reserved for each transfer (a 2,000-URL chunk of small objects held ~128 MiB).
        // A small body is copied out and the transfer keeps its buffer for the next request (no
        // 64 KiB malloc/free per request); a mostly full one is handed over whole.
        let body: [UInt8]
        if t.body.capacity > 2 * t.body.count + 4096 {
            body = t.body.withUnsafeBufferPointer { Array($0) }
            t.body.removeAll(keepingCapacity: true)
        } else {
            body = t.body
            t.body = []
        }
        let reachedLimit = t.reachedLimit
        connectionsOpened += t.socketsOpened

        _ = curl_multi_remove_handle(multi, easy)
        releaseTransfer(t)
        active -= 1
        let dest = jobs[j].destination!
        activePerHost[dest.hostKey, default: 1] -= 1

        var where_: String { dest.redacted }
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

        // Only a 301 or 400 can be S3's wrong-region answer: the body is searched for it then only.
        let regionError = (status == 301 || status == 400)
            && (bucketRegion != nil || RangeFetcher.contains(body, "AuthorizationHeaderMalformed")
                || RangeFetcher.contains(body, "PermanentRedirect"))
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
        // Azure answers Put Blob / Put Block (List) with 201 Created and Delete Blob with 202 Accepted.
        case 201 where jobs[j].request.method != nil, 202 where jobs[j].request.method != nil, 204 where jobs[j].request.method != nil:
            finish(j, status: status, bytes: [], bytesOffset: 0, totalSize: nil, contentType: contentType, etag: etag, lastModified: lastModified)
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
            redirect(j, status: status, location: redirectURL())
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

    func redirect(_ j: Int, status: Int, location: String?) {
        let from = jobs[j].destination!
        guard let location else {
            return finish(j, failure: .httpError, status: status, message: "HTTP \(status) without a Location from \(from.redacted)")
        }
        guard policy.followRedirects, policy.maxRedirects > 0 else {
            return finish(j, failure: .tooManyRedirects, status: status,
                          message: "HTTP \(status) redirect from \(from.redacted) to \(URLRedaction.redact(location)) not followed (redirects are disabled)")
        }
        guard jobs[j].request.postBody == nil && jobs[j].request.method == nil else {
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

    func retryOrFinish(_ j: Int, failure: FetchFailure, status: Int, message: String,
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

    func finish(_ j: Int, failure: FetchFailure, status: Int = 0, message: String) {
        results[j] = FetchResult(id: jobs[j].request.id, status: status, failure: failure, message: message,
                                 attempts: jobs[j].attempts, elapsedSeconds: elapsed(j))
        remaining -= 1
    }

    func finish(_ j: Int, status: Int, bytes: [UInt8], bytesOffset: Int64, totalSize: Int64?, declaredSize: Int64? = nil,
                        contentType: String?, etag: String?, lastModified: String?) {
        results[j] = FetchResult(id: jobs[j].request.id, status: status, bytes: bytes, bytesOffset: bytesOffset,
                                 totalSize: totalSize, declaredSize: declaredSize, contentType: contentType, etag: etag, lastModified: lastModified,
                                 attempts: jobs[j].attempts, elapsedSeconds: elapsed(j))
        remaining -= 1
    }

    /// `timeout` because of the deadline: which bound, how many attempts, what the last one saw.
    func deadlineMessage(_ j: Int, last: String?) -> String {
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

    func elapsed(_ j: Int) -> Double {
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

    func header(_ easy: UnsafeMutableRawPointer, _ name: String) -> String? {
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
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
