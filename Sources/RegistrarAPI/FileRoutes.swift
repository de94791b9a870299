import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegistrarCore
import RegistrarRuntime

/// Files from a user's disk (docs/uploads.md): `POST /v1/folders/{id}/files` (one streamed file
/// or multipart/form-data with several), the signed-upload flow (`POST
/// /v1/folders/{id}/upload-signed-urls`, `PUT /v1/objects/{key}`, `POST
/// /v1/folders/{id}/files/register`). Bytes stream to a spool file (hashed and capped as they
/// arrive, never whole in memory), are checked, then written to Registrar's storage under a
/// content-addressed key; the files are then registered by a manifest of signed links to
/// `GET /v1/objects/…`, through the same job path as cloud files.
struct FileRoutes {
    let pool: BlockingPool
    let config: APIConfiguration
    let links: SignedLink

    static let fileNameHeader = HTTPField.Name("X-File-Name")!
    static let sha256Header = HTTPField.Name("X-Content-SHA256")!
    /// Registration links do not expire (2100-01-01): the file record keeps its URL, and the
    /// same URL for the same object lets `skip_duplicate_urls` find a file registered before.
    static let registrationExpiry = 4_102_444_800
    /// Upload (PUT) links: one hour.
    static let putLinkSeconds = 3600
    static let maxFilesPerRequest = 1000

    func register(on group: RouterGroup<APIContext>, router: Router<APIContext>) {
        group.post("/folders/{id}/files", use: upload)
        group.post("/folders/{id}/upload-signed-urls", use: signedURLs)
        group.post("/folders/{id}/files/register", use: registerStored)
        router.put("/v1/objects/**", use: put)
    }

    // MARK: POST /v1/folders/{id}/files

    @Sendable func upload(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let folderID = try context.parameters.require("id")
        let query = request.uri.queryParameters
        let options = try RegisterOptions(as: query.get("as"), title: query.get("title"),
                                          ignoreErrors: try QueryFlag.bool(query.get("ignoreErrors"), field: "ignoreErrors") ?? false,
                                          skipDuplicates: try QueryFlag.bool(query.get("skipDuplicates"), field: "skipDuplicates") ?? false)
        if options.layout == UploadManifest.Layout.dicomSeries(title: nil) {
            throw APIError.badRequest("a title is required to upload files as a DICOM series", field: "title")
        }
        try await requireFolder(folderID, tenant)
        var spools: [FileSpool] = []
        defer { spools.forEach { $0.discard() } }
        let contentType = request.headers[.contentType]
        if let boundary = MultipartReader.boundary(contentType: contentType) {
            spools = try await receiveMultipart(request.body, boundary: boundary)
        } else {
            guard let name = request.headers[Self.fileNameHeader] ?? query.get("name"), !name.isEmpty else {
                throw APIError.badRequest("name the file: an X-File-Name header or a name query parameter (or send multipart/form-data)", field: "name")
            }
            let spool = try FileSpool(directory: config.spoolDirectory, maxBytes: config.maxUploadFileBytes, index: 0, name: name,
                                      contentType: contentType, expectedSHA256: request.headers[Self.sha256Header])
            spools = [spool]
            for try await chunk in request.body { try spool.write(chunk) }
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared != spool.size {
                throw APIError(.badRequest, "truncated_upload", "the body of \(name) ended after \(spool.size) of \(declared) bytes; nothing was stored",
                               details: [("name", .string(name)), ("received", .number(String(spool.size))), ("contentLength", .number(String(declared)))])
            }
        }
        guard !spools.isEmpty else { throw APIError.badRequest("the multipart body holds no file part", field: "files") }
        let checked = spools.map { $0.check() }
        if let bad = Self.problems(checked) { throw bad }
        let received = spools
        let stored = try await pool.run { backends in
            try zip(received, checked).map { spool, file in
                guard case .ok(let type, let section, let sha) = file else { preconditionFailure("checked above") }
                var source = try FileByteSource(path: spool.path)
                let key = UploadManifest.key(folderID: folderID, sha256: sha, name: spool.name)!
                let object = try backends.storage().write(key, contentType: type, from: &source, expectedSHA256: sha)
                return (object, spool.name, section, String?.none)
            }
        }
        return try await registerObjects(stored, options: options, folderID: folderID, tenant: tenant, request: request, context: context)
    }

    func receiveMultipart(_ body: RequestBody, boundary: String) async throws -> [FileSpool] {
        var reader = MultipartReader(boundary: boundary)
        var spools: [FileSpool] = []
        var current: FileSpool?
        do {
            for try await chunk in body {
                for event in try reader.feed(chunk.readableBytesView) {
                    switch event {
                    case .part(let headers):
                        let (_, fileName) = MultipartReader.disposition(headers["content-disposition"])
                        guard let fileName, !fileName.isEmpty else { current = nil; continue }   // a plain form field: ignored
                        guard spools.count < Self.maxFilesPerRequest else {
                            throw APIError.badRequest("at most \(Self.maxFilesPerRequest) files per request", field: "files")
                        }
                        let spool = try FileSpool(directory: config.spoolDirectory, maxBytes: config.maxUploadFileBytes, index: spools.count,
                                                  name: fileName, contentType: headers["content-type"], expectedSHA256: headers["x-content-sha256"])
                        spools.append(spool)
                        current = spool
                    case .content(let bytes):
                        try current?.write(bytes)
                    case .partEnd:
                        current = nil
                    }
                }
            }
            try reader.finish()
        } catch let failure as MultipartReader.Failure {
            spools.forEach { $0.discard() }
            let name = current?.name
            throw APIError(.badRequest, "truncated_upload", "\(failure.message)\(name.map { " (file \($0))" } ?? ""); nothing was stored",
                           details: [("name", name.map(JSONValue.string) ?? .null)])
        } catch {
            spools.forEach { $0.discard() }
            throw error
        }
        return spools
    }

    /// One 422 naming every refused file (index, name, code, why), or nil when all passed.
    static func problems(_ checked: [FileSpool.Checked]) -> APIError? {
        var bad: [JSONValue] = []
        for case .refused(let index, let name, let code, let message) in checked {
            bad.append(.object([("index", .number(String(index))), ("name", .string(name)), ("code", .string(code)), ("message", .string(message))]))
        }
        guard !bad.isEmpty else { return nil }
        let first = checked.compactMap { if case .refused(_, let n, _, let m) = $0 { "\(n): \(m)" } else { nil } }.first!
        return APIError(.unprocessableContent, "invalid_files", "\(bad.count) file\(bad.count == 1 ? "" : "s") refused, nothing was stored; first: \(first)",
                        details: [("files", .array(bad))])
    }

    // MARK: Signed-upload flow

    /// `{"files":[{"name","sha256","size"?,"contentType"?}]}` → for each, its object key, whether
    /// it is already stored (`present`: same key, same hash — skip the PUT), and a signed PUT
    /// link with the headers to send.
    @Sendable func signedURLs(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let folderID = try context.parameters.require("id")
        let body = try await request.body.collect(upTo: 4 << 20)
        guard case .array(let files)? = JSONValue.parse(Array(buffer: body))?["files"] else {
            throw APIError.badRequest("send {\"files\": [{\"name\", \"sha256\", \"contentType\"?}]}", field: "files")
        }
        guard files.count <= Self.maxFilesPerRequest else { throw APIError.badRequest("at most \(Self.maxFilesPerRequest) files per request", field: "files") }
        try await requireFolder(folderID, tenant)
        var planned: [(name: String, key: ObjectKey, type: String, sha: String)] = []
        for (i, file) in files.enumerated() {
            guard let name = file["name"]?.stringValue, !name.isEmpty else { throw APIError.badRequest("files[\(i)].name is missing", field: "files[\(i)].name") }
            guard let sha = file["sha256"]?.stringValue, UploadManifest.isHexSHA256(sha) else {
                throw APIError.badRequest("files[\(i)].sha256 must be 64 hex digits (the SHA-256 of the file)", field: "files[\(i)].sha256")
            }
            guard let (type, _) = UploadManifest.classify(contentType: file["contentType"]?.stringValue, name: name) else {
                throw APIError(.unprocessableContent, "unsupported_type", "files[\(i)] (\(name)): not a type Registrar registers",
                               details: [("field", .string("files[\(i)].contentType")), ("name", .string(name))])
            }
            if let size = file["size"]?.intValue, size > config.maxUploadFileBytes {
                throw APIError(.contentTooLarge, "file_too_large", "files[\(i)] (\(name)) is \(size) bytes, over the \(config.maxUploadFileBytes)-byte limit",
                               details: [("field", .string("files[\(i)].size")), ("maxBytes", .number(String(config.maxUploadFileBytes)))])
            }
            planned.append((name, UploadManifest.key(folderID: folderID, sha256: sha, name: name)!, type, sha.lowercased()))
        }
        let finalPlanned = planned
        let present: [Bool] = try await pool.run { backends in
            try finalPlanned.map { try backends.storage().stat($0.key)?.sha256 == $0.sha }
        }
        let base = baseURL(request, context)
        let expires = Int(Date().timeIntervalSince1970) + Self.putLinkSeconds
        let items: [JSONValue] = zip(planned, present).map { p, isPresent in
            .object([("name", .string(p.name)), ("objectKey", .string(p.key.text)), ("present", .bool(isPresent)),
                     ("signedUrl", .string("\(base)/v1/objects/\(p.key.text)?\(links.query(for: p.key, expires: expires, method: "PUT"))")),
                     ("uploadHeaders", .object([("Content-Type", .string(p.type)), ("X-Content-SHA256", .string(p.sha))]))])
        }
        return JSONResponse.ok(JSONValue.object([("items", .array(items))]).compactText)
    }

    /// `PUT /v1/objects/uploads/{folder}/{sha256}/{name}?expires=…&signature=…`: the bytes of
    /// one file, through a link from `upload-signed-urls` (no API key). The key names the
    /// hash, so bytes that do not hash to it are refused and nothing is stored.
    @Sendable func put(_ request: Request, context: APIContext) async throws -> Response {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        guard let key = ObjectKey(raw) else { throw APIError.notFound("object", raw) }
        let query = request.uri.queryParameters
        switch links.verify(key, expires: query["expires"].map(String.init), signature: query["signature"].map(String.init),
                            now: Int(Date().timeIntervalSince1970), method: "PUT") {
        case .valid: break
        case .expired: throw APIError(.forbidden, "link_expired", "this upload link has expired; ask for a new one", details: [("key", .string(key.text))])
        case .badSignature, .malformed:
            throw APIError(.forbidden, "invalid_signature", "the link's signature does not match its key, method and expiry", details: [("key", .string(key.text))])
        }
        let segments = key.text.split(separator: "/").map(String.init)
        guard segments.count == 4, segments[0] == "uploads", UploadManifest.isHexSHA256(segments[2]) else { throw APIError.notFound("upload slot", key.text) }
        let spool = try FileSpool(directory: config.spoolDirectory, maxBytes: config.maxUploadFileBytes, index: 0, name: segments[3],
                                  contentType: request.headers[.contentType], expectedSHA256: segments[2])
        defer { spool.discard() }
        for try await chunk in request.body { try spool.write(chunk) }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared != spool.size {
            throw APIError(.badRequest, "truncated_upload", "the body ended after \(spool.size) of \(declared) bytes; nothing was stored",
                           details: [("key", .string(key.text))])
        }
        let checked = spool.check()
        if let bad = Self.problems([checked]) { throw bad }
        guard case .ok(let type, _, let sha) = checked else { preconditionFailure("checked above") }
        let object = try await pool.run { backends in
            var source = try FileByteSource(path: spool.path)
            return try backends.storage().write(key, contentType: type, from: &source, expectedSHA256: sha)
        }
        return JSONResponse.ok(Self.objectJSON(object).compactText, status: .created)
    }

    /// `{"files":[{"objectKey","title"?}], "as"?, "title"?, "ignoreErrors"?, "skipDuplicates"?}`:
    /// registers stored uploads of this folder (in the order given).
    @Sendable func registerStored(_ request: Request, context: APIContext) async throws -> Response {
        let tenant = try context.tenant()
        let folderID = try context.parameters.require("id")
        let body = try await request.body.collect(upTo: 16 << 20)
        guard let value = JSONValue.parse(Array(buffer: body)), case .array(let files)? = value["files"], !files.isEmpty else {
            throw APIError.badRequest("send {\"files\": [{\"objectKey\", \"title\"?}, …]} with at least one file", field: "files")
        }
        let options = try RegisterOptions(as: value["as"]?.stringValue, title: value["title"]?.stringValue,
                                          ignoreErrors: value["ignoreErrors"] == .bool(true), skipDuplicates: value["skipDuplicates"] == .bool(true))
        try await requireFolder(folderID, tenant)
        var wanted: [(ObjectKey, String?, String?)] = []
        let prefix = "uploads/\(ObjectKey.segment(from: folderID))/"
        for (i, file) in files.enumerated() {
            guard let text = file["objectKey"]?.stringValue, let key = ObjectKey(text), text.hasPrefix(prefix) else {
                throw APIError.badRequest("files[\(i)].objectKey is not an upload of this folder", field: "files[\(i)].objectKey")
            }
            let series = file["series"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if options.layout == UploadManifest.Layout.dicomSeries(title: nil), series == nil {
                throw APIError.badRequest("files[\(i)] names no series: give it a \"series\" (its unit's title) or the request a \"title\"", field: "files[\(i)].series")
            }
            wanted.append((key, file["title"]?.stringValue, series))
        }
        let finalWanted = wanted
        let found: [StoredObject?] = try await pool.run { backends in try finalWanted.map { try backends.storage().stat($0.0) } }
        var stored: [(StoredObject, String, UploadManifest.Section, String?)] = []
        for (i, (object, want)) in zip(found, wanted).enumerated() {
            guard let object else {
                throw APIError(.unprocessableContent, "unknown_object", "files[\(i)]: nothing is stored under \(want.0.text) (PUT it first)",
                               details: [("field", .string("files[\(i)].objectKey"))])
            }
            let name = String(want.0.text.split(separator: "/").last!)
            guard let (_, section) = UploadManifest.classify(contentType: object.contentType, name: name) else {
                throw APIError(.unprocessableContent, "unsupported_type", "files[\(i)]: \(object.contentType) is not a type Registrar registers",
                               details: [("field", .string("files[\(i)].objectKey"))])
            }
            stored.append((object, want.1 ?? name, section, want.2))
        }
        return try await registerObjects(stored, options: options, folderID: folderID, tenant: tenant, request: request, context: context)
    }

    // MARK: Registration

    struct RegisterOptions {
        var layout: UploadManifest.Layout
        var ignoreErrors: Bool
        var skipDuplicates: Bool
        init(as: String?, title: String?, ignoreErrors: Bool, skipDuplicates: Bool) throws {
            switch UploadManifest.Layout.parse(`as`, title: title) {
            case .success(let l): layout = l
            case .failure(let e): throw APIError.badRequest(e.message, field: e.field)
            }
            self.ignoreErrors = ignoreErrors
            self.skipDuplicates = skipDuplicates
        }
    }

    /// Writes the manifest of signed links and submits it as an upload job (202, as
    /// `POST /v1/folders/{id}/uploads`).
    /// Each object comes with its title, its section and (DICOM series) its series title.
    func registerObjects(_ objects: [(StoredObject, String, UploadManifest.Section, String?)], options: RegisterOptions, folderID: String,
                         tenant: Principal, request: Request, context: APIContext) async throws -> Response {
        if case UploadManifest.Layout.dicomSeries = options.layout {
            if let odd = objects.firstIndex(where: { $0.2 != .dicom }) {
                throw APIError(.unprocessableContent, "not_dicom", "files[\(odd)] (\(objects[odd].1)) is \(objects[odd].0.contentType): a DICOM series holds DICOM files only",
                               details: [("name", .string(objects[odd].1)), ("index", .number(String(odd)))])
            }
        } else if options.layout != .separate, let odd = objects.first(where: { $0.2 != .images }) {
            throw APIError(.unprocessableContent, "not_an_image", "\(odd.1) is \(odd.0.contentType): an image group or sequence holds images only",
                           details: [("name", .string(odd.1))])
        }
        let base = baseURL(request, context)
        // Bucket storage: the files are registered as s3:// URLs, read by the workers with the
        // storage's integration; a local directory: as signed links to this API.
        let keys = objects.map { $0.0.key }
        let inBucket = try await pool.run { backends in try keys.map { try backends.storage().bucketObject($0) } }
        let items = zip(objects, inBucket).map { entry, reference in
            let (object, title, section, series) = entry
            return UploadManifest.Item(url: reference?.url ?? "\(base)/v1/objects/\(object.key.text)?\(links.query(for: object.key, expires: Self.registrationExpiry))",
                                       title: title, section: section, series: series)
        }
        let storageIntegrationID = inBucket.first??.integrationID
        let manifest = UploadManifest.json(items, layout: options.layout, skipDuplicates: options.skipDuplicates)
        let path = config.spoolDirectory + "/registrar-files-" + UUID().uuidString + ".json"
        guard FileManager.default.createFile(atPath: path, contents: Data(manifest.utf8)) else {
            throw APIError(.internalServerError, "internal_error", "cannot write the upload's manifest to a temporary file")
        }
        defer { unlink(path) }
        var limits = ManifestLimits.default
        if let u = config.maxURLs { limits.maxURLs = u }
        if let u = config.maxUnits { limits.maxUnits = u }
        let finalLimits = limits
        let fileName = objects.count == 1 ? objects[0].1 : "\(objects.count) files"
        let outcome = try await pool.run { backends in
            try UploadRoutes.store(path, format: .json, fileName: fileName, ignoreErrors: options.ignoreErrors, integration: nil,
                                   folderID: folderID, tenantID: tenant.tenantID, limits: finalLimits, backends: backends,
                                   integrationID: storageIntegrationID)
        }
        switch outcome {
        case .refused(let issue):
            throw APIError(.unprocessableContent, "manifest_invalid", issue.description, details: [("code", .string(issue.code.rawValue)), ("item", .string(issue.item))])
        case .stored(let jobID):
            guard let snapshot = try await pool.run({ try UploadSnapshot.load(jobID: jobID, tenantID: tenant.tenantID, backends: $0) }) else {
                throw APIError.notFound("upload", jobID)
            }
            var response = JSONResponse.ok(snapshot.json, status: .accepted)
            response.headers[.location] = "/v1/uploads/\(jobID)"
            return response
        }
    }

    // MARK: Helpers

    func requireFolder(_ folderID: String, _ tenant: Principal) async throws {
        guard UUIDText.isValid(folderID),
              try await pool.run({ try $0.registry().folder(tenantID: tenant.tenantID, id: folderID) }) != nil else {
            throw APIError.notFound("folder", folderID)
        }
    }

    /// Where workers and clients reach this API: the configured public origin, else the
    /// origin the request was sent to, else the listening address.
    func baseURL(_ request: Request, _ context: APIContext) -> String {
        if let origin = config.origins.publicOrigin { return origin.description }
        let trust = RequestTrust(origins: config.origins)
        if let origin = config.origins.requestOrigin(trust.facts(request, context)) { return origin.description }
        return "http://\(config.host):\(config.port)"
    }

    static func objectJSON(_ o: StoredObject) -> JSONValue {
        .object([("objectKey", .string(o.key.text)), ("size", .number(String(o.size))), ("sha256", .string(o.sha256)), ("contentType", .string(o.contentType))])
    }
}

/// One incoming file: spooled to a temporary file while it is hashed and counted, refused the
/// moment it crosses the size cap. Used by one task at a time (hence `@unchecked Sendable`).
final class FileSpool: @unchecked Sendable {
    let path: String
    let index: Int
    let name: String
    let contentType: String?
    let expectedSHA256: String?
    let maxBytes: Int
    private(set) var size = 0
    private var hasher = ContentHasher()
    private let handle: FileHandle
    private var open = true

    enum Checked: Sendable {
        case ok(contentType: String, section: UploadManifest.Section, sha256: String)
        case refused(index: Int, name: String, code: String, message: String)
    }

    init(directory: String, maxBytes: Int, index: Int, name: String, contentType: String?, expectedSHA256: String?) throws {
        path = directory + "/registrar-file-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, "internal_error", "cannot create a temporary file for the upload")
        }
        self.handle = handle
        self.index = index
        self.name = name
        self.contentType = contentType
        self.expectedSHA256 = expectedSHA256?.trimmingCharacters(in: .whitespaces).lowercased()
        self.maxBytes = maxBytes
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try write($0) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        size += bytes.count
        if size > maxBytes {
            throw APIError(.contentTooLarge, "file_too_large", "\(name) is larger than \(maxBytes) bytes; nothing was stored",
                           details: [("name", .string(name)), ("maxBytes", .number(String(maxBytes)))])
        }
        hasher.update(bytes)
        do { try handle.write(contentsOf: bytes) } catch {
            throw APIError(.internalServerError, "internal_error", "cannot write the upload to a temporary file")
        }
    }

    /// Closes the spool and says whether the file can be stored: not empty, a type Registrar
    /// registers, and the SHA-256 the client announced.
    func check() -> Checked {
        if open { try? handle.close(); open = false }
        let sha = hasher.finalizeHex()
        if size == 0 { return .refused(index: index, name: name, code: "empty_file", message: "the file is empty (0 bytes)") }
        guard let (type, section) = UploadManifest.classify(contentType: contentType, name: name) else {
            return .refused(index: index, name: name, code: "unsupported_type",
                            message: "\(contentType ?? "no content type") is not a type Registrar registers (images, videos, audio, PDF, text, NIfTI, DICOM)")
        }
        if let expected = expectedSHA256, expected != sha {
            return .refused(index: index, name: name, code: "checksum_mismatch", message: "the bytes received hash to \(sha), not \(expected)")
        }
        return .ok(contentType: type, section: section, sha256: sha)
    }

    func discard() {
        if open { try? handle.close(); open = false }
        unlink(path)
    }
}
