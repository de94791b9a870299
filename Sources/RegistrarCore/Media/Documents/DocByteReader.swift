/// Bounds-checked reads over one byte slice. Offsets are relative to the slice's start (0 is
/// its first byte, whatever its `startIndex`). Every read returns nil instead of trapping when
/// the bytes are not there.
struct DocByteReader {
    let bytes: ArraySlice<UInt8>
    /// Read position for the sequential `read…` calls, relative to the slice start.
    private(set) var position = 0

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    var count: Int { bytes.count }
    var remaining: Int { bytes.count - position }

    // MARK: Random access

    func u8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[bytes.startIndex + offset]
    }

    /// `count` bytes at `offset`, or nil when any of them is missing.
    func slice(at offset: Int, count n: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, n >= 0 else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(n)
        guard !overflow, end <= bytes.count else { return nil }
        let start = bytes.startIndex + offset
        return bytes[start..<(start + n)]
    }

    /// An unsigned integer of `width` bytes (1…8) at `offset`.
    func uint(at offset: Int, width: Int, bigEndian: Bool) -> UInt64? {
        guard width >= 1, width <= 8, let s = slice(at: offset, count: width) else { return nil }
        var v: UInt64 = 0
        if bigEndian {
            for b in s { v = (v << 8) | UInt64(b) }
        } else {
            for b in s.reversed() { v = (v << 8) | UInt64(b) }
        }
        return v
    }

    func u16(at offset: Int, bigEndian: Bool) -> UInt16? {
        uint(at: offset, width: 2, bigEndian: bigEndian).map { UInt16(truncatingIfNeeded: $0) }
    }
    func u32(at offset: Int, bigEndian: Bool) -> UInt32? {
        uint(at: offset, width: 4, bigEndian: bigEndian).map { UInt32(truncatingIfNeeded: $0) }
    }
    func u64(at offset: Int, bigEndian: Bool) -> UInt64? {
        uint(at: offset, width: 8, bigEndian: bigEndian)
    }
    func i16(at offset: Int, bigEndian: Bool) -> Int16? {
        u16(at: offset, bigEndian: bigEndian).map { Int16(bitPattern: $0) }
    }
    func i32(at offset: Int, bigEndian: Bool) -> Int32? {
        u32(at: offset, bigEndian: bigEndian).map { Int32(bitPattern: $0) }
    }
    func i64(at offset: Int, bigEndian: Bool) -> Int64? {
        u64(at: offset, bigEndian: bigEndian).map { Int64(bitPattern: $0) }
    }
    func f32(at offset: Int, bigEndian: Bool) -> Float? {
        u32(at: offset, bigEndian: bigEndian).map { Float(bitPattern: $0) }
    }
    func f64(at offset: Int, bigEndian: Bool) -> Double? {
        u64(at: offset, bigEndian: bigEndian).map { Double(bitPattern: $0) }
    }

    /// Whether the bytes at `offset` equal `literal`.
    func matches(_ literal: [UInt8], at offset: Int) -> Bool {
        guard let s = slice(at: offset, count: literal.count) else { return false }
        return s.elementsEqual(literal)
    }

    // MARK: Sequential

    mutating func seek(to offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count else { return false }
        position = offset
        return true
    }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0 else { return false }
        let (p, overflow) = position.addingReportingOverflow(n)
        guard !overflow else { return false }
        return seek(to: p)
    }

    mutating func readU8() -> UInt8? {
        guard let v = u8(at: position) else { return nil }
        position += 1
        return v
    }
    mutating func readU16(bigEndian: Bool) -> UInt16? {
        guard let v = u16(at: position, bigEndian: bigEndian) else { return nil }
        position += 2
        return v
    }
    mutating func readU32(bigEndian: Bool) -> UInt32? {
        guard let v = u32(at: position, bigEndian: bigEndian) else { return nil }
        position += 4
        return v
    }
    mutating func read(_ n: Int) -> ArraySlice<UInt8>? {
        guard let s = slice(at: position, count: n) else { return nil }
        position += n
        return s
    }
}

/// The bytes a probe holds of one object, addressed by absolute offset across all the ranges
/// read so far (adjacent or overlapping ranges read as one run). A class only to cache the range
/// last hit, so byte-by-byte scanning stays cheap.
final class DocRanges {
    let ranges: [(offset: Int64, bytes: [UInt8])]
    let totalSize: Int64?
    private var hot = 0

    init(_ data: ProbeData) {
        ranges = data.ranges.filter { !$0.bytes.isEmpty }.sorted { $0.offset < $1.offset }
        totalSize = data.totalSize
    }

    init(bytes: [UInt8]) {
        ranges = [(0, bytes)]
        totalSize = Int64(bytes.count)
    }

    /// The byte at `offset`, or nil when no range holds it.
    func byte(at offset: Int64) -> UInt8? {
        if hot < ranges.count {
            let r = ranges[hot]
            if offset >= r.offset, offset - r.offset < Int64(r.bytes.count) {
                return r.bytes[Int(offset - r.offset)]
            }
        }
        for (i, r) in ranges.enumerated() where offset >= r.offset && offset - r.offset < Int64(r.bytes.count) {
            hot = i
            return r.bytes[Int(offset - r.offset)]
        }
        return nil
    }

    /// Whether `offset` is at or past the end of the object (known only when its size is).
    func isPastEnd(_ offset: Int64) -> Bool {
        if let t = totalSize { return offset >= t }
        return false
    }

    /// The end of the run of held bytes that starts at `offset` (== offset when that byte is missing).
    func heldEnd(from offset: Int64) -> Int64 {
        var end = offset
        var progressed = true
        while progressed {
            progressed = false
            for r in ranges where r.offset <= end && r.offset + Int64(r.bytes.count) > end {
                end = r.offset + Int64(r.bytes.count)
                progressed = true
            }
        }
        return end
    }

    /// `count` bytes at `offset`, stitched across ranges, or nil when any is missing.
    func bytes(at offset: Int64, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0 else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(Int64(count))
        guard !overflow, heldEnd(from: offset) >= end else { return nil }
        // One range usually holds it all.
        for r in ranges where offset >= r.offset && end <= r.offset + Int64(r.bytes.count) {
            let s = Int(offset - r.offset)
            return Array(r.bytes[s..<(s + count)])
        }
        // Spans ranges: copy one slice per range (a byte-at-a-time copy of a 64 KiB tail cost
        // 150 µs per PDF probe).
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var p = offset
        while p < end {
            guard let r = ranges.first(where: { p >= $0.offset && p < $0.offset + Int64($0.bytes.count) }) else { return nil }
            let s = Int(p - r.offset)
            let n = Int(min(end - p, Int64(r.bytes.count - s)))
            out.append(contentsOf: r.bytes[s..<(s + n)])
            p += Int64(n)
        }
        return out
    }

    /// All bytes held contiguously from `offset`, up to `limit` bytes.
    func run(from offset: Int64, limit: Int) -> [UInt8] {
        let end = heldEnd(from: offset)
        let n = Int(min(end - offset, Int64(max(0, limit))))
        return bytes(at: offset, count: n) ?? []
    }

    var bytesHeld: Int { ranges.reduce(0) { $0 + $1.bytes.count } }
}
