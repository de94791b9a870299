import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarCore
import RegistrarRuntime

/// `registrar export`: a project's labels as JSON or COCO, made by an export job on the engine
/// (docs/labels.md, "Exports"); with `--wait`, follows the job with a progress line and
/// downloads the file (to `-o`, checked against the API's SHA-256).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a project's labels (json or coco) through the API.")

    @Option(help: "Project id.") var project: String
    @Option(help: "json (Encord's label rows) or coco.") var format: String
    @Option(help: "Only data units whose task waits at this stage (uuid or title).") var stage: String?
    @Option(name: .customLong("feature-hash"), parsing: .upToNextOption, help: "Only labels of these ontology feature hashes (repeatable).")
    var featureHashes: [String] = []
    @Option(help: "Name this export as a label version.") var versionName: String?
    @Flag(help: "Presign each file's URL with its integration (S3/MRAP SigV4, GCS V4, Azure SAS).") var signedUrls = false
    @Option(help: "Lifetime of the signed URLs in seconds, 1 to 604800 (default 3600).") var signedUrlTtl: Int?
    @Flag(help: "Follow the job and download the file when it is DONE (exit 1 otherwise).") var wait = false
    @Option(name: .shortAndLong, help: "Where --wait writes the file (default export-<id>.<format>.json).") var output: String?
    @Flag(help: "Print the API's JSON.") var json = false

    func run() throws {
        guard ExportFormat(rawValue: format.lowercased()) != nil else { throw CommandFailure("--format must be json or coco") }
        let api = try catalogAPI()
        var body: [(String, JSONValue)] = [("format", .string(format.lowercased()))]
        if let stage { body.append(("stage", .string(stage))) }
        if !featureHashes.isEmpty { body.append(("featureHashes", .array(featureHashes.map(JSONValue.string)))) }
        if let versionName { body.append(("versionName", .string(versionName))) }
        if signedUrls { body.append(("signedUrls", .bool(true))) }
        if let signedUrlTtl { body.append(("signedUrlTtlSeconds", .number(String(signedUrlTtl)))) }
        let answer = try viaAPI { try api.call("POST", "/v1/projects/\(project)/exports", json: JSONValue.object(body).compactText) }
        guard let id = answer["id"]?.stringValue else { throw CommandFailure("unexpected answer from the API: \(answer.compactText)") }
        guard wait else {
            print(json ? answer.compactText : "export \(id) queued (registrar export --wait, or registrar jobs status \(id) --wait; then GET /v1/exports/\(id)/download)")
            return
        }
        try JobsCommand.follow(api, id, json: false)
        let path = output ?? "export-\(id).\(format.lowercased()).json"
        try download(api, "/v1/exports/\(id)/download", to: path)
        let final = try viaAPI { try api.call("GET", "/v1/exports/\(id)") }
        let expected = final["file"]?["sha256"]?.stringValue
        let actual = try UploadCommand.sha256(path)
        guard expected == nil || expected == actual else { throw CommandFailure("\(path): SHA-256 \(actual) differs from the API's \(expected!)") }
        if json { print(final.compactText) } else { print("wrote \(path) (\(final["file"]?["size"]?.intValue ?? 0) bytes, sha256 \(actual))") }
    }

    /// Streams a download to a file (never the whole body in memory).
    func download(_ api: APIClient, _ path: String, to destination: String) throws {
        guard let url = URL(string: api.base + path) else { throw CommandFailure("REGISTRAR_API_URL is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: 3600)
        request.setValue("Bearer \(api.key)", forHTTPHeaderField: "Authorization")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Int, Error> = .success(0)
        URLSession.shared.downloadTask(with: request) { file, response, error in
            defer { done.signal() }
            if let error { outcome = .failure(error); return }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200, let file else { outcome = .success(status); return }
            do {
                try? FileManager.default.removeItem(atPath: destination)
                try FileManager.default.moveItem(at: file, to: URL(fileURLWithPath: destination))
                outcome = .success(200)
            } catch { outcome = .failure(error) }
        }.resume()
        done.wait()
        switch outcome {
        case .failure(let e): throw CommandFailure("download failed: \(e.localizedDescription)")
        case .success(let status) where status != 200: throw CommandFailure("download failed: HTTP \(status)")
        default: break
        }
    }
}
