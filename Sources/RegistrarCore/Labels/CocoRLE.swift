/// COCO's run-length encoding of binary masks (pycocotools `mask.encode` / `_mask.pyx`): runs
/// alternate 0s and 1s starting with 0s, over the mask in column-major order (down each
/// column, columns left to right), and the "compressed" counts string packs each run as
/// LEB128-like 5-bit groups offset by 48, each run after the second delta-coded against the
/// run two before. Pure; used for bitmasks and polygons with holes in COCO exports.
public enum CocoRLE {
    /// Runs of a mask given as rows (`mask[y * width + x]`, non-zero = set), in COCO's column-major order.
    public static func runs(rowMajor mask: [UInt8], width: Int, height: Int) -> [Int] {
        var runs: [Int] = []
        var current: UInt8 = 0
        var length = 0
        for x in 0..<width {
            for y in 0..<height {
                let v: UInt8 = mask[y * width + x] != 0 ? 1 : 0
                if v == current { length += 1 } else { runs.append(length); current = v; length = 1 }
            }
        }
        runs.append(length)
        return runs
    }

    /// The compressed counts string of `runs`.
    public static func encode(_ runs: [Int]) -> String {
        var out: [UInt8] = []
        for i in runs.indices {
            var x = runs[i]
            if i > 2 { x -= runs[i - 2] }
            var more = true
            while more {
                var c = x & 0x1f
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.append(UInt8(c + 48))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The runs of a compressed counts string; nil when it is malformed.
    public static func decode(_ text: String) -> [Int]? {
        var runs: [Int] = []
        let bytes = Array(text.utf8)
        var p = 0
        while p < bytes.count {
            var x = 0, k = 0, more = true
            while more {
                guard p < bytes.count, bytes[p] >= 48, bytes[p] < 48 + 64, k < 12 else { return nil }
                let c = Int(bytes[p]) - 48
                x |= (c & 0x1f) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if !more && (c & 0x10) != 0 { x |= -1 << (5 * k) }
            }
            if runs.count > 2 { x += runs[runs.count - 2] }
            guard x >= 0 else { return nil }
            runs.append(x)
        }
        return runs
    }

    /// Expands runs into a flat 0/1 array of `count` cells in the runs' own order; nil when the
    /// runs do not cover exactly `count` cells.
    public static func expand(_ runs: [Int], count: Int) -> [UInt8]? {
        guard runs.reduce(0, +) == count else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        var at = 0
        for (i, r) in runs.enumerated() {
            if i % 2 == 1 { for j in at..<(at + r) { out[j] = 1 } }
            at += r
        }
        return out
    }

    /// Area (set cells) and pixel bbox `[x, y, w, h]` of a row-major mask; nil bbox when empty.
    public static func extent(rowMajor mask: [UInt8], width: Int, height: Int) -> (area: Int, bbox: [Int]?) {
        var area = 0, minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] != 0 {
                area += 1
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        return (area, maxX < 0 ? nil : [minX, minY, maxX - minX + 1, maxY - minY + 1])
    }

    /// Rasterises polygons (rings of pixel coordinates `[x1, y1, x2, y2, …]`) with the even-odd
    /// rule at pixel centres: a ring inside another is a hole. Row-major result.
    public static func rasterize(rings: [[Double]], width: Int, height: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            let cy = Double(y) + 0.5
            var crossings: [Double] = []
            for ring in rings where ring.count >= 6 {
                let n = ring.count / 2
                for i in 0..<n {
                    let (x0, y0) = (ring[2 * i], ring[2 * i + 1])
                    let (x1, y1) = (ring[2 * ((i + 1) % n)], ring[2 * ((i + 1) % n) + 1])
                    if (y0 <= cy) != (y1 <= cy) { crossings.append(x0 + (cy - y0) / (y1 - y0) * (x1 - x0)) }
                }
            }
            crossings.sort()
            var i = 0
            while i + 1 < crossings.count {
                let from = max(0, Int((crossings[i] - 0.5).rounded(.up)))
                let to = min(width - 1, Int((crossings[i + 1] - 0.5).rounded(.down)))
                if from <= to { for x in from...to { mask[y * width + x] = 1 } }
                i += 2
            }
        }
        return mask
    }
}
