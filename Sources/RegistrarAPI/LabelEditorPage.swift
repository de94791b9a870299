import Foundation
import HTTPTypes
import Hummingbird
import RegistrarCore

/// The label editor for people (docs/editor.md): `GET /label/` (the signed-in person's projects
/// and the stages they may work on, with counts) and `GET /label/{projectId}` (the editor).
///
/// Both are static shells served after the status page's sign-in (the same `registrar_key`
/// cookie); everything they show and change goes through the public `/v1` API from the page's
/// script, which the cookie authenticates (writes are same-origin only, `RequestTrust`). The
/// server renders no project data here, so the editor is the API's client, not a back door.
struct LabelEditorPage {
    let page: StatusPage

    func register(on router: Router<APIContext>) {
        router.get("/label/", use: projects)
        router.get("/label/{projectId}", use: editor)
    }

    @Sendable func projects(_ request: Request, context: APIContext) async throws -> Response {
        try await serve(request, context, next: "/label/") { nonce, tenant in
            LabelEditorHTML.projects(nonce: nonce, tenant: tenant)
        }
    }

    @Sendable func editor(_ request: Request, context: APIContext) async throws -> Response {
        let projectID = try context.parameters.require("projectId")
        guard UUIDText.isValid(projectID) else {
            let nonce = StatusPage.nonce()
            return Self.html(StatusPageHTML.problem(nonce: nonce, tenant: nil, title: "Bad link",
                                                    message: "That is not a project id (a UUID)."), nonce: nonce, status: .notFound)
        }
        // After sign-in the person comes back to the same stage (only a UUID is carried over).
        var next = "/label/\(projectID.lowercased())"
        if let stage = request.uri.queryParameters.get("stage"), UUIDText.isValid(String(stage)) { next += "?stage=\(String(stage).lowercased())" }
        return try await serve(request, context, next: next) { nonce, tenant in
            LabelEditorHTML.editor(nonce: nonce, tenant: tenant, projectID: projectID.lowercased())
        }
    }

    /// Signs the person in as the status page does, then renders the page.
    func serve(_ request: Request, _ context: APIContext, next: String,
               render: (String, String) -> String) async throws -> Response {
        let nonce = StatusPage.nonce()
        switch await page.signedIn(request, context) {
        case .none: return StatusPage.html(StatusPageHTML.login(nonce: nonce, message: nil, next: next), nonce: nonce, status: .unauthorized)
        case .invalid: return StatusPage.expired(nonce: nonce, next: next)
        case .unavailable: return StatusPage.unavailable(nonce: nonce, tenant: nil)
        case .limited(let s): return StatusPage.limited(nonce: nonce, seconds: s)
        case .principal(let who): return Self.html(render(nonce, who.tenantName), nonce: nonce)
        }
    }

    /// A `next` after sign-in that is one of the editor's own pages, else nil.
    static func safePath(_ raw: String) -> String? {
        if raw == "/label/" || raw == "/label" { return "/label/" }
        guard raw.hasPrefix("/label/") else { return nil }
        let rest = raw.dropFirst("/label/".count).split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard UUIDText.isValid(String(rest[0])) else { return nil }
        let page = "/label/\(rest[0].lowercased())"
        guard rest.count == 2 else { return page }
        // The one query the editor takes: `stage=<uuid>`; anything else is dropped.
        let query = rest[1]
        guard query.hasPrefix("stage="), UUIDText.isValid(String(query.dropFirst(6))) else { return page }
        return page + "?stage=" + query.dropFirst(6).lowercased()
    }

    /// The status page's headers, except that media may come from wherever the data unit's
    /// link points (a bucket's signed URL, Registrar's own `/v1/objects` link, a public URL):
    /// `img-src` and `media-src` (videos) allow any http(s) origin; scripts, styles and connections stay this site's.
    static func html(_ text: String, nonce: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = StatusPage.html(text, nonce: nonce, status: status)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'unsafe-inline'; "
            + "connect-src 'self'; img-src 'self' data: blob: http: https:; media-src 'self' blob: http: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return response
    }
}
