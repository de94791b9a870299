/// The pure steps of an export (docs/labels.md, "Exports"): each chunk turns its rows into a
/// part file with ids local to the part; the assembly joins parts in chunk order, shifting ids
/// by the counts of the parts before, so the file is the same whichever worker made which part
/// and however often a chunk was redone.
public enum ExportParts {
    /// The row keeping only labels of `keep` (object and classification feature hashes), and
    /// the answers and actions of the objects kept. nil keeps everything.
    public static func filter(_ row: JSONValue, keep: Set<String>?) -> JSONValue {
        guard let keep else { return row }
        var kept: Set<String> = []
        func frame(_ f: JSONValue) -> JSONValue {
            guard case .object(var m) = f else { return f }
            for i in m.indices where m[i].key == "objects" {
                if case .array(let objects) = m[i].value {
                    let chosen = objects.filter { keep.contains($0["featureHash"]?.stringValue ?? "") }
                    for o in chosen { if let h = o["objectHash"]?.stringValue { kept.insert(h) } }
                    m[i].value = .array(chosen)
                }
            }
            return .object(m)
        }
        guard case .object(var fields) = row else { return row }
        for i in fields.indices where fields[i].key == "data_units" {
            guard case .object(var units) = fields[i].value else { continue }
            for u in units.indices {
                guard case .object(var unit) = units[u].value else { continue }
                for l in unit.indices where unit[l].key == "labels" {
                    let labels = unit[l].value
                    if labels["objects"] != nil || labels["classifications"] != nil {
                        unit[l].value = frame(labels)
                    } else if case .object(let frames) = labels {
                        unit[l].value = .object(frames.map { ($0.key, frame($0.value)) })
                    }
                }
                units[u].value = .object(unit)
            }
            fields[i].value = .object(units)
        }
        // Audio and text regions live in object_answers with their feature hash.
        for m in row["object_answers"].map(members) ?? [] where keep.contains(m.value["featureHash"]?.stringValue ?? "") {
            kept.insert(m.key)
        }
        for i in fields.indices {
            switch fields[i].key {
            case "object_answers", "object_actions":
                fields[i].value = .object(members(fields[i].value).filter { kept.contains($0.key) })
            case "classification_answers":
                fields[i].value = .object(members(fields[i].value).filter { keep.contains($0.value["featureHash"]?.stringValue ?? "") })
            default: break
            }
        }
        return .object(fields)
    }

    static func members(_ v: JSONValue) -> [(key: String, value: JSONValue)] {
        if case .object(let m) = v { return m } else { return [] }
    }

    /// One item of the JSON export: the row plus `is_image_sequence` (true for sequences, else
    /// null), `video_link` (the link for videos and sequences, else null) and `is_valid` (the row
    /// passes validation against the ontology and media as they are now).
    public static func jsonItem(_ row: JSONValue, facts: LabelUnitFacts, valid: Bool) -> JSONValue {
        guard case .object(var fields) = row else { return row }
        let type = facts.media.dataType
        fields.append(("is_image_sequence", type == "image_sequence" ? .bool(true) : .null))
        fields.append(("video_link", type == "video" || type == "image_sequence" ? (facts.link.map(JSONValue.string) ?? .null) : .null))
        fields.append(("is_valid", .bool(valid)))
        return .object(fields)
    }

    /// A COCO part: `{"categories"?: [...], "images": [...], "annotations": [...], "tracks": n}`,
    /// ids from 0; the first part carries the categories (the ontology as the job saw it).
    public static func cocoPart(categories: [JSONValue]?, images: [JSONValue], annotations: [JSONValue], tracks: Int) -> String {
        var fields: [(String, JSONValue)] = []
        if let categories { fields.append(("categories", .array(categories))) }
        fields += [("images", .array(images)), ("annotations", .array(annotations)), ("tracks", .number(String(tracks)))]
        return JSONValue.object(fields).compactText
    }
}

/// Joins COCO parts into one file: `{"info", "categories", "images", "annotations"}`, each
/// part's ids shifted by the counts of the parts before it.
public enum CocoAssembly {
    /// What a part holds, for the offsets of the parts after it.
    public struct Counts: Sendable, Equatable {
        public var images: Int
        public var annotations: Int
        public var tracks: Int
        public init(images: Int, annotations: Int, tracks: Int) { self.images = images; self.annotations = annotations; self.tracks = tracks }
    }

    public static func counts(_ part: JSONValue) -> Counts {
        func n(_ k: String) -> Int { if case .array(let a)? = part[k] { return a.count } else { return 0 } }
        return Counts(images: n("images"), annotations: n("annotations"), tracks: part["tracks"]?.intValue ?? 0)
    }

    /// Everything before the first image: info and categories, then `"images":[`.
    public static func head(title: String, version: String?, categories: [JSONValue]) -> String {
        let info = JSONValue.object([("description", .string(title)), ("contributor", .null), ("date_created", .null), ("url", .null),
                                     ("version", version.map(JSONValue.string) ?? .null), ("year", .null)])
        return "{\"info\":" + info.compactText + ",\"categories\":" + JSONValue.array(categories).compactText + ",\"images\":["
    }

    static let between = "],\"annotations\":["
    static let tail = "]}"

    static func shift(_ v: JSONValue, _ changes: [String: Int]) -> JSONValue {
        guard case .object(var m) = v else { return v }
        for i in m.indices {
            if let by = changes[m[i].key], let n = m[i].value.intValue { m[i].value = .number(String(n + by)) }
            if m[i].key == "attributes", let by = changes["track_id"] { m[i].value = shift(m[i].value, ["track_id": by]) }
        }
        return .object(m)
    }

    /// A part's images with ids shifted (texts, to join with commas).
    public static func images(_ part: JSONValue, offset: Counts) -> [String] {
        guard case .array(let items)? = part["images"] else { return [] }
        return items.map { shift($0, ["id": offset.images]).compactText }
    }

    /// A part's annotations with ids, image ids and track ids shifted.
    public static func annotations(_ part: JSONValue, offset: Counts) -> [String] {
        guard case .array(let items)? = part["annotations"] else { return [] }
        return items.map { shift($0, ["id": offset.annotations, "image_id": offset.images, "track_id": offset.tracks]).compactText }
    }

    /// The whole file from parts in chunk order (`write` receives it piece by piece). Each part
    /// is read and parsed once: its images go to `write`, its shifted annotations to `spill`
    /// (a temporary file), which `replaySpill` copies to the output after the images. Memory
    /// holds one part at a time.
    public static func assemble(title: String, version: String?, categories: [JSONValue], partCount: Int,
                                read: (Int) throws -> JSONValue, write: (String) throws -> Void,
                                spill: (String) throws -> Void, replaySpill: () throws -> Void) throws {
        try write(head(title: title, version: version, categories: categories))
        var at = Counts(images: 0, annotations: 0, tracks: 0)
        var firstImage = true, firstAnnotation = true
        for i in 0..<partCount {
            let part = try read(i)
            for image in images(part, offset: at) { try write((firstImage ? "" : ",") + image); firstImage = false }
            for a in annotations(part, offset: at) { try spill((firstAnnotation ? "" : ",") + a); firstAnnotation = false }
            let c = counts(part)
            at = Counts(images: at.images + c.images, annotations: at.annotations + c.annotations, tracks: at.tracks + c.tracks)
        }
        try write(between)
        try replaySpill()
        try write(tail)
    }
}
