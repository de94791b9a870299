/// The orientation a viewer applies before showing a picture: the EXIF `Orientation` values
/// 1–8 (a JPEG's EXIF, and an MP4/MOV track's `tkhd` display matrix mapped onto the same
/// values). Registrar's convention (docs/probing.md, docs/editor.md): the recorded width
/// and height are those of the **displayed** picture, so for 5–8 (a quarter turn) they are the
/// stored ones swapped; labels and COCO pixels refer to that displayed frame, as browsers show it.
public enum MediaOrientation {
    /// Whether the orientation turns the picture a quarter (5–8: width and height swap).
    public static func swapsSides(_ orientation: Int?) -> Bool { (5...8).contains(orientation ?? 1) }

    /// The EXIF orientation in a JPEG APP1 segment's payload (`Exif\0\0` + TIFF), or nil when it
    /// is absent or unreadable (a partial or odd EXIF never fails the probe: it only has no
    /// orientation). Only IFD0 is read; values outside 1–8 are ignored.
    static func exif(_ payload: ArraySlice<UInt8>) -> Int? {
        let r = ImageByteReader(payload)
        guard payload.count >= 14, r.byte(at: 0) == 0x45, r.byte(at: 1) == 0x78, r.byte(at: 2) == 0x69, r.byte(at: 3) == 0x66,
              r.byte(at: 4) == 0, r.byte(at: 5) == 0 else { return nil }
        let tiff = 6
        let order: ImageByteOrder
        switch (r.byte(at: tiff), r.byte(at: tiff + 1)) {
        case (0x49, 0x49): order = .little
        case (0x4D, 0x4D): order = .big
        default: return nil
        }
        guard r.uint(at: tiff + 2, width: 2, order) == 42, let ifd = r.uint(at: tiff + 4, width: 4, order),
              let count = r.uint(at: tiff + Int(ifd), width: 2, order) else { return nil }
        for i in 0..<min(Int(count), 512) {
            let entry = tiff + Int(ifd) + 2 + 12 * i
            guard let tag = r.uint(at: entry, width: 2, order) else { return nil }
            guard tag == 0x0112 else { continue }
            // SHORT (3), count 1: the value sits in the first two bytes of the value field.
            guard r.uint(at: entry + 2, width: 2, order) == 3, let v = r.uint(at: entry + 8, width: 2, order), (1...8).contains(v) else { return nil }
            return Int(v)
        }
        return nil
    }

    /// A track header's display matrix `[a b u; c d v; x y w]` (16.16 fixed point) as an EXIF
    /// orientation: the identity 1, a quarter turn clockwise 6, a half turn 3, three quarters 8;
    /// anything else (mirrors, scaling, shear) nil — shown as stored.
    static func matrix(a: Int32, b: Int32, c: Int32, d: Int32) -> Int? {
        let one: Int32 = 0x10000
        switch (a, b, c, d) {
        case (one, 0, 0, one): return 1
        case (0, one, -one, 0): return 6
        case (-one, 0, 0, -one): return 3
        case (0, -one, one, 0): return 8
        default: return nil
        }
    }
}
