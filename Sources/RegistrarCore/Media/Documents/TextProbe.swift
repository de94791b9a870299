/// Text: the encoding (UTF-8, ASCII, or UTF-16 with a byte-order mark) and a subtype read from
/// the content (JSON, XML, HTML, CSV, else plain).
enum TextProbe {
    /// At most this many head bytes are examined.
    static let window = 1 << 16

    struct Classification: Equatable {
        var mimeType: String
        var encoding: String
    }

    static func parse(_ data: ProbeData) -> FormatParse {
        let head = DocRanges(data).run(from: 0, limit: window)
        let complete = data.totalSize.map { Int64(head.count) >= $0 } ?? false
        guard let c = classify(head[...], complete: complete) else {
            return DocRefusal.unsupported("the object is not text (binary bytes or invalid encoding)")
        }
        var info = MediaInfo()
        info.format = .text
        info.mimeType = c.mimeType
        info.textEncoding = c.encoding
        return .described(info)
    }

    /// The text type of a head, or nil when it does not look like text. `complete` says the head
    /// is the whole object (then a truncated JSON document is not JSON).
    static func classify(_ head: ArraySlice<UInt8>, complete: Bool = false) -> Classification? {
        let bytes = head.prefix(window)
        guard !bytes.isEmpty, let (scalars, encoding) = decode(bytes, truncated: !complete || bytes.count < head.count)
        else { return nil }
        guard !scalars.isEmpty else { return nil }
        var controls = 0
        for s in scalars where isControl(s) { controls += 1 }
        guard controls * 50 <= scalars.count else { return nil }
        return Classification(mimeType: subtype(scalars, complete: complete && bytes.count == head.count),
                              encoding: encoding)
    }

    static func isControl(_ s: UInt32) -> Bool {
        switch s {
        case 0x09, 0x0A, 0x0C, 0x0D: return false
        case 0..<0x20, 0x7F, 0x80..<0xA0: return true
        default: return false
        }
    }

    static func isSpace(_ s: UInt32) -> Bool { s == 0x20 || s == 0x09 || s == 0x0A || s == 0x0D || s == 0xFEFF }

    // MARK: Decoding

    /// Unicode scalars of the bytes and the encoding's name, or nil when the bytes are not valid
    /// text. A sequence cut by the end of a `truncated` head is dropped, not refused.
    static func decode(_ bytes: ArraySlice<UInt8>, truncated: Bool) -> ([UInt32], String)? {
        let r = DocByteReader(bytes)
        if r.u8(at: 0) == 0xFF, r.u8(at: 1) == 0xFE { return decodeUTF16(r, bigEndian: false, truncated: truncated).map { ($0, "utf-16le") } }
        if r.u8(at: 0) == 0xFE, r.u8(at: 1) == 0xFF { return decodeUTF16(r, bigEndian: true, truncated: truncated).map { ($0, "utf-16be") } }
        var p = 0
        var bom = false
        if r.matches([0xEF, 0xBB, 0xBF], at: 0) {
            p = 3
            bom = true
        }
        var out: [UInt32] = []
        out.reserveCapacity(r.count)
        var ascii = !bom
        while p < r.count {
            guard let b0 = r.u8(at: p) else { break }
            if b0 == 0 { return nil }
            if b0 < 0x80 {
                out.append(UInt32(b0))
                p += 1
                continue
            }
            ascii = false
            let need: Int, lo: UInt8, hi: UInt8
            var value: UInt32
            switch b0 {
            case 0xC2...0xDF: need = 1; lo = 0x80; hi = 0xBF; value = UInt32(b0 & 0x1F)
            case 0xE0: need = 2; lo = 0xA0; hi = 0xBF; value = UInt32(b0 & 0x0F)
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2; lo = 0x80; hi = 0xBF; value = UInt32(b0 & 0x0F)
            case 0xED: need = 2; lo = 0x80; hi = 0x9F; value = UInt32(b0 & 0x0F)
            case 0xF0: need = 3; lo = 0x90; hi = 0xBF; value = UInt32(b0 & 0x07)
            case 0xF1...0xF3: need = 3; lo = 0x80; hi = 0xBF; value = UInt32(b0 & 0x07)
            case 0xF4: need = 3; lo = 0x80; hi = 0x8F; value = UInt32(b0 & 0x07)
            default: return nil
            }
            for k in 1...need {
                guard let b = r.u8(at: p + k) else {
                    // Cut by the end of the head.
                    return truncated ? (out, "utf-8") : nil
                }
                if k == 1 { guard b >= lo, b <= hi else { return nil } }
                else { guard b & 0xC0 == 0x80 else { return nil } }
                value = value << 6 | UInt32(b & 0x3F)
            }
            out.append(value)
            p += need + 1
        }
        return (out, ascii ? "ascii" : "utf-8")
    }

    static func decodeUTF16(_ r: DocByteReader, bigEndian: Bool, truncated: Bool) -> [UInt32]? {
        var out: [UInt32] = []
        out.reserveCapacity(r.count / 2)
        var p = 2
        while p < r.count {
            guard let u = r.u16(at: p, bigEndian: bigEndian) else { return truncated ? out : nil }
            p += 2
            switch u {
            case 0: return nil
            case 0xD800...0xDBFF:
                guard let l = r.u16(at: p, bigEndian: bigEndian) else { return truncated ? out : nil }
                guard l >= 0xDC00, l <= 0xDFFF else { return nil }
                p += 2
                out.append(0x10000 + (UInt32(u - 0xD800) << 10 | UInt32(l - 0xDC00)))
            case 0xDC00...0xDFFF: return nil
            default: out.append(UInt32(u))
            }
        }
        return out
    }

    // MARK: Subtypes

    static func subtype(_ s: [UInt32], complete: Bool) -> String {
        var i = 0
        while i < s.count, isSpace(s[i]) { i += 1 }
        guard i < s.count else { return "text/plain" }
        let c = s[i]
        if c == ch("{") || c == ch("[") {
            if jsonPrefixIsValid(s, from: i, complete: complete) { return "application/json" }
        }
        if c == ch("<"), let markup = markupType(s, from: i) { return markup }
        if looksLikeCSV(s, complete: complete) { return "text/csv" }
        return "text/plain"
    }

    static func ch(_ c: Unicode.Scalar) -> UInt32 { c.value }

    /// Whether `s[i...]` starts with `literal`, ASCII case-insensitively.
    static func hasPrefix(_ s: [UInt32], _ i: Int, _ literal: String) -> Bool {
        var k = i
        for u in literal.unicodeScalars {
            guard k < s.count else { return false }
            var v = s[k]
            if v >= 0x41, v <= 0x5A { v += 0x20 }
            guard v == u.value else { return false }
            k += 1
        }
        return true
    }

    static func markupType(_ s: [UInt32], from start: Int) -> String? {
        var i = start
        // Leading comments and whitespace (each step consumes input).
        while hasPrefix(s, i, "<!--") {
            var k = i + 4
            while k < s.count, !hasPrefix(s, k, "-->") { k += 1 }
            guard k < s.count else { return nil }
            i = k + 3
            while i < s.count, isSpace(s[i]) { i += 1 }
        }
        func boundary(_ k: Int) -> Bool {
            k >= s.count || isSpace(s[k]) || s[k] == ch(">") || s[k] == ch("/")
        }
        if hasPrefix(s, i, "<?xml"), boundary(i + 5) || s[i + 5] == ch("?") { return "application/xml" }
        if hasPrefix(s, i, "<!doctype html"), boundary(i + 14) { return "text/html" }
        for tag in ["<html", "<head", "<body"] where hasPrefix(s, i, tag) && boundary(i + tag.count) {
            return "text/html"
        }
        if hasPrefix(s, i, "<!doctype") { return "application/xml" }
        if i + 1 < s.count {
            let n = s[i + 1]
            let isNameStart = (n >= 0x41 && n <= 0x5A) || (n >= 0x61 && n <= 0x7A) || n == ch("_") || n == ch(":") || n >= 0xC0
            if s[i] == ch("<"), isNameStart { return "application/xml" }
        }
        return nil
    }

    // MARK: JSON

    /// Whether `s[start...]` is a valid JSON text, or a valid prefix of one when not `complete`.
    static func jsonPrefixIsValid(_ s: [UInt32], from start: Int, complete: Bool) -> Bool {
        enum State { case value, objectKeyOrEnd, objectKey, colon, afterValue, arrayValueOrEnd }
        var stack: [Bool] = []  // true: object
        var state = State.value
        var i = start
        let maxDepth = 512
        func skipSpace() { while i < s.count, isSpace(s[i]), s[i] != 0xFEFF { i += 1 } }
        func atEnd() -> Bool { i >= s.count }
        func endResult() -> Bool { !complete || (stack.isEmpty && state == .afterValue) }

        /// Parses a string starting at its opening quote; nil means the input ended inside it.
        func string() -> Bool? {
            i += 1
            while i < s.count {
                let c = s[i]
                if c == ch("\"") { i += 1; return true }
                if c < 0x20 { return false }
                if c == ch("\\") {
                    i += 1
                    guard i < s.count else { return nil }
                    let e = s[i]
                    if e == ch("u") {
                        for _ in 0..<4 {
                            i += 1
                            guard i < s.count else { return nil }
                            let h = s[i]
                            guard (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)
                            else { return false }
                        }
                        i += 1
                    } else if "\"\\/bfnrt".unicodeScalars.contains(where: { $0.value == e }) {
                        i += 1
                    } else {
                        return false
                    }
                    continue
                }
                i += 1
            }
            return nil
        }

        func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }

        /// Parses a number; nil means the input ended inside it.
        func number() -> Bool? {
            if s[i] == ch("-") { i += 1 }
            guard i < s.count else { return nil }
            if s[i] == ch("0") {
                i += 1
            } else if isDigit(s[i]) {
                while i < s.count, isDigit(s[i]) { i += 1 }
            } else {
                return false
            }
            guard i < s.count else { return nil }
            if s[i] == ch(".") {
                i += 1
                guard i < s.count else { return nil }
                guard isDigit(s[i]) else { return false }
                while i < s.count, isDigit(s[i]) { i += 1 }
                guard i < s.count else { return nil }
            }
            if s[i] == ch("e") || s[i] == ch("E") {
                i += 1
                guard i < s.count else { return nil }
                if s[i] == ch("+") || s[i] == ch("-") { i += 1 }
                guard i < s.count else { return nil }
                guard isDigit(s[i]) else { return false }
                while i < s.count, isDigit(s[i]) { i += 1 }
            }
            return true
        }

        while true {
            switch state {
            case .value:
                skipSpace()
                if atEnd() { return endResult() }
                let c = s[i]
                if c == ch("{") || c == ch("[") {
                    guard stack.count < maxDepth else { return !complete }
                    stack.append(c == ch("{"))
                    state = c == ch("{") ? .objectKeyOrEnd : .arrayValueOrEnd
                    i += 1
                } else if c == ch("\"") {
                    guard let ok = string() else { return endResult() }
                    guard ok else { return false }
                    state = .afterValue
                } else if c == ch("-") || isDigit(c) {
                    guard let ok = number() else {
                        // A number cut by the end: complete only if it is the whole document.
                        return !complete || (stack.isEmpty)
                    }
                    guard ok else { return false }
                    state = .afterValue
                } else {
                    var matched = false
                    for word in ["true", "false", "null"] where word.unicodeScalars.first?.value == c {
                        for u in word.unicodeScalars {
                            if atEnd() { return endResult() }
                            guard s[i] == u.value else { return false }
                            i += 1
                        }
                        matched = true
                    }
                    guard matched else { return false }
                    state = .afterValue
                }
            case .afterValue:
                skipSpace()
                if atEnd() { return endResult() }
                guard let top = stack.last else { return false }  // text after the document
                let c = s[i]
                if c == ch(",") {
                    state = top ? .objectKey : .value
                } else if c == ch(top ? "}" : "]") {
                    stack.removeLast()
                    state = .afterValue
                } else {
                    return false
                }
                i += 1
            case .objectKeyOrEnd, .objectKey:
                skipSpace()
                if atEnd() { return endResult() }
                if state == .objectKeyOrEnd, s[i] == ch("}") {
                    stack.removeLast()
                    state = .afterValue
                    i += 1
                    continue
                }
                guard s[i] == ch("\"") else { return false }
                guard let ok = string() else { return endResult() }
                guard ok else { return false }
                state = .colon
            case .colon:
                skipSpace()
                if atEnd() { return endResult() }
                guard s[i] == ch(":") else { return false }
                i += 1
                state = .value
            case .arrayValueOrEnd:
                skipSpace()
                if atEnd() { return endResult() }
                if s[i] == ch("]") {
                    stack.removeLast()
                    state = .afterValue
                    i += 1
                } else {
                    state = .value
                }
            }
        }
    }

    // MARK: CSV

    /// Whether the first records have the same, non-zero number of commas, semicolons or tabs
    /// (outside double quotes) — at least two records.
    static func looksLikeCSV(_ s: [UInt32], complete: Bool) -> Bool {
        let delimiters: [UInt32] = [ch(","), ch(";"), ch("\t")]
        var records: [[Int]] = []
        var counts = [0, 0, 0]
        var inQuotes = false
        var i = 0
        var recordHasContent = false
        let maxRecords = 20
        while i < s.count, records.count < maxRecords {
            let c = s[i]
            if c == ch("\"") {
                inQuotes.toggle()
                recordHasContent = true
            } else if !inQuotes, c == ch("\n") || c == ch("\r") {
                if c == ch("\r"), i + 1 < s.count, s[i + 1] == ch("\n") { i += 1 }
                if recordHasContent { records.append(counts) }
                counts = [0, 0, 0]
                recordHasContent = false
            } else if !inQuotes, let k = delimiters.firstIndex(of: c) {
                counts[k] += 1
                recordHasContent = true
            } else if !isSpace(c) {
                recordHasContent = true
            }
            i += 1
        }
        // A last record without a newline counts only when the head is the whole object.
        if i >= s.count, complete, !inQuotes, recordHasContent, records.count < maxRecords { records.append(counts) }
        guard records.count >= 2 else { return false }
        for k in 0..<delimiters.count {
            let first = records[0][k]
            if first >= 1, records.allSatisfy({ $0[k] == first }) { return true }
        }
        return false
    }
}
