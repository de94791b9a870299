/// The kinds of registrable unit. One unit is what the user counts: a single image, video,
/// audio, PDF, text or NIfTI file, or one image group, image sequence or DICOM series
/// (a group is one unit with many URLs, as Encord counts it).
public enum DataType: String, Sendable, CaseIterable, Codable, Comparable {
    case image
    case video
    case audio
    case pdf
    case text
    case imageGroup = "image_group"
    case imageSequence = "image_sequence"
    case dicomSeries = "dicom_series"
    case nifti

    /// Whether a unit of this type holds an ordered list of URLs rather than one.
    public var isMultiURL: Bool {
        switch self {
        case .imageGroup, .imageSequence, .dicomSeries: return true
        default: return false
        }
    }

    public static func < (a: DataType, b: DataType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
