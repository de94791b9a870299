/// Label Studio tasks → our items.
///
/// A task is `{"id": 17, "data": {"image": "s3://bucket/a.jpg", "caption": "…"}, "annotations": […],
/// "predictions": […], "meta": {…}, …}` (as exported by "Export → JSON" and as imported). A task
/// without `data` is Label Studio's short form: the object itself is the data.
///
/// The media field is the first of `image`, `video`, `audio`, `pdf`, `text` holding a URL; failing
/// those, the one data field holding a URL whose extension says its type. The task id, the other
/// data fields and `meta` go to `clientMetadata.labelStudio`; annotations, predictions and the
/// rest do not carry over (counted in the summary).
enum LabelStudioMapper {
    static let mediaKeys: [(String, DataType)] = [("image", .image), ("video", .video), ("audio", .audio),
                                                  ("pdf", .pdf), ("text", .text)]
    /// Task fields Label Studio writes that are bookkeeping, not data: not carried, not reported.
    static let bookkeeping: Set<String> = ["id", "data", "meta", "created_at", "updated_at", "inner_id", "total_annotations",
                                           "cancelled_annotations", "total_predictions", "comment_count",
                                           "unresolved_comment_count", "last_comment_updated_at", "project",
                                           "updated_by", "file_upload", "comment_authors", "is_labeled", "overlap"]

    static func map(_ task: JSONValue, summary: inout ImportSummary) -> MapOutcome {
        guard case .object(let fields) = task else { return .refused(field: nil, "a task must be a JSON object, not \(task.kindName)") }
        let hasData = task["data"] != nil
        let dataValue = task["data"] ?? task
        guard case .object(let data) = dataValue else { return .refused(field: "data", "must be an object, not \(dataValue.kindName)") }
        let prefix = hasData ? "data." : ""

        var chosen: (key: String, url: String, type: DataType)? = nil
        for (key, type) in mediaKeys {
            guard let v = dataValue[key] else { continue }
            guard case .string(let s) = v else { return .refused(field: prefix + key, "must be a URL string, not \(v.kindName)") }
            let url = s.importTrimmed
            if key == "text", ImportURL.problem(url) != nil, !url.hasPrefix("/") {
                // Inline text is the task's content itself, not a file to register.
                return .refused(field: prefix + key, "holds inline text, not a URL; only files in cloud storage can be registered")
            }
            if let problem = ImportURL.problem(url) { return .refused(field: prefix + key, problem) }
            chosen = (key, url, type)
            break
        }
        if chosen == nil {
            let candidates = data.compactMap { m -> (String, String, DataType)? in
                guard case .string(let s) = m.value, ImportURL.problem(s) == nil, let t = ImportURL.guessType(s) else { return nil }
                return (m.key, s, t)
            }
            if candidates.count == 1 { chosen = candidates[0] }
            else if candidates.count > 1 {
                return .refused(field: prefix.isEmpty ? nil : "data",
                                "several fields hold file URLs (\(candidates.map { prefix + $0.0 }.joined(separator: ", "))); which one is the task's media is unknowable")
            } else {
                return .refused(field: prefix.isEmpty ? nil : "data",
                                "no image, video, audio, pdf or text URL (fields: \(data.map { $0.key }.joined(separator: ", ")))")
            }
        }
        guard let chosen else { return .refused(field: nil, "no media URL") }

        var ls: [(key: String, value: JSONValue)] = []
        if let id = task["id"], hasData { ls.append(("taskId", id)) }
        let others = data.filter { $0.key != chosen.key }
        if !others.isEmpty { ls.append(("data", .object(others))) }
        if hasData, let meta = task["meta"], meta != .object([]) { ls.append(("meta", meta)) }
        ls.append(("mediaField", .string(chosen.key)))
        if hasData {
            for f in fields where !bookkeeping.contains(f.key) {
                if case .array(let a) = f.value, a.isEmpty { continue }
                if f.value == .null { continue }
                summary.dropped(f.key)
            }
        }
        return .item(ImportedItem(type: chosen.type, objectURL: chosen.url, clientMetadata: .object([("labelStudio", .object(ls))])))
    }
}
