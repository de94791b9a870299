/// PDF page count.
///
/// 1. A linearized file states its page count (/N) in the linearization dictionary, the first
///    object: the head is enough (unless /L disagrees with the size: then it was updated since).
/// 2. Otherwise: the tail's `startxref` → the newest cross-reference section (a classic `xref`
///    table or an `/XRef` stream, Flate with PNG predictors) and its `/Prev` chain (incremental
///    updates: the newest entry wins) → trailer `/Root` → Catalog `/Pages` → `/Count`. Objects
///    may live in object streams (`/ObjStm`). Each object outside the bytes held becomes a
///    `.needBytes` for its offset; `DocumentProbe` caps the rounds and bytes.
enum PDFProbe {
    static let tailLength: Int64 = 1 << 16
    static let objectChunk = 1 << 14
    static let maxDecoded = 4 << 20
    static let maxPages = 10_000_000

    /// Offset of `%PDF-` within the first 1024 bytes.
    static func headerOffset(_ r: DocByteReader) -> Int? {
        let magic = Array("%PDF-".utf8)
        let limit = min(r.count - magic.count, 1024 - magic.count)
        guard limit >= 0 else { return nil }
        for i in 0...limit where r.u8(at: i) == 0x25 && r.matches(magic, at: i) { return i }
        return nil
    }

    static func parse(_ data: ProbeData) -> FormatParse {
        let ranges = DocRanges(data)
        let head = DocByteReader(ranges.run(from: 0, limit: 1024))
        guard let headerAt = headerOffset(head) else { return DocRefusal.corrupt("no %PDF- header") }
        var doc = PDFDocument(ranges, headerOffset: Int64(headerAt))
        do {
            let count = try doc.pageCount()
            guard count >= 0, count <= maxPages else { return DocRefusal.corrupt("the PDF page count \(count) is absurd") }
            var info = MediaInfo()
            info.format = .pdf
            info.mimeType = "application/pdf"
            info.pageCount = count
            return .described(info)
        } catch {
            switch error {
            case .need(let offset, let length): return .needBytes(offset: offset, length: length)
            case .corrupt(let m): return DocRefusal.corrupt(m)
            case .unsupported(let m): return DocRefusal.unsupported(m)
            }
        }
    }
}

enum PDFStop: Error {
    case need(Int64, Int)
    case corrupt(String)
    case unsupported(String)
}

// MARK: - Objects and lexing

indirect enum PDFObject: Equatable {
    case int(Int64)
    case real
    case bool(Bool)
    case null
    case name(String)
    case string
    case array([PDFObject])
    case dict([String: PDFObject])
    case ref(Int, Int)
    case keyword(String)

    var dict: [String: PDFObject]? { if case .dict(let d) = self { return d } else { return nil } }
    var int: Int64? { if case .int(let v) = self { return v } else { return nil } }
    var name: String? { if case .name(let v) = self { return v } else { return nil } }
    var array: [PDFObject]? { if case .array(let v) = self { return v } else { return nil } }
}

enum PDFToken: Equatable {
    case int(Int64), real, name(String), string, arrayOpen, arrayClose, dictOpen, dictClose, keyword(String), eof
}

/// Bytes of the file (absolute offsets; a byte not held is a `.need`) or of a decoded stream.
struct PDFSource {
    var file: DocRanges?
    var buffer: [UInt8] = []
    /// When the file's size is unknown, the bytes held from 0 are taken as the whole file.
    var end: Int64

    init(file: DocRanges, end: Int64) {
        self.file = file
        self.end = end
    }

    init(buffer: [UInt8]) {
        self.buffer = buffer
        end = Int64(buffer.count)
    }

    @inline(__always) func byte(_ at: Int64) throws(PDFStop) -> UInt8? {
        guard at >= 0, at < end else { return nil }
        guard let f = file else { return buffer[Int(at)] }
        if let b = f.byte(at: at) { return b }
        throw .need(at, PDFProbe.objectChunk)
    }
}

struct PDFLexer {
    let src: PDFSource
    var pos: Int64
    let maxDepth = 32

    init(_ src: PDFSource, at pos: Int64) {
        self.src = src
        self.pos = pos
    }

    static func isWhite(_ b: UInt8) -> Bool { b == 0 || b == 9 || b == 10 || b == 12 || b == 13 || b == 32 }
    static func isDelimiter(_ b: UInt8) -> Bool {
        switch b {
        case 0x28, 0x29, 0x3C, 0x3E, 0x5B, 0x5D, 0x7B, 0x7D, 0x2F, 0x25: return true
        default: return false
        }
    }

    mutating func skipWhiteAndComments() throws(PDFStop) {
        while let b = try src.byte(pos) {
            if Self.isWhite(b) {
                pos += 1
            } else if b == 0x25 {  // % comment to end of line
                while let c = try src.byte(pos), c != 10, c != 13 { pos += 1 }
            } else {
                return
            }
        }
    }

    /// A run of regular characters (stops at white space, delimiters or the end).
    mutating func regular(limit: Int = 256) throws(PDFStop) -> [UInt8] {
        var out: [UInt8] = []
        while let b = try src.byte(pos), !Self.isWhite(b), !Self.isDelimiter(b) {
            if out.count < limit { out.append(b) }
            pos += 1
        }
        return out
    }

    mutating func next() throws(PDFStop) -> PDFToken {
        try skipWhiteAndComments()
        guard let b = try src.byte(pos) else { return .eof }
        switch b {
        case 0x5B: pos += 1; return .arrayOpen
        case 0x5D: pos += 1; return .arrayClose
        case 0x3C:
            if try src.byte(pos + 1) == 0x3C { pos += 2; return .dictOpen }
            pos += 1
            while true {  // hex string
                guard let c = try src.byte(pos) else { throw .corrupt("unterminated PDF hex string") }
                pos += 1
                if c == 0x3E { return .string }
            }
        case 0x3E:
            guard try src.byte(pos + 1) == 0x3E else { throw .corrupt("stray > in PDF") }
            pos += 2
            return .dictClose
        case 0x28:
            pos += 1
            var depth = 1
            while depth > 0 {
                guard let c = try src.byte(pos) else { throw .corrupt("unterminated PDF string") }
                pos += 1
                if c == 0x5C { pos += 1 } else if c == 0x28 { depth += 1 } else if c == 0x29 { depth -= 1 }
            }
            return .string
        case 0x2F:
            pos += 1
            return .name(Self.decodeName(try regular()))
        case 0x29, 0x7B, 0x7D:
            pos += 1
            return .keyword(String(UnicodeScalar(b)))
        default:
            let word = try regular()
            if word.isEmpty { pos += 1; return .keyword(String(UnicodeScalar(b))) }
            return Self.number(word) ?? .keyword(String(decoding: word, as: UTF8.self))
        }
    }

    static func decodeName(_ raw: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            if raw[i] == 0x23, i + 2 < raw.count, let h = hex(raw[i + 1]), let l = hex(raw[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x37
        case 0x61...0x66: return c - 0x57
        default: return nil
        }
    }

    static func number(_ w: [UInt8]) -> PDFToken? {
        var i = 0
        var negative = false
        if w.first == 0x2B || w.first == 0x2D { negative = w.first == 0x2D; i = 1 }
        var digits = 0, dots = 0
        var value: Int64 = 0
        var overflow = false
        while i < w.count {
            let c = w[i]
            if c >= 0x30, c <= 0x39 {
                digits += 1
                if dots == 0 {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
                    if o1 || o2 { overflow = true } else { value = a }
                }
            } else if c == 0x2E {
                dots += 1
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, dots <= 1 else { return nil }
        if dots == 1 || overflow { return .real }
        return .int(negative ? -value : value)
    }

    /// One object (a `R` reference read as such).
    mutating func object(depth: Int = 0) throws(PDFStop) -> PDFObject {
        guard depth < maxDepth else { throw .corrupt("PDF objects nest too deeply") }
        let t = try next()
        switch t {
        case .int(let a):
            let save = pos
            if case .int(let g) = try next(), case .keyword("R") = try next(), a >= 0, a <= Int64(Int32.max),
               g >= 0, g <= 65535 {
                return .ref(Int(a), Int(g))
            }
            pos = save
            return .int(a)
        case .real: return .real
        case .name(let n): return .name(n)
        case .string: return .string
        case .arrayOpen:
            var items: [PDFObject] = []
            while true {
                let save = pos
                if try next() == .arrayClose { return .array(items) }
                pos = save
                let item = try object(depth: depth + 1)
                if case .keyword(let k) = item, k != "true", k != "false", k != "null" {
                    throw .corrupt("unexpected \(k.prefix(16)) in a PDF array")
                }
                items.append(item)
            }
        case .dictOpen:
            var d: [String: PDFObject] = [:]
            while true {
                let key = try next()
                if key == .dictClose { return .dict(d) }
                guard case .name(let k) = key else { throw .corrupt("a PDF dictionary key is not a name") }
                let v = try object(depth: depth + 1)
                if case .keyword(let w) = v, w != "true", w != "false", w != "null" {
                    throw .corrupt("unexpected \(w.prefix(16)) in a PDF dictionary")
                }
                if d[k] == nil { d[k] = v }
            }
        case .keyword("true"): return .bool(true)
        case .keyword("false"): return .bool(false)
        case .keyword("null"): return .null
        case .keyword(let k): return .keyword(k)
        case .arrayClose, .dictClose: throw .corrupt("unbalanced PDF brackets")
        case .eof: throw .corrupt("the PDF ends inside an object")
        }
    }

    mutating func expectInt() throws(PDFStop) -> Int64 {
        guard case .int(let v) = try next() else { throw .corrupt("expected a number in the PDF structure") }
        return v
    }

    mutating func expectKeyword(_ k: String) throws(PDFStop) {
        guard try next() == .keyword(k) else { throw .corrupt("expected \(k) in the PDF structure") }
    }
}

// MARK: - Document

enum PDFXref: Equatable {
    case free
    case offset(Int64)
    case compressed(stream: Int, index: Int)
}

struct PDFIndirect {
    var value: PDFObject
    /// For a stream object: where its data starts (in the same source).
    var streamStart: Int64?
}

struct PDFDocument {
    let ranges: DocRanges
    let file: PDFSource
    let headerOffset: Int64
    let size: Int64
    var xref: [Int: PDFXref] = [:]
    var trailer: [String: PDFObject] = [:]
    var objectStreams: [Int: (buffer: [UInt8], first: Int64, offsets: [Int: Int64])] = [:]
    var resolving = 0
    var nextSection: Int64?
    var visitedSections: Set<Int64> = []

    init(_ ranges: DocRanges, headerOffset: Int64) {
        self.ranges = ranges
        self.headerOffset = headerOffset
        size = ranges.totalSize ?? ranges.heldEnd(from: 0)
        file = PDFSource(file: ranges, end: size)
    }

    mutating func pageCount() throws(PDFStop) -> Int {
        if let n = linearizedPageCount() { return n }
        try readCrossReferences()
        guard case .ref(let rootNum, _)? = trailer["Root"] else { throw .corrupt("the PDF trailer has no /Root") }
        guard let catalog = try resolve(rootNum).dict else { throw .corrupt("the PDF catalog is not a dictionary") }
        guard let pagesRef = catalog["Pages"] else { throw .corrupt("the PDF catalog has no /Pages") }
        guard let pages = try value(pagesRef).dict else { throw .corrupt("the PDF page tree is not a dictionary") }
        guard let countObject = pages["Count"], let count = try value(countObject).int else {
            throw .corrupt("the PDF page tree has no /Count")
        }
        guard count >= 0, count <= Int64(PDFProbe.maxPages) else { throw .corrupt("the PDF page count \(count) is absurd") }
        return Int(count)
    }

    /// /N of the linearization dictionary, when the file is linearized and was not updated since.
    func linearizedPageCount() -> Int? {
        do {
            var lx = PDFLexer(file, at: headerOffset + 5)
            _ = try lx.regular()  // version
            _ = try lx.expectInt()
            _ = try lx.expectInt()
            try lx.expectKeyword("obj")
            guard let d = try lx.object().dict, d["Linearized"] != nil else { return nil }
            guard let n = d["N"]?.int, n >= 0, n <= Int64(PDFProbe.maxPages) else { return nil }
            if let l = d["L"]?.int, let t = ranges.totalSize, l != t { return nil }
            return Int(n)
        } catch {
            return nil
        }
    }

    // MARK: Cross-reference sections

    mutating func readCrossReferences() throws(PDFStop) {
        // The tail must be held.
        let tailStart = max(0, size - PDFProbe.tailLength)
        let heldTo = ranges.heldEnd(from: tailStart)
        if heldTo < size {
            // Ask only for what is missing of the tail.
            var from = tailStart
            while from < size, ranges.byte(at: from) != nil { from = ranges.heldEnd(from: from) }
            throw .need(from, Int(size - from))
        }
        guard let tail = ranges.bytes(at: tailStart, count: Int(size - tailStart)) else { throw .corrupt("PDF tail unreadable") }
        let keyword = Array("startxref".utf8)
        var found: Int?
        var i = tail.count - keyword.count
        while i >= 0 {
            if tail[i] == 0x73, tail[i..<(i + keyword.count)].elementsEqual(keyword) { found = i; break }
            i -= 1
        }
        guard let at = found else { throw .corrupt("no startxref in the PDF tail") }
        var lx = PDFLexer(file, at: tailStart + Int64(at + keyword.count))
        nextSection = try lx.expectInt()
        // The newest section; older ones (/Prev) are read only when an object is not found in
        // the newer ones, so a long update history costs reads only when it matters.
        guard try loadNextSection() else { throw .corrupt("no PDF cross-reference section") }
        while trailer["Root"] == nil, try loadNextSection() {}
    }

    /// Reads the next older cross-reference section; false when there is none.
    mutating func loadNextSection() throws(PDFStop) -> Bool {
        guard let offset = nextSection, !visitedSections.contains(offset) else { return false }  // none, or a /Prev loop
        nextSection = nil
        visitedSections.insert(offset)
        guard visitedSections.count <= 64 else { throw .corrupt("too many PDF cross-reference sections") }
        let t = try readSection(at: offset)
        if visitedSections.count == 1 {
            trailer = t
        } else if trailer["Root"] == nil, let root = t["Root"] {
            trailer["Root"] = root
        }
        if trailer["Encrypt"] == nil, let e = t["Encrypt"] { trailer["Encrypt"] = e }
        // Hybrid files: the table's /XRefStm comes before /Prev.
        if let stm = t["XRefStm"]?.int, !visitedSections.contains(stm) {
            visitedSections.insert(stm)
            _ = try readSection(at: stm)
        }
        nextSection = t["Prev"]?.int
        return true
    }

    /// The cross-reference entry of object `num`, reading older sections as needed.
    mutating func entry(_ num: Int) throws(PDFStop) -> PDFXref? {
        while xref[num] == nil, try loadNextSection() {}
        return xref[num]
    }

    /// Reads the section at `offset` into `xref` (entries already known are newer and kept).
    /// Returns its trailer (or the xref stream's dictionary).
    mutating func readSection(at offset: Int64) throws(PDFStop) -> [String: PDFObject] {
        let start = try locate(offset) { lx throws(PDFStop) in
            let t = try lx.next()
            if t == .keyword("xref") { return true }
            if case .int = t, case .int = try lx.next(), try lx.next() == .keyword("obj") { return true }
            return false
        }
        var lx = PDFLexer(file, at: start)
        if try lx.next() == .keyword("xref") {
            return try readTable(&lx)
        }
        lx.pos = start
        return try readXrefStream(&lx)
    }

    /// Finds the structure at `offset`, or at `offset` + the header offset (files with bytes
    /// before `%PDF-` whose offsets count from the header).
    func locate(_ offset: Int64, _ check: (inout PDFLexer) throws(PDFStop) -> Bool) throws(PDFStop) -> Int64 {
        guard offset >= 0, offset < size else { throw .corrupt("a PDF offset points outside the file") }
        var lx = PDFLexer(file, at: offset)
        do {
            if try check(&lx) { return offset }
        } catch {
            if case .need = error { throw error }
        }
        if headerOffset > 0, offset + headerOffset < size {
            var lx2 = PDFLexer(file, at: offset + headerOffset)
            if (try? check(&lx2)) == true { return offset + headerOffset }
        }
        throw .corrupt("a PDF offset does not point at the expected structure")
    }

    mutating func readTable(_ lx: inout PDFLexer) throws(PDFStop) -> [String: PDFObject] {
        while true {
            let t = try lx.next()
            if t == .keyword("trailer") {
                guard let d = try lx.object().dict else { throw .corrupt("the PDF trailer is not a dictionary") }
                return d
            }
            guard case .int(let first) = t, first >= 0 else { throw .corrupt("malformed PDF xref table") }
            let count = try lx.expectInt()
            guard count >= 0, first <= Int64(Int32.max), count <= Int64(Int32.max) - first else {
                throw .corrupt("malformed PDF xref subsection")
            }
            var n: Int64 = 0
            while n < count {
                let off = try lx.expectInt()
                _ = try lx.expectInt()
                let kind = try lx.next()
                let num = Int(first + n)
                switch kind {
                case .keyword("n"): if xref[num] == nil { xref[num] = .offset(off) }
                case .keyword("f"): if xref[num] == nil { xref[num] = .free }
                default: throw .corrupt("malformed PDF xref entry")
                }
                n += 1
            }
        }
    }

    mutating func readXrefStream(_ lx: inout PDFLexer) throws(PDFStop) -> [String: PDFObject] {
        _ = try lx.expectInt()
        _ = try lx.expectInt()
        try lx.expectKeyword("obj")
        let obj = try indirectBody(&lx)
        guard let d = obj.value.dict, d["Type"]?.name == "XRef" else { throw .corrupt("startxref does not point at a PDF xref") }
        let data = try streamData(obj)
        guard let w = d["W"]?.array, w.count == 3 else { throw .corrupt("PDF xref stream without /W") }
        var widths: [Int] = []
        for x in w {
            guard let v = x.int, v >= 0, v <= 8 else { throw .corrupt("PDF xref stream /W is invalid") }
            widths.append(Int(v))
        }
        let rowSize = widths[0] + widths[1] + widths[2]
        guard rowSize > 0 else { throw .corrupt("PDF xref stream /W is empty") }
        var index: [Int64] = []
        if let ia = d["Index"]?.array {
            for x in ia {
                guard let v = x.int, v >= 0, v <= Int64(Int32.max) else { throw .corrupt("PDF xref stream /Index is invalid") }
                index.append(v)
            }
            guard index.count % 2 == 0 else { throw .corrupt("PDF xref stream /Index is odd") }
        } else {
            guard let size = d["Size"]?.int, size >= 0, size <= Int64(Int32.max) else { throw .corrupt("PDF xref stream without /Size") }
            index = [0, size]
        }
        let r = DocByteReader(data)
        var row = 0
        var k = 0
        outer: while k + 1 < index.count {
            let first = index[k], count = index[k + 1]
            k += 2
            var n: Int64 = 0
            while n < count {
                guard (row + 1) * rowSize <= data.count else { break outer }
                var fields = [UInt64](repeating: 0, count: 3)
                var p = row * rowSize
                for f in 0..<3 {
                    fields[f] = widths[f] == 0 ? (f == 0 ? 1 : 0) : (r.uint(at: p, width: widths[f], bigEndian: true) ?? 0)
                    p += widths[f]
                }
                let (numWide, o) = first.addingReportingOverflow(n)
                guard !o, numWide <= Int64(Int32.max) else { break outer }
                let num = Int(numWide)
                if xref[num] == nil {
                    switch fields[0] {
                    case 0: xref[num] = .free
                    case 1:
                        if fields[1] <= UInt64(Int64.max) { xref[num] = .offset(Int64(fields[1])) }
                    case 2:
                        if fields[1] <= UInt64(Int32.max), fields[2] <= UInt64(Int32.max) {
                            xref[num] = .compressed(stream: Int(fields[1]), index: Int(fields[2]))
                        }
                    default: break
                    }
                }
                row += 1
                n += 1
            }
        }
        return d
    }

    // MARK: Objects

    /// The value after `N G obj`, and where the data starts when it is a stream.
    func indirectBody(_ lx: inout PDFLexer) throws(PDFStop) -> PDFIndirect {
        let value = try lx.object()
        guard value.dict != nil else { return PDFIndirect(value: value, streamStart: nil) }
        let save = lx.pos
        if (try? lx.next()) == .keyword("stream") {
            // The data starts after CRLF or LF (a lone CR is tolerated).
            var p = lx.pos
            if try lx.src.byte(p) == 13 { p += 1 }
            if try lx.src.byte(p) == 10 { p += 1 }
            return PDFIndirect(value: value, streamStart: p)
        }
        lx.pos = save
        return PDFIndirect(value: value, streamStart: nil)
    }

    /// Resolves a value that may be a reference.
    mutating func value(_ o: PDFObject) throws(PDFStop) -> PDFObject {
        if case .ref(let n, _) = o { return try resolve(n) }
        return o
    }

    mutating func resolve(_ num: Int) throws(PDFStop) -> PDFObject {
        try resolveIndirect(num).value
    }

    mutating func resolveIndirect(_ num: Int) throws(PDFStop) -> PDFIndirect {
        resolving += 1
        defer { resolving -= 1 }
        guard resolving <= 8 else { throw .corrupt("PDF references nest too deeply") }
        switch try entry(num) {
        case .offset(let off)?:
            let start = try locate(off) { lx throws(PDFStop) in
                guard try lx.expectInt() == Int64(num) else { return false }
                _ = try lx.expectInt()
                return try lx.next() == .keyword("obj")
            }
            var lx = PDFLexer(file, at: start)
            _ = try lx.expectInt()
            _ = try lx.expectInt()
            try lx.expectKeyword("obj")
            return try indirectBody(&lx)
        case .compressed(let stream, let index)?:
            let os = try objectStream(stream)
            _ = index  // the object number is looked up instead: writers get the index wrong
            guard let off = os.offsets[num] else { throw .corrupt("PDF object \(num) is not in its object stream") }
            var lx = PDFLexer(PDFSource(buffer: os.buffer), at: os.first + off)
            return PDFIndirect(value: try lx.object(), streamStart: nil)
        case .free?, nil:
            throw .corrupt("PDF object \(num) is missing")
        }
    }

    mutating func objectStream(_ num: Int) throws(PDFStop) -> (buffer: [UInt8], first: Int64, offsets: [Int: Int64]) {
        if let os = objectStreams[num] { return os }
        guard case .offset = try entry(num) else { throw .corrupt("PDF object stream \(num) is missing") }
        let obj = try resolveIndirect(num)
        guard let d = obj.value.dict, d["Type"]?.name == "ObjStm" else { throw .corrupt("PDF object \(num) is not an object stream") }
        guard let n = try value(d["N"] ?? .null).int, n >= 0, let first = try value(d["First"] ?? .null).int, first >= 0 else {
            throw .corrupt("PDF object stream without /N or /First")
        }
        // Object streams of an encrypted file are encrypted: without the key they are noise.
        guard trailer["Encrypt"] == nil else { throw .unsupported("encrypted PDF with compressed objects") }
        let data = try streamData(obj)
        guard first <= Int64(data.count) else { throw .corrupt("PDF object stream /First is past its data") }
        var offsets: [Int: Int64] = [:]
        var lx = PDFLexer(PDFSource(buffer: data), at: 0)
        var i: Int64 = 0
        while i < n, lx.pos < first {
            guard case .int(let objNum) = try lx.next(), case .int(let off) = try lx.next() else { break }
            if objNum >= 0, objNum <= Int64(Int32.max), off >= 0, off < Int64(data.count) - first,
               offsets[Int(objNum)] == nil {
                offsets[Int(objNum)] = off
            }
            i += 1
        }
        let os = (data, first, offsets)
        objectStreams[num] = os
        return os
    }

    /// A stream's data, decoded (FlateDecode with predictors, or no filter).
    mutating func streamData(_ obj: PDFIndirect) throws(PDFStop) -> [UInt8] {
        guard let d = obj.value.dict, let start = obj.streamStart else { throw .corrupt("expected a PDF stream") }
        var length: Int64? = nil
        if let l = d["Length"] {
            length = try value(l).int
        }
        let len: Int64
        if let l = length, l >= 0, l <= Int64(DocLimits.maxBytes) {
            len = l
        } else if length != nil {
            throw .corrupt("PDF stream /Length is invalid or too large")
        } else {
            len = try findEndstream(from: start)
        }
        guard start + len <= size else { throw .corrupt("a PDF stream runs past the end of the file") }
        guard let raw = ranges.bytes(at: start, count: Int(len)) else {
            var from = start
            while ranges.byte(at: from) != nil { from = ranges.heldEnd(from: from) }
            throw .need(from, Int(start + len - from))
        }
        var filters: [String] = []
        switch d["Filter"] {
        case .name(let n)?: filters = [n]
        case .array(let a)?: filters = a.compactMap(\.name)
        default: break
        }
        var parms: [String: PDFObject] = [:]
        switch d["DecodeParms"] {
        case .dict(let p)?: parms = p
        case .array(let a)?: parms = a.first?.dict ?? [:]
        default: break
        }
        guard filters.count <= 1 else { throw .corrupt("chained PDF stream filters are not supported") }
        guard let filter = filters.first else { return raw }
        guard filter == "FlateDecode" || filter == "Fl" else { throw .corrupt("PDF stream filter \(filter.prefix(32)) is not supported") }
        var decoded: [UInt8]
        do {
            decoded = try InflateDecoder.zlibDecompress(raw[...], maxOutput: PDFProbe.maxDecoded, verifyChecksum: false).output
        } catch {
            // Some writers omit the zlib header.
            guard let r = try? InflateDecoder.inflate(raw[...], maxOutput: PDFProbe.maxDecoded) else {
                throw .corrupt("a PDF Flate stream is malformed")
            }
            decoded = r.output
        }
        return try unpredict(decoded, parms)
    }

    /// Without a usable /Length: the data ends before `endstream`.
    func findEndstream(from start: Int64) throws(PDFStop) -> Int64 {
        let keyword = Array("endstream".utf8)
        var p = start
        let limit = min(size, start + Int64(DocLimits.maxBytes))
        while p < limit {
            guard let b = try file.byte(p) else { break }
            if b == 0x65 {
                var match = true
                for (k, c) in keyword.enumerated() where try file.byte(p + Int64(k)) != c { match = false; break }
                if match {
                    var end = p
                    if end > start, try file.byte(end - 1) == 10 { end -= 1 }
                    if end > start, try file.byte(end - 1) == 13 { end -= 1 }
                    return end - start
                }
            }
            p += 1
        }
        throw .corrupt("a PDF stream has no endstream")
    }

    /// PNG (10–15) and TIFF (2) predictors.
    func unpredict(_ data: [UInt8], _ parms: [String: PDFObject]) throws(PDFStop) -> [UInt8] {
        let predictor = parms["Predictor"]?.int ?? 1
        if predictor <= 1 { return data }
        let colors = parms["Colors"]?.int ?? 1
        let bpc = parms["BitsPerComponent"]?.int ?? 8
        let columns = parms["Columns"]?.int ?? 1
        guard (1...32).contains(colors), [1, 2, 4, 8, 16].contains(bpc), (1...(1 << 20)).contains(columns) else {
            throw .corrupt("PDF predictor parameters are invalid")
        }
        let bpp = max(1, Int(colors * bpc) / 8)
        let rowLen = Int((columns * colors * bpc + 7) / 8)
        if predictor == 2 {
            guard rowLen <= data.count else { return data }
            guard bpc == 8 else { throw .corrupt("PDF TIFF predictor with \(bpc) bits is not supported") }
            var out = data
            var rowStart = 0
            while rowStart + rowLen <= out.count {
                for i in bpp..<max(bpp, rowLen) { out[rowStart + i] &+= out[rowStart + i - bpp] }
                rowStart += rowLen
            }
            return out
        }
        guard predictor >= 10, predictor <= 15 else { throw .corrupt("PDF predictor \(predictor) is not supported") }
        guard rowLen < data.count else { return [] }  // not even one row (and no row buffer sized by /Columns)
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var prev = [UInt8](repeating: 0, count: rowLen)
        var cur = [UInt8](repeating: 0, count: rowLen)
        var p = 0
        while p + 1 + rowLen <= data.count {
            let type = data[p]
            for i in 0..<rowLen {
                let x = data[p + 1 + i]
                let a = i >= bpp ? cur[i - bpp] : 0
                let b = prev[i]
                let c = i >= bpp ? prev[i - bpp] : 0
                switch type {
                case 0: cur[i] = x
                case 1: cur[i] = x &+ a
                case 2: cur[i] = x &+ b
                case 3: cur[i] = x &+ UInt8((Int(a) + Int(b)) / 2)
                case 4:
                    let pa = abs(Int(b) - Int(c)), pb = abs(Int(a) - Int(c)), pc = abs(Int(a) + Int(b) - 2 * Int(c))
                    cur[i] = x &+ (pa <= pb && pa <= pc ? a : (pb <= pc ? b : c))
                default: throw .corrupt("PDF PNG predictor row type \(type) is invalid")
                }
            }
            out.append(contentsOf: cur)
            swap(&prev, &cur)
            p += 1 + rowLen
        }
        return out
    }
}
