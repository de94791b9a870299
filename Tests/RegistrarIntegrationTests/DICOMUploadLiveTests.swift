import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// Medical volumes from a disk through a real `registrar api`, coordinator and worker
/// (docs/uploads.md): `registrar upload --dicom-series` turns the DICOM files of a directory
/// (made by pydicom, without extensions) into one DICOM series per directory and
/// SeriesInstanceUID, refuses a file that is not DICOM by name and reason, and a NIfTI file
/// registers as NIfTI; the recorded slices, dimensions and UIDs are checked in PostgreSQL.
extension LiveServers {
@Suite(.serialized) struct DICOMUploadLiveTests {
    static let python = (ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv") + "/bin/python"
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support")
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RegistrarCoreTests/Fixtures/media")

    /// Writes one DICOM file with pydicom; its SOPInstanceUID.
    static func dicom(_ h: PipelineHarness, _ path: URL, series: String, instance: Int, rows: Int, columns: Int) throws -> String {
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let r = try h.runProgram(URL(fileURLWithPath: python), [support.appendingPathComponent("make_dicom_series.py").path, path.path,
                                                                 series, String(instance), String(rows), String(columns)])
        guard r.status == 0 else { throw PipelineHarness.HarnessError("pydicom: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func dicomSeriesAndNiftiFromADiskAreRegisteredWithTheirMetadata() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        let root = h.workDir.appendingPathComponent("objects").path
        let a = try APIHarness(h, extraEnv: ["REGISTRAR_STORAGE_URL": "file://" + root, "REGISTRAR_LINK_SECRET": "live-dicom-secret-0123456789abcdef01234"])
        try h.startCoordinator()
        try h.startWorker("w1")
        let key = try a.tenantKey("dicom-\(h.id)")
        let api = ["REGISTRAR_API_URL": a.base, "REGISTRAR_API_KEY": key]

        // study/ct: one series of 4 slices (9 rows × 6 columns), files named against the
        // instance order; study/mixed: two series in one directory; a text file among them.
        let study = h.workDir.appendingPathComponent("study")
        let ctUID = "1.2.826.0.1.3680043.8.498.901", bUID = "1.2.826.0.1.3680043.8.498.902", cUID = "1.2.826.0.1.3680043.8.498.903"
        var ctSOPs: [Int: String] = [:]
        for k in 1...4 {
            let instance = 5 - k
            ctSOPs[instance] = try Self.dicom(h, study.appendingPathComponent("ct/IM000\(k)"), series: ctUID, instance: instance, rows: 9, columns: 6)
        }
        _ = try Self.dicom(h, study.appendingPathComponent("mixed/b1.dcm"), series: bUID, instance: 1, rows: 4, columns: 5)
        _ = try Self.dicom(h, study.appendingPathComponent("mixed/b2.dcm"), series: bUID, instance: 2, rows: 4, columns: 5)
        _ = try Self.dicom(h, study.appendingPathComponent("mixed/c1.dcm"), series: cUID, instance: 1, rows: 3, columns: 3)
        FileManager.default.createFile(atPath: study.appendingPathComponent("mixed/notes.txt").path, contents: Data("not an image".utf8))

        let r = try h.run(["upload", study.path, "--folder", "scans", "--dicom-series", "--wait", "--json"], extraEnv: api)
        #expect(r.status == 1, "a refused file: exit 1\n\(r.stderr)")
        #expect(r.stderr.contains("study/mixed/notes.txt: not a DICOM file: Expected a DICOM file, got a file of type text/plain"), "\(r.stderr)")
        let job = try r.json()
        #expect(job.string("status") == "DONE" && job.int("total") == 3 && job.int("done") == 3 && job.int("errors") == 0, "\(job)")
        let jobID = job.string("id")
        #expect(try h.count("SELECT count(*) FROM files WHERE job_id = $1 AND type = 'dicom_series'", [jobID]) == 3)
        // The CT series: 4 slices of 6×9, its UID, SOP instances in InstanceNumber order.
        let ct = try h.db.query("""
            SELECT frame_count, width, height, dicom_series_uid, array_to_string(dicom_sop_uids, ','), cardinality(urls), dicom_modality
            FROM files WHERE job_id = $1 AND title = 'study/ct'
            """, [jobID])
        #expect(ct.count == 1)
        if ct.count == 1 {
            #expect(ct[row: 0, column: 0] == "4" && ct[row: 0, column: 1] == "6" && ct[row: 0, column: 2] == "9", "slices, columns, rows")
            #expect(ct[row: 0, column: 3] == ctUID && ct[row: 0, column: 5] == "4" && ct[row: 0, column: 6] == "CT")
            #expect(ct[row: 0, column: 4] == (1...4).map { ctSOPs[$0]! }.joined(separator: ","), "SOP instances in InstanceNumber order")
        }
        // The mixed directory: one unit per series, titled with its UID.
        #expect(try h.scalar("SELECT frame_count || ':' || width || 'x' || height FROM files WHERE job_id = $1 AND title = $2",
                             [jobID, "study/mixed (\(bUID))"]) == "2:5x4")
        #expect(try h.scalar("SELECT frame_count || ':' || dicom_series_uid FROM files WHERE job_id = $1 AND title = $2",
                             [jobID, "study/mixed (\(cUID))"]) == "1:\(cUID)")
        // Nothing stored for the refused file.
        let storage = try LocalObjectStorage(root: root)
        #expect(try storage.keys(prefix: "uploads/").count == 7)

        // Run again: every series skipped, nothing registered twice.
        let again = try h.run(["upload", study.path, "--folder", "scans", "--dicom-series", "--wait", "--json"], extraEnv: api)
        #expect(try again.json().int("skipped") == 3, "\(again.stdout)")
        #expect(try h.count("SELECT count(*) FROM files WHERE type = 'dicom_series'") == 3)

        // A NIfTI file from the disk registers as NIfTI, with its dimensions.
        let nifti = h.workDir.appendingPathComponent("brain.nii.gz")
        try FileManager.default.copyItem(at: Self.media.appendingPathComponent("documents/nifti1-8x6x4.nii.gz"), to: nifti)
        let n = try h.run(["upload", nifti.path, "--folder", "scans", "--wait", "--json"], extraEnv: api)
        let nJob = try n.json()
        #expect(n.status == 0 && nJob.string("status") == "DONE" && nJob.int("done") == 1, "\(n.stderr) \(nJob)")
        #expect(try h.scalar("SELECT type || ':' || array_to_string(nifti_dims, 'x') FROM files WHERE job_id = $1", [nJob.string("id")]) == "nifti:8x6x4")

        // The API: as=dicom-series with a non-DICOM file is refused by index and name, and stores nothing new.
        let folders = try a.json("GET", "/v1/folders", key: key, expect: 200)
        let folderID = try #require((folders["items"] as? [[String: Any]])?.first?["id"] as? String)
        let keys = try storage.keys(prefix: "uploads/").map(\.text)
        let png = try Data(contentsOf: Self.media.appendingPathComponent("images/png-rgb8.png"))
        let bad = try a.call("POST", "/v1/folders/\(folderID)/files/register", key: key,
                             body: Data(#"{"as":"dicom-series","title":"t","files":[{"objectKey":"\#(keys.first { $0.hasSuffix("/b1.dcm") }!)"},{"objectKey":"\#(keys.first { $0.hasSuffix(".nii.gz") }!)"}]}"#.utf8))
        #expect(bad.status == 422 && bad.text.contains("not_dicom") && bad.text.contains("files[1]"), "\(bad.text)")
        let noTitle = try a.call("POST", "/v1/folders/\(folderID)/files?as=dicom-series", key: key, body: png,
                                 headers: ["Content-Type": "image/png", "X-File-Name": "x.png"])
        #expect(noTitle.status == 400 && noTitle.text.contains("title"), "\(noTitle.text)")
    }
}
}
