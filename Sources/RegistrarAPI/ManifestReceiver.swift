import CompressNIO
import Foundation
import Hummingbird
import RegistrarCore

/// Streams an uploaded manifest to a temporary file: never held in memory, capped in size,
/// gunzipped on the fly when sent with `Content-Encoding: gzip` (or as `application/gzip`).
struct ManifestReceiver {
    /// Manifest bytes after decompression (1M URLs of JSON are ~160 MB).
    let maxBytes: Int
    let directory: String

    struct Received {
        var path: String
        var bytes: Int
    }

    func receive(_ body: RequestBody, gzip: Bool) async throws -> Received {
        let path = directory + "/registrar-upload-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, "internal_error", "cannot create a temporary file for the upload")
        }
        var ok = false
        defer {
            try? handle.close()
            if !ok { unlink(path) }
        }
        var written = 0
        func write(_ buffer: ByteBuffer) throws {
            written += buffer.readableBytes
            if written > maxBytes {
                throw APIError(.contentTooLarge, "payload_too_large",
                               "the manifest is larger than \(maxBytes) bytes\(gzip ? " once decompressed" : "")",
                               details: [("maxBytes", .number(String(maxBytes)))])
            }
            buffer.withUnsafeReadableBytes { handle.write(Data($0)) }
        }
        if gzip {
            let decompressor = try ZlibDecompressor(algorithm: .gzip)
            var window = ByteBufferAllocator().buffer(capacity: 1 << 16)
            do {
                for try await var chunk in body {
                    try chunk.decompressStream(with: decompressor, window: &window) { try write($0) }
                }
            } catch let error as CompressNIOError {
                throw APIError(.badRequest, "invalid_gzip", "the body is not valid gzip (\(error))")
            }
        } else {
            for try await chunk in body { try write(chunk) }
        }
        ok = true
        return Received(path: path, bytes: written)
    }

    /// The manifest format from the request's Content-Type; nil for anything else (415).
    static func format(contentType: String?) -> ManifestFormat? {
        guard let raw = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return nil }
        switch raw {
        case "application/json", "text/json": return .json
        case "text/csv", "application/csv": return .csv
        default: return nil
        }
    }
}
