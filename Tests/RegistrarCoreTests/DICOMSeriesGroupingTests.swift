import Foundation
import RegistrarCore
import Testing

/// `registrar upload --dicom-series`, the pure part: series read from the files' headers by the
/// registration prober, titles per directory and SeriesInstanceUID, and the manifest's
/// `dicom_series` units.
struct DICOMSeriesGroupingTests {
    func fixture(_ name: String) throws -> [UInt8] {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("media").appendingPathComponent(name)))
    }

    func header(_ bytes: [UInt8]) -> Result<(seriesUID: String, instanceNumber: Int?), UploadInputError> {
        DICOMSeriesGrouping.header(size: Int64(bytes.count)) { offset, length in
            Array(bytes[min(bytes.count, Int(offset))..<min(bytes.count, Int(offset) + length)])
        }
    }

    @Test func theHeaderGivesTheSeriesAndInstance() throws {
        // The 80 KB private element before the UIDs needs a second ranged read.
        for (file, suffix, instance) in [("dicom-explicit-le.dcm", "1", 7), ("dicom-implicit-le.dcm", "2", 12), ("dicom-big-private.dcm", "7", 42)] {
            let h = try header(fixture("documents/" + file)).get()
            #expect(h.seriesUID == "1.2.826.0.1.3680043.8.498.3\(suffix)" && h.instanceNumber == instance, "\(file)")
        }
    }

    @Test func aFileThatIsNotDICOMIsRefusedWithTheProbersReason() throws {
        guard case .failure(let png) = header(try fixture("images/png-rgb8.png")) else { Issue.record("a PNG read as DICOM"); return }
        #expect(png.message.hasPrefix("not a DICOM file: Expected a DICOM file, got a file of type image/png"), "\(png.message)")
        guard case .failure(let nifti) = header(try fixture("documents/nifti1-8x6x4.nii")) else { Issue.record("a NIfTI read as DICOM"); return }
        #expect(nifti.message.contains("not a DICOM file"), "\(nifti.message)")
        let cut = Array(try fixture("documents/dicom-explicit-le.dcm").prefix(100))
        guard case .failure(let short) = header(cut) else { Issue.record("100 bytes read as DICOM"); return }
        #expect(short.message.contains("not a DICOM file: unrecognised content"), "\(short.message)")
    }

    @Test func oneSeriesPerDirectoryAndUID() {
        let files = [DICOMSeriesGrouping.File(name: "scan/ct/IM1", seriesUID: "1.1"), .init(name: "scan/ct/IM2", seriesUID: "1.1"),
                     .init(name: "scan/mixed/a", seriesUID: "2.1"), .init(name: "scan/mixed/b", seriesUID: "2.2"),
                     .init(name: "scan/mixed/c", seriesUID: "2.1"), .init(name: "loose.dcm", seriesUID: "3.1")]
        #expect(DICOMSeriesGrouping.titles(files) == ["scan/ct", "scan/ct", "scan/mixed (2.1)", "scan/mixed (2.2)", "scan/mixed (2.1)", "3.1"])
    }

    @Test func theManifestHoldsOneDICOMSeriesUnitPerSeries() throws {
        let items = ["a", "b", "c"].enumerated().map { i, n in
            UploadManifest.Item(url: "http://api/\(n)", title: "d/\(n)", section: .dicom, series: i == 1 ? "d (2)" : "d (1)")
        }
        let value = try #require(JSONValue.parse(Array(UploadManifest.json(items, layout: .dicomSeries(title: nil), skipDuplicates: true).utf8)))
        guard case .array(let series)? = value["dicom_series"] else { Issue.record("no dicom_series: \(value)"); return }
        #expect(series.count == 2)
        #expect(series[0]["title"] == .string("d (1)") && series[0]["objectUrl_0"] == .string("http://api/a") && series[0]["objectUrl_1"] == .string("http://api/c"))
        #expect(series[1]["title"] == .string("d (2)") && series[1]["objectUrl_0"] == .string("http://api/b") && series[1]["objectUrl_1"] == nil)
        // Without series names, the request's title makes them one unit.
        let one = try #require(JSONValue.parse(Array(UploadManifest.json(items.map { var i = $0; i.series = nil; return i }, layout: .dicomSeries(title: "T"), skipDuplicates: false).utf8)))
        guard case .array(let single)? = one["dicom_series"] else { Issue.record("no dicom_series"); return }
        #expect(single.count == 1 && single[0]["objectUrl_2"] == .string("http://api/c"))
        // A DICOM file in the separate layout is a series of one; the type comes from .dcm or the header.
        let separate = try #require(JSONValue.parse(Array(UploadManifest.json([items[0]], layout: .separate, skipDuplicates: false).utf8)))
        #expect(separate["dicom_series"] == .array([.object([("title", .string("d/a")), ("objectUrl_0", .string("http://api/a"))])]))
        #expect(UploadManifest.classify(contentType: nil, name: "IM1.dcm")?.section == .dicom)
        #expect(UploadManifest.classify(contentType: "application/dicom", name: "IM1")?.section == .dicom)
        #expect(UploadManifest.Layout.parse("dicom-series", title: nil) == .success(.dicomSeries(title: nil)))
    }
}
