/// A URL split into the pieces the provider forms look at, checked strictly enough that the
/// fetcher and this parser cannot disagree about which host a URL names.
///
/// Why strict: both open-source peers shipped SSRF bypasses built on parser confusion (userinfo,
/// backslashes, odd hosts). So anything a browser-style parser would "repair" is refused here:
/// userinfo (`user@host`, which also puts credentials into logs), a backslash in the authority
/// (WHATWG reads `\` as `/`, RFC 3986 does not), whitespace or control bytes, non-ASCII or
/// percent-encoded hosts (no IDNA here: write punycode), empty labels, malformed ports and IPv6
/// literals with zone ids.
struct CloudURLParts {
    /// Lower-cased: `https`, `http`, `s3` or `gs`.
    var scheme: String
    /// Lower-cased, trailing dot removed, IPv6 with brackets. For `s3://`/`gs://` the bucket,
    /// as written (legacy S3 bucket names may hold upper case). Empty for the ARN form.
    var host: String
    /// True when the host is an IPv4 or IPv6 literal: no provider form can match it.
    var isIPLiteral: Bool
    /// Nil when absent, empty or the scheme's default.
    var port: Int?
    /// The authority when it is an ARN (`arn:aws:s3::123:accesspoint`), as written.
    var arn: String?
    /// Raw (still percent-encoded), from the `/` after the authority up to `?` or `#`; may be empty.
    var path: Substring
    /// After `?`, up to `#`; nil when absent or empty.
    var query: String?

    static let schemes: Set<String> = ["https", "http", "s3", "gs"]

    static func split(_ b: UnsafeBufferPointer<UInt8>) -> Result<CloudURLParts, CloudURLError> {
        func invalid(_ message: String) -> Result<CloudURLParts, CloudURLError> {
            .failure(CloudURLError(code: CloudURLError.Code.invalidURL, message: message))
        }
        let n = b.count
        if n == 0 { return invalid("the URL is empty") }
        for c in b where c <= 0x20 || c == 0x7F {
            return invalid(c == 0x20 ? "the URL contains a space; encode it as %20" : "the URL contains whitespace or a control character")
        }

        // Scheme: ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":"
        var i = 0
        var scheme = ""
        while i < n, i <= 32 {
            let c = b[i]
            let alpha = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            let other = (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E
            if c == 0x3A || !(alpha || (i > 0 && other)) { break }
            scheme.unicodeScalars.append(Unicode.Scalar(alpha ? c | 0x20 : c))
            i += 1
        }
        guard i < n, b[i] == 0x3A, !scheme.isEmpty else {
            return invalid("not an absolute URL (expected https://, http://, s3:// or gs://)")
        }
        guard schemes.contains(scheme) else {
            return .failure(CloudURLError(code: CloudURLError.Code.unsupportedScheme,
                                          message: "the URL scheme '\(scheme)' is not supported (use https, http, s3 or gs)"))
        }
        i += 1
        guard i + 1 < n, b[i] == 0x2F, b[i + 1] == 0x2F else {
            return invalid("expected \(scheme)://HOST/… after the scheme")
        }
        i += 2

        // Authority: up to '/', '?' or '#'.
        let authorityStart = i
        while i < n, b[i] != 0x2F, b[i] != 0x3F, b[i] != 0x23 {
            if b[i] == 0x5C { return invalid("the URL's authority contains a backslash") }
            if b[i] == 0x40 { return invalid("the URL contains userinfo ('user@host'); put credentials in the integration, not the URL") }
            i += 1
        }
        let authority = UnsafeBufferPointer(rebasing: b[authorityStart..<i])

        // Path, query; the fragment is never sent, so it is dropped.
        let pathStart = i
        while i < n, b[i] != 0x3F, b[i] != 0x23 { i += 1 }
        let path = Substring(decoding(b, pathStart, i))
        var query: String?
        if i < n, b[i] == 0x3F {
            let queryStart = i + 1
            i = queryStart
            while i < n, b[i] != 0x23 { i += 1 }
            if i > queryStart { query = decoding(b, queryStart, i) }
        }

        var parts = CloudURLParts(scheme: scheme, host: "", isIPLiteral: false, port: nil, arn: nil, path: path, query: query)

        if scheme == "s3" || scheme == "gs" {
            // The authority is the bucket name.
            if authority.isEmpty {
                return .failure(CloudURLError(code: CloudURLError.Code.missingBucket, message: "the \(scheme):// URL names no bucket"))
            }
            guard authority.allSatisfy(isBucketByte) else {
                return .failure(CloudURLError(code: CloudURLError.Code.invalidBucket,
                                              message: "the bucket name in the \(scheme):// URL has characters bucket names cannot have"))
            }
            parts.host = String(decoding: authority, as: UTF8.self)
            return .success(parts)
        }

        // Encord's Multi-Region Access Point form puts an ARN where the host goes. Every AWS
        // partition starts with "aws", so `arn:8080` stays a host named "arn" with a port.
        if authority.starts(with: "arn:aws".utf8) {
            parts.arn = String(decoding: authority, as: UTF8.self)
            return .success(parts)
        }

        // Host and port.
        var hostEnd = authority.count
        var portStart: Int?
        if authority.first == 0x5B {
            guard let close = authority.firstIndex(of: 0x5D) else { return invalid("an IPv6 literal host has no closing ']'") }
            let inner = authority[1..<close]
            guard inner.contains(0x3A), inner.allSatisfy({ isHexDigit($0) || $0 == 0x3A || $0 == 0x2E }) else {
                return invalid("the IPv6 literal host is malformed (zone ids are not accepted)")
            }
            hostEnd = close + 1
            if hostEnd < authority.count {
                guard authority[hostEnd] == 0x3A else { return invalid("unexpected characters after the IPv6 literal host") }
                portStart = hostEnd + 1
            }
            parts.isIPLiteral = true
            parts.host = String(decoding: authority[0..<hostEnd].map(lower), as: UTF8.self)
        } else {
            if let colon = authority.firstIndex(of: 0x3A) {
                hostEnd = colon
                portStart = colon + 1
            }
            var host = UnsafeBufferPointer(rebasing: authority[0..<hostEnd])
            if host.last == 0x2E { host = UnsafeBufferPointer(rebasing: host[0..<(host.count - 1)]) }
            if host.isEmpty { return invalid("the URL has an empty host") }
            if host.count > 253 { return invalid("the host name is longer than 253 characters") }
            var labelLength = 0
            var allDigitsAndDots = true
            for c in host {
                if c == 0x2E {
                    if labelLength == 0 { return invalid("the host name has an empty label ('..' or a leading '.')") }
                    labelLength = 0
                    continue
                }
                if c >= 0x80 { return invalid("the host name is not ASCII; write internationalised names in punycode (xn--…)") }
                guard isHostByte(c) else { return invalid("the host name contains a character host names cannot have") }
                if !(c >= 0x30 && c <= 0x39) { allDigitsAndDots = false }
                labelLength += 1
                if labelLength > 63 { return invalid("a host name label is longer than 63 characters") }
            }
            if labelLength == 0 { return invalid("the host name has an empty label ('..' at its end)") }
            parts.isIPLiteral = allDigitsAndDots
            parts.host = String(decoding: host.map(lower), as: UTF8.self)
        }
        if let portStart, portStart < authority.count {
            let digits = authority[portStart...]
            guard digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return invalid("the port is not a number") }
            let port = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard port >= 1, port <= 65535 else { return invalid("the port \(port) is out of range") }
            if !(scheme == "https" && port == 443) && !(scheme == "http" && port == 80) { parts.port = port }
        }
        return .success(parts)
    }

    /// Labels of the host (empty for IP literals).
    var labels: [Substring] {
        isIPLiteral ? [] : host.split(separator: ".", omittingEmptySubsequences: false)
    }

    @inline(__always) private static func decoding(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    @inline(__always) static func isHexDigit(_ c: UInt8) -> Bool { URLKey.hexValue(c) != nil }

    /// Letters, digits, '-' and '_' (the last is not legal in DNS host names but occurs in real
    /// internal names; it cannot change which host is meant).
    @inline(__always) static func isHostByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    /// The union of what S3 (legacy names included), GCS and Azure (`$root`) allow in bucket names.
    @inline(__always) static func isBucketByte(_ c: UInt8) -> Bool {
        isHostByte(c) || c == 0x2E || c == 0x24
    }
}

/// Percent-decoding for object keys.
enum CloudKeyDecoding {
    /// The key `raw` spells, percent-decoded as UTF-8; nil when the result is not UTF-8.
    /// `+` stays `+` (it means space only in form bodies, and object stores keep it as written);
    /// a `%` not followed by two hex digits is a literal `%`, as `URLKey.normalize` reads it.
    static func decode(_ raw: Substring) -> String? {
        guard raw.utf8.contains(0x25) else { return String(raw) }
        let b = Array(raw.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var k = 0
        while k < b.count {
            if b[k] == 0x25, k + 2 < b.count, let hi = URLKey.hexValue(b[k + 1]), let lo = URLKey.hexValue(b[k + 2]) {
                out.append(hi << 4 | lo)
                k += 3
            } else {
                out.append(b[k])
                k += 1
            }
        }
        guard UTF8Check.firstInvalidByte(in: out) == nil else { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}
