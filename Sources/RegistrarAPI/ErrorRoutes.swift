import Foundation
import Hummingbird
import RegistrarCore
import RegistrarPostgres

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
        let after: Int
        if let c = query.get("cursor") {
            // unit_index is a PostgreSQL integer: a larger cursor is none this API gave (and would fail the query).
            guard let n = Int(c), n >= -1, n <= Int(Int32.max) else { throw APIError.badRequest("cursor is not one this API gave", field: "cursor") }
            after = n
        } else {
            after = -1
        }
        let limit = try QueryFlag.limit(query.get("limit"))
        let first: (JSONPage, [(code: String, count: Int)])? = try await pool.run { backends in
            let registry = try backends.registry()
            guard try registry.loadJob(jobID, tenantID: tenant.tenantID) != nil else { return nil }
            let page = try registry.errorsPage(jobID: jobID, code: code, after: after, limit: format == "json" ? limit : 1000)
            return (page, format == "json" ? try registry.errorCodes(jobID: jobID) : [])
        }
        guard let (page, codes) = first else { throw APIError.notFound("upload", jobID) }
        if format == "json" {
            var out = "{\"items\":[" + page.items.joined(separator: ",") + "],\"nextCursor\":"
            out += page.nextCursor.map { JSONValue.string($0).compactText } ?? "null"
            out += ",\"codes\":" + JSONValue.object(codes.map { ($0.code, .number(String($0.count))) }).compactText + "}"
            return JSONResponse.ok(out)
        }
        // Downloads: the first page is in hand; the rest streams.
        let pool = self.pool
        let csv = format == "csv"
        let body = ResponseBody { writer in
            if csv { try await writer.write(ByteBuffer(string: CSVWriter.row(["unit", "code", "message", "action", "object_urls"]))) }
            var page = page
            while true {
                var text = ""
                for item in page.items { text += csv ? Self.csvRow(item) : item + "\n" }
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

    /// One CSV row from an error's JSON object (as PostgreSQL built it).
    static func csvRow(_ json: String) -> String {
        let t = JSONTokenizer(source: MemoryByteSource(json))
        var budget = Int.max
        guard let first = try? t.next(), let v = try? t.readValue(after: first, budget: &budget) else { return "" }
        func s(_ k: String) -> String {
            switch v[k] {
            case .string(let x)?: return x
            case .number(let x)?: return x
            default: return ""
            }
        }
        var urls: [String] = []
        if case .array(let a)? = v["objectUrls"] { urls = a.compactMap { if case .string(let u) = $0 { return u } else { return nil } } }
        return CSVWriter.row([s("unit"), s("code"), s("message"), s("action"), urls.joined(separator: " ")])
    }
}
