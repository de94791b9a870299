// Encodings the signers share: hex, base64, SigV4's URI encoding, and thin wrappers over
// swift-crypto's SHA-256 and HMAC (no primitive is implemented here).

import Crypto

/// Percent-encoding as the V4 signers (AWS SigV4/SigV4A, GCS V4) define it: every byte except
/// the unreserved set `A–Z a–z 0–9 - . _ ~` becomes `%XX` with upper-case hex.
public enum SigningPercentEncoding {
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes every byte of `s` but the unreserved set (and `/` when `keepSlash`).
    public static func encode(_ s: some StringProtocol, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%")); out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An object key as a URL path: each `/`-separated segment encoded, `/` kept. Prefix it
    /// with `/bucket/` (path style) or `/` (virtual-hosted) to build a ``SigningRequest`` URL.
    public static func encodePath(_ key: String) -> String {
        encode(key, keepSlash: true)
    }

    /// Canonical form of an already-encoded URL component, never encoding twice: a valid `%XX`
    /// escape of an unreserved byte becomes that byte, any other escape keeps its byte with the
    /// hex upper-cased, and any other byte outside the unreserved set (a raw space, UTF-8, `+`)
    /// is encoded. A raw `/` is kept when `keepSlash` (paths); an escaped `%2F` stays escaped.
    /// This is what S3 and GCS compute from the wire form of a path or query component.
    static func canonicalize(_ s: some StringProtocol, keepSlash: Bool) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func push(_ b: UInt8) {
            out.append(UInt8(ascii: "%")); out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)])
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.count,
               let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                let v = h << 4 | l
                if isUnreserved(v) { out.append(v) } else { push(v) }
                i += 3
                continue
            }
            if isUnreserved(b) || (keepSlash && b == UInt8(ascii: "/")) { out.append(b) } else { push(b) }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-decodes valid `%XX` escapes; anything else (including `+`) is kept as is.
    static func decode(_ s: some StringProtocol) -> String {
        let bytes = Array(s.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

/// Lower-case hex.
enum SigningHex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ s: String) -> [UInt8]? {
        let b = Array(s.utf8)
        guard b.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(b.count / 2)
        var i = 0
        while i < b.count {
            guard let h = SigningPercentEncoding.hexValue(b[i]), let l = SigningPercentEncoding.hexValue(b[i + 1]) else { return nil }
            out.append(h << 4 | l); i += 2
        }
        return out
    }
}

/// Standard base64 (RFC 4648 §4, padded), for Azure keys and signatures.
public enum SigningBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes with `=` padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes standard base64 (padding optional, surrounding whitespace ignored); nil when
    /// malformed. The input is never echoed anywhere: it is usually a key.
    public static func decode(_ s: String) -> [UInt8]? {
        var vals: [UInt8] = []
        var padding = 0
        for c in s.utf8 {
            if SigningHeaders.isSpace(c) { continue }
            if c == UInt8(ascii: "=") { padding += 1; continue }
            guard padding == 0 else { return nil }
            let v: UInt8
            switch c {
            case 0x41...0x5A: v = c - 0x41
            case 0x61...0x7A: v = c - 0x61 + 26
            case 0x30...0x39: v = c - 0x30 + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            vals.append(v)
        }
        guard padding <= 2, vals.count % 4 != 1 else { return nil }
        if padding > 0 && (vals.count + padding) % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(vals.count * 3 / 4)
        var i = 0
        while i + 4 <= vals.count {
            let n = UInt32(vals[i]) << 18 | UInt32(vals[i + 1]) << 12 | UInt32(vals[i + 2]) << 6 | UInt32(vals[i + 3])
            out += [UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]
            i += 4
        }
        let rest = vals.count - i
        if rest == 2 {
            let n = UInt32(vals[i]) << 18 | UInt32(vals[i + 1]) << 12
            out.append(UInt8(n >> 16 & 255))
        } else if rest == 3 {
            let n = UInt32(vals[i]) << 18 | UInt32(vals[i + 1]) << 12 | UInt32(vals[i + 2]) << 6
            out += [UInt8(n >> 16 & 255), UInt8(n >> 8 & 255)]
        }
        return out
    }
}

/// SHA-256 and HMAC-SHA256 from swift-crypto, over byte arrays.
enum SigningCrypto {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    static func sha256Hex(_ s: String) -> String {
        SigningHex.encode(SHA256.hash(data: Array(s.utf8)))
    }

    static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func hmac(key: [UInt8], _ message: String) -> [UInt8] {
        hmac(key: key, Array(message.utf8))
    }
}
