import Foundation
import Testing

extension LiveServers {
/// Other tools' manifests, converted and registered end to end: real media on the nginx object
/// server, `registrar convert` then `registrar validate` on its output, then `registrar submit
/// --from … --wait` through a real coordinator and worker into PostgreSQL — and the tools' ids
/// and metadata arrive in each file's client metadata.
@Suite(.serialized) struct ImporterLiveTests {
    /// The objects every format registers: one of each type, real bytes from the core fixtures.
    func putMedia(_ h: PipelineHarness) throws -> (jpg: String, mp4: String, wav: String, txt: String, pdf: String) {
        (try h.putObject("media/cat 1.jpg", bytes: try MediaSamples.bytes("images/jpeg-baseline.jpg")),
         try h.putObject("media/clip.mp4", bytes: try MediaSamples.bytes("av/mp4_faststart.mp4")),
         try h.putObject("media/speech.wav", bytes: try MediaSamples.bytes("av/wav_pcm16.wav")),
         try h.putObject("media/review.txt", bytes: try MediaSamples.bytes("documents/text-plain-utf8.txt")),
         try h.putObject("media/contract.pdf", bytes: try MediaSamples.bytes("documents/pdf-classic-3p.pdf")))
    }

    /// convert → validate → submit --from --wait; returns the submit's final job JSON.
    func convertValidateSubmit(_ h: PipelineHarness, from: String, input: String, folder: String, extra: [String] = []) throws -> [String: Any] {
        let out = h.workDir.appendingPathComponent("\(folder)-converted.json").path
        let convert = try h.run(["convert", "--from", from, input, "-o", out, "--json"] + extra)
        #expect(convert.status == 0, "convert: \(convert.stdout) \(convert.stderr)")
        let validate = try h.run(["validate", out, "--json"])
        #expect(validate.status == 0, "validate: \(validate.stdout)")
        #expect(try validate.json()["errorCount"] as? Int == 0)
        let submit = try h.run(["submit", input, "--from", from, "--folder", folder, "--wait", "--json"] + extra)
        #expect(submit.status == 0, "submit: \(submit.stdout) \(submit.stderr)")
        return try submit.json()
    }

    func files(_ h: PipelineHarness, folder: String) throws -> [(type: String, url: String, title: String, meta: String)] {
        let rows = try h.db.query("""
            SELECT f.type, f.url, f.title, coalesce(f.client_metadata::text, '') FROM files f JOIN folders d ON d.id = f.folder_id
            WHERE d.name = $1 AND f.verified_at IS NOT NULL ORDER BY f.url
            """, [folder])
        return (0..<rows.count).map { r in
            (rows[row: r, column: 0] ?? "", rows[row: r, column: 1] ?? "", rows[row: r, column: 2] ?? "", rows[row: r, column: 3] ?? "")
        }
    }

    @Test func eachFormatIsConvertedAndRegisteredEndToEnd() throws {
        let h = try PipelineHarness()
        let m = try putMedia(h)
        try h.startCoordinator()
        try h.startWorker("w1")

        // Label Studio: an export with annotations, one task per media field.
        let ls = try h.writeManifest("ls-export.json", """
        [{"id": 101, "data": {"image": "\(m.jpg.replacingOccurrences(of: " ", with: "%20"))", "site": "Lisbon"}, "annotations": [{"id": 1, "result": []}], "predictions": []},
         {"id": 102, "data": {"video": "\(m.mp4)"}, "annotations": [], "predictions": []},
         {"id": 103, "data": {"audio": "\(m.wav)"}, "annotations": [], "predictions": []},
         {"id": 104, "data": {"text": "\(m.txt)"}, "annotations": [], "predictions": []},
         {"id": 105, "data": {"pdf": "\(m.pdf)"}, "annotations": [], "predictions": []},
         {"id": 106, "data": {"text": "inline text is refused"}}]
        """)
        let lsJob = try convertValidateSubmit(h, from: "labelstudio", input: ls, folder: "from-ls")
        #expect(lsJob["status"] as? String == "DONE" && lsJob.int("done") == 5 && lsJob.int("errors") == 0, "\(lsJob)")
        let lsFiles = try files(h, folder: "from-ls")
        #expect(lsFiles.map(\.type).sorted() == ["audio", "image", "pdf", "text", "video"])
        #expect(lsFiles.first { $0.type == "image" }?.meta.contains(#""taskId": 101"#) == true, "\(lsFiles)")

        // CVAT: an images manifest exactly as CVAT writes it, names relative to the base URL
        // (a space in a name is percent-encoded), plus a video manifest.
        let cvatImages = try h.writeManifest("manifest.jsonl", """
        {"version":"1.1"}
        {"type":"images"}
        {"name":"media/cat 1","extension":".jpg","width":227,"height":149,"meta":{"related_images":[]},"checksum":"548918ec4b56132a5cff1d4acabe9947"}

        """)
        let cvatJob = try convertValidateSubmit(h, from: "cvat", input: cvatImages, folder: "from-cvat", extra: ["--base-url", h.objectsBase])
        #expect(cvatJob["status"] as? String == "DONE" && cvatJob.int("done") == 1, "\(cvatJob)")
        let cvatVideo = try h.writeManifest("video-manifest.jsonl", """
        {"version":"1.0"}
        {"type":"video"}
        {"properties":{"name":"media/clip.mp4","resolution":[320,240],"length":25}}
        {"number":0,"pts":0,"checksum":"17bb40d76887b56fe8213c6fded3d540"}

        """)
        let cvatVideoJob = try convertValidateSubmit(h, from: "cvat", input: cvatVideo, folder: "from-cvat-video", extra: ["--base-url", h.objectsBase + "/"])
        #expect(cvatVideoJob["status"] as? String == "DONE" && cvatVideoJob.int("done") == 1, "\(cvatVideoJob)")
        let cvatFiles = try files(h, folder: "from-cvat") + files(h, folder: "from-cvat-video")
        #expect(cvatFiles.map(\.type) == ["image", "video"])
        #expect(cvatFiles.first?.url == h.objectsBase + "/media/cat%201.jpg")
        #expect(cvatFiles.first?.meta.contains(#""checksum": "548918ec4b56132a5cff1d4acabe9947""#) == true, "\(cvatFiles)")

        // Labelbox: export lines (nested data_row) and a creation payload row.
        let lb = try h.writeManifest("export.ndjson", """
        {"data_row": {"id": "ckrow1", "global_key": "speech-global-key", "row_data": "\(m.wav)"}, "media_attributes": {"mime_type": "audio/wav", "asset_type": "audio"}, "metadata_fields": [{"schema_name": "tag", "value": "x"}], "attachments": [], "projects": {}}
        {"row_data": "\(m.pdf)", "global_key": "contract-17", "media_type": "PDF", "metadata_fields": [{"name": "tag", "value": "legal"}]}
        {"row_data": {"messages": []}, "global_key": "chat", "media_type": "CONVERSATIONAL"}

        """)
        let lbJob = try convertValidateSubmit(h, from: "labelbox", input: lb, folder: "from-labelbox")
        #expect(lbJob["status"] as? String == "DONE" && lbJob.int("done") == 2, "\(lbJob)")
        let lbFiles = try files(h, folder: "from-labelbox")
        #expect(Set(lbFiles.map(\.title)) == ["speech-global-key", "contract-17"])
        #expect(lbFiles.allSatisfy { $0.meta.contains(#""labelbox""#) })
    }

    /// An input written by the tool's own library, not by us: label-studio-sdk's COCO importer
    /// (`convert_coco_to_ls`, Support/make_importer_inputs.py; the committed fixture names its
    /// version) wrote these Label Studio tasks. Its image root is swapped for the object server;
    /// nothing else is touched. Converted, validated and registered end to end.
    @Test func labelStudioTasksWrittenByItsSDKAreRegistered() throws {
        let h = try PipelineHarness()
        try h.putObject("media/cat 1.jpg", bytes: try MediaSamples.bytes("images/jpeg-baseline.jpg"))
        try h.putObject("media/dog.png", bytes: try MediaSamples.bytes("images/png-rgb8.png"))
        try h.startCoordinator()
        try h.startWorker("w1")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RegistrarCoreTests/Fixtures/importers/labelstudio-sdk-coco.json")
        let written = try String(contentsOf: fixture, encoding: .utf8)
        #expect(written.contains("http://registrar-objects.invalid/media/cat%201.jpg"), "the SDK's output changed shape")
        let input = try h.writeManifest("ls-sdk.json", written.replacingOccurrences(of: "http://registrar-objects.invalid/", with: h.objectsBase + "/"))
        let summary = try h.run(["convert", "--from", "labelstudio", input, "-o", h.workDir.appendingPathComponent("ls-sdk-manifest.json").path, "--json"])
        let s = try summary.json()
        #expect(s["converted"] as? Int == 2 && (s["notCarried"] as? [String: Any])?["annotations"] != nil, "\(summary.stdout)")
        let job = try convertValidateSubmit(h, from: "labelstudio", input: input, folder: "from-ls-sdk")
        #expect(job["status"] as? String == "DONE" && job.int("done") == 2 && job.int("errors") == 0, "\(job)")
        let registered = try files(h, folder: "from-ls-sdk")
        #expect(registered.map(\.url) == [h.objectsBase + "/media/cat%201.jpg", h.objectsBase + "/media/dog.png"], "\(registered)")
        #expect(registered.allSatisfy { $0.type == "image" })
    }

    @Test func submitFromRefusesWhenNothingConverts() throws {
        let h = try PipelineHarness()
        let input = try h.writeManifest("texts.json", #"[{"id": 1, "data": {"text": "only inline text"}}]"#)
        let submit = try h.run(["submit", input, "--from", "labelstudio", "--folder", "nothing"])
        #expect(submit.status == 1)
        #expect(submit.stdout.contains("task[0] (line 1), data.text: holds inline text"), "\(submit.stdout) \(submit.stderr)")
        #expect(try h.count("SELECT count(*) FROM upload_jobs") == 0)
    }
}
}
