import Foundation
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `/v1/uploads/{id}/errors`: per-unit errors, paged as JSON or downloaded whole as JSON Lines
/// or CSV (streamed page by page, so a million-row report never sits in memory).
struct ErrorRoutes {
    let pool: BlockingPool

    func register(on group: RouterGroup<APIContext>) {
        group.get("/uploads/{id}/errors", use: errors)
    }

    @Sendable func errors(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let jobID = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let code = query.get("code")
        let format = query.get("format") ?? "json"
        guard ["json", "jsonl", "csv"].contains(format) else { throw APIError.badRequest("format must be json, jsonl or csv", field: "format") }
        // unit_index is a PostgreSQL integer: a larger cursor is none this API gave (and would fail the query).
        let scope = PageTokens.errors(tenant.tenantID, jobID: jobID)
        let after = Int(try QueryFlag.numericCursor(try PageTokens.key(query.get("cursor"), scope: scope)?[0], from: -1, upTo: Int64(Int32.max)))
        let limit = try QueryFlag.limit(query.get("limit"))
        let first: (JSONPage, [(code: String, count: Int)])? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.loadJob(jobID, tenantID: tenant.tenantID) != nil else { return nil }
            let page = try registry.errorsPage(jobID: jobID, code: code, after: after, limit: format == "json" ? limit : 1000)
            return (page, format == "json" ? try registry.errorCodes(jobID: jobID) : [])
        }
        guard let (page, codes) = first else { throw APIError.notFound("upload", jobID) }
        if format == "json" {
            return JSONResponse.page(page.items, next: PageTokens.token(page.nextCursor.map { [$0] }, scope: scope),
                                     extra: [("codes", JSONValue.object(codes.map { ($0.code, .number(String($0.count))) }).compactText)])
        }
        // Downloads: the first page is in hand; the rest streams.
        let pool = self.pool
        let csv = format == "csv"
        let body = ResponseBody { writer in
            if csv { try await writer.write(ByteBuffer(string: CSVWriter.row(["unit", "code", "message", "action", "object_urls"]))) }
            var page = page
            while true {
                var text = ""
                for item in page.items { text += csv ? (UnitErrorRow(json: item)?.csv ?? "") : item + "\n" }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                guard let next = page.nextCursor, let n = Int(next) else { break }
                page = try await pool.run { try $0.registry().errorsPage(jobID: jobID, code: code, after: n, limit: 1000) }
            }
            try await writer.finish(nil)
        }
        let ext = csv ? "csv" : "jsonl"
        return Response(status: .ok, headers: [
            .contentType: csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
            .contentDisposition: "attachment; filename=\"errors-\(jobID).\(ext)\"",
        ], body: body)
    }
}
