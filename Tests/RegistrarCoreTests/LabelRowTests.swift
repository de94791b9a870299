import Foundation
import Testing
@testable import RegistrarCore

/// The label-row core against annotation-spec §2 and §6: the spec's own examples (ontology,
/// image row, 2-frame video row, COCO export) as fixtures, one refused example per rule, and
/// COCO RLE against vectors pycocotools wrote (scripts/coco-rle-vectors.py).
fileprivate func labelFixture(_ name: String) throws -> JSONValue {
    let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let data = try Data(contentsOf: dir.appendingPathComponent("labels/\(name)"))
    return try #require(JSONValue.parse(Array(data)))
}

fileprivate let imageMedia = LabelMedia(dataHash: "dh-img-0001", dataType: "image", width: 1920, height: 1080, frameCount: 1)
fileprivate let videoMedia = LabelMedia(dataHash: "dh-vid-0001", dataType: "video", width: 1200, height: 924, frameCount: 2)

/// Replaces the value at a path of object keys / array indices.
fileprivate func edit(_ v: JSONValue, _ path: [Any], _ new: JSONValue?) -> JSONValue {
    guard let head = path.first else { return new ?? .null }
    let rest = Array(path.dropFirst())
    switch v {
    case .object(var members):
        let key = head as! String
        if let i = members.firstIndex(where: { $0.key == key }) {
            if rest.isEmpty && new == nil { members.remove(at: i) } else { members[i].value = edit(members[i].value, rest, new) }
        } else if let new { members.append((key, edit(.object([]), rest, new))) }
        return .object(members)
    case .array(var items):
        let i = head as! Int
        if rest.isEmpty && new == nil { items.remove(at: i) } else { items[i] = edit(items[i], rest, new) }
        return .array(items)
    default: return v
    }
}

@Suite struct LabelRowValidationTests {
    let ontology: OntologyIndex
    let image: JSONValue
    let video: JSONValue

    init() throws {
        ontology = OntologyIndex(structure: try labelFixture("ontology.json"))
        image = try labelFixture("image-row.json")
        video = try labelFixture("video-row.json")
    }

    func issues(_ row: JSONValue, _ media: LabelMedia = imageMedia, submitting: Bool = false, existing: Set<String> = []) -> [LabelIssue] {
        LabelRowValidator.validate(row, ontology: ontology, media: media, existing: existing, submitting: submitting)
    }

    @Test func theSpecExamplesAreValid() {
        #expect(issues(image) == [])
        #expect(issues(video, videoMedia) == [])
        // The image row answers Color (required) on the Car and Time of day: it can be submitted.
        #expect(issues(image, submitting: true) == [])
    }

    nonisolated(unsafe) static let box = ["data_units", "dh-img-0001", "labels", "objects", 0] as [Any]

    @Test func anUnknownFeatureHashIsNamedWithItsPath() {
        let bad = edit(image, Self.box + ["featureHash"], .string("nope0000"))
        #expect(issues(bad).contains(LabelIssue("data_units.dh-img-0001.labels.objects[0].featureHash", "nope0000 is not an object of the project's ontology")))
    }

    @Test func coordinatesOutsideTheFrameAreRefused() {
        let bad = edit(image, Self.box + ["boundingBox", "x"], .number("1.2"))
        let found = issues(bad).map(\.path)
        #expect(found.contains("data_units.dh-img-0001.labels.objects[0].boundingBox.x"))
        #expect(found.contains("data_units.dh-img-0001.labels.objects[0].boundingBox.w"))   // x + w > 1
    }

    @Test func theCoordinateFieldMustMatchTheShape() {
        var bad = edit(image, Self.box + ["boundingBox"], nil)
        bad = edit(bad, Self.box + ["polygon"], .object([("0", .object([("x", .number("0.1")), ("y", .number("0.1"))]))]))
        let found = issues(bad)
        #expect(found.contains { $0.path == "data_units.dh-img-0001.labels.objects[0].polygon" && $0.message.contains("not the coordinate field") })
        #expect(found.contains { $0.path == "data_units.dh-img-0001.labels.objects[0].boundingBox" && $0.message.contains("required") })
    }

    @Test func aPolygonNeedsThreePoints() {
        let poly = ["data_units", "dh-img-0001", "labels", "objects", 1, "polygon"] as [Any]
        let bad = edit(edit(image, poly + ["3"], nil), poly + ["2"], nil)
        #expect(issues(bad).contains { $0.path == "data_units.dh-img-0001.labels.objects[1].polygon" })
    }

    @Test func framesMustExist() {
        let bad = edit(video, ["data_units", "dh-vid-0001", "labels", "5"], .object([("objects", .array([])), ("classifications", .array([]))]))
        #expect(issues(bad, videoMedia).contains(LabelIssue("data_units.dh-vid-0001.labels.5", "frame 5 does not exist: the data unit has 2 frame(s)")))
        let range = edit(video, ["object_actions", "oR1Fmi+X", "actions", 0, "range"], .array([.array([.number("1"), .number("3")])]))
        #expect(issues(range, videoMedia).contains { $0.path == "object_actions.oR1Fmi+X.actions[0].range[0]" })
    }

    @Test func answersMustFitTheirAttribute() {
        let speed = ["object_answers", "88ZK93Wo", "classifications", 0, "answers"] as [Any]
        #expect(issues(edit(image, speed, .string("fast"))).contains {
            $0.path == "object_answers.88ZK93Wo.classifications[0].answers" && $0.message.contains("numeric")
        })
        let color = ["object_answers", "88ZK93Wo", "classifications", 2, "answers"] as [Any]
        let two = JSONValue.array([.object([("featureHash", .string("eOUQYXMR"))]), .object([("featureHash", .string("Nb+ZLcnp"))])])
        #expect(issues(edit(image, color, two)).contains { $0.message.contains("exactly one option") })
        let foreign = JSONValue.array([.object([("featureHash", .string("udF54GwP"))])])   // an option of Time of day
        #expect(issues(edit(image, color, foreign)).contains { $0.path == "object_answers.88ZK93Wo.classifications[2].answers[0].featureHash" })
    }

    @Test func nestedAnswersNeedTheirOptionChosen() {
        // Shade hangs under Red; choose Blue instead and Shade is out of place.
        let color = ["object_answers", "88ZK93Wo", "classifications", 2, "answers"] as [Any]
        let blue = JSONValue.array([.object([("name", .string("Blue")), ("value", .string("blue")), ("featureHash", .string("Nb+ZLcnp"))])])
        // Shade (index 1) comes before Color (index 2) in the example; order in the list must not matter
        // when the option is chosen, but here it is not chosen at all.
        let found = issues(edit(image, color, blue))
        #expect(found.contains { $0.path == "object_answers.88ZK93Wo.classifications[1].featureHash" && $0.message.contains("nested under an option not chosen") })
    }

    @Test func dynamicAnswersOnlyWhereTheOntologyAllows() {
        // Occlusion is dynamic: static answers are refused; Speed is not: dynamic answers are refused.
        let occlusion = JSONValue.object([("name", .string("Occlusion")), ("featureHash", .string("m4EOdm7J")),
                                          ("answers", .array([.object([("featureHash", .string("siIaWACK"))])]))])
        let asStatic = edit(image, ["object_answers", "88ZK93Wo", "classifications"],
                            .array((image["object_answers"]!["88ZK93Wo"]!["classifications"]!.arrayItems) + [occlusion]))
        #expect(issues(asStatic).contains { $0.message.contains("Occlusion is dynamic") })
        let speed = JSONValue.object([("featureHash", .string("GiuPH/H9")), ("answers", .number("3")), ("range", .array([.array([.number("0"), .number("0")])]))])
        let asDynamic = edit(image, ["object_actions", "88ZK93Wo", "actions", 0], speed)
        #expect(issues(asDynamic).contains { $0.message.contains("Speed is not dynamic") })
    }

    @Test func archivedFeaturesAreRefusedForNewLabelsOnly() throws {
        var structure = try labelFixture("ontology.json")
        structure = edit(structure, ["objects", 1, "archived"], .bool(true))   // Road
        let archived = OntologyIndex(structure: structure)
        let fresh = LabelRowValidator.validate(image, ontology: archived, media: imageMedia)
        #expect(fresh.contains { $0.path == "data_units.dh-img-0001.labels.objects[1].featureHash" && $0.message.contains("archived") })
        #expect(LabelRowValidator.validate(image, ontology: archived, media: imageMedia, existing: ["05b6e6e3"]) == [])
    }

    @Test func requiredIsEnforcedOnSubmitOnly() {
        // Drop Color (required; Shade, nested under its Red, goes with it) from the Car's answers
        // and the Time of day classification (required).
        var row = edit(image, ["object_answers", "88ZK93Wo", "classifications", 2], nil)
        row = edit(row, ["object_answers", "88ZK93Wo", "classifications", 1], nil)
        row = edit(row, ["classification_answers", "7BSMtI5z"], nil)
        #expect(issues(row) == [])
        let found = issues(row, submitting: true)
        #expect(found.contains(LabelIssue("object_answers.88ZK93Wo", "Car: Color is required")))
        #expect(found.contains(LabelIssue("classification_answers", "Time of day is required: answer it")))
    }

    @Test func instancesKeepOneObjectPerTrack() {
        // Frame 1's box claims the track of a Road.
        let bad = edit(video, ["data_units", "dh-vid-0001", "labels", "1", "objects", 0, "featureHash"], .string("05b6e6e3"))
        #expect(issues(bad, videoMedia).contains { $0.path == "data_units.dh-vid-0001.labels.1.objects[0].objectHash" })
    }

    @Test func theRowMustBeThisDataUnits() {
        #expect(issues(image, LabelMedia(dataHash: "other", dataType: "image", width: 1, height: 1, frameCount: 1))
            .contains { $0.path == "data_hash" })
    }

    @Test func bothTimestampFormsParseToTheSameInstant() {
        #expect(LabelTimestamp.parse("Thu, 02 Jan 2025 10:00:00 UTC") == 1_735_812_000)
        #expect(LabelTimestamp.parse("2025-01-02 10:00:00") == 1_735_812_000)
        #expect(LabelTimestamp.parse("2025-01-02T11:00:00+01:00") == 1_735_812_000)
        #expect(LabelTimestamp.parse("2025-01-02T10:00:00.250Z") == 1_735_812_000.25)
        #expect(LabelTimestamp.parse("2025-02-30 10:00:00") == nil)
        #expect(LabelTimestamp.parse("yesterday") == nil)
        let bad = edit(image, ["created_at"], .string("02/01/2025"))
        #expect(issues(bad).contains { $0.path == "created_at" })
    }
}

@Suite struct CocoExportTests {
    @Test func theSpecExampleMapsToTheSpecCOCO() throws {
        let ontology = OntologyIndex(structure: try labelFixture("ontology.json"))
        let expected = try labelFixture("coco-example.json")
        var counters = CocoCounters()
        let img = CocoExport.row(try labelFixture("image-row.json"), unit: LabelExportUnit(media: imageMedia, title: "street.jpg",
                                 link: "https://bucket.s3.amazonaws.com/street.jpg"), ontology: ontology, counters: &counters)
        let vid = CocoExport.row(try labelFixture("video-row.json"), unit: LabelExportUnit(media: videoMedia, title: "two-frame-video.mp4",
                                 link: "https://bucket.s3.amazonaws.com/two-frame-video.mp4"), ontology: ontology, counters: &counters)
        #expect(CocoExport.categories(ontology) == expected["categories"]!.arrayItems)
        // Images: the image, then each labelled video frame (the spec trims to frame 0).
        let expectedImages = expected["images"]!.arrayItems
        #expect(Set((img.images + [vid.images[0]]).map(canonical)) == Set(expectedImages.map(canonical)))
        #expect(vid.images.count == 2)
        // The image's box: same numbers as the spec (x, w × width; y, h × height).
        let car = img.annotations[0]
        let want = expected["annotations"]!.arrayItems[0]
        for key in ["area", "bbox", "segmentation", "category_id", "image_id", "iscrowd", "id"] {
            #expect(canonical(car[key]!) == canonical(want[key]!), "\(key)")
        }
        #expect(canonical(car["attributes"]!) == canonical(want["attributes"]!))
        // The video's frame 0 box: the spec's numbers except Partial, which is set on frame 0
        // (the SDK's lookup by image id loses it; we key dynamic answers by frame).
        let frame0 = vid.annotations[0]
        let want0 = expected["annotations"]!.arrayItems[1]
        for key in ["area", "bbox", "segmentation", "category_id", "image_id"] { #expect(canonical(frame0[key]!) == canonical(want0[key]!), "\(key)") }
        #expect(frame0["attributes"]!["classifications"]!["Partial"] == .bool(true))
        #expect(frame0["attributes"]!["classifications"]!["Truncated"] == .bool(false))
        let frame1 = vid.annotations[1]
        #expect(frame1["attributes"]!["classifications"]!["Truncated"] == .bool(true))
        // One track across both frames of the video, another for the image's car and road.
        #expect(frame0["attributes"]!["track_id"] == frame1["attributes"]!["track_id"])
        #expect(img.annotations[1]["attributes"]!["track_id"] != car["attributes"]!["track_id"])
        #expect(counters.nextAnnotation == 4 && counters.nextImage == 3)
    }

    @Test func aPolygonWithAHoleBecomesRLE() {
        let ontology = OntologyIndex(structure: .object([("objects", .array([.object([
            ("id", .string("1")), ("name", .string("Ring")), ("color", .string("#000000")), ("shape", .string("polygon")), ("featureNodeHash", .string("aaaa0001")),
        ])])), ("classifications", .array([]))]))
        // A 10×10 image: outer square 1..9, hole 3..7 (normalised by 10).
        let outer: [Double] = [0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9]
        let hole: [Double] = [0.3, 0.3, 0.7, 0.3, 0.7, 0.7, 0.3, 0.7]
        let polygons = JSONValue.array([.array([.array(outer.map { .number(String($0)) }), .array(hole.map { .number(String($0)) })])])
        let row = JSONValue.object([("data_units", .object([("u", .object([("labels", .object([("objects", .array([.object([
            ("featureHash", .string("aaaa0001")), ("objectHash", .string("r1")), ("polygon", .object([])), ("polygons", polygons),
        ])]))]))]))]))])
        var counters = CocoCounters()
        let out = CocoExport.row(row, unit: LabelExportUnit(media: LabelMedia(dataHash: "u", dataType: "image", width: 10, height: 10, frameCount: 1),
                                                            title: "r.png", link: nil), ontology: ontology, counters: &counters)
        let a = out.annotations[0]
        #expect(a["iscrowd"] == .number("1"))
        #expect(a["area"] == .number("48.0"))          // 8×8 minus 4×4
        #expect(canonical(a["bbox"]!) == "[1.0,1.0,8.0,8.0]")
        let counts = a["segmentation"]!["counts"]!.stringValue!
        let mask = CocoRLE.expand(CocoRLE.decode(counts)!, count: 100)!
        // Column-major: pixel (x 5, y 5) is in the hole, (x 2, y 2) is set.
        #expect(mask[5 * 10 + 5] == 0 && mask[2 * 10 + 2] == 1)
    }

    @Test func rleMatchesPycocotools() throws {
        let vectors = try labelFixture("rle-vectors.json")["vectors"]!.arrayItems
        #expect(vectors.count >= 8)
        for v in vectors {
            let h = v["height"]!.intValue!, w = v["width"]!.intValue!
            let mask = v["rowMajor"]!.stringValue!.utf8.map { $0 == UInt8(ascii: "1") ? UInt8(1) : 0 }
            let counts = v["counts"]!.stringValue!
            #expect(CocoRLE.encode(CocoRLE.runs(rowMajor: mask, width: w, height: h)) == counts, "\(h)×\(w)")
            // Decoding gives the column-major mask back.
            let runs = try #require(CocoRLE.decode(counts))
            let colMajor = try #require(CocoRLE.expand(runs, count: h * w))
            for x in 0..<w { for y in 0..<h { #expect(colMajor[x * h + y] == mask[y * w + x]) } }
            let (area, bbox) = CocoRLE.extent(rowMajor: mask, width: w, height: h)
            #expect(area == v["area"]!.intValue!)
            #expect((bbox ?? [0, 0, 0, 0]) == v["bbox"]!.arrayItems.map { $0.intValue! })
        }
        #expect(CocoRLE.decode("0!") == nil)
    }
}

fileprivate func canonical(_ v: JSONValue) -> String { sortedKeys(v).compactText }
fileprivate func sortedKeys(_ v: JSONValue) -> JSONValue {
    switch v {
    case .object(let m): return .object(m.sorted { $0.key < $1.key }.map { ($0.key, sortedKeys($0.value)) })
    case .array(let a): return .array(a.map(sortedKeys))
    case .number(let t): return .number(Double(t).map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) + ".0" : "\($0)" } ?? t)
    default: return v
    }
}

extension JSONValue {
    var arrayItems: [JSONValue] { if case .array(let a) = self { return a } else { return [] } }
}
