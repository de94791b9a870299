import RegistrarCore
import Testing

/// Pure parts of cloud-synced folders (docs/sync.md): the listing XML, the sidecar pairing and
/// the listing diff, the notification JSON, the binding's input and the signed list request.
@Suite struct S3ListingXMLTests {
    static let page = """
    <?xml version="1.0" encoding="UTF-8"?>
    <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>photos/</Prefix><KeyCount>3</KeyCount>
    <MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>
    <Contents><Key>photos/a&amp;b.jpg</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
    <Contents><Key>photos/caf&#233; &#x1F600;.png</Key><ETag>"9e107d9d372bb6826bd81d3542a419d6-2"</ETag><Size>0</Size><Owner><ID>x</ID></Owner></Contents>
    <Contents><Key><![CDATA[photos/<raw>.mp4]]></Key><ETag>"e4d909c290d0fb1ca068ffaddf22cbd0"</ETag><Size>99999999999</Size></Contents>
    <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><StartAfter/></ListBucketResult>
    """

    @Test func readsKeysSizesETagsAndTheContinuation() throws {
        let page = try S3ListingXML.parse(Array(Self.page.utf8)).get()
        #expect(page.objects == [
            ListedObject(key: "photos/a&b.jpg", size: 1234, etag: "0cc175b9c0f1b6a831c399e269772661"),
            ListedObject(key: "photos/café 😀.png", size: 0, etag: "9e107d9d372bb6826bd81d3542a419d6-2"),
            ListedObject(key: "photos/<raw>.mp4", size: 99_999_999_999, etag: "e4d909c290d0fb1ca068ffaddf22cbd0"),
        ])
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test func theLastPageHasNoToken() throws {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>"
        let page = try S3ListingXML.parse(Array(xml.utf8)).get()
        #expect(page.objects.count == 1 && !page.isTruncated && page.nextContinuationToken == nil)
        let empty = try S3ListingXML.parse(Array("<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>".utf8)).get()
        #expect(empty.objects.isEmpty)
    }

    @Test func malformedAnswersAreRefusedSayingWhere() {
        let cases: [(String, String)] = [
            ("<Error><Code>AccessDenied</Code></Error>", "error document"),
            ("<ListAllMyBucketsResult></ListAllMyBucketsResult>", "not <ListBucketResult>"),
            ("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "has no <Key>"),
            ("<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents></ListBucketResult>", "<Size> is 'x'"),
            ("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>", "has no <Size>"),
            ("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "no NextContinuationToken"),
            ("<ListBucketResult><Contents><Key>a&bogus;</Key>", "bad entity"),
            ("<ListBucketResult><Contents>", "not closed"),
            ("<ListBucketResult></Contents></ListBucketResult>", "closes"),
            ("", "no <ListBucketResult>"),
        ]
        for (xml, why) in cases {
            switch S3ListingXML.parse(Array(xml.utf8)) {
            case .success: Issue.record("accepted: \(xml)")
            case .failure(let e): #expect(e.message.contains(why), "\(xml) → \(e.message)")
            }
        }
    }
}

@Suite struct SyncPlanningTests {
    func o(_ key: String, _ etag: String = "e") -> ListedObject { ListedObject(key: key, size: 1, etag: etag) }

    @Test func sidecarsPairWithTheirObjectsAcrossPagesAndAreNeverObjects() {
        var pairing = SidecarPairing(suffix: ".metadata.json")
        // Page 1 ends between a.jpg and its sidecar; b.jpg's sidecar never comes.
        var settled = pairing.feed([o("a.jpg"), o("a.jpg.2"), ])
        #expect(settled.isEmpty, "a.jpg waits for its possible sidecar")
        settled = pairing.feed([o("a.jpg.metadata.json", "s1"), o("b.jpg"), o("c.jpg")])
        // Keys sorted: a.jpg < a.jpg.2 < a.jpg.metadata.json; a.jpg.2's sidecar would sort after "a.jpg.2.metadata.json" < "a.jpg.m…".
        #expect(settled.map(\.object.key).contains("a.jpg"))
        #expect(settled.first { $0.object.key == "a.jpg" }?.sidecarETag == "s1")
        settled += pairing.feed([o("c.jpg.metadata.json", "s2"), o("d.txt")])
        settled += pairing.finish()
        #expect(Set(settled.map(\.object.key)) == ["a.jpg", "a.jpg.2", "b.jpg", "c.jpg", "d.txt"])
        #expect(settled.first { $0.object.key == "b.jpg" }?.sidecarETag == nil)
        #expect(settled.first { $0.object.key == "c.jpg" }?.sidecarETag == "s2")
        #expect(!settled.contains { $0.object.key.hasSuffix(".metadata.json") })
        #expect(settled.first { $0.object.key == "d.txt" }?.type == .text)
        #expect(settled.first { $0.object.key == "a.jpg.2" }?.type == nil, "no known extension: not registered")
    }

    @Test func withoutASuffixEveryObjectSettlesAtOnce() {
        var pairing = SidecarPairing(suffix: nil)
        let settled = pairing.feed([o("x.mp4"), o("x.mp4.metadata.json")])
        #expect(settled.map(\.object.key) == ["x.mp4", "x.mp4.metadata.json"])
        #expect(settled[0].type == .video)
    }

    @Test func typesComeFromTheExtension() {
        #expect(SyncTypes.type(ofKey: "a/b.JPG") == .image)
        #expect(SyncTypes.type(ofKey: "a/b.mov") == .video)
        #expect(SyncTypes.type(ofKey: "a/b.wav") == .audio)
        #expect(SyncTypes.type(ofKey: "a/b.pdf") == .pdf)
        #expect(SyncTypes.type(ofKey: "a/scan.nii.gz") == .nifti)
        #expect(SyncTypes.type(ofKey: "a/b.exe") == nil)
        #expect(SyncTypes.type(ofKey: "a/dir/") == nil)
    }

    @Test func theDiffCreatesReprobesRestoresAndLeavesUnchangedObjectsAlone() {
        let listed = SyncedObject(object: o("k", "v2"), sidecarETag: "s", type: .image)
        func stored(_ etag: String, _ side: String? = "s", tomb: Bool = false, settled: Bool = true) -> StoredSyncState {
            StoredSyncState(etag: etag, sidecarETag: side, tombstoned: tomb, settled: settled)
        }
        #expect(SyncDiff.action(for: listed, stored: nil) == .create)
        #expect(SyncDiff.action(for: listed, stored: stored("v2")) == .unchanged)
        #expect(SyncDiff.action(for: listed, stored: stored("v1")) == .reprobe)
        #expect(SyncDiff.action(for: listed, stored: stored("v2", "old")) == .reprobe, "a changed sidecar re-reads the metadata")
        #expect(SyncDiff.action(for: listed, stored: stored("v2", tomb: true)) == .restore)
        #expect(SyncDiff.action(for: listed, stored: stored("v1", tomb: true)) == .restoreAndReprobe)
        #expect(SyncDiff.action(for: listed, stored: stored("v2", settled: false)) == .resume)
        #expect(!SyncDiff.probes(.unchanged) && !SyncDiff.probes(.restore))
        #expect(SyncDiff.probes(.create) && SyncDiff.probes(.reprobe) && SyncDiff.probes(.restoreAndReprobe) && SyncDiff.probes(.resume))
    }
}

@Suite struct S3EventNotificationTests {
    @Test func readsCreatedAndRemovedKeysFormDecoded() throws {
        let body = """
        {"Records":[
          {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},
           "object":{"key":"photos/new+file%281%29.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e"}}},
          {"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"photos/gone.jpg"}}},
          {"eventName":"ObjectRestore:Completed","s3":{"bucket":{"name":"b"},"object":{"key":"x"}}}
        ]}
        """
        let keys = try S3EventNotification.parse(Array(body.utf8), bucket: "b").get()
        #expect(keys == [NotifiedKey(change: .created, key: "photos/new file(1).jpg", size: 1024, etag: "d41d8cd98f00b204e9800998ecf8427e"),
                         NotifiedKey(change: .removed, key: "photos/gone.jpg")])
    }

    @Test func theTestEventHasNoKeys() throws {
        #expect(try S3EventNotification.parse(Array(#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#.utf8), bucket: "b").get().isEmpty)
    }

    @Test func badNotificationsNameTheRecordAndField() {
        let cases: [(String, String)] = [
            ("[]", "body"),
            ("{}", "Records"),
            (#"{"Records":[{"s3":{}}]}"#, "Records[0].eventName"),
            (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{}}}]}"#, "Records[0].s3.object.key"),
            (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"other"},"object":{"key":"k"}}}]}"#, "Records[0].s3.bucket.name"),
            (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"bad%zz"}}}]}"#, "Records[0].s3.object.key"),
        ]
        for (body, field) in cases {
            switch S3EventNotification.parse(Array(body.utf8), bucket: "b") {
            case .success: Issue.record("accepted: \(body)")
            case .failure(let e): #expect(e.field == field, "\(body) → \(e)")
            }
        }
    }

    @Test func secretsAreComparedByDigest() {
        let secret = NotificationSecret.generate()
        #expect(secret.hasPrefix("rsn_") && secret.count == 68)
        #expect(NotificationSecret.generate() != secret)
        let stored = NotificationSecret.digest(secret)
        #expect(NotificationSecret.matches(secret, storedDigest: stored))
        #expect(!NotificationSecret.matches(secret + "x", storedDigest: stored))
        #expect(!NotificationSecret.matches("", storedDigest: stored))
    }
}

@Suite struct SyncBindingSpecTests {
    @Test func acceptsBucketPrefixIntervalAndSuffix() throws {
        let s = try SyncBindingSpec.parse(uri: "s3://my-bucket/photos/2024/", interval: "24h", sidecarSuffix: ".metadata.json", appendOnly: false).get()
        #expect(s.bucket == "my-bucket" && s.prefix == "photos/2024/" && s.intervalSeconds == 86_400 && s.sidecarSuffix == ".metadata.json")
        #expect(try SyncBindingSpec.parse(uri: "s3://bkt", interval: nil, sidecarSuffix: nil, appendOnly: true).get().prefix == "")
        #expect(try SyncBindingSpec.parseInterval("90m").get() == 5400)
        #expect(try SyncBindingSpec.parseInterval("3600").get() == 3600)
    }

    @Test func refusalsNameTheField() {
        let cases: [(String, String?, String?, String)] = [
            ("gs://b/p", nil, nil, "uri"), ("azure://acct/c/p", nil, nil, "uri"), ("s3://B_ad/p", nil, nil, "uri"), ("s3://ok-bucket/p", "10s", nil, "interval"),
            ("s3://ok-bucket/p", "often", nil, "interval"), ("s3://ok-bucket/p", nil, "a/b", "sidecarSuffix"), ("s3://ok-bucket/p", nil, "", "sidecarSuffix"),
        ]
        for (uri, interval, suffix, field) in cases {
            switch SyncBindingSpec.parse(uri: uri, interval: interval, sidecarSuffix: suffix, appendOnly: false) {
            case .success: Issue.record("accepted \(uri) \(interval ?? "") \(suffix ?? "")")
            case .failure(let e): #expect(e.field == field, "\(e)")
            }
        }
    }

    @Test func theListRequestIsSignedAtTheEndpointWithItsQuery() throws {
        var settings = IntegrationSettings()
        settings.endpoint = "http://127.0.0.1:9000"
        let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
        let date = SigningDate(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59)!
        let first = try S3ListRequest.plan(kind: .s3Compatible, settings: settings, bucket: "bkt", prefix: "a b/",
                                           at: .init(), auth: .aws(creds), date: date).get()
        #expect(first.url == "http://127.0.0.1:9000/bkt/?list-type=2&max-keys=1000&prefix=a%20b%2F")
        #expect(first.headers.contains { $0.0.lowercased() == "authorization" && $0.1.contains("Credential=AKIDEXAMPLE/20240229/us-east-1/s3/aws4_request") })
        let next = try S3ListRequest.plan(kind: .s3Compatible, settings: settings, bucket: "bkt", prefix: "",
                                          at: .init(continuationToken: "t/+=", startAfter: "ignored"), auth: .aws(creds), date: date).get()
        #expect(next.url == "http://127.0.0.1:9000/bkt/?continuation-token=t%2F%2B%3D&list-type=2&max-keys=1000")
        let after = try S3ListRequest.plan(kind: .aws, settings: IntegrationSettings(), bucket: "bkt", prefix: "p/",
                                           at: .init(startAfter: "p/k9"), auth: .aws(creds), date: date).get()
        #expect(after.url == "https://bkt.s3.us-east-1.amazonaws.com/?list-type=2&max-keys=1000&prefix=p%2F&start-after=p%2Fk9")
        switch S3ListRequest.plan(kind: .gcp, settings: settings, bucket: "b", prefix: "", at: .init(), auth: .none, date: date) {
        case .success: Issue.record("gcs listing is not built")
        case .failure(let e): #expect(e.code == "unsupported_listing")
        }
    }
}
