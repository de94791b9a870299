/// What the store knows of a data unit, for writing its label row's fixed fields.
public struct LabelUnitFacts: Sendable {
    public var media: LabelMedia
    public var dataTitle: String
    public var mimeType: String?
    public var link: String?
    public var fps: Double?
    public var duration: Double?
    public var datasetHash: String
    public var datasetTitle: String
    public init(media: LabelMedia, dataTitle: String, mimeType: String?, link: String?, fps: Double?, duration: Double?,
                datasetHash: String, datasetTitle: String) {
        self.media = media; self.dataTitle = dataTitle; self.mimeType = mimeType; self.link = link; self.fps = fps
        self.duration = duration; self.datasetHash = datasetHash; self.datasetTitle = datasetTitle
    }
}

/// Builds label rows in `to_encord_dict()` key order (annotation-spec §2): the empty row of a
/// unit nobody labelled yet, and a saved row whose fixed fields (hashes, titles, types, the data
/// unit's link and size) come from our records, never from the client — a client edits labels,
/// not facts about the media.
public enum LabelRowDocument {
    /// The SDK's timestamp form, `Thu, 02 Jan 2025 10:00:00 UTC`.
    public static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let secs = s - days * 86400
        // Civil date from days (Howard Hinnant's algorithm).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let month3 = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
        return "\(weekday), \(two(day)) \(month3) \(year) \(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60)) UTC"
    }

    static func num(_ d: Double) -> JSONValue { d == d.rounded() && abs(d) < 1e15 ? .number(String(Int64(d)) + ".0") : .number("\(d)") }

    /// The `data_units` entry: our facts, with `labels` as given.
    static func dataUnit(_ f: LabelUnitFacts, labels: JSONValue) -> JSONValue {
        var fields: [(String, JSONValue)] = [("data_hash", .string(f.media.dataHash)), ("data_title", .string(f.dataTitle))]
        if let link = f.link { fields.append(("data_link", .string(link))) }
        fields += [("data_type", .string(f.mimeType ?? f.media.dataType)), ("data_sequence", .number("0")),
                   ("width", f.media.width.map { .number(String($0)) } ?? .null), ("height", f.media.height.map { .number(String($0)) } ?? .null),
                   ("labels", labels)]
        if let d = f.duration { fields.append(("data_duration", num(d))) }
        if let fps = f.fps { fields.append(("data_fps", num(fps))) }
        return .object(fields)
    }

    static func emptyLabels(_ media: LabelMedia) -> JSONValue {
        media.placement == .single ? .object([("objects", .array([])), ("classifications", .array([]))]) : .object([])
    }

    /// The row of a unit with no saved labels (`label_hash` null, `NOT_LABELLED`).
    public static func empty(_ f: LabelUnitFacts) -> JSONValue {
        row(f, labelHash: nil, createdAt: nil, editedAt: nil, status: "NOT_LABELLED", labels: emptyLabels(f.media),
            objectAnswers: .object([]), classificationAnswers: .object([]), objectActions: .object([]))
    }

    /// A row as saved: the client's labels and answers, our fixed fields and times.
    /// `label_status` is `LABEL_IN_PROGRESS` once anything is labelled, else `NOT_LABELLED`
    /// (review statuses belong to the workflow, not to a save).
    public static func saved(_ client: JSONValue, facts f: LabelUnitFacts, labelHash: String, createdAt: Double, now: Double) -> JSONValue {
        let labels = client["data_units"]?[f.media.dataHash]?["labels"] ?? emptyLabels(f.media)
        let oa = client["object_answers"] ?? .object([]), ca = client["classification_answers"] ?? .object([])
        let acts = client["object_actions"] ?? .object([])
        return row(f, labelHash: labelHash, createdAt: createdAt, editedAt: now,
                   status: labelled(labels, oa, ca) ? "LABEL_IN_PROGRESS" : "NOT_LABELLED",
                   labels: labels, objectAnswers: oa, classificationAnswers: ca, objectActions: acts)
    }

    /// Whether a frame, the labels of any frame, or the answers hold anything.
    static func labelled(_ labels: JSONValue, _ objectAnswers: JSONValue, _ classificationAnswers: JSONValue) -> Bool {
        func nonEmpty(_ v: JSONValue?) -> Bool {
            switch v {
            case .object(let m)?: return !m.isEmpty
            case .array(let a)?: return !a.isEmpty
            default: return false
            }
        }
        if nonEmpty(objectAnswers) || nonEmpty(classificationAnswers) { return true }
        func frame(_ f: JSONValue) -> Bool { nonEmpty(f["objects"]) || nonEmpty(f["classifications"]) }
        if labels["objects"] != nil || labels["classifications"] != nil { return frame(labels) }
        if case .object(let frames) = labels { return frames.contains { frame($0.value) } }
        return false
    }

    static func row(_ f: LabelUnitFacts, labelHash: String?, createdAt: Double?, editedAt: Double?, status: String, labels: JSONValue,
                    objectAnswers: JSONValue, classificationAnswers: JSONValue, objectActions: JSONValue) -> JSONValue {
        .object([
            ("label_hash", labelHash.map(JSONValue.string) ?? .null), ("branch_name", .string("main")),
            ("created_at", createdAt.map { .string(format($0)) } ?? .null), ("last_edited_at", editedAt.map { .string(format($0)) } ?? .null),
            ("data_hash", .string(f.media.dataHash)), ("dataset_hash", .string(f.datasetHash)), ("dataset_title", .string(f.datasetTitle)),
            ("data_title", .string(f.dataTitle)), ("data_type", .string(f.media.encordDataType)), ("annotation_task_status", .string("QUEUED")),
            ("is_shadow_data", .bool(false)), ("object_answers", objectAnswers), ("classification_answers", classificationAnswers),
            ("object_actions", objectActions), ("label_status", .string(status)),
            ("data_units", .object([(f.media.dataHash, dataUnit(f, labels: labels))])), ("spaces", .object([])),
        ])
    }

    /// Every feature hash a row uses (objects, classifications, attributes, options): archived
    /// elements stay allowed where the stored row already used them.
    public static func featureHashes(_ v: JSONValue) -> Set<String> {
        var out: Set<String> = []
        func walk(_ v: JSONValue) {
            switch v {
            case .object(let m):
                for (k, x) in m { if k == "featureHash", case .string(let s) = x { out.insert(s) } else { walk(x) } }
            case .array(let a): a.forEach(walk)
            default: break
            }
        }
        walk(v)
        return out
    }
}
