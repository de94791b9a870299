/// `registrar upload --dicom-series`: which DICOM files of a disk form one series (one
/// `dicom_series` unit). Pure: the caller reads each file's SeriesInstanceUID with the DICOM
/// prober (`DICOMSeriesGrouping.header`) and passes names and UIDs here.
public enum DICOMSeriesGrouping {
    /// One DICOM file as read from a disk.
    public struct File: Sendable, Equatable {
        /// The upload name (`dir/sub/IM0001`): its directory part is where the series lives.
        public var name: String
        public var seriesUID: String
        public var instanceNumber: Int?
        public init(name: String, seriesUID: String, instanceNumber: Int? = nil) {
            self.name = name; self.seriesUID = seriesUID; self.instanceNumber = instanceNumber
        }
    }

    /// The series title of every file, in the order given: the files of one directory with one
    /// SeriesInstanceUID are one series titled by the directory (`scans/ct`); a directory that
    /// holds several series gives each its UID too (`scans/mixed (1.2.3.4)`), and files given
    /// on their own (no directory) are titled by their UID. Files of one UID in two
    /// directories stay two units: a directory is what the user pointed at.
    public static func titles(_ files: [File]) -> [String] {
        var uidsByDirectory: [String: Set<String>] = [:]
        for file in files { uidsByDirectory[directory(file.name), default: []].insert(file.seriesUID) }
        return files.map { file in
            let dir = directory(file.name)
            if dir.isEmpty { return file.seriesUID }
            return uidsByDirectory[dir]!.count > 1 ? "\(dir) (\(file.seriesUID))" : dir
        }
    }

    /// The directory part of an upload name ("" for a bare file name).
    public static func directory(_ name: String) -> String {
        guard let slash = name.lastIndex(of: "/") else { return "" }
        return String(name[..<slash])
    }

    /// Reads one file's DICOM header (up to PixelData) with the registration prober, through
    /// `read(offset, length)`: the file's SeriesInstanceUID and InstanceNumber, or why it is
    /// not a DICOM file of a series (the prober's message: "no DICM marker after the preamble", …).
    public static func header(size: Int64, read: (Int64, Int) -> [UInt8]?) -> Result<(seriesUID: String, instanceNumber: Int?), UploadInputError> {
        let parse = ProbeDriver.run(type: .dicomSeries, prober: ContentProber()) { offset, length in
            guard let bytes = read(offset, length) else { return .failure(code: .internalError, message: "the file could not be read") }
            return .bytes(bytes, offset: offset, totalSize: size, contentType: nil)
        }
        switch parse {
        case .described(let info):
            guard let uid = info.dicomSeriesUID, !uid.isEmpty else {
                return .failure(UploadInputError(field: "SeriesInstanceUID", message: "a DICOM file without a SeriesInstanceUID (0020,000E)"))
            }
            return .success((uid, info.dicomInstanceNumber))
        case .refused(let code, let message):
            return .failure(UploadInputError(field: code.rawValue, message: "not a DICOM file: \(message)"))
        case .needBytes:
            return .failure(UploadInputError(field: "corrupt", message: "not a DICOM file: the header could not be read"))
        }
    }
}
