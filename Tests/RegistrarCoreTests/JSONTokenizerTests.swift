import Foundation
import RegistrarCore
import Testing

// MARK: - Reading helpers

/// A token together with its payload, so whole sequences compare in one `#expect`.
fileprivate enum Tok: Equatable, Sendable, CustomStringConvertible {
    case bo, eo, ba, ea
    case key(String), str(String), num(String)
    case bool(Bool), null, end

    var description: String {
        switch self {
        case .bo: return "{"
        case .eo: return "}"
        case .ba: return "["
        case .ea: return "]"
        case .key(let s): return "key(\(s.debugDescription))"
        case .str(let s): return "str(\(s.debugDescription))"
        case .num(let s): return "num(\(s))"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        case .end: return "end"
        }
    }
}

/// One token as read: what it was and where it started.
fileprivate struct Step: Equatable, Sendable {
    var tok: Tok
    var offset: Int64
    var line: Int
}

fileprivate struct TrailingComma: Equatable, Sendable, CustomStringConvertible {
    var line: Int
    var offset: Int64
    var description: String { "(line \(line), byte \(offset))" }
}

fileprivate func readTok(_ t: JSONTokenizer) throws -> Tok {
    switch try t.next() {
    case .beginObject: return .bo
    case .endObject: return .eo
    case .beginArray: return .ba
    case .endArray: return .ea
    case .key: return .key(t.stringValue())
    case .string: return .str(t.stringValue())
    case .number: return .num(t.stringValue())
    case .bool(let b): return .bool(b)
    case .null: return .null
    case .end: return .end
    }
}

/// How the input reaches the tokenizer: bytes per `read` call, and the tokenizer's block size
/// (16 is the smallest it allows, so most tokens straddle a refill).
fileprivate struct ReadConfig: Sendable, CustomTestStringConvertible {
    var maxPerRead: Int
    var blockSize: Int

    var testDescription: String {
        "\(maxPerRead == .max ? "whole reads" : "\(maxPerRead) byte(s) per read"), block \(blockSize)"
    }

    static let whole = ReadConfig(maxPerRead: .max, blockSize: 1 << 20)
    /// Every way of splitting the input that must give identical results.
    static let all: [ReadConfig] = [
        whole,
        ReadConfig(maxPerRead: .max, blockSize: 16),
        ReadConfig(maxPerRead: 1, blockSize: 1 << 20),
        ReadConfig(maxPerRead: 1, blockSize: 16),
        ReadConfig(maxPerRead: 2, blockSize: 16),
        ReadConfig(maxPerRead: 3, blockSize: 16),
        ReadConfig(maxPerRead: 7, blockSize: 16),
        ReadConfig(maxPerRead: 7, blockSize: 17),
    ]
}

fileprivate func limits(depth: Int = 64, stringBytes: Int = 1 << 20, totalBytes: Int64 = .max) -> JSONTokenizer.Limits {
    var l = JSONTokenizer.Limits()
    l.maxDepth = depth
    l.maxStringBytes = stringBytes
    l.maxTotalBytes = totalBytes
    return l
}

fileprivate func tokenizer(_ bytes: [UInt8], _ config: ReadConfig = .whole,
                           limits: JSONTokenizer.Limits = .init()) -> JSONTokenizer {
    JSONTokenizer(source: MemoryByteSource(bytes, maxPerRead: config.maxPerRead), limits: limits,
                  blockSize: config.blockSize)
}

fileprivate func tokenizer(_ text: String, _ config: ReadConfig = .whole,
                           limits: JSONTokenizer.Limits = .init()) -> JSONTokenizer {
    tokenizer(Array(text.utf8), config, limits: limits)
}

/// Everything observable about tokenizing one input.
fileprivate struct Run: Equatable, Sendable {
    var steps: [Step] = []
    var error: ManifestError?
    var trailingCommas: [TrailingComma] = []
    var toks: [Tok] { steps.map(\.tok) }
    var finished: Bool { steps.last?.tok == .end }
}

/// Tokenizes `bytes` to `.end` or the first error. Every token except `.end` consumes at least one
/// byte, so more than `bytes.count + 2` calls to `next()` means the tokenizer is looping: that is
/// recorded as a failure and the loop is cut off.
fileprivate func run(_ bytes: [UInt8], _ config: ReadConfig = .whole, limits: JSONTokenizer.Limits = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> Run {
    let t = tokenizer(bytes, config, limits: limits)
    var result = Run()
    let maxCalls = bytes.count + 2
    do {
        while result.steps.count < maxCalls {
            let tok = try readTok(t)
            result.steps.append(Step(tok: tok, offset: t.tokenOffset, line: t.tokenLine))
            if tok == .end { break }
        }
        if !result.finished {
            Issue.record("no .end after \(maxCalls) calls to next() on \(bytes.count) bytes", sourceLocation: sourceLocation)
        } else {
            #expect(t.bytesConsumed == Int64(bytes.count), "all input consumed at .end", sourceLocation: sourceLocation)
            #expect(t.depth == 0, sourceLocation: sourceLocation)
        }
    } catch let error as ManifestError {
        result.error = error
    } catch {
        Issue.record("not a ManifestError: \(error)", sourceLocation: sourceLocation)
    }
    result.trailingCommas = t.trailingCommas.map { TrailingComma(line: $0.line, offset: $0.offset) }
    return result
}

/// Runs `bytes` under every `ReadConfig`; any split that gives a different result is a failure.
fileprivate func runAll(_ bytes: [UInt8], limits: JSONTokenizer.Limits = .init(),
                        sourceLocation: SourceLocation = #_sourceLocation) -> Run {
    let reference = run(bytes, .whole, limits: limits, sourceLocation: sourceLocation)
    for config in ReadConfig.all.dropFirst() {
        let other = run(bytes, config, limits: limits, sourceLocation: sourceLocation)
        #expect(other == reference, "\(config.testDescription) differs from whole reads", sourceLocation: sourceLocation)
    }
    return reference
}

/// The tokens of a document that must be valid (identical under every split).
@discardableResult
fileprivate func expectValid(_ bytes: [UInt8], _ expected: [Tok]? = nil, limits: JSONTokenizer.Limits = .init(),
                             sourceLocation: SourceLocation = #_sourceLocation) -> Run {
    let r = runAll(bytes, limits: limits, sourceLocation: sourceLocation)
    if let error = r.error {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
    } else if let expected {
        #expect(r.toks == expected, sourceLocation: sourceLocation)
    }
    return r
}

@discardableResult
fileprivate func expectValid(_ text: String, _ expected: [Tok]? = nil, limits: JSONTokenizer.Limits = .init(),
                             sourceLocation: SourceLocation = #_sourceLocation) -> Run {
    expectValid(Array(text.utf8), expected, limits: limits, sourceLocation: sourceLocation)
}

/// The error a document must fail with (identical under every split).
fileprivate func expectFailure(_ bytes: [UInt8], limits: JSONTokenizer.Limits = .init(),
                               sourceLocation: SourceLocation = #_sourceLocation) -> ManifestError? {
    let r = runAll(bytes, limits: limits, sourceLocation: sourceLocation)
    guard let error = r.error else {
        Issue.record("expected an error, got \(r.toks)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(error.issue.severity == .error, sourceLocation: sourceLocation)
    return error
}

fileprivate func expectFailure(_ text: String, limits: JSONTokenizer.Limits = .init(),
                               sourceLocation: SourceLocation = #_sourceLocation) -> ManifestError? {
    expectFailure(Array(text.utf8), limits: limits, sourceLocation: sourceLocation)
}

/// Reads a whole document with `readValue` (which must then be followed by `.end`).
fileprivate func readDocument(_ bytes: [UInt8], _ config: ReadConfig = .whole,
                              limits: JSONTokenizer.Limits = .init()) throws -> JSONValue {
    let t = tokenizer(bytes, config, limits: limits)
    var budget = Int.max
    let value = try t.readValue(after: t.next(), budget: &budget)
    let end = try t.next()
    #expect(end == .end)
    return value
}

fileprivate func readDocument(_ text: String) throws -> JSONValue {
    try readDocument(Array(text.utf8))
}


/// Readable rendering of test input for parameterized test names.
fileprivate func show(_ bytes: [UInt8]) -> String {
    var out = ""
    for b in bytes {
        if b >= 0x20 && b < 0x7F { out.unicodeScalars.append(UnicodeScalar(b)) } else {
            out += "\\x" + (b < 0x10 ? "0" : "") + String(b, radix: 16, uppercase: true)
        }
    }
    return out
}

fileprivate let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

// MARK: - Seed fixtures

fileprivate struct SeedFixture: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
        /// Python's json.load accepted it.
        case strict
        /// Strict JSON apart from trailing commas on these lines.
        case trailingCommas([Int])
        /// Not JSON (bare words): Python's error position.
        case invalid(line: Int, column: Int, offset: Int)
    }

    var name: String
    var bytes: [UInt8]
    var expectation: Expectation
    var testDescription: String { name }

    static let directory: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("seed")

    /// The JSON fixtures with what INDEX.md (generated with Python's `json`) says about each.
    static let all: [SeedFixture] = {
        guard let index = try? String(contentsOf: directory.appendingPathComponent("INDEX.md"), encoding: .utf8) else {
            return []
        }
        var out: [SeedFixture] = []
        for row in index.split(separator: "\n") where row.hasPrefix("| `") {
            let cells = row.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 8 else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            guard name.hasSuffix(".json"),
                  let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            let strict = cells[7], rewrite = cells[8]
            let expectation: Expectation
            if strict == "ok" {
                expectation = .strict
            } else if rewrite == "removed trailing commas" {
                let lines = row.matches(of: /trailing comma line (\d+) of fixture/).map { Int($0.1)! }
                expectation = .trailingCommas(lines)
            } else if let m = strict.firstMatch(of: /line (\d+) column (\d+) \(char (\d+)\)/) {
                expectation = .invalid(line: Int(m.1)!, column: Int(m.2)!, offset: Int(m.3)!)
            } else {
                continue
            }
            out.append(SeedFixture(name: name, bytes: Array(data), expectation: expectation))
        }
        return out
    }()
}

// MARK: - Comparing with Foundation

fileprivate func doubleValue(_ any: Any) -> Double? {
    if let n = any as? NSNumber { return n.doubleValue }
    if let d = any as? Double { return d }
    if let i = any as? Int { return Double(i) }
    if let d = any as? Decimal { return NSDecimalNumber(decimal: d).doubleValue }
    return nil
}

/// Where JSONSerialization's result differs from ours, nil when they agree. Objects compare as
/// dictionaries (with the last of repeated keys, as Foundation keeps), numbers by Double value,
/// strings scalar by scalar (not by canonical equivalence).
fileprivate func mismatch(_ found: Any, _ expected: JSONValue, path: String = "$") -> String? {
    switch expected {
    case .null:
        return found is NSNull ? nil : "\(path): expected null, Foundation has \(found)"
    case .bool(let b):
        return (found as? Bool) == b ? nil : "\(path): expected \(b), Foundation has \(found)"
    case .number(let text):
        guard let ours = Double(text), let theirs = doubleValue(found) else {
            return "\(path): expected number \(text), Foundation has \(found)"
        }
        let close = ours == theirs || abs(ours - theirs) <= 1e-12 * max(abs(ours), abs(theirs))
        return close ? nil : "\(path): expected \(text) = \(ours), Foundation has \(theirs)"
    case .string(let s):
        guard let theirs = found as? String, Array(theirs.unicodeScalars) == Array(s.unicodeScalars) else {
            return "\(path): expected \(s.debugDescription), Foundation has \(found)"
        }
        return nil
    case .array(let items):
        guard let theirs = found as? [Any], theirs.count == items.count else {
            return "\(path): expected an array of \(items.count), Foundation has \(found)"
        }
        for (i, (f, v)) in zip(theirs, items).enumerated() {
            if let m = mismatch(f, v, path: "\(path)[\(i)]") { return m }
        }
        return nil
    case .object(let members):
        var last: [String: JSONValue] = [:]
        for m in members { last[m.key] = m.value }
        guard let theirs = found as? [String: Any], theirs.count == last.count else {
            return "\(path): expected an object with \(last.count) keys, Foundation has \(found)"
        }
        for (k, v) in last {
            guard let f = theirs[k] else { return "\(path): Foundation lacks key \(k.debugDescription)" }
            if let m = mismatch(f, v, path: "\(path).\(k)") { return m }
        }
        return nil
    }
}

fileprivate func foundationParse(_ bytes: [UInt8]) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

// MARK: - Random documents

/// Random JSON text with the value it denotes: objects (unique keys), arrays, strings mixing raw
/// UTF-8 of every length with every kind of escape, numbers of every shape, literals; depth ≤ 6.
fileprivate struct RandomJSON {
    var rng: SplitMix64
    static let maxDepth = 6

    static let printable: [Unicode.Scalar] = (0x20...0x7E).map { Unicode.Scalar($0)! } + ["\u{7F}"]
    static let controls: [Unicode.Scalar] = (0x00...0x1F).map { Unicode.Scalar($0)! }
    static let twoByte: [Unicode.Scalar] = ["é", "ß", "ÿ", "Ω", "\u{80}", "\u{7FF}", "·"]
    static let threeByte: [Unicode.Scalar] = ["€", "中", "\u{FFFD}", "\u{2028}", "\u{800}", "\u{FFFF}", "\u{E000}"]
    static let fourByte: [Unicode.Scalar] = ["😀", "𝄞", "\u{10000}", "\u{10FFFF}", "🇬"]

    mutating func ws() -> String {
        rng.chance(0.6) ? "" : rng.pick([" ", "\n", "\t", "\r\n", "  ", " \n  "])
    }

    mutating func document() -> (text: String, value: JSONValue) {
        let (text, value) = rng.chance(0.9) ? container(depth: 1) : scalar()
        return (ws() + text + ws(), value)
    }

    mutating func value(depth: Int) -> (String, JSONValue) {
        if depth < Self.maxDepth && rng.chance(0.35) { return container(depth: depth + 1) }
        return scalar()
    }

    mutating func container(depth: Int) -> (String, JSONValue) {
        let count = rng.int(0...4)
        var text = ""
        if rng.chance(0.5) {
            var items: [JSONValue] = []
            text += "[" + ws()
            for i in 0..<count {
                if i > 0 { text += ws() + "," + ws() }
                let (t, v) = value(depth: depth)
                text += t
                items.append(v)
            }
            return (text + ws() + "]", .array(items))
        }
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        text += "{" + ws()
        for _ in 0..<count {
            let (kt, k) = string()
            guard keys.insert(k).inserted else { continue }
            if !members.isEmpty { text += ws() + "," + ws() }
            let (vt, v) = value(depth: depth)
            text += kt + ws() + ":" + ws() + vt
            members.append((k, v))
        }
        return (text + ws() + "}", .object(members))
    }

    mutating func scalar() -> (String, JSONValue) {
        switch rng.int(0...9) {
        case 0...2:
            let (t, s) = string()
            return (t, .string(s))
        case 3...5:
            let n = number()
            return (n, .number(n))
        case 6: return ("true", .bool(true))
        case 7: return ("false", .bool(false))
        default: return ("null", .null)
        }
    }

    mutating func number() -> String {
        var s = rng.chance(0.3) ? "-" : ""
        if rng.chance(0.2) {
            s += "0"
        } else {
            s += String(rng.int(1...9))
            for _ in 0..<rng.int(0...11) { s += String(rng.int(0...9)) }
        }
        if rng.chance(0.4) {
            s += "."
            for _ in 0..<rng.int(1...6) { s += String(rng.int(0...9)) }
        }
        if rng.chance(0.3) {
            s += rng.pick(["e", "E"]) + rng.pick(["", "+", "-"]) + rng.pick(["", "0"]) + String(rng.int(0...30))
        }
        return s
    }

    /// (JSON literal, decoded value)
    mutating func string() -> (String, String) {
        var text = "\"", value = ""
        for _ in 0..<rng.int(0...10) {
            let pool: [Unicode.Scalar]
            switch rng.int(0...9) {
            case 0...4: pool = Self.printable
            case 5: pool = Self.controls
            case 6: pool = ["\"", "\\", "/"]
            case 7: pool = Self.twoByte
            case 8: pool = Self.threeByte
            default: pool = Self.fourByte
            }
            let s = rng.pick(pool)
            value.unicodeScalars.append(s)
            text += render(s)
        }
        return (text + "\"", value)
    }

    mutating func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: rng.chance(0.5))
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }

    mutating func render(_ s: Unicode.Scalar) -> String {
        let short: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "/": "\\/", "\u{08}": "\\b",
                                                "\u{0C}": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"]
        let mustEscape = s.value < 0x20 || s == "\"" || s == "\\"
        if let e = short[s], rng.chance(mustEscape ? 0.7 : 0.3) { return e }
        if mustEscape || rng.chance(0.15) {
            if s.value > 0xFFFF {
                let v = s.value - 0x10000
                return hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
            }
            return hex4(s.value)
        }
        return String(s)
    }
}

/// A `ByteSource` that makes `prefix + unit × count + suffix` on the fly, so tests can feed
/// tens of megabytes without holding them.
fileprivate struct PatternSource: ByteSource {
    private let prefix: [UInt8], tile: [UInt8], unitLength: Int, suffix: [UInt8]
    private let middleEnd: Int
    let total: Int
    private var position = 0

    init(prefix: String = "", unit: String, count: Int, suffix: String = "") {
        self.prefix = Array(prefix.utf8)
        self.suffix = Array(suffix.utf8)
        let u = Array(unit.utf8)
        unitLength = u.count
        var t: [UInt8] = []
        while t.count < 4096 { t += u }
        tile = t
        middleEnd = self.prefix.count + u.count * count
        total = middleEnd + self.suffix.count
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count && position < total {
            let room = buffer.count - written
            let chunk: [UInt8], from: Int, n: Int
            if position < prefix.count {
                chunk = prefix; from = position; n = min(room, prefix.count - position)
            } else if position < middleEnd {
                chunk = tile; from = (position - prefix.count) % unitLength
                n = min(room, tile.count - from, middleEnd - position)
            } else {
                chunk = suffix; from = position - middleEnd; n = min(room, total - position)
            }
            chunk.withUnsafeBytes { src in
                (buffer.baseAddress! + written).copyMemory(from: src.baseAddress! + from, byteCount: n)
            }
            position += n
            written += n
        }
        return written
    }
}

// MARK: - Tests

@Suite fileprivate struct JSONTokenizerTests {

    // MARK: Valid documents

    @Suite struct ValidDocuments {
        struct Case: Sendable, CustomTestStringConvertible {
            var text: String
            var tokens: [Tok]
            var testDescription: String { text.debugDescription }
            init(_ text: String, _ tokens: [Tok]) {
                self.text = text
                self.tokens = tokens + [.end]
            }
        }

        static let cases: [Case] = [
            Case("{}", [.bo, .eo]),
            Case("[]", [.ba, .ea]),
            Case(#"{"a":1}"#, [.bo, .key("a"), .num("1"), .eo]),
            Case(" \t\r\n{ \"a\" :\n1 ,\"b\" : [ true , false , null ] }\n\r\t ",
                 [.bo, .key("a"), .num("1"), .key("b"), .ba, .bool(true), .bool(false), .null, .ea, .eo]),
            Case(#"{"a":{"b":{"c":[[],[{}],{"d":[null]}]}},"e":""}"#,
                 [.bo, .key("a"), .bo, .key("b"), .bo, .key("c"), .ba, .ba, .ea, .ba, .bo, .eo, .ea,
                  .bo, .key("d"), .ba, .null, .ea, .eo, .ea, .eo, .eo, .key("e"), .str(""), .eo]),
            Case("[[[[[[]]]]]]", [.ba, .ba, .ba, .ba, .ba, .ba, .ea, .ea, .ea, .ea, .ea, .ea]),
            Case("true", [.bool(true)]),
            Case("false", [.bool(false)]),
            Case("null", [.null]),
            Case(" \"x\" ", [.str("x")]),
            Case("0", [.num("0")]),
            Case("-0", [.num("-0")]),
            Case("123", [.num("123")]),
            Case("[0,-0,1,-1,123,1e10,1E10,1.5E-3,1.5e+3,-0.0,0.5,12.34e-56,1e0,1E00,-9.99e+308]",
                 [.ba, .num("0"), .num("-0"), .num("1"), .num("-1"), .num("123"), .num("1e10"), .num("1E10"),
                  .num("1.5E-3"), .num("1.5e+3"), .num("-0.0"), .num("0.5"), .num("12.34e-56"), .num("1e0"),
                  .num("1E00"), .num("-9.99e+308"), .ea]),
            Case(#"[1 ,2, 3 ]"#, [.ba, .num("1"), .num("2"), .num("3"), .ea]),
            Case(#"{"n":-12.5e2}"#, [.bo, .key("n"), .num("-12.5e2"), .eo]),
            Case(#"["\" \\ \/ \b \f \n \r \t"]"#, [.ba, .str("\" \\ / \u{08} \u{0C} \n \r \t"), .ea]),
            Case(#"["\u00e9", "\u00E9", "\ud83d\ude00", "\uD83D\uDE00", "\u0000", "\u001f", "\uffff", "\u20AC"]"#,
                 [.ba, .str("é"), .str("é"), .str("😀"), .str("😀"), .str("\u{0}"), .str("\u{1F}"), .str("\u{FFFF}"),
                  .str("€"), .ea]),
            Case(#"["a\u0041b", "\ud800\udc00", "\udbff\udfff", "x\\u0041"]"#,
                 [.ba, .str("aAb"), .str("\u{10000}"), .str("\u{10FFFF}"), .str("x\\u0041"), .ea]),
            Case("[\"é 😀 中 raw\", \"\u{7F}\", \"\u{FEFF}\"]", [.ba, .str("é 😀 中 raw"), .str("\u{7F}"), .str("\u{FEFF}"), .ea]),
            Case(#"{"\u0041\n":1,"":"","k\"ey":"v"}"#, [.bo, .key("A\n"), .num("1"), .key(""), .str(""), .key("k\"ey"), .str("v"), .eo]),
            Case("[\"" + String(repeating: "abc\\u00e9\\n\\\"", count: 20) + "\"]",
                 [.ba, .str(String(repeating: "abcé\n\"", count: 20)), .ea]),
            Case("{\"url\":\"https://example.com/a%20b?x=1&y=2\",\"title\":\"Ünïcødé ✓\"}",
                 [.bo, .key("url"), .str("https://example.com/a%20b?x=1&y=2"), .key("title"), .str("Ünïcødé ✓"), .eo]),
        ]

        /// Each case is also checked under every read split by `expectValid`.
        @Test(arguments: cases)
        func tokenSequence(_ c: Case) {
            expectValid(c.text, c.tokens)
        }

        @Test(arguments: [
            (#""\u00e9""#, [0xC3, 0xA9]),
            (#""\u0080""#, [0xC2, 0x80]),
            (#""\u07FF""#, [0xDF, 0xBF]),
            (#""\u0800""#, [0xE0, 0xA0, 0x80]),
            (#""\u20ac""#, [0xE2, 0x82, 0xAC]),
            (#""\uFFFF""#, [0xEF, 0xBF, 0xBF]),
            (#""\ud83d\ude00""#, [0xF0, 0x9F, 0x98, 0x80]),
            (#""\ud800\udc00""#, [0xF0, 0x90, 0x80, 0x80]),
            (#""\uDBFF\uDFFF""#, [0xF4, 0x8F, 0xBF, 0xBF]),
            (#""a\u0000b""#, [0x61, 0x00, 0x62]),
            (#""\/\b""#, [0x2F, 0x08]),
        ] as [(String, [UInt8])])
        func escapesDecodeToUTF8(_ text: String, _ expected: [UInt8]) throws {
            for config in ReadConfig.all {
                let t = tokenizer(text, config)
                #expect(try t.next() == .string)
                #expect(t.stringBytes == expected, "\(config.testDescription)")
                #expect(try t.next() == .end)
            }
        }

        /// `stringIsASCII` is documented as "whether stringBytes holds any non-ASCII byte".
        @Test(arguments: [
            (#""abc""#, true),
            (#""\n\u0041""#, true),
            ("\"é\"", false),
            (#""\u00e9""#, false),
            (#""\ud83d\ude00""#, false),
        ])
        func stringIsASCIIDescribesTheDecodedBytes(_ text: String, _ ascii: Bool) throws {
            let t = tokenizer(text)
            #expect(try t.next() == .string)
            #expect(t.stringIsASCII == ascii, "stringBytes = \(t.stringBytes)")
        }

        @Test func tokenOffsetsAndLines() {
            let text = "{\n  \"a\": [1,\n    \"x\"],\n  \"b\": true\n}"
            let r = expectValid(text)
            let expected: [Step] = [
                Step(tok: .bo, offset: 0, line: 1),
                Step(tok: .key("a"), offset: 4, line: 2),
                Step(tok: .ba, offset: 9, line: 2),
                Step(tok: .num("1"), offset: 10, line: 2),
                Step(tok: .str("x"), offset: 17, line: 3),
                Step(tok: .ea, offset: 20, line: 3),
                Step(tok: .key("b"), offset: 25, line: 4),
                Step(tok: .bool(true), offset: 30, line: 4),
                Step(tok: .eo, offset: 35, line: 5),
                Step(tok: .end, offset: 36, line: 5),
            ]
            #expect(r.steps == expected)
        }

        @Test func crlfCountsOneLine() {
            let r = expectValid("[\r\n1,\r\n\r\n2]")
            #expect(r.steps.map(\.line) == [1, 2, 4, 4, 4])
        }

        @Test func stringEqualsAndSkipValue() throws {
            for config in ReadConfig.all {
                let t = tokenizer(#"{"skip":{"a":[1,{"b":"}"}],"c":"]"},"objectUrl":"u","tail":[]}"#, config)
                #expect(try t.next() == .beginObject)
                #expect(try t.next() == .key)
                #expect(t.stringEquals("skip"))
                #expect(!t.stringEquals("ski"))
                #expect(!t.stringEquals("skips"))
                let v = try t.next()
                #expect(v == .beginObject && t.depth == 2)
                try t.skipValue(after: v)
                #expect(t.depth == 1)
                #expect(try t.next() == .key)
                #expect(t.stringEquals("objectUrl"))
                let s = try t.next()
                try t.skipValue(after: s) // a scalar: no-op
                #expect(t.stringValue() == "u")
                #expect(try readTok(t) == .key("tail"))
                #expect(try readTok(t) == .ba)
                #expect(try readTok(t) == .ea)
                #expect(try readTok(t) == .eo)
                #expect(try readTok(t) == .end)
                #expect(try readTok(t) == .end, "stays at the end")
            }
        }
    }

    // MARK: BOM

    @Suite struct ByteOrderMark {
        @Test func leadingBOMIsSkipped() {
            let r = expectValid(bom + Array(#"{"a":[1]}"#.utf8), [.bo, .key("a"), .ba, .num("1"), .ea, .eo, .end])
            #expect(r.steps.first?.offset == 3)
        }

        @Test func bomBeforeScalarAndWhitespace() {
            expectValid(bom + Array("1".utf8), [.num("1"), .end])
            expectValid(bom + Array(" \n [] ".utf8), [.ba, .ea, .end])
        }

        @Test func columnsAfterABOMStartAtOne() {
            guard let e = expectFailure(bom + Array("x".utf8)) else { return }
            #expect(e.code == .invalidJSON)
            #expect(e.issue.offset == 3)
            #expect(e.issue.line == 1)
            #expect(e.issue.message.contains("line 1, column 1"), "\(e.issue.message)")
        }

        @Test(arguments: [
            (Array(" ".utf8) + bom + Array("{}".utf8), IssueCode.invalidJSON, 1),
            (Array("[1,".utf8) + bom + Array("2]".utf8), .invalidJSON, 3),
            (Array("{}".utf8) + bom, .trailingData, 2),
            (bom + bom + Array("{}".utf8), .invalidJSON, 3),
            (Array("\n".utf8) + bom + Array("[]".utf8), .invalidJSON, 1),
            ([0xEF, 0xBB] + Array("{}".utf8), .invalidJSON, 0),
            ([0xEF] + Array("[]".utf8), .invalidJSON, 0),
        ])
        func bomElsewhereIsAnError(_ bytes: [UInt8], _ code: IssueCode, _ offset: Int) {
            guard let e = expectFailure(bytes) else { return }
            #expect(e.code == code)
            #expect(e.issue.offset == offset)
        }

        @Test func bomInsideAStringIsJustText() {
            expectValid(Array("[\"".utf8) + bom + Array("\"]".utf8), [.ba, .str("\u{FEFF}"), .ea, .end])
        }
    }

    // MARK: Errors

    /// A document that must fail with `code` at `offset` (nil: not checked) on `line`.
    struct Bad: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var code: IssueCode
        var offset: Int?
        var line: Int
        init(_ text: String, _ code: IssueCode = .invalidJSON, at offset: Int?, line: Int = 1) {
            self.init(bytes: Array(text.utf8), code, at: offset, line: line)
        }
        init(bytes: [UInt8], _ code: IssueCode = .invalidJSON, at offset: Int?, line: Int = 1) {
            self.bytes = bytes
            self.code = code
            self.offset = offset
            self.line = line
        }
        var testDescription: String { show(bytes) }
    }

    fileprivate static func check(_ c: Bad, limits: JSONTokenizer.Limits = .init(),
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = expectFailure(c.bytes, limits: limits, sourceLocation: sourceLocation) else { return }
        #expect(e.code == c.code, "\(e)", sourceLocation: sourceLocation)
        if let offset = c.offset {
            #expect(e.issue.offset == offset, "\(e)", sourceLocation: sourceLocation)
        }
        #expect(e.issue.line == c.line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.issue.item == "manifest", sourceLocation: sourceLocation)
    }

    @Suite struct Errors {
        @Test func emptyInput() {
            guard let e = expectFailure([]) else { return }
            #expect(e.code == .emptyManifest)
        }

        /// Nothing but whitespace (or a BOM) is an empty manifest too: nothing was cut off.
        @Test(arguments: [Array(" ".utf8), Array("\n\n  \t\r\n".utf8), bom, bom + Array("\n".utf8)])
        func blankInputIsEmptyNotTruncated(_ bytes: [UInt8]) {
            guard let e = expectFailure(bytes) else { return }
            #expect(e.code == .emptyManifest, "\(e)")
        }

        static let truncated: [Bad] = [
            Bad(#"{"a"#, .truncated, at: 3),
            Bad(#"{"a""#, .truncated, at: 4),
            Bad(#"{"a":"#, .truncated, at: 5),
            Bad(#"{"a":1"#, .truncated, at: 6),
            Bad(#"{"a":1,"#, .truncated, at: 7),
            Bad(#"{"#, .truncated, at: 1),
            Bad(#"["#, .truncated, at: 1),
            Bad(#"[1,2"#, .truncated, at: 4),
            Bad(#"[1,2,"#, .truncated, at: 5),
            Bad(#"[true"#, .truncated, at: 5),
            Bad(#"[{"a":["#, .truncated, at: 7),
            Bad(#""abc"#, .truncated, at: 4),
            Bad(#"["ab\"#, .truncated, at: 5),
            Bad(#"["\u12"#, .truncated, at: 6),
            Bad(#"["\ud83d"#, .truncated, at: 8),
            Bad(#"["\ud83d\"#, .truncated, at: 9),
            Bad(#"["\ud83d\u"#, .truncated, at: 10),
            Bad(" [ \n 1, ", .truncated, at: 8, line: 2),
        ]

        @Test(arguments: truncated)
        func truncatedInput(_ c: Bad) { JSONTokenizerTests.check(c) }

        static let trailing: [Bad] = [
            Bad("{} x", .trailingData, at: 3),
            Bad("{}{}", .trailingData, at: 2),
            Bad("[1]]", .trailingData, at: 3),
            Bad("1 2", .trailingData, at: 2),
            Bad(#""a" "b""#, .trailingData, at: 4),
            Bad("null null", .trailingData, at: 5),
            Bad("{}\n\n  ,", .trailingData, at: 6, line: 3),
            Bad("[1,]]", .trailingData, at: 4),
            Bad(bytes: Array("{}\n".utf8) + [0x00], .trailingData, at: 3, line: 2),
        ]

        @Test(arguments: trailing)
        func trailingData(_ c: Bad) { JSONTokenizerTests.check(c) }

        static let numbers: [Bad] = [
            Bad("[01]", at: 1), Bad("[-01]", at: 1), Bad("[00]", at: 1), Bad("[01.5]", at: 1),
            Bad("[1.]", at: 1), Bad("[1.e5]", at: 1), Bad("[.5]", at: 1), Bad("[-]", at: 1),
            Bad("[1e]", at: 1), Bad("[1e+]", at: 1), Bad("[1E-]", at: 1), Bad("[+1]", at: 1),
            Bad("[--1]", at: 1), Bad("[1-2]", at: 1), Bad("[1.2.3]", at: 1), Bad("[1ee5]", at: 1),
            Bad("[1e5.5]", at: 1), Bad("[0x10]", at: 1), Bad("[1x]", at: 1), Bad("[-Infinity]", at: 1),
            Bad("[NaN]", at: 1), Bad("[Infinity]", at: 1), Bad("01", at: 0), Bad("-", at: 0),
            Bad("{\"a\":\n  1.}", at: 8, line: 2),
        ]

        @Test(arguments: numbers)
        func invalidNumbers(_ c: Bad) { JSONTokenizerTests.check(c) }

        @Test func numbersHaveALengthCap() {
            expectValid("[" + String(repeating: "1", count: 512) + "]")
            JSONTokenizerTests.check(Bad("[" + String(repeating: "1", count: 600) + "]", at: 1))
        }

        static let literals: [Bad] = [
            Bad("[tru]", at: 1), Bad("[nul]", at: 1), Bad("[fals]", at: 1), Bad("[True]", at: 1),
            Bad("[NULL]", at: 1), Bad("[FALSE]", at: 1), Bad("[t]", at: 1), Bad("[truex]", at: 1),
            Bad("[nulll]", at: 1), Bad("[false0]", at: 1), Bad("{\"a\": tru }", at: 6), Bad("[true_]", at: 5),
        ]

        @Test(arguments: literals)
        func invalidLiterals(_ c: Bad) { JSONTokenizerTests.check(c) }

        static let bareWords: [Bad] = [
            Bad(#"{"fps": frames-per-second}"#, at: 8),
            Bad("[abc]", at: 1),
            Bad("hello", at: 0),
            Bad(#"{"objectUrl": <object url_1>}"#, at: 14),
            Bad("{a: 1}", at: 1),
            Bad(#"{"a": 1, b: 2}"#, at: 9),
            Bad("['a']", at: 1),
            Bad("{'a': 1}", at: 1),
            Bad(#"{"a": 'b'}"#, at: 6),
        ]

        @Test(arguments: bareWords)
        func bareWordsAndSingleQuotes(_ c: Bad) { JSONTokenizerTests.check(c) }

        @Test func bareWordMessageQuotesTheWord() {
            guard let e = expectFailure(#"{"fps": frames-per-second}"#) else { return }
            #expect(e.issue.message.contains("frames-per-second"), "\(e.issue.message)")
        }

        static let controlCharacters: [Bad] = [
            Bad("[\"a\tb\"]", at: 3), Bad("[\"a\nb\"]", at: 3), Bad("[\"a\rb\"]", at: 3),
            Bad(bytes: Array("[\"".utf8) + [0x00] + Array("\"]".utf8), at: 2),
            Bad(bytes: Array("[\"x".utf8) + [0x1F] + Array("\"]".utf8), at: 3),
            Bad("{\"k\ney\": 1}", at: 3),
            Bad("[1,\n \"ab\n\"]", at: 8, line: 2),
        ]

        @Test(arguments: controlCharacters)
        func rawControlCharactersInStrings(_ c: Bad) { JSONTokenizerTests.check(c) }

        static let escapes: [Bad] = [
            Bad(#"["\x"]"#, at: 3), Bad(#"["\a"]"#, at: 3), Bad(#"["\'"]"#, at: 3), Bad(#"["\U0041"]"#, at: 3),
            Bad(#"["\0"]"#, at: 3), Bad(#"["\u12G4"]"#, at: 6), Bad(#"["\u"]"#, at: 4), Bad(#"["\u00"]"#, at: 6),
            Bad(#"["\u-123"]"#, at: 4), Bad("[\"\\\n\"]", at: 3),
        ]

        @Test(arguments: escapes)
        func invalidEscapes(_ c: Bad) { JSONTokenizerTests.check(c) }

        static let surrogates: [Bad] = [
            Bad(#"["\ud800"]"#, at: nil), Bad(#"["\udc00"]"#, at: nil), Bad(#"["\udfff"]"#, at: nil),
            Bad(#"["\ud800x"]"#, at: nil), Bad(#"["\ud800\u0041"]"#, at: nil), Bad(#"["\ud800\ud800"]"#, at: nil),
            Bad(#"["\ud800\n"]"#, at: nil), Bad(#"["\udc00\ud800"]"#, at: nil), Bad(#"{"\uDBFF": 1}"#, at: nil),
            Bad("[1,\n\"\\ud83d \\ude00\"]", at: nil, line: 2),
        ]

        @Test(arguments: surrogates)
        func loneSurrogates(_ c: Bad) { JSONTokenizerTests.check(c) }

        /// (bytes, offset of the string's opening quote, offset of the first bad byte, line)
        @Test(arguments: [
            ([0x22, 0xC0, 0x80, 0x22], 0, 1, 1),                                      // overlong NUL
            ([0x5B, 0x22, 0xC1, 0xBF, 0x22, 0x5D], 1, 2, 1),                          // overlong 'DEL'
            ([0x5B, 0x22, 0x61, 0xE0, 0x80, 0x80, 0x22, 0x5D], 1, 3, 1),              // overlong 3-byte
            ([0x5B, 0x22, 0xF0, 0x80, 0x80, 0x80, 0x22, 0x5D], 1, 2, 1),              // overlong 4-byte
            ([0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D], 1, 2, 1),                    // UTF-16 surrogate
            ([0x5B, 0x22, 0xF5, 0x80, 0x80, 0x80, 0x22, 0x5D], 1, 2, 1),              // F5 lead
            ([0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D], 1, 2, 1),              // above U+10FFFF
            ([0x5B, 0x22, 0xFF, 0x22, 0x5D], 1, 2, 1),
            ([0x5B, 0x22, 0x80, 0x22, 0x5D], 1, 2, 1),                                // lone continuation
            ([0x5B, 0x22, 0xC3, 0x22, 0x5D], 1, 2, 1),                                // truncated 2-byte
            ([0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D], 1, 2, 1),                          // truncated 3-byte
            ([0x5B, 0x22, 0xF0, 0x9F, 0x98, 0x22, 0x5D], 1, 2, 1),                    // truncated 4-byte
            ([0x5B, 0x22, 0xC3, 0x41, 0x22, 0x5D], 1, 2, 1),                          // lead then ASCII
            ([0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D], 1, 2, 1),                    // in a key
            ([0x5B, 0x0A, 0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22, 0x5D], 2, 5, 2),        // after an escape, line 2
            (Array(#"["\u00e9"#.utf8) + [0x80, 0x22, 0x5D], 1, 8, 1),                 // continuation after \u escape
            (Array(#"["\u00e9"#.utf8) + [0xC3, 0x22, 0x5D], 1, 8, 1),                 // lead before the quote
        ] as [([UInt8], Int, Int, Int)])
        func invalidUTF8InStrings(_ bytes: [UInt8], _ stringStart: Int, _ badByte: Int, _ line: Int) {
            guard let e = expectFailure(bytes) else { return }
            #expect(e.code == .invalidUTF8, "\(e)")
            #expect(e.issue.line == line)
            // The offset points at the string or at the bad byte within it.
            let offset = e.issue.offset ?? -1
            #expect((stringStart...badByte).contains(offset), "offset \(offset)")
        }

        static let structure: [Bad] = [
            Bad(#"{"a" 1}"#, at: 5), Bad("[1 2]", at: 3), Bad("{1:2}", at: 1), Bad(#"{"a":1 "b":2}"#, at: 7),
            Bad(#"{"a"}"#, at: 4), Bad(#"{"a":}"#, at: 5), Bad(#"{"a"::1}"#, at: 5), Bad("[1:2]", at: 2),
            Bad(#"{"a",1}"#, at: 4), Bad("[,]", at: 1), Bad("[1,,2]", at: 3), Bad("{,}", at: 1),
            Bad(#"{"a":1,,}"#, at: 7), Bad("[,1]", at: 1), Bad(",", at: 0), Bad("]", at: 0), Bad("}", at: 0),
            Bad("[}", at: 1), Bad("{]", at: 1), Bad("[1}", at: 2), Bad(#"{"a":1]"#, at: 6), Bad(":", at: 0),
            Bad(#"{"a":1,"b"}"#, at: 10), Bad(#"{"a":[1,2}"#, at: 9), Bad("[1\n,\n,2]", at: 5, line: 3),
            Bad(#"{"a":1,]"#, at: 7), Bad(#"[1,}"#, at: 3), Bad("[\"a\":1]", at: 4),
        ]

        @Test(arguments: structure)
        func missingOrMisplacedPunctuation(_ c: Bad) { JSONTokenizerTests.check(c) }

        @Test func errorOnLine5Column3() {
            for lineEnd in ["\n", "\r\n"] {
                let lines = ["{", #"  "a": 1,"#, #"  "b": ["#, "    2,", "  x]}"]
                let text = lines.joined(separator: lineEnd)
                let offset = lines.prefix(4).reduce(0) { $0 + $1.utf8.count + lineEnd.utf8.count } + 2
                #expect(Array(text.utf8)[offset] == UInt8(ascii: "x"))
                guard let e = expectFailure(text) else { continue }
                #expect(e.code == .invalidJSON)
                #expect(e.issue.line == 5)
                #expect(e.issue.offset == offset)
                #expect(e.issue.message.contains("line 5, column 3"), "\(e.issue.message)")
            }
        }

        @Test func errorPositionsOnLaterLines() {
            JSONTokenizerTests.check(Bad("{\n\n  \"a\": 01}", at: 10, line: 3))
            JSONTokenizerTests.check(Bad("[\n1,\n2,\n3,\n\"x\ty\"]", at: 13, line: 5))
            JSONTokenizerTests.check(Bad("[\n\n\n\"abc", .truncated, at: 8, line: 4))
            JSONTokenizerTests.check(Bad("{}\n\n\n   x", .trailingData, at: 8, line: 4))
        }
    }

    // MARK: Limits

    @Suite struct LimitChecks {
        @Test(arguments: 1...6)
        func nestingUpToMaxDepthIsFine(depth: Int) {
            let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            expectValid(arrays, limits: limits(depth: 6))
            let objects = String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
            expectValid(objects, limits: limits(depth: 6))
        }

        @Test func nestingBeyondMaxDepthIsRefused() {
            JSONTokenizerTests.check(Bad("[[[[[[[]]]]]]]", .nestingTooDeep, at: 6), limits: limits(depth: 6))
            JSONTokenizerTests.check(Bad(#"{"a":{"a":{"a":{"b":[{"c":[1]}]}}}}"#, .nestingTooDeep, at: 26),
                                     limits: limits(depth: 6))
            JSONTokenizerTests.check(Bad("[\n [\n  [[[[[", .nestingTooDeep, at: 11, line: 3), limits: limits(depth: 6))
        }

        @Test func defaultDepthIs64() {
            expectValid(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
            JSONTokenizerTests.check(Bad(String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
                                         .nestingTooDeep, at: 64))
        }

        @Test func stringsUpToTheLimitAreFine() {
            let l = limits(stringBytes: 8)
            expectValid(#"["12345678"]"#, [.ba, .str("12345678"), .ea, .end], limits: l)
            expectValid(#"["123456\u00e9"]"#, [.ba, .str("123456é"), .ea, .end], limits: l)
            expectValid(#"{"12345678":"abcdefgh"}"#, limits: l)
            expectValid("[\"1234é\"]", limits: l)
        }

        @Test func stringsOverTheLimitAreRefused() {
            let l = limits(stringBytes: 8)
            JSONTokenizerTests.check(Bad(#"["123456789"]"#, .stringTooLong, at: 1), limits: l)
            JSONTokenizerTests.check(Bad(#"["1234567\u00e9"]"#, .stringTooLong, at: 1), limits: l)
            JSONTokenizerTests.check(Bad(#"["\n\n\n\n\n\n\n\n\n"]"#, .stringTooLong, at: 1), limits: l)
            JSONTokenizerTests.check(Bad(#"{"123456789":1}"#, .stringTooLong, at: 1), limits: l)
            JSONTokenizerTests.check(Bad("[\n1,\n\"" + String(repeating: "x", count: 100) + "\"]", .stringTooLong, at: 5, line: 3),
                                     limits: l)
        }

        /// `maxTotalBytes` must hold whatever the read sizes: checked under each split separately.
        @Test(arguments: ReadConfig.all)
        func inputOverTheTotalLimitIsRefused(_ config: ReadConfig) {
            let l = limits(totalBytes: 10)
            for text in ["[1,2,3,4,5]", "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]", "{}         "] {
                let r = run(Array(text.utf8), config, limits: l)
                #expect(r.error?.code == .fileTooLarge, "\(text): \(r.error.map { "\($0)" } ?? "accepted")")
            }
            let exact = run(Array("[1,2,3,44]".utf8), config, limits: l)
            #expect(exact.error == nil && exact.finished, "exactly maxTotalBytes is allowed")
        }
    }

    // MARK: Trailing commas

    @Suite struct TrailingCommas {
        @Test func acceptedInArraysAndObjects() {
            let a = expectValid("[1,]", [.ba, .num("1"), .ea, .end])
            #expect(a.trailingCommas == [TrailingComma(line: 1, offset: 2)])
            let o = expectValid(#"{"a":1,}"#, [.bo, .key("a"), .num("1"), .eo, .end])
            #expect(o.trailingCommas == [TrailingComma(line: 1, offset: 6)])
        }

        @Test func recordTheCommasLineNotTheClosingBracket() {
            let r = expectValid("[1,\n]", [.ba, .num("1"), .ea, .end])
            #expect(r.trailingCommas == [TrailingComma(line: 1, offset: 2)])
        }

        @Test func severalTrailingCommas() {
            let text = "{\n \"a\": [1, 2,],\n \"b\": {\"c\": 1,\n },\n}"
            let bytes = Array(text.utf8)
            for offset in [13, 30, 34] { #expect(bytes[offset] == UInt8(ascii: ",")) }
            let r = expectValid(text, [.bo, .key("a"), .ba, .num("1"), .num("2"), .ea, .key("b"), .bo, .key("c"),
                                       .num("1"), .eo, .eo, .end])
            #expect(r.trailingCommas == [TrailingComma(line: 2, offset: 13), TrailingComma(line: 3, offset: 30),
                                         TrailingComma(line: 4, offset: 34)])
        }

        @Test func noTrailingCommasNoRecords() {
            #expect(expectValid(#"{"a":[1,2],"b":{}}"#).trailingCommas.isEmpty)
            #expect(expectValid("[]").trailingCommas.isEmpty)
        }

        @Test(arguments: [Bad("[,]", at: 1), Bad("[1,,2]", at: 3), Bad("{,}", at: 1), Bad("[1,,]", at: 3),
                          Bad(#"{"a":1,,}"#, at: 7), Bad("[1,2,,]", at: 5), Bad("[\n,\n]", at: 2, line: 2)])
        func emptyElementsAreStillErrors(_ c: Bad) { JSONTokenizerTests.check(c) }
    }

    // MARK: readValue

    @Suite struct ReadValue {
        @Test(arguments: ReadConfig.all)
        func budgetExceededThenSkipRemainderRecovers(_ config: ReadConfig) throws {
            let text = #"[{"meta": {"a": [1, 2, 3], "b": "a long string value"}, "after": 1}, 5, {"c": [true]}]"#
            let t = tokenizer(text, config)
            #expect(try t.next() == .beginArray)
            #expect(try t.next() == .beginObject)
            #expect(try readTok(t) == .key("meta"))
            let first = try t.next()
            #expect(first == .beginObject)
            #expect(t.depth == 3)
            var budget = 10
            #expect(throws: JSONTokenizer.BudgetExceeded.self) {
                _ = try t.readValue(after: first, budget: &budget)
            }
            try t.skipRemainder(toDepth: 2)
            #expect(t.depth == 2)
            #expect(try readTok(t) == .key("after"))
            #expect(try readTok(t) == .num("1"))
            #expect(try readTok(t) == .eo)
            #expect(try readTok(t) == .num("5"))
            let next = try t.next()
            var bigBudget = 100
            let v = try t.readValue(after: next, budget: &bigBudget)
            #expect(v == .object([("c", .array([.bool(true)]))]))
            #expect(try readTok(t) == .ea)
            #expect(try readTok(t) == .end)
        }

        @Test func budgetExceededInsideNestedArrays() throws {
            let t = tokenizer("[[[[1,2,3,4,5,6,7,8,9]]], \"next\"]", ReadConfig(maxPerRead: 3, blockSize: 16))
            #expect(try t.next() == .beginArray)
            let first = try t.next()
            var budget = 8
            #expect(throws: JSONTokenizer.BudgetExceeded.self) { _ = try t.readValue(after: first, budget: &budget) }
            #expect(t.depth > 1)
            try t.skipRemainder(toDepth: 1)
            #expect(try readTok(t) == .str("next"))
            #expect(try readTok(t) == .ea)
            #expect(try readTok(t) == .end)
        }

        @Test func scalarBudgetBoundary() throws {
            var exact = 5
            let t = tokenizer(#"["abc","abc"]"#)
            #expect(try t.next() == .beginArray)
            #expect(try t.readValue(after: t.next(), budget: &exact) == .string("abc"))
            #expect(exact == 0)
            var short = 4
            #expect(throws: JSONTokenizer.BudgetExceeded.self) { _ = try t.readValue(after: t.next(), budget: &short) }
        }

        /// The budget "caps the serialised size": what a value is charged must cover its
        /// `compactText`, escapes included, or a value can serialise far beyond its budget.
        @Test(arguments: [
            #"{"a":[1,2,{"b":null}],"c":"plain"}"#,
            #"{"k":"\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001"}"#,
            #"["\"\"\"\"\\\\\\\\"]"#,
            #"{"lines":"a\nb\nc\nd\ne\tf"}"#,
        ])
        func chargedBudgetCoversCompactText(_ text: String) throws {
            let t = tokenizer(text)
            let start = 1 << 20
            var budget = start
            let v = try t.readValue(after: t.next(), budget: &budget)
            let charged = start - budget
            #expect(charged >= v.compactText.utf8.count, "charged \(charged) for \(v.compactText.utf8.count) bytes: \(v.compactText)")
        }

        @Test func compactTextKeepsKeyOrderAndNumberText() throws {
            let text = """
            { "b" : 1.50 , "a" : [ 1e3 , -0 , true , false , null , 1E-7, 0.0 ] ,
              "": {}, "e": [ ], "z": {"y": {"x": "é😀"}} }
            """
            let v = try readDocument(text)
            let compact = #"{"b":1.50,"a":[1e3,-0,true,false,null,1E-7,0.0],"":{},"e":[],"z":{"y":{"x":"é😀"}}}"#
            #expect(v.compactText == compact)
            #expect(try readDocument(compact) == v)
            guard case .object(let members) = v else { Issue.record("not an object"); return }
            #expect(members.map(\.key) == ["b", "a", "", "e", "z"])
            #expect(v["b"] == .number("1.50"))
        }

        @Test func compactTextEscapesControlCharacters() throws {
            let text = #"["\u0001\u001f\b\f\n\r\t\"\\\/\u007f é", {"k\u0000":"\u0010"}]"#
            let v = try readDocument(text)
            #expect(v == .array([.string("\u{1}\u{1F}\u{8}\u{C}\n\r\t\"\\/\u{7F} é"), .object([("k\u{0}", .string("\u{10}"))])]))
            let compact = v.compactText
            #expect(compact == "[\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\u{7F} é\",{\"k\\u0000\":\"\\u0010\"}]")
            #expect(!compact.utf8.contains { $0 < 0x20 }, "no raw control characters")
            #expect(try readDocument(compact) == v)
            #expect(JSONValue.quoted("a\"b\n") == #""a\"b\n""#)
        }

        @Test func duplicateKeysAreKeptInOrder() throws {
            let v = try readDocument(#"{"a":1,"a":2}"#)
            #expect(v.compactText == #"{"a":1,"a":2}"#)
            #expect(v["a"] == .number("1"))
        }
    }

    // MARK: Seed fixtures (Encord's documented examples)

    @Suite struct SeedFixtures {
        @Test func fixturesAreFound() {
            #expect(SeedFixture.all.count >= 70)
        }

        @Test(arguments: SeedFixture.all)
        func matchesPython(_ f: SeedFixture) throws {
            switch f.expectation {
            case .strict:
                let r = expectValid(f.bytes)
                #expect(r.trailingCommas.isEmpty)
                let ours = try readDocument(f.bytes)
                let theirs = try #require(foundationParse(f.bytes))
                #expect(mismatch(theirs, ours) == nil)
            case .trailingCommas(let lines):
                let r = expectValid(f.bytes)
                #expect(r.trailingCommas.map(\.line) == lines)
                for comma in r.trailingCommas {
                    #expect(f.bytes[Int(comma.offset)] == UInt8(ascii: ","), "\(comma) points at a comma")
                }
            case .invalid(let line, let column, let offset):
                guard let e = expectFailure(f.bytes) else { return }
                #expect(e.code == .invalidJSON)
                #expect(e.issue.line == line)
                #expect(e.issue.offset == offset)
                #expect(e.issue.message.contains("line \(line), column \(column)"), "\(e.issue.message)")
            }
        }
    }

    // MARK: Differential against Foundation

    @Suite struct Differential {
        @Test func randomDocumentsMatchFoundationAndTheirOwnModel() throws {
            var gen = RandomJSON(rng: SplitMix64(seed: 0x5EED_0001))
            var splitRNG = SplitMix64(seed: 7)
            for i in 0..<500 {
                let (text, model) = gen.document()
                let bytes = Array(text.utf8)
                let ours: JSONValue
                do {
                    ours = try readDocument(bytes)
                } catch {
                    Issue.record("doc \(i) refused: \(error)\n\(text)")
                    continue
                }
                #expect(ours == model, "doc \(i): \(text)")
                guard let theirs = foundationParse(bytes) else {
                    Issue.record("doc \(i): Foundation refused \(text)")
                    continue
                }
                if let m = mismatch(theirs, ours) { Issue.record("doc \(i): \(m)\n\(text)") }
                // The compact text reads back to the same value.
                #expect(try readDocument(Array(ours.compactText.utf8)) == ours, "doc \(i)")
                // And a random split gives the same value.
                let config = ReadConfig(maxPerRead: splitRNG.int(1...9), blockSize: splitRNG.int(16...40))
                #expect(try readDocument(bytes, config) == ours, "doc \(i), \(config.testDescription)")
            }
        }
    }

    // MARK: Fuzz

    @Suite struct Fuzz {
        static let alphabet: [UInt8] = Array(#"{}[]":,0123456789-+.eE truefalsnul\/bu"#.utf8)
            + [0x0A, 0x09, 0x0D, 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xA9, 0xED, 0xEF, 0xBB, 0xF0, 0xF5, 0xFF]

        /// Runs under two very different splits: both must end the same way, errors must point
        /// inside the input, and (trailing commas aside) we accept exactly what Foundation accepts.
        @discardableResult
        static func checkTerminates(_ bytes: [UInt8], _ label: @autoclosure () -> String,
                                    sourceLocation: SourceLocation = #_sourceLocation) -> Run {
            let whole = run(bytes, .whole, sourceLocation: sourceLocation)
            let split = run(bytes, ReadConfig(maxPerRead: 3, blockSize: 16), sourceLocation: sourceLocation)
            #expect(whole == split, "\(label())", sourceLocation: sourceLocation)
            if let e = whole.error {
                if let offset = e.issue.offset {
                    #expect((0...bytes.count).contains(offset), "\(label()): \(e)", sourceLocation: sourceLocation)
                }
                if let line = e.issue.line {
                    #expect(line >= 1, sourceLocation: sourceLocation)
                }
            } else if whole.finished && whole.trailingCommas.isEmpty {
                #expect(foundationParse(bytes) != nil, "accepted but Foundation refuses: \(label())", sourceLocation: sourceLocation)
            }
            if let e = whole.error, foundationParse(bytes) != nil {
                Issue.record("Foundation accepts but we refuse with \(e): \(label())", sourceLocation: sourceLocation)
            }
            return whole
        }

        @Test func randomBytes() {
            var rng = SplitMix64(seed: 0xF022_0001)
            for i in 0..<2000 {
                let count = rng.int(0...48)
                var bytes: [UInt8] = []
                for _ in 0..<count {
                    bytes.append(rng.chance(0.75) ? rng.pick(Self.alphabet) : UInt8(rng.int(0...255)))
                }
                Self.checkTerminates(bytes, "input \(i): \(show(bytes))")
            }
        }

        @Test func mutatedManifests() throws {
            let bases = SeedFixture.all.map(\.bytes)
            try #require(!bases.isEmpty)
            var rng = SplitMix64(seed: 0xF022_0002)
            let interesting: [UInt8] = Array(#"{}[]",:\"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xED, 0xEF, 0xFF]
            var accepted = 0
            for i in 0..<2000 {
                var bytes = rng.pick(bases)
                for _ in 0..<rng.int(1...3) {
                    guard !bytes.isEmpty else { break }
                    let at = rng.int(0...(bytes.count - 1))
                    switch rng.int(0...5) {
                    case 0: bytes[at] ^= UInt8(1) << UInt8(rng.int(0...7))
                    case 1: bytes[at] = rng.pick(interesting)
                    case 2: bytes.insert(rng.chance(0.5) ? rng.pick(interesting) : UInt8(rng.int(0...255)), at: at)
                    case 3: bytes.removeSubrange(at..<min(bytes.count, at + rng.int(1...8)))
                    case 4: bytes.removeSubrange(at...)
                    default:
                        let end = min(bytes.count, at + rng.int(1...16))
                        bytes.insert(contentsOf: bytes[at..<end], at: rng.int(0...bytes.count))
                    }
                }
                if Self.checkTerminates(bytes, "mutation \(i): \(show(bytes))").finished { accepted += 1 }
            }
            // Some mutations (e.g. inside a string) leave the document valid; most do not.
            #expect(accepted > 20 && accepted < 1900, "\(accepted) of 2000 accepted")
        }
    }

    // MARK: Bounded memory

    @Suite struct BoundedMemory {
        static let blockSize = 64 * 1024
        static let maxStringBytes = 1 << 20
        /// Allocator rounding of the string scratch, not a second string.
        static let slack = 16 * 1024

        static func drain(_ t: JSONTokenizer) throws -> Int {
            var tokens = 0
            while try t.next() != .end { tokens += 1 }
            return tokens
        }

        /// Held at most one block and one string (plus allocator rounding); and the report is
        /// honest: the block is held from the first read, so the peak is at least its size.
        static func expectBounded(_ t: JSONTokenizer, _ label: String = "",
                                  sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(t.peakBufferedBytes <= blockSize + maxStringBytes + slack,
                    "\(label) peak \(t.peakBufferedBytes) = block \(blockSize) + \(t.peakBufferedBytes - blockSize)",
                    sourceLocation: sourceLocation)
            #expect(t.peakBufferedBytes >= blockSize, "\(label)", sourceLocation: sourceLocation)
        }

        @Test func fiftyMegabytesOfOpenBracketsAreRefusedEarly() throws {
            let source = PatternSource(unit: "[", count: 50_000_000)
            let t = JSONTokenizer(source: source, blockSize: Self.blockSize)
            var error: ManifestError?
            do { _ = try Self.drain(t) } catch let e as ManifestError { error = e }
            #expect(error?.code == .nestingTooDeep)
            #expect(error?.issue.offset == 64)
            #expect(t.bytesConsumed <= Int64(Self.blockSize), "stopped within the first block")
            Self.expectBounded(t)
        }

        @Test func twentyMegabyteStringIsRefused() throws {
            for unit in ["a", #"\u00e9"#, "é"] {
                let source = PatternSource(prefix: #"{"a":[""#, unit: unit, count: 20_000_000 / unit.utf8.count, suffix: #""]}"#)
                let t = JSONTokenizer(source: source, blockSize: Self.blockSize)
                var error: ManifestError?
                do { _ = try Self.drain(t) } catch let e as ManifestError { error = e }
                #expect(error?.code == .stringTooLong, "\(unit)")
                #expect(error?.issue.offset == 6)
                #expect(t.bytesConsumed < Int64(8 * Self.maxStringBytes), "\(unit): refused early")
                Self.expectBounded(t, unit)
            }
        }

        @Test func stringJustUnderTheLimitStaysBounded() throws {
            let source = PatternSource(prefix: #"[""#, unit: "ab", count: Self.maxStringBytes / 2, suffix: #""]"#)
            let t = JSONTokenizer(source: source, blockSize: Self.blockSize)
            #expect(try Self.drain(t) == 3)
            Self.expectBounded(t)
        }

        @Test func fiveMegabyteArrayIsStreamed() throws {
            let count = 2_500_000
            let source = PatternSource(prefix: "[", unit: "1,", count: count, suffix: "1]")
            let total = source.total
            let t = JSONTokenizer(source: source, blockSize: Self.blockSize)
            #expect(try t.next() == .beginArray)
            var numbers = 0
            while true {
                let tok = try t.next()
                if tok == .endArray { break }
                if tok == .number { numbers += 1 } else { Issue.record("unexpected \(tok)"); break }
            }
            #expect(try t.next() == .end)
            #expect(numbers == count + 1)
            #expect(t.bytesConsumed == Int64(total))
            Self.expectBounded(t)
            #expect(t.peakBufferedBytes <= Self.blockSize + Self.slack, "no string held: peak \(t.peakBufferedBytes)")
        }
    }
}
