/// Checks a label row in Encord's `LabelRowV2.to_encord_dict()` shape (annotation-spec §2)
/// against the project's ontology and the data unit's probed media, naming the JSON path of
/// every problem (docs/labels.md, "Validation"):
///
/// - feature hashes exist; archived ones only where the stored row already used them;
/// - each object instance carries the one coordinate field its shape has, normalised to 0..1;
/// - frames exist (below the probed frame count) and labels sit where the data type puts them;
/// - answers fit their attribute (radio: one option of it; checklist: its options; text: a
///   string; numeric: a number); nested answers only under the radio option chosen;
/// - dynamic answers (`object_actions`) only for attributes the ontology marks dynamic, static
///   answers (`object_answers`) only for the others;
/// - with `submitting`, `required` objects, classifications and attributes are present.
public struct LabelRowValidator {
    public let ontology: OntologyIndex
    public let media: LabelMedia
    /// Feature hashes the stored row already uses: archived elements stay valid there.
    public let existing: Set<String>
    public let submitting: Bool
    /// At most this many issues are listed.
    public static let maxIssues = 100

    public private(set) var issues: [LabelIssue] = []
    public private(set) var omitted = 0
    /// objectHash → featureHash, from the instances seen.
    private var tracks: [String: String] = [:]
    /// objectHash → frames it appears on.
    private var trackFrames: [String: Set<Int>] = [:]

    public init(ontology: OntologyIndex, media: LabelMedia, existing: Set<String> = [], submitting: Bool = false) {
        self.ontology = ontology; self.media = media; self.existing = existing; self.submitting = submitting
    }

    /// Validates `row`; the issues (empty when valid) are in `issues`.
    public static func validate(_ row: JSONValue, ontology: OntologyIndex, media: LabelMedia, existing: Set<String> = [],
                                submitting: Bool = false) -> [LabelIssue] {
        var v = LabelRowValidator(ontology: ontology, media: media, existing: existing, submitting: submitting)
        v.check(row)
        if v.omitted > 0 { v.issues.append(LabelIssue("$", "\(v.omitted) more problem(s) not listed")) }
        return v.issues
    }

    mutating func fail(_ path: String, _ message: String) {
        if issues.count < Self.maxIssues { issues.append(LabelIssue(path, message)) } else { omitted += 1 }
    }

    // MARK: The row

    mutating func check(_ row: JSONValue) {
        guard case .object(let members) = row else { return fail("$", "a label row is a JSON object, got \(row.kindName)") }
        let known: Set<String> = ["label_hash", "branch_name", "created_at", "last_edited_at", "data_hash", "dataset_hash", "dataset_title",
                                  "data_title", "data_type", "annotation_task_status", "is_shadow_data", "object_answers",
                                  "classification_answers", "object_actions", "label_status", "data_units", "spaces", "scene",
                                  "is_image_sequence", "video_link", "is_valid"]
        for m in members where !known.contains(m.key) { fail(m.key, "is not a label row field") }
        if let h = row["data_hash"], h != .string(media.dataHash) {
            fail("data_hash", "must be \(media.dataHash), the data unit this row belongs to")
        }
        for key in ["created_at", "last_edited_at"] { timestamp(row[key], at: key) }
        guard case .object(let units)? = row["data_units"] else { return fail("data_units", "is required (an object keyed by data hash)") }
        for unit in units where unit.key != media.dataHash {
            fail("data_units.\(unit.key)", "is not this row's data unit (\(media.dataHash))")
        }
        if let unit = units.first(where: { $0.key == media.dataHash })?.value {
            dataUnit(unit, at: "data_units.\(media.dataHash)")
        } else if !units.isEmpty || submitting {
            fail("data_units.\(media.dataHash)", "is required")
        }
        objectAnswers(row["object_answers"])
        objectActions(row["object_actions"])
        classificationAnswers(row["classification_answers"])
        if submitting { required(row) }
    }

    mutating func timestamp(_ value: JSONValue?, at path: String) {
        guard let value, value != .null else { return }
        guard case .string(let s) = value, LabelTimestamp.parse(s) != nil else {
            return fail(path, "must be a time like \"Thu, 02 Jan 2025 10:00:00 UTC\" or \"2025-01-07 16:12:23\"")
        }
    }

    mutating func dataUnit(_ unit: JSONValue, at path: String) {
        guard case .object = unit else { return fail(path, "must be an object") }
        guard let labels = unit["labels"] else { return }
        guard case .object(let members) = labels else { return fail("\(path).labels", "must be an object") }
        switch media.placement {
        case .single:
            frame(labels, number: 0, at: "\(path).labels")
        case .ranges:
            if !members.isEmpty { fail("\(path).labels", "must be {} for \(media.dataType): regions live in object_answers with a range") }
        case .frames:
            for m in members {
                let p = "\(path).labels.\(m.key)"
                guard let n = Int(m.key), n >= 0, String(n) == m.key else { fail(p, "frame keys are frame numbers (\"0\", \"1\", …)"); continue }
                if let count = media.frameCount, n >= count { fail(p, "frame \(n) does not exist: the data unit has \(count) frame(s)"); continue }
                frame(m.value, number: n, at: p)
            }
        }
    }

    mutating func frame(_ value: JSONValue, number: Int, at path: String) {
        guard case .object = value else { return fail(path, "must be {\"objects\": [...], \"classifications\": [...]}") }
        if let objects = value["objects"] {
            guard case .array(let items) = objects else { return fail("\(path).objects", "must be an array") }
            for (i, item) in items.enumerated() { instance(item, frame: number, at: "\(path).objects[\(i)]") }
        }
        if let c = value["classifications"], case .array = c {} else if value["classifications"] != nil {
            fail("\(path).classifications", "must be an array")
        }
    }

    // MARK: Object instances and coordinates

    mutating func instance(_ item: JSONValue, frame: Int, at path: String) {
        guard case .object = item else { return fail(path, "must be an object instance") }
        guard case .string(let feature)? = item["featureHash"] else { return fail("\(path).featureHash", "is required") }
        guard let object = ontology.object(feature) else { return fail("\(path).featureHash", "\(feature) is not an object of the project's ontology") }
        if object.archived && !existing.contains(feature) { fail("\(path).featureHash", "\(object.name) (\(feature)) is archived: new labels may not use it") }
        guard case .string(let hash)? = item["objectHash"], !hash.isEmpty, hash.utf8.count <= 64 else {
            return fail("\(path).objectHash", "is required (a string of 1 to 64 characters)")
        }
        if let known = tracks[hash], known != feature {
            fail("\(path).objectHash", "\(hash) is already an instance of another object (\(known)) on another frame")
        }
        tracks[hash] = feature
        if trackFrames[hash, default: []].insert(frame).inserted == false { fail("\(path).objectHash", "\(hash) appears twice on frame \(frame)") }
        if let shape = item["shape"], shape != .string(object.shape) { fail("\(path).shape", "must be \(object.shape), the shape of \(object.name)") }
        if let c = item["confidence"], !(number(c).map { (0...1).contains($0) } ?? false) { fail("\(path).confidence", "must be a number in 0..1") }
        for key in ["createdAt", "lastEditedAt"] { timestamp(item[key], at: "\(path).\(key)") }
        let geometryKeys = Self.geometryKeys
        let present = geometryKeys.values.filter { item[$0] != nil }
        guard let key = geometryKeys[object.shape] else {
            return fail(path, "objects of shape \(object.shape) are not drawn on frames")
        }
        for other in present where other != key && !(object.shape == "polygon" && other == "polygons") {
            fail("\(path).\(other)", "is not the coordinate field of a \(object.shape) (that is \(key))")
        }
        guard let geometry = item[key] else { return fail("\(path).\(key)", "is required for a \(object.shape)") }
        coordinates(geometry, shape: object.shape, at: "\(path).\(key)")
        if object.shape == "polygon", let polygons = item["polygons"] { polygonRings(polygons, at: "\(path).polygons") }
    }

    /// Shape → the coordinate field of an instance.
    static let geometryKeys: [String: String] = [
        "bounding_box": "boundingBox", "rotatable_bounding_box": "rotatableBoundingBox", "polygon": "polygon", "polyline": "polyline",
        "point": "point", "skeleton": "skeleton", "bitmask": "bitmask", "circle": "circle", "ellipse": "ellipse", "cuboid_2d": "cuboid_2d",
        "cuboid": "cuboid",
    ]

    func number(_ v: JSONValue?) -> Double? {
        if case .number(let t)? = v { return Double(t) }
        return nil
    }

    /// A coordinate normalised to the frame: a number in 0..1.
    mutating func unit(_ v: JSONValue?, at path: String) {
        guard let x = number(v) else { return fail(path, "must be a number in 0..1") }
        if !(0...1).contains(x) { fail(path, "is \(x): coordinates are normalised to 0..1 of the frame") }
    }

    mutating func anyNumber(_ v: JSONValue?, at path: String) {
        if number(v) == nil { fail(path, "must be a number") }
    }

    /// `{"0": {"x", "y"}, "1": …}` with at least `minimum` points, keys 0…n-1.
    mutating func points(_ v: JSONValue, minimum: Int, at path: String, skeleton: Bool = false) {
        guard case .object(let members) = v else { return fail(path, "must be an object of points {\"0\": {\"x\", \"y\"}, …}") }
        if members.count < minimum { fail(path, "needs at least \(minimum) point(s), has \(members.count)") }
        // JSON objects are unordered (clients' serialisers reorder keys): the keys must be
        // exactly "0" … "n-1", in any order.
        for m in members {
            guard let i = Int(m.key), i >= 0, i < members.count, String(i) == m.key else {
                fail("\(path).\(m.key)", "point keys are \"0\" to \"\(members.count - 1)\""); continue
            }
            unit(m.value["x"], at: "\(path).\(m.key).x")
            unit(m.value["y"], at: "\(path).\(m.key).y")
            if skeleton, let vis = m.value["visibility"], !["visible", "invisible", "occluded", "selfOccluded"].contains(vis.stringValue ?? "") {
                fail("\(path).\(m.key).visibility", "must be visible, invisible, occluded or selfOccluded")
            }
        }
    }

    mutating func coordinates(_ g: JSONValue, shape: String, at path: String) {
        guard case .object = g else { return fail(path, "must be an object") }
        switch shape {
        case "bounding_box", "rotatable_bounding_box":
            for k in ["x", "y", "w", "h"] { unit(g[k], at: "\(path).\(k)") }
            if let x = number(g["x"]), let w = number(g["w"]), x + w > 1.000001 { fail("\(path).w", "x + w is \(x + w): the box leaves the frame") }
            if let y = number(g["y"]), let h = number(g["h"]), y + h > 1.000001 { fail("\(path).h", "y + h is \(y + h): the box leaves the frame") }
            if shape == "rotatable_bounding_box" { anyNumber(g["theta"], at: "\(path).theta") }
        case "polygon": points(g, minimum: 3, at: path)
        case "polyline": points(g, minimum: 2, at: path)
        case "point": points(g, minimum: 1, at: path)
        case "skeleton": points(g, minimum: 1, at: path, skeleton: true)
        case "bitmask":
            for k in ["top", "left", "width", "height"] where !(number(g[k]).map { $0 >= 0 && $0 == $0.rounded() } ?? false) {
                fail("\(path).\(k)", "must be a whole number ≥ 0")
            }
            if let w = media.width, number(g["width"]).map(Int.init) != w { fail("\(path).width", "must be \(w), the media's width") }
            if let h = media.height, number(g["height"]).map(Int.init) != h { fail("\(path).height", "must be \(h), the media's height") }
            if case .string(let rle)? = g["rleString"], !rle.isEmpty {} else { fail("\(path).rleString", "is required (COCO compressed RLE)") }
        case "circle":
            unit(g["x"], at: "\(path).x"); unit(g["y"], at: "\(path).y"); unit(g["r"], at: "\(path).r")
        case "ellipse":
            for k in ["x", "y", "rx", "ry"] { unit(g[k], at: "\(path).\(k)") }
        default: break   // cuboids: shape checked, coordinates kept as sent
        }
    }

    /// `polygons`: `[[[x1, y1, …], <hole>…], <next polygon>…]`, every value in 0..1, rings of ≥ 3 points.
    mutating func polygonRings(_ v: JSONValue, at path: String) {
        guard case .array(let polygons) = v else { return fail(path, "must be [[[x1, y1, x2, y2, …], …], …]") }
        for (i, polygon) in polygons.enumerated() {
            guard case .array(let rings) = polygon, !rings.isEmpty else { fail("\(path)[\(i)]", "must be a non-empty list of rings"); continue }
            for (j, ring) in rings.enumerated() {
                guard case .array(let values) = ring, values.count >= 6, values.count % 2 == 0 else {
                    fail("\(path)[\(i)][\(j)]", "a ring is [x1, y1, x2, y2, …] with at least 3 points"); continue
                }
                for (k, value) in values.enumerated() { unit(value, at: "\(path)[\(i)][\(j)][\(k)]") }
            }
        }
    }

    // MARK: Answers

    /// `object_answers`: static answers per object instance (and ranges for audio/text).
    mutating func objectAnswers(_ value: JSONValue?) {
        guard let value else { return }
        guard case .object(let members) = value else { return fail("object_answers", "must be an object keyed by objectHash") }
        for m in members {
            let path = "object_answers.\(m.key)"
            var feature = tracks[m.key]
            if media.placement == .ranges {
                // Audio and text regions live here, with their object and range.
                guard case .string(let f)? = m.value["featureHash"], let object = ontology.object(f) else {
                    fail("\(path).featureHash", "must name an object of the ontology"); continue
                }
                if object.archived && !existing.contains(f) { fail("\(path).featureHash", "\(object.name) (\(f)) is archived: new labels may not use it") }
                feature = f
                tracks[m.key] = f
                ranges(m.value["range"], at: "\(path).range")
            }
            guard let feature, let object = ontology.object(feature) else {
                fail(path, "no object instance \(m.key) is drawn in data_units"); continue
            }
            if let h = m.value["objectHash"], h != .string(m.key) { fail("\(path).objectHash", "must be \(m.key), its key") }
            answers(m.value["classifications"], of: object.attributes, dynamic: false, at: "\(path).classifications")
            for i in LabelReviews.problems(m.value["reviews"], at: "\(path).reviews") { fail(i.path, i.message) }
        }
    }

    /// `object_actions`: dynamic answers, each with the frames it holds for.
    mutating func objectActions(_ value: JSONValue?) {
        guard let value else { return }
        guard case .object(let members) = value else { return fail("object_actions", "must be an object keyed by objectHash") }
        for m in members {
            let path = "object_actions.\(m.key)"
            guard let feature = tracks[m.key], let object = ontology.object(feature) else {
                fail(path, "no object instance \(m.key) is drawn in data_units"); continue
            }
            guard case .array(let actions)? = m.value["actions"] else { fail("\(path).actions", "must be an array"); continue }
            for (i, action) in actions.enumerated() {
                let p = "\(path).actions[\(i)]"
                answers(.array([action]), of: object.attributes, dynamic: true, at: p, single: true)
                ranges(action["range"], at: "\(p).range")
            }
        }
    }

    mutating func classificationAnswers(_ value: JSONValue?) {
        guard let value else { return }
        guard case .object(let members) = value else { return fail("classification_answers", "must be an object keyed by classificationHash") }
        for m in members {
            let path = "classification_answers.\(m.key)"
            guard case .string(let f)? = m.value["featureHash"], let c = ontology.classification(f) else {
                fail("\(path).featureHash", "must name a classification of the ontology"); continue
            }
            if c.archived && !existing.contains(f) { fail("\(path).featureHash", "\(c.name) (\(f)) is archived: new labels may not use it") }
            if let h = m.value["classificationHash"], h != .string(m.key) { fail("\(path).classificationHash", "must be \(m.key), its key") }
            answers(m.value["classifications"], of: c.attributes, dynamic: false, at: "\(path).classifications")
            if case .array(let list)? = m.value["classifications"], list.isEmpty { fail("\(path).classifications", "must answer \(c.name)") }
            if !c.global && media.placement == .frames { ranges(m.value["range"], at: "\(path).range") }
            for key in ["createdAt", "lastEditedAt"] { timestamp(m.value[key], at: "\(path).\(key)") }
            for i in LabelReviews.problems(m.value["reviews"], at: "\(path).reviews") { fail(i.path, i.message) }
        }
    }

    /// `[[f0, f1], …]`: whole numbers, f0 ≤ f1, inside the media (frames; for audio/text, ≥ 0).
    mutating func ranges(_ value: JSONValue?, at path: String) {
        guard let value else { return }
        guard case .array(let items) = value else { return fail(path, "must be [[start, end], …]") }
        for (i, item) in items.enumerated() {
            guard case .array(let pair) = item, pair.count == 2, let a = number(pair[0]), let b = number(pair[1]), a >= 0, a <= b else {
                fail("\(path)[\(i)]", "must be [start, end] with 0 ≤ start ≤ end"); continue
            }
            if media.placement == .frames, let count = media.frameCount, Int(b) >= count {
                fail("\(path)[\(i)]", "frame \(Int(b)) does not exist: the data unit has \(count) frame(s)")
            }
        }
    }

    /// Answers to `attributes`: each names one of them (or a nested one under a chosen option)
    /// and fits its type; each attribute answered at most once (`single`: the list is one
    /// dynamic action, which may repeat across actions).
    mutating func answers(_ value: JSONValue?, of attributes: [OntologyIndex.Attribute], dynamic: Bool, at path: String, single: Bool = false) {
        guard let value else { return }
        guard case .array(let items) = value else { return fail(path, "must be an array of answers") }
        // What may be answered: the top-level attributes, plus those nested under chosen
        // options. Nested answers are flattened into the same list in any order, so the chosen
        // options are gathered to a fixed point before any answer is judged.
        var allowed: [String: OntologyIndex.Attribute] = Dictionary(attributes.map { ($0.featureHash, $0) }, uniquingKeysWith: { a, _ in a })
        var grew = true
        while grew {
            grew = false
            for item in items {
                guard let f = item["featureHash"]?.stringValue, let a = allowed[f], case .array(let picks)? = item["answers"] else { continue }
                let picked = Set(picks.compactMap { $0["featureHash"]?.stringValue })
                for option in a.options where picked.contains(option.featureHash) {
                    for nested in option.nested where allowed[nested.featureHash] == nil {
                        allowed[nested.featureHash] = nested
                        grew = true
                    }
                }
            }
        }
        var seen: Set<String> = []
        for (i, item) in items.enumerated() {
            let p = single ? path : "\(path)[\(i)]"
            guard case .string(let f)? = item["featureHash"] else { fail("\(p).featureHash", "is required (the attribute's featureNodeHash)"); continue }
            guard let attribute = allowed[f] else {
                if let a = ontology.attribute(f) {
                    fail("\(p).featureHash", "\(a.name) (\(f)) is not an attribute here, or is nested under an option not chosen")
                } else {
                    fail("\(p).featureHash", "\(f) is not an attribute of the ontology")
                }
                continue
            }
            if !seen.insert(f).inserted { fail("\(p).featureHash", "\(attribute.name) is answered twice") }
            if attribute.archived && !existing.contains(f) { fail("\(p).featureHash", "\(attribute.name) (\(f)) is archived: new labels may not use it") }
            let isTop = attributes.contains { $0.featureHash == f }
            if dynamic && !(attribute.dynamic && isTop) {
                fail("\(p).featureHash", "\(attribute.name) is not dynamic: answer it in object_answers")
            } else if !dynamic && attribute.dynamic {
                fail("\(p).featureHash", "\(attribute.name) is dynamic: answer it per frame in object_actions")
            }
            _ = answer(item["answers"], to: attribute, at: "\(p).answers")
        }
    }

    /// Checks one answer's value; returns the options chosen.
    mutating func answer(_ value: JSONValue?, to attribute: OntologyIndex.Attribute, at path: String) -> [OntologyIndex.Option] {
        switch attribute.type {
        case "text":
            if case .string? = value {} else { fail(path, "\(attribute.name) is a text attribute: the answer is a string") }
            return []
        case "numeric":
            if number(value) == nil { fail(path, "\(attribute.name) is a numeric attribute: the answer is a number") }
            return []
        default:
            guard case .array(let picks)? = value else { fail(path, "\(attribute.name) is a \(attribute.type): the answer is a list of options"); return [] }
            if attribute.type == "radio" && picks.count != 1 { fail(path, "\(attribute.name) is a radio: exactly one option is chosen") }
            var chosen: [OntologyIndex.Option] = []
            for (i, pick) in picks.enumerated() {
                guard case .string(let f)? = pick["featureHash"], let option = attribute.options.first(where: { $0.featureHash == f }) else {
                    fail("\(path)[\(i)].featureHash", "must be an option of \(attribute.name) (\(attribute.options.map(\.label).joined(separator: ", ")))")
                    continue
                }
                if option.archived && !existing.contains(f) { fail("\(path)[\(i)].featureHash", "option \(option.label) is archived") }
                if chosen.contains(where: { $0.featureHash == f }) { fail("\(path)[\(i)].featureHash", "\(option.label) is chosen twice") }
                chosen.append(option)
            }
            return chosen
        }
    }

    // MARK: Required (on SUBMIT)

    /// Decision (docs/labels.md): on SUBMIT, every `required` object has an instance, every
    /// `required` classification is answered, and every instance answers its `required`
    /// attributes (static ones in object_answers, dynamic ones in some object_actions entry;
    /// nested ones only when their option was chosen). Saving a draft never checks this.
    mutating func required(_ row: JSONValue) {
        let drawn = Set(tracks.values)
        for object in ontology.objects where object.required && !object.archived && !drawn.contains(object.featureHash) {
            fail("data_units", "\(object.name) is required: draw at least one")
        }
        var answeredClassifications: Set<String> = []
        if case .object(let members)? = row["classification_answers"] {
            for m in members { if let f = m.value["featureHash"]?.stringValue { answeredClassifications.insert(f) } }
        }
        for c in ontology.classifications where c.required && !c.archived && !answeredClassifications.contains(c.featureHash) {
            fail("classification_answers", "\(c.name) is required: answer it")
        }
        for (hash, feature) in tracks.sorted(by: { $0.key < $1.key }) {
            guard let object = ontology.object(feature) else { continue }
            var answered: [JSONValue] = []
            if case .array(let list)? = row["object_answers"]?[hash]?["classifications"] { answered += list }
            if case .array(let list)? = row["object_actions"]?[hash]?["actions"] { answered += list }
            let hashes = Set(answered.compactMap { $0["featureHash"]?.stringValue })
            let chosen = Set(answered.flatMap { a -> [String] in
                if case .array(let picks)? = a["answers"] { return picks.compactMap { $0["featureHash"]?.stringValue } }
                return []
            })
            missing(object.attributes, answered: hashes, chosen: chosen, at: "object_answers.\(hash)", object: object.name)
        }
    }

    mutating func missing(_ attributes: [OntologyIndex.Attribute], answered: Set<String>, chosen: Set<String>, at path: String, object: String) {
        for a in attributes where !a.archived {
            if a.required && !answered.contains(a.featureHash) { fail(path, "\(object): \(a.name) is required") }
            for option in a.options where chosen.contains(option.featureHash) {
                missing(option.nested, answered: answered, chosen: chosen, at: path, object: object)
            }
        }
    }
}
