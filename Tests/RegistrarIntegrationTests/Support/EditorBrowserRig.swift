import Foundation
import Testing

extension LiveServers {
/// What the label editor's browser tests with media of their own share (the video, orientation
/// and shapes tests): the stack with a worker of every kind, a tenant key, the tools venv's
/// Python that drives Chromium, media registered through the API and the worker's probe, and a
/// project over it with an annotator.
struct EditorBrowserRig {
    let h: PipelineHarness
    let api: APIHarness
    let key: String
    let python: URL
    let tasks = TaskLiveTests()

    init(name: String) throws {
        h = try PipelineHarness()
        api = try APIHarness.exportStack(h, name: name, kinds: nil).api
        key = try api.tenantKey("acme")
        let venv = ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv"
        python = URL(fileURLWithPath: venv + "/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw HarnessError("\(python.path) is missing: run scripts/setup (it installs chromium, chromium-driver and selenium)")
        }
    }

    /// A script under `scripts/`.
    func driver(_ name: String) -> String { LabelEditorBrowserTests.packageRoot.appendingPathComponent("scripts/" + name).path }

    /// Where screenshots go: `$REGISTRAR_TEST_ARTIFACTS`, else `.build/test-artifacts`.
    var artifacts: URL {
        ProcessInfo.processInfo.environment["REGISTRAR_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? LabelEditorBrowserTests.packageRoot.appendingPathComponent(".build/test-artifacts")
    }

    /// Registers `manifest` into a new folder through `POST /v1/folders/{id}/uploads` and waits
    /// for `units` files; answers the folder's id.
    func register(folder name: String, manifest: String, units: Int) throws -> String {
        let folder = try tasks.post(api, "/v1/folders", key: key, #"{"name": "\#(name)"}"#, expect: 201).string("id")
        let upload = try api.json("POST", "/v1/folders/\(folder)/uploads", key: key, body: Data(manifest.utf8),
                                  headers: ["Content-Type": "application/json"], expect: 202).string("id")
        var done: [String: Any] = [:]
        let registered = Date().addingTimeInterval(120)
        repeat { done = try api.json("GET", "/v1/uploads/\(upload)?wait=5", key: key, expect: 200) } while done.string("status") == "PENDING" && Date() < registered
        try #require(done.string("status") == "DONE" && done.int("done") == units, "the registration: \(done)")
        return folder
    }

    /// A dataset of the folder's files, the ontology, a project and an annotator (ann@x.io);
    /// waits for the project's `tasks` tasks. Answers the project, the annotator's key and the
    /// Annotate stage.
    func project(title: String, folder: String, ontology: [String: Any], tasks count: Int) throws -> (id: String, annotatorKey: String, annotateStage: String) {
        let ds = try tasks.post(api, "/v1/datasets", key: key, #"{"title": "\#(title)"}"#, expect: 201).string("id")
        try tasks.addUnits(h, dataset: ds, folder: folder)
        let structure = try JSONSerialization.data(withJSONObject: ["title": title, "structure": ontology])
        let ontologyID = try api.json("POST", "/v1/ontologies", key: key, body: structure, headers: TaskLiveTests.json, expect: 201).string("id")
        let pid = try tasks.post(api, "/v1/projects", key: key, #"{"title": "\#(title)", "ontologyId": "\#(ontologyID)", "datasetIds": ["\#(ds)"]}"#,
                                 expect: 201).string("id")
        let annotatorKey = try tasks.collaborator(h, api, key: key, project: pid, email: "ann@x.io", role: "ANNOTATOR")
        let deadline = Date().addingTimeInterval(60)
        while try h.count("SELECT count(*) FROM tasks WHERE project_id = $1::uuid", [pid]) < count, Date() < deadline { usleep(100_000) }
        let stages = try tasks.stageIDs(api, key: key, project: pid)
        return (pid, annotatorKey, stages["Annotate"]!)
    }

    /// Runs a browser driver; its last stdout line is its JSON report.
    func browse(_ arguments: [String]) throws -> [String: Any] {
        let browser = try h.runProgram(python, arguments)
        try #require(browser.status == 0, "browser failed (exit \(browser.status)):\n\(browser.stderr.suffix(4000))\n\(browser.stdout.suffix(2000))")
        return try #require(try JSONSerialization.jsonObject(with: Data(browser.lastLine.utf8)) as? [String: Any])
    }

    static func num(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }

    /// Exported coordinates within one pixel of the drawn ones.
    static func near(_ a: [Double], _ b: [Double], _ what: String) {
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1.0 }, "\(what): exported \(a), drawn \(b)")
    }
}
}
