/// TIFF (and BigTIFF): the byte order (`II` little-endian, `MM` big-endian), the offset of the
/// first IFD and, in it, ImageWidth (256) and ImageLength (257) as SHORT, LONG or (BigTIFF)
/// LONG8. The IFD may be anywhere in the file (libtiff writes it after the image data): when it
/// is beyond the bytes held, the answer is a request for the IFD's bytes.
enum TIFFImageParser {
    static let imageWidth: UInt16 = 256
    static let imageLength: UInt16 = 257
    /// Entries read from one IFD at most (a classic TIFF cannot declare more).
    static let maxEntries: UInt64 = 65_535
    /// What a first request for an IFD whose entry count is not yet known covers: 64 entries.
    static let typicalEntries: Int64 = 64

    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        var h = ImageByteReader(try s.bytes(at: 0, count: 8, "the header"))
        let order: ImageByteOrder
        if h.match([0x49, 0x49]) { order = .little } else if h.match([0x4D, 0x4D]) { order = .big } else {
            throw .corrupt("does not start with II or MM")
        }
        let version = h.u16(order) ?? 0
        let big: Bool
        let ifd: UInt64
        switch version {
        case 42:
            big = false
            ifd = UInt64(h.u32(order) ?? 0)
        case 43:
            big = true
            var b = ImageByteReader(try s.bytes(at: 4, count: 12, "the BigTIFF header"))
            let byteSize = b.u16(order) ?? 0, zero = b.u16(order) ?? 1
            guard byteSize == 8, zero == 0 else { throw .corrupt("the BigTIFF header declares offset size \(byteSize)") }
            ifd = b.u64(order) ?? 0
        default:
            throw .corrupt("declares version \(version) (42 for TIFF, 43 for BigTIFF)")
        }
        let headerSize: UInt64 = big ? 16 : 8
        guard ifd >= headerSize else {
            throw .corrupt("the first IFD offset is \(ifd), inside the \(headerSize)-byte header")
        }
        guard ifd <= UInt64(ImageProbeSource.maxOffset) else { throw .corrupt("the first IFD offset \(ifd) is beyond any object") }
        let ifdOffset = Int64(ifd)
        let countSize: Int64 = big ? 8 : 2
        let entrySize: Int64 = big ? 20 : 12
        let inlineSize = big ? 8 : 4
        let guessEnd = ifdOffset + countSize + typicalEntries * entrySize + (big ? 8 : 4)
        var c = ImageByteReader(try s.bytes(at: ifdOffset, count: Int(countSize), "the first IFD's entry count", hintEnd: guessEnd))
        let entries = big ? (c.u64(order) ?? 0) : UInt64(c.u16(order) ?? 0)
        guard entries > 0, entries <= maxEntries else {
            throw .corrupt("the first IFD at offset \(ifd) declares \(entries) entries")
        }
        let ifdEnd = ifdOffset + countSize + Int64(entries) * entrySize
        var width: UInt64?, height: UInt64?
        for i in 0..<Int64(entries) {
            let at = ifdOffset + countSize + i * entrySize
            var e = ImageByteReader(try s.bytes(at: at, count: Int(entrySize), "entry \(i) of the first IFD", hintEnd: ifdEnd))
            let tag = e.u16(order) ?? 0
            guard tag == imageWidth || tag == imageLength else { continue }
            let name = tag == imageWidth ? "ImageWidth" : "ImageLength"
            let type = e.u16(order) ?? 0
            let count = big ? (e.u64(order) ?? 0) : UInt64(e.u32(order) ?? 0)
            let valueSize: Int
            switch type {
            case 3: valueSize = 2  // SHORT
            case 4: valueSize = 4  // LONG
            case 16: valueSize = 8  // LONG8 (BigTIFF)
            default: throw .corrupt("\(name) has field type \(type) (expected SHORT, LONG or LONG8)")
            }
            guard count >= 1 else { throw .corrupt("\(name) has no value (count 0)") }
            let field = e.position
            var value: UInt64?
            if count <= UInt64(inlineSize / valueSize) {
                value = e.uint(at: field, width: valueSize, order)
            } else {
                // More values than fit in the entry: the field is an offset to them.
                let pointer = (big ? e.uint(at: field, width: 8, order) : e.uint(at: field, width: 4, order)) ?? 0
                guard pointer <= UInt64(ImageProbeSource.maxOffset) else {
                    throw .corrupt("\(name)'s values are at an impossible offset \(pointer)")
                }
                let v = ImageByteReader(try s.bytes(at: Int64(pointer), count: valueSize, "the \(name) value"))
                value = v.uint(at: 0, width: valueSize, order)
            }
            if tag == imageWidth { width = value } else { height = value }
            if width != nil, height != nil { break }
        }
        guard let w = width else { throw .corrupt("the first IFD has no ImageWidth (256)") }
        guard let l = height else { throw .corrupt("the first IFD has no ImageLength (257)") }
        return ImageDimensions(.tiff, width: w, height: l)
    }
}
