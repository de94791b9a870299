/// What a label row is checked against besides the ontology: the data unit as Registrar
/// registered it (type, probed size and frame count).
public struct LabelMedia: Sendable {
    /// How labels are placed in `data_units.<hash>.labels` for this data type.
    public enum Placement: Sendable, Equatable {
        /// `{"objects": [...], "classifications": [...]}` directly (images).
        case single
        /// `{"<frame>": {"objects", "classifications"}}` (videos, sequences, groups, DICOM, NIfTI, PDF pages).
        case frames
        /// `{}`: ranges live in `object_answers` (audio ms, text characters).
        case ranges
    }

    /// The data unit's hash (`data_hash`, our data-unit id as text).
    public var dataHash: String
    /// Our data type's wire name (`image`, `video`, `image_group`, `image_sequence`, `dicom_series`, `nifti`, `audio`, `pdf`, `text`).
    public var dataType: String
    public var width: Int?
    public var height: Int?
    /// Frames (video frames, sequence/group images, DICOM slices, PDF pages); nil when unknown.
    public var frameCount: Int?

    public init(dataHash: String, dataType: String, width: Int?, height: Int?, frameCount: Int?) {
        self.dataHash = dataHash; self.dataType = dataType; self.width = width; self.height = height; self.frameCount = frameCount
    }

    public var placement: Placement {
        switch dataType {
        case "image": .single
        case "audio", "text", "plain_text": .ranges
        default: .frames
        }
    }

    /// Encord's `data_type` for the label row (annotation-spec §2). Image sequences are videos
    /// in Encord (they are encoded); groups are `img_group`.
    public var encordDataType: String {
        switch dataType {
        case "image": "image"
        case "video", "image_sequence": "video"
        case "image_group": "img_group"
        case "dicom_series", "dicom": "dicom"
        case "nifti": "nifti"
        case "audio": "audio"
        case "pdf": "pdf"
        case "text": "plain_text"
        default: dataType
        }
    }
}

/// One problem with a label row: the JSON path and what is wrong there.
public struct LabelIssue: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
