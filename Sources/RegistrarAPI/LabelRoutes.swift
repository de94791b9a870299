import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// Label rows of a project (docs/labels.md): `GET|PUT /v1/projects/{id}/label-rows/{dataHash}`
/// in Encord's `to_encord_dict()` shape, validated against the project's ontology and the unit's
/// probed media, written with `If-Match` (412 on a stale write), and the paged listing
/// `GET /v1/projects/{id}/label-rows` filtered by stage and label status.
struct LabelRoutes {
    let pool: BlockingPool
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }
    /// A label row body may be this large (long videos with many tracked objects).
    static let maxBody = 32 << 20
    static let labelStatuses = ["NOT_LABELLED", "LABEL_IN_PROGRESS", "LABELLED", "REVIEW_IN_PROGRESS", "REVIEWED", "REVIEWED_TWICE"]

    func register(on group: RouterGroup<APIContext>) {
        group.get("/projects/{id}/label-rows", use: list)
        group.get("/projects/{id}/label-rows/{dataHash}", use: read)
        group.put("/projects/{id}/label-rows/{dataHash}", use: write)
    }

    static func store(_ backends: any APIBackends) throws -> any LabelStore { try backends.registry() }

    /// `ETag` of a row version: strong, quoted (`"0"` for a unit never saved).
    static func etag(_ version: Int) -> String { "\"\(version)\"" }

    static func withETag(_ json: String, version: Int) -> Response {
        var r = JSONResponse.ok(json)
        r.headers[.eTag] = etag(version)
        return r
    }

    func context(_ request: Request, _ context: APIContext, caller: Principal) async throws -> (String, String, LabelRowContext) {
        let id = try context.parameters.require("id")
        let hash = try context.parameters.require("dataHash")
        let tenant = caller.tenantID
        guard let ctx = try await pool.run({ try Self.store($0).labelRowContext(tenantID: tenant, projectID: id, dataHash: hash) }) else {
            throw APIError(.notFound, "not_found", "no data unit \(hash) in project \(id) (dataHash is the id the task API shows)",
                           details: [("field", .string("dataHash")), ("id", .string(hash))])
        }
        return (id, hash, ctx)
    }

    @Sendable func read(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "reading label rows", context: context)
        let (_, _, ctx) = try await self.context(request, context, caller: caller)
        return Self.withETag(ctx.stored ?? LabelRowDocument.empty(ctx.facts).compactText, version: ctx.version)
    }

    /// The version an `If-Match` names: `*` (whatever is stored now), `"N"` or `W/"N"`.
    static func expectedVersion(_ request: Request, current: Int) throws -> Int {
        guard let raw = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            throw APIError(.preconditionRequired, "precondition_required",
                           "send If-Match with the ETag of the row you edited (GET gives it), or If-Match: * to overwrite whatever is stored")
        }
        if raw == "*" { return current }
        var tag = Substring(raw)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        guard tag.count >= 3, tag.first == "\"", tag.last == "\"", let v = Int(tag.dropFirst().dropLast()), v >= 0 else {
            throw APIError(.badRequest, "invalid_parameter", "If-Match must be an ETag this API gave (e.g. \"3\") or *",
                           details: [("field", .string("If-Match"))])
        }
        return v
    }

    static func stale(current: Int) -> APIError {
        var e = APIError(.preconditionFailed, "stale_label_row",
                         "the label row changed since you read it (now version \(current)); read it again, merge your edits and retry",
                         details: [("currentVersion", .number(String(current)))])
        e.headers[.eTag] = etag(current)
        return e
    }

    @Sendable func write(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, access) = try await authorizer.access(to: id, context: context)
        guard access.allows(.annotate) || access.allows(.review) || access.allows(.controlTasks) else {
            throw APIError.forbidden("writing label rows", needs: .annotate)
        }
        let (_, hash, ctx) = try await self.context(request, context, caller: caller)
        let expected = try Self.expectedVersion(request, current: ctx.version)
        guard expected == ctx.version else { throw Self.stale(current: ctx.version) }
        guard let ontologyText = ctx.ontology, let structure = JSONValue.parse(Array(ontologyText.utf8)) else {
            throw APIError(.conflict, "no_ontology", "project \(id) has no ontology: attach one before writing labels",
                           details: [("field", .string("ontologyId"))])
        }
        let bytes = Array(buffer: try await request.body.collect(upTo: Self.maxBody))
        guard OntologyStructure.jsonDepth(bytes) <= OntologyStructure.maxJSONDepth, let body = JSONValue.parse(bytes), case .object = body else {
            throw APIError(.unprocessableContent, "invalid_body", "send the label row as a JSON object (the shape GET answers), nested at most \(OntologyStructure.maxJSONDepth) levels")
        }
        let storedRow = ctx.stored.flatMap { JSONValue.parse(Array($0.utf8)) }
        let existing = storedRow.map(LabelRowDocument.featureHashes) ?? []
        let issues = LabelRowValidator.validate(body, ontology: OntologyIndex(structure: structure), media: ctx.facts.media, existing: existing)
        if let first = issues.first {
            throw APIError(.unprocessableContent, "invalid_label_row", "\(issues.count) problem(s), e.g. \(first)",
                           details: [("errors", .array(issues.map { .object([("path", .string($0.path)), ("message", .string($0.message))]) }))])
        }
        // Per-label reviews (docs/labels.md): without the review permission, only RESOLVED may be added.
        if let email = caller.userEmail, let wrong = LabelReviews.misattributed(stored: storedRow, new: body, writer: email) {
            throw APIError(.unprocessableContent, "invalid_label_row", "\(wrong)",
                           details: [("errors", .array([.object([("path", .string(wrong.path)), ("message", .string(wrong.message))])]))])
        }
        if !(access.allows(.review) || access.allows(.controlTasks)), let wrong = LabelReviews.annotatorViolation(stored: storedRow, new: body) {
            throw APIError(.forbidden, "review_forbidden", "\(wrong)",
                           details: [("errors", .array([.object([("path", .string(wrong.path)), ("message", .string(wrong.message))])]))])
        }
        let now = Date().timeIntervalSince1970
        let labelHash = ctx.labelHash ?? UUID().uuidString.lowercased()
        let row = LabelRowDocument.saved(body, facts: ctx.facts, labelHash: labelHash, createdAt: ctx.createdAt ?? now, now: now)
        let text = row.compactText
        let status = row["label_status"]?.stringValue ?? "NOT_LABELLED"
        let actor = caller.userEmail
        let outcome = try await pool.run {
            try Self.store($0).saveLabelRow(projectID: id, dataHash: hash, expected: expected, row: text, labelHash: labelHash,
                                            labelStatus: status, actor: actor)
        }
        switch outcome {
        case .saved(let version): return Self.withETag(text, version: version)
        case .stale(let current): throw Self.stale(current: current)
        case .notFound: throw APIError.notFound("data unit", hash)
        }
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.view, on: id, "reading label rows", context: context)
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        var filter = LabelRowFilter()
        if let stage = request.uri.queryParameters.get("stage"), !stage.isEmpty {
            let graph = try await TaskRoutes(pool: pool).graph(id, tenantID: caller.tenantID)
            filter.stage = try TaskRoutes.stage(stage, in: graph).uuid
        }
        filter.labelStatuses = try TaskRoutes.list(request, "labelStatus").map { raw in
            guard Self.labelStatuses.contains(raw.uppercased()) else {
                throw APIError.badRequest("labelStatus: \(raw) is not one of \(Self.labelStatuses.joined(separator: ", "))", field: "labelStatus")
            }
            return raw.uppercased()
        }
        let scope = ["label-rows", caller.tenantID, id.lowercased(), filter.stage ?? ""]
        let after = try PageTokens.key(request.uri.queryParameters.get("pageToken"), scope: scope)?.first.map { raw in
            guard let v = Int64(raw) else { throw APIError.badRequest("pageToken is not one this API gave", field: "pageToken") }
            return v
        }
        let query = filter
        let page = try await pool.run { try Self.store($0).labelRows(projectID: id, filter: query, after: after, limit: limit) }
        let items = page.rows.map { item -> String in
            switch item {
            case .stored(let text): return text
            case .unsaved(let facts): return LabelRowDocument.empty(facts).compactText
            }
        }
        let next = PageTokens.token(page.next.map { [String($0)] }, scope: scope)
        return JSONResponse.ok("{\"results\":[" + items.joined(separator: ",") + "],\"nextPageToken\":"
                               + (next.map { JSONValue.string($0).compactText } ?? "null") + "}")
    }
}
