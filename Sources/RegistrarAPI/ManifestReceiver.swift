import Foundation
import Hummingbird
import RegistrarCore

/// Streams an uploaded manifest to a temporary file: never held in memory, capped in size,
/// gunzipped on the fly when sent with `Content-Encoding: gzip` (or as `application/gzip`).
///
/// The cap (`maxBytes`) applies to the body as sent and to the manifest once inflated: a
/// `Content-Length` above it is refused before any byte is read, and an inflating body the
/// moment it crosses it (the rest is neither inflated nor written). Inflation and the writes
/// it makes run on `SpoolThreads`, never on an event loop or the cooperative pool.
struct ManifestReceiver {
    /// Manifest bytes after decompression (1M URLs of JSON are ~160 MB).
    let maxBytes: Int
    let directory: String

    /// Inflated bytes one `SpoolThreads` job produces before it yields the thread to another upload.
    static let inflateSlice = 8 << 20

    struct Received {
        var path: String
        var bytes: Int
    }

    /// 413 at once for a body whose declared length is over the cap, before reading any of it.
    func checkDeclaredLength(_ contentLength: String?) throws {
        guard let text = contentLength?.trimmingCharacters(in: .whitespaces), let length = Int(text), length > maxBytes else { return }
        throw APIError(.contentTooLarge, "payload_too_large", "the body is larger than \(maxBytes) bytes (Content-Length: \(length))",
                       details: [("maxBytes", .number(String(maxBytes))), ("contentLength", .number(String(length)))])
    }

    func receive(_ body: RequestBody, gzip: Bool) async throws -> Received {
        let spool = try ManifestSpool(directory: directory, maxBytes: maxBytes, gzip: gzip)
        var ok = false
        defer { if !ok { spool.discard() } }
        if gzip {
            let threads = SpoolThreads.shared
            for try await chunk in body {
                try spool.countSent(chunk.readableBytes)
                var done = try await threads.run { try spool.inflate(chunk, budget: Self.inflateSlice) }
                while !done { done = try await threads.run { try spool.inflate(nil, budget: Self.inflateSlice) } }
            }
            try await threads.run { try spool.finishGzip() }
        } else {
            for try await chunk in body { try spool.write(chunk) }
        }
        ok = true
        return Received(path: spool.path, bytes: spool.close())
    }

    /// The manifest format from the request's Content-Type; nil for anything else (415).
    static func format(contentType: String?) -> ManifestFormat? {
        switch mediaType(contentType) {
        case "application/json", "text/json": return .json
        case "text/csv", "application/csv": return .csv
        default: return nil
        }
    }

    /// Whether the Content-Type says the body is a gzip file (the manifest inside, format unsaid).
    static func isGzipType(_ contentType: String?) -> Bool {
        let type = mediaType(contentType)
        return type == "application/gzip" || type == "application/x-gzip"
    }

    private static func mediaType(_ contentType: String?) -> String? {
        contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// One upload's spool file and, for gzip bodies, its inflater. Used by one task at a time:
/// `ManifestReceiver` awaits each `SpoolThreads` job before the next (hence `@unchecked Sendable`).
final class ManifestSpool: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    let gzip: Bool
    private let handle: FileHandle
    private let inflater: GzipInflater?
    private var sent = 0
    private var written = 0

    init(directory: String, maxBytes: Int, gzip: Bool) throws {
        path = directory + "/registrar-upload-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, "internal_error", "cannot create a temporary file for the upload")
        }
        self.handle = handle
        self.maxBytes = maxBytes
        self.gzip = gzip
        do {
            inflater = gzip ? try GzipInflater() : nil
        } catch {
            try? handle.close()
            unlink(path)
            throw APIError(.internalServerError, "internal_error", "cannot start a gzip decoder")
        }
    }

    /// Compressed bytes count against the cap too: a stream of empty gzip members inflates to
    /// nothing and would otherwise be read forever.
    func countSent(_ n: Int) throws {
        sent += n
        if sent > maxBytes {
            throw APIError(.contentTooLarge, "payload_too_large", "the body is larger than \(maxBytes) bytes",
                           details: [("maxBytes", .number(String(maxBytes)))])
        }
    }

    /// Appends manifest bytes; refuses the one that crosses the cap.
    func write(_ buffer: ByteBuffer) throws {
        written += buffer.readableBytes
        if written > maxBytes {
            throw APIError(.contentTooLarge, "payload_too_large",
                           "the manifest is larger than \(maxBytes) bytes\(gzip ? " once decompressed" : "")",
                           details: [("maxBytes", .number(String(maxBytes)))])
        }
        do {
            try buffer.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
        } catch {
            throw APIError(.internalServerError, "internal_error", "cannot write the upload to a temporary file")
        }
    }

    /// Feeds a compressed chunk (nil: none, go on with what is queued) and inflates about
    /// `budget` bytes of it; true when all queued input is inflated.
    func inflate(_ chunk: ByteBuffer?, budget: Int) throws -> Bool {
        guard let inflater else { preconditionFailure("inflate on a plain upload") }
        if let chunk { inflater.feed(chunk) }
        do {
            return try inflater.inflate(budget: budget) { try write($0) }
        } catch let failure as GzipInflater.Failure {
            throw Self.invalid(failure)
        }
    }

    /// The body ended: the gzip stream must have ended too.
    func finishGzip() throws {
        guard let inflater else { return }
        do { try inflater.finish() } catch let failure as GzipInflater.Failure { throw Self.invalid(failure) }
    }

    static func invalid(_ failure: GzipInflater.Failure) -> APIError {
        let offset: Int
        switch failure {
        case .corrupt(let o), .truncated(let o): offset = o
        }
        return APIError(.badRequest, "invalid_gzip", "the body is not valid gzip: \(failure)",
                        details: [("offset", .number(String(offset)))])
    }

    /// Closes the file (kept); returns the manifest's size.
    func close() -> Int {
        try? handle.close()
        return written
    }

    /// Closes and removes the file (a refused or failed upload).
    func discard() {
        try? handle.close()
        unlink(path)
    }
}
