/// A 128-bit digest of a URL key, as 32 hex characters: what Redis stores for fast duplicate
/// answers, so it never holds URLs (presigned ones carry their signature in the query string)
/// and holds 32 bytes per key however long the URL. Two independent 64-bit multiply–xorshift
/// passes; a collision needs 2^64 work, and even then Redis only pre-filters: PostgreSQL confirms.
public enum URLKeyDigest {
    public static func hex(_ key: String) -> String {
        var key = key
        let (a, b) = key.withUTF8 { (hash($0, seed: 0x9E37_79B9_7F4A_7C15), hash($0, seed: 0xD6E8_FEB8_6659_FD93)) }
        return hex64(a) + hex64(b)
    }

    static func hash(_ b: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        let k1: UInt64 = 0x87C3_7B91_1142_53D5, k2: UInt64 = 0x4CF5_AD43_2745_937F
        var h = seed ^ (UInt64(b.count) &* k1)
        let raw = UnsafeRawBufferPointer(b)
        var i = 0
        while i + 8 <= b.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ (w &* k2)) &* k1
            h = (h << 29) | (h >> 35)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ (tail &* k2 ^ seed)) &* k1
        h ^= h >> 33; h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33; h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
