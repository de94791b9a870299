/// What verification learned about one unit's object(s): the fields of a file record that
/// come from the object rather than the manifest. Every field is optional: which ones are known
/// depends on the type and on how much the probe could read.
public struct MediaInfo: Sendable, Equatable {
    public var size: Int64?
    public var mimeType: String?
    public var etag: String?
    public var width: Int?
    public var height: Int?
    public var fps: Double?
    public var duration: Double?
    public var frameCount: Int?
    /// The orientation a viewer applies (EXIF values 1–8: a JPEG's EXIF Orientation, an MP4/MOV
    /// track's display matrix); `width`/`height` are already the displayed ones (MediaOrientation).
    public var orientation: Int?
    public var codec: String?
    public var sampleRate: Int?
    public var channels: Int?
    public var bitDepth: Int?
    public var pageCount: Int?
    /// The format recognised from the bytes (nil when supplied or not probed).
    public var format: MediaFormat?
    /// Text: the character encoding detected (`utf-8`, `utf-16le`, `utf-16be`, `ascii`).
    public var textEncoding: String?
    /// DICOM identifiers (Part 10 header, up to PixelData).
    public var dicomStudyUID: String?
    public var dicomSeriesUID: String?
    public var dicomSOPInstanceUID: String?
    /// A series' SOP Instance UIDs, in file order.
    public var dicomSOPInstanceUIDs: [String]?
    public var dicomModality: String?
    public var dicomInstanceNumber: Int?
    /// Whether the DICOM header carries a (non-empty) PatientID — recorded as presence only.
    public var dicomHasPatientID: Bool?
    /// NIfTI `dim[1…dim[0]]` and `pixdim[1…dim[0]]`.
    public var niftiDims: [Int]?
    public var niftiPixdim: [Double]?
    /// The unit's URLs in the order verification established, when it differs from the
    /// manifest's (a DICOM series is ordered by InstanceNumber).
    public var orderedURLs: [String]?
    /// Requests and bytes the probe used (for the bytes budget).
    public var probeRequests = 0
    public var probeBytes = 0
    /// Whether these values came from the manifest's metadata block (trusted, not probed).
    public var supplied = false

    public init() {}

    /// The values of a supplied metadata block, recorded as given.
    public init(supplied: SuppliedMetadata) {
        self.supplied = true
        switch supplied {
        case .video(let v):
            fps = v.fps; duration = v.duration; width = v.width; height = v.height
            size = Int64(v.fileSize); mimeType = v.mimeType
            frameCount = Int((v.fps * v.duration).rounded())
        case .audio(let a):
            duration = a.duration; size = Int64(a.fileSize); mimeType = a.mimeType; sampleRate = a.sampleRate
            bitDepth = a.bitDepth; codec = a.codec; channels = a.numChannels
        case .image(let i):
            mimeType = i.mimeType; size = Int64(i.fileSize); width = i.width; height = i.height
        case .pdf(let p):
            size = Int64(p.fileSize); pageCount = p.numPages
        case .text(let t):
            size = Int64(t.fileSize); mimeType = t.mimeType
        }
    }
}

/// The result of verifying one unit. Failures are values with stable codes (`not_found`,
/// `access_denied`, `timeout`, `throttled`, `type_mismatch`, …), never thrown errors: thrown
/// errors are for infrastructure faults, which drive retry and nack.
public enum UnitOutcome: Sendable, Equatable {
    case verified(MediaInfo)
    case failed(code: UnitErrorCode, message: String)
}
