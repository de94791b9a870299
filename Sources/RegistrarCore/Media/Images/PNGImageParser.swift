/// PNG: the signature and the IHDR chunk (width, height, bit depth, colour type, interlace),
/// checked field by field and against its CRC. Apple's CgBI chunk before IHDR is skipped.
enum PNGImageParser {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func dimensions(_ s: ImageProbeSource) throws(ImageParseStop) -> ImageDimensions {
        var sig = ImageByteReader(try s.bytes(at: 0, count: 8, "the signature"))
        guard sig.match(signature) else { throw .corrupt("does not start with the PNG signature") }
        var offset: Int64 = 8
        var header = ImageByteReader(try s.bytes(at: offset, count: 8, "the first chunk header"))
        var length = header.u32be() ?? 0
        var type = header.u32be() ?? 0
        if type == imageFourCC("CgBI") {
            guard length == 4 else { throw .corrupt("the CgBI chunk declares length \(length) (expected 4)") }
            offset += 8 + 4 + 4
            header = ImageByteReader(try s.bytes(at: offset, count: 8, "the chunk after CgBI"))
            length = header.u32be() ?? 0
            type = header.u32be() ?? 0
        }
        guard type == imageFourCC("IHDR") else {
            throw .corrupt("the first chunk is \(imageFourCCText(type)), not IHDR")
        }
        guard length == 13 else { throw .corrupt("the IHDR chunk declares length \(length) (expected 13)") }
        // Type, 13 data bytes and the CRC.
        let chunk = try s.bytes(at: offset + 4, count: 4 + 13 + 4, "the IHDR chunk")
        var r = ImageByteReader(chunk)
        _ = r.skip(4)
        let width = r.u32be() ?? 0, height = r.u32be() ?? 0
        let depth = r.u8() ?? 0, colour = r.u8() ?? 0, compression = r.u8() ?? 0
        let filter = r.u8() ?? 0, interlace = r.u8() ?? 0
        let storedCRC = r.u32be() ?? 0
        let computed = imageCRC32(chunk.prefix(17))
        guard storedCRC == computed else {
            throw .corrupt("the IHDR chunk's CRC is 0x\(imageHex(UInt64(storedCRC), digits: 8)), its bytes give 0x\(imageHex(UInt64(computed), digits: 8))")
        }
        guard width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw .corrupt("IHDR declares \(width)×\(height): PNG dimensions are at most 2^31-1")
        }
        let depths: [UInt8]
        switch colour {
        case 0: depths = [1, 2, 4, 8, 16]  // greyscale
        case 3: depths = [1, 2, 4, 8]  // palette
        case 2, 4, 6: depths = [8, 16]  // RGB, grey+alpha, RGBA
        default: throw .corrupt("IHDR declares colour type \(colour) (valid: 0, 2, 3, 4, 6)")
        }
        guard depths.contains(depth) else {
            throw .corrupt("IHDR declares bit depth \(depth), invalid for colour type \(colour)")
        }
        guard compression == 0, filter == 0 else {
            throw .corrupt("IHDR declares compression method \(compression) and filter method \(filter) (both must be 0)")
        }
        guard interlace <= 1 else { throw .corrupt("IHDR declares interlace method \(interlace) (0 or 1)") }
        return ImageDimensions(.png, width: UInt64(width), height: UInt64(height))
    }
}

/// CRC-32 (ISO 3309, as in PNG and zlib), bit by bit: it only ever covers a few bytes here.
func imageCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}
