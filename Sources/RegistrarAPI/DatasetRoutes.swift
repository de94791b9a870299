import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/datasets…` (docs/datasets.md): datasets, their data units, attach (a `dataset-attach`
/// job on the engine) and detach (synchronous). Any workspace user creates and reads; changing,
/// deleting, attaching and detaching is for the dataset's creator or a workspace admin.
struct DatasetRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.post("/datasets", use: create)
        group.get("/datasets", use: list)
        group.get("/datasets/{id}", use: get)
        group.patch("/datasets/{id}", use: update)
        group.delete("/datasets/{id}", use: delete)
        group.get("/datasets/{id}/files", use: files)
        group.post("/datasets/{id}/attach", use: attach)
        group.post("/datasets/{id}/detach", use: detach)
    }

    /// The body as a JSON object, or 422 naming what to send.
    static func object(_ request: Request, context: APIContext, example: String) async throws -> JSONValue {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard let value = JSONValue.parse(Array(buffer.readableBytesView)), case .object = value else {
            throw APIError(.unprocessableContent, "invalid_body", "send \(example) as a JSON object", details: [("field", .string("body"))])
        }
        return value
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, "invalid_body", "\(field): \(message)", details: [("field", .string(field))])
    }

    /// A title: 1 to 255 characters after trimming, no control characters.
    static func title(_ v: JSONValue?, required: Bool) throws -> String? {
        guard let v, v != .null else {
            if required { throw invalid("title", "is required") }
            return nil
        }
        guard case .string(let raw) = v else { throw invalid("title", "must be a string") }
        let t = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty, t.count <= 255, !t.hasControlCharacter else { throw invalid("title", "must be 1 to 255 characters, none of them control characters") }
        return t
    }

    /// A description: absent (nil), null (`.some(nil)`), or a string of at most 10,000 characters.
    static func description(_ v: JSONValue?) throws -> String?? {
        guard let v else { return nil }
        if v == .null { return .some(nil) }
        guard case .string(let d) = v, d.count <= 10_000 else { throw invalid("description", "must be a string of at most 10000 characters") }
        return .some(d)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let body = try await Self.object(request, context: context, example: "{\"title\": \"…\", \"description\": \"…\", \"mirroredFolderId\": \"…\"}")
        let title = try Self.title(body["title"], required: true)!
        let description = try Self.description(body["description"]) ?? nil
        var mirrored: String?
        if let v = body["mirroredFolderId"], v != .null {
            guard case .string(let id) = v else { throw Self.invalid("mirroredFolderId", "must be a folder id") }
            mirrored = id
        }
        let folder = mirrored
        let outcome = try await pool.run { backends in
            let created = try backends.registry().createDataset(tenantID: caller.tenantID, title: title, description: description,
                                                                mirroredFolderID: folder, createdBy: caller.userID)
            if case .created(_, let job?) = created { try Self.queue(job, backends: backends) }
            return created
        }
        switch outcome {
        case .folderNotFound(let id): throw APIError.notFound("folder", id)
        case .created(let json, let job):
            guard let job else { return JSONResponse.ok(json, status: .created) }
            // The dataset's JSON with the attach job that brings the folder's current files.
            return JSONResponse.ok(String(json.dropLast()) + ",\"jobId\":\"\(job)\"}", status: .created)
        }
    }

    /// Gives the tracker the job's total (counted when it was created) and queues it.
    static func queue(_ job: String, backends: any APIBackends) throws {
        if let total = try backends.registry().jobStore.job(job)?.totalUnits { try? backends.tracker().setTotal(jobID: job, total: total) }
        try UploadRoutes.publish(job, backends: backends)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        return try await PageTokens.keyedPage(request, scope: ["datasets", tenant.tenantID]) { after, limit in
            try await pool.run { try $0.registry().datasets(tenantID: tenant.tenantID, after: after, limit: limit) }
        }
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try $0.registry().dataset(tenantID: tenant.tenantID, id: id) }) else {
            throw APIError.notFound("dataset", id)
        }
        return JSONResponse.ok(json)
    }

    /// The dataset if the caller may change it: 404 when not the tenant's, 403 when not its creator nor an admin.
    static func modifiable(_ id: String, _ caller: Principal, _ action: String, backends: any APIBackends) throws -> DatasetOwner {
        guard let owner = try backends.registry().datasetOwner(tenantID: caller.tenantID, id: id) else { throw APIError.notFound("dataset", id) }
        guard WorkspaceAccess.mayModify(role: caller.workspaceRole, userID: caller.userID, createdBy: owner.createdBy) else {
            throw APIError.forbidden(action, required: "the dataset's creator or workspace role admin")
        }
        return owner
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let body = try await Self.object(request, context: context, example: "{\"title\": \"…\", \"description\": \"…\"}")
        let title = try Self.title(body["title"], required: false)
        let description = try Self.description(body["description"])
        let json = try await pool.run { backends in
            _ = try Self.modifiable(id, caller, "update this dataset", backends: backends)
            return try backends.registry().updateDataset(tenantID: caller.tenantID, id: id, title: title, description: description)
        }
        guard let json else { throw APIError.notFound("dataset", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let outcome = try await pool.run { backends in
            _ = try Self.modifiable(id, caller, "delete this dataset", backends: backends)
            return try backends.registry().deleteDataset(tenantID: caller.tenantID, id: id)
        }
        switch outcome {
        case .deleted: return Response(status: .noContent)
        case .notFound: throw APIError.notFound("dataset", id)
        case .inUse(let projects):
            throw APIError(.conflict, "dataset_in_use", "projects use this dataset: \(projects.joined(separator: ", ")); detach it from them first",
                           details: [("projectIds", .array(projects.map(JSONValue.string)))])
        }
    }

    @Sendable func files(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let limit = try QueryFlag.limit(query.get("limit"))
        let scope = ["dataset-files", tenant.tenantID, id.lowercased()]
        let after = try QueryFlag.numericCursor(try PageTokens.key(query.get("cursor"), scope: scope)?[0], from: 0, upTo: Int64.max)
        guard let page = try await pool.run({ try $0.registry().datasetFiles(tenantID: tenant.tenantID, datasetID: id, after: after, limit: limit) }) else {
            throw APIError.notFound("dataset", id)
        }
        return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope))
    }

    /// `folderIds` and `fileIds` of an attach or detach body (at least one id; at most 100,000 files).
    static func targets(_ body: JSONValue) throws -> (folders: [String], files: [Int64]) {
        var folders: [String] = [], files: [Int64] = []
        if let v = body["folderIds"], v != .null {
            guard case .array(let items) = v else { throw invalid("folderIds", "must be an array of folder ids") }
            for (i, item) in items.enumerated() {
                guard case .string(let id) = item else { throw invalid("folderIds[\(i)]", "must be a folder id (a string)") }
                folders.append(id)
            }
        }
        if let v = body["fileIds"], v != .null {
            guard case .array(let items) = v else { throw invalid("fileIds", "must be an array of file ids") }
            guard items.count <= 100_000 else { throw invalid("fileIds", "at most 100000 file ids per request; attach their folders instead") }
            for (i, item) in items.enumerated() {
                // File ids are shown as strings; numbers are accepted too.
                let text: String
                switch item {
                case .string(let s): text = s
                case .number(let n): text = n
                default: throw invalid("fileIds[\(i)]", "must be a file id")
                }
                guard let id = Int64(text), id > 0 else { throw invalid("fileIds[\(i)]", "must be a file id (a positive integer)") }
                files.append(id)
            }
        }
        guard !folders.isEmpty || !files.isEmpty else { throw invalid("folderIds", "give folderIds and/or fileIds (at least one id)") }
        return (folders, files)
    }

    static func refusal(_ outcome: DatasetTargetOutcome, datasetID: String) -> APIError? {
        switch outcome {
        case .datasetNotFound: return APIError.notFound("dataset", datasetID)
        case .targetNotFound(let what, let id): return APIError.notFound(what, id)
        case .attachJob, .detached: return nil
        }
    }

    @Sendable func attach(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let body = try await Self.object(request, context: context, example: "{\"folderIds\": [\"…\"], \"fileIds\": [\"…\"], \"duplicates\": \"SKIP\"}")
        let (folders, files) = try Self.targets(body)
        var duplicates = DuplicatesBehavior.skip
        if let v = body["duplicates"], v != .null {
            guard case .string(let s) = v, let d = DuplicatesBehavior(rawValue: s) else {
                throw Self.invalid("duplicates", "must be SKIP, FAIL or DUPLICATE")
            }
            duplicates = d
        }
        let behaviour = duplicates
        let outcome = try await pool.run { backends in
            _ = try Self.modifiable(id, caller, "attach files to this dataset", backends: backends)
            let outcome = try backends.registry().createAttachJob(tenantID: caller.tenantID, datasetID: id, folderIDs: folders,
                                                                  fileIDs: files, duplicates: behaviour)
            if case .attachJob(let job) = outcome { try Self.queue(job, backends: backends) }
            return outcome
        }
        if let refusal = Self.refusal(outcome, datasetID: id) { throw refusal }
        guard case .attachJob(let job) = outcome else { throw APIError.notFound("dataset", id) }
        return JSONResponse.ok(JSONValue.object([("jobId", .string(job)), ("links", .object([("job", .string("/v1/jobs/\(job)"))]))]).compactText,
                               status: .accepted)
    }

    @Sendable func detach(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let body = try await Self.object(request, context: context, example: "{\"folderIds\": [\"…\"], \"fileIds\": [\"…\"]}")
        let (folders, files) = try Self.targets(body)
        let outcome = try await pool.run { backends in
            _ = try Self.modifiable(id, caller, "detach files from this dataset", backends: backends)
            return try backends.registry().detach(tenantID: caller.tenantID, datasetID: id, folderIDs: folders, fileIDs: files)
        }
        if let refusal = Self.refusal(outcome, datasetID: id) { throw refusal }
        guard case .detached(let n) = outcome else { throw APIError.notFound("dataset", id) }
        return JSONResponse.ok("{\"detached\":\(n)}")
    }
}

/// `/v1/jobs/{id}…`: any engine job of the tenant (an upload, a dataset attach, …): its kind and
/// progress (the upload progress fields), its unit errors, cancel.
struct JobRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.get("/jobs/{id}", use: get)
        group.get("/jobs/{id}/errors", use: errors)
        group.post("/jobs/{id}/cancel", use: cancel)
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        guard let found = try await pool.run({ try UploadSnapshot.loadAnyKind(jobID: id, tenantID: tenant.tenantID, backends: $0) }) else {
            throw APIError.notFound("job", id)
        }
        return JSONResponse.ok(found.snapshot.jobJSON(kind: found.kind))
    }

    @Sendable func errors(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let scope = ["job-errors", tenant.tenantID, id.lowercased()]
        let after = Int(try QueryFlag.numericCursor(try PageTokens.key(query.get("cursor"), scope: scope)?[0], from: -1, upTo: Int64(Int32.max)))
        let limit = try QueryFlag.limit(query.get("limit"))
        let code = query.get("code")
        let page: JSONPage? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.anyJobExtras(tenantID: tenant.tenantID, jobID: id, window: 1) != nil else { return nil }
            return try registry.errorsPage(jobID: id, code: code, after: after, limit: limit)
        }
        guard let page else { throw APIError.notFound("job", id) }
        return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope))
    }

    @Sendable func cancel(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let id = try context.parameters.require("id")
        let json: String? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.anyJobExtras(tenantID: tenant.tenantID, jobID: id, window: 1) != nil else { return nil }
            if try registry.jobStore.requestCancel(jobID: id) == .pending {
                _ = try registry.jobStore.finishJobIfComplete(jobID: id)
            }
            return try UploadSnapshot.loadAnyKind(jobID: id, tenantID: tenant.tenantID, backends: backends).map { $0.snapshot.jobJSON(kind: $0.kind) }
        }
        guard let json else { throw APIError.notFound("job", id) }
        return JSONResponse.ok(json, status: .accepted)
    }
}
