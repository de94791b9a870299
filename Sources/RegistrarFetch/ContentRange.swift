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

private extension Substring {
    func trimmingTrailingSpaces() -> Substring {
        var s = self
        while let l = s.last, l == " " || l == "\r" || l == "\n" || l == "\t" { s = s.dropLast() }
        return s
    }
}
