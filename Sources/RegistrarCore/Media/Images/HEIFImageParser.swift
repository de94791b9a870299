/// AVIF and HEIF (ISO-BMFF): `ftyp` brands say which; the size is the primary item's image
/// spatial extents (`ispe`) inside `meta` → `iprp` → `ipco`, found through `pitm` (the primary
/// item) and `ipma` (which properties belong to it), then cropped by its clean aperture (`clap`)
/// and rotated by `irot`, in the order `ipma` lists them — the size libheif reports. HEVC
/// encoders pad to their block size and crop with `clap`, so `ispe` alone would be wrong.
/// Without a usable `pitm`/`ipma`, the largest `ispe` stands in.
///
/// Boxes are walked by their headers, so a `meta` after a large `mdat` costs one follow-up
/// request for the bytes from the `meta` box on.
enum HEIFImageParser {
    static let maxTopLevelBoxes = 64
    static let maxChildBoxes = 4096
    static let maxFtypSize: Int64 = 4096

    static let avifBrands: Set<UInt32> = [imageFourCC("avif"), imageFourCC("avis")]
    static let heicBrands: Set<UInt32> = [
        imageFourCC("heic"), imageFourCC("heix"), imageFourCC("heim"), imageFourCC("heis"),
        imageFourCC("hevc"), imageFourCC("hevx"),
    ]
    static let heifBrands: Set<UInt32> = [imageFourCC("mif1"), imageFourCC("msf1"), imageFourCC("mif2")]

    struct Kind {
        var format: MediaFormat
        var heic: Bool
    }

    /// AVIF or HEIF from a major brand and compatible brands; nil for other ISO-BMFF files
    /// (MP4, MOV, M4A…).
    static func kind(major: UInt32, compatible: [UInt32]) -> Kind? {
        if avifBrands.contains(major) { return Kind(format: .avif, heic: false) }
        if heicBrands.contains(major) { return Kind(format: .heif, heic: true) }
        if compatible.contains(where: avifBrands.contains) { return Kind(format: .avif, heic: false) }
        if compatible.contains(where: heicBrands.contains) { return Kind(format: .heif, heic: true) }
        if heifBrands.contains(major) || compatible.contains(where: heifBrands.contains) {
            return Kind(format: .heif, heic: false)
        }
        return nil
    }

    /// The brands of an `ftyp` box at the start of `bytes` (as many as `bytes` holds).
    static func brands(_ bytes: ArraySlice<UInt8>) -> (major: UInt32, compatible: [UInt32])? {
        var r = ImageByteReader(bytes)
        guard let size = r.u32be(), size >= 16, r.u32be() == imageFourCC("ftyp"), let major = r.u32be(), r.skip(4) else {
            return nil
        }
        var compatible: [UInt32] = []
        var at = 16
        while at + 4 <= Int(min(size, UInt32(maxFtypSize))), let brand = r.u32be() {
            compatible.append(brand)
            at += 4
        }
        return (major, compatible)
    }

    static func kind(ofFtypIn head: ArraySlice<UInt8>) -> MediaFormat? {
        guard let b = brands(head) else { return nil }
        return kind(major: b.major, compatible: b.compatible)?.format
    }

    struct Box {
        var type: UInt32
        var start: Int64
        var contentStart: Int64
        var end: Int64
        var name: String { imageFourCCText(type) }
    }

    /// The header of the box at `offset`, which must end by `parentEnd` (nil: unknown).
    static func box(
        _ s: ImageProbeSource, at offset: Int64, parentEnd: Int64?, hintEnd: Int64? = nil
    ) throws(ImageParseStop) -> Box {
        let container = parentEnd == s.totalSize ? "the object" : "its container"
        if let pe = parentEnd, offset > pe - 8 {
            throw .corrupt("no room for a box header at offset \(offset) (\(container) ends at \(pe))")
        }
        var r = ImageByteReader(try s.bytes(at: offset, count: 8, "the box header at offset \(offset)", hintEnd: hintEnd))
        let size32 = r.u32be() ?? 0
        let type = r.u32be() ?? 0
        var header: Int64 = 8
        let end: Int64
        switch size32 {
        case 1:
            var l = ImageByteReader(try s.bytes(at: offset + 8, count: 8, "the large size of box \(imageFourCCText(type)) at offset \(offset)", hintEnd: hintEnd))
            let size = l.u64be() ?? 0
            header = 16
            guard size >= 16, size <= UInt64(ImageProbeSource.maxOffset) else {
                throw .corrupt("box \(imageFourCCText(type)) at offset \(offset) declares size \(size)")
            }
            end = offset + Int64(size)
        case 0:
            // Extends to the end of its container (or of the file).
            end = parentEnd ?? s.totalSize ?? ImageProbeSource.maxOffset
        default:
            guard size32 >= 8 else { throw .corrupt("box \(imageFourCCText(type)) at offset \(offset) declares size \(size32)") }
            end = offset + Int64(size32)
        }
        if let pe = parentEnd, end > pe {
            throw .corrupt("box \(imageFourCCText(type)) at offset \(offset) ends at \(end), beyond the end of \(container) (\(pe))")
        }
        guard end >= offset + header else {
            throw .corrupt("box \(imageFourCCText(type)) at offset \(offset) is smaller than its header")
        }
        return Box(type: type, start: offset, contentStart: offset + header, end: end)
    }

    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        let ftyp = try box(s, at: 0, parentEnd: s.totalSize)
        guard ftyp.type == imageFourCC("ftyp") else { throw .corrupt("the first box is \(ftyp.name), not ftyp") }
        let ftypSize = ftyp.end - ftyp.start
        guard ftypSize >= 16, ftypSize <= maxFtypSize else {
            throw .corrupt("the ftyp box declares \(ftypSize) bytes")
        }
        let ftypBytes = try s.bytes(at: 0, count: Int(ftypSize), "the ftyp box")
        guard ftyp.contentStart == 8, let b = brands(ftypBytes), let kind = kind(major: b.major, compatible: b.compatible) else {
            throw .corrupt("the ftyp brands name neither AVIF nor HEIF")
        }
        var offset = ftyp.end
        for _ in 0..<maxTopLevelBoxes {
            if let total = s.totalSize, offset >= total { break }
            let top = try box(s, at: offset, parentEnd: s.totalSize)
            if top.type == imageFourCC("meta") {
                return try meta(s, top, kind)
            }
            if s.totalSize == nil, top.end == ImageProbeSource.maxOffset {
                throw .corrupt("box \(top.name) at offset \(offset) runs to the end of the file and no meta box came before it")
            }
            offset = top.end
        }
        throw .corrupt("no meta box among the top-level boxes")
    }

    /// The children of `parent`, from `from` on, one header at a time.
    static func children(
        _ s: ImageProbeSource, of parent: Box, from: Int64, _ visit: (Box) throws(ImageParseStop) -> Bool
    ) throws(ImageParseStop) {
        var at = from
        var n = 0
        while at < parent.end {
            n += 1
            guard n <= maxChildBoxes else { throw .corrupt("more than \(maxChildBoxes) boxes in \(parent.name)") }
            let child = try box(s, at: at, parentEnd: parent.end, hintEnd: parent.end)
            if try !visit(child) { return }
            at = child.end
        }
    }

    /// A property the primary item refers to: spatial extents, clean aperture or rotation.
    struct Property {
        enum Value {
            case extents(UInt64, UInt64)
            case crop(UInt64, UInt64)
            case rotation(UInt8)
            case other
        }
        var index: Int
        var value: Value
    }

    static func meta(_ s: ImageProbeSource, _ meta: Box, _ kind: Kind) throws(ImageParseStop) -> ImageDimensions {
        let end = meta.end
        // FullBox: version and flags, then child boxes.
        var primary: UInt32?
        var iprp: Box?
        try children(s, of: meta, from: meta.contentStart + 4) { (b: Box) throws(ImageParseStop) -> Bool in
            if b.type == imageFourCC("pitm") {
                var r = ImageByteReader(try s.bytes(at: b.contentStart, count: 4, "the pitm box", hintEnd: end))
                let version = r.u8() ?? 0
                let idSize = version == 0 ? 2 : 4
                guard b.contentStart + 4 + Int64(idSize) <= b.end else { throw .corrupt("the pitm box is too short") }
                let id = ImageByteReader(try s.bytes(at: b.contentStart + 4, count: idSize, "the pitm box", hintEnd: end))
                primary = id.uint(at: 0, width: idSize, .big).map { UInt32(truncatingIfNeeded: $0) }
            } else if b.type == imageFourCC("iprp") {
                iprp = b
            }
            return true
        }
        guard let iprp else { throw .corrupt("the meta box has no item properties (iprp)") }
        var ipco: Box?
        var ipmas: [Box] = []
        try children(s, of: iprp, from: iprp.contentStart) { (b: Box) throws(ImageParseStop) -> Bool in
            if b.type == imageFourCC("ipco"), ipco == nil { ipco = b }
            if b.type == imageFourCC("ipma"), ipmas.count < 8 { ipmas.append(b) }
            return true
        }
        guard let ipco else { throw .corrupt("the iprp box has no property container (ipco)") }

        var associated: [Int] = []
        if let primary {
            for ipma in ipmas {
                if let found = try associations(s, ipma, item: primary, metaEnd: end) {
                    associated = found
                    break
                }
            }
        }

        var properties: [Property] = []
        var largest: (UInt64, UInt64)?
        var index = 0
        try children(s, of: ipco, from: ipco.contentStart) { (b: Box) throws(ImageParseStop) -> Bool in
            index += 1
            let wanted = associated.contains(index)
            switch b.type {
            case imageFourCC("ispe"):
                guard b.contentStart + 12 <= b.end else { throw .corrupt("the ispe box at offset \(b.start) is too short") }
                var r = ImageByteReader(try s.bytes(at: b.contentStart, count: 12, "the ispe box at offset \(b.start)", hintEnd: end))
                _ = r.skip(4)
                let w = UInt64(r.u32be() ?? 0), h = UInt64(r.u32be() ?? 0)
                if wanted { properties.append(Property(index: index, value: .extents(w, h))) }
                if largest.map({ w * h > $0.0 * $0.1 }) ?? true { largest = (w, h) }
            case imageFourCC("clap") where wanted:
                guard b.contentStart + 32 <= b.end else { throw .corrupt("the clap box at offset \(b.start) is too short") }
                var r = ImageByteReader(try s.bytes(at: b.contentStart, count: 32, "the clap box at offset \(b.start)", hintEnd: end))
                let wn = UInt64(r.u32be() ?? 0), wd = UInt64(r.u32be() ?? 0)
                let hn = UInt64(r.u32be() ?? 0), hd = UInt64(r.u32be() ?? 0)
                guard wd > 0, hd > 0 else { throw .corrupt("the clap box at offset \(b.start) has a zero denominator") }
                properties.append(Property(index: index, value: .crop((wn + wd / 2) / wd, (hn + hd / 2) / hd)))
            case imageFourCC("irot") where wanted:
                guard b.contentStart + 1 <= b.end else { throw .corrupt("the irot box at offset \(b.start) is too short") }
                let angle = try s.byte(at: b.contentStart, "the irot box at offset \(b.start)", hintEnd: end) & 3
                properties.append(Property(index: index, value: .rotation(angle)))
            default:
                break
            }
            return true
        }

        var size: (UInt64, UInt64)?
        for i in associated {
            guard let p = properties.first(where: { $0.index == i }) else { continue }
            switch p.value {
            case .extents(let w, let h):
                if size == nil { size = (w, h) }
            case .crop(let w, let h):
                if let current = size { size = (min(w, current.0), min(h, current.1)) }
            case .rotation(let angle):
                if let current = size, angle & 1 == 1 { size = (current.1, current.0) }
            case .other:
                break
            }
        }
        guard let (width, height) = size ?? largest else {
            throw .corrupt("no image spatial extents (ispe) property")
        }
        return ImageDimensions(kind.format, width: width, height: height, heic: kind.heic)
    }

    /// The property indices `ipma` associates with `item`, in order; nil when it lists no such item.
    static func associations(_ s: ImageProbeSource, _ ipma: Box, item: UInt32, metaEnd: Int64) throws(ImageParseStop) -> [Int]? {
        guard ipma.contentStart + 8 <= ipma.end else { throw .corrupt("the ipma box at offset \(ipma.start) is too short") }
        var h = ImageByteReader(try s.bytes(at: ipma.contentStart, count: 8, "the ipma box", hintEnd: metaEnd))
        let version = h.u8() ?? 0
        let flags = h.u24(.big) ?? 0
        let entries = Int64(h.u32be() ?? 0)
        let idSize: Int64 = version < 1 ? 2 : 4
        let indexSize: Int64 = flags & 1 == 1 ? 2 : 1
        var at = ipma.contentStart + 8
        guard entries <= (ipma.end - at) / (idSize + 1) else {
            throw .corrupt("the ipma box declares \(entries) entries, more than its \(ipma.end - ipma.start) bytes hold")
        }
        for _ in 0..<entries {
            guard at + idSize + 1 <= ipma.end else { throw .corrupt("the ipma box ends inside an entry") }
            let e = ImageByteReader(try s.bytes(at: at, count: Int(idSize + 1), "an ipma entry at offset \(at)", hintEnd: metaEnd))
            let id = e.uint(at: 0, width: Int(idSize), .big) ?? 0
            let count = Int64(e.byte(at: Int(idSize)) ?? 0)
            at += idSize + 1
            let length = count * indexSize
            guard at + length <= ipma.end else { throw .corrupt("the ipma box ends inside an entry's associations") }
            if id == UInt64(item) {
                let a = ImageByteReader(try s.bytes(at: at, count: Int(length), "the ipma associations at offset \(at)", hintEnd: metaEnd))
                var indices: [Int] = []
                for k in 0..<Int(count) {
                    let raw = a.uint(at: k * Int(indexSize), width: Int(indexSize), .big) ?? 0
                    indices.append(Int(indexSize == 2 ? raw & 0x7FFF : raw & 0x7F))
                }
                return indices
            }
            at += length
        }
        return nil
    }
}
