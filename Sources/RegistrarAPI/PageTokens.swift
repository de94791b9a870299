import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// The cursors of the API's paged listings (`PageCursor`): each listing names its scope — the
/// tenant and the parent object — so a token is only ever good for the list that gave it, and
/// anything else (garbage, another tenant's token, a raw id) is the same `400 invalid_parameter`.
enum PageTokens {
    /// The key a `cursor` parameter carries, nil when absent (or empty: the first page).
    static func key(_ raw: String?, scope: [String], columns: Int = 1) throws -> [String]? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let cursor = PageCursor.decode(raw, scope: scope, keyColumns: columns) else {
            throw APIError.badRequest("cursor is not one this API gave", field: "cursor")
        }
        return cursor.key
    }

    /// The `nextCursor` token for a last-row key.
    static func token(_ key: [String]?, scope: [String]) -> String? {
        key.map { PageCursor(key: $0).token(scope: scope) }
    }

    static func uploads(_ tenantID: String) -> [String] { ["uploads", tenantID] }
    static func folders(_ tenantID: String) -> [String] { ["folders", tenantID] }
    static func files(_ tenantID: String, folderID: String) -> [String] { ["files", tenantID, folderID.lowercased()] }
    static func errors(_ tenantID: String, jobID: String) -> [String] { ["errors", tenantID, jobID.lowercased()] }

    /// An uploads cursor's key as the registry's position (creation time in µs, id).
    static func jobPosition(_ key: [String]?) throws -> JobPosition? {
        guard let key else { return nil }
        guard key.count == 2, let micros = Int64(key[0]), UUIDText.isValid(key[1]) else {
            throw APIError.badRequest("cursor is not one this API gave", field: "cursor")
        }
        return JobPosition(createdMicros: micros, id: key[1])
    }
}

extension PageTokens {
    /// A listing paged by one key (a name, an id): reads `limit` and `cursor` (a token bound to
    /// `scope`), loads the page after the cursor's key and answers it with the next token.
    static func keyedPage(_ request: Request, scope: [String],
                          load: @escaping @Sendable (_ after: String?, _ limit: Int) async throws -> JSONPage) async throws -> Response {
        let limit = try QueryFlag.limit(request.uri.queryParameters.get("limit"))
        let cursor = try key(request.uri.queryParameters.get("cursor"), scope: scope)?[0]
        let page = try await load(cursor, limit)
        return JSONResponse.page(page.items, next: token(page.nextCursor.map { [$0] }, scope: scope))
    }
}
