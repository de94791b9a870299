/// BMP: the file header (`BM`) and the DIB header — BITMAPCOREHEADER (12 bytes, unsigned 16-bit
/// width and height), the OS/2 2.x headers (16, 64) and BITMAPINFOHEADER and its successors
/// (40, 52, 56, 108, 124: signed 32-bit width and height, a negative height meaning top-down).
enum BMPImageParser {
    static let headerSizes: Set<UInt64> = [12, 16, 40, 52, 56, 64, 108, 124]

    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        var r = ImageByteReader(try s.bytes(at: 0, count: 18, "the file header"))
        guard r.match(Array("BM".utf8)), r.skip(12) else { throw .corrupt("does not start with BM") }
        let dibSize = r.u32le() ?? 0
        guard headerSizes.contains(UInt64(dibSize)) else {
            throw .corrupt("unknown DIB header size \(dibSize) (known: 12, 16, 40, 52, 56, 64, 108, 124)")
        }
        if dibSize == 12 {
            var d = ImageByteReader(try s.bytes(at: 18, count: 4, "the BITMAPCOREHEADER"))
            let width = d.u16le() ?? 0, height = d.u16le() ?? 0
            return ImageDimensions(.bmp, width: UInt64(width), height: UInt64(height))
        }
        var d = ImageByteReader(try s.bytes(at: 18, count: 8, "the BITMAPINFOHEADER"))
        let width = Int64(Int32(bitPattern: d.u32le() ?? 0))
        let height = Int64(Int32(bitPattern: d.u32le() ?? 0))
        guard width > 0 else { throw .corrupt("the DIB header declares width \(width)") }
        return ImageDimensions(.bmp, width: UInt64(width), height: height.magnitude)
    }
}
