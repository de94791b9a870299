import Foundation
import HTTPTypes
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// Exports of a project's labels as engine jobs (docs/labels.md, "Exports"):
/// `POST /v1/projects/{id}/exports` → 202 `{id}`; `GET /v1/exports/{id}` (progress as uploads,
/// plus the file's size and SHA-256 once assembled); `GET /v1/exports/{id}/download` (the file,
/// assembled from the job's parts on first download, then served as stored).
struct ExportRoutes {
    let pool: BlockingPool
    let tempDirectory: String
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }

    func register(on group: RouterGroup<APIContext>) {
        group.post("/projects/{id}/exports", use: create)
        group.get("/exports/{id}", use: get)
        group.get("/exports/{id}/download", use: download)
    }

    static func store(_ backends: any APIBackends) throws -> any ExportStore { try backends.registry() }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.export, on: id, "exporting labels", context: context)
        let body = try await JSONBody.read(request, hint: "{\"format\": \"json\" | \"coco\", \"stage\"?, \"featureHashes\"?, \"signedUrls\"?, \"versionName\"?}")
        guard let format = ExportFormat(rawValue: try body.requiredText("format", max: 10).lowercased()) else {
            throw JSONBody.invalid("format", "must be json or coco")
        }
        var stage: String?
        if case .some(.some(let s)) = try body.text("stage", max: 200, nullable: true) {
            let graph = try await TaskRoutes(pool: pool).graph(id, tenantID: caller.tenantID)
            stage = try TaskRoutes.stage(s, in: graph).uuid
        }
        let features = try body.strings("featureHashes", max: 10_000)
        var signed = false
        switch body.value["signedUrls"] {
        case nil, .null?: break
        case .bool(let b)?: signed = b
        default: throw JSONBody.invalid("signedUrls", "must be true or false")
        }
        var ttl = 3600
        if let raw = body.value["signedUrlTtlSeconds"], raw != .null {
            guard let n = raw.intValue, SignedURLLifetime.range.contains(n) else { throw JSONBody.invalid("signedUrlTtlSeconds", "must be a whole number of seconds from 1 to 604800 (7 days)") }
            ttl = n
        }
        var version: String?
        if case .some(.some(let v)) = try body.text("versionName", max: 200, nullable: true) { version = v }
        let params = ExportParams(projectID: id, format: format, stage: stage, featureHashes: features, signedURLs: signed,
                                  signedURLTTLSeconds: ttl, versionName: version, maxUnitID: 0)
        let tenant = caller.tenantID
        let json: String? = try await pool.run { backends in
            guard let job = try Self.store(backends).createExport(tenantID: tenant, params: params) else { return nil }
            try DatasetRoutes.queue(job, backends: backends)
            return try Self.json(job, tenant: tenant, backends: backends)
        }
        guard let json else { throw APIError.notFound("project", id) }
        return JSONResponse.ok(json, status: .accepted)
    }

    /// The export: the job's progress (`GET /v1/jobs/{id}`'s fields) and the export's own.
    static func json(_ id: String, tenant: String, backends: any APIBackends) throws -> String? {
        guard let record = try store(backends).exportRecord(tenantID: tenant, jobID: id),
              let found = try UploadSnapshot.loadAnyKind(jobID: id, tenantID: tenant, backends: backends),
              case .object(var members)? = JSONValue.parse(Array(found.snapshot.jobJSON(kind: found.kind).utf8)) else { return nil }
        let p = record.params
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        members.removeAll { $0.key == "links" }
        members += [("projectId", .string(record.projectID)), ("format", .string(p.format.rawValue)), ("stage", opt(p.stage)),
                    ("featureHashes", p.featureHashes.map { .array($0.map(JSONValue.string)) } ?? .null),
                    ("signedUrls", .bool(p.signedURLs)), ("versionName", opt(p.versionName)),
                    ("file", record.file.map { .object([("size", .number(String($0.size))), ("sha256", .string($0.sha256))]) } ?? .null),
                    ("links", .object([("self", .string("/v1/exports/\(record.jobID)")), ("download", .string("/v1/exports/\(record.jobID)/download")),
                                       ("errors", .string("/v1/jobs/\(record.jobID)/errors"))]))]
        return JSONValue.object(members).compactText
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant().tenantID
        let id = try context.parameters.require("id")
        guard let json = try await pool.run({ try Self.json(id, tenant: tenant, backends: $0) }) else { throw APIError.notFound("export", id) }
        return JSONResponse.ok(json)
    }

    @Sendable func download(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.tenant()
        let id = try context.parameters.require("id")
        let temp = tempDirectory
        let opened: (StoredObject, ObjectRoutes.Reader, String)? = try await pool.run { backends in
            let store = try Self.store(backends)
            guard let record = try store.exportRecord(tenantID: caller.tenantID, jobID: id),
                  let job = try backends.registry().jobStore.job(record.jobID) else { return nil }
            guard job.status == .done else {
                throw APIError(.conflict, "export_not_ready", "the export is \(job.status.rawValue), not DONE: follow GET /v1/exports/\(record.jobID)",
                               details: [("status", .string(job.status.rawValue))])
            }
            let file = try ExportAssembler.assemble(record, store: store, storage: try backends.storage(), tempDirectory: temp)
            guard let (object, source) = try backends.storage().open(file.key) else { return nil }
            return (object, ObjectRoutes.Reader(source), "export-\(record.jobID)-\(record.params.format.rawValue).json")
        }
        guard let (object, reader, name) = opened else { throw APIError.notFound("export", id) }
        let body = ResponseBody(contentLength: Int(object.size)) { writer in
            while true {
                let piece = try await pool.run { _ in try reader.next() }
                if piece.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: object.contentType, .contentDisposition: "attachment; filename=\"\(name)\""]
        headers[HTTPField.Name("X-Content-SHA256")!] = object.sha256
        headers[.eTag] = "\"\(object.sha256)\""
        return Response(status: .ok, headers: headers, body: body)
    }
}
