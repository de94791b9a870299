/// CVAT's dataset manifest (`manifest.jsonl`, written by CVAT's `utils/dataset_manifest/create.py`
/// and read by its cloud storages) → our items.
///
/// Images manifest: `{"version":"1.1"}`, `{"type":"images"}`, then one line per image
/// `{"name":"sub/image1","extension":".jpg","width":720,"height":405,"meta":{…},"checksum":"…"}`:
/// each becomes an image at `baseURL + name + extension` (path segments percent-encoded); name,
/// width, height, checksum and meta go to `clientMetadata.cvat`.
///
/// Video manifest: `{"version":…}`, `{"type":"video"}`, `{"properties":{"name":"video.mp4",
/// "resolution":[1280,720],"length":778}}`, then key-frame lines `{"number","pts","checksum"}`: one
/// video at `baseURL + name`, resolution and length in `clientMetadata.cvat`. The key-frame index
/// does not carry over (our probe reads the container's own index).
struct CVATManifestMapper {
    let baseURL: String?
    private(set) var kind: String? = nil
    private var videoProperties: (line: Int, value: JSONValue)? = nil

    init(baseURL: String?) { self.baseURL = baseURL }

    mutating func map(_ value: JSONValue, line: Int, summary: inout ImportSummary) throws -> MapOutcome {
        guard case .object(let fields) = value else { return .refused(field: nil, "a manifest line must be a JSON object, not \(value.kindName)") }
        if fields.count == 1, fields[0].key == "version" { return .skipped }
        if fields.count == 1, fields[0].key == "type" {
            guard case .string(let t) = fields[0].value, t == "images" || t == "video" else {
                throw ImportFailure("line \(line), type: CVAT manifests are \"images\" or \"video\", not \(fields[0].value.compactText)")
            }
            if let kind, kind != t { throw ImportFailure("line \(line), type: a second type line (\(t) after \(kind))") }
            kind = t
            return .skipped
        }
        if kind == "video" {
            if let props = value["properties"] {
                if videoProperties != nil { throw ImportFailure("line \(line), properties: a video manifest describes one video; a second properties line") }
                videoProperties = (line, props)
                return .skipped
            }
            if value["number"] != nil {
                summary.dropped("key frames (number, pts, checksum)")
                return .skipped
            }
            return .refused(field: nil, "in a video manifest, expected a properties or key-frame line")
        }
        if value["properties"] != nil {
            throw ImportFailure("line \(line), properties: a video's properties in a manifest without {\"type\":\"video\"}")
        }
        // An images manifest (older ones may lack the type line; an item line says which it is).
        guard let nameValue = value["name"] else { return .refused(field: "name", "missing: every image line names its file") }
        guard case .string(let name) = nameValue, !name.isEmpty else { return .refused(field: "name", "must be a non-empty string, not \(nameValue.compactText)") }
        var ext = ""
        if let e = value["extension"] {
            guard case .string(let s) = e else { return .refused(field: "extension", "must be a string like \".jpg\", not \(e.kindName)") }
            ext = s
        }
        let file = name + ext
        let url = ImportURL.join(base: baseURL ?? "", name: file)
        // The encoded URL, not the name: a '#' or '?' in a file name is not a fragment or query.
        guard ImportURL.guessType(url) == .image else {
            return .refused(field: "extension", "'\(ImportURL.clip(file))' is not an image (CVAT's 3D point clouds and other files have no counterpart here)")
        }
        if let problem = ImportURL.problem(url) { return .refused(field: "name", problem) }
        var cvat: [(key: String, value: JSONValue)] = [("name", .string(file))]
        for key in ["width", "height", "checksum", "meta"] {
            if let v = value[key], v != .null { cvat.append((key, v)) }
        }
        return .item(ImportedItem(type: .image, objectURL: url, clientMetadata: .object([("cvat", .object(cvat))])))
    }

    /// After the last line: the video of a video manifest.
    func finish(summary: inout ImportSummary) throws -> ImportedItem? {
        guard kind == "video" else { return nil }
        guard let (line, props) = videoProperties else {
            throw ImportFailure("a video manifest without its properties line ({\"properties\":{\"name\":…}})")
        }
        guard case .string(let name)? = props["name"], !name.isEmpty else {
            throw ImportFailure("line \(line), properties.name: missing or not a string")
        }
        let url = ImportURL.join(base: baseURL ?? "", name: name)
        if let problem = ImportURL.problem(url) { throw ImportFailure("line \(line), properties.name: \(problem)") }
        var cvat: [(key: String, value: JSONValue)] = [("name", .string(name))]
        for key in ["resolution", "length"] { if let v = props[key] { cvat.append((key, v)) } }
        return ImportedItem(type: .video, objectURL: url, clientMetadata: .object([("cvat", .object(cvat))]))
    }
}
