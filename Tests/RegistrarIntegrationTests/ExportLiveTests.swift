import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Exports as engine jobs on the real servers (docs/labels.md, "Exports"): a real coordinator
/// and worker make the parts, the API assembles them; the JSON list carries every unit with the
/// export fields, the COCO file loads with pycocotools with areas and masks that agree, a
/// second download is the same bytes, and the CLI's `export --wait` writes the same file.
@Suite(.serialized) struct ExportLiveTests {
    let labels = LabelLiveTests()
    let tasks = TaskLiveTests()
    static let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/check_coco.py").path
    static let encordChecker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/check_encord.py").path

    func export(_ api: APIHarness, key: String, project: String, _ body: String) throws -> (String, Data, [String: Any]) {
        let id = try tasks.post(api, "/v1/projects/\(project)/exports", key: key, body, expect: 202).string("id")
        let job = try tasks.follow(api, id, key: key, timeout: 120)
        #expect(job.string("status") == "DONE", "\(job)")
        let file = try api.call("GET", "/v1/exports/\(id)/download", key: key)
        #expect(file.status == 200)
        let record = try api.json("GET", "/v1/exports/\(id)", key: key, expect: 200)
        return (id, file.body, record)
    }

    @Test func jsonAndCocoExportsOfARealProject() throws {
        let h = try PipelineHarness()
        let (api, root) = try APIHarness.exportStack(h, name: "exports")
        let key = try api.tenantKey("acme")
        let (pid, hashes) = try labels.project(h, api, key: key)
        for (name, from, type) in [("image-row.json", "dh-img-0001", "image"), ("video-row.json", "dh-vid-0001", "video")] {
            let row = try labels.row(name, from: from, to: hashes[type]!)
            #expect(try labels.put(api, key: key, "/v1/projects/\(pid)/label-rows/\(hashes[type]!)", row, ifMatch: "\"0\"").status == 200)
        }

        // Before the job ends the file is not ready; afterwards: every unit of the project.
        let (jid, jsonBody, jsonRecord) = try export(api, key: key, project: pid, #"{"format": "json", "versionName": "v1"}"#)
        let rows = try #require(try JSONSerialization.jsonObject(with: jsonBody) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows.map { $0["data_hash"] as? String ?? "" }.sorted() == hashes.values.sorted())
        let image = try #require(rows.first { $0["data_hash"] as? String == hashes["image"] })
        #expect(image["is_valid"] as? Bool == true && image["is_image_sequence"] is NSNull && image["video_link"] is NSNull)
        #expect((image["object_answers"] as? [String: Any])?.count == 2)
        let seq = try #require(rows.first { $0["data_hash"] as? String == hashes["image_sequence"] })
        #expect(seq["is_image_sequence"] as? Bool == true && seq["label_status"] as? String == "NOT_LABELLED")
        let file = try #require(jsonRecord["file"] as? [String: Any])
        #expect(file["size"] as? Int == jsonBody.count && jsonRecord.string("versionName") == "v1")
        // A second download is the same bytes.
        #expect(try api.call("GET", "/v1/exports/\(jid)/download", key: key).body == jsonBody)

        // Encord's own SDK (PyPI `encord`, offline) reads every row back: the objects on their
        // frames, the classifications, the answers, and the same labels out of `to_encord_dict()`.
        let exported = root + "/export.json", structure = root + "/ontology.json"
        try jsonBody.write(to: URL(fileURLWithPath: exported))
        try JSONSerialization.data(withJSONObject: try labels.fixture("ontology.json")).write(to: URL(fileURLWithPath: structure))
        let sdk = try h.runProgram(URL(fileURLWithPath: "/opt/registrar-tools-venv/bin/python"), [Self.encordChecker, exported, structure])
        #expect(sdk.status == 0, "\(sdk.stderr) \(sdk.lastLine)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(sdk.lastLine.utf8)) as? [String: Any])
        #expect(read["rows"] as? Int == 3 && read["objects"] as? Int == 3 && read["classifications"] as? Int == 2, "\(read)")
        let perRow = read["per_row"] as? [String: [String: Any]] ?? [:]
        let videoObjects = perRow[hashes["video"]!]?["objects"] as? [String: [String: Any]] ?? [:]
        #expect(videoObjects.values.first?["frames"] as? [Int] == [0, 1] && videoObjects.values.first?["name"] as? String == "Car")
        let imageObjects = perRow[hashes["image"]!]?["objects"] as? [String: [String: Any]] ?? [:]
        #expect(Set(imageObjects.values.compactMap { $0["name"] as? String }) == ["Car", "Road"])
        #expect((imageObjects["88ZK93Wo"]?["answers"] as? [String: Any])?["Speed"] as? String == "42.5")

        // COCO, read back by pycocotools.
        let (_, cocoBody, _) = try export(api, key: key, project: pid, #"{"format": "coco"}"#)
        let path = root + "/check.coco.json"
        try cocoBody.write(to: URL(fileURLWithPath: path))
        let python = "/opt/registrar-tools-venv/bin/python"
        let check = try h.runProgram(URL(fileURLWithPath: python), [Self.checker, path])
        #expect(check.status == 0, "\(check.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(check.lastLine.utf8)) as? [String: Any])
        #expect(report["categories"] as? Int == 2)
        #expect(report["images"] as? Int == 3)          // the image and the video's two labelled frames
        #expect(report["annotations"] as? Int == 4)     // car + road on the image, the car on frames 0 and 1
        let anns = report["anns"] as? [[String: Any]] ?? []
        let car = try #require(anns.first { ($0["bbox"] as? [Double]) == [192.0, 216.0, 576.0, 270.0] })
        #expect(car["area"] as? Double == 155520.0 && car["mask_area"] as? Int == 155520)
        let video = anns.filter { ($0["image_id"] as? Int ?? -1) >= 1 }
        #expect(video.count == 2 && Set(video.compactMap { $0["track_id"] as? Int }).count == 1, "one track over both frames")

        // The CLI: export --wait writes the same COCO bytes.
        let out = root + "/cli.json"
        let cli = try h.run(["export", "--project", pid, "--format", "coco", "--wait", "-o", out],
                            extraEnv: ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == cocoBody)

        // Only some labels: the road's feature hash keeps the polygon alone.
        let (_, roads, _) = try export(api, key: key, project: pid, #"{"format": "coco", "featureHashes": ["05b6e6e3"]}"#)
        let onlyRoad = try #require(try JSONSerialization.jsonObject(with: roads) as? [String: Any])
        #expect((onlyRoad["annotations"] as? [Any])?.count == 1)
        // Refusals name the field.
        let bad = try api.call("POST", "/v1/projects/\(pid)/exports", key: key, body: Data(#"{"format": "xml"}"#.utf8), headers: TaskLiveTests.json)
        #expect(bad.status == 422 && bad.text.contains("format"))
    }
}
}
