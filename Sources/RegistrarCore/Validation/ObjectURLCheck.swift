/// Checks one `objectUrl` as written in a manifest and applies the documented repairs.
///
/// Accepted schemes: `https`, `http`, `s3` and `gs` (every form the cloud integrations map).
/// Policy (see docs/manifests.md, "Tolerant reading"):
/// - leading/trailing whitespace: JSON → trimmed with a warning; CSV → error (Encord: "Object URLs
///   can't contain whitespace").
/// - whitespace inside the URL → error in both formats.
/// - `<https://…` (Encord's own examples) → the `<` (and a closing `>`) dropped, with a warning,
///   when what remains is an absolute URL; `<object url_1>`-style template placeholders → error.
public enum ObjectURLCheck {
    public static let supportedSchemes: Set<String> = ["https", "http", "s3", "gs"]

    public struct Outcome: Sendable, Equatable {
        /// The URL to register (repaired if a repair applied), nil when refused.
        public var url: String?
        public var issues: [ManifestIssue]
    }

    /// - Parameters:
    ///   - raw: the value as written.
    ///   - csv: whether it came from a CSV cell (stricter whitespace rule).
    ///   - location, field: where it came from, for the issues.
    public static func check(_ raw: String, csv: Bool, maxBytes: Int,
                             location: ItemLocation, field: String) -> Outcome {
        if isPlainValid(raw, maxBytes: maxBytes) { return Outcome(url: raw, issues: []) }
        let item = location.itemName, line = location.line
        func error(_ code: IssueCode, _ message: String) -> Outcome {
            Outcome(url: nil, issues: [ManifestIssue(.error, code, item: item, field: field, message: message, line: line)])
        }
        var issues: [ManifestIssue] = []
        var url = raw
        let utf8 = raw.utf8
        if utf8.isEmpty { return error(.emptyObjectURL, "the object URL is empty") }
        if utf8.count > maxBytes {
            return error(.urlTooLong, "the object URL is \(utf8.count) bytes long; the limit is \(maxBytes)")
        }

        // A whole value in angle brackets with no URL inside is a template placeholder left in.
        if utf8.first == UInt8(ascii: "<"), utf8.last == UInt8(ascii: ">"),
           !(scheme(of: Substring(raw).dropFirst()).map(supportedSchemes.contains) ?? false) {
            return error(.invalidURL, "'\(clip(raw))' looks like a template placeholder, not an object URL")
        }

        // Whitespace: only ASCII space/tab/CR/LF/FF/VT are looked for; the fast path is one scan.
        // Whitespace of any kind (ASCII, or Unicode such as NO-BREAK SPACE pasted from a
        // spreadsheet); the fast path sends every non-ASCII URL here.
        var hasWhitespace = false
        var hasControl = false
        for scalar in raw.unicodeScalars {
            if isWhitespace(scalar) { hasWhitespace = true } else if scalar.value < 0x20 || scalar.value == 0x7F { hasControl = true }
        }
        if hasControl { return error(.invalidURL, "the object URL contains a control character") }
        if hasWhitespace {
            let trimmed = trimWhitespace(raw)
            if trimmed.isEmpty { return error(.emptyObjectURL, "the object URL is blank") }
            if trimmed.unicodeScalars.contains(where: isWhitespace) {
                return error(.urlContainsWhitespace,
                             "the object URL contains whitespace; encode spaces as %20")
            }
            if csv {
                return error(.urlContainsWhitespace,
                             "the object URL has leading or trailing whitespace (CSV object URLs can't contain whitespace)")
            }
            url = trimmed
            issues.append(ManifestIssue(.warning, .urlTrimmed, item: item, field: field,
                                        message: "leading or trailing whitespace removed from the object URL", line: line))
        }

        if url.utf8.first == UInt8(ascii: "<") {
            var inner = Substring(url).dropFirst()
            if inner.utf8.last == UInt8(ascii: ">") { inner = inner.dropLast() }
            if let scheme = scheme(of: inner), supportedSchemes.contains(scheme) {
                url = String(inner)
                issues.append(ManifestIssue(.warning, .urlRepaired, item: item, field: field,
                                            message: "a stray '<' before the URL was removed (as in Encord's documented examples)", line: line))
            } else {
                return error(.invalidURL, "'\(clip(url))' looks like a template placeholder, not an object URL")
            }
        }

        guard let scheme = scheme(of: Substring(url)) else {
            return error(.invalidURL, "'\(clip(url))' is not an absolute URL (expected https://, http://, s3:// or gs://)")
        }
        guard supportedSchemes.contains(scheme) else {
            return error(.unsupportedScheme, "the URL scheme '\(scheme)' is not supported (use https, http, s3 or gs)")
        }
        // After "scheme:" there must be "//" and a non-empty host (bucket for s3/gs).
        let rest = url.utf8.dropFirst(scheme.utf8.count + 1)
        guard rest.starts(with: "//".utf8) else {
            return error(.invalidURL, "'\(clip(url))' has no host: expected \(scheme)://HOST/…")
        }
        let afterSlashes = rest.dropFirst(2)
        let hostEnd = afterSlashes.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? afterSlashes.endIndex
        // A password in a manifest would be stored, queued and shown with the URL: refused, and
        // the message shows the URL masked (`clip` masks userinfo).
        if afterSlashes[afterSlashes.startIndex..<hostEnd].contains(UInt8(ascii: "@")) {
            return error(.urlContainsCredentials,
                         "'\(clip(url))' holds a user name or password before the host; credentials are never taken from a manifest "
                         + "(they would be stored and shown with the URL): use presigned URLs, or an integration that holds the credentials "
                         + "(`registrar integrations add`)")
        }
        if afterSlashes[afterSlashes.startIndex..<hostEnd].isEmpty {
            return error(.invalidURL, "'\(clip(url))' has an empty host")
        }
        let keyStart = hostEnd == afterSlashes.endIndex ? hostEnd : afterSlashes.index(after: hostEnd)
        let keyEnd = afterSlashes[keyStart...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? afterSlashes.endIndex
        if (scheme == "s3" || scheme == "gs") && (hostEnd == afterSlashes.endIndex || afterSlashes[hostEnd] != UInt8(ascii: "/") || keyStart == keyEnd) {
            return error(.invalidURL, "'\(clip(url))' names a bucket but no object key")
        }
        return Outcome(url: url, issues: issues)
    }

    /// The fast path, one pass over the bytes: true when `raw` needs neither a repair nor an
    /// error — a lower-case supported scheme, `//`, a non-empty host (and for s3/gs a key),
    /// no whitespace or control characters. Everything else takes the careful path.
    static func isPlainValid(_ raw: String, maxBytes: Int) -> Bool {
        raw.utf8.withContiguousStorageIfAvailable { b -> Bool in
            let n = b.count
            guard n > 0, n <= maxBytes else { return false }
            var i = 0
            while i < n && i < 6 && ((b[i] >= 0x61 && b[i] <= 0x7A) || (i > 0 && b[i] == 0x33)) { i += 1 }
            // scheme is b[0..<i]; must be https, http, s3 or gs
            let schemeLen = i
            guard i + 2 < n, b[i] == 0x3A, b[i + 1] == 0x2F, b[i + 2] == 0x2F else { return false }
            let isObjectStore: Bool
            switch schemeLen {
            case 5: guard b[0] == 0x68, b[1] == 0x74, b[2] == 0x74, b[3] == 0x70, b[4] == 0x73 else { return false }; isObjectStore = false
            case 4: guard b[0] == 0x68, b[1] == 0x74, b[2] == 0x74, b[3] == 0x70 else { return false }; isObjectStore = false
            case 2: guard (b[0] == 0x73 && b[1] == 0x33) || (b[0] == 0x67 && b[1] == 0x73) else { return false }; isObjectStore = true
            default: return false
            }
            i += 3
            let hostStart = i
            while i < n, b[i] != 0x2F, b[i] != 0x3F, b[i] != 0x23 {
                // Whitespace, non-ASCII, and userinfo (`@`) take the careful path.
                if b[i] <= 0x20 || b[i] >= 0x7F || b[i] == 0x40 { return false }
                i += 1
            }
            guard i > hostStart else { return false }
            // s3:// and gs:// need a key: "/" then at least one byte before any query or fragment.
            if isObjectStore {
                guard i + 1 < n, b[i] == 0x2F, b[i + 1] != 0x3F, b[i + 1] != 0x23 else { return false }
            }
            // Non-ASCII goes to the careful path, which checks for Unicode whitespace.
            return ByteScan.isPrintableASCII(b, from: i)
        } ?? false
    }

    /// The lower-cased scheme if `s` starts with `ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":"`.
    static func scheme(of s: Substring) -> String? {
        var out = ""
        for (i, b) in s.utf8.enumerated() {
            if b == UInt8(ascii: ":") { return i == 0 ? nil : out }
            let isAlpha = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            let isOther = (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2D || b == 0x2E
            if i == 0 ? !isAlpha : !(isAlpha || isOther) { return nil }
            if i > 32 { return nil }
            out.unicodeScalars.append(UnicodeScalar(b | (isAlpha ? 0x20 : 0)))
        }
        return nil
    }

    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == " " || (c.value >= 0x09 && c.value <= 0x0D) || c.properties.isWhitespace
    }

    static func trimWhitespace(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isWhitespace($0) })!
        return String(scalars[first...last])
    }

    /// A value shortened for messages, so a 16 KB URL does not flood a report; a user name or
    /// password in it is masked (`http://***@host/…`).
    static func clip(_ s: String, _ limit: Int = 120) -> String {
        let s = URLCredentials.masked(s)
        return s.count <= limit ? s : String(s.prefix(limit)) + "…"
    }
}
