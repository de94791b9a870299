import RegistrarCore
import Testing

/// `gs://` storage settings and the XML API requests the GCS storage sends (pure: a fixed token).
struct GCSStorageRequestsTests {
    let token = GCSAccessToken(token: "ya29.test-token")

    func requests(_ text: String = "gs://media_out/registrar/objects?integration=g", endpoint: String? = nil) throws -> GCSStorageRequests {
        guard case .gcs(let target) = try StorageLocation.parse(text) else { throw StorageLocationError("not gs") }
        var settings = IntegrationSettings()
        settings.endpoint = endpoint
        return try GCSStorageRequests(target: target, kind: .gcp, settings: settings, hasServiceAccountKey: true)
    }

    @Test func storageURLsParseOrSayWhatIsWrong() throws {
        #expect(try StorageLocation.parse("gs://media_out?integration=a%20b&multipartMiB=8") ==
                .gcs(GCSStorageTarget(bucket: "media_out", prefix: "", integration: "a b", multipartThreshold: 8 << 20)))
        #expect(try StorageLocation.parse("gs://media-out/a/b/?integration=g") ==
                .gcs(GCSStorageTarget(bucket: "media-out", prefix: "a/b", integration: "g")))
        let cases: [(String, String)] = [
            ("gs://media-out/p", "gs://media-out/p: say which integration's credentials sign the writes: gs://media-out/p?integration=NAME (a gcp integration with a service-account key)"),
            ("gs://Media/p?integration=x", "gs://Media/p: the bucket name 'Media' may hold only lower-case letters, digits, '.', '_' and '-'"),
            ("gs://?integration=x", "gs://: the bucket name is missing (gs://BUCKET/PREFIX?integration=NAME)"),
            ("gs://b/p?integration=x", "gs://b/p: the bucket name 'b' must be 3 to 63 characters"),
            ("gs://_bucket/p?integration=x", "gs://_bucket/p: the bucket name '_bucket' must start and end with a letter or digit"),
            ("gs://bucket/a/../b?integration=x", "gs://bucket/a/../b: the prefix 'a/../b' has a '..' segment (segments of A-Z a-z 0-9 . _ - separated by /)"),
            ("gs://bucket/p?integration=x&multipartMiB=4", "gs://bucket/p: multipartMiB must be a whole number from 5 to 5120 (the XML API's part sizes), not '4'"),
            ("gs://bucket/p?integration=x&region=eu", "gs://bucket/p: unknown setting 'region' (expected integration= and optionally multipartMiB=)"),
            ("gs://bucket/p?integration=", "gs://bucket/p: integration= names no integration"),
        ]
        for (text, message) in cases {
            #expect(throws: StorageLocationError(message)) { try StorageLocation.parse(text) }
        }
    }

    @Test func onlyGCPServiceAccountsOfTheRightBucketWrite() throws {
        let target = GCSStorageTarget(bucket: "media-out", prefix: "", integration: "s")
        #expect(throws: StorageLocationError("gs://media-out: integration 's' is of kind aws; gs:// storage needs a gcp integration")) {
            try GCSStorageRequests(target: target, kind: .aws, settings: IntegrationSettings(), hasServiceAccountKey: false)
        }
        #expect(throws: StorageLocationError("gs://media-out: integration 's' holds HMAC keys; gs:// storage writes with a service-account key's OAuth2 token (add the integration from the key file)")) {
            try GCSStorageRequests(target: target, kind: .gcp, settings: IntegrationSettings(), hasServiceAccountKey: false)
        }
        var limited = IntegrationSettings()
        limited.buckets = ["other"]
        #expect(throws: StorageLocationError("gs://media-out: integration 's' is limited to the buckets other, not media-out")) {
            try GCSStorageRequests(target: target, kind: .gcp, settings: limited, hasServiceAccountKey: true)
        }
    }

    @Test func requestsCarryTheTokenAndTheBodysMD5() throws {
        let r = try requests()
        let put = try r.put(objectName: "registrar/objects/uploads/a b.txt", body: Array("hello".utf8), contentType: "text/plain", token: token)
        #expect(put.method == "PUT")
        #expect(put.url == "https://storage.googleapis.com/media_out/registrar/objects/uploads/a%20b.txt")
        // MD5("hello") = 5d41402abc4b2a76b9719d911017c592.
        let headers = Dictionary(uniqueKeysWithValues: put.headers)
        #expect(headers["Content-MD5"] == "XUFAKrxLKna5cZ2REBfFkg==")
        #expect(headers["x-goog-hash"] == "md5=XUFAKrxLKna5cZ2REBfFkg==")
        #expect(headers["Authorization"] == "Bearer ya29.test-token")
        #expect(GCSStorageRequests.md5Hex(Array("hello".utf8)) == "5d41402abc4b2a76b9719d911017c592")

        let e = try requests(endpoint: "http://127.0.0.1:4443/")
        #expect(try e.createMultipart(objectName: "k", contentType: "video/mp4", token: token).url == "http://127.0.0.1:4443/media_out/k?uploads")
        let part = try e.uploadPart(objectName: "k", uploadID: "u/1+", number: 2, body: [1, 2, 3], token: token)
        #expect(part.method == "PUT" && part.url == "http://127.0.0.1:4443/media_out/k?partNumber=2&uploadId=u%2F1%2B")
        #expect(part.headers.contains { $0.0 == "Content-MD5" })
        let done = try e.completeMultipart(objectName: "k", uploadID: "u1",
                                           parts: [S3UploadedPart(number: 1, etag: "\"a&b\"", sha256Base64: ""), S3UploadedPart(number: 2, etag: "\"c\"", sha256Base64: "")], token: token)
        #expect(done.method == "POST" && done.url == "http://127.0.0.1:4443/media_out/k?uploadId=u1")
        #expect(String(decoding: done.body ?? [], as: UTF8.self) ==
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;b&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;c&quot;</ETag></Part></CompleteMultipartUpload>")
        #expect(try e.abortMultipart(objectName: "k", uploadID: "u1", token: token).method == "DELETE")
        #expect(try e.list(prefix: "p/.meta/", continuation: "abc=", token: token).url == "http://127.0.0.1:4443/media_out?list-type=2&prefix=p%2F.meta%2F&continuation-token=abc%3D")
        #expect(try e.listMultipartUploads(prefix: "p", token: token).url == "http://127.0.0.1:4443/media_out?uploads&prefix=p")
        // A token a header cannot carry is refused before anything is sent.
        #expect(throws: SigningError.invalidKey) { try e.get(objectName: "k", token: GCSAccessToken(token: "bad\ntoken")) }
    }
}
