/// Whole-object checks for the formats whose files end with a marker: JPEG (EOI, `FF D9`), PNG
/// (the `IEND` chunk) and GIF (the trailer `3B`). A probe usually holds only the first 64 KiB, so
/// this runs only when it holds every byte of the object (its size is known and the ranges read
/// cover it): then an object cut short after its header — the dimensions readable, the picture
/// not — is `corrupt` instead of registered. Larger objects are not checked (docs/probing.md).
///
/// The walks follow each format's structure rather than looking at the last bytes, so data after
/// the end marker (the video a "motion photo" appends to its JPEG) is accepted, and an end
/// marker inside an embedded thumbnail (a JPEG in an EXIF segment) does not count.
enum ImageEndCheck {
    /// nil when the end marker is where the structure says; else what is wrong.
    static func problem(_ format: MediaFormat, _ bytes: ArraySlice<UInt8>) -> String? {
        let b = Array(bytes)
        switch format {
        case .jpeg: return jpeg(b)
        case .png: return png(b)
        case .gif: return gif(b)
        default: return nil
        }
    }

    /// Segments are skipped by their lengths; a scan's entropy-coded data is read up to the next
    /// marker (inside it a 0xFF is always followed by 00 or a restart marker). Stray bytes between
    /// segments are passed over, as libjpeg does with a warning: only a missing EOI is refused.
    static func jpeg(_ b: [UInt8]) -> String? {
        let n = b.count
        var pos = 2
        while true {
            guard pos < n else { return "truncated: the object's \(n) bytes end without the end-of-image marker FF D9" }
            guard b[pos] == 0xFF else { pos += 1; continue }
            var m = pos + 1
            while m < n && b[m] == 0xFF { m += 1 }
            guard m < n else { return "truncated: the object's \(n) bytes end without the end-of-image marker FF D9" }
            let marker = b[m]
            switch marker {
            case 0xD9:
                return nil
            case 0x00, 0x01, 0xD0...0xD8:
                pos = m + 1
                continue
            default:
                break
            }
            guard m + 2 < n else {
                return "truncated: the object's \(n) bytes end inside the FF \(imageHex(UInt64(marker), digits: 2)) marker at offset \(pos), before the end-of-image marker FF D9"
            }
            let length = Int(b[m + 1]) << 8 | Int(b[m + 2])
            guard length >= 2 else {
                return "the FF \(imageHex(UInt64(marker), digits: 2)) segment at offset \(pos) declares length \(length) (at least 2)"
            }
            let end = m + 1 + length
            guard end <= n else {
                return "truncated: the FF \(imageHex(UInt64(marker), digits: 2)) segment at offset \(pos) needs bytes up to \(end), but the object is \(n) bytes (no end-of-image marker FF D9)"
            }
            pos = end
            if marker == 0xDA {
                // Entropy-coded data: to the next marker that is neither stuffing nor a restart.
                var i = pos
                while i + 1 < n {
                    if b[i] == 0xFF {
                        let next = b[i + 1]
                        if next != 0x00 && next != 0xFF && !(0xD0...0xD7).contains(next) { break }
                    }
                    i += 1
                }
                guard i + 1 < n else {
                    return "truncated: the scan data at offset \(pos) runs to the end of the object (\(n) bytes) without the end-of-image marker FF D9"
                }
                pos = i
            }
        }
    }

    /// Chunk by chunk (length, type, data, CRC) from the signature to `IEND`; at least one `IDAT`
    /// must come before it. Chunk CRCs other than IHDR's are not checked (a cost per byte).
    static func png(_ b: [UInt8]) -> String? {
        let n = b.count
        var pos = 8
        var sawData = false
        while true {
            guard pos + 8 <= n else {
                return "truncated: the object's \(n) bytes end \(pos < n ? "inside the chunk header at offset \(pos)" : "after the chunk ending at \(pos)") without an IEND chunk"
            }
            let length = UInt32(b[pos]) << 24 | UInt32(b[pos + 1]) << 16 | UInt32(b[pos + 2]) << 8 | UInt32(b[pos + 3])
            let type = UInt32(b[pos + 4]) << 24 | UInt32(b[pos + 5]) << 16 | UInt32(b[pos + 6]) << 8 | UInt32(b[pos + 7])
            guard length <= 0x7FFF_FFFF else {
                return "the \(imageFourCCText(type)) chunk at offset \(pos) declares length \(length) (at most 2^31-1)"
            }
            let end = pos + 12 + Int(length)
            guard end <= n else {
                let what = type == imageFourCC("IEND") ? "complete IEND chunk" : "IEND chunk"
                return "truncated: the \(imageFourCCText(type)) chunk at offset \(pos) needs bytes up to \(end), but the object is \(n) bytes (no \(what))"
            }
            if type == imageFourCC("IEND") {
                return sawData ? nil : "the IEND chunk at offset \(pos) comes before any image data (IDAT)"
            }
            if type == imageFourCC("IDAT") { sawData = true }
            pos = end
        }
    }

    /// Blocks from the logical screen descriptor to the trailer `3B`: extensions and images
    /// (descriptor, colour table, data sub-blocks). Unknown bytes between blocks are passed over,
    /// as Pillow does; there must be at least one image.
    static func gif(_ b: [UInt8]) -> String? {
        let n = b.count
        func truncated(_ what: String) -> String { "truncated: the object's \(n) bytes end \(what) without the GIF trailer (3B)" }
        guard n >= 13 else { return truncated("inside the logical screen descriptor") }
        var pos = 13
        if b[10] & 0x80 != 0 { pos += 3 << (Int(b[10] & 7) + 1) }
        var images = 0
        /// Skips data sub-blocks up to their terminator; false when the object ends first.
        func subBlocks() -> Bool {
            while pos < n {
                let size = Int(b[pos])
                pos += 1 + size
                if size == 0 { return true }
            }
            return false
        }
        while true {
            guard pos < n else { return truncated(images == 0 ? "before any image" : "after image \(images)") }
            switch b[pos] {
            case 0x3B:
                return images > 0 ? nil : "the GIF trailer at offset \(pos) comes before any image"
            case 0x21:
                pos += 2
                guard subBlocks() else { return truncated("inside an extension block") }
            case 0x2C:
                guard pos + 10 <= n else { return truncated("inside the descriptor of image \(images + 1)") }
                let flags = b[pos + 9]
                pos += 10
                if flags & 0x80 != 0 { pos += 3 << (Int(flags & 7) + 1) }
                pos += 1  // LZW minimum code size
                guard pos <= n, subBlocks() else { return truncated("inside the data of image \(images + 1)") }
                images += 1
            default:
                pos += 1
            }
        }
    }
}
