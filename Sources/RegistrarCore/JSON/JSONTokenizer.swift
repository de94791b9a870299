/// A streaming, pull-based JSON tokenizer over a `ByteSource`.
///
/// Why our own: Foundation's JSONDecoder and JSONSerialization need the whole document in
/// memory, and a 1M-URL manifest is ~150 MB. This tokenizer holds one input block plus the
/// current string, so memory is bounded by `blockSize + maxStringBytes` whatever the input.
///
/// It checks the full JSON grammar (RFC 8259) — the caller sees only well-formed token
/// sequences — with one documented leniency: a trailing comma before `]` or `}` is accepted and
/// reported through `trailingCommas`, because Encord's own documented examples contain them.
/// Every string is checked for valid UTF-8, whether or not the caller materialises it.
public final class JSONTokenizer {
    public enum Token: Equatable, Sendable {
        case beginObject, endObject, beginArray, endArray
        /// An object key; its bytes are in `stringBytes`.
        case key
        /// A string value; its bytes are in `stringBytes`.
        case string
        /// A number; its text is in `stringBytes`.
        case number
        case bool(Bool)
        case null
        /// End of the document (only after one complete top-level value).
        case end
    }

    public struct Limits: Sendable {
        public var maxDepth = 64
        public var maxStringBytes = 1 << 20
        public var maxTotalBytes: Int64 = .max
        public init() {}
    }

    private enum State { case topValue, value, firstValueOrClose, valueAfterComma, firstKeyOrClose,
                         keyAfterComma, colon, commaOrClose, done }

    private var source: any ByteSource
    private let limits: Limits
    private let block: UnsafeMutableRawBufferPointer
    private var pos = 0
    private var end = 0
    /// Absolute offset of `block[0]`.
    private var base: Int64 = 0
    private var atEOF = false
    private var bomChecked = false
    /// Whether a `\u` escape in the current string produced a non-ASCII character.
    private var escapedNonASCII = false

    /// Decoded bytes of the last key, string or number token (escapes resolved).
    public private(set) var stringBytes: [UInt8] = []
    /// Whether `stringBytes` holds any non-ASCII byte (already validated as UTF-8).
    public private(set) var stringIsASCII = true
    /// Absolute byte offset where the last token started.
    public private(set) var tokenOffset: Int64 = 0
    /// 1-based line where the last token started.
    public private(set) var tokenLine = 1
    /// 1-based line of the read position (advanced as whitespace is skipped).
    private var line = 1
    private var lineStart: Int64 = 0

    /// Container stack: true = object, false = array.
    private var stack: [Bool] = []
    private var state = State.topValue
    /// Where the last comma was, so a trailing one is reported at the comma itself.
    private var lastCommaLine = 0
    private var lastCommaOffset: Int64 = 0
    /// Trailing commas accepted so far, as (line, offset); the caller drains this.
    public var trailingCommas: [(line: Int, offset: Int64)] = []

    /// Current nesting depth (0 at top level).
    public var depth: Int { stack.count }
    /// Most bytes this tokenizer held at once (block + string scratch); for bounded-memory tests.
    public private(set) var peakBufferedBytes = 0
    /// Bytes consumed so far.
    public var bytesConsumed: Int64 { base + Int64(pos) }

    public init(source: some ByteSource, limits: Limits = Limits(), blockSize: Int = 1 << 20) {
        self.source = source
        self.limits = limits
        self.block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(16, blockSize), alignment: 16)
        stringBytes.reserveCapacity(256)
        peakBufferedBytes = block.count + stringBytes.capacity
    }

    deinit { block.deallocate() }

    // MARK: - Errors

    /// An error at the current read position.
    func syntaxError(_ message: String, at offset: Int64? = nil, line errorLine: Int? = nil) -> ManifestError {
        syntaxError(.invalidJSON, message, at: offset, line: errorLine)
    }

    func syntaxError(_ code: IssueCode, _ message: String, at offset: Int64? = nil,
                     line errorLine: Int? = nil) -> ManifestError {
        let off = offset ?? (base + Int64(pos))
        let ln = errorLine ?? line
        let column = errorLine == nil ? Int(off - lineStart) + 1 : nil
        var text = message
        if let column { text += " (line \(ln), column \(column), byte \(off))" } else { text += " (line \(ln), byte \(off))" }
        return ManifestError(code, message_: text, line: ln, offset: Int(off))
    }

    private func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(UnicodeScalar(b)))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    // MARK: - Input

    /// Refills the block; returns false at end of input.
    private func refill() throws -> Bool {
        if atEOF { return false }
        base += Int64(end)
        pos = 0
        end = 0
        let n: Int
        do { n = try source.read(into: block) } catch {
            throw ManifestError(.readFailed, message_: "could not read the manifest: \(error)")
        }
        if n == 0 { atEOF = true; return false }
        end = n
        if base + Int64(end) > limits.maxTotalBytes {
            throw ManifestError(.fileTooLarge,
                                message_: "the manifest is larger than the limit of \(limits.maxTotalBytes) bytes")
        }
        peakBufferedBytes = max(peakBufferedBytes, block.count + stringBytes.capacity)
        return true
    }

    /// Next byte without consuming it, or nil at end of input.
    @inline(__always) private func peekByte() throws -> UInt8? {
        if pos == end, try !refill() { return nil }
        return block[pos]
    }

    /// Skips a UTF-8 byte order mark at the very start (editors on Windows write one).
    private func skipBOM() throws {
        bomChecked = true
        while end - pos < 3, try refillKeeping() {}
        if end - pos >= 3, block[pos] == 0xEF, block[pos + 1] == 0xBB, block[pos + 2] == 0xBF {
            pos += 3
            lineStart = 3
        }
    }

    /// Appends more input after the unread bytes (used only at the start, for the BOM check,
    /// where a source may hand out fewer than 3 bytes per read).
    private func refillKeeping() throws -> Bool {
        if atEOF || end == block.count { return false }
        let n: Int
        do { n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: block[end...])) } catch {
            throw ManifestError(.readFailed, message_: "could not read the manifest: \(error)")
        }
        if n == 0 { atEOF = true; return false }
        end += n
        if base + Int64(end) > limits.maxTotalBytes {
            throw ManifestError(.fileTooLarge,
                                message_: "the manifest is larger than the limit of \(limits.maxTotalBytes) bytes")
        }
        return true
    }

    /// Skips whitespace, counting lines (raw newlines occur nowhere else in valid JSON).
    private func skipWhitespace() throws {
        while true {
            while pos < end {
                let b = block[pos]
                if b == 0x20 || b == 0x09 || b == 0x0D {
                    pos += 1
                } else if b == 0x0A {
                    pos += 1
                    line += 1
                    lineStart = base + Int64(pos)
                } else {
                    return
                }
            }
            if try !refill() { return }
        }
    }

    // MARK: - Tokens

    /// Reads the next token. The grammar is enforced here, so the caller can rely on balanced
    /// containers and keys that are always followed by exactly one value.
    public func next() throws -> Token {
        if !bomChecked { try skipBOM() }
        while true {
            try skipWhitespace()
            tokenOffset = base + Int64(pos)
            tokenLine = line
            guard let b = try peekByte() else {
                if state == .done { return .end }
                if state == .topValue {
                    throw ManifestError(.emptyManifest, message_: "the manifest is empty (nothing but whitespace)")
                }
                throw syntaxError(.truncated, "unexpected end of input: the manifest is truncated"
                                  + (stack.isEmpty ? "" : " (\(stack.count) unclosed container\(stack.count == 1 ? "" : "s"))"))
            }
            switch state {
            case .done:
                throw syntaxError(.trailingData, "unexpected \(describe(b)) after the end of the JSON document")
            case .colon:
                guard b == 0x3A else { throw syntaxError("expected ':' after an object key, found \(describe(b))") }
                pos += 1
                state = .value
                continue
            case .commaOrClose:
                pos += 1
                if b == 0x2C {
                    lastCommaLine = tokenLine
                    lastCommaOffset = tokenOffset
                    state = stack.last! ? .keyAfterComma : .valueAfterComma
                    continue
                }
                if b == 0x7D && stack.last! { return close() }
                if b == 0x5D && !stack.last! { return close() }
                pos -= 1
                throw syntaxError("expected ',' or '\(stack.last! ? "}" : "]")', found \(describe(b))")
            case .firstKeyOrClose, .keyAfterComma:
                if b == 0x22 {
                    pos += 1
                    try scanString()
                    state = .colon
                    return .key
                }
                if b == 0x7D {
                    if state == .keyAfterComma { trailingCommas.append((lastCommaLine, lastCommaOffset)) }
                    pos += 1
                    return close()
                }
                throw syntaxError("expected an object key (a double-quoted string), found \(describe(b))")
            case .topValue, .value, .firstValueOrClose, .valueAfterComma:
                if b == 0x5D && (state == .firstValueOrClose || state == .valueAfterComma) {
                    if state == .valueAfterComma { trailingCommas.append((lastCommaLine, lastCommaOffset)) }
                    pos += 1
                    return close()
                }
                return try scanValue(b)
            }
        }
    }

    private func close() -> Token {
        let wasObject = stack.removeLast()
        state = stack.isEmpty ? .done : .commaOrClose
        return wasObject ? .endObject : .endArray
    }

    private func afterValue() {
        state = stack.isEmpty ? .done : .commaOrClose
    }

    private func scanValue(_ b: UInt8) throws -> Token {
        switch b {
        case 0x7B, 0x5B: // { [
            guard stack.count < limits.maxDepth else {
                throw syntaxError(.nestingTooDeep, "nesting deeper than \(limits.maxDepth) levels")
            }
            pos += 1
            let isObject = b == 0x7B
            stack.append(isObject)
            state = isObject ? .firstKeyOrClose : .firstValueOrClose
            return isObject ? .beginObject : .beginArray
        case 0x22:
            pos += 1
            try scanString()
            afterValue()
            return .string
        case 0x2D, 0x30...0x39:
            try scanNumber()
            afterValue()
            return .number
        case 0x74:
            try expectLiteral("true")
            afterValue()
            return .bool(true)
        case 0x66:
            try expectLiteral("false")
            afterValue()
            return .bool(false)
        case 0x6E:
            try expectLiteral("null")
            afterValue()
            return .null
        case 0x27:
            throw syntaxError("single-quoted strings are not JSON; use double quotes")
        default:
            if (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x3C {
                throw syntaxError("unquoted text starting with \(describe(b)) is not a JSON value (quote strings, e.g. \"...\")")
            }
            throw syntaxError("expected a JSON value, found \(describe(b))")
        }
    }

    private func expectLiteral(_ word: StaticString) throws {
        let start = base + Int64(pos)
        let text = word.withUTF8Buffer { Array($0) }
        var matched = 0
        for expected in text {
            guard let b = try peekByte(), b == expected else { break }
            pos += 1
            matched += 1
        }
        if matched < text.count {
            throw try unquotedTextError(prefix: Array(text.prefix(matched)), at: start)
        }
        // A literal must not run on into letters ("truely", "null0").
        if let b = try peekByte(), (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) {
            throw try unquotedTextError(prefix: text, at: start)
        }
    }

    /// "unquoted text 'frames-per-second' …": reads on over word characters (a few dozen at most)
    /// so the message shows what the user wrote.
    private func unquotedTextError(prefix: [UInt8], at start: Int64) throws -> ManifestError {
        var word = prefix
        while word.count < 40, let b = try peekByte(),
              (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F {
            word.append(b)
            pos += 1
        }
        let text = String(decoding: word, as: UTF8.self)
        return syntaxError("unquoted text '\(text)' is not a JSON value (quote strings, e.g. \"\(text)\")", at: start)
    }

    /// Scans a string body (after the opening quote) into `stringBytes`.
    private func scanString() throws {
        stringBytes.removeAll(keepingCapacity: true)
        escapedNonASCII = false
        var orBits: UInt8 = 0
        let maxBytes = limits.maxStringBytes
        while true {
            // Fast path: find the end of a run of plain bytes 16 at a time (SIMD), then copy
            // the run in one go.
            var i = pos
            let base = block.baseAddress!
            let quote = SIMD16<UInt8>(repeating: 0x22), backslash = SIMD16<UInt8>(repeating: 0x5C)
            let space = SIMD16<UInt8>(repeating: 0x20)
            var or16 = SIMD16<UInt8>()
            while i + 16 <= end {
                let v = base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let stop = (v .== quote) .| (v .== backslash) .| (v .< space)
                if any(stop) { break }
                or16 |= v
                i += 16
            }
            orBits |= or16.max()
            while i < end {
                let c = block[i]
                if c == 0x22 || c == 0x5C || c < 0x20 { break }
                orBits |= c
                i += 1
            }
            if i > pos {
                if stringBytes.count + (i - pos) > maxBytes {
                    throw syntaxError(.stringTooLong, "a string is longer than the limit of \(maxBytes) bytes",
                                      at: tokenOffset, line: tokenLine)
                }
                reserveString(stringBytes.count + (i - pos))
                stringBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[pos..<i]))
                pos = i
            }
            if pos == end {
                guard try refill() else {
                    throw syntaxError(.truncated, "unexpected end of input inside a string that starts at byte \(tokenOffset)")
                }
                continue
            }
            let c = block[pos]
            if c == 0x22 {
                pos += 1
                break
            }
            if c == 0x5C {
                pos += 1
                try scanEscape()
                if stringBytes.count > maxBytes {
                    throw syntaxError(.stringTooLong, "a string is longer than the limit of \(maxBytes) bytes",
                                      at: tokenOffset, line: tokenLine)
                }
                continue
            }
            throw syntaxError(c == 0x0A ? "a string is not closed before the end of the line (raw newlines must be escaped as \\n)"
                                        : "raw control character 0x\(String(c, radix: 16, uppercase: true)) inside a string (escape it)")
        }
        stringIsASCII = orBits < 0x80 && !escapedNonASCII
        if !stringIsASCII, let bad = UTF8Check.firstInvalidByte(in: stringBytes) {
            throw ManifestError(.invalidUTF8,
                                message_: "invalid UTF-8 in the string starting at byte \(tokenOffset) (byte \(bad) of the string, line \(tokenLine))",
                                line: tokenLine, offset: Int(tokenOffset))
        }
        peakBufferedBytes = max(peakBufferedBytes, block.count + stringBytes.capacity)
    }

    /// Grows the string buffer by doubling, but never past the string limit (plus the few bytes
    /// one escape can add before the limit is checked), so memory stays within the promised bound.
    private func reserveString(_ needed: Int) {
        guard needed > stringBytes.capacity else { return }
        let cap = limits.maxStringBytes + 8
        stringBytes.reserveCapacity(min(max(needed, stringBytes.capacity * 2), max(cap, needed)))
    }

    private func nextEscapeByte() throws -> UInt8 {
        guard let b = try peekByte() else {
            throw syntaxError(.truncated, "unexpected end of input inside an escape sequence")
        }
        pos += 1
        return b
    }

    private func scanEscape() throws {
        let b = try nextEscapeByte()
        switch b {
        case 0x22, 0x5C, 0x2F: stringBytes.append(b)
        case 0x62: stringBytes.append(0x08)
        case 0x66: stringBytes.append(0x0C)
        case 0x6E: stringBytes.append(0x0A)
        case 0x72: stringBytes.append(0x0D)
        case 0x74: stringBytes.append(0x09)
        case 0x75:
            var scalar = try scanHex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                // A high surrogate must be followed by an escaped low surrogate.
                guard try nextEscapeByte() == 0x5C, try nextEscapeByte() == 0x75 else {
                    throw syntaxError("unpaired surrogate in a \\u escape")
                }
                let low = try scanHex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw syntaxError("unpaired surrogate in a \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw syntaxError("unpaired surrogate in a \\u escape")
            }
            appendUTF8(scalar)
        default:
            pos -= 1
            throw syntaxError("invalid escape '\\\(Character(UnicodeScalar(b)))' in a string")
        }
    }

    private func scanHex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = try nextEscapeByte()
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default:
                pos -= 1
                throw syntaxError("invalid \\u escape: expected 4 hex digits")
            }
            v = v << 4 | d
        }
        return v
    }

    private func appendUTF8(_ v: UInt32) {
        reserveString(stringBytes.count + 4)
        if v >= 0x80 { escapedNonASCII = true }
        if v < 0x80 {
            stringBytes.append(UInt8(v))
        } else if v < 0x800 {
            stringBytes.append(UInt8(0xC0 | (v >> 6)))
            stringBytes.append(UInt8(0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            stringBytes.append(UInt8(0xE0 | (v >> 12)))
            stringBytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            stringBytes.append(UInt8(0x80 | (v & 0x3F)))
        } else {
            stringBytes.append(UInt8(0xF0 | (v >> 18)))
            stringBytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            stringBytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            stringBytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    /// Scans a number into `stringBytes` and checks RFC 8259's grammar:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private func scanNumber() throws {
        stringBytes.removeAll(keepingCapacity: true)
        while let b = try peekByte() {
            let isNumberByte = (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2B || b == 0x2E || b == 0x65 || b == 0x45
            if !isNumberByte { break }
            stringBytes.append(b)
            pos += 1
            if stringBytes.count > 512 {
                throw syntaxError("a number is longer than 512 characters", at: tokenOffset, line: tokenLine)
            }
        }
        if let b = try peekByte(), (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) {
            throw syntaxError("unquoted text is not a JSON value (quote strings, e.g. \"...\")", at: tokenOffset, line: tokenLine)
        }
        guard JSONTokenizer.isValidNumber(stringBytes) else {
            let text = String(decoding: stringBytes, as: UTF8.self)
            throw syntaxError("invalid number '\(text)'", at: tokenOffset, line: tokenLine)
        }
        stringIsASCII = true
    }

    static func isValidNumber(_ s: [UInt8]) -> Bool {
        var i = 0
        let n = s.count
        func digits() -> Int {
            let start = i
            while i < n && s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < n && s[i] == 0x2D { i += 1 }
        if i < n && s[i] == 0x30 {
            i += 1
        } else if digits() == 0 {
            return false
        }
        if i < n && s[i] == 0x2E {
            i += 1
            if digits() == 0 { return false }
        }
        if i < n && (s[i] == 0x65 || s[i] == 0x45) {
            i += 1
            if i < n && (s[i] == 0x2B || s[i] == 0x2D) { i += 1 }
            if digits() == 0 { return false }
        }
        return i == n
    }

    // MARK: - Helpers for callers

    /// The last string or key as a Swift String (already validated UTF-8).
    public func stringValue() -> String {
        String(decoding: stringBytes, as: UTF8.self)
    }

    /// Whether the last key/string equals `literal` byte for byte; avoids creating Strings
    /// for the keys the manifest reader dispatches on.
    public func stringEquals(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { lit in
            lit.count == stringBytes.count && lit.elementsEqual(stringBytes)
        }
    }

    /// Skips the rest of a value whose first token was just returned (a no-op for scalars).
    public func skipValue(after token: Token) throws {
        guard token == .beginObject || token == .beginArray else { return }
        let target = stack.count - 1
        while stack.count > target {
            _ = try next()
        }
    }

    /// Reads a whole value as a `JSONValue` tree, the first token of which was just returned.
    /// `budget` caps the serialised size so one item cannot make us hold megabytes.
    public func readValue(after token: Token, budget: inout Int) throws -> JSONValue {
        func spend(_ n: Int) throws {
            budget -= n
            if budget < 0 { throw BudgetExceeded() }
        }
        switch token {
        case .string:
            try spend(JSONTokenizer.serializedLength(stringBytes))
            return .string(stringValue())
        case .number:
            try spend(stringBytes.count)
            return .number(stringValue())
        case .bool(let b):
            try spend(5)
            return .bool(b)
        case .null:
            try spend(4)
            return .null
        case .beginArray:
            var items: [JSONValue] = []
            while true {
                let t = try next()
                if t == .endArray { try spend(2); return .array(items) }
                try spend(1)
                items.append(try readValue(after: t, budget: &budget))
            }
        case .beginObject:
            var members: [(key: String, value: JSONValue)] = []
            while true {
                let t = try next()
                if t == .endObject { try spend(2); return .object(members) }
                let key = stringValue()
                try spend(JSONTokenizer.serializedLength(stringBytes) + 2)
                let v = try readValue(after: try next(), budget: &budget)
                members.append((key, v))
            }
        default:
            throw syntaxError("unexpected token \(token)")
        }
    }

    /// Bytes `JSONValue.writeString` will write for these string bytes (quotes and escapes included).
    static func serializedLength(_ bytes: [UInt8]) -> Int {
        var n = 2
        for b in bytes { n += b < 0x20 ? 6 : (b == 0x22 || b == 0x5C ? 2 : 1) }
        return n
    }

    /// Thrown by `readValue` when a value is larger than its budget; the tokenizer is left inside
    /// the value, so the caller skips the rest with `skipRemainder(toDepth:)`.
    public struct BudgetExceeded: Error {}

    /// After `BudgetExceeded`, reads on until the container depth is back to `depth`.
    public func skipRemainder(toDepth depth: Int) throws {
        while stack.count > depth { _ = try next() }
    }
}

extension ManifestError {
    /// Whole-file error with a message (label avoids clashing with the public init).
    init(_ code: IssueCode, message_: String, line: Int? = nil, offset: Int? = nil) {
        self.init(code, item: "manifest", message_, line: line, offset: offset)
    }
}
