/// A small, pure-Swift DEFLATE decoder (RFC 1951: stored, fixed and dynamic Huffman blocks)
/// with gzip (RFC 1952) and zlib (RFC 1950) wrappers.
///
/// Made for probing: it stops after `maxOutput` bytes (so a header can be read without
/// decompressing the file, and a bomb cannot grow memory past the cap), it returns what it has
/// when the input runs out (so a prefix of a stream is useful), and it refuses malformed input
/// with an `InflateError` instead of trapping. Every loop consumes input or produces output, so
/// it always terminates.
public enum InflateDecoder {
    /// Raw DEFLATE data.
    public static func inflate(_ input: ArraySlice<UInt8>, maxOutput: Int) throws(InflateError) -> InflateResult {
        var d = InflateState(input, maxOutput: maxOutput)
        let end = try d.run()
        return InflateResult(output: d.out, end: end, inputConsumed: d.consumedBytes)
    }

    /// A gzip member (RFC 1952): header, DEFLATE data, CRC-32 and size. The CRC and size are
    /// checked when the stream is decoded to its end within `maxOutput` (`.streamEnd` means they
    /// matched; a missing trailer is `.inputExhausted`). Only the first member is read.
    public static func gunzip(_ input: ArraySlice<UInt8>, maxOutput: Int) throws(InflateError) -> InflateResult {
        let r = DocByteReader(input)
        guard r.count >= 10 else {
            if !r.bytes.isEmpty, r.u8(at: 0) != 0x1F { throw .badHeader("not gzip") }
            return InflateResult(output: [], end: .inputExhausted, inputConsumed: 0)
        }
        guard r.u8(at: 0) == 0x1F, r.u8(at: 1) == 0x8B else { throw .badHeader("not gzip") }
        guard r.u8(at: 2) == 8 else { throw .badHeader("gzip compression method is not deflate") }
        let flags = r.u8(at: 3) ?? 0
        guard flags & 0xE0 == 0 else { throw .badHeader("gzip reserved flags set") }
        var p = 10
        let exhausted = InflateResult(output: [], end: .inputExhausted, inputConsumed: 0)
        if flags & 0x04 != 0 {  // FEXTRA
            guard let xlen = r.u16(at: p, bigEndian: false) else { return exhausted }
            p += 2 + Int(xlen)
        }
        for bit: UInt8 in [0x08, 0x10] where flags & bit != 0 {  // FNAME, FCOMMENT: zero-terminated
            while true {
                guard let b = r.u8(at: p) else { return exhausted }
                p += 1
                if b == 0 { break }
            }
        }
        if flags & 0x02 != 0 { p += 2 }  // FHCRC
        guard p <= r.count else { return exhausted }
        let body = input.dropFirst(p)
        var d = InflateState(body, maxOutput: maxOutput)
        let end = try d.run()
        var consumed = p + d.consumedBytes
        if end == .streamEnd {
            let t = DocByteReader(body.dropFirst(d.consumedBytes))
            guard let crc = t.u32(at: 0, bigEndian: false), let size = t.u32(at: 4, bigEndian: false) else {
                // All the data, but not the trailer that vouches for it.
                return InflateResult(output: d.out, end: .inputExhausted, inputConsumed: consumed)
            }
            guard crc == DocCRC32.checksum(d.out[...]) else { throw .checksumMismatch }
            guard size == UInt32(truncatingIfNeeded: d.out.count) else { throw .checksumMismatch }
            consumed += 8
        }
        return InflateResult(output: d.out, end: end, inputConsumed: consumed)
    }

    /// A zlib stream (RFC 1950): 2-byte header, DEFLATE data, Adler-32. With `verifyChecksum`
    /// false a wrong or missing Adler-32 is tolerated (PDF writers get it wrong now and then).
    public static func zlibDecompress(_ input: ArraySlice<UInt8>, maxOutput: Int,
                                      verifyChecksum: Bool = true) throws(InflateError) -> InflateResult {
        let r = DocByteReader(input)
        guard let cmf = r.u8(at: 0), let flg = r.u8(at: 1) else {
            return InflateResult(output: [], end: .inputExhausted, inputConsumed: 0)
        }
        guard cmf & 0x0F == 8, cmf >> 4 <= 7 else { throw .badHeader("zlib method is not deflate") }
        guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else { throw .badHeader("zlib header check failed") }
        guard flg & 0x20 == 0 else { throw .badHeader("zlib preset dictionary is not supported") }
        let body = input.dropFirst(2)
        var d = InflateState(body, maxOutput: maxOutput)
        let end = try d.run()
        var consumed = 2 + d.consumedBytes
        if end == .streamEnd {
            let t = DocByteReader(body.dropFirst(d.consumedBytes))
            if let adler = t.u32(at: 0, bigEndian: true) {
                if verifyChecksum, adler != DocAdler32.checksum(d.out[...]) { throw .checksumMismatch }
                consumed += 4
            } else if verifyChecksum {
                return InflateResult(output: d.out, end: .inputExhausted, inputConsumed: consumed)
            }
        }
        return InflateResult(output: d.out, end: end, inputConsumed: consumed)
    }
}

/// What a decode produced and why it stopped.
public struct InflateResult: Sendable, Equatable {
    public enum End: Sendable, Equatable {
        /// The final block ended (and the wrapper's checksum matched when it was present).
        case streamEnd
        /// `maxOutput` bytes were produced; the rest was not decoded.
        case outputLimit
        /// The input ended before the stream did; `output` is everything decodable from it.
        case inputExhausted
    }
    public var output: [UInt8]
    public var end: End
    /// Input bytes used (including wrapper header and trailer when read).
    public var inputConsumed: Int
}

/// Why a stream was refused.
public enum InflateError: Error, Sendable, Equatable {
    case badHeader(String)
    case invalidBlockType
    case storedLengthMismatch
    case invalidCodeLengths
    case invalidSymbol
    case distanceTooFar
    case checksumMismatch
}

// MARK: - Decoder

/// A canonical Huffman code: counts per length and symbols sorted by code (as in zlib's puff),
/// plus a lookup table for codes of up to `fastBits` bits.
struct InflateHuffman {
    static let fastBits = 9
    var counts = [UInt16](repeating: 0, count: 16)
    var symbols: [UInt16] = []
    /// Indexed by the next `fastBits` input bits: symbol << 4 | length, or 0 for longer codes.
    var fast = [UInt16](repeating: 0, count: 1 << fastBits)
    var isEmpty = true

    /// Builds the code from per-symbol lengths. Over-subscribed sets are refused; incomplete sets
    /// only when `allowIncomplete` (a single code of length 1, as RFC 1951 permits for distances).
    init(lengths: ArraySlice<UInt8>, allowIncomplete: Bool) throws(InflateError) {
        for l in lengths { counts[Int(l)] += 1 }
        let used = lengths.count - Int(counts[0])
        counts[0] = 0
        if used == 0 { return }  // no codes: any use is an error
        isEmpty = false
        var left = 1
        for len in 1...15 {
            left <<= 1
            left -= Int(counts[len])
            if left < 0 { throw .invalidCodeLengths }  // over-subscribed
        }
        if left > 0 && !(allowIncomplete && used == 1 && counts[1] == 1) { throw .invalidCodeLengths }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + Int(counts[len]) }
        symbols = [UInt16](repeating: 0, count: used)
        for (sym, l) in lengths.enumerated() where l != 0 {
            symbols[offs[Int(l)]] = UInt16(sym)
            offs[Int(l)] += 1
        }
        // Fast table: walk codes in canonical order.
        var code = 0, index = 0
        for len in 1...15 {
            let n = Int(counts[len])
            if len <= Self.fastBits {
                for k in 0..<n {
                    let c = code + k
                    var rev = 0
                    for b in 0..<len where c & (1 << b) != 0 { rev |= 1 << (len - 1 - b) }
                    let entry = symbols[index + k] << 4 | UInt16(len)
                    var slot = rev
                    while slot < (1 << Self.fastBits) {
                        fast[slot] = entry
                        slot += 1 << len
                    }
                }
            }
            index += n
            code = (code + n) << 1
        }
    }
}

enum InflateStop: Error { case exhausted, error(InflateError) }

struct InflateState {
    let input: ArraySlice<UInt8>
    var pos: Int
    var bitBuf: UInt64 = 0
    var bitCount = 0
    var out: [UInt8] = []
    let maxOutput: Int

    init(_ input: ArraySlice<UInt8>, maxOutput: Int) {
        self.input = input
        pos = input.startIndex
        self.maxOutput = max(0, maxOutput)
        out.reserveCapacity(min(self.maxOutput, 1 << 16))
    }

    /// Whole input bytes used so far (bits still buffered are given back).
    var consumedBytes: Int { pos - input.startIndex - bitCount / 8 }

    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                       67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase: [UInt32] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                     1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                     12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static let fixedTables: (InflateHuffman, InflateHuffman) = {
        var l = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        let lit = try! InflateHuffman(lengths: l[...], allowIncomplete: false)
        // 32 codes of 5 bits (symbols 30 and 31 never occur in valid data and are refused).
        let dist = try! InflateHuffman(lengths: [UInt8](repeating: 5, count: 32)[...], allowIncomplete: false)
        return (lit, dist)
    }()

    // MARK: Bits

    /// Tops the bit buffer up from the input, as far as it goes.
    @inline(__always) mutating func fill() {
        while bitCount <= 56, pos < input.endIndex {
            bitBuf |= UInt64(input[pos]) << UInt64(bitCount)
            pos += 1
            bitCount += 8
        }
    }

    @inline(__always) mutating func bits(_ n: Int) throws(InflateStop) -> Int {
        if n == 0 { return 0 }
        if bitCount < n { fill() }
        guard bitCount >= n else { throw .exhausted }
        let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
        bitBuf >>= UInt64(n)
        bitCount -= n
        return v
    }

    mutating func decode(_ h: InflateHuffman) throws(InflateStop) -> Int {
        if h.isEmpty { throw .error(.invalidSymbol) }
        if bitCount < 15 { fill() }
        let entry = h.fast[Int(bitBuf & UInt64((1 << InflateHuffman.fastBits) - 1))]
        if entry != 0 {
            let len = Int(entry & 15)
            guard len <= bitCount else { throw .exhausted }
            bitBuf >>= UInt64(len)
            bitCount -= len
            return Int(entry >> 4)
        }
        // Slow path (puff): one bit at a time.
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            guard len <= bitCount else { throw .exhausted }
            code |= Int((bitBuf >> UInt64(len - 1)) & 1)
            let count = Int(h.counts[len])
            if code - count < first {
                bitBuf >>= UInt64(len)
                bitCount -= len
                return Int(h.symbols[index + (code - first)])
            }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw .error(.invalidSymbol)
    }

    // MARK: Blocks

    mutating func run() throws(InflateError) -> InflateResult.End {
        do throws(InflateStop) {
            if out.count >= maxOutput { return .outputLimit }
            while true {
                let final = try bits(1)
                let type = try bits(2)
                let done: Bool
                switch type {
                case 0: done = try stored()
                case 1: done = try codes(Self.fixedTables.0, Self.fixedTables.1)
                case 2:
                    let (l, d) = try dynamicTables()
                    done = try codes(l, d)
                default: throw InflateStop.error(.invalidBlockType)
                }
                if done { return .outputLimit }
                if final == 1 {
                    // Give back whole bytes read ahead into the bit buffer.
                    bitBuf = 0
                    pos -= bitCount / 8
                    bitCount = 0
                    return .streamEnd
                }
            }
        } catch {
            switch error {
            case .exhausted: return .inputExhausted
            case .error(let e): throw e
            }
        }
    }

    /// Returns true when the output limit stopped it.
    mutating func stored() throws(InflateStop) -> Bool {
        // Drop to a byte boundary, then give back whole buffered bytes.
        _ = try bits(bitCount % 8)
        pos -= bitCount / 8
        bitBuf = 0
        bitCount = 0
        guard pos + 4 <= input.endIndex else { throw .exhausted }
        let len = Int(input[pos]) | Int(input[pos + 1]) << 8
        let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
        guard len == (~nlen & 0xFFFF) else { throw .error(.storedLengthMismatch) }
        pos += 4
        var n = 0
        while n < len {
            guard pos < input.endIndex else { throw .exhausted }
            if out.count >= maxOutput { return true }
            out.append(input[pos])
            pos += 1
            n += 1
        }
        return false
    }

    mutating func dynamicTables() throws(InflateStop) -> (InflateHuffman, InflateHuffman) {
        let nlen = try bits(5) + 257
        let ndist = try bits(5) + 1
        let ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw .error(.invalidCodeLengths) }
        var cl = [UInt8](repeating: 0, count: 19)
        for i in 0..<ncode { cl[Self.codeLengthOrder[i]] = UInt8(try bits(3)) }
        let clCode: InflateHuffman
        do { clCode = try InflateHuffman(lengths: cl[...], allowIncomplete: false) } catch { throw .error(error) }
        var lengths = [UInt8](repeating: 0, count: nlen + ndist)
        var i = 0
        while i < nlen + ndist {
            let sym = try decode(clCode)
            if sym < 16 {
                lengths[i] = UInt8(sym)
                i += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch sym {
            case 16:
                guard i > 0 else { throw .error(.invalidCodeLengths) }
                value = lengths[i - 1]
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard i + repeatCount <= nlen + ndist else { throw .error(.invalidCodeLengths) }
            for _ in 0..<repeatCount {
                lengths[i] = value
                i += 1
            }
        }
        guard lengths[256] != 0 else { throw .error(.invalidCodeLengths) }  // no end-of-block code
        do {
            let lit = try InflateHuffman(lengths: lengths[0..<nlen], allowIncomplete: true)
            let dist = try InflateHuffman(lengths: lengths[nlen...], allowIncomplete: true)
            return (lit, dist)
        } catch {
            throw .error(error)
        }
    }

    /// Decodes one Huffman-coded block. Returns true when the output limit stopped it.
    mutating func codes(_ lit: InflateHuffman, _ dist: InflateHuffman) throws(InflateStop) -> Bool {
        while true {
            let sym = try decode(lit)
            if sym < 256 {
                if out.count >= maxOutput { return true }
                out.append(UInt8(sym))
                continue
            }
            if sym == 256 { return false }
            let li = sym - 257
            guard li < 29 else { throw .error(.invalidSymbol) }
            let length = Int(Self.lengthBase[li]) + (try bits(Int(Self.lengthExtra[li])))
            let ds = try decode(dist)
            guard ds < 30 else { throw .error(.invalidSymbol) }
            let distance = Int(Self.distBase[ds]) + (try bits(Int(Self.distExtra[ds])))
            guard distance <= out.count else { throw .error(.distanceTooFar) }
            var n = 0
            while n < length {
                if out.count >= maxOutput { return true }
                out.append(out[out.count - distance])
                n += 1
            }
        }
    }
}

// MARK: - Checksums

enum DocCRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        let t = table
        for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

enum DocAdler32 {
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let end = min(i + 5552, bytes.endIndex)
            while i < end {
                a &+= UInt32(bytes[i])
                b &+= a
                i += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }
}
