import Foundation
import RegistrarCore
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Exports with `signedUrls: true` on the real servers (docs/labels.md, "Signed URLs"): files
/// registered from a private moto bucket through an s3-compatible integration come out with
/// SigV4-presigned links of the asked lifetime, which open the objects (200, same bytes) until
/// they expire (403 after); a file registered without an integration keeps its URL; the secret
/// is in no export file, job record or log. Registrar's own storage is the moto bucket too, so
/// the export's parts and file live there and downloads stream from it.
///
/// moto's server cannot check query-string signatures, so the links are opened through
/// Support/presign_gate.py: it rebuilds and verifies SigV4 query authentication and the expiry
/// as S3 does, then serves the object from moto.
@Suite(.serialized) struct SignedExportLiveTests {
    let labels = LabelLiveTests()
    let tasks = TaskLiveTests()
    static let gateScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/presign_gate.py").path

    /// Starts the gate on a free port in front of moto; it exits when the returned pipe closes.
    func startGate(_ moto: MotoServer) throws -> (port: Int, stdin: Pipe, process: Process) {
        let pick = try MotoServer.output([MotoServer.python, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        let port = try #require(Int(pick.trimmingCharacters(in: .whitespacesAndNewlines)))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: MotoServer.python)
        p.arguments = [Self.gateScript, String(port), moto.endpoint, moto.credentials["access_key_id"]!, moto.credentials["secret_access_key"]!]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        try p.run()
        _ = stdout.fileHandleForReading.availableData   // "ready"
        return (port, stdin, p)
    }

    /// GETs a presigned URL as the client would, connected to the gate (the Host stays moto's).
    func open(_ url: String, moto: MotoServer, gate: Int, to file: String) throws -> String {
        let hostPort = moto.endpoint.replacingOccurrences(of: "http://", with: "")
        return try MotoServer.output(["/usr/bin/curl", "-s", "-o", file, "-w", "%{http_code}", "--connect-to", "\(hostPort):127.0.0.1:\(gate)", url])
    }

    @Test func signedLinksOpenTheObjectsUntilTheyExpire() throws {
        let h = try PipelineHarness()
        defer { h.stopAll() }
        try h.emptyQueues([Export.queues, TaskCreate.queues])
        let png = h.workDir.appendingPathComponent("photo.png")
        let mp4 = h.workDir.appendingPathComponent("clip.mp4")
        try Data(try MediaSamples.bytes("images/png-rgb8.png")).write(to: png)
        try Data(try MediaSamples.bytes("av/mp4_faststart.mp4")).write(to: mp4)
        let moto = try MotoServer(bucket: "signed-media", files: [png, mp4], workDir: h.workDir)
        let secret = try #require(moto.credentials["secret_access_key"])
        let gate = try startGate(moto)
        defer { gate.stdin.fileHandleForWriting.closeFile(); gate.process.waitUntilExit() }
        let keyRing = ["REGISTRAR_ENCRYPTION_KEYS": LiveServers.PipelineTests.keyRing]
        let creds = h.workDir.appendingPathComponent("moto.json")
        try JSONSerialization.data(withJSONObject: ["access_key_id": moto.credentials["access_key_id"]!, "secret_access_key": secret,
                                                    "endpoint": moto.endpoint]).write(to: creds)
        #expect(try h.run(["integrations", "add", "s3-compatible", "--name", "moto", "--from-file", creds.path], extraEnv: keyRing).status == 0)
        // Registrar's own storage is the same bucket (through the same integration): the export's
        // parts and assembled file are written there and downloads stream from it.
        let env = keyRing.merging(["REGISTRAR_STORAGE_URL": "s3://signed-media/store?integration=moto"]) { $1 }
        let api = try APIHarness(h, extraEnv: env)
        try h.startCoordinator()
        try h.startWorker("w1", extraArgs: ["--kinds", "export,task-create"], extraEnv: env)
        let key = try api.tenantKey("signer-\(h.id)")

        // Three files: two registered through the moto integration, one without an integration.
        let folder = try tasks.post(api, "/v1/folders", key: key, #"{"name": "signed"}"#, expect: 201).string("id")
        func registration(_ integration: Bool) throws -> String {
            try h.scalar("""
                INSERT INTO jobs (tenant_id, folder_id, format, manifest_bytes, ignore_errors, status, phase, split_done, total_units, kind, integration_id)
                SELECT tenant_id, id, 'json', 0, false, 'DONE', 'finished', true, 1, 'registration',
                       CASE WHEN $2::boolean THEN (SELECT id FROM integrations WHERE name = 'moto') END FROM folders WHERE id = $1::uuid RETURNING id
                """, [folder, integration ? "true" : "false"])!
        }
        let viaMoto = try registration(true), plain = try registration(false)
        _ = try h.db.query("""
            INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash, width, height, frame_count, fps, duration, mime_type)
            SELECT f.tenant_id, f.id, v.job::uuid, v.i, v.type, v.title, v.url, ARRAY[v.url], v.url, sha256(convert_to(v.url, 'UTF8')), v.w, v.h, v.frames, v.fps, v.dur, v.mime
            FROM folders f, (VALUES ($2, 0, 'image', 'photo.png', 's3://signed-media/media/photo.png', 1920, 1080, NULL::bigint, NULL::float8, NULL::float8, 'image/png'),
                                    ($2, 1, 'video', 'clip.mp4', 's3://signed-media/media/clip.mp4', 1200, 924, 2, 25.0, 0.08, 'video/mp4'),
                                    ($3, 0, 'image', 'plain.jpg', 'https://example.com/plain.jpg', 640, 480, NULL, NULL, NULL, 'image/jpeg'))
                 AS v(job, i, type, title, url, w, h, frames, fps, dur, mime)
            WHERE f.id = $1::uuid
            """, [folder, viaMoto, plain])
        let ds = try tasks.post(api, "/v1/datasets", key: key, #"{"title": "Signed"}"#, expect: 201).string("id")
        try tasks.addUnits(h, dataset: ds, folder: folder)
        let structure = try JSONSerialization.data(withJSONObject: ["title": "Street", "structure": try labels.fixture("ontology.json")])
        let ontology = try api.json("POST", "/v1/ontologies", key: key, body: structure, headers: TaskLiveTests.json, expect: 201).string("id")
        let pid = try tasks.post(api, "/v1/projects", key: key, #"{"title": "Signed", "ontologyId": "\#(ontology)", "datasetIds": ["\#(ds)"]}"#,
                                 expect: 201).string("id")
        let photoHash = try h.scalar("SELECT m.id::text FROM dataset_files m JOIN files f ON f.id = m.file_id WHERE m.dataset_id = $1::uuid AND f.title = 'photo.png'", [ds])!
        #expect(try labels.put(api, key: key, "/v1/projects/\(pid)/label-rows/\(photoHash)",
                               try labels.row("image-row.json", from: "dh-img-0001", to: photoHash), ifMatch: "\"0\"").status == 200)

        // Lifetimes outside 1 s … 7 days are refused, naming the field.
        for bad in ["0", "604801"] {
            let r = try api.call("POST", "/v1/projects/\(pid)/exports", key: key, body: Data(#"{"format": "json", "signedUrls": true, "signedUrlTtlSeconds": \#(bad)}"#.utf8),
                                 headers: TaskLiveTests.json)
            #expect(r.status == 422 && r.text.contains("signedUrlTtlSeconds"), "\(r.status) \(r.text)")
        }

        // JSON export, links valid for 20 s.
        let ttl = 20
        let id = try tasks.post(api, "/v1/projects/\(pid)/exports", key: key, #"{"format": "json", "signedUrls": true, "signedUrlTtlSeconds": \#(ttl)}"#, expect: 202).string("id")
        let job = try tasks.follow(api, id, key: key, timeout: 120)
        #expect(job.string("status") == "DONE", "\(job)")
        let body = try api.call("GET", "/v1/exports/\(id)/download", key: key).body
        // The file and its parts are in the bucket; the download streams from it with a stable
        // size and SHA-256, and a second download is the same bytes.
        let record = try api.json("GET", "/v1/exports/\(id)", key: key, expect: 200)
        let recorded = try #require(record["file"] as? [String: Any])
        var hasher = ContentHasher()
        body.withUnsafeBytes { hasher.update($0) }
        #expect(recorded["size"] as? Int == body.count && recorded["sha256"] as? String == hasher.finalizeHex(), "\(recorded)")
        let inBucket = try BucketStorageLiveTests.bucketObjects(moto, bucket: "signed-media", prefix: "store/exports/\(id)/")
        #expect(inBucket.count >= 2 && inBucket.values.contains(hasher.finalizeHex()), "\(inBucket)")
        #expect(try api.call("GET", "/v1/exports/\(id)/download", key: key).body == body)
        let rows = try #require(try JSONSerialization.jsonObject(with: body) as? [[String: Any]])
        func link(_ title: String) -> String? {
            guard let row = rows.first(where: { $0["data_title"] as? String == title }) else { return nil }
            if let v = row["video_link"] as? String { return v }
            return ((row["data_units"] as? [String: Any])?.values.first as? [String: Any])?["data_link"] as? String
        }
        let photo = try #require(link("photo.png")), clip = try #require(link("clip.mp4"))
        #expect(link("plain.jpg") == "https://example.com/plain.jpg", "a file without an integration keeps its URL")
        for url in [photo, clip] {
            #expect(url.hasPrefix("\(moto.endpoint)/signed-media/media/") && url.contains("X-Amz-Expires=\(ttl)&") && url.contains("X-Amz-Signature="), "\(url)")
        }

        // Before expiry: each link opens its object, byte for byte.
        let out = h.workDir.appendingPathComponent("got.bin").path
        #expect(try open(photo, moto: moto, gate: gate.port, to: out) == "200")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: png))
        #expect(try open(clip, moto: moto, gate: gate.port, to: out) == "200")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: mp4))
        // A tampered link is refused (the gate really checks).
        #expect(try open(photo.replacingOccurrences(of: "X-Amz-Expires=\(ttl)", with: "X-Amz-Expires=\(ttl + 1)"), moto: moto, gate: gate.port, to: out) == "403")

        // COCO: the image's coco_url is signed the same way.
        let cid = try tasks.post(api, "/v1/projects/\(pid)/exports", key: key, #"{"format": "coco", "signedUrls": true, "signedUrlTtlSeconds": 600}"#, expect: 202).string("id")
        #expect(try tasks.follow(api, cid, key: key, timeout: 120).string("status") == "DONE")
        let coco = try api.call("GET", "/v1/exports/\(cid)/download", key: key).body
        let images = (try JSONSerialization.jsonObject(with: coco) as? [String: Any])?["images"] as? [[String: Any]] ?? []
        let cocoURL = try #require(images.first?["coco_url"] as? String)
        #expect(cocoURL.contains("X-Amz-Expires=600&") && cocoURL.contains("/signed-media/media/photo.png?"), "\(cocoURL)")
        #expect(try open(cocoURL, moto: moto, gate: gate.port, to: out) == "200")

        // Without signedUrls: the links as registered.
        let uid = try tasks.post(api, "/v1/projects/\(pid)/exports", key: key, #"{"format": "json"}"#, expect: 202).string("id")
        #expect(try tasks.follow(api, uid, key: key, timeout: 120).string("status") == "DONE")
        #expect(String(decoding: try api.call("GET", "/v1/exports/\(uid)/download", key: key).body, as: UTF8.self).contains("\"s3://signed-media/media/photo.png\""))

        // The secret is nowhere we write: export files, job records, logs.
        let records = try h.scalar("SELECT coalesce(string_agg(params::text, ' '), '') FROM jobs WHERE kind = 'export'") ?? ""
        for text in [String(decoding: body, as: UTF8.self), String(decoding: coco, as: UTF8.self), records, h.log("api"), h.log("w1"), h.log("coordinator")] {
            #expect(!text.contains(secret))
        }

        // After expiry: 403.
        let signedAt = try #require(photo.firstRange(of: "X-Amz-Date=").map { String(photo[$0.upperBound...].prefix(16)) })
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let expiry = try #require(formatter.date(from: signedAt)).addingTimeInterval(Double(ttl) + 1.5)
        if expiry > Date() { Thread.sleep(until: expiry) }
        #expect(try open(photo, moto: moto, gate: gate.port, to: out) == "403")
        #expect(try open(clip, moto: moto, gate: gate.port, to: out) == "403")
    }
}
}
