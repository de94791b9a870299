/// The normalised form of an object URL, used to detect duplicates.
///
/// What is normalised (safe by RFC 3986 §6.2.2 and §6.2.3; two URLs that differ only here
/// always name the same object):
/// - the scheme and the host are lower-cased;
/// - a default port is dropped (`:443` for https, `:80` for http) and so is an empty port (`host:`);
/// - percent-encoding: hex digits are upper-cased (`%c2%b7` → `%C2%B7`), and encoded unreserved
///   characters are decoded (`%41` → `A`, `%7E` → `~`);
/// - the fragment (`#…`) is dropped: it is never sent to the server.
///
/// What is NOT normalised, because object stores treat these as different keys:
/// path case, `+` versus `%20`, a trailing slash, dot segments (`a/../b` is a legal S3 key),
/// repeated slashes, and the query string (kept verbatim and in order, so two presigned URLs for the same
/// object with different signatures are different keys, as an exact match would say).
public enum URLKey {
    /// The key for a unit: its normalised URL, or for a multi-URL unit the normalised URLs in frame
    /// order joined by newlines (which no valid URL contains).
    public static func forUnit(_ urls: [String]) -> String {
        if urls.count == 1 { return normalize(urls[0]) }
        var out = ""
        for (i, u) in urls.enumerated() {
            if i > 0 { out.append("\n") }
            out.append(normalize(u))
        }
        return out
    }

    /// Normalises one URL that has already passed `ObjectURLCheck` (absolute, supported scheme).
    public static func normalize(_ url: String) -> String {
        if isNormalized(url) { return url }
        let bytes = Array(url.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return url }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        // Scheme, lower-cased.
        for b in bytes[..<colon] { out.append(lower(b)) }
        let scheme = String(decoding: out, as: UTF8.self)
        out.append(UInt8(ascii: ":"))
        var i = colon + 1
        if bytes.count >= i + 2 && bytes[i] == UInt8(ascii: "/") && bytes[i + 1] == UInt8(ascii: "/") {
            out.append(contentsOf: [UInt8(ascii: "/"), UInt8(ascii: "/")])
            i += 2
            var authorityEnd = i
            while authorityEnd < bytes.count, bytes[authorityEnd] != UInt8(ascii: "/"),
                  bytes[authorityEnd] != UInt8(ascii: "?"), bytes[authorityEnd] != UInt8(ascii: "#") {
                authorityEnd += 1
            }
            let authority = bytes[i..<authorityEnd]
            // userinfo@ is kept as written; host (and port) lower-cased.
            let hostStart = authority.lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 } ?? i
            out.append(contentsOf: bytes[i..<hostStart])
            var hostPort = bytes[hostStart..<authorityEnd].map(lower)
            if let portColon = portSeparator(hostPort) {
                let port = String(decoding: hostPort[(portColon + 1)...], as: UTF8.self)
                if port.isEmpty || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
                    hostPort.removeSubrange(portColon...)
                }
            }
            out.append(contentsOf: hostPort)
            i = authorityEnd
        }
        // Path and query: percent-encoding normalised; fragment dropped.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "#") { break }
            if b == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                let decoded = hi << 4 | lo
                if isUnreserved(decoded) {
                    out.append(decoded)
                } else {
                    out.append(UInt8(ascii: "%"))
                    out.append(upperHex(hi))
                    out.append(upperHex(lo))
                }
                i += 3
                continue
            }
            if b == UInt8(ascii: "%") {
                // A stray '%' (not followed by two hex digits) is escaped, so that no later
                // decoding can turn it and what follows into a new escape.
                out.append(contentsOf: [UInt8(ascii: "%"), UInt8(ascii: "2"), UInt8(ascii: "5")])
                i += 1
                continue
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One pass, no allocation: true when `normalize` would return `url` unchanged (the usual
    /// case: lower-case scheme and host, no port, canonical percent-escapes, no fragment).
    static func isNormalized(_ url: String) -> Bool {
        url.utf8.withContiguousStorageIfAvailable { b -> Bool in
            let n = b.count
            var i = 0
            while i < n, b[i] != 0x3A {
                if b[i] >= 0x41 && b[i] <= 0x5A { return false }
                i += 1
            }
            guard i + 2 < n, b[i + 1] == 0x2F, b[i + 2] == 0x2F else { return false }
            i += 3
            while i < n, b[i] != 0x2F, b[i] != 0x3F, b[i] != 0x23 {
                let c = b[i]
                if (c >= 0x41 && c <= 0x5A) || c == 0x3A || c == 0x40 || c == 0x5B { return false }
                i += 1
            }
            while i < n {
                // Only '%' and '#' matter from here on: jump to the next one.
                i = ByteScan.firstIndex(of: 0x25, or: 0x23, in: b, from: i)
                if i == n { break }
                let c = b[i]
                if c == 0x23 { return false }
                if c == 0x25 {
                    guard i + 2 < n, let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) else { return false }
                    if (b[i + 1] >= 0x61) || (b[i + 2] >= 0x61) || isUnreserved(hi << 4 | lo) { return false }
                    i += 3
                    continue
                }
                i += 1
            }
            return true
        } ?? false
    }

    /// Index of the ':' before a port, ignoring colons inside an IPv6 literal `[…]`.
    private static func portSeparator(_ hostPort: [UInt8]) -> Int? {
        guard let last = hostPort.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        if let close = hostPort.lastIndex(of: UInt8(ascii: "]")), close > last { return nil }
        if hostPort.first == UInt8(ascii: "["), hostPort.lastIndex(of: UInt8(ascii: "]")) == nil { return nil }
        return last
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
    }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    @inline(__always) private static func upperHex(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 + v : 0x41 + v - 10
    }

    @inline(__always) private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    /// The URL's path, percent-decoded when that gives valid UTF-8 — Encord's default title
    /// (`https://b.s3.amazonaws.com/path/to/video23.mp4` → `/path/to/video23.mp4`).
    public static func decodedPath(of url: String) -> String {
        url.utf8.withContiguousStorageIfAvailable { decodedPath($0) } ?? decodedPath(Array(url.utf8).withUnsafeBufferPointer { $0 })
    }

    private static func decodedPath(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var i = 0
        var hasPercent = false
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            i = colon + 1
            if bytes.count >= i + 2 && bytes[i] == UInt8(ascii: "/") && bytes[i + 1] == UInt8(ascii: "/") {
                i += 2
                while i < bytes.count, bytes[i] != UInt8(ascii: "/"), bytes[i] != UInt8(ascii: "?"), bytes[i] != UInt8(ascii: "#") { i += 1 }
            }
        }
        var j = i
        while j < bytes.count, bytes[j] != UInt8(ascii: "?"), bytes[j] != UInt8(ascii: "#") {
            if bytes[j] == UInt8(ascii: "%") { hasPercent = true }
            j += 1
        }
        let path = UnsafeBufferPointer(rebasing: bytes[i..<j])
        guard hasPercent else { return String(decoding: path, as: UTF8.self) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.count)
        var k = 0
        while k < path.count {
            if path[k] == UInt8(ascii: "%"), k + 2 < path.count, let hi = hexValue(path[k + 1]), let lo = hexValue(path[k + 2]) {
                decoded.append(hi << 4 | lo)
                k += 3
            } else {
                decoded.append(path[k])
                k += 1
            }
        }
        if UTF8Check.firstInvalidByte(in: decoded) == nil, !decoded.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return String(decoding: decoded, as: UTF8.self)
        }
        return String(decoding: path, as: UTF8.self)
    }

    /// The last path segment, decoded — the "original file name" CSV uses for blank titles.
    public static func fileName(of url: String) -> String {
        let path = decodedPath(of: url)
        if let slash = path.lastIndex(of: "/") {
            let name = path[path.index(after: slash)...]
            return name.isEmpty ? path : String(name)
        }
        return path
    }
}
