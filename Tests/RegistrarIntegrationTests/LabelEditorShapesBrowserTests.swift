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
    let exports = ExportLiveTests()

    @Test func aRotatableBoxAndASkeletonAreExportedAsDrawn() throws {
        let rig = try EditorBrowserRig(name: "editor-shapes")
        let h = rig.h, api = rig.api, key = rig.key
        let driver = rig.driver("label-editor-shapes-browser.py")
        let imagePath = h.workDir.appendingPathComponent("crates.png").path
        let made = try h.runProgram(rig.python, [driver, "--make-image", imagePath])
        try #require(made.status == 0, "making the image: \(made.stderr)")
        let url = try h.putObject("editor-shapes-\(h.id)/crates.png", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: imagePath))))
        let folder = try rig.register(folder: "shapes", manifest: #"{"images": [{"objectUrl": "\#(url)"}]}"#, units: 1)
        func vertex(_ name: String, _ x: Double, _ hash: String) -> [String: Any] {
            ["x": x, "y": 0.5, "name": name, "color": "#FF0000", "value": name, "featureHash": hash]
        }
        let template: [String: Any] = ["name": "Arm", "width": 100, "height": 100, "feature_node_hash": "armtpl01", "shape": "skeleton",
                                       "skeleton": ["0": vertex("shoulder", 0.1, "kp000001"), "1": vertex("elbow", 0.5, "kp000002"), "2": vertex("wrist", 0.9, "kp000003")],
                                       "skeletonEdges": ["0": ["1": ["color": "#00FF00"]], "1": ["2": ["color": "#00FF00"]]]]
        let ontologyJSON: [String: Any] = ["objects": [["id": "1", "name": "Crate", "color": "#16A5A5", "shape": "rotatable_bounding_box", "featureNodeHash": "crate001"],
                                                       ["id": "2", "name": "Arm", "color": "#E27300", "shape": "skeleton", "featureNodeHash": "arm00001"]],
                                           "classifications": [Any](), "skeleton_templates": [["template": template]]]
        let project = try rig.project(title: "Crates", folder: folder, ontology: ontologyJSON, tasks: 1)
        let pid = project.id
        let seen = try rig.browse([driver, "--base", api.base, "--project", pid, "--annotator-key", project.annotatorKey,
                                   "--annotate-stage", project.annotateStage, "--screenshots", rig.artifacts.path])
        let num = EditorBrowserRig.num, near = EditorBrowserRig.near
        let drawn = ((seen["box"] as? [Any]) ?? []).map { num($0) }, theta = num(seen["theta"])
        try #require(drawn.count == 4 && abs(theta - 35) <= 1, "drawn \(drawn), theta \(theta)")

        let (_, jsonBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "json"}"#)
        let row = try #require((try JSONSerialization.jsonObject(with: jsonBody) as? [[String: Any]])?.first)
        #expect(row["is_valid"] as? Bool == true)
        let unit = try #require((row["data_units"] as? [String: Any])?.values.first as? [String: Any])
        let objects = ((unit["labels"] as? [String: Any])?["objects"] as? [[String: Any]]) ?? []
        #expect(objects.map { $0["shape"] as? String ?? "" }.sorted() == ["rotatable_bounding_box", "skeleton"], "\(objects)")
        let b = try #require(objects.first { $0["shape"] as? String == "rotatable_bounding_box" }?["rotatableBoundingBox"] as? [String: Any], "\(objects)")
        near([num(b["x"]) * 640, num(b["y"]) * 480, (num(b["x"]) + num(b["w"])) * 640, (num(b["y"]) + num(b["h"])) * 480], drawn, "rotatable box")
        #expect(abs(num(b["theta"]) - theta) < 0.01, "theta \(b["theta"] ?? "-"), drawn \(theta)")

        // The skeleton: the template's keypoints in order, where they were placed (the elbow dragged), the wrist invisible.
        let drawnKeypoints = (seen["keypoints"] as? [[Any]]) ?? []
        try #require(drawnKeypoints.count == 3, "keypoints drawn: \(drawnKeypoints)")
        let skeleton = (objects.first { $0["shape"] as? String == "skeleton" }?["skeleton"] as? [String: [String: Any]]) ?? [:]
        #expect(skeleton.keys.sorted() == ["0", "1", "2"], "\(skeleton)")
        for (i, (name, hash, visibility)) in [("shoulder", "kp000001", "visible"), ("elbow", "kp000002", "visible"), ("wrist", "kp000003", "invisible")].enumerated() {
            let k = skeleton[String(i)] ?? [:]
            #expect(k["name"] as? String == name && k["featureHash"] as? String == hash && k["visibility"] as? String == visibility, "keypoint \(i): \(k)")
            near([num(k["x"]) * 640, num(k["y"]) * 480], [num(drawnKeypoints[i][0]), num(drawnKeypoints[i][1])], "keypoint \(name)")
        }
        near([num(drawnKeypoints[1][0]), num(drawnKeypoints[1][1])], [210, 365], "the dragged elbow")

        let (_, cocoBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "coco"}"#)
        let coco = try #require(try JSONSerialization.jsonObject(with: cocoBody) as? [String: Any])
        let categories = Dictionary(uniqueKeysWithValues: ((coco["categories"] as? [[String: Any]]) ?? []).map { ($0.int("id"), $0.string("name")) })
        let anns = (coco["annotations"] as? [[String: Any]]) ?? []
        if let arm = anns.first(where: { categories[$0.int("category_id")] == "Arm" }) {
            let kp = ((arm["keypoints"] as? [Any]) ?? []).map { num($0) }
            let expected: [Double] = drawnKeypoints.enumerated().flatMap { (i: Int, p: [Any]) -> [Double] in [num(p[0]), num(p[1]), i == 2 ? 0 : 2] }
            #expect(kp.count == 9 && zip(kp, expected).allSatisfy { abs($0 - $1) <= 1.0 }, "COCO keypoints \(kp), drawn \(expected)")
        } else { Issue.record("COCO: no Arm annotation: \(anns)") }
        let ann = try #require(anns.first { categories[$0.int("category_id")] == "Crate" })
        near(((ann["bbox"] as? [Any]) ?? []).map { num($0) }, [drawn[0], drawn[1], drawn[2] - drawn[0], drawn[3] - drawn[1]], "COCO bbox")
        #expect(abs(num((ann["attributes"] as? [String: Any])?["rotation"]) - theta) < 0.01, "COCO rotation: \(ann)")
    }
}
}
