import RegistrarCore
import Testing

/// Presigned URLs for exports (docs/labels.md, "Signed URLs"): each provider's form checked
/// against its official client library for the same inputs (computed once with botocore's
/// S3SigV4QueryAuth, google-cloud-storage's generate_signed_url_v4 and azure-storage-blob's
/// BlobSharedAccessSignature, then pasted here). The RSA key below is a throwaway made for
/// this test; the other credentials are published examples or made up.
struct ExportURLSigningTests {
    let date = SigningDate(year: 2026, month: 12, day: 7, hour: 12)!

    static let testRSAKey = """
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7ruCc57m5ld0S
pqtLuH0gJGlUILrfbNn27fb8D32WikNrHWEevSbBuPsWtnPxRHBSYry+2Wx6mjOF
KusF0hZNcgX31P/SqocfQQayU2DzPcl4woI9muuHCF4UHUoSRRVNkRWY8WVYdxe2
PCFid+jEHEJcVCsXJnJFXkpWAuggXuL7TaqgsRSa1hs/jyMacuyIql37z4Xe6KRl
fhWsEFV7+C1pGbUSrmG46AOIIN0Zdp0eahaozjTYyaP7skCKerjLVN7dxOy5/Q2D
urbK30q5DftbkkQ8yFDGihrKvhR0LNOeZ/39WvTrNz4/nEAZi6Xr1Gi7EHr4L6Zj
KhnhsM1TAgMBAAECggEAHoSOmGTjocY5Ft3MD7l1eyMAj4Hs8QSRoqHKHe1k5fQg
h0vVLXrjUO/DwEs1qh8PRo4wk7Xl+j+VrgsvARjKsJggWU6ktHwvEYlwzdFZ++Np
nb2/EMZekuvs5Edo8nSSRLUZNm/WI17mF6dKZGkMC8tujPXQteh1/0qYOskpNo3/
3Ns7Ka8hnoEZqgmDjdvXQ76eC4W0AAis2XCmw1uvFvCjCwucPMnCVmEhTG5L1kuz
7DhgpjY1FlmAlwMt8GPPUpr9iFiO9lUKcG6rNlXAPJQykFMOHgO5tgTdX/ENOlKK
fVuuX8LJZ2h3gyNxyVIRpULwBeQVajZs+ggWsopgeQKBgQDpW6u5CZGi5bHrY/YE
SVVPr11Bj0TMa7wW/V7JHqtMgMoy7xFEEUeXIRwuji2gXQ/FZWqzkT7oP+diwv0Y
KUGO+GD9UMm2rIGk3xyqfknpGJBTYBcyMw1HDfUvfjeDvPGVhMrap2LoLRsbGX1V
Un4NFDI+O0/w+3ODuHMMiIvPGQKBgQDN5LI4AON5ybxYC3izBGUjTY0EWYWVPeAB
lzgZCPUseNaC7zNyl+rFKRNR3rS2Esl/3Foi/y4SRKtdKOf3orpOLDbXcOV2iGIV
BR1gwGYXLx3KFRMERW5pWa1sz57P9YQuPEAwF+bkulFA+5ntmxtQnx4a9diaRITm
+JJaBrVJSwKBgFqOUF1F8VYdfKWz7MxNCOYbTz0Zs8EALcVeHWI+nIrbj5ukWjbn
3bgwCRen5NzOQEiByp5URu0pn0kcEctGd0Jb8IdcymoxFz47towS5eumtJsmNtos
JYLlT7hWaoSc1cMH/RBM1Hz0xAgIJDLwCCpbJAQyUBtb+L+s3DiI5HhBAoGBAMb3
TlJYaXrzvJLI4yb8BFCNTMz7Rd/nH2XqIEfxJByJ2aJGTc1biYBmJUlkkfWxSg/J
fUF8n6T/vyoTsbbZBnksuQKREu3s9fuiKbWpt/6HhZ4Xp3zlK8Ga68DPEoWcmNOl
XdIcBwDaHFNT0HiQ/2B1o74h/eN2e4hIhgWBngbpAoGAAWlQ112VBO7UYrTgh/kB
Sdremr9LNceUHbLZT6301Wd0wumLaVDVv74ZVxrRUgYlWmKdTwq1VcdamykT8+mv
JxRauxgWOoQRweDebdDRMGROxyPJ98hdiAvSL5Xj3Dg3xXU5eZbg142zK7+NjT3L
t759l8tK3HSjbToF8RXTt4I=
-----END PRIVATE KEY-----
"""

    func planner(_ kind: IntegrationKind, endpoint: String? = nil) -> IntegrationRequestPlanner {
        var settings = IntegrationSettings()
        settings.endpoint = endpoint
        return IntegrationRequestPlanner(kind: kind, settings: settings)
    }

    @Test func s3PresignMatchesBotocore() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let signed = try planner(.s3Compatible, endpoint: "http://127.0.0.1:9000")
            .presign("s3://media-out/photos/cat%201.png", secret: .awsKeys(credentials), auth: .aws(credentials), date: date, ttl: 900).get()
        #expect(signed == "http://127.0.0.1:9000/media-out/photos/cat%201.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=fe2fcc25e65d5d83262e5622ac1ac0e46c7b555c03b3279711f9e7cc1380fab2")
        #expect(!signed.contains(credentials.secretAccessKey))
    }

    @Test func gcsServiceAccountSignedURLMatchesGoogleCloudStorage() throws {
        let key = GCPServiceAccountKey(clientEmail: "registrar-test@example-project.iam.gserviceaccount.com", privateKeyPEM: Self.testRSAKey,
                                       privateKeyID: "k1", tokenURI: "https://oauth2.googleapis.com/token")
        let signed = try planner(.gcp).presign("gs://media-bucket/photos/cat%201.png", secret: .gcpServiceAccount(key), auth: .none, date: date, ttl: 900).get()
        #expect(signed == "https://storage.googleapis.com/media-bucket/photos/cat%201.png?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=registrar-test%40example-project.iam.gserviceaccount.com%2F20261207%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261207T120000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=1c0a4e28f9ee6040f5d60f933190c62262e5c846f2935aa612f4b34aa396ae447f99ce0b83ce4b2c74ecb9678b8217b7d4562a0a1892178ff3b423930535d039a6e69dbb88882b3590cef4d6ea908f05e919ee3a7eb4a12f9f13de6b01020cde7f4486a0aa97af93491b842534dfe1f946449e0fa605af6c84d22931ec4670fc8e5221e7c72fbbbd37de52dfaf80e3d12232a3c6b4189faf65325fa5f934cb3ea7f37260813d7852e6c151ebf4265f0ceffa64b9dd51e082a21bd25605f259f6d3ee0d1143ad9f1ece2f2cf8b2913dc42ed7c0b32151518e946a5de325bc7e917058bf6a6c46e27f92186cf60984f42bb14a0d9b4a6a22a6828fbfddc41fdb9b")
    }

    @Test func azureSASMatchesTheStorageSDK() throws {
        let credentials = try AzureSharedKeyCredentials(account: "registraracct", base64Key: "cmVnaXN0cmFyLXRlc3QtYWNjb3VudC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==")
        // The SDK's own service version, to compare signatures; Registrar signs with AzureSAS.version.
        let url = try AzureSAS.readURL("https://registraracct.blob.core.windows.net/media/photos/cat%201.png", container: "media", blob: "photos/cat 1.png",
                                       credentials: credentials, date: date, expires: 900, version: "2026-10-06")
        #expect(url.hasSuffix("?sv=2026-10-06&spr=https%2Chttp&se=2026-12-07T12%3A15%3A00Z&sr=b&sp=r&sig=cDXymBhMGlgaQeo%2FzcEQLDATp5clxd7yrrUeshXBM6w%3D"), "\(url)")
        // Through the planner: an azure integration's blob URL gets a read SAS of the asked lifetime.
        let signed = try planner(.azure).presign("https://registraracct.blob.core.windows.net/media/photos/a.png", secret: .azureSharedKey(credentials),
                                                 auth: .azureSharedKey(credentials), date: date, ttl: 60).get()
        #expect(signed.contains("sv=2020-12-06&spr=https%2Chttp&se=2026-12-07T12%3A01%3A00Z&sr=b&sp=r&sig="))
    }

    @Test func lifetimesOutsideOneSecondToSevenDaysAreRefused() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
        for ttl in [0, -1, 604_801] {
            if case .success = planner(.aws).presign("s3://b-1/k", secret: .awsKeys(credentials), auth: .aws(credentials), date: date, ttl: ttl) {
                Issue.record("ttl \(ttl) accepted")
            }
        }
        #expect((try? planner(.aws).presign("s3://b-1/k", secret: .awsKeys(credentials), auth: .aws(credentials), date: date, ttl: 604_800).get()) != nil)
        #expect((try? planner(.aws).presign("s3://b-1/k", secret: .awsKeys(credentials), auth: .aws(credentials), date: date, ttl: 1).get())?.contains("X-Amz-Expires=1&") == true)
    }

    @Test func directAndAlreadySignedURLsStayAsRegistered() throws {
        #expect(try planner(.direct).presign("https://example.com/a.png", secret: .none, auth: .none, date: date, ttl: 60).get() == "https://example.com/a.png")
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
        let presigned = "https://b-1.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Expires=10"
        #expect(try planner(.aws).presign(presigned, secret: .awsKeys(credentials), auth: .aws(credentials), date: date, ttl: 60).get() == presigned)
    }

    @Test func rowLinksAreRewrittenEverywhereAndNothingElse() {
        let row = JSONValue.parse(Array(#"{"data_link": "s3://b/a.png", "data_units": {"h": {"data_link": "s3://b/a.png", "title": "s3://b/a.png x", "frames": ["s3://b/f1.png"]}}}"#.utf8))!
        let out = ExportURLRewrite.replacing(["s3://b/a.png": "https://signed/a", "s3://b/f1.png": "https://signed/f1"], in: row)
        #expect(out.compactText == #"{"data_link":"https://signed/a","data_units":{"h":{"data_link":"https://signed/a","title":"s3://b/a.png x","frames":["https://signed/f1"]}}}"#)
    }
}
