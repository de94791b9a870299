import RegistrarCore
import Testing

/// Azure Blob storage settings, the signed requests the Azure storage sends (pure: fixed key and
/// time) and the List Blobs parser. The signatures are the ones azure-storage-blob's own
/// `SharedKeyCredentialPolicy` code computes for the same requests (with the Range header signed
/// as the service signs it; computed once, pasted below).
struct AzureStorageRequestsTests {
    // Azurite's published development key (not a secret).
    let credentials = try! AzureSharedKeyCredentials(account: "acct", base64Key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
    let date = SigningDate(year: 2026, month: 12, day: 7, hour: 12)!

    func requests(_ text: String = "https://acct.blob.core.windows.net/store/objects?integration=blobs", endpoint: String? = nil) throws -> AzureStorageRequests {
        guard case .azure(let target) = try StorageLocation.parse(text) else { throw StorageLocationError("not azure") }
        var settings = IntegrationSettings()
        settings.endpoint = endpoint
        settings.account = "acct"
        return try AzureStorageRequests(target: target, kind: .azure, settings: settings)
    }

    @Test func storageURLsParseOrSayWhatIsWrong() throws {
        #expect(try StorageLocation.parse("https://acct.blob.core.windows.net/store/a/b/?integration=x%20y&blockMiB=8") ==
                .azure(AzureStorageTarget(account: "acct", container: "store", prefix: "a/b", integration: "x y", blockThreshold: 8 << 20)))
        #expect(try StorageLocation.parse("https://acct.blob.core.chinacloudapi.cn/store?integration=x") ==
                .azure(AzureStorageTarget(account: "acct", host: "acct.blob.core.chinacloudapi.cn", container: "store", prefix: "", integration: "x")))
        let cases: [(String, String)] = [
            ("https://acct.blob.core.windows.net/store/p", "https://acct.blob.core.windows.net/store/p: say which integration's credentials sign the writes: https://acct.blob.core.windows.net/store/p?integration=NAME (an azure integration)"),
            ("https://acct.blob.core.windows.net/Store?integration=x", "https://acct.blob.core.windows.net/Store: the container name 'Store' may hold only lower-case letters, digits and '-'"),
            ("https://acct.blob.core.windows.net/?integration=x", "https://acct.blob.core.windows.net/: the container name is missing (https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME)"),
            ("https://acct.blob.core.windows.net/a--b?integration=x", "https://acct.blob.core.windows.net/a--b: the container name 'a--b' must start and end with a letter or digit and have no '--'"),
            ("https://ac.blob.core.windows.net/store?integration=x", "https://ac.blob.core.windows.net/store: the storage account 'ac' must be 3 to 24 lower-case letters and digits"),
            ("https://acct.blob.core.windows.net/store/a/../b?integration=x", "https://acct.blob.core.windows.net/store/a/../b: the prefix 'a/../b' has a '..' segment (segments of A-Z a-z 0-9 . _ - separated by /)"),
            ("https://acct.blob.core.windows.net/store?integration=x&blockMiB=0", "https://acct.blob.core.windows.net/store: blockMiB must be a whole number from 1 to 4000 (Azure's block sizes), not '0'"),
            ("https://acct.blob.core.windows.net/store?integration=x&sv=2021&sig=abc", "https://acct.blob.core.windows.net/store: a SAS token does not go in the storage URL; store it in the azure integration (sas_token) and name it with integration="),
            ("http://acct.blob.core.windows.net/store?integration=x", "http://acct.blob.core.windows.net/store: Azure storage is reached over https://"),
        ]
        for (text, message) in cases {
            #expect(throws: StorageLocationError(message)) { try StorageLocation.parse(text) }
        }
    }

    @Test func onlyAzureIntegrationsOfTheAccountAndContainerSign() throws {
        let target = AzureStorageTarget(account: "acct", container: "store", prefix: "", integration: "i")
        #expect(throws: StorageLocationError("https://acct.blob.core.windows.net/store: integration 'i' is of kind aws; Azure Blob storage needs an azure integration")) {
            try AzureStorageRequests(target: target, kind: .aws, settings: IntegrationSettings())
        }
        var other = IntegrationSettings()
        other.account = "someone"
        #expect(throws: StorageLocationError("https://acct.blob.core.windows.net/store: integration 'i' is for storage account 'someone', not 'acct'")) {
            try AzureStorageRequests(target: target, kind: .azure, settings: other)
        }
        var limited = IntegrationSettings()
        limited.buckets = ["media"]
        #expect(throws: StorageLocationError.self) { try AzureStorageRequests(target: target, kind: .azure, settings: limited) }
        limited.buckets = ["store"]
        #expect(try AzureStorageRequests(target: target, kind: .azure, settings: limited).containerURL == "https://acct.blob.core.windows.net/store")
        // At an emulator's endpoint: ENDPOINT/ACCOUNT/CONTAINER.
        #expect(try requests(endpoint: "http://127.0.0.1:10000/").url(blob: "objects/a b.txt") == "http://127.0.0.1:10000/acct/store/objects/a%20b.txt")
    }

    @Test func putBlobCarriesTheBodysMD5AndTheSDKsSignature() throws {
        let r = try requests()
        let body = Array("hello azure".utf8)
        let req = try r.putBlob("objects/a b.txt", body: body, contentType: "text/plain", auth: .azureSharedKey(credentials), date: date)
        #expect(req.method == "PUT" && req.url == "https://acct.blob.core.windows.net/store/objects/a%20b.txt")
        let h = Dictionary(req.headers, uniquingKeysWith: { a, _ in a })
        #expect(h["Content-MD5"] == "tkUrJK2kVJGLeolMhB8YmA==" && h["x-ms-blob-type"] == "BlockBlob")
        // Content-Length is signed (libcurl sends it) but not set by us.
        #expect(h["Content-Length"] == nil)
        #expect(h["Authorization"] == "SharedKey acct:v0uDxBsE4UPxWYrC3xJSPW5exzOYZxqLRMJ99sNaUbw=")
    }

    @Test func listingsAndRangedReadsSignTheRangeTheFetcherSends() throws {
        let r = try requests(endpoint: "http://127.0.0.1:10000")
        let req = try r.list(prefix: "objects/", marker: "abc=", rangeLength: 8 << 20, auth: .azureSharedKey(credentials), date: date)
        #expect(req.url == "http://127.0.0.1:10000/acct/store?restype=container&comp=list&prefix=objects%2F&maxresults=5000&marker=abc%3D")
        #expect(req.headers.contains { $0 == ("Authorization", "SharedKey acct:WBDKp10HuKCqE/mXmBdH+toOlG34omtMOFPzU7nSAxQ=") })
        #expect(!req.headers.contains { $0.0 == "Range" }, "the fetcher sends Range itself")
        #expect(AzureStorageRequests.range(start: 0, length: 8 << 20) == "bytes=0-8388607")
        // A SAS is appended instead, with the service version.
        let sas = try r.get("objects/a.txt", start: 10, length: 5, auth: .azureSAS("sv=2020-12-06&sr=c&sp=r&sig=x"), date: date)
        #expect(sas.url == "http://127.0.0.1:10000/acct/store/objects/a.txt?sv=2020-12-06&sr=c&sp=r&sig=x")
        #expect(sas.headers.map(\.0) == ["x-ms-version"])
    }

    @Test func blockIDsAreOfOneLengthAndTheBlockListNamesThemInOrder() throws {
        #expect(AzureStorageRequests.blockID(1) == "cmVnaXN0cmFyLWJsb2NrLTAwMDAwMQ==")
        #expect(Set((1...50_000).map { AzureStorageRequests.blockID($0).count }).count == 1)
        let r = try requests()
        let req = try r.putBlockList("objects/v.mp4", blockIDs: [AzureStorageRequests.blockID(1), AzureStorageRequests.blockID(2)],
                                     contentType: "video/mp4", blobMD5Base64: "AAAA", auth: .azureSharedKey(credentials), date: date)
        let xml = String(decoding: req.body ?? [], as: UTF8.self)
        #expect(xml.hasSuffix("<BlockList><Latest>cmVnaXN0cmFyLWJsb2NrLTAwMDAwMQ==</Latest><Latest>cmVnaXN0cmFyLWJsb2NrLTAwMDAwMg==</Latest></BlockList>"))
        #expect(req.url.hasSuffix("?comp=blocklist"))
        let h = Dictionary(req.headers, uniquingKeysWith: { a, _ in a })
        #expect(h["x-ms-blob-content-type"] == "video/mp4" && h["x-ms-blob-content-md5"] == "AAAA" && h["Content-MD5"] == AzureStorageRequests.md5Base64(req.body!))
    }

    @Test func listBlobsAnswersParse() throws {
        let xml = """
        <?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="store">\
        <Prefix>data/</Prefix><MaxResults>2</MaxResults><Blobs>\
        <Blob><Name>data/a &amp; b.png</Name><Properties><Last-Modified>Mon, 07 Dec 2026 12:00:00 GMT</Last-Modified><Etag>0x8DC1</Etag>\
        <Content-Length>12</Content-Length><Content-Type>image/png</Content-Type><Content-MD5>tkUrJK2kVJGLeolMhB8YmA==</Content-MD5>\
        <BlobType>BlockBlob</BlobType></Properties><Metadata /></Blob>\
        <BlobPrefix><Name>data/sub/</Name></BlobPrefix>\
        <Blob><Name>data/big.mp4</Name><Properties><Etag>"0x8DC2"</Etag><Content-Length>99</Content-Length><Content-MD5 /></Properties></Blob>\
        </Blobs><NextMarker>2!84!MDAwMDIw</NextMarker></EnumerationResults>
        """
        let page = try AzureListingXML.parse(Array(xml.utf8)).get()
        #expect(page.objects == [ListedObject(key: "data/a & b.png", size: 12, etag: "tkUrJK2kVJGLeolMhB8YmA=="),
                                 ListedObject(key: "data/big.mp4", size: 99, etag: "0x8DC2")])
        #expect(page.nextMarker == "2!84!MDAwMDIw")
        let last = try AzureListingXML.parse(Array("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>".utf8)).get()
        #expect(last.objects.isEmpty && last.nextMarker == nil)
        #expect(throws: S3ListingError("the store answered with an error document")) {
            try AzureListingXML.parse(Array("<Error><Code>AuthenticationFailed</Code></Error>".utf8)).get()
        }
        #expect(throws: S3ListingError("listing XML: <Blob> 'x' has no <Content-Length>")) {
            try AzureListingXML.parse(Array("<EnumerationResults><Blobs><Blob><Name>x</Name><Properties/></Blob></Blobs></EnumerationResults>".utf8)).get()
        }
        #expect(throws: S3ListingError("listing XML: the root is <ListBucketResult>, not <EnumerationResults>")) {
            try AzureListingXML.parse(Array("<ListBucketResult></ListBucketResult>".utf8)).get()
        }
    }
}

/// Azure container URIs for cloud-synced folders: parsed into the container URL kept as the
/// binding's "bucket", the integration checked, the List Blobs page request planned.
struct AzureSyncBindingTests {
    @Test func containerURIsBindWithTheirPrefixAndObjectURLs() throws {
        let s = try SyncBindingSpec.parse(uri: "https://acct.blob.core.windows.net/scans/2026/a b/", interval: "24h", sidecarSuffix: nil, appendOnly: false).get()
        #expect(s.bucket == "https://acct.blob.core.windows.net/scans" && s.prefix == "2026/a b/" && s.isAzure)
        #expect(s.uri == "https://acct.blob.core.windows.net/scans/2026/a b/")
        #expect(s.objectURL(key: "2026/a b/x?.png") == "https://acct.blob.core.windows.net/scans/2026/a%20b/x%3F.png")
        let s3 = try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: nil, sidecarSuffix: nil, appendOnly: true).get()
        #expect(!s3.isAzure && s3.objectURL(key: "p/a b") == "s3://bkt/p/a%20b")
        let cases: [(String, Bool, String, String)] = [
            ("https://acct.blob.core.windows.net/scans/", true, "appendOnly", "Azure List Blobs cannot start after a name, so an Azure binding cannot be append-only"),
            ("https://acct.blob.core.windows.net/Scans/", false, "uri", "the container name 'Scans' may hold only lower-case letters, digits and '-'"),
            ("https://acct.blob.core.windows.net/scans/?sv=1&sig=x", false, "uri", "'https://acct.blob.core.windows.net/scans/?sv=1&sig=x' must be https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/ with no query (a SAS belongs in the azure integration)"),
            ("https://x.blob.core.windows.net/scans/", false, "uri", "the storage account 'x' must be 3 to 24 lower-case letters and digits"),
            ("https://example.com/scans/", false, "uri", "'https://example.com/scans/' is not an s3:// or gs:// URI (s3://bucket/prefix/, gs://bucket/prefix/) or an Azure container URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/)"),
        ]
        for (uri, appendOnly, field, message) in cases {
            #expect(throws: FieldError(field: field, message: message)) { try SyncBindingSpec.parse(uri: uri, interval: nil, sidecarSuffix: nil, appendOnly: appendOnly).get() }
        }
    }

    @Test func theIntegrationMustListTheBindingsStore() throws {
        let azure = try SyncBindingSpec.parse(uri: "https://acct.blob.core.windows.net/scans/", interval: nil, sidecarSuffix: nil, appendOnly: false).get()
        let s3 = try SyncBindingSpec.parse(uri: "s3://bkt/", interval: nil, sidecarSuffix: nil, appendOnly: false).get()
        var mine = IntegrationSettings()
        mine.account = "acct"
        var theirs = IntegrationSettings()
        theirs.account = "other"
        #expect(azure.integrationProblem(.azure, name: "a", settings: mine) == nil)
        #expect(azure.integrationProblem(.azure, name: "a", settings: theirs) == "'a' is for storage account 'other', not 'acct'")
        #expect(azure.integrationProblem(.aws, name: "w", settings: mine) == "'w' is aws; an Azure container is listed with an azure integration")
        #expect(s3.integrationProblem(.azure, name: "a", settings: mine) == "'a' is azure; an s3:// binding is listed with an aws or s3-compatible integration")
        #expect(s3.integrationProblem(.s3Compatible, name: "m") == nil)
    }

    @Test func theListBlobsPageIsPlannedAtTheEndpointFromTheMarker() throws {
        var settings = IntegrationSettings()
        settings.endpoint = "http://127.0.0.1:10000"
        settings.account = "acct"
        let credentials = try AzureSharedKeyCredentials(account: "acct", base64Key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
        let date = SigningDate(year: 2026, month: 12, day: 7, hour: 12)!
        let p = try AzureListRequest.plan(kind: .azure, settings: settings, containerURL: "https://acct.blob.core.windows.net/store", prefix: "objects/",
                                          marker: "abc=", rangeLength: 8 << 20, auth: .azureSharedKey(credentials), date: date).get()
        #expect(p.url == "http://127.0.0.1:10000/acct/store?restype=container&comp=list&prefix=objects%2F&maxresults=5000&marker=abc%3D")
        // The same signature azure-storage-blob's code computes (AzureStorageRequestsTests).
        #expect(p.headers.contains { $0 == ("Authorization", "SharedKey acct:WBDKp10HuKCqE/mXmBdH+toOlG34omtMOFPzU7nSAxQ=") })
        #expect(throws: CloudURLError.self) {
            try AzureListRequest.plan(kind: .aws, settings: settings, containerURL: "https://acct.blob.core.windows.net/store", prefix: "", marker: nil,
                                      rangeLength: 1, auth: .azureSharedKey(credentials), date: date).get()
        }
    }
}
