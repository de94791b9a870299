import Foundation
import HTTPTypes
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// The status page for people: `GET /` (the tenant's uploads), `GET /uploads/{id}` (one upload
/// with its errors), `POST /login`, `POST /logout`.
///
/// The API key is the only credential: the login form posts it once, the server checks it exactly
/// as `AuthMiddleware` does and keeps it in the `registrar_key` cookie (HttpOnly, SameSite=Strict,
/// Secure over https). The same cookie authenticates the `/v1` calls the page makes (event
/// streams, error downloads), so the page's script never handles the key. Pages are rendered
/// on the server from the same snapshots the JSON API serves; the numbers are the pipeline's.
struct StatusPage {
    let pool: BlockingPool
    let auth: AuthMiddleware

    static let cookieName = "registrar_key"
    /// Uploads per page of the list, errors per page of an upload.
    static let uploadsPerPage = 50
    static let errorsPerPage = 100
    /// Folders offered in the "New upload" form's list (by name; a new name can always be typed).
    static let foldersInForm = 500
    /// Datasets and projects listed on the first page (the CLI and API list them all).
    static let catalogRows = 20
    /// How long the browser keeps the key (a revoked key stops working anyway, within the
    /// principal cache's seconds).
    static let cookieMaxAge = 12 * 3600

    func register(on router: Router<APIContext>) {
        router.get("/", use: index)
        router.get("/uploads/{id}", use: upload)
        router.post("/login", use: login)
        router.post("/logout", use: logout)
    }

    // MARK: Pages

    @Sendable func index(_ request: Request, context: APIContext) async throws -> Response {
        let nonce = Self.nonce()
        let who: Principal
        switch await signedIn(request, context) {
        case .none: return Self.html(StatusPageHTML.login(nonce: nonce, message: nil, next: "/"), nonce: nonce)
        case .invalid: return Self.expired(nonce: nonce, next: "/")
        case .unavailable: return Self.unavailable(nonce: nonce, tenant: nil)
        case .limited(let s): return Self.limited(nonce: nonce, seconds: s)
        case .principal(let p): who = p
        }
        let rawCursor = request.uri.queryParameters.get("cursor").flatMap { $0.isEmpty ? nil : $0 }
        let tenantID = who.tenantID
        // The same tokens as `GET /v1/uploads`: bound to the tenant, carrying their own position.
        let scope = PageTokens.uploads(tenantID)
        let cursor: JobPosition?
        do { cursor = try PageTokens.jobPosition(try PageTokens.key(rawCursor, scope: scope, columns: 2)) } catch {
            return Self.html(StatusPageHTML.problem(nonce: nonce, tenant: who.tenantName, title: "Bad link",
                                                    message: "That page of uploads does not exist (bad cursor)."),
                             nonce: nonce, status: .badRequest)
        }
        let limit = Self.uploadsPerPage
        let folderLimit = Self.foldersInForm
        let page: ([UploadSnapshot], String?, [StatusPageHTML.FolderOption], StatusPageHTML.Catalog?)
        // Members see the projects they collaborate on; admins and service keys all of them.
        let visibleTo = who.workspaceRole == .admin ? nil : (who.userID ?? "")
        let isFirstPage = cursor == nil
        do {
            page = try await pool.run { backends in
                let registry = try backends.registry()
                let ids = try registry.jobIDs(tenantID: tenantID, status: nil, folderID: nil, after: cursor, limit: limit)
                // Just ids and names for the form's <select> (the API's folder objects carry
                // per-folder counts, too costly for every page view).
                let folders = try registry.folderNames(tenantID: tenantID, limit: folderLimit)
                    .map { StatusPageHTML.FolderOption(id: $0.id, name: $0.name) }
                // The catalog on the first page: the newest datasets and projects with their counts.
                var catalog = isFirstPage ? StatusPageHTML.Catalog(
                    datasets: try registry.datasets(tenantID: tenantID, after: nil, limit: Self.catalogRows).items,
                    projects: try registry.projects(tenantID: tenantID, visibleTo: visibleTo, after: nil, limit: Self.catalogRows).items) : nil
                if let projects = catalog?.projects { catalog?.stages = try StatusPageStages.load(projects: projects, registry: registry) }
                return (try ids.ids.compactMap { try UploadSnapshot.load(jobID: $0, tenantID: tenantID, backends: backends) },
                        PageTokens.token(ids.next.map { [String($0.createdMicros), $0.id] }, scope: scope), folders, catalog)
            }
        } catch {
            return Self.unavailable(nonce: nonce, tenant: who.tenantName)
        }
        let html = StatusPageHTML.uploads(nonce: nonce, tenant: who.tenantName, items: page.0.map(UploadView.init),
                                          next: page.1, isFirstPage: isFirstPage, folders: page.2, catalog: page.3)
        return Self.html(html, nonce: nonce)
    }

    @Sendable func upload(_ request: Request, context: APIContext) async throws -> Response {
        let nonce = Self.nonce()
        let jobID = try context.parameters.require("id")
        let here = UUIDText.isValid(jobID) ? "/uploads/\(jobID.lowercased())" : "/"
        let who: Principal
        switch await signedIn(request, context) {
        case .none: return Self.html(StatusPageHTML.login(nonce: nonce, message: nil, next: here), nonce: nonce, status: .unauthorized)
        case .invalid: return Self.expired(nonce: nonce, next: here)
        case .unavailable: return Self.unavailable(nonce: nonce, tenant: nil)
        case .limited(let s): return Self.limited(nonce: nonce, seconds: s)
        case .principal(let p): who = p
        }
        let query = request.uri.queryParameters
        let code = query.get("code").flatMap { $0.isEmpty ? nil : $0 }
        var after = -1
        if let c = query.get("cursor"), !c.isEmpty {
            guard let n = Int(c), n >= -1 else {
                return Self.html(StatusPageHTML.problem(nonce: nonce, tenant: who.tenantName, title: "Bad link",
                                                        message: "That page of errors does not exist (bad cursor)."),
                                 nonce: nonce, status: .badRequest)
            }
            after = n
        }
        let tenantID = who.tenantID
        let start = after
        let limit = Self.errorsPerPage
        let loaded: (UploadSnapshot, [(code: String, count: Int)], JSONPage)?
        do {
            loaded = try await pool.run { backends in
                guard let snapshot = try UploadSnapshot.load(jobID: jobID, tenantID: tenantID, backends: backends) else { return nil }
                let registry = try backends.registry()
                return (snapshot, try registry.errorCodes(jobID: jobID),
                        try registry.errorsPage(jobID: jobID, code: code, after: start, limit: limit))
            }
        } catch {
            return Self.unavailable(nonce: nonce, tenant: who.tenantName)
        }
        guard let (snapshot, codes, errors) = loaded else {
            return Self.html(StatusPageHTML.problem(nonce: nonce, tenant: who.tenantName, title: "Upload not found",
                                                    message: "Your tenant has no upload with that id."),
                             nonce: nonce, status: .notFound)
        }
        let view = StatusPageHTML.ErrorsView(codes: codes, selected: code, rows: errors.items.compactMap(UnitErrorRow.init(json:)),
                                             after: after, next: errors.nextCursor)
        return Self.html(StatusPageHTML.upload(nonce: nonce, tenant: who.tenantName, u: UploadView(snapshot), errors: view), nonce: nonce)
    }

    // MARK: Sign in and out

    @Sendable func login(_ request: Request, context: APIContext) async throws -> Response {
        let nonce = Self.nonce()
        guard auth.trust.sameOrigin(request, context) else { return Self.forbidden(nonce: nonce) }
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        let form = Self.parseForm(String(buffer: body))
        let next = Self.safeNext(form["next"])
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var principal: Principal?
        do {
            if APIKey.isWellFormed(key) {
                switch try await auth.authenticate(key, client: auth.trust.clientKey(request, context)) {
                case .principal(let p): principal = p
                case .unknown: principal = nil
                case .throttled(let seconds):
                    var r = Self.html(StatusPageHTML.login(nonce: nonce, message: "Too many keys were tried from your address. Try again in \(seconds) s.",
                                                           next: next), nonce: nonce, status: .tooManyRequests)
                    r.headers[.retryAfter] = String(seconds)
                    return r
                }
            }
        } catch {
            return Self.html(StatusPageHTML.login(nonce: nonce, message: "The key could not be checked: the database is unreachable. Try again.",
                                                  next: next), nonce: nonce, status: .serviceUnavailable)
        }
        guard principal != nil else {
            // Never echo the key: the form comes back empty with a message.
            let message = key.isEmpty ? "Enter an API key."
                : APIKey.isWellFormed(key) ? "That API key is not valid (unknown or revoked)."
                : "That is not a Registrar API key: keys start with rgk_ followed by 40 letters and digits."
            return Self.html(StatusPageHTML.login(nonce: nonce, message: message, next: next), nonce: nonce, status: .unauthorized)
        }
        var response = Response(status: .seeOther, headers: [.location: next, .cacheControl: "no-store"])
        response.setCookie(Cookie(name: Self.cookieName, value: key, maxAge: Self.cookieMaxAge, path: "/",
                                  secure: auth.trust.isHTTPS(request, context), httpOnly: true, sameSite: .strict))
        return response
    }

    @Sendable func logout(_ request: Request, context: APIContext) async throws -> Response {
        guard auth.trust.sameOrigin(request, context) else { return Self.forbidden(nonce: Self.nonce()) }
        var response = Response(status: .seeOther, headers: [.location: "/", .cacheControl: "no-store"])
        response.setCookie(Cookie(name: Self.cookieName, value: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
                                  secure: auth.trust.isHTTPS(request, context), httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: Who is asking

    enum SignIn { case none, invalid, unavailable, limited(Int), principal(Principal) }

    /// The cookie's principal, checked (and rate limited) as `AuthMiddleware` checks bearer keys.
    func signedIn(_ request: Request, _ context: APIContext) async -> SignIn {
        guard let key = request.cookies[Self.cookieName]?.value, !key.isEmpty else { return .none }
        guard APIKey.isWellFormed(key) else { return .invalid }
        let found: Principal
        do {
            switch try await auth.authenticate(key, client: auth.trust.clientKey(request, context)) {
            case .principal(let p): found = p
            case .unknown: return .invalid
            case .throttled(let wait): return .limited(wait)
            }
        } catch {
            return .unavailable
        }
        if let wait = auth.limiter.take(found.keyID) { return .limited(wait) }
        return .principal(found)
    }

    // MARK: Helpers

    /// `application/x-www-form-urlencoded` → first value per name.
    static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(kv[0])
            if out[name] == nil { out[name] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }

    /// Where to go after signing in: only this site's own pages (no open redirect).
    static func safeNext(_ raw: String?) -> String {
        if let raw, let page = LabelEditorPage.safePath(raw) { return page }
        guard let raw, raw.hasPrefix("/uploads/") else { return "/" }
        let id = raw.dropFirst("/uploads/".count)
        return UUIDText.isValid(String(id)) ? raw : "/"
    }

    static func nonce() -> String {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }

    static func html(_ text: String, nonce: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'unsafe-inline'; connect-src 'self'; "
                + "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func expired(nonce: String, next: String) -> Response {
        var r = html(StatusPageHTML.login(nonce: nonce, message: "Your API key is no longer valid (revoked or unknown). Sign in with another.",
                                          next: next), nonce: nonce, status: .unauthorized)
        r.setCookie(Cookie(name: cookieName, value: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
                           httpOnly: true, sameSite: .strict))
        return r
    }

    static func limited(nonce: String, seconds: Int) -> Response {
        var r = html(StatusPageHTML.problem(nonce: nonce, tenant: nil, title: "Too many requests",
                                            message: "Too many requests: this API key is over its request rate, or too many keys failed from your address. Try again in \(seconds) s."),
                     nonce: nonce, status: .tooManyRequests)
        r.headers[.retryAfter] = String(seconds)
        return r
    }

    static func unavailable(nonce: String, tenant: String?) -> Response {
        html(StatusPageHTML.problem(nonce: nonce, tenant: tenant, title: "Temporarily unavailable",
                                    message: "PostgreSQL or Redis is unreachable right now. Reload in a moment."),
             nonce: nonce, status: .serviceUnavailable)
    }

    static func forbidden(nonce: String) -> Response {
        html(StatusPageHTML.problem(nonce: nonce, tenant: nil, title: "Refused",
                                    message: "This form was sent from another site."),
             nonce: nonce, status: .forbidden)
    }
}
