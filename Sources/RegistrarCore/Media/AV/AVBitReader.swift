/// MSB-first bit reader over a few bytes (AAC AudioSpecificConfig, FLAC STREAMINFO).
struct AVBitReader {
    let bytes: ArraySlice<UInt8>
    var bit = 0

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func read(_ n: Int) -> UInt32? {
        guard n >= 0, n <= 32, bit + n <= bytes.count * 8 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<n {
            let byte = bytes[bytes.startIndex + bit / 8]
            v = (v << 1) | UInt32((byte >> UInt8(7 - bit % 8)) & 1)
            bit += 1
        }
        return v
    }
}
