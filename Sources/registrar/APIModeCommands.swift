import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarRuntime

// The operator commands, spoken through the HTTP API (REGISTRAR_API_URL + REGISTRAR_API_KEY).
// Output matches the database mode's wherever the information is the same.

extension SubmitCommand {
    func runViaAPI(_ api: APIClient) throws {
        let format = try self.format ?? ManifestFormat.detect(fileName: manifest, firstBytes: try FileByteSource(path: manifest).peek(512))
        guard let folderID = try api.folderID(name: folder, create: true) else { throw CommandFailure("cannot create folder \(folder)") }
        let upload: JSONValue
        do {
            upload = try api.call("POST", "/v1/folders/\(folderID)/uploads",
                                  query: [("ignoreErrors", ignoreErrors ? "true" : "false"), ("fileName", (manifest as NSString).lastPathComponent)],
                                  bodyFile: manifest, contentType: format == .csv ? "text/csv" : "application/json", timeout: 600)
        } catch let failure as APIFailure where failure.code == "manifest_invalid" {
            printError("manifest refused: \(failure.message)")
            throw ExitCode(1)
        }
        try api.report(upload, wait: wait, json: json)
    }
}

extension StatusCommand {
    func runViaAPI(_ api: APIClient) throws {
        let upload = wait ? try api.follow(job, quiet: false) : try api.call("GET", "/v1/uploads/\(job)")
        guard let state = JobState(apiJSON: upload) else { throw CommandFailure("unexpected answer from the API") }
        if json {
            print(upload.compactText)
        } else if !wait {
            print("job \(state.id): \(state.status.rawValue) (\(state.phase.rawValue))")
            print("  total \(state.total.map(String.init) ?? "unknown yet"), done \(state.counts.done), errors \(state.counts.errors), skipped \(state.counts.skipped), cancelled \(state.counts.cancelled), pending \(state.pending)")
            if case .number(let rate)? = upload["rate"], state.status == .pending { print("  rate \(rate) units/s, eta \(upload["etaSeconds"]?.intValue.map { "\($0) s" } ?? "unknown")") }
            if let s = state.startedAt { print("  started \(s)") }
            if let f = state.finishedAt { print("  finished \(f)") }
            if let e = state.error { print("  error: \(e)") }
        }
        if wait && state.status != .done { throw ExitCode(1) }
    }
}

extension ErrorsCommand {
    func runViaAPI(_ api: APIClient) throws {
        try api.forEachItem("/v1/uploads/\(job)/errors") { e in
            if json {
                print(e.compactText)
            } else {
                var urls: [String] = []
                if case .array(let a)? = e["objectUrls"] { urls = a.compactMap(\.stringValue) }
                print("unit \(e["unit"]?.intValue ?? -1) \(e["code"]?.stringValue ?? "?"): \(e["message"]?.stringValue ?? "")"
                      + " [\(urls.first ?? "")\(urls.count > 1 ? " +\(urls.count - 1)" : "")]")
            }
        }
    }
}

extension FilesCommand {
    func runViaAPI(_ api: APIClient) throws {
        guard let folderID = try api.folderID(name: folder, create: false) else { throw CommandFailure("no folder named \(folder)") }
        try api.forEachItem("/v1/folders/\(folderID)/files") { f in
            print(json ? f.compactText : Self.plain(f.compactText))
        }
    }
}

extension CancelCommand {
    func runViaAPI(_ api: APIClient) throws {
        let before = try api.call("GET", "/v1/uploads/\(job)")
        if let status = before["status"]?.stringValue, status != "PENDING" {
            print("job \(job) already ended \(status)")
            return
        }
        try api.call("POST", "/v1/uploads/\(job)/cancel")
        print("cancel requested for \(job): units not yet processed will be cancelled")
    }
}

extension RetryCommand {
    func runViaAPI(_ api: APIClient) throws {
        let upload: JSONValue
        do { upload = try api.call("POST", "/v1/uploads/\(job)/retry") } catch let f as APIFailure where f.code == "nothing_to_retry" {
            print("job \(job) has no failed units; nothing to retry")
            throw ExitCode(1)
        }
        try api.report(upload, wait: wait, json: json)
    }
}

extension APIClient {
    /// Prints a new upload's id (or its JSON), or with `wait` follows it to its end: exit status
    /// 1 unless it ends DONE. Shared by `submit` and `retry` through the API.
    func report(_ upload: JSONValue, wait: Bool, json: Bool) throws {
        guard let jobID = upload["id"]?.stringValue else { throw CommandFailure("unexpected answer from the API") }
        if !wait {
            print(json ? upload.compactText : jobID)
            return
        }
        print("job \(jobID)")
        let final = try follow(jobID, quiet: false)
        if json { print(final.compactText) }
        if final["status"]?.stringValue != "DONE" { throw ExitCode(1) }
    }
}
