/// Labelbox data rows → our items.
///
/// Reads both shapes Labelbox users hold: the creation payload given to `dataset.create_data_rows`
/// (`{"row_data": URL, "global_key": …, "external_id": …, "media_type": "IMAGE",
/// "metadata_fields": [{"name"|"schema_id": …, "value": …}], "attachments": [{"type": …, "value": …}]}`)
/// and export lines (`{"data_row": {"id", "row_data", "global_key", "external_id"},
/// "media_attributes": {"asset_type", "mime_type", …}, "metadata_fields": […], "attachments": […],
/// "projects": {…}}`).
///
/// The title is the global key (else the external id); ids, media type, metadata fields and
/// attachments go to `clientMetadata.labelbox` verbatim. Attachments are not registered as objects,
/// and labels/projects of an export do not carry over.
enum LabelboxMapper {
    static func mediaType(_ name: String) -> DataType?? {
        switch name.uppercased() {
        case "IMAGE": return .some(.image)
        case "VIDEO": return .some(.video)
        case "AUDIO": return .some(.audio)
        case "TEXT", "HTML": return .some(.text)
        case "PDF", "DOCUMENT": return .some(.pdf)
        default: return .some(nil)   // known to Labelbox, no counterpart here
        }
    }

    static func map(_ row: JSONValue, summary: inout ImportSummary) -> MapOutcome {
        guard case .object = row else { return .refused(field: nil, "a data row must be a JSON object, not \(row.kindName)") }
        let nested = row["data_row"]
        let dr = nested ?? row
        let p = nested == nil ? "" : "data_row."
        guard let rowData = dr["row_data"] else { return .refused(field: p + "row_data", "missing") }
        guard case .string(let raw) = rowData else {
            return .refused(field: p + "row_data", "\(rowData.kindName): conversational, tiled and other structured rows have no counterpart here; only file URLs can be registered")
        }
        let url = raw.importTrimmed
        if let problem = ImportURL.problem(url) { return .refused(field: p + "row_data", problem) }

        var type: DataType? = nil
        if let mt = row["media_type"] ?? dr["media_type"] {
            guard case .string(let name) = mt else { return .refused(field: "media_type", "must be a string, not \(mt.kindName)") }
            guard let known = mediaType(name)! as DataType? else {
                return .refused(field: "media_type", "\(name) has no counterpart here (image, video, audio, text, html, pdf/document)")
            }
            type = known
        } else if case .string(let asset)? = row["media_attributes"]?["asset_type"], let known = mediaType(asset) ?? nil {
            type = known
        } else if case .string(let mime)? = row["media_attributes"]?["mime_type"] {
            let major = mime.split(separator: "/").first.map(String.init) ?? ""
            type = ["image": .image, "video": .video, "audio": .audio, "text": .text][major] ?? (mime == "application/pdf" ? .pdf : nil)
        }
        if type == nil { type = ImportURL.guessType(url) }
        guard let type else {
            return .refused(field: "media_type", "missing, and the URL's extension does not say the type; give media_type")
        }

        var lb: [(key: String, value: JSONValue)] = []
        for (key, out) in [("id", "dataRowId"), ("global_key", "globalKey"), ("external_id", "externalId")] {
            if let v = dr[key], v != .null { lb.append((out, v)) }
        }
        lb.append(("mediaType", .string(String(describing: type.rawValue))))
        for key in ["metadata_fields", "attachments"] {
            if let v = row[key] ?? dr[key], v != .null, v != .array([]) { lb.append((key, v)) }
        }
        if let attrs = row["media_attributes"], attrs != .null { lb.append(("media_attributes", attrs)) }
        for dropped in ["projects", "labels", "embeddings"] { if let v = row[dropped], v != .object([]), v != .array([]), v != .null { summary.dropped(dropped) } }
        var title: String? = nil
        if case .string(let k)? = dr["global_key"], !k.isEmpty { title = k }
        else if case .string(let k)? = dr["external_id"], !k.isEmpty { title = k }
        if let t = title, t.count > 300 { title = nil }   // our limit; the key stays in clientMetadata
        return .item(ImportedItem(type: type, objectURL: url, title: title, clientMetadata: .object([("labelbox", .object(lb))])))
    }
}
