/// One CSV record: its fields and the 1-based line on which it starts.
public struct CSVRow: Sendable, Equatable {
    /// The fields, decoded from UTF-8. A blank line is one empty field, `[""]`.
    public var fields: [String]
    /// 1-based physical line on which the record starts.
    public var line: Int
    /// 1-based physical line on which it ends; later than `line` only when a quoted field holds a
    /// line break.
    public var lastLine: Int

    public init(fields: [String], line: Int, lastLine: Int) {
        self.fields = fields
        self.line = line
        self.lastLine = lastLine
    }
}

/// A streaming RFC 4180 reader: pulls the source in fixed blocks into one reusable buffer and
/// hands out one record at a time, so memory stays bounded by `blockSize + maxLineBytes` however
/// large the file is.
///
/// - Separator `,`; a record ends at LF, CRLF or a lone CR; the last record needs no line end.
/// - A UTF-8 byte order mark at the very start is skipped.
/// - `"…"` quotes a field, which may then hold commas and line breaks; `""` inside is one quote.
/// - A blank line is returned as `fields == [""]`, not skipped: the caller decides what blank
///   rows mean (and can warn about them with the right line number).
/// - Lenient like Excel: a quote inside an unquoted field (`ab"c`) is kept literally. Strict
///   where leniency would hide a broken file: text after a closing quote (`"ab"c`) and a quote
///   never closed are `invalidCSV` errors.
/// - NUL and other control characters are kept; judging field content is the caller's job.
/// - Line numbers count physical lines: each LF, and each CR not followed by LF.
///
/// Every error is a `ManifestError`; its `item` is `line N`, the line the record starts on.
/// After one, the reader is spent and `next()` throws the same error again.
public struct CSVRowReader {
    private var source: any ByteSource
    private let maxLineBytes: Int
    private let maxTotalBytes: Int64
    private var block: [UInt8]
    private var pos = 0, end = 0          // unread bytes are block[pos..<end]
    private var base = 0                  // absolute offset of block[0]
    private var line = 1                  // physical line at `pos`
    private var atStart = true, afterCR = false, sourceDone = false
    private var field: [UInt8] = []       // scratch for the field being read, reused
    private var fieldCountHint = 0
    private var failure: ManifestError?

    /// Absolute bytes consumed so far: the offset just past the last record returned.
    public var bytesRead: Int64 { Int64(base + pos) }
    /// Most bytes the reader has held in its own buffers at once (for bounded-memory tests): the
    /// block plus the record being assembled, counted by content rather than array capacity.
    public private(set) var peakBufferedBytes: Int

    public init(source: some ByteSource, maxLineBytes: Int = 256 * 1024, maxTotalBytes: Int64 = .max,
                blockSize: Int = 1 << 20) {
        self.source = source
        // Clamped so that offset arithmetic with it can never overflow.
        self.maxLineBytes = max(0, min(maxLineBytes, Int.max / 4))
        self.maxTotalBytes = maxTotalBytes
        // At least 4 bytes, so that the 3-byte BOM always fits in the block.
        block = [UInt8](repeating: 0, count: max(4, blockSize))
        peakBufferedBytes = block.count
    }

    /// Next record, or nil at end of input. Throws ManifestError for malformed input.
    public mutating func next() throws -> CSVRow? {
        if let failure { throw failure }
        // The block is moved out of `self` while it is scanned, so the scanning code can update
        // the other properties without overlapping access to `self`.
        var block: [UInt8] = []
        swap(&block, &self.block)
        defer { swap(&block, &self.block) }
        do {
            return try block.withUnsafeMutableBufferPointer { try readRow($0) }
        } catch let error as ManifestError {
            failure = error
            throw error
        }
    }

    private static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""),
                       lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    private mutating func readRow(_ p: UnsafeMutableBufferPointer<UInt8>) throws -> CSVRow? {
        let comma = Self.comma, quote = Self.quote, lf = Self.lf, cr = Self.cr
        if atStart {
            atStart = false
            while end < 3, try refill(p) {}
            if end >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { pos = 3 }
        }
        if pos == end, try !refill(p) { return nil }
        if afterCR {  // the CR of a CRLF ended the last block; its LF is not a new line
            afterCR = false
            if p[pos] == lf { pos += 1; if pos == end, try !refill(p) { return nil } }
        }
        let recordLine = line, recordStart = base + pos
        var fields: [String] = []
        fields.reserveCapacity(fieldCountHint)
        var rowBytes = 0
        while true {  // one field per pass
            let column = fields.count + 1
            var ascii: UInt8 = 0  // OR of the field's bytes: ASCII fields need no UTF-8 check
            field.removeAll(keepingCapacity: true)
            if pos == end { _ = try refill(p) }
            let quoted = pos < end && p[pos] == quote
            if quoted { pos += 1 }
            let contentStart = base + pos
            if quoted {
                let openLine = line
                var prevCR = false  // a CRLF inside quotes is one line break
                while true {
                    if pos == end, try !refill(p) {
                        throw ManifestError(.invalidCSV, item: "line \(recordLine)", field: "column \(column)",
                                            "the quoted field in column \(column), opened on line \(openLine), is never closed",
                                            line: openLine, offset: contentStart - 1)
                    }
                    var i = pos
                    while i < end {
                        let b = p[i]
                        if b == quote { break }
                        ascii |= b
                        if b == cr || (b == lf && !prevCR) { line += 1 }
                        prevCR = b == cr
                        i += 1
                    }
                    try take(p, upTo: i, recordStart: recordStart, recordLine: recordLine, rowBytes: rowBytes)
                    guard i < end else { continue }
                    pos += 1  // past a quote: the closing one, or the first of a `""` pair
                    prevCR = false
                    if pos == end, try !refill(p) { break }
                    guard p[pos] == quote else { break }
                    field.append(quote)
                    pos += 1
                }
                if pos < end, p[pos] != comma, p[pos] != lf, p[pos] != cr {
                    let b = p[pos]
                    let found = b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
                    throw ManifestError(.invalidCSV, item: "line \(recordLine)", field: "column \(column)",
                                        "column \(column): found \(found) after the closing quote; a quote inside a quoted field must be doubled",
                                        line: line, offset: base + pos)
                }
            } else {
                while true {
                    var i = pos
                    // Every delimiter is <= ',', so most bytes cost one comparison.
                    while i < end {
                        let b = p[i]
                        if b <= comma, b == comma || b == lf || b == cr { break }
                        ascii |= b
                        i += 1
                    }
                    try take(p, upTo: i, recordStart: recordStart, recordLine: recordLine, rowBytes: rowBytes)
                    if i < end { break }
                    if try !refill(p) { break }
                }
            }
            fields.append(try decodeField(column: column, contentStart: contentStart, quoted: quoted,
                                          ascii: ascii, recordLine: recordLine))
            rowBytes += field.count
            // `pos` is now at a separator, a line end, or the end of input.
            let lastLine = line
            if pos < end {
                let b = p[pos]
                pos += 1
                if b == comma { continue }
                line += 1
                if b == cr { if pos == end { afterCR = true } else if p[pos] == lf { pos += 1 } }
            }
            fieldCountHint = fields.count
            return CSVRow(fields: fields, line: recordLine, lastLine: lastLine)
        }
    }

    /// Appends `block[pos..<i]` to the field in one copy, after checking that the record still
    /// fits in `maxLineBytes`: an over-long record is refused before its bytes are buffered, so
    /// the scratch field never outgrows the limit.
    private mutating func take(_ p: UnsafeMutableBufferPointer<UInt8>, upTo i: Int, recordStart: Int,
                               recordLine: Int, rowBytes: Int) throws {
        if base + i - recordStart > maxLineBytes {
            throw ManifestError(.csvLineTooLong, item: "line \(recordLine)",
                                "the record is longer than \(maxLineBytes) bytes", line: recordLine, offset: recordStart)
        }
        if i > pos { field.append(contentsOf: UnsafeBufferPointer(rebasing: p[pos..<i])) }
        pos = i
        peakBufferedBytes = max(peakBufferedBytes, p.count + field.count + rowBytes)
    }

    private func decodeField(column: Int, contentStart: Int, quoted: Bool, ascii: UInt8,
                             recordLine: Int) throws -> String {
        let text = String(decoding: field, as: UTF8.self)  // repairs invalid UTF-8, hence the check
        if ascii < 0x80 || text.utf8.elementsEqual(field) { return text }
        var bad = 0, decoder = UTF8(), bytes = field.makeIterator()
        while case .scalarValue(let s) = decoder.decode(&bytes) { bad += UTF8.width(s) }
        guard bad < field.count else { return text }  // unreachable: the bytes were not valid
        // Each `""` in a quoted field was one byte in `field` but two in the file.
        let offset = contentStart + bad + (quoted ? field[..<bad].lazy.filter { $0 == Self.quote }.count : 0)
        throw ManifestError(.invalidUTF8, item: "line \(recordLine)", field: "column \(column)",
                            "column \(column) is not valid UTF-8 (bad byte 0x\(String(field[bad], radix: 16)) at byte offset \(offset))",
                            line: recordLine, offset: offset)
    }

    /// Reads more of the source into the block after `end`, first rewinding the block when it
    /// has all been consumed. False at end of input.
    private mutating func refill(_ p: UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        if pos == end { base += end; pos = 0; end = 0 }
        guard !sourceDone, end < p.count else { return false }
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: p[end...])))
        } catch let error as ManifestError {
            throw error
        } catch {
            throw ManifestError(.readFailed, "could not read the input: \(error)", offset: base + end)
        }
        guard n > 0 else { sourceDone = true; return false }  // never read past the end again
        end += min(n, p.count - end)
        if Int64(base + end) > maxTotalBytes {
            throw ManifestError(.fileTooLarge, "the input is larger than the \(maxTotalBytes)-byte limit")
        }
        return true
    }
}
