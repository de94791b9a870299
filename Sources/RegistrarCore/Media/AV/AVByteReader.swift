// Byte access for the audio/video header parsers: a bounds-checked cursor over a slice, and a
// view of `ProbeData` by file offset. Every read answers nil instead of trapping, and every
// offset sum is checked, so hostile sizes (64-bit box sizes, EBML lengths) cannot trap.

/// A cursor over bytes that belong at a known file offset. Reads past the end answer nil and
/// leave the cursor where it was.
struct AVByteReader {
    let bytes: ArraySlice<UInt8>
    /// The file offset of `bytes.first`.
    let base: Int64
    /// Index into `bytes` (absolute slice index).
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>, base: Int64 = 0) {
        self.bytes = bytes
        self.base = base
        index = bytes.startIndex
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.endIndex - index }
    /// Bytes consumed so far.
    var consumed: Int { index - bytes.startIndex }
    /// The file offset of the cursor.
    var position: Int64 { base + Int64(index - bytes.startIndex) }
    var isAtEnd: Bool { index >= bytes.endIndex }

    /// Moves the cursor to `n` bytes from the slice start; false (cursor unchanged) if out of range.
    @discardableResult
    mutating func seek(to n: Int) -> Bool {
        guard n >= 0, n <= bytes.count else { return false }
        index = bytes.startIndex + n
        return true
    }

    @discardableResult
    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= remaining else { return false }
        index += n
        return true
    }

    /// Skips `n` bytes given as a 64-bit count.
    @discardableResult
    mutating func skip64(_ n: Int64) -> Bool {
        guard n >= 0, n <= Int64(remaining) else { return false }
        index += Int(n)
        return true
    }

    mutating func read(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, n <= remaining else { return nil }
        defer { index += n }
        return bytes[index..<(index + n)]
    }

    func peek(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, n <= remaining else { return nil }
        return bytes[index..<(index + n)]
    }

    mutating func u8() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16be() -> UInt16? { readUInt(2, bigEndian: true).map { UInt16(truncatingIfNeeded: $0) } }
    mutating func u24be() -> UInt32? { readUInt(3, bigEndian: true).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u32be() -> UInt32? { readUInt(4, bigEndian: true).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u64be() -> UInt64? { readUInt(8, bigEndian: true) }
    mutating func u16le() -> UInt16? { readUInt(2, bigEndian: false).map { UInt16(truncatingIfNeeded: $0) } }
    mutating func u32le() -> UInt32? { readUInt(4, bigEndian: false).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u64le() -> UInt64? { readUInt(8, bigEndian: false) }

    /// An unsigned integer of `n` (1…8) bytes.
    mutating func readUInt(_ n: Int, bigEndian: Bool) -> UInt64? {
        guard n >= 1, n <= 8, n <= remaining else { return nil }
        var v: UInt64 = 0
        if bigEndian {
            for i in 0..<n { v = (v << 8) | UInt64(bytes[index + i]) }
        } else {
            for i in stride(from: n - 1, through: 0, by: -1) { v = (v << 8) | UInt64(bytes[index + i]) }
        }
        index += n
        return v
    }

    /// A four-character code, big-endian.
    mutating func fourCC() -> UInt32? { u32be() }

    /// A reader over the bytes after the cursor.
    func rest() -> AVByteReader { AVByteReader(bytes[index...], base: position) }

    /// The byte at `n` from the slice start, without moving the cursor.
    func byte(at n: Int) -> UInt8? {
        guard n >= 0, n < bytes.count else { return nil }
        return bytes[bytes.startIndex + n]
    }

    /// A big-endian integer of `count` bytes at `n` from the slice start, without moving the cursor.
    func uintBE(at n: Int, _ count: Int) -> UInt64? {
        var r = self
        guard r.seek(to: n) else { return nil }
        return r.readUInt(count, bigEndian: true)
    }

    func uintLE(at n: Int, _ count: Int) -> UInt64? {
        var r = self
        guard r.seek(to: n) else { return nil }
        return r.readUInt(count, bigEndian: false)
    }

    /// Whether the bytes at `n` from the slice start equal `pattern`.
    func matches(_ pattern: [UInt8], at n: Int = 0) -> Bool {
        guard n >= 0, n <= bytes.count - pattern.count else { return false }
        let s = bytes.startIndex + n
        for i in 0..<pattern.count where bytes[s + i] != pattern[i] { return false }
        return true
    }
}

/// `ProbeData` seen by file offset: whichever range holds the bytes asked for.
struct AVSource {
    let data: ProbeData
    /// The object's size when known.
    let total: Int64?

    init(_ data: ProbeData) {
        self.data = data
        if let t = data.totalSize, t >= 0 { total = t } else { total = nil }
    }

    /// The longest contiguous run of held bytes starting at `offset` (from one range), or nil.
    func run(at offset: Int64) -> ArraySlice<UInt8>? {
        guard offset >= 0 else { return nil }
        var best: ArraySlice<UInt8>?
        for r in data.ranges {
            let count = Int64(r.bytes.count)
            guard offset >= r.offset, offset - r.offset < count else { continue }
            let start = Int(offset - r.offset)
            let s = r.bytes[start...]
            if best == nil || s.count > best!.count { best = s }
        }
        return best
    }

    /// Exactly `count` bytes at `offset`, if one range holds them.
    func bytes(at offset: Int64, count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0 else { return nil }
        if count == 0 { return offset >= 0 ? [][...] : nil }
        guard let r = run(at: offset), r.count >= count else { return nil }
        return r.prefix(count)
    }

    /// A reader over `count` bytes at `offset`, if held.
    func reader(at offset: Int64, count: Int) -> AVByteReader? {
        bytes(at: offset, count: count).map { AVByteReader($0, base: offset) }
    }

    /// A reader over whatever is held from `offset` on (at most `limit` bytes).
    func reader(at offset: Int64, upTo limit: Int) -> AVByteReader? {
        guard let r = run(at: offset) else { return nil }
        return AVByteReader(r.prefix(max(0, limit)), base: offset)
    }

    /// Whether every byte of the object is held in one range from offset 0.
    var hasWholeObject: Bool {
        guard let t = total else { return false }
        return Int64(data.ranges[0].bytes.count) >= t
    }

    /// The end of the data held contiguously from offset 0 (the head), or of the object if shorter.
    var headEnd: Int64 {
        let h = Int64(data.ranges[0].bytes.count)
        if let t = total { return min(h, t) }
        return h
    }

    /// A request for `length` bytes at `offset`, clipped to the object's end; nil when nothing
    /// is left to read there, or when that read was already made and came back short (the
    /// object ended: the server sent what it had).
    func request(_ offset: Int64, _ length: Int) -> FormatParse? {
        guard offset >= 0, length > 0, avAdd(offset, Int64(length)) != nil else { return nil }
        var len = Int64(length)
        if let t = total {
            guard offset < t else { return nil }
            len = min(len, t - offset)
        }
        // A range already starting here that is shorter than asked: asking again would not help.
        for r in data.ranges where r.offset == offset && Int64(r.bytes.count) < len && total == nil {
            return nil
        }
        if let have = run(at: offset), Int64(have.count) >= len { return nil }
        return .needBytes(offset: offset, length: Int(len))
    }
}

// MARK: - Checked arithmetic and conversions

/// `a + b`, or nil on overflow or a negative result.
@inline(__always)
func avAdd(_ a: Int64, _ b: Int64) -> Int64? {
    let (r, o) = a.addingReportingOverflow(b)
    return (o || r < 0) ? nil : r
}

/// A `UInt64` as `Int64`, or nil when it does not fit.
@inline(__always)
func avInt64(_ v: UInt64) -> Int64? { v > UInt64(Int64.max) ? nil : Int64(v) }

/// A finite double as `Int` (rounded), or nil when not finite or out of range.
func avRound(_ d: Double) -> Int? {
    guard d.isFinite, d > -9.0e18, d < 9.0e18 else { return nil }
    return Int(d.rounded())
}

/// A positive, finite double, else nil.
func avPositive(_ d: Double?) -> Double? {
    guard let d, d.isFinite, d > 0 else { return nil }
    return d
}

/// Frame rates as their exact values when within rounding of an integer or an NTSC rate
/// (n × 1000/1001), e.g. Matroska's 33 333 333 ns default duration → 30.
func avSnapFPS(_ fps: Double?) -> Double? {
    guard let f = avPositive(fps), f < 1_000_000 else { return nil }
    let whole = f.rounded()
    if whole > 0, abs(f - whole) / whole < 2e-6 { return whole }
    let ntsc = (f * 1.001).rounded()
    if ntsc > 0 {
        let v = ntsc * 1000 / 1001
        if abs(f - v) / v < 2e-6 { return v }
    }
    return f
}

/// A four-character code as text (printable ASCII, trailing spaces removed), e.g. `avc1`.
func avFourCCString(_ v: UInt32) -> String {
    var s = ""
    for shift in [24, 16, 8, 0] {
        let b = UInt8(truncatingIfNeeded: v >> UInt32(shift))
        s.unicodeScalars.append(Unicode.Scalar((b >= 0x20 && b < 0x7F) ? b : 0x3F))
    }
    while s.hasSuffix(" ") { s.removeLast() }
    return s
}

/// The four-character code of a literal such as `"moov"`.
func avFourCC(_ s: StaticString) -> UInt32 {
    var v: UInt32 = 0
    s.withUTF8Buffer { buf in for b in buf.prefix(4) { v = (v << 8) | UInt32(b) } }
    return v
}

/// ASCII text of a byte slice (stopping at the first NUL), non-ASCII bytes as `?`.
func avASCII(_ bytes: ArraySlice<UInt8>, max: Int = 64) -> String {
    var s = ""
    for b in bytes.prefix(max) {
        if b == 0 { break }
        s.unicodeScalars.append(Unicode.Scalar((b >= 0x20 && b < 0x7F) ? b : 0x3F))
    }
    return s
}
