/// Files uploaded from a disk (`POST /v1/folders/{id}/files`, the signed-upload flow,
/// `registrar upload`) become a registration manifest of links to Registrar's own storage, so
/// they take the same job path as cloud files: probing, duplicates, unit errors, progress
/// (docs/uploads.md). Pure: names, keys, types and the manifest text; no I/O.
public enum UploadManifest {
    /// How the files of one registration are grouped.
    public enum Layout: Sendable, Equatable {
        /// One unit per file, its section chosen by its type.
        case separate
        /// All files, images only, one image group (`createVideo: false`), frames in the order given.
        case imageGroup(title: String)
        /// All files, images only, one image sequence (`createVideo: true`).
        case imageSequence(title: String)
        /// DICOM files only, as DICOM series: each file's `Item.series` names its series (one
        /// unit per distinct name, in order of first appearance); a file without one belongs to
        /// the series named `title`.
        case dicomSeries(title: String?)

        /// `--as` / `as`: nil or "" → separate; else `image-group` or `image-sequence` (title
        /// required), or `dicom-series` (title optional here: the files may name their series).
        public static func parse(_ value: String?, title: String?) -> Result<Layout, UploadInputError> {
            switch value {
            case nil, "": return .success(.separate)
            case "dicom-series", "dicom_series":
                return .success(.dicomSeries(title: title.flatMap { $0.isEmpty ? nil : $0 }))
            case "image-group", "image_group", "image-sequence", "image_sequence":
                guard let title, !title.isEmpty else { return .failure(UploadInputError(field: "title", message: "a title is required to upload files as an image group or sequence")) }
                return .success(value!.hasPrefix("image-g") || value!.hasPrefix("image_g") ? .imageGroup(title: title) : .imageSequence(title: title))
            default:
                return .failure(UploadInputError(field: "as", message: "as must be image-group, image-sequence or dicom-series (or absent: one item per file), not '\(value!)'"))
            }
        }
    }

    /// One stored file to register: the URL workers fetch it by (a signed link), its title
    /// (the user's file name) and its manifest section.
    public struct Item: Sendable, Equatable {
        public var url: String
        public var title: String
        public var section: Section
        /// With `Layout.dicomSeries`: the series (unit) this file belongs to, by its title.
        public var series: String?
        public init(url: String, title: String, section: Section, series: String? = nil) {
            self.url = url; self.title = title; self.section = section; self.series = series
        }
    }

    /// The manifest sections a single file can go to. A DICOM file (`dicom`) is registered as
    /// (part of) a `dicom_series` unit: Encord's manifests have no single-DICOM section.
    public enum Section: String, Sendable, Equatable {
        case images, videos, audio, pdfs, text, nifti, dicom
    }

    /// The key of an uploaded file: `uploads/{folder}/{sha256}/{safe name}`. Content-addressed
    /// (the same bytes under the same name are one object, which makes re-uploads and resumes
    /// idempotent); the name is the last path segment of the user's name, made safe by
    /// `ObjectKey.segment(from:)` (a `../../etc/passwd` becomes `passwd`). Nil for a folder
    /// id or hash that is not key-safe.
    public static func key(folderID: String, sha256: String, name: String) -> ObjectKey? {
        guard isHexSHA256(sha256) else { return nil }
        return ObjectKey("uploads/\(ObjectKey.segment(from: folderID))/\(sha256.lowercased())/\(ObjectKey.segment(from: baseName(name)))")
    }

    /// The last segment of a path-like name (either slash).
    public static func baseName(_ name: String) -> String {
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        return parts.last.map(String.init) ?? name
    }

    public static func isHexSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }

    /// The media type to store and the section to register under, from the declared content
    /// type, else (absent or `application/octet-stream`) from the name's extension. Nil: a type
    /// Registrar does not register from a disk (the caller answers `unsupported_type`).
    public static func classify(contentType: String?, name: String) -> (contentType: String, section: Section)? {
        let declared = contentType?.split(separator: ";").first.map { $0.trimmedSpaces.lowercased() } ?? ""
        // A gzipped NIfTI is declared as gzip (what this function answers for it, so the signed
        // PUT's Content-Type and the stored object's type say gzip): the name decides.
        if declared == "application/gzip" || declared == "application/x-gzip", name.lowercased().hasSuffix(".nii.gz") {
            return ("application/gzip", .nifti)
        }
        if !declared.isEmpty, declared != "application/octet-stream", let section = section(mediaType: declared) {
            return (declared, section)
        }
        guard declared.isEmpty || declared == "application/octet-stream" else { return nil }
        let lower = name.lowercased()
        if lower.hasSuffix(".nii.gz") { return ("application/gzip", .nifti) }
        guard let dot = lower.lastIndex(of: "."), let type = byExtension[String(lower[lower.index(after: dot)...])] else { return nil }
        return (type, section(mediaType: type)!)
    }

    static let byExtension: [String: String] = [
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp",
        "tif": "image/tiff", "tiff": "image/tiff", "avif": "image/avif", "heic": "image/heic",
        "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska", "avi": "video/x-msvideo",
        "mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "m4a": "audio/mp4", "aac": "audio/aac",
        "pdf": "application/pdf", "txt": "text/plain", "json": "application/json", "html": "text/html", "md": "text/markdown",
        "csv": "text/csv", "xml": "application/xml", "nii": "application/octet-stream+nifti",
        "dcm": "application/dicom", "dicom": "application/dicom",
    ]

    static func section(mediaType: String) -> Section? {
        if mediaType.hasPrefix("image/") { return .images }
        if mediaType.hasPrefix("video/") { return .videos }
        if mediaType.hasPrefix("audio/") { return .audio }
        if mediaType.hasPrefix("text/") { return .text }
        switch mediaType {
        case "application/pdf": return .pdfs
        case "application/json", "application/xml": return .text
        case "application/octet-stream+nifti", "application/x-nifti": return .nifti
        case "application/dicom": return .dicom
        default: return nil
        }
    }

    /// The manifest (Encord's JSON) registering `items` with `layout`; `skipDuplicates` sets
    /// `skip_duplicate_urls` (a re-run or a resumed upload then registers nothing twice).
    /// A group or sequence takes every item as a frame, in order; DICOM series take their
    /// items by `Item.series` (else `title`; else, in the separate layout, one series per file).
    public static func json(_ items: [Item], layout: Layout, skipDuplicates: Bool) -> String {
        var fields: [(String, JSONValue)] = []
        switch layout {
        case .separate:
            for section in [Section.images, .videos, .audio, .pdfs, .text, .nifti] {
                let mine = items.filter { $0.section == section }
                if mine.isEmpty { continue }
                fields.append((section.rawValue, .array(mine.map { .object([("objectUrl", .string($0.url)), ("title", .string(String($0.title.suffix(300))))]) })))
            }
            let dicom = items.filter { $0.section == .dicom }
            if !dicom.isEmpty {
                fields.append(("dicom_series", .array(dicom.map { .object([("title", .string(String($0.title.suffix(300)))), ("objectUrl_0", .string($0.url))]) })))
            }
        case .dicomSeries(let title):
            var order: [String] = []
            var members: [String: [Item]] = [:]
            for item in items {
                let name = item.series ?? title ?? item.title
                if members[name] == nil { order.append(name) }
                members[name, default: []].append(item)
            }
            fields.append(("dicom_series", .array(order.map { name in
                var series: [(String, JSONValue)] = [("title", .string(String(name.suffix(300))))]
                for (i, item) in members[name]!.enumerated() { series.append(("objectUrl_\(i)", .string(item.url))) }
                return .object(series)
            })))
        case .imageGroup(let title), .imageSequence(let title):
            var group: [(String, JSONValue)] = [("title", .string(String(title.suffix(300)))), ("createVideo", .bool(layout != .imageGroup(title: title)))]
            for (i, item) in items.enumerated() { group.append(("objectUrl_\(i)", .string(item.url))) }
            fields.append(("image_groups", .array([.object(group)])))
        }
        fields.append(("skip_duplicate_urls", .bool(skipDuplicates)))
        return JSONValue.object(fields).compactText
    }
}

/// A refused upload request: the field and why.
public struct UploadInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String
    public init(field: String, message: String) { self.field = field; self.message = message }
    public var description: String { message }
}
