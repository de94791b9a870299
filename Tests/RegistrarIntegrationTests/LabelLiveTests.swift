import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Label rows through the API on the real servers (docs/labels.md): the spec's image and
/// video rows saved and read back in Encord's shape, an image sequence's frames, every refusal
/// naming its JSON path, and `If-Match` (428 without, 412 when stale, never a lost update).
@Suite(.serialized) struct LabelLiveTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RegistrarCoreTests/Fixtures/labels")
    let tasks = TaskLiveTests()

    func fixture(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent(name))) as! [String: Any]
    }

    /// A project with the spec's ontology over one image (1920×1080), one 2-frame video
    /// (1200×924) and one 4-frame image sequence (640×480); returns the data hashes by type.
    func project(_ h: PipelineHarness, _ api: APIHarness, key: String) throws -> (String, [String: String]) {
        let folder = try tasks.post(api, "/v1/folders", key: key, #"{"name": "labels"}"#, expect: 201).string("id")
        let job = try h.scalar("""
            INSERT INTO jobs (tenant_id, folder_id, format, manifest_bytes, ignore_errors, status, phase, split_done, total_units, kind)
            SELECT tenant_id, id, 'json', 0, false, 'DONE', 'finished', true, 3, 'registration' FROM folders WHERE id = $1::uuid RETURNING id
            """, [folder])!
        _ = try h.db.query("""
            INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash, width, height, frame_count, fps, duration, mime_type)
            SELECT f.tenant_id, f.id, $2::uuid, v.i, v.type, v.title, v.url, ARRAY[v.url], v.url, sha256(convert_to(v.url, 'UTF8')), v.w, v.h, v.frames, v.fps, v.dur, v.mime
            FROM folders f, (VALUES (0, 'image', 'street.jpg', 'https://example.com/street.jpg', 1920, 1080, NULL::bigint, NULL::float8, NULL::float8, 'image/jpeg'),
                                    (1, 'video', 'two-frame-video.mp4', 'https://example.com/v.mp4', 1200, 924, 2, 25.0, 0.08, 'video/mp4'),
                                    (2, 'image_sequence', 'seq', 'https://example.com/s/0.jpg', 640, 480, 4, NULL, NULL, 'image/jpeg'))
                 AS v(i, type, title, url, w, h, frames, fps, dur, mime)
            WHERE f.id = $1::uuid
            """, [folder, job])
        let ds = try tasks.post(api, "/v1/datasets", key: key, #"{"title": "Labelled"}"#, expect: 201).string("id")
        try tasks.addUnits(h, dataset: ds, folder: folder)
        let structure = try JSONSerialization.data(withJSONObject: ["title": "Street", "structure": try fixture("ontology.json")])
        let ontology = try api.json("POST", "/v1/ontologies", key: key, body: structure, headers: TaskLiveTests.json, expect: 201).string("id")
        let pid = try tasks.post(api, "/v1/projects", key: key, #"{"title": "Labels", "ontologyId": "\#(ontology)", "datasetIds": ["\#(ds)"]}"#,
                                 expect: 201).string("id")
        var hashes: [String: String] = [:]
        for type in ["image", "video", "image_sequence"] {
            hashes[type] = try h.scalar("SELECT m.id::text FROM dataset_files m JOIN files f ON f.id = m.file_id WHERE m.dataset_id = $1::uuid AND f.type = $2",
                                        [ds, type])!
        }
        return (pid, hashes)
    }

    /// The spec's row rewritten for our data hash.
    func row(_ name: String, from: String, to hash: String) throws -> [String: Any] {
        var row = try fixture(name)
        row["data_hash"] = hash
        var units = row["data_units"] as! [String: Any]
        var unit = units.removeValue(forKey: from) as! [String: Any]
        unit["data_hash"] = hash
        units[hash] = unit
        row["data_units"] = units
        return row
    }

    func put(_ api: APIHarness, key: String, _ path: String, _ row: [String: Any], ifMatch: String?) throws -> HTTP.Reply {
        var headers = TaskLiveTests.json
        if let ifMatch { headers["If-Match"] = ifMatch }
        return try api.call("PUT", path, key: key, body: try JSONSerialization.data(withJSONObject: row), headers: headers)
    }

    @Test func rowsAreSavedInEncordsShapeAndStaleWritesAreRefused() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let (pid, hashes) = try project(h, api, key: key)
        let image = "/v1/projects/\(pid)/label-rows/\(hashes["image"]!)"

        // Never saved: the empty row, version 0.
        let empty = try api.call("GET", image, key: key)
        #expect(empty.status == 200 && empty.header("ETag") == "\"0\"")
        let e = try JSONSerialization.jsonObject(with: empty.body) as! [String: Any]
        #expect(e["label_status"] as? String == "NOT_LABELLED" && e["data_type"] as? String == "image" && e["label_hash"] is NSNull)
        let unit = (e["data_units"] as! [String: Any])[hashes["image"]!] as! [String: Any]
        #expect(unit["width"] as? Int == 1920 && unit["data_link"] as? String == "https://example.com/street.jpg")

        // No If-Match: 428. The spec's row with If-Match "0": saved, version 1.
        let mine = try row("image-row.json", from: "dh-img-0001", to: hashes["image"]!)
        #expect(try put(api, key: key, image, mine, ifMatch: nil).status == 428)
        let saved = try put(api, key: key, image, mine, ifMatch: "\"0\"")
        #expect(saved.status == 200, "\(saved.text)")
        #expect(saved.header("ETag") == "\"1\"")
        let back = try api.json("GET", image, key: key, expect: 200)
        #expect(back["label_status"] as? String == "LABEL_IN_PROGRESS")
        #expect((back["object_answers"] as? [String: Any])?.keys.sorted() == ["88ZK93Wo", "aorEugWA"])
        let labels = ((back["data_units"] as! [String: Any])[hashes["image"]!] as! [String: Any])["labels"] as! [String: Any]
        #expect((labels["objects"] as? [Any])?.count == 2)
        // Fixed fields are ours, not the client's.
        #expect(back["data_title"] as? String == "street.jpg" && back["dataset_title"] as? String == "Labelled")

        // A second writer still holding version 0 is refused (412) and changes nothing; `*` overwrites.
        var other = mine
        other["object_answers"] = [String: Any]()
        let stale = try put(api, key: key, image, other, ifMatch: "\"0\"")
        #expect(stale.status == 412 && stale.text.contains("stale_label_row") && stale.header("ETag") == "\"1\"")
        #expect(try h.count("SELECT count(*) FROM label_rows WHERE project_id = $1::uuid AND version = 1", [pid]) == 1)
        #expect(try put(api, key: key, image, mine, ifMatch: "*").header("ETag") == "\"2\"")

        // The video (frame-keyed labels, dynamic answers) and the sequence's frames.
        let video = try row("video-row.json", from: "dh-vid-0001", to: hashes["video"]!)
        let v = try put(api, key: key, "/v1/projects/\(pid)/label-rows/\(hashes["video"]!)", video, ifMatch: "\"0\"")
        #expect(v.status == 200, "\(v.text)")
        var seq = try row("video-row.json", from: "dh-vid-0001", to: hashes["image_sequence"]!)
        var seqUnits = seq["data_units"] as! [String: Any]
        var seqUnit = seqUnits[hashes["image_sequence"]!] as! [String: Any]
        var frames = seqUnit["labels"] as! [String: Any]
        frames["3"] = frames["1"]
        seqUnit["labels"] = frames
        seqUnits[hashes["image_sequence"]!] = seqUnit
        seq["data_units"] = seqUnits
        let s = try put(api, key: key, "/v1/projects/\(pid)/label-rows/\(hashes["image_sequence"]!)", seq, ifMatch: "\"0\"")
        #expect(s.status == 200, "\(s.text)")
        // An image sequence is a video in Encord's terms; frame 4 does not exist.
        let seqBack = try api.json("GET", "/v1/projects/\(pid)/label-rows/\(hashes["image_sequence"]!)", key: key, expect: 200)
        #expect(seqBack["data_type"] as? String == "video")
        frames["4"] = frames["1"]
        seqUnit["labels"] = frames
        seqUnits[hashes["image_sequence"]!] = seqUnit
        seq["data_units"] = seqUnits
        let four = try put(api, key: key, "/v1/projects/\(pid)/label-rows/\(hashes["image_sequence"]!)", seq, ifMatch: "*")
        #expect(four.status == 422 && four.text.contains("labels.4"), "\(four.text)")

        // The listing: every unit of the project, saved or not, filtered by label status.
        let all = try api.json("GET", "/v1/projects/\(pid)/label-rows?limit=2", key: key, expect: 200)
        #expect((all["results"] as? [Any])?.count == 2 && all["nextPageToken"] is String)
        let labelled = try api.json("GET", "/v1/projects/\(pid)/label-rows?labelStatus=LABEL_IN_PROGRESS", key: key, expect: 200)
        #expect((labelled["results"] as? [[String: Any]])?.compactMap { $0["data_hash"] as? String }.sorted() == [hashes["image"]!, hashes["video"]!, hashes["image_sequence"]!].sorted())
        #expect(try api.call("GET", "/v1/projects/\(pid)/label-rows?labelStatus=DONE", key: key).status == 400)
    }

    /// `required` labels gate SUBMIT (docs/labels.md, "Required labels"): a unit never saved and
    /// a row whose Car lacks its required Color are refused `labels_incomplete` naming the path,
    /// stay at Annotate, and the rest of the batch goes on; once the row is complete, SUBMIT passes.
    @Test func submitNeedsEveryRequiredLabel() throws {
        let h = try PipelineHarness()
        try h.emptyQueues([TaskCreate.queues])
        let api = try APIHarness(h)
        try h.startCoordinator()
        try h.startWorker("w1", extraArgs: ["--kinds", "task-create"])
        let key = try api.tenantKey("acme")
        let (pid, hashes) = try project(h, api, key: key)
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM tasks WHERE project_id = $1::uuid", [pid]) < 3, Date() < deadline { usleep(100_000) }
        let stages = try tasks.stageIDs(api, key: key, project: pid)
        let byHash = Dictionary(uniqueKeysWithValues: try tasks.allTasks(api, key: key, project: pid, stage: "Annotate")
            .map { ($0.string("dataHash"), $0.string("uuid")) })
        let (imageTask, videoTask) = (byHash[hashes["image"]!]!, byHash[hashes["video"]!]!)
        let image = "/v1/projects/\(pid)/label-rows/\(hashes["image"]!)"

        // The spec's image row without the Car's required Color.
        var partial = try row("image-row.json", from: "dh-img-0001", to: hashes["image"]!)
        var answers = partial["object_answers"] as! [String: Any]
        var car = answers["88ZK93Wo"] as! [String: Any]
        car["classifications"] = (car["classifications"] as! [[String: Any]]).filter { !["Hi/riUFM", "5LBs5gdB"].contains($0["featureHash"] as? String ?? "") }   // Color and Shade, nested under its option
        answers["88ZK93Wo"] = car
        partial["object_answers"] = answers
        let draft = try put(api, key: key, image, partial, ifMatch: "\"0\"")
        #expect(draft.status == 200, "\(draft.text)")   // a draft may be incomplete

        let first = try tasks.act(api, key: key, project: pid, stage: "Annotate",
                                  [["taskUuid": imageTask, "action": "SUBMIT"], ["taskUuid": videoTask, "action": "SUBMIT"]])
        #expect(first.count == 2 && first.allSatisfy { ($0["error"] as? [String: Any])?.string("code") == "labels_incomplete" }, "\(first)")
        let imageMessage = (first[0]["error"] as? [String: Any])?.string("message") ?? ""
        #expect(imageMessage.contains("object_answers.88ZK93Wo") && imageMessage.contains("Color is required"), "\(imageMessage)")
        // Never saved: the empty row lacks the required classification.
        #expect(((first[1]["error"] as? [String: Any])?.string("message") ?? "").contains("Time of day is required"))
        #expect(try h.count("SELECT count(*) FROM tasks WHERE project_id = $1::uuid AND stage = $2::uuid", [pid, stages["Annotate"]!]) == 3)

        // Complete the image row: its SUBMIT passes while the video's, in the same batch, is still refused.
        let complete = try row("image-row.json", from: "dh-img-0001", to: hashes["image"]!)
        #expect(try put(api, key: key, image, complete, ifMatch: "\"1\"").status == 200)
        let second = try tasks.act(api, key: key, project: pid, stage: "Annotate",
                                   [["taskUuid": videoTask, "action": "SUBMIT"], ["taskUuid": imageTask, "action": "SUBMIT"]])
        #expect(second.map { $0.string("taskUuid") } == [videoTask, imageTask])
        #expect((second[0]["error"] as? [String: Any])?.string("code") == "labels_incomplete")
        #expect(second[1]["ok"] as? Bool == true && second[1].string("stage") != stages["Annotate"]!, "\(second)")
        #expect(try h.count("SELECT count(*) FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.project_id = $1::uuid AND e.action = 'SUBMIT'",
                            [pid]) == 1)
    }

    /// 30 malformed rows, each refused 422 `invalid_label_row` naming the path of its fault;
    /// nothing is stored.
    @Test func malformedRowsAreRefusedWithTheirPath() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let (pid, hashes) = try project(h, api, key: key)
        let hash = hashes["image"]!
        let good = try row("image-row.json", from: "dh-img-0001", to: hash)
        let vgood = try row("video-row.json", from: "dh-vid-0001", to: hashes["video"]!)
        let objects = "data_units.\(hash).labels.objects"
        typealias Row = [String: Any]
        func unit(_ r: Row, _ h: String = hash) -> Row { (r["data_units"] as! Row)[h] as! Row }
        func withUnit(_ r: Row, _ u: Row, _ h: String = hash) -> Row { var r = r; var us = r["data_units"] as! Row; us[h] = u; r["data_units"] = us; return r }
        func object(_ i: Int, _ change: (inout Row) -> Void) -> Row {
            var u = unit(good); var labels = u["labels"] as! Row; var objs = labels["objects"] as! [Row]
            change(&objs[i]); labels["objects"] = objs; u["labels"] = labels; return withUnit(good, u)
        }
        func answers(_ change: (inout [Row]) -> Void) -> Row {
            var r = good; var oa = r["object_answers"] as! Row; var car = oa["88ZK93Wo"] as! Row; var list = car["classifications"] as! [Row]
            change(&list); car["classifications"] = list; oa["88ZK93Wo"] = car; r["object_answers"] = oa; return r
        }
        func top(_ k: String, _ v: Any?) -> Row { var r = good; r[k] = v; return r }
        let cases: [(Row, String, String)] = [
            (object(0) { $0["featureHash"] = "zzzz9999" }, "\(objects)[0].featureHash", "unknown object"),
            (object(0) { $0.removeValue(forKey: "featureHash") }, "\(objects)[0].featureHash", "missing featureHash"),
            (object(0) { $0["objectHash"] = "" }, "\(objects)[0].objectHash", "empty objectHash"),
            (object(0) { $0["shape"] = "polygon" }, "\(objects)[0].shape", "shape not the object's"),
            (object(0) { $0["boundingBox"] = ["x": 1.5, "y": 0.1, "w": 0.1, "h": 0.1] }, "\(objects)[0].boundingBox.x", "x > 1"),
            (object(0) { $0["boundingBox"] = ["x": 0.1, "y": -0.2, "w": 0.1, "h": 0.1] }, "\(objects)[0].boundingBox.y", "y < 0"),
            (object(0) { $0["boundingBox"] = ["x": 0.8, "y": 0.1, "w": 0.5, "h": 0.1] }, "\(objects)[0].boundingBox.w", "box leaves frame"),
            (object(0) { $0["boundingBox"] = ["x": 0.1, "y": 0.1, "w": "wide", "h": 0.1] }, "\(objects)[0].boundingBox.w", "w not a number"),
            (object(0) { $0.removeValue(forKey: "boundingBox") }, "\(objects)[0].boundingBox", "no coordinates"),
            (object(0) { $0["polygon"] = ["0": ["x": 0.1, "y": 0.1]] }, "\(objects)[0].polygon", "foreign coordinate field"),
            (object(0) { $0["confidence"] = 3 }, "\(objects)[0].confidence", "confidence > 1"),
            (object(0) { $0["createdAt"] = "last tuesday" }, "\(objects)[0].createdAt", "bad timestamp"),
            (object(1) { $0["polygon"] = ["0": ["x": 0.1, "y": 0.1], "1": ["x": 0.2, "y": 0.2]] }, "\(objects)[1].polygon", "polygon of 2 points"),
            (object(1) { $0["polygons"] = [[[0.1, 0.1, 0.2]]] }, "\(objects)[1].polygons[0][0]", "ring too short"),
            (object(1) { $0["polygons"] = [[[0.1, 0.1, 0.2, 0.2, 1.4, 0.3]]] }, "\(objects)[1].polygons[0][0][4]", "ring value > 1"),
            (object(1) { $0["objectHash"] = "88ZK93Wo" }, "\(objects)[1].objectHash", "one track, two objects"),
            (answers { $0[0]["answers"] = "fast" }, "object_answers.88ZK93Wo.classifications[0].answers", "numeric as text"),
            (answers { $0[1]["answers"] = 7 }, "object_answers.88ZK93Wo.classifications[1].answers", "text as number"),
            (answers { $0[2]["answers"] = [] as [Any] }, "object_answers.88ZK93Wo.classifications[2].answers", "radio with none"),
            (answers { $0[2]["answers"] = [["featureHash": "udF54GwP"]] }, "object_answers.88ZK93Wo.classifications[2].answers[0].featureHash", "option of another attribute"),
            (answers { $0[0]["featureHash"] = "nope/nop" }, "object_answers.88ZK93Wo.classifications[0].featureHash", "unknown attribute"),
            (answers { $0.append($0[0]) }, "object_answers.88ZK93Wo.classifications[3].featureHash", "answered twice"),
            (answers { $0.append(["featureHash": "m4EOdm7J", "answers": [["featureHash": "siIaWACK"]]]) }, "object_answers.88ZK93Wo.classifications[3].featureHash", "dynamic answered statically"),
            (top("object_answers", ["ghost123": ["classifications": [] as [Any], "objectHash": "ghost123"]]), "object_answers.ghost123", "answers for no instance"),
            (top("object_actions", ["88ZK93Wo": ["actions": [["featureHash": "GiuPH/H9", "answers": 3, "range": [[0, 0]]]], "objectHash": "88ZK93Wo"]]), "object_actions.88ZK93Wo.actions[0].featureHash", "static attribute as dynamic"),
            (top("classification_answers", ["c1": ["featureHash": "00000000", "classifications": [] as [Any]]]), "classification_answers.c1.featureHash", "unknown classification"),
            (top("created_at", "07/01/2025"), "created_at", "bad row timestamp"),
            (top("data_hash", "12345678"), "data_hash", "another unit's hash"),
            (top("colour", "red"), "colour", "unknown field"),
            (withUnit(vgood, { var u = unit(vgood, hashes["video"]!); var l = u["labels"] as! Row; l["2"] = l["0"]; u["labels"] = l; return u }(), hashes["video"]!),
             "data_units.\(hashes["video"]!).labels.2", "frame past the end"),
        ]
        #expect(cases.count == 30)
        for (body, path, what) in cases {
            let target = (body["data_units"] as? Row)?.keys.contains(hashes["video"]!) == true ? hashes["video"]! : hash
            let r = try put(api, key: key, "/v1/projects/\(pid)/label-rows/\(target)", body, ifMatch: "*")
            #expect(r.status == 422, "\(what): HTTP \(r.status) \(r.text)")
            let errors = ((try? JSONSerialization.jsonObject(with: r.body)) as? Row).flatMap { ($0["error"] as? Row)?["details"] as? Row }?["errors"] as? [Row] ?? []
            #expect(errors.contains { $0["path"] as? String == path }, "\(what): wanted \(path), got \(errors.map { $0["path"] ?? "" })")
        }
        #expect(try h.count("SELECT count(*) FROM label_rows WHERE project_id = $1::uuid", [pid]) == 0)
        // A viewer may read but not write.
        let viewer = try tasks.collaborator(h, api, key: key, project: pid, email: "viewer@acme.io", role: "VIEWER")
        #expect(try api.call("GET", "/v1/projects/\(pid)/label-rows/\(hash)", key: viewer).status == 200)
        #expect(try put(api, key: viewer, "/v1/projects/\(pid)/label-rows/\(hash)", good, ifMatch: "*").status == 403)
    }
}
}
