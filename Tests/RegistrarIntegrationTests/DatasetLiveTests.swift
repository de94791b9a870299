import Foundation
import RegistrarPostgres
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Datasets on the real servers with real `registrar` processes (docs/datasets.md): a 100,000-file
/// attach through a worker SIGKILL, SKIP/FAIL/DUPLICATE, concurrent attaches, mirrored datasets,
/// another tenant's folder, the folder-delete refusal.
@Suite(.serialized) struct DatasetLiveTests {
    static let json = ["Content-Type": "application/json"]

    /// A harness with the attach kind's queues emptied (they outlive tests), an API and a tenant key.
    func setUp() throws -> (PipelineHarness, APIHarness, String) {
        let h = try PipelineHarness()
        let setup = try AMQPWorkQueue(url: h.env.amqp, role: .worker(kinds: [DatasetAttach.queues]))
        setup.close()
        let amqp = try AMQPConnection(url: h.env.amqp)
        for q in [DatasetAttach.queues.work, DatasetAttach.queues.dead] { _ = try amqp.purgeQueue(q) }
        amqp.close()
        let api = try APIHarness(h)
        return (h, api, try api.tenantKey("acme"))
    }

    func folder(_ api: APIHarness, key: String, name: String) throws -> String {
        try api.json("POST", "/v1/folders", key: key, body: Data(#"{"name": "\#(name)"}"#.utf8), headers: Self.json, expect: 201).string("id")
    }

    /// `n` file rows in a folder, written with SQL inside a (finished) registration job row.
    @discardableResult
    func insertFiles(_ h: PipelineHarness, folder: String, n: Int, type: String = "image") throws -> String {
        let job = try h.scalar("""
            INSERT INTO jobs (tenant_id, folder_id, format, manifest_bytes, ignore_errors, status, phase, split_done, total_units, kind)
            SELECT tenant_id, id, 'json', 0, false, 'DONE', 'finished', true, $2, 'registration' FROM folders WHERE id = $1::uuid RETURNING id
            """, [folder, String(n)])!
        _ = try h.db.query("""
            INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash)
            SELECT f.tenant_id, f.id, $2::uuid, g, $4, 'f' || g, 'https://example.com/' || $2::text || '/' || g || '.jpg?sig=secret',
                   ARRAY['https://example.com/' || $2::text || '/' || g || '.jpg'], $2::text || '/' || g, sha256(convert_to($2::text || '/' || g, 'UTF8'))
            FROM folders f, generate_series(0, $3::int - 1) g WHERE f.id = $1::uuid
            """, [folder, job, String(n), type])
        return job
    }

    func dataset(_ api: APIHarness, key: String, title: String, extra: String = "", expect: Int = 201) throws -> [String: Any] {
        try api.json("POST", "/v1/datasets", key: key, body: Data(#"{"title": "\#(title)"\#(extra)}"#.utf8), headers: Self.json, expect: expect)
    }

    func attach(_ api: APIHarness, key: String, dataset: String, body: String) throws -> String {
        try api.json("POST", "/v1/datasets/\(dataset)/attach", key: key, body: Data(body.utf8), headers: Self.json, expect: 202).string("jobId")
    }

    /// Polls `GET /v1/jobs/{id}` until the job ends; counters never go backwards.
    func follow(_ api: APIHarness, _ id: String, key: String, timeout: Double = 300) throws -> [String: Any] {
        var last = -1
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let j = try api.json("GET", "/v1/jobs/\(id)", key: key, expect: 200)
            let finished = j.int("done") + j.int("errors") + j.int("skipped") + j.int("cancelled")
            #expect(finished >= last, "counters went backwards: \(finished) after \(last)")
            last = finished
            if j.string("status") != "PENDING" { return j }
            usleep(200_000)
        }
        throw HarnessError("job \(id) did not finish")
    }

    /// The ledger's sums for a job (what the API must show).
    func ledger(_ h: PipelineHarness, _ job: String) throws -> [Int] {
        let rows = try h.db.query("""
            SELECT coalesce(sum(done_count), 0), coalesce(sum(error_count), 0), coalesce(sum(skipped_count), 0), coalesce(sum(cancelled_count), 0)
            FROM chunks WHERE job_id = $1::uuid
            """, [job])
        return (0..<4).map { Int(rows[row: 0, column: $0]!)! }
    }

    @Test func aHundredThousandFileAttachIsExactThroughAWorkerKill() throws {
        let (h, api, key) = try setUp()
        let folder = try folder(api, key: key, name: "big")
        try insertFiles(h, folder: folder, n: 100_000)
        let ds = try dataset(api, key: key, title: "Big").string("id")
        try h.startCoordinator()
        // The first worker is slow (a pause before each chunk) and dies by SIGKILL with chunks in hand.
        try h.startWorker("w1", extraArgs: ["--kinds", "dataset-attach"], extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "700", "REGISTRAR_WORKER_SLOTS": "2"])
        let job = try attach(api, key: key, dataset: ds, body: #"{"folderIds": ["\#(folder)"]}"#)
        let started = try api.json("GET", "/v1/jobs/\(job)", key: key, expect: 200)
        #expect(started.string("kind") == "dataset-attach" && started.int("total") == 100_000)   // total up front
        let deadline = Date().addingTimeInterval(120)
        while try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) < 2 && Date() < deadline { usleep(100_000) }
        #expect(try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) >= 2)
        h.kill9("w1")
        let afterKill = try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds])
        #expect(afterKill > 0 && afterKill < 100_000, "the kill came mid-job: \(afterKill) memberships")
        // A worker that exits between a commit and its ack (the chunk comes back, committed), then a healthy one.
        try h.startWorker("w2", extraEnv: ["REGISTRAR_FAULT_WORKER": "exit-after-commit"])
        _ = h.waitForExit("w2", timeout: 60)
        try h.startWorker("w3")
        let final = try follow(api, job, key: key)

        #expect(final.string("status") == "DONE")
        #expect(final.int("total") == 100_000)
        #expect(final.int("done") == 100_000 && final.int("errors") == 0 && final.int("skipped") == 0 && final.int("pending") == 0)
        #expect(try ledger(h, job) == [final.int("done"), final.int("errors"), final.int("skipped"), final.int("cancelled")])
        #expect(try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds]) == 100_000)
        #expect(try h.count("SELECT count(DISTINCT file_id) FROM dataset_files WHERE dataset_id = $1 AND copy = 0", [ds]) == 100_000)
        let got = try api.json("GET", "/v1/datasets/\(ds)", key: key, expect: 200)
        #expect(got.int("fileCount") == 100_000)
        #expect((got["byType"] as? [String: Any])?["image"] as? Int == 100_000)
        // Data units page with redacted URLs (no query string).
        let page = try api.json("GET", "/v1/datasets/\(ds)/files?limit=2", key: key, expect: 200)
        let items = try #require(page["items"] as? [[String: Any]])
        #expect(items.count == 2 && page["nextCursor"] is String)
        #expect(items[0].string("url").hasSuffix("?…") && !page.description.contains("secret"))
    }

    @Test func duplicatesBehavioursConcurrentSkipsAndAnotherTenantsFolder() throws {
        let (h, api, key) = try setUp()
        let a = try folder(api, key: key, name: "a")
        try insertFiles(h, folder: a, n: 3_000)
        try h.startCoordinator()
        try h.startWorker("w1")
        try h.startWorker("w2")
        let ds = try dataset(api, key: key, title: "Dups").string("id")

        // Two SKIP attaches of the same folder at once: one membership per file.
        let j1 = try attach(api, key: key, dataset: ds, body: #"{"folderIds": ["\#(a)"]}"#)
        let j2 = try attach(api, key: key, dataset: ds, body: #"{"folderIds": ["\#(a)"], "duplicates": "SKIP"}"#)
        let f1 = try follow(api, j1, key: key), f2 = try follow(api, j2, key: key)
        #expect(f1.string("status") == "DONE" && f2.string("status") == "DONE")
        #expect(f1.int("done") + f2.int("done") == 3_000)
        #expect(f1.int("skipped") + f2.int("skipped") == 3_000)
        #expect(try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds]) == 3_000)

        // FAIL: every file is a member already → one already_in_dataset error per file; the job ends ERROR.
        let fileID = try h.scalar("SELECT min(id) FROM files WHERE folder_id = $1", [a])!
        let fail = try follow(api, try attach(api, key: key, dataset: ds, body: #"{"fileIds": ["\#(fileID)"], "duplicates": "FAIL"}"#), key: key)
        #expect(fail.string("status") == "ERROR" && fail.int("errors") == 1 && fail.int("done") == 0)
        let errors = try api.json("GET", "/v1/jobs/\(fail.string("id"))/errors", key: key, expect: 200)
        let first = try #require((errors["items"] as? [[String: Any]])?.first)
        #expect(first.string("code") == "already_in_dataset")

        // DUPLICATE: a second copy of the file.
        let dup = try follow(api, try attach(api, key: key, dataset: ds, body: #"{"fileIds": [\#(fileID)], "duplicates": "DUPLICATE"}"#), key: key)
        #expect(dup.string("status") == "DONE" && dup.int("done") == 1)
        #expect(try h.scalar("SELECT max(copy) FROM dataset_files WHERE dataset_id = $1 AND file_id = $2", [ds, fileID]) == "1")
        #expect(try api.json("GET", "/v1/datasets/\(ds)", key: key, expect: 200).int("fileCount") == 3_001)

        // Another tenant's folder or file: 404 naming it, and no job.
        let other = try api.tenantKey("globex")
        let theirs = try folder(api, key: other, name: "theirs")
        try insertFiles(h, folder: theirs, n: 5)
        let jobsBefore = try h.count("SELECT count(*) FROM jobs WHERE kind = 'dataset-attach'")
        let refused = try api.call("POST", "/v1/datasets/\(ds)/attach", key: key, body: Data(#"{"folderIds": ["\#(theirs)"]}"#.utf8), headers: Self.json)
        #expect(refused.status == 404 && refused.text.contains(theirs))
        let theirFile = try h.scalar("SELECT min(id) FROM files WHERE folder_id = $1", [theirs])!
        let refusedFile = try api.call("POST", "/v1/datasets/\(ds)/attach", key: key, body: Data(#"{"fileIds": ["\#(theirFile)"]}"#.utf8), headers: Self.json)
        #expect(refusedFile.status == 404 && refusedFile.text.contains(theirFile))
        #expect(try h.count("SELECT count(*) FROM jobs WHERE kind = 'dataset-attach'") == jobsBefore)
        // …and their dataset is not ours either.
        #expect(try api.call("GET", "/v1/datasets/\(ds)", key: other).status == 404)
        #expect(try api.call("GET", "/v1/jobs/\(j1)", key: other).status == 404)

        // Folder delete is refused while datasets hold its files; detach, then it is only "not empty".
        let del = try api.call("DELETE", "/v1/folders/\(a)", key: key)
        #expect(del.status == 409 && del.text.contains("folder_in_datasets") && del.text.contains(ds))
        let detached = try api.json("POST", "/v1/datasets/\(ds)/detach", key: key, body: Data(#"{"folderIds": ["\#(a)"]}"#.utf8), headers: Self.json, expect: 200)
        #expect(detached.int("detached") == 3_001)
        #expect(try api.call("DELETE", "/v1/folders/\(a)", key: key).text.contains("folder_not_empty"))
    }

    @Test func aMirroredDatasetTakesTheFolderFilesAndGrowsWithLaterUploads() throws {
        let (h, api, key) = try setUp()
        let f = try folder(api, key: key, name: "mirror")
        try insertFiles(h, folder: f, n: 1_200)
        try h.startCoordinator()
        try h.startWorker("w1")
        let created = try dataset(api, key: key, title: "Mirror", extra: #", "mirroredFolderId": "\#(f)""#)
        let ds = created.string("id")
        #expect(created.string("mirroredFolderId") == f)
        let job = created.string("jobId")
        let first = try follow(api, job, key: key)
        #expect(first.string("status") == "DONE" && first.int("done") == 1_200)

        // A later upload into the folder: its files join in the registration chunk's own commit.
        let png = try MediaSamples.bytes("images/png-rgb8.png")
        let urls = try (0..<3).map { try h.putObject("m/\($0).png", bytes: png) }
        let manifest = #"{"images": [\#(urls.map { #"{"objectUrl": "\#($0)"}"# }.joined(separator: ","))]}"#
        let upload = try api.json("POST", "/v1/folders/\(f)/uploads", key: key, body: Data(manifest.utf8), headers: Self.json, expect: 202).string("id")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, try api.json("GET", "/v1/uploads/\(upload)", key: key, expect: 200).string("status") == "PENDING" { usleep(200_000) }
        #expect(try api.json("GET", "/v1/datasets/\(ds)", key: key, expect: 200).int("fileCount") == 1_203)
        #expect(try h.count("""
            SELECT count(*) FROM files f JOIN dataset_files m ON m.file_id = f.id AND m.dataset_id = $1::uuid WHERE f.job_id = $2::uuid
            """, [ds, upload]) == 3)
        // The folder cannot be deleted while a dataset mirrors it.
        #expect(try api.call("DELETE", "/v1/folders/\(f)", key: key).status == 409)
        // A mirrored dataset over another tenant's folder: 404.
        let other = try api.tenantKey("initech")
        #expect(try api.call("POST", "/v1/datasets", key: other, body: Data(#"{"title": "x", "mirroredFolderId": "\#(f)"}"#.utf8), headers: Self.json).status == 404)
    }

    @Test func theCLICreatesAttachesFollowsAndLists() throws {
        let (h, api, key) = try setUp()
        let f = try folder(api, key: key, name: "cli")
        try insertFiles(h, folder: f, n: 700, type: "video")
        try h.startCoordinator()
        try h.startWorker("w1")
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        let created = try h.run(["datasets", "create", "--title", "From CLI", "--json"], extraEnv: env)
        #expect(created.status == 0)
        let ds = try created.json().string("id")
        let attach = try h.run(["datasets", "attach", ds, "--folder", f, "--duplicates", "SKIP", "--wait", "--json"], extraEnv: env)
        #expect(attach.status == 0, "\(attach.stdout) \(attach.stderr)")
        let final = try attach.json()
        #expect(final.string("kind") == "dataset-attach" && final.string("status") == "DONE" && final.int("done") == 700)
        let status = try h.run(["jobs", "status", final.string("id")], extraEnv: env)
        #expect(status.stdout.contains("dataset-attach") && status.stdout.contains("DONE"))
        let list = try h.run(["datasets", "list"], extraEnv: env)
        #expect(list.stdout.contains("From CLI") && list.stdout.contains("700 files (video 700)"))
        // FAIL on files already there: exit 1, the job ends ERROR.
        let fail = try h.run(["datasets", "attach", ds, "--folder", f, "--duplicates", "FAIL", "--wait"], extraEnv: env)
        #expect(fail.status == 1 && fail.stdout.contains("ERROR"))
        // Refusals: exit 1 with the API's message; without the API variables, a clear error.
        let missing = try h.run(["datasets", "get", "00000000-0000-0000-0000-000000000000"], extraEnv: env)
        #expect(missing.status == 1 && missing.stderr.contains("not_found"))
        let unset = try h.run(["datasets", "list"], extraEnv: ["REGISTRAR_API_URL": "", "REGISTRAR_API_KEY": ""])
        #expect(unset.status == 2 && unset.stderr.contains("REGISTRAR_API_URL"))
    }

    @Test func aCancelledAttachKeepsItsCommittedChunksAndCountsTheRest() throws {
        let (h, api, key) = try setUp()
        let f = try folder(api, key: key, name: "cancel")
        try insertFiles(h, folder: f, n: 40_000)
        try h.startCoordinator()
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "600"])
        let ds = try dataset(api, key: key, title: "Cancelled").string("id")
        let job = try attach(api, key: key, dataset: ds, body: #"{"folderIds": ["\#(f)"]}"#)
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM chunks WHERE job_id = $1 AND state = 'done'", [job]) < 1 && Date() < deadline { usleep(100_000) }
        let cancel = try api.json("POST", "/v1/jobs/\(job)/cancel", key: key, expect: 202)
        #expect(cancel.string("kind") == "dataset-attach")
        let final = try follow(api, job, key: key)
        #expect(final.string("status") == "CANCELLED")
        #expect(final.int("done") > 0 && final.int("cancelled") > 0 && final.int("done") + final.int("cancelled") == 40_000)
        #expect(try ledger(h, job) == [final.int("done"), final.int("errors"), final.int("skipped"), final.int("cancelled")])
        #expect(try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds]) == final.int("done"))
    }

    @Test func aMirroredDatasetCreatedDuringAnUploadHoldsEveryFileOnce() throws {
        let (h, api, key) = try setUp()
        let f = try folder(api, key: key, name: "busy")
        let png = try MediaSamples.bytes("images/png-rgb8.png")
        let object = try h.putObject("busy/a.png", bytes: png)
        // 240 distinct URLs of one object (the server ignores the query), 20 units per chunk.
        let manifest = #"{"images": [\#((0..<240).map { #"{"objectUrl": "\#(object)?u=\#($0)"}"# }.joined(separator: ","))]}"#
        try h.startCoordinator(extraArgs: ["--chunk-units", "20"])
        try h.startWorker("w1", extraEnv: ["REGISTRAR_TEST_CHUNK_DELAY_MS": "250", "REGISTRAR_WORKER_SLOTS": "2"])
        let upload = try api.json("POST", "/v1/folders/\(f)/uploads", key: key, body: Data(manifest.utf8), headers: Self.json, expect: 202).string("id")
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [f]) < 40 && Date() < deadline { usleep(50_000) }
        // Mid-upload: some files are in, chunks are committing.
        let created = try dataset(api, key: key, title: "Busy", extra: #", "mirroredFolderId": "\#(f)""#)
        let ds = created.string("id")
        let filesThen = try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [f])
        #expect(filesThen < 240, "the dataset was created while the upload ran")
        let end = Date().addingTimeInterval(120)
        while Date() < end, try api.json("GET", "/v1/uploads/\(upload)", key: key, expect: 200).string("status") == "PENDING" { usleep(200_000) }
        if let job = created["jobId"] as? String { #expect(try follow(api, job, key: key).string("status") == "DONE") }
        let files = try h.count("SELECT count(*) FROM files WHERE folder_id = $1", [f])
        #expect(files == 240)
        #expect(try h.count("SELECT count(*) FROM dataset_files WHERE dataset_id = $1", [ds]) == files)
        #expect(try h.count("SELECT count(DISTINCT file_id) FROM dataset_files WHERE dataset_id = $1", [ds]) == files)
    }
}
}
