/// Reads another tool's export one record at a time, whether it is a JSON array of objects
/// (Label Studio, Labelbox creation payloads) or JSON Lines (CVAT, Labelbox exports): memory holds
/// one record, never the file, so exports of 100,000s of items convert in bounded memory.
///
/// The layout is decided by the first non-blank byte: `[` is an array, anything else is lines.
/// A single top-level object is also read (as one record): Label Studio imports accept one task.
final class ImportRecordReader {
    /// One record: its 0-based index among records, the 1-based line where it starts, and its
    /// value — or why it could not be read (a bad JSONL line refuses that line only).
    struct Record {
        var index: Int
        var line: Int
        var value: Result<JSONValue, ImportRefusalReason>
    }

    struct ImportRefusalReason: Error { var message: String }

    enum Layout { case array, lines }

    private(set) var layout: Layout
    private var source: any ByteSource
    private let maxRecordBytes: Int
    private var buffer: [UInt8] = []
    private var bufferPos = 0
    private var atEOF = false
    private var line = 0
    private var index = 0
    private var tokenizer: JSONTokenizer?
    private var arrayDone = false

    init(source: some ByteSource, maxRecordBytes: Int) throws {
        self.source = source
        self.maxRecordBytes = maxRecordBytes
        layout = .lines
        // Peek at the first meaningful byte.
        while true {
            if bufferPos == buffer.count { guard try fill() else { break } }
            if buffer.count >= 3, bufferPos == 0, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { bufferPos = 3; continue }
            let b = buffer[bufferPos]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { bufferPos += 1; continue }
            if b == 0x5B { layout = .array }
            break
        }
        if layout == .array {
            let rest = Array(buffer[bufferPos...])
            let t = JSONTokenizer(source: ReplaySource(prefix: rest, rest: self.source))
            tokenizer = t
            do {
                guard try t.next() == .beginArray else { throw ImportFailure("expected a JSON array") }
            } catch let e as ManifestError { throw ImportFailure(e.description) }
            buffer = []
            bufferPos = 0
        }
    }

    private func fill() throws -> Bool {
        if atEOF { return false }
        var block = [UInt8](repeating: 0, count: 1 << 16)
        let n = try block.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { atEOF = true; return false }
        if bufferPos > 0 { buffer.removeFirst(bufferPos); bufferPos = 0 }
        buffer.append(contentsOf: block[0..<n])
        return true
    }

    /// The next record, nil at the end. Throws `ImportFailure` for a fault in an array's JSON
    /// (after which nothing more can be read).
    func next() throws -> Record? {
        switch layout {
        case .array: return try nextInArray()
        case .lines: return try nextLine()
        }
    }

    private func nextInArray() throws -> Record? {
        guard let t = tokenizer, !arrayDone else { return nil }
        do {
            let token = try t.next()
            if token == .endArray {
                arrayDone = true
                guard try t.next() == .end else { throw ImportFailure("data after the closing ]") }
                return nil
            }
            let startLine = t.tokenLine
            defer { index += 1 }
            var budget = maxRecordBytes
            do {
                let value = try t.readValue(after: token, budget: &budget)
                return Record(index: index, line: startLine, value: .success(value))
            } catch is JSONTokenizer.BudgetExceeded {
                try t.skipRemainder(toDepth: 1)   // back to the top-level array
                return Record(index: index, line: startLine,
                              value: .failure(.init(message: "larger than \(maxRecordBytes) bytes; not read")))
            }
        } catch let e as ManifestError {
            throw ImportFailure(e.description)
        }
    }

    private func nextLine() throws -> Record? {
        while true {
            // Find the end of the line, reading more as needed, refusing overlong lines.
            var end: Int? = nil
            var scanFrom = bufferPos
            while end == nil {
                if let nl = buffer[scanFrom...].firstIndex(of: 0x0A) { end = nl; break }
                scanFrom = buffer.count
                if buffer.count - bufferPos > maxRecordBytes {
                    // Skip to the end of this overlong line without holding it.
                    line += 1
                    let startLine = line
                    buffer.removeAll(); bufferPos = 0
                    while try fill() {
                        if let nl = buffer.firstIndex(of: 0x0A) { bufferPos = nl + 1; break }
                        buffer.removeAll(); bufferPos = 0
                    }
                    defer { index += 1 }
                    return Record(index: index, line: startLine,
                                  value: .failure(.init(message: "line longer than \(maxRecordBytes) bytes; not read")))
                }
                // fill() drops the consumed bytes before bufferPos: rescan from the same byte.
                let scanned = scanFrom - bufferPos
                if try !fill() { break }
                scanFrom = bufferPos + scanned
            }
            if end == nil && bufferPos >= buffer.count { return nil }
            let stop = end ?? buffer.count
            var bytes = Array(buffer[bufferPos..<stop])
            bufferPos = end.map { $0 + 1 } ?? buffer.count
            line += 1
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }   // blank lines carry nothing
            defer { index += 1 }
            guard let value = Self.parseLine(bytes) else {
                return Record(index: index, line: line, value: .failure(.init(message: "not a JSON value")))
            }
            return Record(index: index, line: line, value: .success(value))
        }
    }
}

extension ImportRecordReader {
    /// One line's JSON value, nil when it is not exactly one JSON value. A tokenizer sized to the
    /// line (`JSONValue.parse` allocates a 1 MiB block, per line that would dominate the run).
    static func parseLine(_ bytes: [UInt8]) -> JSONValue? {
        let t = JSONTokenizer(source: MemoryByteSource(bytes), blockSize: bytes.count + 16)
        var budget = Int.max
        guard let first = try? t.next(), let value = try? t.readValue(after: first, budget: &budget),
              (try? t.next()) == .end else { return nil }
        return value
    }
}

/// Replays bytes already read, then continues with the source they came from.
struct ReplaySource: ByteSource {
    var prefix: [UInt8]
    var rest: any ByteSource
    var pos = 0

    init(prefix: [UInt8], rest: any ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }

    mutating func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if pos < prefix.count {
            let n = min(out.count, prefix.count - pos)
            prefix.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + pos, byteCount: n) }
            pos += n
            return n
        }
        return try rest.read(into: out)
    }
}
