import RegistrarCore

/// One ranged GET: `Range: bytes=rangeStart-(rangeStart+rangeLength-1)`.
public struct FetchRequest: Sendable {
    public var id: Int
    public var url: String
    public var rangeStart: Int64 = 0
    public var rangeLength: Int = 65536
    /// Extra request headers (`Name: value`), e.g. authorization. Sent only to the origin of `url`:
    /// dropped when a redirect leads to another scheme, host or port. Never echoed in messages.
    public var headers: [String] = []
    /// A POST body (token exchanges): sent instead of a ranged GET, with no `Range` header;
    /// `rangeLength` then caps the response body kept. Never echoed in messages. A request with
    /// a body is never redirected (the body may hold credentials).
    public var postBody: [UInt8]? = nil
    /// Another method than GET (with no body) or POST (with `postBody`): `PUT` sends `postBody`,
    /// `DELETE` none. Such a request has no `Range`, is never redirected, and a 201, 202 or 204 is a success.
    /// Used by the bucket storage (`S3ObjectStorage`).
    public var method: String? = nil
    /// Seconds this object's earlier requests already took (earlier probe rounds): they count
    /// against `FetchPolicy.deadline`, so an object's whole fetch time stays within it.
    public var timeUsed: Double = 0

    public init(id: Int, url: String, rangeStart: Int64 = 0, rangeLength: Int = 65536, headers: [String] = [],
                postBody: [UInt8]? = nil, timeUsed: Double = 0, method: String? = nil) {
        self.id = id
        self.url = url
        self.rangeStart = rangeStart
        self.rangeLength = rangeLength
        self.headers = headers
        self.postBody = postBody
        self.timeUsed = timeUsed
        self.method = method
    }
}

/// Stable outcome codes (docs/design.md, "Verifying an object"). A unit whose fetch failed fails with `code`, the same
/// string (`cancelled` excepted: it is never a unit's outcome).
public enum FetchFailure: String, Sendable, CaseIterable {
    case notFound = "not_found"
    case accessDenied = "access_denied"
    case throttled = "throttled"
    case timeout = "timeout"
    case serverError = "server_error"
    case connectFailed = "connect_failed"
    case destinationForbidden = "destination_forbidden"
    case invalidURL = "invalid_url"
    case tooManyRedirects = "too_many_redirects"
    case httpError = "http_error"
    /// S3 answered that the bucket lives in another region than the request was signed for
    /// (301 PermanentRedirect, 400 AuthorizationHeaderMalformed; `x-amz-bucket-region` names it).
    case wrongRegion = "wrong_region"
    /// The server's answer broke the limits an HTTP client keeps (response headers over
    /// libcurl's 100 KiB): not a connection problem, and not retried.
    case invalidResponse = "invalid_response"
    /// The caller's `shouldStop` answered true (the job was cancelled): the transfer was
    /// abandoned. Never a unit's outcome: the worker records the chunk as cancelled.
    case cancelled = "cancelled"

    /// The unit error code of a unit whose fetch failed this way.
    public var code: UnitErrorCode { UnitErrorCode(rawValue: rawValue) }
}

public struct FetchResult: Sendable {
    public var id: Int
    /// Final HTTP status (0 if no response arrived).
    public var status: Int
    /// Body bytes received: at most `rangeLength`. Empty when `failure` is set (error pages are
    /// not passed on).
    public var bytes: [UInt8]
    /// Offset of `bytes[0]` in the object: the start of `Content-Range` on a 206, 0 on a 200
    /// (a server that ignores `Range` sends the object from its beginning).
    public var bytesOffset: Int64
    /// The object's size, only when the answer proves it: `Content-Range: bytes a-b/TOTAL` (or
    /// `*/TOTAL`), or a 200 whose whole body arrived (its length). A 200 that ignored `Range` and
    /// was cut off at `rangeLength` leaves it nil: its `Content-Length` is a claim we did not read
    /// to the end (see `declaredSize`).
    public var totalSize: Int64?
    /// A 200 cut off at `rangeLength`: the `Content-Length` it declared (unverified), else nil.
    public var declaredSize: Int64?
    public var contentType: String?
    public var etag: String?
    public var lastModified: String?
    public var failure: FetchFailure?
    /// Human text. Mentions URLs only without userinfo, query string or fragment.
    public var message: String?
    /// HTTP attempts made (0 when refused before connecting); redirect hops do not count.
    public var attempts: Int
    /// From the first attempt's start to the final outcome, retry waits included.
    public var elapsedSeconds: Double

    public init(id: Int, status: Int = 0, bytes: [UInt8] = [], bytesOffset: Int64 = 0, totalSize: Int64? = nil,
                declaredSize: Int64? = nil,
                contentType: String? = nil, etag: String? = nil, lastModified: String? = nil,
                failure: FetchFailure? = nil, message: String? = nil, attempts: Int = 0, elapsedSeconds: Double = 0) {
        self.id = id
        self.status = status
        self.bytes = bytes
        self.bytesOffset = bytesOffset
        self.totalSize = totalSize
        self.declaredSize = declaredSize
        self.contentType = contentType
        self.etag = etag
        self.lastModified = lastModified
        self.failure = failure
        self.message = message
        self.attempts = attempts
        self.elapsedSeconds = elapsedSeconds
    }
}

public struct FetchPolicy: Sendable {
    /// Transfers in flight at once (and easy handles kept).
    public var maxConcurrent = 64
    /// Transfers in flight per host:port (also CURLMOPT_MAX_HOST_CONNECTIONS).
    public var maxPerHost = 32
    /// Seconds.
    public var connectTimeout = 5.0
    /// Seconds per attempt.
    public var totalTimeout = 30.0
    /// Seconds one request may take in all: every attempt, retry wait and redirect hop, plus the
    /// `timeUsed` of the object's earlier requests. Past it no attempt starts, an attempt in
    /// flight is cut off, and the outcome is `timeout` naming this bound. It keeps one slow
    /// object from holding its chunk for attempts × `totalTimeout`.
    public var deadline = 60.0
    /// Low-speed limit (CURLOPT_LOW_SPEED_LIMIT/TIME): an attempt moving fewer than
    /// `lowSpeedLimit` bytes per second for `lowSpeedTime` seconds is cut off (`timeout`,
    /// retried within the deadline). A trickling server then costs seconds, not `totalTimeout`.
    /// 0 turns it off.
    public var lowSpeedLimit = 1024
    public var lowSpeedTime = 15.0
    /// Attempts per request, the first included.
    public var maxAttempts = 4
    /// Exponential backoff with full jitter: a delay drawn from [0, min(maxBackoff, baseBackoff·2^(n-1))].
    /// `Retry-After` on 429/503 is honoured as a minimum, capped at `maxBackoff * 3`.
    public var baseBackoff = 0.2
    public var maxBackoff = 10.0
    /// Default: follow none (the commands that fetch objects turn it on, see `--fetch-max-redirects`).
    /// When true, at most `maxRedirects` hops, each re-resolved and re-checked by `addressPolicy`
    /// like the first; extra headers (signatures, authorization) go only to the first origin, and
    /// requests with a body are never redirected.
    public var followRedirects = false
    /// Redirect hops followed when `followRedirects` is on.
    public var maxRedirects = FetchPolicy.defaultMaxRedirects
    public var addressPolicy: AddressPolicy
    /// PEM bundle of CA certificates to verify servers with (CURLOPT_CAINFO), replacing the
    /// system bundle: for object stores behind a private CA. nil: the system bundle.
    public var caBundlePath: String? = nil

    public init(addressPolicy: AddressPolicy = AddressPolicy(),
                maxConcurrent: Int = 64, maxPerHost: Int = 32,
                connectTimeout: Double = 5.0, totalTimeout: Double = 30.0,
                maxAttempts: Int = 4, baseBackoff: Double = 0.2, maxBackoff: Double = 10.0,
                followRedirects: Bool = false, caBundlePath: String? = nil,
                deadline: Double = 60.0, lowSpeedLimit: Int = 1024, lowSpeedTime: Double = 15.0,
                maxRedirects: Int = FetchPolicy.defaultMaxRedirects) {
        self.addressPolicy = addressPolicy
        self.maxConcurrent = maxConcurrent
        self.maxPerHost = maxPerHost
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.followRedirects = followRedirects
        self.caBundlePath = caBundlePath
        self.deadline = deadline
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maxRedirects = maxRedirects
    }

    public static let defaultMaxRedirects = 5
}

public struct FetcherSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// URLs as they may appear in logs and messages: scheme, host, port and path only. Userinfo,
/// query string (presigned URLs carry their signature there) and fragment are removed.
public enum URLRedaction {
    public static func redact(_ url: String, maxLength: Int = 200) -> String {
        var s = Substring(url)
        if let cut = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<cut] }
        var out: String
        if let sep = s.firstRange(of: "://") {
            let afterScheme = s[sep.upperBound...]
            let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            var authority = afterScheme[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            out = String(s[..<sep.upperBound]) + authority + afterScheme[authorityEnd...]
        } else {
            out = String(s)
        }
        if out.count > maxLength { out = String(out.prefix(maxLength)) + "…" }
        return out
    }

    /// Scrubs free text (e.g. a libcurl error string): any `?…` up to whitespace is cut.
    static func scrub(_ text: String) -> String {
        var out = ""
        var skipping = false
        for ch in text {
            if ch == "?" { skipping = true; continue }
            if skipping { if ch == " " || ch == "\n" || ch == "\t" { skipping = false } else { continue } }
            out.append(ch)
        }
        return out
    }
}
