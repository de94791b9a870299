import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// Files from a disk (docs/uploads.md): streamed and multipart `POST /v1/folders/{id}/files`,
/// the signed-upload flow, and what is (not) left in storage, on the twins.
struct FileUploadRouteTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    static let sha = HTTPField.Name("X-Content-SHA256")!
    static let fileName = HTTPField.Name("X-File-Name")!

    func rig() -> APIRig {
        var rig = APIRig()
        rig.config.linkSecret = Self.secret
        rig.config.port = 8123
        return rig
    }

    /// A small valid PNG (8×4), distinct per seed.
    static func png(_ seed: UInt8 = 0) -> [UInt8] {
        var b: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 8, 0, 0, 0, 4, 8, 2, 0, 0, 0]
        b += [0x12, 0x34, 0x56, seed]   // CRC (not checked here)
        return b + [UInt8](repeating: seed, count: 100)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var h = ContentHasher()
        bytes.withUnsafeBytes { h.update($0) }
        return h.finalizeHex()
    }

    /// The path and query of a link the API made.
    static func path(_ url: String) -> String {
        String(url[url.range(of: "/v1/objects/")!.lowerBound...])
    }

    func folder(_ client: any TestClientProtocol, _ key: String) async throws -> String {
        try #require(try await client.call("/v1/folders", .post, key: key, body: #"{"name": "disk"}"#).json["id"]?.string)
    }

    func manifest(_ rig: APIRig, job: String) throws -> JSONValue {
        var source = try rig.world.registry.manifestSource(jobID: job)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return try #require(JSONValue.parse(out))
    }

    static func multipart(_ parts: [(name: String, type: String, bytes: [UInt8], sha: String?)], boundary: String = "XbOuNdArY", close: Bool = true) -> [UInt8] {
        var body: [UInt8] = Array("preamble to ignore\r\n".utf8)
        for p in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"files\"; filename=\"\(p.name)\"\r\nContent-Type: \(p.type)\r\n"
            if let sha = p.sha { head += "X-Content-SHA256: \(sha)\r\n" }
            body += Array((head + "\r\n").utf8) + p.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)\(close ? "--\r\n" : "")".utf8)
        return body
    }

    @Test func aStreamedFileIsStoredUnderASafeKeyAndRegisteredByASignedLink() async throws {
        let rig = rig()
        let (_, key) = try rig.tenant()
        let content = Self.png(1)
        try await rig.run { client in
            let f = try await folder(client, key)
            let r = try await client.call("/v1/folders/\(f)/files", .post, key: key,
                                          headers: [.contentType: "image/png", Self.fileName: "../../etc/passwd.png", Self.sha: Self.hex(content)], bytes: content)
            #expect(r.status == .accepted, "\(r.text)")
            let job = try #require(r.json["id"]?.string)
            #expect(r.json["total"]?.int == 1)
            let keys = try rig.world.storage.keys(prefix: "uploads/")
            #expect(keys.map(\.text) == ["uploads/\(f)/\(Self.hex(content))/passwd.png"], "the traversal is neutralised to its last segment")
            let m = try manifest(rig, job: job)
            guard case .array(let images)? = m["images"], let url = images.first?["objectUrl"]?.string else { Issue.record("no images in \(m)"); return }
            #expect(images.first?["title"]?.string == "../../etc/passwd.png", "the title keeps the user's name")
            #expect(url.hasPrefix("http://localhost/v1/objects/uploads/\(f)/"), "the origin the request was sent to")
            // The worker's way in: the signed link, by ranges.
            let path = Self.path(url)
            let whole = try await client.call(path, key: nil)
            #expect(whole.status == .ok && Array(buffer: whole.body) == content)
            let part = try await client.call(path, key: nil, headers: [.range: "bytes=0-9"])
            #expect(part.status == .partialContent && Array(buffer: part.body) == Array(content[0..<10]))
            #expect(part.headers[.contentRange] == "bytes 0-9/\(content.count)")
            let tail = try await client.call(path, key: nil, headers: [.range: "bytes=100-"])
            #expect(tail.status == .partialContent && Array(buffer: tail.body) == Array(content[100...]))
            let past = try await client.call(path, key: nil, headers: [.range: "bytes=9999-"])
            #expect(past.status == .rangeNotSatisfiable)

            let unnamed = try await client.call("/v1/folders/\(f)/files", .post, key: key, headers: [.contentType: "image/png"], bytes: content)
            #expect(unnamed.status == .badRequest && unnamed.json["error"]?["details"]?["field"]?.string == "name")
        }
    }

    @Test func multipartStoresEveryFileAndRegistersThemInOneJob() async throws {
        let rig = rig()
        let (_, key) = try rig.tenant()
        let files = (0..<3).map { (name: "frame\($0).png", type: "image/png", bytes: Self.png(UInt8($0 + 10)), sha: Optional(Self.hex(Self.png(UInt8($0 + 10))))) }
        try await rig.run { client in
            let f = try await folder(client, key)
            let body = Self.multipart(files)
            let r = try await client.call("/v1/folders/\(f)/files?as=image-sequence&title=seq", .post, key: key,
                                          headers: [.contentType: "multipart/form-data; boundary=XbOuNdArY"], bytes: body)
            #expect(r.status == .accepted, "\(r.text)")
            #expect(r.json["total"]?.int == 1, "one sequence is one unit")
            #expect(try rig.world.storage.keys(prefix: "uploads/").count == 3)
            let m = try manifest(rig, job: try #require(r.json["id"]?.string))
            guard case .array(let groups)? = m["image_groups"], let g = groups.first else { Issue.record("no group in \(m)"); return }
            #expect(g["createVideo"]?.bool == true && g["title"]?.string == "seq")
            #expect(g["objectUrl_2"]?.string?.contains("/frame2.png?") == true)
            let separate = try await client.call("/v1/folders/\(f)/files", .post, key: key,
                                                 headers: [.contentType: "multipart/form-data; boundary=XbOuNdArY"], bytes: body)
            #expect(separate.json["total"]?.int == 3)
        }
    }

    @Test func badFilesAreNamedOneByOneAndNothingIsStored() async throws {
        var configured = rig()
        configured.config.maxUploadFileBytes = 1000
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        configured.config.spoolDirectory = spool
        let rig = configured
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            let f = try await folder(client, key)
            let multipart: HTTPFields = [.contentType: "multipart/form-data; boundary=XbOuNdArY"]
            let body = Self.multipart([("good.png", "image/png", Self.png(), nil), ("empty.png", "image/png", [], nil),
                                       ("data.bin", "application/x-custom", [1, 2, 3], nil),
                                       ("wrong.png", "image/png", Self.png(2), String(repeating: "0", count: 64))])
            let r = try await client.call("/v1/folders/\(f)/files", .post, key: key, headers: multipart, bytes: body)
            #expect(r.status == .unprocessableContent && r.errorCode == "invalid_files")
            let bad = r.json["error"]?["details"]?["files"]
            guard case .array(let list)? = bad else { Issue.record("no file list: \(r.text)"); return }
            #expect(list.map { "\($0["index"]?.int ?? -1) \($0["name"]?.string ?? "") \($0["code"]?.string ?? "")" }
                    == ["1 empty.png empty_file", "2 data.bin unsupported_type", "3 wrong.png checksum_mismatch"])

            let truncated = Self.multipart([("good.png", "image/png", Self.png(), nil)], close: false)
            let t = try await client.call("/v1/folders/\(f)/files", .post, key: key, headers: multipart, bytes: Array(truncated.dropLast(40)))
            #expect(t.status == .badRequest && t.errorCode == "truncated_upload", "\(t.text)")

            let big = try await client.call("/v1/folders/\(f)/files?name=big.png", .post, key: key, headers: [.contentType: "image/png"],
                                            bytes: Self.png() + [UInt8](repeating: 1, count: 2000))
            #expect(big.status == .contentTooLarge && big.errorCode == "file_too_large")

            #expect(try rig.world.storage.keys(prefix: "uploads/").isEmpty, "nothing stored from a refused request")
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty, "no spool file left behind")
            #expect(try rig.world.registry.jobIDs(tenantID: tenant, status: nil, folderID: nil, after: nil, limit: 10).ids.isEmpty, "no job either")
        }
    }

    @Test func theSignedUploadFlowSkipsStoredHashesAndRegisters() async throws {
        let rig = rig()
        let (_, key) = try rig.tenant()
        let a = Self.png(20), b = Self.png(21)
        try await rig.run { client in
            let f = try await folder(client, key)
            let ask = #"{"files":[{"name":"dir/a.png","sha256":"\#(Self.hex(a))"},{"name":"b.png","sha256":"\#(Self.hex(b))","size":\#(b.count)}]}"#
            let urls = try await client.call("/v1/folders/\(f)/upload-signed-urls", .post, key: key, body: ask)
            #expect(urls.status == .ok, "\(urls.text)")
            #expect(urls.json.items.map { $0["present"]?.bool } == [false, false])
            let first = urls.json.items[0]
            let link = Self.path(try #require(first["signedUrl"]?.string))
            #expect(first["uploadHeaders"]?["X-Content-SHA256"]?.string == Self.hex(a))

            let wrong = try await client.call(link, .put, key: nil, headers: [.contentType: "image/png"], bytes: b)
            #expect(wrong.status == .unprocessableContent && wrong.errorCode == "invalid_files" && wrong.text.contains("checksum_mismatch"))
            let put = try await client.call(link, .put, key: nil, headers: [.contentType: "image/png"], bytes: a)
            #expect(put.status == .created, "\(put.text)")
            let objectKey = try #require(first["objectKey"]?.string)
            let asGet = try await client.call("/v1/objects/\(objectKey)?\(SignedLink(secret: Self.secret)!.query(for: ObjectKey(objectKey)!, expires: Int(Date().timeIntervalSince1970) + 60))",
                                              .put, key: nil, bytes: a)
            #expect(asGet.status == .forbidden, "a GET link cannot write")

            let again = try await client.call("/v1/folders/\(f)/upload-signed-urls", .post, key: key, body: ask)
            #expect(again.json.items.map { $0["present"]?.bool } == [true, false], "the stored hash is known")

            let unknown = try await client.call("/v1/folders/\(f)/files/register", .post, key: key,
                                                body: #"{"files":[{"objectKey":"\#(objectKey)"},{"objectKey":"\#(urls.json.items[1]["objectKey"]?.string ?? "")"}]}"#)
            #expect(unknown.status == .unprocessableContent && unknown.errorCode == "unknown_object" && unknown.text.contains("files[1]"))
            let reg = try await client.call("/v1/folders/\(f)/files/register", .post, key: key,
                                            body: #"{"files":[{"objectKey":"\#(objectKey)","title":"dir/a.png"}],"skipDuplicates":true}"#)
            #expect(reg.status == .accepted && reg.json["total"]?.int == 1, "\(reg.text)")
            let m = try manifest(rig, job: try #require(reg.json["id"]?.string))
            #expect(m["skip_duplicate_urls"]?.bool == true)
            let foreign = try await client.call("/v1/folders/\(f)/files/register", .post, key: key, body: #"{"files":[{"objectKey":"exports/x.json"}]}"#)
            #expect(foreign.status == .badRequest)
        }
    }
}
