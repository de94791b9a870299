/// GIF: the signature (GIF87a or GIF89a) and the logical screen width and height.
enum GIFImageParser {
    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        var r = ImageByteReader(try s.bytes(at: 0, count: 10, "the header and logical screen descriptor"))
        guard r.match(Array("GIF87a".utf8)) || r.match(Array("GIF89a".utf8)) else {
            throw .corrupt("does not start with GIF87a or GIF89a")
        }
        let width = r.u16le() ?? 0, height = r.u16le() ?? 0
        return ImageDimensions(.gif, width: UInt64(width), height: UInt64(height))
    }
}
