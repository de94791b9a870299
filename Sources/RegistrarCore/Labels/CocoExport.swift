/// One data unit as an export sees it: its label row's media facts plus what COCO's `images`
/// need (title, link, per-frame names).
public struct LabelExportUnit: Sendable {
    public var media: LabelMedia
    public var title: String
    /// `coco_url`: the data link (a signed link when the export asked for them).
    public var link: String?
    /// Frame URLs for image groups and sequences (their file extensions name COCO files).
    public var frameURLs: [String]
    /// DICOM SOP instance UIDs, per slice.
    public var sopInstanceUIDs: [String]
    public init(media: LabelMedia, title: String, link: String?, frameURLs: [String] = [], sopInstanceUIDs: [String] = []) {
        self.media = media; self.title = title; self.link = link; self.frameURLs = frameURLs; self.sopInstanceUIDs = sopInstanceUIDs
    }
}

/// Running ids of a COCO export: images and annotations count from 0 and an object's track
/// keeps one `track_id` across its frames (annotation-spec §6; the SDK counts from 0). Tracks
/// are keyed by data unit and object hash, so a track never spans two rows.
public struct CocoCounters: Sendable, Equatable {
    public var nextImage = 0
    public var nextAnnotation = 0
    public var tracks: [String: Int] = [:]
    public init() {}
    mutating func track(_ objectHash: String) -> Int {
        if let t = tracks[objectHash] { return t }
        let t = tracks.count
        tracks[objectHash] = t
        return t
    }
}

/// The COCO mapping of Encord's exporter (annotation-spec §6, docs/labels.md "COCO"), as pure
/// functions of label rows and the ontology. Pixel coordinates come from the recorded width and
/// height: x and w × width, y and h × height (Encord's doc line saying otherwise is an error).
/// Dynamic answers are looked up by (data unit, frame), not by COCO image id (the SDK's defect).
public enum CocoExport {
    /// Shapes that never become categories (they label time or text, not pixels).
    static let nonVisual: Set<String> = ["audio", "text", "time_range"]

    /// `categories`: one per drawable ontology object, ids from 1 in ontology order.
    public static func categories(_ ontology: OntologyIndex) -> [JSONValue] {
        categoryIDs(ontology).map { object, id in
            var fields: [(String, JSONValue)] = [("supercategory", .string(object.shape)), ("id", .number(String(id))), ("name", .string(object.name))]
            if object.shape == "point" { fields += [("keypoints", .string("keypoint")), ("skeleton", .array([]))] }
            return .object(fields)
        }
    }

    static func categoryIDs(_ ontology: OntologyIndex) -> [(OntologyIndex.Object, Int)] {
        ontology.objects.filter { !nonVisual.contains($0.shape) }.enumerated().map { ($1, $0 + 1) }
    }

    /// The images and annotations of one label row. Images: the image itself, or each labelled
    /// frame; units COCO cannot hold (audio, text, PDF) give none.
    public static func row(_ row: JSONValue, unit: LabelExportUnit, ontology: OntologyIndex,
                           counters: inout CocoCounters) -> (images: [JSONValue], annotations: [JSONValue]) {
        let media = unit.media
        guard ["image", "video", "image_sequence", "image_group", "dicom_series", "dicom", "nifti"].contains(media.dataType),
              let labels = row["data_units"]?[media.dataHash]?["labels"] else { return ([], []) }
        let categories = Dictionary(categoryIDs(ontology).map { ($0.0.featureHash, $0.1) }, uniquingKeysWith: { a, _ in a })
        var frames: [(Int, JSONValue)] = []
        if media.placement == .single {
            frames = [(0, labels)]
        } else if case .object(let members) = labels {
            frames = members.compactMap { m in Int(m.key).map { ($0, m.value) } }.sorted { $0.0 < $1.0 }
        }
        var images: [JSONValue] = []
        var annotations: [JSONValue] = []
        let width = Double(media.width ?? 0), height = Double(media.height ?? 0)
        for (frame, content) in frames {
            guard case .array(let objects)? = content["objects"], !objects.isEmpty else { continue }
            let imageID = counters.nextImage
            counters.nextImage += 1
            images.append(image(unit, frame: frame, id: imageID))
            for instance in objects {
                guard let feature = instance["featureHash"]?.stringValue, let object = ontology.object(feature),
                      let category = categories[feature], let hash = instance["objectHash"]?.stringValue else { continue }
                guard let g = CocoGeometry.of(instance, shape: object.shape, width: width, height: height) else { continue }
                // A track is one object of one row: object hashes are short and only unique per row.
                let track = counters.track(media.dataHash + "/" + hash)
                var attributes: [(String, JSONValue)] = [("track_id", .number(String(track))), ("encord_track_uuid", .string(hash))]
                if let theta = g.rotation { attributes.append(("rotation", theta)) }
                attributes.append(("classifications", .object(answers(for: object, objectHash: hash, frame: frame, row: row))))
                attributes.append(("manual_annotation", .bool(instance["manualAnnotation"] != .bool(false))))
                annotations.append(.object([
                    ("area", CocoGeometry.number(g.area)), ("bbox", .array(g.bbox.map(CocoGeometry.number))),
                    ("category_id", .number(String(category))), ("image_id", .number(String(imageID))),
                    ("iscrowd", .number(g.crowd ? "1" : "0")), ("segmentation", g.segmentation), ("keypoints", g.keypoints),
                    ("num_keypoints", g.keypointCount.map { .number(String($0)) } ?? .null),
                    ("id", .number(String(counters.nextAnnotation))), ("attributes", .object(attributes)),
                ]))
                counters.nextAnnotation += 1
            }
        }
        return (images, annotations)
    }

    static func image(_ unit: LabelExportUnit, frame: Int, id: Int) -> JSONValue {
        let h = unit.media.dataHash
        func ext(_ url: String?) -> String {
            guard let url, let dot = url.split(separator: "?")[0].split(separator: "/").last?.split(separator: ".").last,
                  url.split(separator: "?")[0].split(separator: "/").last!.contains("."), dot.count <= 5 else { return "jpg" }
            return dot.lowercased()
        }
        let (name, titleKey): (String, String) = switch unit.media.dataType {
        case "image": ("images/\(h).\(ext(unit.link))", "image_title")
        case "image_group": ("images/\(h)/\(frame).\(ext(frame < unit.frameURLs.count ? unit.frameURLs[frame] : nil))", "image_title")
        case "dicom_series", "dicom": ("dicom/\(h)/\(frame < unit.sopInstanceUIDs.count ? unit.sopInstanceUIDs[frame] : String(frame))", "image_title")
        case "nifti": ("nifti/\(h)/\(frame)", "image_title")
        default: ("videos/\(h)/\(frame).jpg", "video_title")
        }
        return .object([("coco_url", unit.link.map(JSONValue.string) ?? .null), ("id", .number(String(id))), (titleKey, .string(unit.title)),
                        ("file_name", .string(name)), ("height", .number(String(unit.media.height ?? 0))), ("width", .number(String(unit.media.width ?? 0)))])
    }

    /// `{attribute name: answer}` for the object's top-level attributes (nested ones are not
    /// exported, as in Encord): radio → the option's label, checklist → `{option label: bool}`
    /// flattened, text → string, numeric → number, unanswered → null. Dynamic attributes take the
    /// action whose range holds `frame`.
    static func answers(for object: OntologyIndex.Object, objectHash: String, frame: Int, row: JSONValue) -> [(String, JSONValue)] {
        var given: [String: JSONValue] = [:]
        if case .array(let list)? = row["object_answers"]?[objectHash]?["classifications"] {
            for a in list { if let f = a["featureHash"]?.stringValue { given[f] = a["answers"] } }
        }
        if case .array(let actions)? = row["object_actions"]?[objectHash]?["actions"] {
            for a in actions {
                guard let f = a["featureHash"]?.stringValue, case .array(let ranges)? = a["range"] else { continue }
                let holds = ranges.contains { r in
                    guard case .array(let p) = r, p.count == 2, let lo = p[0].doubleValue, let hi = p[1].doubleValue else { return false }
                    return Double(frame) >= lo && Double(frame) <= hi
                }
                if holds { given[f] = a["answers"] }
            }
        }
        var out: [(String, JSONValue)] = []
        for attribute in object.attributes {
            let answer = given[attribute.featureHash]
            switch attribute.type {
            case "checklist":
                var picked: Set<String> = []
                if case .array(let picks)? = answer { picked = Set(picks.compactMap { $0["featureHash"]?.stringValue }) }
                for option in attribute.options { out.append((option.label, .bool(picked.contains(option.featureHash)))) }
            case "radio":
                var label: JSONValue = .null
                if case .array(let picks)? = answer, let f = picks.first?["featureHash"]?.stringValue,
                   let option = attribute.options.first(where: { $0.featureHash == f }) { label = .string(option.label) }
                out.append((attribute.name, label))
            default:
                out.append((attribute.name, answer ?? .null))
            }
        }
        return out
    }
}

extension JSONValue {
    /// The number's value, nil for anything else.
    public var doubleValue: Double? { if case .number(let t) = self { return Double(t) } else { return nil } }
}
