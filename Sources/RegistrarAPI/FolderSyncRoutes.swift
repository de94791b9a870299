import Foundation
import HTTPTypes
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// Cloud-synced folders (docs/sync.md): `POST|GET|DELETE /v1/folders/{id}/sync`,
/// `POST /v1/folders/{id}/sync/run` (202, the sync job), and
/// `POST /v1/folders/{id}/sync/notifications`: S3/MinIO event notifications, authenticated by
/// the folder's own secret (no API key: buckets cannot hold one), syncing just the keys named.
struct FolderSyncRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>, router: Router<APIContext>) {
        group.post("/folders/{id}/sync", use: create)
        group.get("/folders/{id}/sync", use: get)
        group.delete("/folders/{id}/sync", use: delete)
        group.post("/folders/{id}/sync/run", use: run)
        router.post("/v1/folders/{id}/sync/notifications", use: notify)
    }

    static func store(_ backends: any APIBackends) throws -> any FolderSyncAPIStore {
        guard let b = backends as? FolderSyncBackends else { throw APIError.unavailable("folder sync") }
        return try b.folderSync()
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        // Binding a folder to a bucket reads it with an integration's credentials: as adding one, an admin's act.
        let caller = try context.workspaceAdmin("bind a folder to a bucket")
        let id = try context.parameters.require("id")
        let body = try await DatasetRoutes.object(request, context: context,
                                                  example: "{\"integrationId\": \"…\", \"uri\": \"s3://bucket/prefix/\", \"interval\": \"24h\", \"sidecarSuffix\": \".metadata.json\"}")
        func string(_ field: String, required: Bool) throws -> String? {
            guard let v = body[field], v != .null else {
                if required { throw DatasetRoutes.invalid(field, "is required") }
                return nil
            }
            guard case .string(let s) = v else { throw DatasetRoutes.invalid(field, "must be a string") }
            return s
        }
        let integration = try string("integrationId", required: true)!
        var appendOnly = false
        if let v = body["appendOnly"], v != .null {
            guard case .bool(let b) = v else { throw DatasetRoutes.invalid("appendOnly", "must be true or false") }
            appendOnly = b
        }
        let spec: SyncBindingSpec
        switch SyncBindingSpec.parse(uri: try string("uri", required: true)!, interval: try string("interval", required: false),
                                     sidecarSuffix: try string("sidecarSuffix", required: false), appendOnly: appendOnly) {
        case .failure(let e): throw DatasetRoutes.invalid(e.field, e.message)
        case .success(let s): spec = s
        }
        let (outcome, json) = try await pool.run { backends -> (SyncBindingCreated, String?) in
            // The integration is named by id or name, in the caller's tenant; listing is built for S3 only.
            let records = try backends.registry()
            guard let stored = try records.integration(id: integration, tenantID: caller.tenantID)
                    ?? records.integration(name: integration, tenantID: caller.tenantID) else { return (.integrationNotFound, nil) }
            if let problem = spec.integrationProblem(stored.kind, name: stored.name, settings: stored.settings) { throw DatasetRoutes.invalid("integrationId", problem) }
            let store = try Self.store(backends)
            let outcome = try store.createBinding(tenantID: caller.tenantID, folderID: id, integrationID: stored.id, spec: spec)
            return (outcome, try store.bindingJSON(tenantID: caller.tenantID, folderID: id))
        }
        switch outcome {
        case .created(let secret):
            guard case .object(var members)? = json.flatMap({ JSONValue.parse(Array($0.utf8)) }) else { throw APIError.notFound("folder", id) }
            members.append(("notificationSecret", .string(secret)))
            return JSONResponse.ok(JSONValue.object(members).compactText, status: .created)
        case .folderNotFound: throw APIError.notFound("folder", id)
        case .integrationNotFound: throw APIError.notFound("integration", integration)
        case .exists: throw APIError(.conflict, "sync_exists", "the folder is bound already; DELETE /v1/folders/\(id)/sync first")
        }
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try Self.store($0).bindingJSON(tenantID: caller.tenantID, folderID: id) }) else {
            throw APIError.notFound("sync binding of folder", id)
        }
        return JSONResponse.ok(json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.workspaceAdmin("remove a folder's bucket binding")
        let id = try context.parameters.require("id")
        guard try await pool.run({ try Self.store($0).deleteBinding(tenantID: caller.tenantID, folderID: id) }) else {
            throw APIError.notFound("sync binding of folder", id)
        }
        return Response(status: .noContent)
    }

    @Sendable func run(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let outcome = try await pool.run { backends -> SyncStart in
            let outcome = try Self.store(backends).startSync(tenantID: caller.tenantID, folderID: id, keys: nil)
            if case .started(let job) = outcome { try UploadRoutes.publish(job, backends: backends) }
            return outcome
        }
        switch outcome {
        case .noBinding: throw APIError.notFound("sync binding of folder", id)
        case .started(let job), .running(let job):
            var members: [(key: String, value: JSONValue)] = [("id", .string(job)), ("links", .object([("job", .string("/v1/jobs/\(job)"))]))]
            if case .running = outcome { members.append(("alreadyRunning", .bool(true))) }
            return JSONResponse.ok(JSONValue.object(members).compactText, status: .accepted)
        }
    }

    /// The secret comes as `Authorization: Bearer SECRET` or `X-Registrar-Sync-Secret`; it is
    /// compared by digest in constant time and never logged or echoed. Any failure to
    /// authenticate is the same 401, whether the folder exists or not.
    @Sendable func notify(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        var given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if given == nil, let name = HTTPField.Name("X-Registrar-Sync-Secret") { given = request.headers[name] }
        let secret = given ?? ""
        let target = try await pool.run { try Self.store($0).notificationTarget(folderID: id) }
        guard let target, NotificationSecret.matches(secret, storedDigest: target.secretDigest) else {
            throw APIError(.unauthorized, "unauthorized", "a valid notification secret for this folder is required (Authorization: Bearer SECRET)")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let keys: [NotifiedKey]
        switch S3EventNotification.parse(Array(buffer.readableBytesView), bucket: target.bucket) {
        case .failure(let e): throw DatasetRoutes.invalid(e.field, e.message)
        case .success(let k): keys = k
        }
        guard !keys.isEmpty else {
            return JSONResponse.ok(JSONValue.object([("created", .number("0")), ("removed", .number("0"))]).compactText, status: .accepted)
        }
        let created = keys.filter { $0.change == .created }, removed = keys.filter { $0.change == .removed }.map(\.key)
        let outcome = try await pool.run { backends -> SyncStart in
            let outcome = try Self.store(backends).startSync(tenantID: target.tenantID, folderID: id, keys: (created, removed))
            if case .started(let job) = outcome { try UploadRoutes.publish(job, backends: backends) }
            return outcome
        }
        guard case .started(let job) = outcome else { throw APIError.notFound("sync binding of folder", id) }
        return JSONResponse.ok(JSONValue.object([("id", .string(job)), ("created", .number(String(created.count))),
                                                 ("removed", .number(String(removed.count)))]).compactText, status: .accepted)
    }
}
