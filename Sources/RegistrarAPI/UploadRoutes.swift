import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/folders/{id}/uploads`, `/v1/uploads…`: submit manifests, follow them, cancel and retry.
struct UploadRoutes {
    let pool: BlockingPool
    let config: APIConfiguration
    let metrics: APIMetrics
    let cache: SnapshotCache

    func register(on group: RouterGroup<APIContext>) {
        group.post("/folders/{id}/uploads", use: submit)
        group.get("/uploads", use: list)
        group.get("/uploads/{id}", use: get)
        group.get("/uploads/{id}/events", use: events)
        group.post("/uploads/{id}/cancel", use: cancel)
        group.post("/uploads/{id}/retry", use: retry)
    }

    // MARK: Submit

    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let folderID = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let contentType = request.headers[.contentType]
        // nil: an application/gzip body without `format`, known once it is inflated (below).
        var declared: ManifestFormat?
        if let f = query.get("format") {
            guard let parsed = ManifestFormat(rawValue: f) else { throw APIError.badRequest("format must be json or csv", field: "format") }
            declared = parsed
        } else if let f = ManifestReceiver.format(contentType: contentType) {
            declared = f
        } else if !ManifestReceiver.isGzipType(contentType) {
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "send the manifest as application/json or text/csv (optionally with Content-Encoding: gzip), or as application/gzip",
                           details: [("contentType", contentType.map(JSONValue.string) ?? .null)])
        }
        let ignoreErrors = try QueryFlag.bool(query.get("ignoreErrors"), field: "ignoreErrors") ?? false
        let integration = query.get("integration")
        let encoding = request.headers[.contentEncoding]?.lowercased()
        guard encoding == nil || encoding == "gzip" || encoding == "identity" else {
            throw APIError(.unsupportedMediaType, "unsupported_encoding", "Content-Encoding must be gzip or identity")
        }
        let gzip = encoding == "gzip" || ManifestReceiver.isGzipType(contentType)
        let receiver = ManifestReceiver(maxBytes: config.maxManifestBytes, directory: config.spoolDirectory)
        try receiver.checkDeclaredLength(request.headers[.contentLength])
        guard try await pool.run({ try $0.registry().folder(tenantID: tenant.tenantID, id: folderID) }) != nil else {
            throw APIError.notFound("folder", folderID)
        }
        let received = try await receiver.receive(request.body, gzip: gzip)
        defer { unlink(received.path) }
        // application/gzip alone: the rule `registrar submit` uses for a file — the name's
        // extension (`fileName`, without `.gz`), else the first non-blank byte ({ or [ is JSON).
        let format = try declared ?? ManifestFormat.detect(fileName: Self.stripGz(query.get("fileName") ?? ""),
                                                           firstBytes: FileByteSource(path: received.path).peek(512))
        let fileName = query.get("fileName") ?? "upload.\(format.rawValue)"
        var limits = ManifestLimits.default
        if let u = config.maxURLs { limits.maxURLs = u }
        if let u = config.maxUnits { limits.maxUnits = u }
        let finalLimits = limits
        let outcome: SubmitOutcome = try await pool.run { backends in
            try Self.store(received.path, format: format, fileName: fileName, ignoreErrors: ignoreErrors, integration: integration,
                           folderID: folderID, tenantID: tenant.tenantID, limits: finalLimits, backends: backends)
        }
        switch outcome {
        case .refused(let issue):
            metrics.manifestsRefused.increment()
            var details: [(key: String, value: JSONValue)] = [("code", .string(issue.code.rawValue)), ("item", .string(issue.item))]
            if let line = issue.line { details.append(("line", .number(String(line)))) }
            throw APIError(.unprocessableContent, "manifest_invalid", issue.description, details: details)
        case .stored(let jobID):
            guard let snapshot = try await pool.run({ try UploadSnapshot.load(jobID: jobID, tenantID: tenant.tenantID, backends: $0) }) else {
                throw APIError.notFound("upload", jobID)
            }
            var response = JSONResponse.ok(snapshot.json, status: .accepted)
            response.headers[.location] = "/v1/uploads/\(jobID)"
            return response
        }
    }

    /// `m.csv.gz` → `m.csv`: the name of what is inside.
    static func stripGz(_ name: String) -> String {
        name.lowercased().hasSuffix(".gz") ? String(name.dropLast(3)) : name
    }

    enum SubmitOutcome: Sendable {
        case stored(String)
        case refused(ManifestIssue)
    }

    /// Validates the spooled manifest, stores it with its job in one transaction, queues the job.
    /// A refused manifest creates nothing: bad input never leaves half a job behind.
    static func store(_ path: String, format: ManifestFormat, fileName: String, ignoreErrors: Bool, integration: String?,
                      folderID: String, tenantID: String, limits: ManifestLimits, backends: any APIBackends,
                      integrationID storageIntegrationID: String? = nil) throws -> SubmitOutcome {
        var reader = makeManifestReader(format: format, source: try FileByteSource(path: path), limits: limits)
        let summary = ManifestScanner(limits: limits, maxListedIssues: 1).scan(&reader, format: format)
        if let reason = summary.fatal ?? summary.fileErrors.first { return .refused(reason) }
        let registry = try backends.registry()
        // Files uploaded into bucket storage are read with the storage's integration (by id:
        // the operator's, not one of the tenant's names).
        var integrationID: String? = storageIntegrationID
        if let integration {
            guard let found = try registry.integration(name: integration, tenantID: tenantID) else {
                throw APIError(.unprocessableContent, "unknown_integration", "no integration named \(integration)",
                               details: [("integration", .string(integration))])
            }
            integrationID = found.id
        }
        var source = try FileByteSource(path: path)
        let jobID = try registry.createUpload(NewUpload(tenantID: tenantID, folderID: folderID, fileName: fileName, format: format,
                                                        ignoreErrors: ignoreErrors, integrationID: integrationID), manifest: &source)
        try registry.recordScan(jobID: jobID, units: summary.units, urls: summary.urls, skipDuplicates: summary.options.skipDuplicateURLs)
        try? backends.tracker().setTotal(jobID: jobID, total: summary.units)
        try publish(jobID, backends: backends)
        return .stored(jobID)
    }

    /// Queues a job id; one retry on a fresh connection (an idle one may have been closed).
    static func publish(_ jobID: String, backends: any APIBackends) throws {
        do {
            try backends.publisher().publishJob(jobID)
        } catch {
            backends.dropUnhealthy(after: error)
            try backends.publisher().publishJob(jobID)
        }
    }

    // MARK: Read

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let jobID = try context.parameters.require("id")
        let wait = try QueryFlag.seconds(request.uri.queryParameters.get("wait"), field: "wait", max: config.maxWaitSeconds)
        guard var snapshot = try await cachedLoad(jobID, tenant) else { throw APIError.notFound("upload", jobID) }
        if wait > 0 && snapshot.state.status == .pending {
            // Long-poll: answer as soon as anything an operator sees changes, or at the deadline.
            let first = snapshot.fingerprint
            let deadline = Date().addingTimeInterval(wait)
            while Date() < deadline, snapshot.fingerprint == first, snapshot.state.status == .pending, !Task.isCancelled {
                try await Task.sleep(nanoseconds: UInt64(config.pollInterval * 1e9))
                guard let next = try await load(jobID, tenant) else { break }
                snapshot = next
            }
        }
        return JSONResponse.ok(snapshot.json)
    }

    /// A snapshot at most `cache.ttl` old (the plain GET: what crowds of pollers hit).
    func cachedLoad(_ jobID: String, _ tenant: Principal) async throws -> UploadSnapshot? {
        if let hit = cache.get(tenantID: tenant.tenantID, jobID: jobID) { return hit }
        return try await load(jobID, tenant)
    }

    /// A fresh snapshot (also refreshes the cache).
    func load(_ jobID: String, _ tenant: Principal) async throws -> UploadSnapshot? {
        let snapshot = try await pool.run { try UploadSnapshot.load(jobID: jobID, tenantID: tenant.tenantID, backends: $0) }
        if snapshot?.rebuilt == true { metrics.progressRebuilds.increment() }
        if let snapshot { cache.put(snapshot, tenantID: tenant.tenantID) }
        return snapshot
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let query = request.uri.queryParameters
        var status: JobStatus?
        if let s = query.get("status") {
            guard let parsed = JobStatus(rawValue: s.uppercased()) else {
                throw APIError.badRequest("status must be one of PENDING, DONE, ERROR, CANCELLED", field: "status")
            }
            status = parsed
        }
        let statusFilter = status
        let limit = try QueryFlag.limit(query.get("limit"))
        let scope = PageTokens.uploads(tenant.tenantID)
        let cursor = try PageTokens.jobPosition(try PageTokens.key(query.get("cursor"), scope: scope, columns: 2))
        let folder = query.get("folderId")
        // Malformed ids are refused: ignoring them would list every folder's uploads.
        if let folder, !UUIDText.isValid(folder) { throw APIError.badRequest("folderId is not a folder id", field: "folderId") }
        let snapshots: ([String], JobPosition?) = try await pool.run { backends in
            let page = try backends.registry().jobIDs(tenantID: tenant.tenantID, status: statusFilter, folderID: folder, after: cursor, limit: limit)
            return (try page.ids.compactMap { try UploadSnapshot.load(jobID: $0, tenantID: tenant.tenantID, backends: backends)?.json }, page.next)
        }
        return JSONResponse.page(snapshots.0, next: PageTokens.token(snapshots.1.map { [String($0.createdMicros), $0.id] }, scope: scope))
    }

    // MARK: Events (server-sent)

    @Sendable func events(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let jobID = try context.parameters.require("id")
        guard let first = try await load(jobID, tenant) else { throw APIError.notFound("upload", jobID) }
        let interval = max(config.pollInterval, 0.5)
        let load = self.load
        let body = ResponseBody { writer in
            var snapshot = first
            var last = ""
            var lastSent = Date.distantPast
            var id = 0
            while true {
                if snapshot.fingerprint != last {
                    id += 1
                    let event = snapshot.state.status == .pending ? "progress" : "end"
                    try await writer.write(ByteBuffer(string: "id: \(id)\nevent: \(event)\ndata: \(snapshot.json)\n\n"))
                    last = snapshot.fingerprint
                    lastSent = Date()
                    if snapshot.state.status != .pending { break }
                } else if Date().timeIntervalSince(lastSent) > 15 {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastSent = Date()
                }
                try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                guard let next = try await load(jobID, tenant) else { break }
                snapshot = next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    // MARK: Cancel and retry

    @Sendable func cancel(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let jobID = try context.parameters.require("id")
        let json: String? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.loadJob(jobID, tenantID: tenant.tenantID) != nil else { return nil }
            if try registry.jobStore.requestCancel(jobID: jobID) == .pending {
                _ = try registry.jobStore.finishJobIfComplete(jobID: jobID)
            }
            return try UploadSnapshot.load(jobID: jobID, tenantID: tenant.tenantID, backends: backends)?.json
        }
        guard let json else { throw APIError.notFound("upload", jobID) }
        return JSONResponse.ok(json, status: .accepted)
    }

    @Sendable func retry(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let jobID = try context.parameters.require("id")
        enum Outcome: Sendable { case notFound, running, nothing, created(String) }
        let outcome: Outcome = try await pool.run { backends in
            let registry = try backends.registry()
            guard let job = try registry.loadJob(jobID, tenantID: tenant.tenantID) else { return .notFound }
            if job.status == .pending { return .running }
            guard let newID = try registry.createRetryJob(tenantID: tenant.tenantID, jobID: jobID) else { return .nothing }
            if let total = try registry.loadJob(newID)?.totalUnits { try? backends.tracker().setTotal(jobID: newID, total: total) }
            try Self.publish(newID, backends: backends)
            return .created(try UploadSnapshot.load(jobID: newID, tenantID: tenant.tenantID, backends: backends)?.json ?? "{}")
        }
        switch outcome {
        case .notFound: throw APIError.notFound("upload", jobID)
        case .running: throw APIError(.conflict, "upload_running", "the upload is still running; retry it once it has finished")
        case .nothing: throw APIError(.conflict, "nothing_to_retry", "the upload has no failed units")
        case .created(let json): return JSONResponse.ok(json, status: .accepted)
        }
    }
}

/// Query parameter parsing with precise errors.
enum QueryFlag {
    static func bool(_ raw: String?, field: String) throws -> Bool? {
        guard let raw else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest("\(field) must be true or false", field: field)
        }
    }

    static func seconds(_ raw: String?, field: String, max: Double) throws -> Double {
        guard let raw else { return 0 }
        guard let v = Double(raw), v >= 0, v.isFinite else { throw APIError.badRequest("\(field) must be a number of seconds ≥ 0", field: field) }
        return min(v, max)
    }

    /// A cursor that is the last row's number (`from` when absent); anything outside the range
    /// is no cursor this API gave.
    static func numericCursor(_ raw: String?, from: Int64, upTo: Int64) throws -> Int64 {
        guard let raw else { return from }
        guard let n = Int64(raw), n >= from, n <= upTo else { throw APIError.badRequest("cursor is not one this API gave", field: "cursor") }
        return n
    }

    static func limit(_ raw: String?, default def: Int = 100, max: Int = 1000) throws -> Int {
        guard let raw else { return def }
        guard let v = Int(raw), v >= 1, v <= max else { throw APIError.badRequest("limit must be between 1 and \(max)", field: "limit") }
        return v
    }
}
