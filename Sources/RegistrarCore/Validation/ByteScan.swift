/// Byte searches over URLs, 16 bytes at a time. Every unit's URL is scanned a few times
/// (validity, normal form, extension), so these loops are a large share of reading a manifest.
enum ByteScan {
    /// Index of the first byte at or after `from` equal to `a` or `b`, else `buffer.count`.
    @inline(__always)
    static func firstIndex(of a: UInt8, or b: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int {
        var i = from
        let n = buffer.count
        if let base = buffer.baseAddress {
            let va = SIMD16<UInt8>(repeating: a), vb = SIMD16<UInt8>(repeating: b)
            while i + 16 <= n {
                let v = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                if any((v .== va) .| (v .== vb)) { break }
                i += 16
            }
        }
        while i < n && buffer[i] != a && buffer[i] != b { i += 1 }
        return i
    }

    /// Whether every byte at or after `from` is printable ASCII (0x21–0x7E): no whitespace, no
    /// control characters, nothing non-ASCII.
    @inline(__always)
    static func isPrintableASCII(_ buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Bool {
        var i = from
        let n = buffer.count
        if let base = buffer.baseAddress {
            let lo = SIMD16<UInt8>(repeating: 0x21), hi = SIMD16<UInt8>(repeating: 0x7E)
            while i + 16 <= n {
                let v = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                if any((v .< lo) .| (v .> hi)) { return false }
                i += 16
            }
        }
        while i < n {
            if buffer[i] < 0x21 || buffer[i] > 0x7E { return false }
            i += 1
        }
        return true
    }
}
