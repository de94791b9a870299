#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCurl
import RegistrarCore

/// A URL parsed by libcurl's own URL parser (so the host we vet is the host curl connects to:
/// no parser differential). Owns the CURLU handle, which the transfer uses via CURLOPT_CURLU.
final class Destination {
    let handle: OpaquePointer
    let scheme: String
    /// As curl reports it: a lower-cased name, a dotted quad, or a bracketed IPv6 literal.
    let host: String
    let port: Int
    /// The URL as given; never shown (it may carry a signature): see `redacted`.
    private let url: String
    /// For messages: no userinfo, query or fragment. Made when a message needs it, not per request.
    lazy var redacted: String = URLRedaction.redact(url)

    /// `host:port`: the per-host queue and connection limit key (used several times per request).
    let hostKey: String
    var origin: String { "\(scheme)://\(host):\(port)" }
    /// Host without brackets or trailing dot, lower case: what is resolved and vetted.
    let vettingName: String

    private init(handle: OpaquePointer, scheme: String, host: String, port: Int, url: String) {
        self.handle = handle
        self.scheme = scheme
        self.host = host
        self.port = port
        self.url = url
        hostKey = "\(host):\(port)"
        vettingName = AddressPolicy.normalizeHost(host)
    }

    deinit { curl_url_cleanup(handle) }

    enum Parsed {
        case ok(Destination)
        case failed(FetchFailure, String)
    }

    static func parse(_ url: String) -> Parsed {
        var redacted: String { URLRedaction.redact(url) }
        guard url.utf8.count <= 16 * 1024 else { return .failed(.invalidURL, "the URL is longer than 16 KB") }
        guard let h = curl_url() else { return .failed(.invalidURL, "could not allocate a URL parser") }
        let flags = UInt32(CURLU_NON_SUPPORT_SCHEME) | UInt32(CURLU_PATH_AS_IS)
        let rc = curl_url_set(h, CURLUPART_URL, url, flags)
        guard rc == CURLUE_OK else {
            curl_url_cleanup(h)
            return .failed(.invalidURL, "'\(redacted)' is not a valid absolute URL (\(String(cString: curl_url_strerror(rc))))")
        }
        func part(_ what: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var p: UnsafeMutablePointer<CChar>? = nil
            guard curl_url_get(h, what, &p, flags) == CURLUE_OK, let p else { return nil }
            defer { curl_free(p) }
            return String(cString: p)
        }
        let scheme = AddressPolicy.normalizeHost(part(CURLUPART_SCHEME) ?? "")
        guard scheme == "http" || scheme == "https" else {
            curl_url_cleanup(h)
            let shown = scheme.isEmpty ? "" : " '\(scheme)'"
            return .failed(.invalidURL, "the URL scheme\(shown) is not fetched directly (only http and https): \(redacted)")
        }
        if part(CURLUPART_ZONEID) != nil {
            curl_url_cleanup(h)
            return .failed(.destinationForbidden, "IPv6 zone identifiers are not allowed: \(redacted)")
        }
        guard let host = part(CURLUPART_HOST), !host.isEmpty,
              let portText = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)), let port = Int(portText) else {
            curl_url_cleanup(h)
            return .failed(.invalidURL, "'\(redacted)' has no host")
        }
        return .ok(Destination(handle: h, scheme: scheme, host: lowerASCII(host),
                               port: port, url: url))
    }

    private static func lowerASCII(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}

/// What the address policy said about a host, after resolving it once.
enum Vetting {
    case allowed([IPAddress])
    case refused(String)
    case unresolved(String, retryable: Bool)
}

enum HostResolver {
    /// getaddrinfo, every address (IPv4 and IPv6), de-duplicated, in resolver order.
    static func resolve(_ name: String) -> Result<[IPAddress], ResolveError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var res: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(name, nil, &hints, &res)
        guard rc == 0 else {
            let text = String(cString: gai_strerror(rc))
            return .failure(ResolveError(message: text, retryable: rc == EAI_AGAIN))
        }
        defer { freeaddrinfo(res) }
        var out: [IPAddress] = []
        var p = res
        while let ai = p {
            if let sa = ai.pointee.ai_addr, let ip = address(of: UnsafeRawPointer(sa), length: Int(ai.pointee.ai_addrlen)),
               !out.contains(ip) {
                out.append(ip)
            }
            p = ai.pointee.ai_next
        }
        return .success(out)
    }

    struct ResolveError: Error { var message: String; var retryable: Bool }

    /// The IP in a `sockaddr_in`/`sockaddr_in6`, nil for other families.
    static func address(of sa: UnsafeRawPointer, length: Int) -> IPAddress? {
        let family = Int32(sa.loadUnaligned(as: sockaddr.self).sa_family)
        if family == AF_INET, length >= MemoryLayout<sockaddr_in>.size {
            let sin = sa.loadUnaligned(as: sockaddr_in.self)
            return IPAddress(v4: UInt32(bigEndian: sin.sin_addr.s_addr))
        }
        if family == AF_INET6, length >= MemoryLayout<sockaddr_in6>.size {
            var sin6 = sa.loadUnaligned(as: sockaddr_in6.self)
            return withUnsafeBytes(of: &sin6.sin6_addr) { IPAddress(bytes: $0) }
        }
        return nil
    }
}
