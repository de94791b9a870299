import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// The label editor's rotatable box in a real browser (docs/editor.md, "Rotatable boxes";
/// scripts/label-editor-shapes-browser.py): drawn by dragging, turned by its rotate handle and
/// `]`, saved as `rotatableBoundingBox {x, y, w, h, theta}`, exported to JSON and COCO
/// (`bbox` the unrotated box in pixels, `attributes.rotation` theta) as drawn.
@Suite(.serialized) struct LabelEditorShapesBrowserTests {
    let tasks = TaskLiveTests()
    let exports = ExportLiveTests()

    @Test func aRotatableBoxTurnedByItsHandleIsExportedAsDrawn() throws {
        let h = try PipelineHarness()
        try h.emptyQueues([Export.queues, TaskCreate.queues])
        let root = NSTemporaryDirectory() + "registrar-editor-shapes-\(UUID().uuidString)"
        let storage = ["REGISTRAR_STORAGE_URL": "file://" + root]
        let api = try APIHarness(h, extraEnv: storage)
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: storage)
        let key = try api.tenantKey("acme")
        let venv = ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv"
        let python = URL(fileURLWithPath: venv + "/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { throw HarnessError("\(python.path) is missing: run scripts/setup") }
        let driver = LabelEditorBrowserTests.packageRoot.appendingPathComponent("scripts/label-editor-shapes-browser.py").path
        let imagePath = h.workDir.appendingPathComponent("crates.png").path
        let made = try h.runProgram(python, [driver, "--make-image", imagePath])
        try #require(made.status == 0, "making the image: \(made.stderr)")
        let url = try h.putObject("editor-shapes-\(h.id)/crates.png", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: imagePath))))
        let folder = try tasks.post(api, "/v1/folders", key: key, #"{"name": "shapes"}"#, expect: 201).string("id")
        let upload = try api.json("POST", "/v1/folders/\(folder)/uploads", key: key, body: Data(#"{"images": [{"objectUrl": "\#(url)"}]}"#.utf8),
                                  headers: ["Content-Type": "application/json"], expect: 202).string("id")
        var done: [String: Any] = [:]
        let registered = Date().addingTimeInterval(120)
        repeat { done = try api.json("GET", "/v1/uploads/\(upload)?wait=5", key: key, expect: 200) } while done.string("status") == "PENDING" && Date() < registered
        try #require(done.string("status") == "DONE" && done.int("done") == 1, "the registration: \(done)")
        let ds = try tasks.post(api, "/v1/datasets", key: key, #"{"title": "Crates"}"#, expect: 201).string("id")
        try tasks.addUnits(h, dataset: ds, folder: folder)
        let ontologyJSON: [String: Any] = ["objects": [["id": "1", "name": "Crate", "color": "#16A5A5", "shape": "rotatable_bounding_box", "featureNodeHash": "crate001"]],
                                           "classifications": [Any]()]
        let structure = try JSONSerialization.data(withJSONObject: ["title": "Crates", "structure": ontologyJSON])
        let ontology = try api.json("POST", "/v1/ontologies", key: key, body: structure, headers: TaskLiveTests.json, expect: 201).string("id")
        let pid = try tasks.post(api, "/v1/projects", key: key, #"{"title": "Crates", "ontologyId": "\#(ontology)", "datasetIds": ["\#(ds)"]}"#,
                                 expect: 201).string("id")
        let annotatorKey = try tasks.collaborator(h, api, key: key, project: pid, email: "ann@x.io", role: "ANNOTATOR")
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM tasks WHERE project_id = $1::uuid", [pid]) < 1, Date() < deadline { usleep(100_000) }
        let stages = try tasks.stageIDs(api, key: key, project: pid)
        let artifacts = ProcessInfo.processInfo.environment["REGISTRAR_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? LabelEditorBrowserTests.packageRoot.appendingPathComponent(".build/test-artifacts")
        let browser = try h.runProgram(python, [driver, "--base", api.base, "--project", pid, "--annotator-key", annotatorKey,
                                                "--annotate-stage", stages["Annotate"]!, "--screenshots", artifacts.path])
        try #require(browser.status == 0, "browser failed (exit \(browser.status)):\n\(browser.stderr.suffix(4000))\n\(browser.stdout.suffix(2000))")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(browser.lastLine.utf8)) as? [String: Any])
        func num(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }
        let drawn = ((seen["box"] as? [Any]) ?? []).map { num($0) }, theta = num(seen["theta"])
        try #require(drawn.count == 4 && abs(theta - 35) <= 1, "drawn \(drawn), theta \(theta)")
        func near(_ a: [Double], _ b: [Double], _ what: String) {
            #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1.0 }, "\(what): exported \(a), drawn \(b)")
        }

        let (_, jsonBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "json"}"#)
        let row = try #require((try JSONSerialization.jsonObject(with: jsonBody) as? [[String: Any]])?.first)
        #expect(row["is_valid"] as? Bool == true)
        let unit = try #require((row["data_units"] as? [String: Any])?.values.first as? [String: Any])
        let objects = ((unit["labels"] as? [String: Any])?["objects"] as? [[String: Any]]) ?? []
        #expect(objects.count == 1 && objects.first?["shape"] as? String == "rotatable_bounding_box")
        let b = try #require(objects.first?["rotatableBoundingBox"] as? [String: Any], "\(objects)")
        near([num(b["x"]) * 640, num(b["y"]) * 480, (num(b["x"]) + num(b["w"])) * 640, (num(b["y"]) + num(b["h"])) * 480], drawn, "rotatable box")
        #expect(abs(num(b["theta"]) - theta) < 0.01, "theta \(b["theta"] ?? "-"), drawn \(theta)")

        let (_, cocoBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "coco"}"#)
        let coco = try #require(try JSONSerialization.jsonObject(with: cocoBody) as? [String: Any])
        let ann = try #require(((coco["annotations"] as? [[String: Any]]) ?? []).first)
        near(((ann["bbox"] as? [Any]) ?? []).map { num($0) }, [drawn[0], drawn[1], drawn[2] - drawn[0], drawn[3] - drawn[1]], "COCO bbox")
        #expect(abs(num((ann["attributes"] as? [String: Any])?["rotation"]) - theta) < 0.01, "COCO rotation: \(ann)")
    }
}
}
