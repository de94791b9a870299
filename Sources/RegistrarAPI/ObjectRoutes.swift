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
        init(_ source: any ByteSource) { self.source = source }
        func next() throws -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            return Array(buffer[0..<n])
        }
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
        let body = ResponseBody(contentLength: Int(object.size)) { writer in
            while true {
                let piece = try await pool.run { _ in try reader.next() }
                if piece.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: object.contentType, .cacheControl: "private, max-age=60"]
        headers[HTTPField.Name("X-Content-SHA256")!] = object.sha256
        return Response(status: .ok, headers: headers, body: body)
    }
}
