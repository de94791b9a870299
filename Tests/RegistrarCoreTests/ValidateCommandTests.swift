import Foundation
import Testing

/// Runs the real `registrar` binary (built next to the test bundle by `swift build --build-tests`)
/// and checks the contract scripts rely on: exit codes 0/1/2 and the `--json` object's fields.
@Suite struct ValidateCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundleDir.appendingPathComponent("registrar")
    }

    func registrar(_ args: [String], environment: [String: String] = [:]) throws -> Run {
        let binary = Self.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path),
                     "registrar not built at \(binary.path); run `swift build --build-tests` first")
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func temp(_ name: String, _ content: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try content.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func json(_ run: Run) throws -> [String: Any] {
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 1, "--json prints exactly one line")
        let obj = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        return try #require(obj as? [String: Any])
    }

    @Test func validManifestExitsZeroWithTheContractFields() throws {
        let path = try temp("m.json", #"{"images": [{"objectUrl": "https://b/1.jpg"}, {"objectUrl": "https://b/1.jpg"}], "image_groups": [{"title": "g", "createVideo": true, "objectUrl_0": "https://b/a.jpg", "objectUrl_1": "https://b/b.jpg"}], "skip_duplicate_urls": true}"#)
        let run = try registrar(["validate", path, "--json"])
        #expect(run.status == 0)
        let o = try json(run)
        #expect(o["valid"] as? Bool == true)
        #expect(o["units"] as? Int == 3)
        #expect(o["urls"] as? Int == 4)
        #expect(o["byType"] as? [String: Int] == ["image": 2, "image_sequence": 1])
        #expect(o["duplicateUrls"] as? Int == 1)
        let warnings = try #require(o["warnings"] as? [[String: Any]])
        #expect(warnings.first?["code"] as? String == "duplicate_url")
        #expect(warnings.first?["item"] as? String == "images[1]")
        #expect((o["errors"] as? [Any])?.isEmpty == true)
    }

    @Test func invalidManifestExitsOneAndNamesItemFieldCode() throws {
        let path = try temp("m.json", #"{"videos": [{"objectUrl": "https://b/ok.mp4"}, {"objectUrl": "ftp://b/x.mp4"}]}"#)
        let run = try registrar(["validate", path, "--json"])
        #expect(run.status == 1)
        let o = try json(run)
        #expect(o["valid"] as? Bool == false)
        let errors = try #require(o["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["item"] as? String == "videos[1]")
        #expect(errors.first?["field"] as? String == "objectUrl")
        #expect(errors.first?["code"] as? String == "unsupported_scheme")
        #expect(errors.first?["message"] as? String != nil)
    }

    @Test func csvIsDetectedByExtensionAndContent() throws {
        let csv = "ObjectUrl,Image title\nhttps://b/1.jpg,one\n"
        let byName = try registrar(["validate", try temp("m.csv", csv), "--json"])
        #expect(try json(byName)["byType"] as? [String: Int] == ["image": 1])
        let byContent = try registrar(["validate", try temp("manifest.txt", csv), "--json"])
        #expect(try json(byContent)["format"] as? String == "csv")
        let forced = try registrar(["validate", try temp("m.dat", csv), "--format", "csv", "--json"])
        #expect(forced.status == 0)
    }

    @Test func errorsAreCappedButCounted() throws {
        let items = (0..<50).map { _ in #"{"objectUrl": "relative/path.jpg"}"# }.joined(separator: ",")
        let run = try registrar(["validate", try temp("m.json", "{\"images\": [\(items)]}"), "--json", "--max-listed", "10"])
        #expect(run.status == 1)
        let o = try json(run)
        #expect((o["errors"] as? [Any])?.count == 10)
        #expect(o["errorCount"] as? Int == 50)
    }

    @Test func fatalFaultGivesLineAndOffset() throws {
        let run = try registrar(["validate", try temp("m.json", "{\n  \"images\": [\n    {\"objectUrl\": https://x}\n  ]\n}\n"), "--json"])
        #expect(run.status == 1)
        let o = try json(run)
        #expect(o["complete"] as? Bool == false)
        let e = try #require((o["errors"] as? [[String: Any]])?.first)
        #expect(e["code"] as? String == "invalid_json")
        #expect(e["line"] as? Int == 3)
        #expect(e["offset"] as? Int == 34) // 16 bytes before line 3, then `    {"objectUrl": ` is 18
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try registrar(["validate"]).status == 2)
        #expect(try registrar(["validate", "/nonexistent/manifest.json"]).status == 2)
        #expect(try registrar(["validate", "x.json", "--format", "xml"]).status == 2)
        #expect(try registrar(["validate", "x.json", "--bogus"]).status == 2)
        let dir = FileManager.default.temporaryDirectory.path
        #expect(try registrar(["validate", dir]).status == 2)
    }

    @Test func textReportSaysTheVerdict() throws {
        let ok = try registrar(["validate", try temp("m.json", #"{"pdfs": [{"objectUrl": "https://b/a.pdf"},]}"#)])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("OK: the manifest can be registered."))
        #expect(ok.stdout.contains("trailing_comma"))
        #expect(try registrar(["validate", "--help"]).status == 0)
    }
}
