import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarCore
import RegistrarRuntime

/// The CLI's way to an API server: when `REGISTRAR_API_URL` and `REGISTRAR_API_KEY` are set,
/// `submit`, `status`, `errors`, `cancel`, `retry` and `files` go through the HTTP API instead
/// of the database, so operators need no server credentials at all.
struct APIClient {
    let base: String
    let key: String

    static func fromEnvironment() -> APIClient? {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["REGISTRAR_API_URL"], !url.isEmpty, let key = env["REGISTRAR_API_KEY"], !key.isEmpty else { return nil }
        return APIClient(base: url.hasSuffix("/") ? String(url.dropLast()) : url, key: key)
    }

    /// One request; returns the parsed JSON body of a 2xx answer, or throws a `CommandFailure`
    /// carrying the API's error code and message (never the key).
    @discardableResult
    func call(_ method: String, _ path: String, query: [(String, String)] = [], bodyFile: String? = nil,
              json: String? = nil, contentType: String? = nil, timeout: Double = 120) throws -> JSONValue {
        let (status, data) = try raw(method, path, query: query, bodyFile: bodyFile, json: json, contentType: contentType, timeout: timeout)
        let value = JSONValue.parse(data)
        guard (200..<300).contains(status) else {
            if let error = value?["error"], case .string(let code)? = error["code"], case .string(let message)? = error["message"] {
                throw APIFailure(status: status, code: code, message: message)
            }
            throw APIFailure(status: status, code: "http_\(status)", message: String(decoding: data.prefix(200), as: UTF8.self))
        }
        return value ?? .null
    }

    /// The raw answer (status, body bytes).
    func raw(_ method: String, _ path: String, query: [(String, String)] = [], bodyFile: String? = nil,
             json: String? = nil, contentType: String? = nil, timeout: Double = 120) throws -> (Int, [UInt8]) {
        let (status, body, _) = try send(method, path, query: query, bodyFile: bodyFile, json: json, contentType: contentType, timeout: timeout)
        return (status, body)
    }

    /// The raw answer with its headers (names lower-cased).
    func send(_ method: String, _ path: String, query: [(String, String)] = [], bodyFile: String? = nil,
              json: String? = nil, contentType: String? = nil, timeout: Double = 120) throws -> (Int, [UInt8], [String: String]) {
        var components = URLComponents(string: base + path)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components?.url else { throw CommandFailure("REGISTRAR_API_URL is not a URL: \(redacted(base))") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [UInt8], [String: String])?
        nonisolated(unsafe) var failure: Error?
        let handler: @Sendable (Data?, URLResponse?, Error?) -> Void = { data, response, error in
            if let error { failure = error } else {
                let http = response as? HTTPURLResponse
                var headers: [String: String] = [:]
                for (k, v) in http?.allHeaderFields ?? [:] { headers["\(k)".lowercased()] = "\(v)" }
                result = (http?.statusCode ?? 0, Array(data ?? Data()), headers)
            }
            done.signal()
        }
        let task = bodyFile.map { URLSession.shared.uploadTask(with: request, fromFile: URL(fileURLWithPath: $0), completionHandler: handler) }
            ?? URLSession.shared.dataTask(with: request, completionHandler: handler)
        task.resume()
        done.wait()
        if let failure { throw CommandFailure("cannot reach the API at \(redacted(base)): \(failure.localizedDescription)") }
        return result!
    }

    /// Every item of a paged listing, page by page.
    func forEachItem(_ path: String, query: [(String, String)] = [], _ body: (JSONValue) throws -> Void) throws {
        var cursor: String?
        repeat {
            var q = query + [("limit", "1000")]
            if let cursor { q.append(("cursor", cursor)) }
            let page = try call("GET", path, query: q)
            if case .array(let items)? = page["items"] { try items.forEach(body) }
            if case .string(let next)? = page["nextCursor"] { cursor = next } else { cursor = nil }
        } while cursor != nil
    }

    /// The tenant's folder id for a name; created when `create` and missing.
    func folderID(name: String, create: Bool) throws -> String? {
        var found: String?
        try forEachItem("/v1/folders") { f in
            if case .string(name)? = f["name"], case .string(let id)? = f["id"] { found = id }
        }
        if found == nil, create {
            let f = try call("POST", "/v1/folders", json: JSONValue.object([("name", .string(name))]).compactText)
            if case .string(let id)? = f["id"] { found = id }
        }
        return found
    }

    /// Follows an upload with long-polls until it ends; returns its last JSON.
    func follow(_ jobID: String, quiet: Bool) throws -> JSONValue {
        let display = ProgressDisplay(quiet: quiet)
        while true {
            let upload = try call("GET", "/v1/uploads/\(jobID)", query: [("wait", "30")], timeout: 90)
            guard let state = JobState(apiJSON: upload) else { throw CommandFailure("unexpected answer from the API for upload \(jobID)") }
            display.update(state)
            if state.status != .pending {
                display.finish(state)
                return upload
            }
        }
    }
}

/// An error answer of the API: exit code 1 for "no such thing"/refusals, shown with its code.
struct APIFailure: Error, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String
    var description: String { "\(message) (\(code), HTTP \(status))" }
}

extension JobState {
    /// From the API's upload JSON.
    init?(apiJSON v: JSONValue) {
        guard let id = v["id"]?.stringValue, let status = v["status"]?.stringValue.flatMap(JobStatus.init(rawValue:)),
              let phase = v["phase"]?.stringValue.flatMap(JobPhase.init(rawValue:)) else { return nil }
        let counts = UnitCounts(done: v["done"]?.intValue ?? 0, errors: v["errors"]?.intValue ?? 0,
                                skipped: v["skipped"]?.intValue ?? 0, cancelled: v["cancelled"]?.intValue ?? 0)
        self.init(id: id, status: status, phase: phase, total: v["total"]?.intValue, counts: counts,
                  startedAt: v["startedAt"]?.stringValue, finishedAt: v["finishedAt"]?.stringValue, error: v["error"]?.stringValue)
    }
}

/// The API client for commands that speak only the API (the catalog's), or a clear error naming
/// the two variables to set.
func catalogAPI() throws -> APIClient {
    guard let api = APIClient.fromEnvironment() else {
        throw CommandFailure("set REGISTRAR_API_URL and REGISTRAR_API_KEY (a key made with `registrar keys create`): this command speaks the HTTP API")
    }
    return api
}
