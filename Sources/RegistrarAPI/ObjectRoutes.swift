import Foundation
import HTTPTypes
import Hummingbird
import RegistrarCore
import RegistrarRuntime

/// `GET /v1/objects/{key}?expires=…&signature=…`: an object from Registrar's own storage
/// through an expiring signed link (docs/storage.md). No API key: the signature is the
/// permission, so exports, agents and the label editor can hand the link on. Streamed in 1 MiB
/// pieces read on the blocking pool; the answer carries the stored size, SHA-256 and type.
struct ObjectRoutes {
    let pool: BlockingPool
    let links: SignedLink

    func register(on router: Router<APIContext>) {
        router.get("/v1/objects/**", use: get)
    }

    /// The reader of one response, used by one pool call at a time (the body awaits each
    /// piece before asking for the next).
    final class Reader: @unchecked Sendable {
        var source: any ByteSource
        /// Bytes still to serve (a range's length; .max for the whole object).
        var remaining = Int64.max
        init(_ source: any ByteSource) { self.source = source }
        func next() throws -> [UInt8] {
            guard remaining > 0 else { return [] }
            var buffer = [UInt8](repeating: 0, count: Int(min(Int64(1 << 20), remaining)))
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            remaining -= Int64(n)
            return Array(buffer[0..<n])
        }
        /// Reads past the first `count` bytes (a range that starts later).
        func skip(_ count: Int64) throws {
            var left = count
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while left > 0 {
                let n = try buffer.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<Int(min(Int64($0.count), left))])) }
                if n == 0 { break }
                left -= Int64(n)
            }
        }
    }

    /// One `Range: bytes=…` (first-last, first-, or -suffix) within `size`; nil for no header or one
    /// this server ignores (several ranges: the whole object is served, as RFC 9110 allows);
    /// `.unsatisfiable` past the end. Workers' probes read objects by ranges (uploaded files
    /// are registered through these links), and the size comes from `Content-Range`.
    enum ByteRange: Equatable { case range(Int64, Int64), unsatisfiable }
    static func byteRange(_ header: String?, size: Int64) -> ByteRange? {
        guard let header, header.lowercased().hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int64(parts[1]), suffix > 0 else { return nil }
            return size == 0 ? .unsatisfiable : .range(max(0, size - suffix), size - 1)
        }
        guard let first = Int64(parts[0]) else { return nil }
        let last = parts[1].isEmpty ? size - 1 : Int64(parts[1]).map { min($0, size - 1) }
        guard let last, last >= first || first >= size else { return nil }
        return first >= size ? .unsatisfiable : .range(first, last)
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        guard let key = ObjectKey(raw) else { throw APIError.notFound("object", raw) }
        let query = request.uri.queryParameters
        switch links.verify(key, expires: query["expires"].map(String.init), signature: query["signature"].map(String.init),
                            now: Int(Date().timeIntervalSince1970)) {
        case .valid: break
        case .expired: throw APIError(.forbidden, "link_expired", "this link has expired; ask for a new one", details: [("key", .string(key.text))])
        case .badSignature, .malformed:
            throw APIError(.forbidden, "invalid_signature", "the link's signature does not match its key and expiry", details: [("key", .string(key.text))])
        }
        guard let opened = try await pool.run({ backends -> (StoredObject, Reader)? in
            guard let (object, source) = try backends.storage().open(key) else { return nil }
            return (object, Reader(source))
        }) else { throw APIError.notFound("object", key.text) }
        let (object, reader) = opened
        var status = HTTPResponse.Status.ok
        var length = object.size
        var contentRange: String?
        switch Self.byteRange(request.headers[.range], size: object.size) {
        case nil: break
        case .unsatisfiable?:
            var headers: HTTPFields = [.contentRange: "bytes */\(object.size)"]
            headers[.contentType] = "application/json"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .range(let first, let last)?:
            try await pool.run { _ in try reader.skip(first) }
            reader.remaining = last - first + 1
            length = last - first + 1
            status = .partialContent
            contentRange = "bytes \(first)-\(last)/\(object.size)"
        }
        let body = ResponseBody(contentLength: Int(length)) { writer in
            while true {
                let piece = try await pool.run { _ in try reader.next() }
                if piece.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: object.contentType, .cacheControl: "private, max-age=60", .acceptRanges: "bytes"]
        headers[HTTPField.Name("X-Content-SHA256")!] = object.sha256
        if let contentRange { headers[.contentRange] = contentRange }
        return Response(status: status, headers: headers, body: body)
    }
}
