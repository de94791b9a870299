/// Percent-decoding (RFC 3986 §2.1) for the parts of server URLs (user, password, vhost, path)
/// that the adapters hand to their C clients decoded.
public enum PercentDecoding {
    /// The decoded text, or nil when a `%` is not followed by two hex digits. Callers say which
    /// part was malformed but never echo it: it may be a password.
    public static func decode(_ s: Substring) -> String? {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard let h = it.popFirst(), let l = it.popFirst(), let hv = URLKey.hexValue(h), let lv = URLKey.hexValue(l) else {
                    return nil
                }
                out.append(hv << 4 | lv)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
