import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/integrations…`: the tenant's cloud storage integrations. Credentials go in, sealed with
/// the key ring (`REGISTRAR_ENCRYPTION_KEYS`), and never come out: answers show kind, name,
/// non-secret settings and the id of the key that seals them.
struct IntegrationRoutes {
    let pool: BlockingPool
    let tester: any IntegrationTester
    let keyRing: @Sendable () throws -> EncryptionKeyRing

    func register(on group: RouterGroup<APIContext>) {
        group.post("/integrations", use: create)
        group.get("/integrations", use: list)
        group.get("/integrations/{id}", use: get)
        group.delete("/integrations/{id}", use: delete)
        group.post("/integrations/{id}/test", use: test)
    }

    static func json(_ i: StoredIntegration) -> String {
        JSONValue.object([("id", .string(i.id)), ("name", .string(i.name)), ("kind", .string(i.kind.rawValue)),
                          ("settings", i.settings.json), ("keyId", .string(i.keyID)), ("createdAt", .string(i.createdAt))]).compactText
    }

    /// `{"kind", "name", "credentials": {…the credentials file's object…}, "buckets": [...]}`.
    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let value = JSONValue.parse(Array(buffer: body)), case .object = value, !value.containsNUL else {
            throw APIError(.unprocessableContent, "invalid_body", "send {\"kind\", \"name\", \"credentials\": {…}} as a JSON object")
        }
        guard case .string(let kindText)? = value["kind"], let kind = IntegrationKind(rawValue: kindText) else {
            throw APIError(.unprocessableContent, "invalid_body", "kind must be one of aws, s3-compatible, gcp, azure, direct",
                           details: [("field", .string("kind"))])
        }
        guard case .string(let rawName)? = value["name"], case let name = rawName.trimmingCharacters(in: .whitespaces),
              !name.isEmpty, name.count <= 200, !name.hasControlCharacter else {
            throw APIError(.unprocessableContent, "invalid_body", "name must be 1-200 characters, none of them control characters", details: [("field", .string("name"))])
        }
        // The credentials object reads exactly like `integrations add --from-file` (one validator).
        var members: [(key: String, value: JSONValue)] = []
        if case .object(let c)? = value["credentials"] { members = c }
        if let buckets = value["buckets"] { members.append(("buckets", buckets)) }
        let definition: IntegrationDefinition
        do {
            let (fields, buckets) = try IntegrationDefinition.fields(fromFile: Array(JSONValue.object(members).compactText.utf8))
            definition = try IntegrationDefinition.build(kind: kind, fields: fields, buckets: buckets)
        } catch {
            throw APIError(.unprocessableContent, "invalid_credentials", "\(error)", details: [("field", .string("credentials"))])
        }
        let ring: EncryptionKeyRing
        do { ring = try keyRing() } catch {
            throw APIError(.serviceUnavailable, "encryption_unavailable", "this API server has no credential encryption key configured")
        }
        do {
            let stored = try await pool.run { try $0.registry().addIntegration(name: name, definition: definition, ring: ring, tenantID: tenant.tenantID) }
            return JSONResponse.ok(Self.json(stored), status: .created)
        } catch let e as IntegrationStoreError {
            throw APIError(.conflict, "integration_exists", e.description, details: [("name", .string(name))])
        }
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let all = try await pool.run { try $0.registry().integrations(tenantID: tenant.tenantID) }
        return JSONResponse.page(all.map(Self.json), next: nil)
    }

    func find(_ id: String, _ tenant: Principal) async throws -> StoredIntegration {
        guard let stored = try await pool.run({ try $0.registry().integration(id: id, tenantID: tenant.tenantID) }) else {
            throw APIError.notFound("integration", id)
        }
        return stored
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        JSONResponse.ok(Self.json(try await find(try context.parameters.require("id"), try context.tenant())))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let stored = try await find(try context.parameters.require("id"), tenant)
        do {
            _ = try await pool.run { try $0.registry().removeIntegration(name: stored.name, tenantID: tenant.tenantID) }
        } catch let e as IntegrationStoreError {
            throw APIError(.conflict, "integration_in_use", e.description)
        }
        return Response(status: .noContent)
    }

    /// `{"url": "…"}` → what a worker would derive and fetch (`ok` false with a code when it cannot).
    @Sendable func test(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let stored = try await find(try context.parameters.require("id"), tenant)
        let body = try await request.body.collect(upTo: 64 << 10)
        guard case .string(let url)? = JSONValue.parse(Array(buffer: body))?["url"], !url.isEmpty, !url.contains("\u{0}") else {
            throw APIError(.unprocessableContent, "invalid_body", "send {\"url\": \"…\"}", details: [("field", .string("url"))])
        }
        let secret: IntegrationSecret
        do { secret = try stored.decryptSecret(ring: try keyRing()) } catch {
            throw APIError(.serviceUnavailable, "encryption_unavailable", "the integration's credentials cannot be opened on this API server")
        }
        let tester = self.tester
        let report = try await pool.run { _ in try tester.test(stored, secret: secret, url: url) }
        return JSONResponse.ok(report)
    }
}
