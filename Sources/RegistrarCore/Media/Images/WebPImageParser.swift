/// WebP: the RIFF header and the first chunk — `VP8 ` (lossy: key-frame tag, start code and
/// 14-bit width/height), `VP8L` (lossless: signature 0x2F and 14-bit packed width-1/height-1)
/// or `VP8X` (extended: 24-bit canvas width-1/height-1).
enum WebPImageParser {
    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        var r = ImageByteReader(try s.bytes(at: 0, count: 20, "the RIFF header and first chunk header"))
        guard r.match(Array("RIFF".utf8)), r.skip(4), r.match(Array("WEBP".utf8)) else {
            throw .corrupt("does not start with RIFF….WEBP")
        }
        let chunk = r.u32be() ?? 0
        let size = r.u32le() ?? 0
        switch chunk {
        case imageFourCC("VP8 "):
            guard size >= 10 else { throw .corrupt("the VP8 chunk declares \(size) bytes (at least 10)") }
            var f = ImageByteReader(try s.bytes(at: 20, count: 10, "the VP8 frame header"))
            let tag = f.u24(.little) ?? 0
            guard tag & 1 == 0 else { throw .corrupt("the VP8 bitstream does not start with a key frame") }
            guard f.match([0x9D, 0x01, 0x2A]) else { throw .corrupt("the VP8 key frame lacks the start code 9D 01 2A") }
            let width = (f.u16le() ?? 0) & 0x3FFF, height = (f.u16le() ?? 0) & 0x3FFF
            return ImageDimensions(.webp, width: UInt64(width), height: UInt64(height))
        case imageFourCC("VP8L"):
            guard size >= 5 else { throw .corrupt("the VP8L chunk declares \(size) bytes (at least 5)") }
            var f = ImageByteReader(try s.bytes(at: 20, count: 5, "the VP8L header"))
            guard f.u8() == 0x2F else { throw .corrupt("the VP8L chunk lacks the signature byte 0x2F") }
            let bits = f.u32le() ?? 0
            guard bits >> 29 == 0 else { throw .corrupt("the VP8L header declares version \(bits >> 29) (only 0 exists)") }
            let width = (bits & 0x3FFF) + 1, height = (bits >> 14 & 0x3FFF) + 1
            return ImageDimensions(.webp, width: UInt64(width), height: UInt64(height))
        case imageFourCC("VP8X"):
            guard size >= 10 else { throw .corrupt("the VP8X chunk declares \(size) bytes (at least 10)") }
            var f = ImageByteReader(try s.bytes(at: 20, count: 10, "the VP8X header"))
            _ = f.skip(4)  // flags and reserved bits
            let width = UInt64(f.u24(.little) ?? 0) + 1, height = UInt64(f.u24(.little) ?? 0) + 1
            return ImageDimensions(.webp, width: width, height: height)
        default:
            throw .corrupt("the first chunk is \(imageFourCCText(chunk)), not VP8, VP8L or VP8X")
        }
    }
}
