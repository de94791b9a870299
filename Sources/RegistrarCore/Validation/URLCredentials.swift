/// Credentials written into a URL's authority (`scheme://user:password@host/…`, RFC 3986
/// userinfo): found, and masked for display.
///
/// A manifest URL holding them is refused (`url_contains_credentials`), so that a password
/// never reaches PostgreSQL, the queues or a report; anything that shows a URL — stored before
/// that rule, or refused by it — shows it masked (`http://***@host/…`). The authority runs from
/// `//` to the first `/`, `?` or `#`; every `@` inside it counts (the last one ends the
/// userinfo), so odd spellings such as `http://a\@b/` are refused and masked too.
public enum URLCredentials {
    /// Where the userinfo is, `@` excluded; nil when the URL has none.
    static func userinfoRange(_ url: Substring) -> Range<Substring.Index>? {
        let start: Substring.Index
        // Whatever precedes `://` (a scheme, or a stray `<` as in a refused manifest value), as
        // long as it is not itself inside a path, query or fragment.
        if let sep = url.firstRange(of: "://"), !url[..<sep.lowerBound].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            start = sep.upperBound
        } else if url.hasPrefix("//") {
            start = url.index(url.startIndex, offsetBy: 2)
        } else {
            return nil
        }
        let rest = url[start...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<end].lastIndex(of: "@") else { return nil }
        return start..<at
    }

    /// Whether the URL carries a user name or password (even an empty one: `http://@host/`).
    public static func present(in url: String) -> Bool {
        userinfoRange(Substring(url)) != nil
    }

    /// The URL with its userinfo replaced by `***` (`http://***@host/x`); unchanged without one.
    public static func masked(_ url: String) -> String {
        let s = Substring(url)
        guard let r = userinfoRange(s) else { return url }
        return String(s[..<r.lowerBound]) + "***" + s[r.upperBound...]
    }

    /// The same rule as SQL, for values rendered by PostgreSQL: `column` with its userinfo masked.
    public static let sqlPattern = "^([^/?#]*://|//)[^/?#]*@"
}
