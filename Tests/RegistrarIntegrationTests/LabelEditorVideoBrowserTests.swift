import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// The label editor on a video (docs/editor.md, "Videos"): a 10-frame MP4 made by ffmpeg,
/// registered through the pipeline (the worker probes its frames, fps and size), labelled in
/// headless Chromium (scripts/label-editor-video-browser.py): a box on frame 0 copied to frames
/// 1 and 2 and moved on 2, a dynamic answer changed on frame 2, a point and a frame
/// classification on frame 5, a global classification; submitted. The JSON and COCO exports must
/// hold exactly those per-frame labels (image pixels within one pixel), one track for the box.
@Suite(.serialized) struct LabelEditorVideoBrowserTests {
    let exports = ExportLiveTests()

    /// Car (box; static radio Color: Red, Blue; dynamic radio Occluded: Yes, No), Sign (point);
    /// a frame classification Light (Bright, Dark) and a global one Weather (Sunny, Rain).
    static let hashes = ["car": "c0a1b2c3", "color": "c0l0r001", "red": "red00001", "blue": "blue0001", "occluded": "occl0001",
                         "yes": "yes00001", "no": "no000001", "sign": "sign0001", "light": "l1ght001", "lightAttr": "l1ght002",
                         "bright": "br1ght01", "dark": "dark0001", "weather": "weath001", "weatherAttr": "weath002",
                         "sunny": "sunny001", "rain": "rain0001"]
    static var ontology: [String: Any] {
        let h = hashes
        func radio(_ id: String, _ name: String, _ hash: String, dynamic: Bool, _ options: [(String, String)]) -> [String: Any] {
            ["id": id, "name": name, "type": "radio", "featureNodeHash": hash, "required": false, "dynamic": dynamic,
             "options": options.enumerated().map { i, o in ["id": "\(id).\(i + 1)", "label": o.0, "value": o.0.lowercased(), "featureNodeHash": o.1] }]
        }
        return ["objects": [
            ["id": "1", "name": "Car", "color": "#D33115", "shape": "bounding_box", "featureNodeHash": h["car"]!, "attributes": [
                radio("1.1", "Color", h["color"]!, dynamic: false, [("Red", h["red"]!), ("Blue", h["blue"]!)]),
                radio("1.2", "Occluded", h["occluded"]!, dynamic: true, [("Yes", h["yes"]!), ("No", h["no"]!)])]],
            ["id": "2", "name": "Sign", "color": "#7B64FF", "shape": "point", "featureNodeHash": h["sign"]!],
        ], "classifications": [
            ["id": "1", "featureNodeHash": h["light"]!, "attributes": [
                radio("1.1", "Light", h["lightAttr"]!, dynamic: false, [("Bright", h["bright"]!), ("Dark", h["dark"]!)])]],
            ["id": "2", "featureNodeHash": h["weather"]!, "level": "global", "attributes": [
                radio("2.1", "Weather", h["weatherAttr"]!, dynamic: false, [("Sunny", h["sunny"]!), ("Rain", h["rain"]!)])]],
        ]]
    }

    @Test func aVideoLabelledFrameByFrameExportsExactlyThoseFrames() throws {
        let rig = try EditorBrowserRig(name: "editor-video")
        let h = rig.h, api = rig.api, key = rig.key
        let driver = rig.driver("label-editor-video-browser.py")

        // The video: made by ffmpeg, served by nginx, registered through the API and the worker's probe.
        let videoPath = h.workDir.appendingPathComponent("ten-frames.mp4").path
        let made = try h.runProgram(rig.python, [driver, "--make-video", videoPath])
        try #require(made.status == 0, "making the video: \(made.stderr)")
        let url = try h.putObject("editor-video-\(h.id)/ten-frames.mp4", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: videoPath))))
        let folder = try rig.register(folder: "video", manifest: #"{"videos": [{"objectUrl": "\#(url)"}]}"#, units: 1)
        let probed = try #require(try h.scalar("SELECT concat_ws(',', width, height, frame_count, fps) FROM files WHERE folder_id = $1::uuid", [folder]))
        #expect(probed.split(separator: ",").prefix(3) == ["640", "480", "10"], "probed width, height, frames, fps: \(probed)")

        let project = try rig.project(title: "Clips", folder: folder, ontology: Self.ontology, tasks: 1)
        let pid = project.id
        let ontologyArg = String(decoding: try JSONSerialization.data(withJSONObject: Self.hashes), as: UTF8.self)
        let seen = try rig.browse([
            driver, "--base", api.base, "--project", pid, "--annotator-key", project.annotatorKey, "--annotate-stage", project.annotateStage,
            "--ontology", ontologyArg, "--screenshots", rig.artifacts.path,
        ])
        print("label editor video: screenshots \(((seen["screenshots"] as? [String]) ?? []).joined(separator: ", ")); greys seen \(seen["greys"] ?? "?")")
        // The frame shown is the frame asked for: frame k of the video is a flat grey 20 + 22·k
        // (H.264 moves it a few levels; neighbouring frames are 22 apart).
        let greys = (seen["greys"] as? [String: Any]) ?? [:]
        for f in [0, 1, 5] {
            let g = (greys[String(f)] as? NSNumber)?.doubleValue ?? -100
            #expect(abs(g - Double(20 + 22 * f)) <= 8, "frame \(f) shown with grey \(g), expected \(20 + 22 * f)")
        }
        let drawn = try #require(seen["drawn"] as? [String: [String: Any]])
        let num = EditorBrowserRig.num, near = EditorBrowserRig.near
        func flat(_ v: Any?) -> [Double] { ((v as? [Any]) ?? []).map(num) }

        // JSON: frames 0, 1, 2 (the box, one objectHash) and 5 (the point), nothing else.
        let (_, jsonBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "json"}"#)
        let rows = try #require(try JSONSerialization.jsonObject(with: jsonBody) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["is_valid"] as? Bool == true && row["data_type"] as? String == "video")
        let unit = try #require((row["data_units"] as? [String: Any])?.values.first as? [String: Any])
        let labels = try #require(unit["labels"] as? [String: [String: Any]])
        #expect(labels.keys.sorted() == ["0", "1", "2", "5"], "labelled frames: \(labels.keys.sorted())")
        func objects(_ f: String) -> [[String: Any]] { (labels[f]?["objects"] as? [[String: Any]]) ?? [] }
        var carHash: String?
        for f in ["0", "1", "2"] {
            let cars = objects(f).filter { $0["shape"] as? String == "bounding_box" }
            #expect(cars.count == 1 && objects(f).count == 1, "frame \(f): \(objects(f))")
            guard let car = cars.first, let b = car["boundingBox"] as? [String: Any] else { continue }
            if carHash == nil { carHash = car["objectHash"] as? String }
            #expect(car["objectHash"] as? String == carHash, "one object across frames 0-2")
            let px = [num(b["x"]) * 640, num(b["y"]) * 480, (num(b["x"]) + num(b["w"])) * 640, (num(b["y"]) + num(b["h"])) * 480]
            near(px, flat(drawn[f]?["box"]), "frame \(f) box")
        }
        let points = objects("5")
        #expect(points.count == 1 && points.first?["shape"] as? String == "point")
        if let p = (points.first?["point"] as? [String: Any])?["0"] as? [String: Any] {
            near([num(p["x"]) * 640, num(p["y"]) * 480], flat(drawn["5"]?["point"]), "frame 5 point")
        }
        let hash = try #require(carHash)
        // The static Color once for the object; Occluded No on frames 0-1, Yes on frame 2.
        let staticAnswers = (((row["object_answers"] as? [String: Any])?[hash] as? [String: Any])?["classifications"] as? [[String: Any]]) ?? []
        #expect(staticAnswers.count == 1 && ((staticAnswers.first?["answers"] as? [[String: Any]])?.first?["featureHash"] as? String) == Self.hashes["red"]!,
                "\(staticAnswers)")
        let actions = (((row["object_actions"] as? [String: Any])?[hash] as? [String: Any])?["actions"] as? [[String: Any]]) ?? []
        var ranges: [String: [[Int]]] = [:]
        for a in actions {
            let option = ((a["answers"] as? [[String: Any]])?.first?["featureHash"] as? String) ?? "?"
            ranges[option] = ((a["range"] as? [[Any]]) ?? []).map { $0.map { Int(num($0)) } }
        }
        #expect(ranges == [Self.hashes["no"]!: [[0, 1]], Self.hashes["yes"]!: [[2, 2]]], "dynamic Occluded: \(actions)")
        let classes = ((row["classification_answers"] as? [String: Any]) ?? [:]).values.compactMap { $0 as? [String: Any] }
        let light = classes.filter { $0["featureHash"] as? String == Self.hashes["light"]! }
        #expect(light.count == 1 && (light.first?["range"] as? [[Any]])?.map { $0.map { Int(num($0)) } } == [[5, 5]], "Light on frame 5: \(light)")
        let weather = classes.filter { $0["featureHash"] as? String == Self.hashes["weather"]! }
        #expect(weather.count == 1, "the global Weather: \(classes)")

        // COCO: one image per labelled frame, the box's three frames one track, bboxes in pixels,
        // the dynamic answer of each annotation's own frame.
        let (_, cocoBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "coco"}"#)
        let coco = try #require(try JSONSerialization.jsonObject(with: cocoBody) as? [String: Any])
        let images = (coco["images"] as? [[String: Any]]) ?? []
        let frameOfImage = Dictionary(uniqueKeysWithValues: images.map { img -> (Int, String) in
            (img.int("id"), String((img["file_name"] as? String ?? "").split(separator: "/").last ?? "").replacingOccurrences(of: ".jpg", with: ""))
        })
        #expect(frameOfImage.values.sorted() == ["0", "1", "2", "5"], "COCO images: \(images)")
        #expect(images.allSatisfy { $0.int("width") == 640 && $0.int("height") == 480 })
        let annotations = (coco["annotations"] as? [[String: Any]]) ?? []
        #expect(annotations.count == 4)
        var tracks = Set<Int>()
        for a in annotations {
            guard let f = frameOfImage[a.int("image_id")] else { Issue.record("annotation on no image: \(a)"); continue }
            let attrs = (a["attributes"] as? [String: Any]) ?? [:]
            if f == "5" {
                near(Array(flat(a["keypoints"]).prefix(2)), flat(drawn["5"]?["point"]), "COCO frame 5 keypoint")
                continue
            }
            tracks.insert((attrs["track_id"] as? Int) ?? -1)
            let d = flat(drawn[f]?["box"])
            if d.count == 4 { near(flat(a["bbox"]), [d[0], d[1], d[2] - d[0], d[3] - d[1]], "COCO frame \(f) bbox") }
            let answers = (attrs["classifications"] as? [String: Any]) ?? [:]
            #expect(answers["Occluded"] as? String == (f == "2" ? "Yes" : "No") && answers["Color"] as? String == "Red", "frame \(f): \(answers)")
        }
        #expect(tracks.count == 1, "the box is one track over frames 0-2: \(tracks)")
    }

    /// Orientation end to end (docs/editor.md, docs/probing.md): a JPEG stored 640×480 with
    /// EXIF Orientation 6 and an MP4 stored 640×480 whose track is tagged rotate=90 (ffprobe
    /// says so) are registered through the pipeline and recorded 480×640 with their orientation;
    /// the editor shows them as a browser does (the stored top-left square where a person sees
    /// it); a box drawn on each comes back in the JSON and COCO exports in displayed pixels.
    @Test func rotatedJPEGAndMP4AreLabelledAsDisplayed() throws {
        let rig = try EditorBrowserRig(name: "editor-rotated")
        let h = rig.h, api = rig.api, key = rig.key
        let driver = rig.driver("label-editor-video-browser.py")
        let dir = h.workDir.appendingPathComponent("rotated")
        let made = try h.runProgram(rig.python, [driver, "--make-rotated", dir.path])
        try #require(made.status == 0, "making the media: \(made.stderr)")
        let tags = try made.json()
        #expect(tags["jpegOrientation"] as? Int == 6 && tags["mp4Rotation"] as? String == "90", "Pillow and ffprobe: \(tags)")
        var urls: [String: String] = [:]
        for name in ["rotated.jpg", "rotated.mp4"] {
            urls[name] = try h.putObject("editor-rotated-\(h.id)/\(name)", bytes: Array(try Data(contentsOf: dir.appendingPathComponent(name))))
        }
        let folder = try rig.register(folder: "rotated", manifest: #"{"images": [{"objectUrl": "\#(urls["rotated.jpg"]!)"}], "videos": [{"objectUrl": "\#(urls["rotated.mp4"]!)"}]}"#,
                                      units: 2)
        // Recorded as displayed: 480×640 for both.
        let sizes = try h.db.query("SELECT type, width::text, height::text FROM files WHERE folder_id = $1::uuid ORDER BY type", [folder])
        #expect(sizes.map { "\($0[0] ?? "-") \($0[1] ?? "-")x\($0[2] ?? "-")" } == ["image 480x640", "video 480x640"], "recorded sizes")

        let project = try rig.project(title: "Rotated", folder: folder, ontology: Self.ontology, tasks: 2)
        let pid = project.id
        let seen = try rig.browse([
            driver, "--rotated", "--base", api.base, "--project", pid, "--annotator-key", project.annotatorKey, "--annotate-stage", project.annotateStage,
            "--ontology", "{}", "--screenshots", rig.artifacts.path,
        ])
        print("label editor rotated: corners seen \(seen["corners"] ?? "?")")
        let drawn = try #require(seen["drawn"] as? [String: [Any]])
        let num = EditorBrowserRig.num, near = EditorBrowserRig.near

        let (_, jsonBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "json"}"#)
        let rows = try #require(try JSONSerialization.jsonObject(with: jsonBody) as? [[String: Any]])
        #expect(rows.count == 2)
        var titleByHash: [String: String] = [:]
        for row in rows {
            let title = String((row["data_title"] as? String ?? "").split(separator: "/").last ?? "")
            titleByHash[row["data_hash"] as? String ?? ""] = title
            let unit = try #require((row["data_units"] as? [String: Any])?.values.first as? [String: Any])
            #expect(unit["width"] as? Int == 480 && unit["height"] as? Int == 640, "\(title): \(unit["width"] ?? "-")x\(unit["height"] ?? "-")")
            let labels = unit["labels"] as? [String: Any] ?? [:]
            let objects = (labels["objects"] as? [[String: Any]]) ?? ((labels["0"] as? [String: Any])?["objects"] as? [[String: Any]]) ?? []
            #expect(objects.count == 1, "\(title): \(labels)")
            if let b = objects.first?["boundingBox"] as? [String: Any] {
                near([num(b["x"]) * 480, num(b["y"]) * 640, (num(b["x"]) + num(b["w"])) * 480, (num(b["y"]) + num(b["h"])) * 640],
                     (drawn[title] ?? []).map { num($0) }, "\(title) box")
            }
        }
        let (_, cocoBody, _) = try exports.export(api, key: key, project: pid, #"{"format": "coco"}"#)
        let coco = try #require(try JSONSerialization.jsonObject(with: cocoBody) as? [String: Any])
        let images = (coco["images"] as? [[String: Any]]) ?? []
        #expect(images.count == 2 && images.allSatisfy { $0.int("width") == 480 && $0.int("height") == 640 }, "\(images)")
        for a in (coco["annotations"] as? [[String: Any]]) ?? [] {
            let image = images.first { $0.int("id") == a.int("image_id") } ?? [:]
            let hash = String((image["file_name"] as? String ?? "").split(separator: "/").dropFirst().first ?? "").split(separator: ".").first.map(String.init) ?? ""
            let d: [Double] = (drawn[titleByHash[hash] ?? ""] ?? []).map { num($0) }
            guard d.count == 4 else { Issue.record("COCO annotation on an unknown image: \(image)"); continue }
            near(((a["bbox"] as? [Any]) ?? []).map(num), [d[0], d[1], d[2] - d[0], d[3] - d[1]], "COCO \(titleByHash[hash] ?? "?") bbox")
        }
    }
}
}
