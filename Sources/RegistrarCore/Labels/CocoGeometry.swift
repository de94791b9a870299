/// One object instance's geometry in COCO pixels (annotation-spec §6): `bbox` for every shape,
/// and per shape the segmentation (polygon lists or RLE), area and keypoints Encord's exporter writes.
struct CocoGeometry {
    var area: Double
    var bbox: [Double]
    var crowd = false
    var segmentation: JSONValue = .array([])
    var keypoints: JSONValue = .null
    var keypointCount: Int?
    var rotation: JSONValue?

    /// A JSON number as Python's `repr` writes a float (`192.0`, `184.8`): Swift's shortest
    /// round-trip description agrees with it for finite values.
    static func number(_ d: Double) -> JSONValue {
        guard d.isFinite else { return .null }
        return .number(d == d.rounded() && abs(d) < 1e15 ? String(format1: d) : "\(d)")
    }

    static func points(_ v: JSONValue?, width: Double, height: Double) -> [(x: Double, y: Double, item: JSONValue)] {
        guard case .object(let members)? = v else { return [] }
        return members.compactMap { m in
            guard let x = m.value["x"]?.doubleValue, let y = m.value["y"]?.doubleValue else { return nil }
            return (x * width, y * height, m.value)
        }
    }

    static func box(_ xs: [Double], _ ys: [Double]) -> [Double] {
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return [0, 0, 0, 0] }
        return [x0, y0, x1 - x0, y1 - y0]
    }

    /// Shoelace area of one ring `[x1, y1, …]`.
    static func ringArea(_ r: [Double]) -> Double {
        let n = r.count / 2
        var s = 0.0
        for i in 0..<n { let j = (i + 1) % n; s += r[2 * i] * r[2 * j + 1] - r[2 * j] * r[2 * i + 1] }
        return abs(s) / 2
    }

    static func of(_ instance: JSONValue, shape: String, width: Double, height: Double) -> CocoGeometry? {
        switch shape {
        case "bounding_box", "rotatable_bounding_box":
            let key = shape == "bounding_box" ? "boundingBox" : "rotatableBoundingBox"
            guard let b = instance[key], let x = b["x"]?.doubleValue, let y = b["y"]?.doubleValue,
                  let w = b["w"]?.doubleValue, let h = b["h"]?.doubleValue else { return nil }
            let (px, py, pw, ph) = (x * width, y * height, w * width, h * height)
            var g = CocoGeometry(area: pw * ph, bbox: [px, py, pw, ph])
            g.segmentation = .array([.array([px, py, px + pw, py, px + pw, py + ph, px, py + ph].map(number))])
            if shape == "rotatable_bounding_box" { g.rotation = b["theta"] ?? .number("0") }
            return g
        case "polygon":
            // `polygons` (multi-polygons, holes) when present, else the single ring of `polygon`.
            var polygons: [[[Double]]] = []
            if case .array(let list)? = instance["polygons"] {
                for polygon in list {
                    guard case .array(let rings) = polygon else { continue }
                    polygons.append(rings.compactMap { ring in
                        guard case .array(let vs) = ring else { return nil }
                        return vs.enumerated().compactMap { i, v in v.doubleValue.map { i % 2 == 0 ? $0 * width : $0 * height } }
                    })
                }
            }
            if polygons.isEmpty {
                let pts = points(instance["polygon"], width: width, height: height)
                polygons = [[pts.flatMap { [$0.x, $0.y] }]]
            }
            let all = polygons.flatMap { $0 }
            let xs = all.flatMap { r in stride(from: 0, to: r.count, by: 2).map { r[$0] } }
            let ys = all.flatMap { r in stride(from: 1, to: r.count, by: 2).map { r[$0] } }
            if polygons.count == 1 && polygons[0].count == 1 {
                var g = CocoGeometry(area: ringArea(polygons[0][0]), bbox: box(xs, ys))
                g.segmentation = .array([.array(polygons[0][0].map(number))])
                return g
            }
            // Several polygons or holes: a mask, RLE, iscrowd 1.
            let (w, h) = (Int(width), Int(height))
            guard w > 0, h > 0 else { return nil }
            let mask = CocoRLE.rasterize(rings: all, width: w, height: h)
            return rle(mask, width: w, height: h)
        case "polyline":
            let pts = points(instance["polyline"], width: width, height: height)
            var g = CocoGeometry(area: 0, bbox: box(pts.map(\.x), pts.map(\.y)))
            g.segmentation = .array([.array(pts.flatMap { [number($0.x), number($0.y)] })])
            return g
        case "point":
            guard let p = points(instance["point"], width: width, height: height).first else { return nil }
            var g = CocoGeometry(area: 0, bbox: [p.x, p.y, 0, 0])
            g.keypoints = .array([number(p.x), number(p.y), .number("2")])
            g.keypointCount = 1
            return g
        case "skeleton":
            let pts = points(instance["skeleton"], width: width, height: height)
            var g = CocoGeometry(area: 0, bbox: box(pts.map(\.x), pts.map(\.y)))
            // COCO visibility: 0 not labelled, 1 labelled but not visible, 2 visible.
            g.keypoints = .array(pts.flatMap { p -> [JSONValue] in
                let v = p.item["visibility"]?.stringValue ?? "visible"
                return [number(p.x), number(p.y), .number(v == "visible" ? "2" : v == "invisible" ? "0" : "1")]
            })
            g.keypointCount = pts.filter { ($0.item["visibility"]?.stringValue ?? "visible") != "invisible" }.count
            return g
        case "bitmask":
            // Encord's rleString runs over the row-major mask (the SDK decodes with size
            // [width, height] and transposes); COCO's runs go down columns: re-encode.
            guard let b = instance["bitmask"], let text = b["rleString"]?.stringValue, let runs = CocoRLE.decode(text),
                  let w = b["width"]?.doubleValue.map(Int.init), let h = b["height"]?.doubleValue.map(Int.init), w > 0, h > 0,
                  let mask = CocoRLE.expand(runs, count: w * h) else { return nil }
            return rle(mask, width: w, height: h)
        case "circle", "ellipse":
            guard let c = instance[shape], let x = c["x"]?.doubleValue, let y = c["y"]?.doubleValue else { return nil }
            let rx = (c["rx"]?.doubleValue ?? c["r"]?.doubleValue ?? 0) * width
            let ry = (c["ry"]?.doubleValue ?? c["r"]?.doubleValue ?? 0) * (shape == "circle" ? width : height)
            let (cx, cy) = (x * width, y * height)
            return CocoGeometry(area: Double.pi * rx * ry, bbox: [cx - rx, cy - ry, 2 * rx, 2 * ry])
        default:
            return nil
        }
    }

    static func rle(_ mask: [UInt8], width: Int, height: Int) -> CocoGeometry {
        let (area, bbox) = CocoRLE.extent(rowMajor: mask, width: width, height: height)
        var g = CocoGeometry(area: Double(area), bbox: (bbox ?? [0, 0, 0, 0]).map(Double.init), crowd: true)
        g.segmentation = .object([("size", .array([.number(String(height)), .number(String(width))])),
                                  ("counts", .string(CocoRLE.encode(CocoRLE.runs(rowMajor: mask, width: width, height: height))))])
        return g
    }
}

extension String {
    /// A whole number written with one decimal, as Python writes floats (`192.0`).
    init(format1 d: Double) { self = String(Int64(d)) + ".0" }
}
