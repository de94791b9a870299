/// Byte order of multi-byte fields.
enum ImageByteOrder: Sendable {
    case big, little
}

/// A cursor over a slice of bytes: every read returns nil past the end instead of trapping.
/// Positions are relative to the start of the slice (whatever the slice's own indices are).
struct ImageByteReader {
    private let bytes: ArraySlice<UInt8>
    /// Bytes consumed so far.
    private(set) var position = 0

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    var count: Int { bytes.count }
    var remaining: Int { bytes.count - position }

    /// Moves forward `n` bytes; false (and no move) when fewer remain.
    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= remaining else { return false }
        position += n
        return true
    }

    /// The byte at relative offset `at`, without moving.
    func byte(at: Int) -> UInt8? {
        guard at >= 0, at < bytes.count else { return nil }
        return bytes[bytes.startIndex + at]
    }

    mutating func u8() -> UInt8? {
        guard let b = byte(at: position) else { return nil }
        position += 1
        return b
    }

    /// An unsigned big- or little-endian integer of `width` bytes (1…8), without moving.
    func uint(at: Int, width: Int, _ order: ImageByteOrder) -> UInt64? {
        guard width >= 1, width <= 8, at >= 0, at <= bytes.count - width else { return nil }
        let base = bytes.startIndex + at
        var value: UInt64 = 0
        for i in 0..<width {
            let b = UInt64(bytes[base + (order == .big ? i : width - 1 - i)])
            value = value << 8 | b
        }
        return value
    }

    private mutating func next(_ width: Int, _ order: ImageByteOrder) -> UInt64? {
        guard let v = uint(at: position, width: width, order) else { return nil }
        position += width
        return v
    }

    mutating func u16(_ order: ImageByteOrder) -> UInt16? { next(2, order).map { UInt16(truncatingIfNeeded: $0) } }
    mutating func u24(_ order: ImageByteOrder) -> UInt32? { next(3, order).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u32(_ order: ImageByteOrder) -> UInt32? { next(4, order).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u64(_ order: ImageByteOrder) -> UInt64? { next(8, order) }

    mutating func u16be() -> UInt16? { u16(.big) }
    mutating func u16le() -> UInt16? { u16(.little) }
    mutating func u32be() -> UInt32? { u32(.big) }
    mutating func u32le() -> UInt32? { u32(.little) }
    mutating func u64be() -> UInt64? { u64(.big) }
    mutating func u64le() -> UInt64? { u64(.little) }

    /// Whether the next bytes are exactly `expected` (moves past them only when they are).
    mutating func match(_ expected: [UInt8]) -> Bool {
        guard expected.count <= remaining else { return false }
        let base = bytes.startIndex + position
        for (i, b) in expected.enumerated() where bytes[base + i] != b { return false }
        position += expected.count
        return true
    }
}

/// A four-character code (ISO-BMFF box type, RIFF chunk id, PNG chunk type) as a big-endian
/// number, for comparing without building strings.
func imageFourCC(_ text: StaticString) -> UInt32 {
    var value: UInt32 = 0
    text.withUTF8Buffer { buf in
        for b in buf.prefix(4) { value = value << 8 | UInt32(b) }
    }
    return value
}

/// A four-character code for messages: printable ASCII as is, anything else as hex.
func imageFourCCText(_ code: UInt32) -> String {
    let bytes = [UInt8(code >> 24), UInt8(code >> 16 & 0xFF), UInt8(code >> 8 & 0xFF), UInt8(code & 0xFF)]
    if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
        return "'" + String(decoding: bytes, as: UTF8.self) + "'"
    }
    return "0x" + imageHex(UInt64(code), digits: 8)
}

func imageHex(_ value: UInt64, digits: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

/// Why a parser stopped before describing the image.
enum ImageParseStop: Error {
    /// Bytes not held are needed: the range to read next.
    case need(offset: Int64, length: Int)
    /// The header is truncated or garbled: a sentence saying what is wrong.
    case corrupt(String)
}

/// Reads from the ranges of a `ProbeData` at absolute offsets. A read the ranges do not cover
/// stops the parse: with `.need` for the first missing byte, or with `.corrupt` when the object's
/// known size says the bytes do not exist.
struct ImageProbeSource {
    let data: ProbeData

    /// The most a follow-up request asks for (DESIGN §4: ranged reads of 64 KiB).
    static let followUpLength: Int64 = 65_536
    /// Offsets beyond this are treated as garbage (no object is that large), which also keeps
    /// every offset computation far from overflow.
    static let maxOffset: Int64 = 1 << 48
    /// The largest single read a parser makes (headers are small).
    static let maxRead = 4096

    init(_ data: ProbeData) {
        self.data = data
    }

    var totalSize: Int64? { data.totalSize }

    /// `count` bytes at `offset`. `what` names the structure for error messages; `hintEnd` is
    /// where the structure being read ends, so a follow-up request covers it but no more.
    func bytes(
        at offset: Int64, count: Int, _ what: @autoclosure () -> String, hintEnd: Int64? = nil
    ) throws(ImageParseStop) -> ArraySlice<UInt8> {
        guard offset >= 0, offset <= Self.maxOffset, count >= 0, count <= Self.maxRead else {
            throw .corrupt("\(what()) is at an impossible offset (\(offset))")
        }
        let end = offset + Int64(count)
        if let total = totalSize, end > total {
            throw .corrupt("truncated: \(what()) needs bytes \(offset)..<\(end) but the object is \(total) bytes")
        }
        if count == 0 { return [] }
        // One range holding it all: the common case, no copy.
        for r in data.ranges where r.offset <= offset {
            let start = offset - r.offset
            if start < Int64(r.bytes.count), Int64(r.bytes.count) - start >= Int64(count) {
                let s = Int(start)
                return r.bytes[s..<(s + count)]
            }
        }
        // Pieced together from overlapping or adjacent ranges (small: count ≤ maxRead).
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var pos = offset
        while pos < end {
            var advanced = false
            for r in data.ranges where r.offset <= pos && pos - r.offset < Int64(r.bytes.count) {
                let s = Int(pos - r.offset)
                let n = Int(min(Int64(r.bytes.count - s), end - pos))
                out.append(contentsOf: r.bytes[s..<(s + n)])
                pos += Int64(n)
                advanced = true
                break
            }
            if !advanced { throw need(missing: pos, readEnd: end, hintEnd: hintEnd) }
        }
        return out[...]
    }

    func byte(at offset: Int64, _ what: @autoclosure () -> String, hintEnd: Int64? = nil) throws(ImageParseStop) -> UInt8 {
        let b = try bytes(at: offset, count: 1, what(), hintEnd: hintEnd)
        return b[b.startIndex]
    }

    /// The request for bytes from `missing` on: at least up to `readEnd`, up to `hintEnd` when
    /// given, at most `followUpLength` beyond that floor, never past the object's end.
    private func need(missing: Int64, readEnd: Int64, hintEnd: Int64?) -> ImageParseStop {
        var upTo = missing + Self.followUpLength
        if let hint = hintEnd, hint < upTo { upTo = hint }
        if upTo < readEnd { upTo = readEnd }
        if let total = totalSize, upTo > total { upTo = max(total, readEnd) }
        return .need(offset: missing, length: Int(upTo - missing))
    }
}
