import RegistrarCore
import Testing

/// `s3://` storage settings and the signed S3 requests the bucket storage sends (pure: fixed
/// credentials and time). The PutObject signature is checked against botocore's
/// `S3SigV4Auth` for the same request (computed once, pasted below).
struct S3StorageRequestsTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let date = SigningDate(year: 2026, month: 12, day: 7, hour: 12)!

    func requests(_ text: String = "s3://media-out/registrar/objects?integration=store") throws -> S3StorageRequests {
        guard case .s3(let target) = try StorageLocation.parse(text) else { throw StorageLocationError("not s3") }
        var settings = IntegrationSettings()
        settings.endpoint = "http://127.0.0.1:9000"
        return try S3StorageRequests(target: target, kind: .s3Compatible, settings: settings)
    }

    @Test func storageURLsParseOrSayWhatIsWrong() throws {
        #expect(try StorageLocation.parse("s3://media-out?integration=a%20b&multipartMiB=8") ==
                .s3(S3StorageTarget(bucket: "media-out", prefix: "", integration: "a b", multipartThreshold: 8 << 20)))
        let cases: [(String, String)] = [
            ("s3://media-out/p", "s3://media-out/p: say which integration's credentials sign the writes: s3://media-out/p?integration=NAME (an aws or s3-compatible integration)"),
            ("s3://Media_Out/p?integration=x", "s3://Media_Out/p: the bucket name 'Media_Out' may hold only lower-case letters, digits, '.' and '-'"),
            ("s3://?integration=x", "s3://: the bucket name is missing (s3://BUCKET/PREFIX?integration=NAME)"),
            ("s3://b/p?integration=x", "s3://b/p: the bucket name 'b' must be 3 to 63 characters"),
            ("s3://bucket/a/../b?integration=x", "s3://bucket/a/../b: the prefix 'a/../b' has a '..' segment (segments of A-Z a-z 0-9 . _ - separated by /)"),
            ("s3://bucket/p?integration=x&multipartMiB=4", "s3://bucket/p: multipartMiB must be a whole number from 5 to 5120 (S3's part sizes), not '4'"),
            ("s3://bucket/p?integration=x&region=eu", "s3://bucket/p: unknown setting 'region' (expected integration= and optionally multipartMiB=)"),
            ("https://files.example.com/c?integration=x", "https://files.example.com/c: writing to http(s) stores other than Azure Blob Storage is not supported; use s3://BUCKET/PREFIX?integration=NAME (aws or s3-compatible), gs://BUCKET/PREFIX?integration=NAME (gcp), https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME (azure) or a local directory"),
        ]
        for (text, message) in cases {
            #expect(throws: StorageLocationError(message)) { try StorageLocation.parse(text) }
        }
    }

    @Test func onlyS3IntegrationsOfTheRightBucketSign() throws {
        let target = S3StorageTarget(bucket: "media-out", prefix: "", integration: "g")
        #expect(throws: StorageLocationError("s3://media-out: integration 'g' is of kind gcp; s3:// storage needs an aws or s3-compatible integration")) {
            try S3StorageRequests(target: target, kind: .gcp, settings: IntegrationSettings())
        }
        var limited = IntegrationSettings()
        limited.buckets = ["other"]
        #expect(throws: StorageLocationError.self) { try S3StorageRequests(target: target, kind: .aws, settings: limited) }
        // Without an endpoint: AWS's virtual-hosted regional endpoint.
        var aws = IntegrationSettings()
        aws.region = "eu-west-1"
        let r = try S3StorageRequests(target: target, kind: .aws, settings: aws)
        #expect(r.url(s3Key: "exports/a.json") == "https://media-out.s3.eu-west-1.amazonaws.com/exports/a.json")
    }

    @Test func putCarriesChecksumsTheServerVerifiesAndBotocoresSignature() throws {
        let r = try requests()
        let put = try r.put(s3Key: r.target.objectKey(ObjectKey("exports/a.json")!), body: Array("hello".utf8), contentType: "application/json",
                            credentials: credentials, date: date)
        #expect(put.method == "PUT" && put.url == "http://127.0.0.1:9000/media-out/registrar/objects/exports/a.json")
        let h = Dictionary(put.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(h["content-md5"] == "XUFAKrxLKna5cZ2REBfFkg==")
        #expect(h["x-amz-checksum-sha256"] == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        #expect(h["x-amz-content-sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "the payload is signed, not UNSIGNED-PAYLOAD")
        #expect(h["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/s3/aws4_request, SignedHeaders=content-md5;content-type;host;x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date, Signature=90addedc2bbd2ecb4c6836ce94ef8caf0d3497100a42dea36f2fdae7c7e74519")
        #expect(!put.headers.contains { $0.1.contains(credentials.secretAccessKey) })
    }

    @Test func multipartRequestsAndAnswers() throws {
        let r = try requests()
        let key = r.target.objectKey(ObjectKey("v/big.mp4")!)
        let create = try r.createMultipart(s3Key: key, contentType: "video/mp4", credentials: credentials, date: date)
        #expect(create.method == "POST" && create.url.hasSuffix("/media-out/registrar/objects/v/big.mp4?uploads"))
        #expect(create.headers.contains { $0.0 == "x-amz-checksum-algorithm" && $0.1 == "SHA256" })
        let part = try r.uploadPart(s3Key: key, uploadID: "a/b+c", number: 2, body: [1, 2, 3], credentials: credentials, date: date)
        #expect(part.url.hasSuffix("?partNumber=2&uploadId=a%2Fb%2Bc"))
        let complete = try r.completeMultipart(s3Key: key, uploadID: "u1", parts: [S3UploadedPart(number: 1, etag: "\"e1\"", sha256Base64: "s1"),
                                                                                      S3UploadedPart(number: 2, etag: "\"e2\"", sha256Base64: "s2")],
                                               credentials: credentials, date: date)
        #expect(String(decoding: complete.body ?? [], as: UTF8.self) == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag><ChecksumSHA256>s1</ChecksumSHA256></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag><ChecksumSHA256>s2</ChecksumSHA256></Part></CompleteMultipartUpload>")
        #expect(try r.abortMultipart(s3Key: key, uploadID: "u1", credentials: credentials, date: date).method == "DELETE")
        let list = try r.list(s3Prefix: r.target.metaRoot + "exports/", continuation: "t=1", credentials: credentials, date: date)
        #expect(list.url == "http://127.0.0.1:9000/media-out/?list-type=2&prefix=registrar%2Fobjects%2F.meta%2Fexports%2F&continuation-token=t%3D1")

        let initiated = Array("<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>media-out</Bucket><Key>k</Key><UploadId>VXBsb2Fk&amp;1</UploadId></InitiateMultipartUploadResult>".utf8)
        #expect(S3XML.value("UploadId", in: initiated) == "VXBsb2Fk&1")
        let listed = Array("<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/.meta/a</Key></Contents><Contents><Key>p/.meta/b</Key></Contents><NextContinuationToken>n1</NextContinuationToken></ListBucketResult>".utf8)
        #expect(S3XML.values("Key", in: listed) == ["p/.meta/a", "p/.meta/b"])
        #expect(S3XML.value("NextContinuationToken", in: listed) == "n1")
    }

    @Test func metadataLivesBesideTheObjects() {
        let t = S3StorageTarget(bucket: "media-out", prefix: "reg", integration: "x")
        #expect(t.objectKey(ObjectKey("uploads/f/abc/a.png")!) == "reg/uploads/f/abc/a.png")
        #expect(t.metaKey(ObjectKey("uploads/f/abc/a.png")!) == "reg/.meta/uploads/f/abc/a.png")
        #expect(S3StorageTarget(bucket: "media-out", prefix: "", integration: "x").metaRoot == ".meta/")
    }
}
