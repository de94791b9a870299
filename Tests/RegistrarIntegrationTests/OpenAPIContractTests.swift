import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarRabbitMQ
import Testing

/// The OpenAPI document at `/v1/openapi.json` against the live server, by schemathesis (PyPI,
/// installed by scripts/setup into the tools venv): generated requests — valid and invalid — to
/// every operation, following the document's links from real objects (a seeded folder with a
/// finished upload, its files and its errors). Every response must be no 5xx, a documented
/// status code and content type, and a body (and headers) matching the documented schema.
///
/// Runs unless schemathesis is missing *and* `REGISTRAR_SKIP_SCHEMATHESIS=1` says that is
/// expected; a missing schemathesis otherwise fails the test (scripts/test installs it).
/// `REGISTRAR_SCHEMATHESIS_EXAMPLES` (default 25) and `REGISTRAR_SCHEMATHESIS_SEED` tune the run.
extension LiveServers {
@Suite(.serialized) struct OpenAPIContractTests {
    static let venv = ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv"
    static var schemathesis: String { venv + "/bin/st" }
    static var specValidator: String { venv + "/bin/openapi-spec-validator" }
    static var runs: Bool {
        FileManager.default.isExecutableFile(atPath: schemathesis)
            || ProcessInfo.processInfo.environment["REGISTRAR_SKIP_SCHEMATHESIS"] != "1"
    }

    @Test(.enabled(if: OpenAPIContractTests.runs, "schemathesis is not installed and REGISTRAR_SKIP_SCHEMATHESIS=1"))
    func schemathesisFindsEveryResponseDocumented() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.schemathesis),
              FileManager.default.isExecutableFile(atPath: Self.specValidator) else {
            Issue.record("\(Self.schemathesis) or \(Self.specValidator) is missing: run scripts/setup (scripts/test does), or set REGISTRAR_SKIP_SCHEMATHESIS=1 to skip this test")
            return
        }
        let h = try PipelineHarness()
        let api = try LiveAPI(harness: h)

        // 1. The document is valid OpenAPI 3.1, and covers every route the server has.
        let (docStatus, docData, _) = try await api.request("GET", "/v1/openapi.json", auth: false)
        #expect(docStatus == 200)
        let docFile = h.workDir.appendingPathComponent("openapi.json")
        try docData.write(to: docFile)
        let validation = try Tool.run(Self.specValidator, ["--schema", "3.1", docFile.path], in: h.workDir)
        #expect(validation.status == 0, "openapi-spec-validator:\n\(validation.output)")
        let doc = try #require(try JSONSerialization.jsonObject(with: docData) as? [String: Any])
        #expect(doc["openapi"] as? String == "3.1.0")
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, item in item.keys.filter { $0 != "parameters" }.map { "\($0.uppercased()) \(path)" } })
        #expect(documented == LiveAPI.routes, "documented operations differ from the routes the server registers")

        // 2. Real data for the GET routes: a folder, a finished upload with files and errors.
        let seeded = try await api.seed()
        #expect(seeded.done == 2 && seeded.errors == 1 && seeded.fileIDs.count == 2, "seed upload: \(seeded)")

        // 3. schemathesis against the live server. Half the ids it sends to `{id}` routes are the
        //    seeded ones (schemathesis dictionaries), so answers with real data are checked too.
        let config = h.workDir.appendingPathComponent("schemathesis.toml")
        try """
            [dictionaries.seeded-folder]
            values = ["\(seeded.folderID)"]
            [dictionaries.seeded-upload]
            values = ["\(seeded.uploadID)"]
            [dictionaries.seeded-file]
            values = [\(seeded.fileIDs.map { "\"\($0)\"" }.joined(separator: ", "))]

            [[operations]]
            include-path-regex = '^/v1/folders/\\{id\\}'
            parameters = { "path.id" = { dictionary = "seeded-folder", probability = 0.5 } }
            [[operations]]
            include-path-regex = '^/v1/uploads/\\{id\\}'
            parameters = { "path.id" = { dictionary = "seeded-upload", probability = 0.5 } }
            [[operations]]
            include-path-regex = '^/v1/jobs/\\{id\\}'
            parameters = { "path.id" = { dictionary = "seeded-upload", probability = 0.5 } }
            [[operations]]
            include-operation-id = "getFile"
            parameters = { "path.id" = { dictionary = "seeded-file", probability = 0.5 } }
            """.write(to: config, atomically: true, encoding: .utf8)
        let env = ProcessInfo.processInfo.environment
        let examples = env["REGISTRAR_SCHEMATHESIS_EXAMPLES"] ?? "25"
        var args = [
            "--config-file", config.path, "run", api.base + "/v1/openapi.json", "--url", api.base,
            "--header", "Authorization: Bearer \(api.key)",
            // Responses: never 5xx; status code, content type, headers and body as documented.
            // Requests the document calls invalid must be refused (4xx): its constraints are the API's.
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
                + "response_schema_conformance,negative_data_rejection",
            "--max-examples", examples,
            // One worker: with several, hypothesis (on Python 3.11) sometimes fails with "AST
            // constructor recursion depth mismatch", a thread-safety fault of its own.
            "--workers", "1",
            // Above the 60 s long-poll cap: `?wait=` on a running upload may rightly take that long.
            "--request-timeout", "75", "--wait-for-schema", "10",
            // NUL characters are generated too (they once wedged a chunk; see
            // `nulInManifestDoesNotWedgeTheUpload`). A fixed seed keeps CI deterministic;
            // REGISTRAR_SCHEMATHESIS_SEED=random explores afresh (a failure prints its seed).
            "--generation-database", "none", "--no-color",
            "--report", "junit", "--report-dir", h.workDir.appendingPathComponent("schemathesis-report").path,
        ]
        let seed = env["REGISTRAR_SCHEMATHESIS_SEED"] ?? "20261125"
        if seed != "random" { args += ["--seed", seed] }
        let started = Date()
        let run = try Tool.run(Self.schemathesis, args, in: h.workDir, timeout: 600)
        let seconds = Date().timeIntervalSince(started)
        print("schemathesis (\(String(format: "%.1f", seconds)) s):\n\(run.output.suffix(3000))")
        #expect(run.status == 0, "schemathesis failed (exit \(run.status)):\n\(run.output)\napi log:\n\(h.log("api").suffix(4000))")
        // It ran for real: every operation but the document's own (schemathesis skips it) was
        // tested, with many generated requests.
        let tested = Self.number(after: "Tested: ", in: run.output) ?? 0
        let generated = Self.number(before: " generated", in: run.output) ?? 0
        #expect(tested == LiveAPI.routes.count - 1, "schemathesis tested \(tested) operations:\n\(run.output.suffix(3000))")
        #expect(generated >= 100, "schemathesis generated only \(generated) test cases")
    }

    /// Found by schemathesis: a manifest string holding U+0000 (valid JSON) used to wedge the
    /// worker — PostgreSQL refuses a 0x00 byte in text (SQLSTATE 22021), so the chunk's commit
    /// failed, forever. Now NUL is stored as U+FFFD and the upload finishes with exact counts.
    @Test(.enabled(if: OpenAPIContractTests.runs))
    func nulInManifestDoesNotWedgeTheUpload() async throws {
        let h = try PipelineHarness()
        let api = try LiveAPI(harness: h)
        let good = try h.putObject("nul/ok.png", bytes: try MediaSamples.bytes("images/png-rgb8.png"))
        let (fs, fd, _) = try await api.request("POST", "/v1/folders", body: Data(#"{"name": "nul"}"#.utf8), contentType: "application/json")
        let folderID = try #require((try? JSONSerialization.jsonObject(with: fd) as? [String: Any])?["id"] as? String, "create folder: \(fs)")
        let manifest = #"{"images": [{"objectUrl": "\#(good)"}, {"objectUrl": "http://127.0.0.1:9/a\u0000b"}]}"#
        let (us, ud, _) = try await api.request("POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true", body: Data(manifest.utf8),
                                                contentType: "application/json")
        let uploadID = try #require((try? JSONSerialization.jsonObject(with: ud) as? [String: Any])?["id"] as? String,
                                    "submit: \(us) \(String(decoding: ud, as: UTF8.self))")
        var last: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let (_, d, _) = try await api.request("GET", "/v1/uploads/\(uploadID)?wait=5")
            last = (try? JSONSerialization.jsonObject(with: d) as? [String: Any]) ?? [:]
            if let status = last["status"] as? String, status != "PENDING" { break }
        }
        let workerLog = h.log("w1")
        #expect(last["status"] as? String == "DONE" && last["done"] as? Int == 1 && last["errors"] as? Int == 1,
                "upload \(uploadID): \(last)\nworker log:\n\(workerLog.suffix(1500))")
        #expect(try h.count("SELECT count(*) FROM unit_errors WHERE job_id = $1 AND object_urls[1] LIKE '%\u{FFFD}%'", [uploadID]) == 1)
    }

    static func number(after label: String, in text: String) -> Int? {
        guard let r = text.range(of: label, options: .backwards) else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }

    static func number(before label: String, in text: String) -> Int? {
        guard let r = text.range(of: label, options: .backwards) else { return nil }
        return Int(String(text[..<r.lowerBound].reversed().prefix { $0.isNumber }.reversed()))
    }
}
}

/// `registrar api` (with a coordinator and a worker) on a free port, with a tenant and a key.
struct LiveAPI {
    /// Every route the server registers, as "METHOD /path" with OpenAPI placeholders.
    static let routes: Set<String> = [
        "GET /v1/projects/{id}/workflow", "PUT /v1/projects/{id}/workflow", "GET /v1/projects/{id}/workflow/stages/{stage}/tasks",
        "POST /v1/projects/{id}/workflow/stages/{stage}/actions", "POST /v1/projects/{id}/workflow/stages/{stage}/move-tasks",
        "GET /v1/projects/{id}/tasks/{taskUuid}/history", "GET /v1/projects/{id}/stages",
        // Label rows (issue 14, docs/labels.md).
        "GET /v1/projects/{id}/label-rows", "GET /v1/projects/{id}/label-rows/{dataHash}", "PUT /v1/projects/{id}/label-rows/{dataHash}",
        "POST /v1/projects/{id}/exports", "GET /v1/exports/{id}", "GET /v1/exports/{id}/download",
        "POST /v1/workflow-templates", "GET /v1/workflow-templates", "GET /v1/workflow-templates/{id}", "DELETE /v1/workflow-templates/{id}",
        "POST /v1/projects/{id}/webhooks", "GET /v1/projects/{id}/webhooks", "DELETE /v1/projects/{id}/webhooks/{wid}",
        "GET /v1/projects/{id}/webhooks/{wid}/deliveries", "POST /v1/projects/{id}/webhooks/{wid}/redeliver",
        "GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.json",
        "POST /v1/folders", "GET /v1/folders", "GET /v1/folders/{id}", "DELETE /v1/folders/{id}",
        "GET /v1/folders/{id}/files", "GET /v1/files/{id}", "POST /v1/folders/{id}/uploads",
        "GET /v1/uploads", "GET /v1/uploads/{id}", "GET /v1/uploads/{id}/events", "GET /v1/uploads/{id}/errors",
        "POST /v1/uploads/{id}/cancel", "POST /v1/uploads/{id}/retry",
        "POST /v1/integrations", "GET /v1/integrations", "GET /v1/integrations/{id}", "DELETE /v1/integrations/{id}",
        "POST /v1/integrations/{id}/test",
        "GET /v1/objects/{key}",
        // Files from a disk (issue 15, docs/uploads.md).
        "POST /v1/folders/{id}/files", "POST /v1/folders/{id}/upload-signed-urls", "POST /v1/folders/{id}/files/register", "PUT /v1/objects/{key}",
        "POST /v1/ontologies", "GET /v1/ontologies", "GET /v1/ontologies/{id}", "PUT /v1/ontologies/{id}", "DELETE /v1/ontologies/{id}",
        // Access (issue 12): users, groups, tags, projects and collaborators.
        "POST /v1/users", "GET /v1/users", "GET /v1/users/{id}", "PATCH /v1/users/{id}", "DELETE /v1/users/{id}",
        "POST /v1/groups", "GET /v1/groups", "GET /v1/groups/{id}", "PATCH /v1/groups/{id}", "DELETE /v1/groups/{id}",
        "POST /v1/groups/{id}/members", "DELETE /v1/groups/{id}/members/{userId}",
        "POST /v1/tags", "GET /v1/tags", "DELETE /v1/tags/{name}",
        "POST /v1/projects", "GET /v1/projects", "GET /v1/projects/{id}", "PATCH /v1/projects/{id}", "DELETE /v1/projects/{id}",
        "GET /v1/projects/{id}/me", "POST /v1/projects/{id}/datasets", "DELETE /v1/projects/{id}/datasets/{datasetId}",
        "POST /v1/projects/{id}/members", "GET /v1/projects/{id}/members", "PATCH /v1/projects/{id}/members/{memberId}",
        "DELETE /v1/projects/{id}/members/{memberId}",
        "POST /v1/datasets", "GET /v1/datasets", "GET /v1/datasets/{id}", "PATCH /v1/datasets/{id}", "DELETE /v1/datasets/{id}",
        "GET /v1/datasets/{id}/files", "POST /v1/datasets/{id}/attach", "POST /v1/datasets/{id}/detach",
        "GET /v1/jobs/{id}", "GET /v1/jobs/{id}/errors", "POST /v1/jobs/{id}/cancel",
        // Cloud-synced folders (issue 16, docs/sync.md).
        "POST /v1/folders/{id}/sync", "GET /v1/folders/{id}/sync", "DELETE /v1/folders/{id}/sync", "POST /v1/folders/{id}/sync/run",
        "POST /v1/folders/{id}/sync/notifications",
    ]

    let harness: PipelineHarness
    let base: String
    let key: String

    init(harness h: PipelineHarness) throws {
        self.harness = h
        let tenant = try h.run(["tenants", "add", "contract"])
        guard tenant.status == 0 else { throw PipelineHarness.HarnessError("tenants add: \(tenant.stderr)") }
        let created = try h.run(["keys", "create", "--tenant", "contract"])
        guard created.status == 0, created.lastLine.hasPrefix("rgk_") else { throw PipelineHarness.HarnessError("keys create: \(created.stdout) \(created.stderr)") }
        key = created.lastLine.trimmingCharacters(in: .whitespaces)
        let port = try APIHarness.freePort()
        base = "http://127.0.0.1:\(port)"
        try h.startCoordinator()
        try h.startWorker("w1")
        // No rate limit: schemathesis's requests should test behaviour, not the token bucket.
        // A key ring, so integrations can be created (without one, POST /v1/integrations is a 503).
        try h.start("api", ["api", "--port", String(port), "--rate-limit", "0"],
                    extraEnv: ["REGISTRAR_ENCRYPTION_KEYS": "contract:" + Data(repeating: 7, count: 32).base64EncodedString()])
        let deadline = Date().addingTimeInterval(30)
        while true {
            if let r = try? HTTP.send("GET", base + "/healthz"), r.status == 200 { break }
            if Date() > deadline { throw PipelineHarness.HarnessError("the API did not come up on \(base):\n\(h.log("api"))") }
            usleep(200_000)
        }
    }

    struct Seeded: CustomStringConvertible {
        var folderID: String
        var uploadID: String
        var status: String
        var done: Int
        var errors: Int
        var fileIDs: [String] = []
        var description: String { "folder \(folderID) upload \(uploadID) \(status) done=\(done) errors=\(errors) files=\(fileIDs)" }
    }

    /// A folder and a finished upload in it: two images that register, one URL that is missing.
    func seed() async throws -> Seeded {
        let png = try MediaSamples.bytes("images/png-rgb8.png")
        let a = try harness.putObject("contract/a.png", bytes: png)
        let b = try harness.putObject("contract/b.png", bytes: png)
        let missing = harness.objectURL("contract/missing.png")
        let (fs, fd, _) = try await request("POST", "/v1/folders", body: Data(#"{"name": "contract-seed"}"#.utf8), contentType: "application/json")
        guard fs == 201, let folder = try JSONSerialization.jsonObject(with: fd) as? [String: Any], let folderID = folder["id"] as? String else {
            throw PipelineHarness.HarnessError("create folder: \(fs) \(String(decoding: fd, as: UTF8.self))")
        }
        let manifest = #"{"images": [{"objectUrl": "\#(a)", "title": "a", "clientMetadata": {"k": 1}}, {"objectUrl": "\#(b)"}, {"objectUrl": "\#(missing)"}]}"#
        let (us, ud, _) = try await request("POST", "/v1/folders/\(folderID)/uploads?ignoreErrors=true&fileName=seed.json",
                                            body: Data(manifest.utf8), contentType: "application/json")
        guard us == 202, let upload = try JSONSerialization.jsonObject(with: ud) as? [String: Any], let uploadID = upload["id"] as? String else {
            throw PipelineHarness.HarnessError("submit: \(us) \(String(decoding: ud, as: UTF8.self))")
        }
        let deadline = Date().addingTimeInterval(120)
        while true {
            let (s, d, _) = try await request("GET", "/v1/uploads/\(uploadID)?wait=5")
            let u = (try? JSONSerialization.jsonObject(with: d) as? [String: Any]) ?? [:]
            if s == 200, let status = u["status"] as? String, status != "PENDING" {
                var seeded = Seeded(folderID: folderID, uploadID: uploadID, status: status, done: u["done"] as? Int ?? -1, errors: u["errors"] as? Int ?? -1)
                let (_, files, _) = try await request("GET", "/v1/folders/\(folderID)/files")
                let items = (try? JSONSerialization.jsonObject(with: files) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                seeded.fileIDs = items.compactMap { $0["id"] as? String }
                return seeded
            }
            if s != 200 { usleep(200_000) }
            if Date() > deadline {
                throw PipelineHarness.HarnessError("seed upload did not finish: \(s) \(String(decoding: d, as: UTF8.self))\n\(harness.log("coordinator").suffix(2000))")
            }
        }
    }

    func request(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil, auth: Bool = true) async throws -> (Int, Data, [String: String]) {
        var headers: [String: String] = [:]
        if let contentType { headers["Content-Type"] = contentType }
        if auth { headers["Authorization"] = "Bearer \(key)" }
        let url = base + path, sent = headers
        // On a background thread: HTTP.send blocks.
        let r = try await Task.detached { try HTTP.send(method, url, headers: sent, body: body, timeout: 30) }.value
        return (r.status, r.body, Dictionary(r.headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }))
    }
}

/// Runs an external tool to completion (or kills it at the timeout), output and errors merged.
enum Tool {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ path: String, _ args: [String], in directory: URL, timeout: Double = 120) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("tool-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(100_000) }
        var timedOut = false
        if p.isRunning {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        var output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if timedOut { output += "\n[killed after \(Int(timeout)) s]" }
        return Result(status: timedOut ? -1 : p.terminationStatus, output: output)
    }
}
