import RegistrarCore
import Testing

// MARK: - Helpers

/// Reads every record of `bytes`, handing them out `maxPerRead` bytes at a time.
private func readAll(_ bytes: [UInt8], maxPerRead: Int = .max, blockSize: Int = 1 << 20,
                     maxLineBytes: Int = 256 * 1024, maxTotalBytes: Int64 = .max) throws -> [CSVRow] {
    var reader = CSVRowReader(source: MemoryByteSource(bytes, maxPerRead: maxPerRead), maxLineBytes: maxLineBytes,
                              maxTotalBytes: maxTotalBytes, blockSize: blockSize)
    var rows: [CSVRow] = []
    while let row = try reader.next() { rows.append(row) }
    #expect(try reader.next() == nil, "stays at end of input")
    return rows
}

private func readAll(_ text: String, maxPerRead: Int = .max, blockSize: Int = 1 << 20,
                     maxLineBytes: Int = 256 * 1024) throws -> [CSVRow] {
    try readAll(Array(text.utf8), maxPerRead: maxPerRead, blockSize: blockSize, maxLineBytes: maxLineBytes)
}

/// The rows' fields only, for tests that do not care about line numbers.
private func fields(_ text: String, maxPerRead: Int = .max) throws -> [[String]] {
    try readAll(text, maxPerRead: maxPerRead).map(\.fields)
}

/// The error reading `bytes` fails with; records a failure if it reads cleanly. Every piece size
/// must fail the same way, so the error cannot depend on where the reads split the input.
private func readError(_ bytes: [UInt8], maxLineBytes: Int = 256 * 1024, maxTotalBytes: Int64 = .max,
                       sourceLocation: SourceLocation = #_sourceLocation) -> ManifestError? {
    var first: ManifestError?
    for (maxPerRead, blockSize) in [(Int.max, 1 << 20), (1, 4), (3, 5), (7, 16)] {
        do {
            let rows = try readAll(bytes, maxPerRead: maxPerRead, blockSize: blockSize,
                                   maxLineBytes: maxLineBytes, maxTotalBytes: maxTotalBytes)
            Issue.record("expected an error, read \(rows.count) rows", sourceLocation: sourceLocation)
            return nil
        } catch let error as ManifestError {
            if let first {
                #expect(error == first, "maxPerRead \(maxPerRead)", sourceLocation: sourceLocation)
            } else {
                first = error
            }
        } catch {
            Issue.record("not a ManifestError: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
    return first
}

private func readError(_ text: String, maxLineBytes: Int = 256 * 1024,
                       sourceLocation: SourceLocation = #_sourceLocation) -> ManifestError? {
    readError(Array(text.utf8), maxLineBytes: maxLineBytes, sourceLocation: sourceLocation)
}


/// A ByteSource whose reads fail, as a file on a dying disk would.
private struct FailingSource: ByteSource {
    struct Fault: Error {}
    var goodBytes: [UInt8]
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !goodBytes.isEmpty else { throw Fault() }
        let n = min(buffer.count, goodBytes.count)
        buffer.copyBytes(from: goodBytes[..<n])
        goodBytes.removeFirst(n)
        return n
    }
}

// MARK: - Records, line ends, BOM

@Test func readsSimpleRows() throws {
    let rows = try readAll("url,title\nhttps://a/1.jpg,One\nhttps://a/2.jpg,Two\n")
    #expect(rows == [
        CSVRow(fields: ["url", "title"], line: 1, lastLine: 1),
        CSVRow(fields: ["https://a/1.jpg", "One"], line: 2, lastLine: 2),
        CSVRow(fields: ["https://a/2.jpg", "Two"], line: 3, lastLine: 3),
    ])
}

@Test func emptyFieldsAreKept() throws {
    #expect(try fields("a,,c\n,\n,x,\n") == [["a", "", "c"], ["", ""], ["", "x", ""]])
}

@Test(arguments: ["\n", "\r\n", "\r"])
func everyLineEndEndsARecord(lineEnd: String) throws {
    let rows = try readAll("a,b" + lineEnd + "c,d" + lineEnd)
    #expect(rows == [CSVRow(fields: ["a", "b"], line: 1, lastLine: 1),
                     CSVRow(fields: ["c", "d"], line: 2, lastLine: 2)])
}

@Test func mixedLineEndsCountPhysicalLines() throws {
    for maxPerRead in [Int.max, 1, 2, 3] {
        let rows = try readAll("a\r\nb\rc\nd\n\re", maxPerRead: maxPerRead)
        #expect(rows.map(\.fields) == [["a"], ["b"], ["c"], ["d"], [""], ["e"]])
        #expect(rows.map(\.line) == [1, 2, 3, 4, 5, 6])
    }
}

@Test func finalRecordWithoutLineEnd() throws {
    #expect(try readAll("a,b\nc,d") == [CSVRow(fields: ["a", "b"], line: 1, lastLine: 1),
                                         CSVRow(fields: ["c", "d"], line: 2, lastLine: 2)])
    #expect(try fields("a,") == [["a", ""]])
    #expect(try fields("\"x\"") == [["x"]])
    #expect(try fields("\"\"") == [[""]])
}

@Test func emptyInputHasNoRecords() throws {
    var reader = CSVRowReader(source: MemoryByteSource(""))
    #expect(try reader.next() == nil)
    #expect(try reader.next() == nil)
    #expect(reader.bytesRead == 0)
    #expect(try readAll([0xEF, 0xBB, 0xBF]).isEmpty, "a BOM alone is empty too")
}

@Test func blankLinesAreOneEmptyField() throws {
    let rows = try readAll("a\n\nb\r\n\r\n\rc\n\n")
    #expect(rows.map(\.fields) == [["a"], [""], ["b"], [""], [""], ["c"], [""]])
    #expect(rows.map(\.line) == [1, 2, 3, 4, 5, 6, 7])
}

@Test func leadingBOMIsSkipped() throws {
    for maxPerRead in [Int.max, 1, 2] {
        let rows = try readAll("\u{FEFF}url,title\nx,y\n", maxPerRead: maxPerRead)
        #expect(rows.map(\.fields) == [["url", "title"], ["x", "y"]])
        #expect(rows.first?.line == 1)
    }
    // Only at the very start: anywhere else it is content.
    #expect(try fields("a\n\u{FEFF}b") == [["a"], ["\u{FEFF}b"]])
    #expect(try fields("\u{FEFF}\u{FEFF}a") == [["\u{FEFF}a"]])
    // A prefix of a BOM is ordinary bytes (here invalid UTF-8).
    #expect(readError([0xEF, 0xBB, 0x41])?.code == .invalidUTF8)
}

// MARK: - Quoting

@Test func quotedFieldsHoldSeparatorsQuotesAndLineBreaks() throws {
    let text = "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\"\"\n\"cr\r\nlf\",plain\n"
    for maxPerRead in [Int.max, 1, 3, 7] {
        let rows = try readAll(text, maxPerRead: maxPerRead)
        #expect(rows == [
            CSVRow(fields: ["a,b", "say \"hi\"", "two\nlines", "\""], line: 1, lastLine: 2),
            CSVRow(fields: ["cr\r\nlf", "plain"], line: 3, lastLine: 4),
        ])
    }
}

@Test func multiLineRecordsReportFirstAndLastLine() throws {
    let rows = try readAll("h\n\"1\n2\n3\",\"\r\r\"\nnext\n\"x\ny\"")
    #expect(rows == [
        CSVRow(fields: ["h"], line: 1, lastLine: 1),
        CSVRow(fields: ["1\n2\n3", "\r\r"], line: 2, lastLine: 6),
        CSVRow(fields: ["next"], line: 7, lastLine: 7),
        CSVRow(fields: ["x\ny"], line: 8, lastLine: 9),
    ])
}

@Test func quoteInsideUnquotedFieldIsLiteral() throws {
    #expect(try fields("ab\"c,d\"\"e\n5\" screen,x\"") == [["ab\"c", "d\"\"e"], ["5\" screen", "x\""]])
    #expect(try fields(" \"a\" ,b") == [[" \"a\" ", "b"]], "a field starting with a space is not quoted")
}

@Test func controlCharactersAreKept() throws {
    #expect(try fields("a\u{0}b,\t\u{1}\u{7F}\n\"\u{0}\"") == [["a\u{0}b", "\t\u{1}\u{7F}"], ["\u{0}"]])
}

@Test func unicodeFieldsDecode() throws {
    for maxPerRead in [Int.max, 1, 2, 3] {
        #expect(try fields("é,日本語,\"🎉,👩‍👩‍👧\"\n", maxPerRead: maxPerRead) == [["é", "日本語", "🎉,👩‍👩‍👧"]])
    }
}

// MARK: - Errors

@Test func textAfterClosingQuoteIsAnError() throws {
    let error = try #require(readError("ok,row\nx,\"ab\"c,d\n"))
    #expect(error.code == .invalidCSV)
    #expect(error.issue.item == "line 2")
    #expect(error.issue.field == "column 2")
    #expect(error.issue.offset == 13)
    #expect(error.issue.message.contains("column 2"))
    #expect(error.issue.message.contains("'c'"))
    // A space counts as text too, and non-printable bytes are named in hex.
    #expect(readError("\"a\" ,b")?.issue.field == "column 1")
    #expect(try #require(readError("\"a\"\u{1}")).issue.message.contains("0x1"))
}

@Test func unterminatedQuoteNamesTheLineItOpened() throws {
    let error = try #require(readError("a\nb,\"open\nmore\n"))
    #expect(error.code == .invalidCSV)
    #expect(error.issue.item == "line 2")
    #expect(error.issue.line == 2)
    #expect(error.issue.field == "column 2")
    #expect(error.issue.offset == 4)
    #expect(error.issue.message.contains("line 2"))
    // The record starts on line 1; the unclosed field opens on line 2.
    let later = try #require(readError("\"x\ny\",\"open"))
    #expect(later.issue.item == "line 1")
    #expect(later.issue.line == 2)
    #expect(later.issue.message.contains("line 2"))
    #expect(readError("\"")?.code == .invalidCSV)
    #expect(readError("\"\"\"")?.code == .invalidCSV, "an escaped quote does not close the field")
}

@Test func invalidUTF8ReportsColumnAndByteOffset() throws {
    let bytes = Array("ok\nab,c".utf8) + [0xFF] + Array("d\n".utf8)
    let error = try #require(readError(bytes))
    #expect(error.code == .invalidUTF8)
    #expect(error.issue.item == "line 2")
    #expect(error.issue.field == "column 2")
    #expect(error.issue.offset == 7)
    #expect(error.issue.message.contains("7"))
    // In a quoted field each `""` is two bytes in the file but one in the field.
    let quoted = Array("\"a\"\"".utf8) + [0xFF] + Array("\"".utf8)
    #expect(readError(quoted)?.issue.offset == 4)
    // A multi-byte sequence cut short by the separator, an overlong encoding, a surrogate.
    #expect(readError([0x61, 0xC3, 0x2C, 0x62])?.issue.offset == 1)
    #expect(readError([0xC0, 0xAF])?.issue.offset == 0)
    #expect(readError([0x7A, 0xED, 0xA0, 0x80])?.issue.offset == 1)
    #expect(readError([0x7A, 0x2C, 0xF0, 0x9F, 0x98])?.issue.offset == 2)
}

@Test func readFaultsBecomeReadFailed() throws {
    var reader = CSVRowReader(source: FailingSource(goodBytes: Array("a,b\nc".utf8)), blockSize: 4)
    #expect(try reader.next()?.fields == ["a", "b"])
    let error = try #require(throws: ManifestError.self) { try reader.next() }
    #expect(error.code == .readFailed)
}

@Test func readerIsSpentAfterAnError() throws {
    var reader = CSVRowReader(source: MemoryByteSource("\"a\"b\nfine\n"))
    let first = try #require(throws: ManifestError.self) { try reader.next() }
    let second = try #require(throws: ManifestError.self) { try reader.next() }
    #expect(first == second)
}

// MARK: - Limits

@Test func recordsLongerThanTheLimitAreRefused() throws {
    // Exactly at the limit is fine, for unquoted and quoted records alike.
    let exact = String(repeating: "a", count: 10) + "\n" + "\"" + String(repeating: "b", count: 8) + "\"\n"
    for maxPerRead in [Int.max, 1, 3] {
        #expect(try readAll(exact, maxPerRead: maxPerRead, blockSize: 4, maxLineBytes: 10).count == 2)
    }
    let long = try #require(readError("ok\n" + String(repeating: "a", count: 11) + "\n", maxLineBytes: 10))
    #expect(long.code == .csvLineTooLong)
    #expect(long.issue.item == "line 2")
    #expect(long.issue.offset == 3)
    #expect(readError("a,b\n\"" + String(repeating: "x,\n", count: 5) + "\"\n", maxLineBytes: 10)?.issue.item == "line 2")
    #expect(readError(String(repeating: ",", count: 20), maxLineBytes: 10)?.code == .csvLineTooLong)
    #expect(readError("\"" + String(repeating: "\"\"", count: 20) + "\"", maxLineBytes: 10)?.code == .csvLineTooLong)
}

@Test func hugeLineIsRefusedWithBoundedMemory() throws {
    let maxLineBytes = 1000, blockSize = 4096
    for (open, maxPerRead) in [("", Int.max), ("\"", Int.max), ("", 7), ("\"", 1)] {
        let huge = Array(open.utf8) + [UInt8](repeating: UInt8(ascii: "z"), count: 8 << 20)
        var reader = CSVRowReader(source: MemoryByteSource(huge, maxPerRead: maxPerRead),
                                  maxLineBytes: maxLineBytes, blockSize: blockSize)
        let error = try #require(throws: ManifestError.self) { try reader.next() }
        #expect(error.code == .csvLineTooLong)
        #expect(reader.peakBufferedBytes <= maxLineBytes + blockSize)
    }
    // Many lines within the limit: memory is bounded by the longest record, not the file.
    let many = [UInt8](String(repeating: "https://a/b.jpg,title\n", count: 20_000).utf8)
    var reader = CSVRowReader(source: MemoryByteSource(many), maxLineBytes: maxLineBytes, blockSize: blockSize)
    var count = 0
    while try reader.next() != nil { count += 1 }
    #expect(count == 20_000)
    #expect(reader.bytesRead == Int64(many.count))
    #expect(reader.peakBufferedBytes <= blockSize + 64)
}

@Test func inputLargerThanTheTotalLimitIsRefused() throws {
    let text = Array(String(repeating: "x,y\n", count: 100).utf8)
    #expect(try readAll(text, maxTotalBytes: 400).count == 100)
    let error = try #require(readError(text, maxTotalBytes: 399))
    #expect(error.code == .fileTooLarge)
}

@Test func bytesReadTracksConsumedRecords() throws {
    var reader = CSVRowReader(source: MemoryByteSource("\u{FEFF}ab,c\r\nd\n", maxPerRead: 2), blockSize: 4)
    #expect(try reader.next()?.fields == ["ab", "c"])
    #expect(reader.bytesRead >= 8)
    #expect(try reader.next()?.fields == ["d"])
    #expect(reader.bytesRead == 11)
}

// MARK: - Block boundaries, round trips, fuzzing

@Test func splitReadsAndSmallBlocksGiveTheSameRecords() throws {
    let samples = [
        "a,b,c\n1,22,333\r\n\"q,\"\"x\"\"\",\"multi\r\nline\"\r\r\n\u{FEFF}é,🎉\n,\n\"\"",
        "\u{FEFF}\"\"\"\",\"\r\",\"\n\",x\"y\n\n\n",
        String(repeating: "field,\"quoted \"\" field\",", count: 40) + "end",
    ]
    for text in samples {
        let expected = try readAll(text)
        for maxPerRead in [1, 2, 3, 7, 13] {
            for blockSize in [4, 5, 7, 64] {
                #expect(try readAll(text, maxPerRead: maxPerRead, blockSize: blockSize) == expected,
                        "maxPerRead \(maxPerRead), blockSize \(blockSize)")
            }
        }
    }
}

@Test func randomRecordsRoundTrip() throws {
    let pieces = ["a", "b", "xyz", "0", " ", ",", "\"", "\"\"", "\n", "\r", "\r\n", "\t", "\u{0}",
                  "é", "日本", "🎉", "👩‍👩‍👧", "\u{FEFF}", "https://x/y?a=1&b=2"]
    var rng = SplitMix64(seed: 0xC5F_2024)
    for caseNumber in 0..<300 {
        // Random records, written with correct quoting and a random line end after each.
        var records: [[String]] = []
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            records.append((0..<Int.random(in: 1...6, using: &rng)).map { _ in
                (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            })
        }
        var text: [UInt8] = Bool.random(using: &rng) ? [0xEF, 0xBB, 0xBF] : []
        var expected: [CSVRow] = []
        var line = 1, previousEnd = ""
        for (index, record) in records.enumerated() {
            let isLast = index == records.count - 1
            let lineEnd = isLast && Bool.random(using: &rng) ? "" : ["\n", "\r\n", "\r"].randomElement(using: &rng)!
            let encoded = record.enumerated().map { column, field in
                let special = field.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
                // A lone empty field needs quotes when a blank line would be misread: after a
                // CR (CR LF is one line end), or as the last record without a line end.
                let blankNeedsQuotes = record == [""] && (previousEnd == "\r" || lineEnd.isEmpty)
                // A BOM at the very start of the text would be skipped; quoting keeps it.
                let leadingBOM = text.isEmpty && column == 0 && field.hasPrefix("\u{FEFF}")
                guard special || blankNeedsQuotes || leadingBOM || Int.random(in: 0..<4, using: &rng) == 0 else {
                    return field
                }
                return "\"" + field.replacingQuotes() + "\""
            }.joined(separator: ",")
            let lastLine = line + physicalLineBreaks(encoded)
            expected.append(CSVRow(fields: record, line: line, lastLine: lastLine))
            line = lastLine + (lineEnd.isEmpty ? 0 : 1)
            text += Array((encoded + lineEnd).utf8)
            previousEnd = lineEnd
        }
        let maxPerRead = [Int.max, 1, 2, 3, 5, 7, Int.random(in: 1...64, using: &rng)].randomElement(using: &rng)!
        let blockSize = [4, 5, 7, 16, 1 << 20].randomElement(using: &rng)!
        let rows = try readAll(text, maxPerRead: maxPerRead, blockSize: blockSize)
        #expect(rows == expected, "case \(caseNumber): maxPerRead \(maxPerRead), blockSize \(blockSize)")
    }
}

@Test func randomAndMutatedInputAlwaysTerminates() throws {
    let seedCSV = Array("\u{FEFF}url,title\n\"https://a/1.jpg\",\"One, \"\"1\"\"\"\r\nhttps://a/2,é🎉\r\"x\ny\",\n".utf8)
    let alphabet: [UInt8] = Array(",\"\r\n a".utf8) + [0x00, 0xC3, 0xA9, 0xEF, 0xBB, 0xBF, 0xFF, 0x80]
    var rng = SplitMix64(seed: 42)
    for caseNumber in 0..<1000 {
        var bytes: [UInt8]
        switch caseNumber % 3 {
        case 0:  // random bytes, biased towards the ones CSV cares about
            bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
        default:  // a valid file with a few bytes replaced, inserted or deleted
            bytes = seedCSV
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = alphabet.randomElement(using: &rng)!
                case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                default: bytes.remove(at: at)
                }
            }
        }
        var reader = CSVRowReader(source: MemoryByteSource(bytes, maxPerRead: Int.random(in: 1...9, using: &rng)),
                                  maxLineBytes: Int.random(in: 1...64, using: &rng),
                                  blockSize: Int.random(in: 1...32, using: &rng))
        var calls = 0, previousLine = 0
        do {
            while let row = try reader.next() {
                calls += 1
                // Each record consumes at least one byte, so this bounds the loop.
                #expect(calls <= bytes.count, "case \(caseNumber) does not advance")
                #expect(row.line > previousLine && row.lastLine >= row.line && !row.fields.isEmpty)
                previousLine = row.lastLine
                if calls > bytes.count { break }
            }
            #expect(reader.bytesRead == Int64(bytes.count))
        } catch let error as ManifestError {
            #expect(!error.issue.message.isEmpty)
            #expect(throws: ManifestError.self) { try reader.next() }
        }
    }
}

/// Line breaks inside a written record: each LF, and each CR not followed by LF.
private func physicalLineBreaks(_ text: String) -> Int {
    let bytes = Array(text.utf8)
    var count = 0
    for i in bytes.indices where bytes[i] == 0x0A || (bytes[i] == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A)) {
        count += 1
    }
    return count
}

private extension String {
    /// The field with each quote doubled, as RFC 4180 writes it inside quotes.
    func replacingQuotes() -> String {
        var out = ""
        for character in unicodeScalars {
            if character == "\"" { out += "\"\"" } else { out.unicodeScalars.append(character) }
        }
        return out
    }
}
