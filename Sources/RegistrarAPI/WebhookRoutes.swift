import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// A project's webhooks (docs/workflows.md, "Webhooks"): create on an Annotate, DONE or Agent
/// stage (the signing secret is answered once, here), list, delete, the delivery log, and
/// re-driving dead events. Every route needs `administer` on the project.
struct WebhookRoutes {
    let pool: BlockingPool
    /// The fetch allow-list (`REGISTRAR_FETCH_ALLOW`): the same address rules as deliveries.
    let fetchAllow: String
    var authorizer: ProjectAuthorizer { ProjectAuthorizer(pool: pool) }

    func register(on group: RouterGroup<APIContext>) {
        group.post("/projects/{id}/webhooks", use: create)
        group.get("/projects/{id}/webhooks", use: list)
        group.delete("/projects/{id}/webhooks/{wid}", use: delete)
        group.get("/projects/{id}/webhooks/{wid}/deliveries", use: deliveries)
        group.post("/projects/{id}/webhooks/{wid}/redeliver", use: redeliver)
    }

    /// The store's webhook side (a store without it answers 501).
    static func store(_ backends: any APIBackends) throws -> any WebhookStore {
        guard let hooks = try backends.registry() as? any WebhookStore else {
            throw APIError(.notImplemented, "not_supported", "this deployment's store keeps no webhooks")
        }
        return hooks
    }

    /// 32 random bytes, hex: the HMAC key.
    static func newSecret() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0 ... 255, using: &g)) }.joined()
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (caller, _) = try await authorizer.require(.administer, on: id, "adding a webhook", context: context)
        let body = try await JSONBody.read(request, hint: "{\"stage\": \"…\", \"url\": \"https://…\"}")
        let stageRef = try body.requiredText("stage", max: 200)
        let url = try body.requiredText("url", max: 2048)
        let graph = try await TaskRoutes(pool: pool).graph(id, tenantID: caller.tenantID)
        guard let node = graph.stage(stageRef) else {
            let names = graph.holdingStages.map { "\($0.title ?? $0.uuid) (\($0.uuid))" }.joined(separator: ", ")
            throw JSONBody.invalid("stage", "no stage \(stageRef) in this workflow; its stages are \(names)")
        }
        guard WebhookEventType.forStage(node.type) != nil else {
            throw JSONBody.invalid("stage", "\(node.title ?? node.uuid) is a \(node.type.rawValue) stage; webhooks go on ANNOTATION (task_submitted_event), DONE (task_completed_event) or AGENT (agent_stage_work_available_event) stages")
        }
        let policy: AddressPolicy
        do { policy = try AddressPolicy(allowList: fetchAllow) } catch {
            throw APIError(.internalServerError, "internal_error", "the deployment's fetch allow-list does not parse")
        }
        if case .failure(let refusal) = WebhookURLCheck.check(url, policy: policy) {
            throw JSONBody.invalid("url", refusal.message, extra: [("code", .string(refusal.code))])
        }
        let secret = Self.newSecret()
        let new = NewWebhook(tenantID: caller.tenantID, projectID: id, stage: node.uuid.lowercased(), stageType: node.type, url: url,
                             secret: secret, createdBy: caller.userEmail)
        let hook = try await pool.run { try Self.store($0).createWebhook(new) }
        guard case .object(var fields) = hook.json else { throw APIError(.internalServerError, "internal_error", "webhook answer") }
        fields.insert(("secret", .string(secret)), at: 1)
        return JSONResponse.ok(JSONValue.object(fields).compactText, status: .created)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await authorizer.require(.administer, on: id, "listing webhooks", context: context)
        let hooks = try await pool.run { try Self.store($0).webhooks(projectID: id) }
        return JSONResponse.ok(JSONValue.object([("results", .array(hooks.map(\.json)))]).compactText)
    }

    func existing(_ projectID: String, _ webhookID: String) async throws -> Webhook {
        guard let hook = try await pool.run({ try Self.store($0).webhook(projectID: projectID, id: webhookID) }) else {
            throw APIError.notFound("webhook", webhookID)
        }
        return hook
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id"), wid = try context.parameters.require("wid")
        try await authorizer.require(.administer, on: id, "deleting a webhook", context: context)
        guard try await pool.run({ try Self.store($0).deleteWebhook(projectID: id, id: wid) }) else { throw APIError.notFound("webhook", wid) }
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id"), wid = try context.parameters.require("wid")
        try await authorizer.require(.administer, on: id, "reading a webhook's deliveries", context: context)
        let hook = try await existing(id, wid)
        var limit = 100
        if let raw = request.uri.queryParameters.get("limit") {
            guard let n = Int(raw), (1...1000).contains(n) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000", field: "limit") }
            limit = n
        }
        let count = limit
        let events = try await pool.run { try Self.store($0).webhookEvents(webhookID: hook.id, limit: count) }
        return JSONResponse.ok(JSONValue.object([("webhook", .string(hook.id)), ("results", .array(events.map(\.json)))]).compactText)
    }

    @Sendable func redeliver(_ request: Request, context: APIContext) async throws -> Response {
        let id = try context.parameters.require("id"), wid = try context.parameters.require("wid")
        try await authorizer.require(.administer, on: id, "re-driving a webhook's dead events", context: context)
        let hook = try await existing(id, wid)
        let n = try await pool.run { try Self.store($0).redeliverDead(webhookID: hook.id) }
        return JSONResponse.ok(JSONValue.object([("webhook", .string(hook.id)), ("requeued", .number(String(n)))]).compactText)
    }
}
