import RegistrarCore
import Testing

/// Files from a disk, the pure part: the multipart reader (fed in any piece sizes), keys made
/// safe from user names, types, and the manifest that registers the stored files.
struct UploadManifestTests {
    static let body: [UInt8] = Array(("preamble\r\n--B0uNd\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n" +
        "--B0uNd\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").utf8)
        + [0x0D, 0x0A, 0x2D, 0x2D, 0x42, 0x30, 0x00, 0xFF]     // content that starts like the delimiter but is not it
        + Array("\r\n--B0uNd\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''caf%C3%A9.txt\r\n\r\n\r\n--B0uNd--\r\nepilogue".utf8)

    /// Parts as (headers, content), whatever the piece size.
    func parse(_ bytes: [UInt8], piece: Int) throws -> [([String: String], [UInt8])] {
        var reader = MultipartReader(boundary: "B0uNd")
        var parts: [([String: String], [UInt8])] = []
        var i = 0
        while i < bytes.count {
            for event in try reader.feed(bytes[i..<min(bytes.count, i + piece)]) {
                switch event {
                case .part(let h): parts.append((h, []))
                case .content(let c): parts[parts.count - 1].1 += c
                case .partEnd: break
                }
            }
            i += piece
        }
        try reader.finish()
        return parts
    }

    @Test func multipartPartsAreTheSameWhateverThePieceSize() throws {
        for piece in [1, 2, 3, 7, 13, 64, 4096] {
            let parts = try parse(Self.body, piece: piece)
            #expect(parts.count == 3, "piece \(piece)")
            #expect(parts[0].1 == Array("hello".utf8))
            #expect(MultipartReader.disposition(parts[1].0["content-disposition"]).fileName == "a.png")
            #expect(parts[1].0["content-type"] == "image/png")
            #expect(parts[1].1 == [0x0D, 0x0A, 0x2D, 0x2D, 0x42, 0x30, 0x00, 0xFF], "piece \(piece)")
            #expect(MultipartReader.disposition(parts[2].0["content-disposition"]).fileName == "café.txt")
            #expect(parts[2].1.isEmpty, "an empty file is an empty part")
        }
    }

    @Test func aBodyWithoutItsClosingBoundaryIsTruncated() throws {
        let cut = Array(Self.body.prefix(Self.body.count - 20))
        #expect(throws: MultipartReader.Failure.self) { try parse(cut, piece: 5) }
        #expect(MultipartReader.boundary(contentType: "multipart/form-data; boundary=\"x y\"") == "x y")
        #expect(MultipartReader.boundary(contentType: "application/json") == nil)
    }

    @Test func keysKeepOnlyASafeLastSegment() throws {
        let sha = String(repeating: "ab", count: 32)
        let folder = "0b7c2a52-7a1e-4f36-9d7e-1b2f3a4c5d6e"
        #expect(UploadManifest.key(folderID: folder, sha256: sha, name: "../../etc/passwd")?.text == "uploads/\(folder)/\(sha)/passwd")
        #expect(UploadManifest.key(folderID: folder, sha256: sha, name: "..\\..\\win.ini")?.text == "uploads/\(folder)/\(sha)/win.ini")
        #expect(UploadManifest.key(folderID: folder, sha256: sha, name: "..")?.text == "uploads/\(folder)/\(sha)/file")
        #expect(UploadManifest.key(folderID: folder, sha256: sha, name: "ça va?.png")?.text == "uploads/\(folder)/\(sha)/__a_va_.png")
        #expect(UploadManifest.key(folderID: folder, sha256: "nothex", name: "a.png") == nil)
    }

    @Test func typesComeFromTheHeaderElseTheExtension() {
        #expect(UploadManifest.classify(contentType: "image/png; q=1", name: "x")?.section == .images)
        #expect(UploadManifest.classify(contentType: "application/octet-stream", name: "v.MP4")?.section == .videos)
        #expect(UploadManifest.classify(contentType: nil, name: "brain.nii.gz")?.section == .nifti)
        // What the signed-upload flow declares for it comes back as NIfTI too (the PUT and the register step).
        #expect(UploadManifest.classify(contentType: "application/gzip", name: "brain.nii.gz")?.section == .nifti)
        #expect(UploadManifest.classify(contentType: "application/gzip", name: "logs.gz") == nil)
        #expect(UploadManifest.classify(contentType: nil, name: "archive.zip") == nil)
        #expect(UploadManifest.classify(contentType: "application/zip", name: "a.png") == nil, "a declared type is believed")
    }

    @Test func theManifestRegistersEachFileOrOneGroup() throws {
        let items = [UploadManifest.Item(url: "http://api/v1/objects/uploads/f/1/a.png?x", title: "dir/a.png", section: .images),
                     UploadManifest.Item(url: "http://api/v1/objects/uploads/f/2/b.mp4?x", title: "b \"quoted\".mp4", section: .videos)]
        let separate = try #require(JSONValue.parse(Array(UploadManifest.json(items, layout: .separate, skipDuplicates: true).utf8)))
        #expect(separate["images"] == .array([.object([("objectUrl", .string(items[0].url)), ("title", .string("dir/a.png"))])]))
        #expect(separate["videos"] == .array([.object([("objectUrl", .string(items[1].url)), ("title", .string("b \"quoted\".mp4"))])]))
        #expect(separate["skip_duplicate_urls"] == .bool(true))
        let group = try #require(JSONValue.parse(Array(UploadManifest.json(items, layout: .imageSequence(title: "s"), skipDuplicates: false).utf8)))
        guard case .array(let groups)? = group["image_groups"] else { Issue.record("no image_groups"); return }
        #expect(groups.first?["createVideo"] == .bool(true) && groups.first?["objectUrl_1"] == .string(items[1].url))
        #expect(UploadManifest.Layout.parse("image-group", title: nil) == .failure(UploadInputError(field: "title", message: "a title is required to upload files as an image group or sequence")))
        #expect(UploadManifest.Layout.parse("video", title: "t").map { _ in true } != .success(true))
    }
}
