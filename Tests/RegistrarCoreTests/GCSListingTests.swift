import RegistrarCore
import Testing

/// gs:// sync bindings and the JSON API listing page (request URL, parsing, change tags).
@Suite struct GCSListingTests {
    @Test func gsBindingsAreAcceptedAndNeedAGCPIntegration() throws {
        let s = try SyncBindingSpec.parse(uri: "gs://my_bucket/photos/", interval: nil, sidecarSuffix: ".metadata.json", appendOnly: true).get()
        #expect(s.scheme == "gs" && s.bucket == "my_bucket" && s.prefix == "photos/" && s.uri == "gs://my_bucket/photos/")
        #expect(try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: nil, sidecarSuffix: nil, appendOnly: false).get().scheme == "s3")
        #expect(s.integrationProblem(.gcp, name: "g") == nil)
        #expect(s.integrationProblem(.aws, name: "a") == "'a' is aws; a gs:// binding is listed with a gcp integration (a service-account key)")
        let s3 = try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: nil, sidecarSuffix: nil, appendOnly: false).get()
        #expect(s3.integrationProblem(.gcp, name: "g") == "'g' is gcp; an s3:// binding is listed with an aws or s3-compatible integration")
        #expect(s3.integrationProblem(.s3Compatible, name: "m") == nil)
        switch SyncBindingSpec.parse(uri: "gs://Bad/p", interval: nil, sidecarSuffix: nil, appendOnly: false) {
        case .success: Issue.record("accepted an upper-case GCS bucket")
        case .failure(let e): #expect(e.field == "uri" && e.message.contains("'Bad' may hold only lower-case letters"), "\(e)")
        }
    }

    @Test func thePageRequestCarriesPrefixTokenOffsetAndFields() {
        let first = GCSListRequest.url(base: "http://127.0.0.1:4443", bucket: "bkt", prefix: "a b/", at: .init())
        #expect(first == "http://127.0.0.1:4443/storage/v1/b/bkt/o?fields=nextPageToken%2Citems%28name%2Csize%2Cmd5Hash%2Ccrc32c%2Cetag%2Cgeneration%2Cupdated%2CcontentType%29&maxResults=1000&prefix=a%20b%2F")
        let next = GCSListRequest.url(base: "https://storage.googleapis.com", bucket: "bkt", prefix: "", at: .init(continuationToken: "tok=", startAfter: "z"), maxResults: 5)
        #expect(next.hasSuffix("&maxResults=5&pageToken=tok%3D"))
        let append = GCSListRequest.url(base: "https://storage.googleapis.com", bucket: "bkt", prefix: "p/", at: .init(startAfter: "p/k 9.png"))
        #expect(append.hasSuffix("&prefix=p%2F&startOffset=p%2Fk%209.png"))
    }

    @Test func pagesParseIntoListedObjectsWithChangeTags() throws {
        let body = #"""
            {"kind": "storage#objects", "nextPageToken": "CgZwL2IucG5n",
             "items": [
               {"name": "p/a.png", "size": "1234", "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==", "crc32c": "mnG7TA==", "generation": "17", "etag": "CJ+Y"},
               {"name": "p/composite.mp4", "size": "99", "crc32c": "AAAAAA==", "generation": "18"},
               {"name": "p/odd", "size": 5, "generation": "19"}
             ]}
            """#
        let page = try GCSListingJSON.parse(Array(body.utf8)).get()
        #expect(page.objects == [ListedObject(key: "p/a.png", size: 1234, etag: "5d41402abc4b2a76b9719d911017c592"),
                                 ListedObject(key: "p/composite.mp4", size: 99, etag: "crc32c:AAAAAA=="),
                                 ListedObject(key: "p/odd", size: 5, etag: "generation:19")])
        #expect(page.isTruncated && page.nextContinuationToken == "CgZwL2IucG5n")
        // The last page has no token; an empty prefix has no items; startOffset's own name is dropped.
        let last = try GCSListingJSON.parse(Array(#"{"items": [{"name": "p/a.png", "size": "1", "md5Hash": "XUFAKrxLKna5cZ2REBfFkg=="}]}"#.utf8), excluding: "p/a.png").get()
        #expect(last.objects.isEmpty && !last.isTruncated && last.nextContinuationToken == nil)
        #expect(try GCSListingJSON.parse(Array(#"{"kind": "storage#objects"}"#.utf8)).get().objects.isEmpty)
    }

    @Test func malformedPagesAreRefusedNamingTheItemAndField() {
        let cases: [(String, String)] = [
            ("[]", "listing JSON: the answer is not a JSON object"),
            (#"{"error": {"code": 403}}"#, "the store answered with an error document"),
            (#"{"items": {}}"#, "listing JSON: items is not an array"),
            (#"{"items": [{"size": "1"}]}"#, "listing JSON: item 1 has no name"),
            (#"{"items": [{"name": "k", "size": "-1", "generation": "1"}]}"#, "listing JSON: item 'k' has no size (or not a number)"),
            (#"{"items": [{"name": "k", "size": "1"}]}"#, "listing JSON: item 'k' has neither md5Hash, crc32c nor generation"),
            (#"{"items": [{"name": "k", "size": "1", "md5Hash": "short"}]}"#, "listing JSON: item 'k' has an md5Hash that is not 16 bytes of base64"),
            (#"{"items": [], "nextPageToken": 5}"#, "listing JSON: nextPageToken is not a string"),
        ]
        for (body, message) in cases {
            switch GCSListingJSON.parse(Array(body.utf8)) {
            case .success: Issue.record("accepted \(body)")
            case .failure(let e): #expect(e.message == message, "\(body)")
            }
        }
    }
}
