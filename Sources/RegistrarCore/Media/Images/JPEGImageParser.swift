/// JPEG: walks the marker segments from SOI to the first frame header (SOF0–SOF15 except DHT
/// C4, JPG C8 and DAC CC), which holds the height and width. Segments are skipped by their
/// length without being read, so a large APP1 (EXIF) or APP2 (ICC) costs only the 4 bytes of its
/// marker and length; when the next marker lies beyond the bytes held, the answer is a request
/// for (up to) 64 KiB from that marker.
enum JPEGImageParser {
    /// Segments walked before giving up (a real file has a few dozen; ICC profiles split over
    /// up to 255 APP2 segments).
    static let maxSegments = 2048
    /// 0xFF fill bytes allowed before one marker.
    static let maxFillBytes = 4096

    static func isFrameHeader(_ marker: UInt8) -> Bool {
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        let soi = try s.bytes(at: 0, count: 2, "the start-of-image marker")
        guard soi.first == 0xFF, soi.last == 0xD8 else {
            throw .corrupt("does not start with the start-of-image marker FF D8")
        }
        var pos: Int64 = 2
        var segments = 0
        var orientation: Int?
        while true {
            segments += 1
            guard segments <= maxSegments else {
                throw .corrupt("no frame header within the first \(maxSegments) segments")
            }
            let lead = try s.byte(at: pos, "the marker at offset \(pos)")
            guard lead == 0xFF else {
                throw .corrupt("expected a marker (FF) at offset \(pos), found 0x\(imageHex(UInt64(lead), digits: 2))")
            }
            var at = pos + 1
            var marker = try s.byte(at: at, "the marker at offset \(pos)")
            var fill = 0
            while marker == 0xFF {
                fill += 1
                guard fill <= maxFillBytes else { throw .corrupt("more than \(maxFillBytes) fill bytes at offset \(pos)") }
                at += 1
                marker = try s.byte(at: at, "the marker at offset \(pos)")
            }
            let code = "FF \(imageHex(UInt64(marker), digits: 2))"
            switch marker {
            case 0x01, 0xD0...0xD7:  // TEM, RST0–RST7: no length
                pos = at + 1
                continue
            case 0x00:
                throw .corrupt("a stuffed byte FF 00 at offset \(pos) where a marker was expected")
            case 0xD8:
                throw .corrupt("a second start-of-image marker at offset \(pos)")
            case 0xD9:
                throw .corrupt("the end-of-image marker at offset \(pos) comes before any frame header")
            case 0xDA:
                throw .corrupt("a scan (SOS) at offset \(pos) starts before any frame header")
            default:
                break
            }
            let lengthBytes = try s.bytes(at: at + 1, count: 2, "the length of the \(code) segment at offset \(pos)")
            var r = ImageByteReader(lengthBytes)
            let length = Int64(r.u16be() ?? 0)
            guard length >= 2 else {
                throw .corrupt("the \(code) segment at offset \(pos) declares length \(length) (at least 2)")
            }
            let segmentEnd = at + 1 + length
            if isFrameHeader(marker) {
                guard length >= 8 else {
                    throw .corrupt("the frame header \(code) at offset \(pos) declares length \(length) (at least 8)")
                }
                let frame = try s.bytes(at: at + 3, count: 5, "the frame header \(code) at offset \(pos)", hintEnd: segmentEnd)
                var f = ImageByteReader(frame)
                _ = f.u8()  // sample precision
                let height = f.u16be() ?? 0, width = f.u16be() ?? 0
                if height == 0 {
                    // Height 0 defers to a DNL marker after the first scan: vanishingly rare,
                    // and not something a header probe can settle.
                    throw .corrupt("the frame header declares height 0 (defined by a later DNL marker), which is not supported")
                }
                var found = ImageDimensions(.jpeg, width: UInt64(width), height: UInt64(height))
                found.orientation = orientation
                return found
            }
            if marker == 0xE1, orientation == nil, length >= 16 {
                // APP1: an EXIF Orientation in IFD0 (the first few hundred bytes), read only
                // when those bytes are already held — orientation never costs a request.
                let n = Int(min(length - 2, 1024))
                if let payload = s.data.bytes(at: at + 3, count: n) { orientation = MediaOrientation.exif(payload) }
            }
            pos = segmentEnd
        }
    }
}
