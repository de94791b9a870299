import Crypto
import Foundation
import Testing
import _CryptoExtras
@testable import RegistrarCore

// Integration records in the pure core: the credential envelope and key ring, building a
// definition from a file or flags, the request planner's URL routing and signing, the STS
// response reader and the service-account JWT (checked with the public key).

fileprivate let key1 = SigningBase64.encode([UInt8](repeating: 1, count: 32))
fileprivate let key2 = SigningBase64.encode([UInt8](repeating: 2, count: 32))
fileprivate let canary = "CANARY-SECRET-7f3a9c"
fileprivate let date = SigningDate(iso8601Basic: "20260101T120000Z")!

@Suite struct CredentialCipherTests {
    @Test func roundTripAndRotation() throws {
        let old = try EncryptionKeyRing(text: "old:\(key1)")
        let sealed = CredentialCipher.seal(Array(canary.utf8), ring: old, associatedData: "registrar:integration:A")
        #expect(sealed.hasPrefix("v1:old:"))
        #expect(!sealed.contains(canary))
        #expect(CredentialCipher.keyID(of: sealed) == "old")
        #expect(try CredentialCipher.open(sealed, ring: old, associatedData: "registrar:integration:A") == Array(canary.utf8))

        // New key first, old kept: old ciphertexts still open, new ones use the new key.
        let rotated = try EncryptionKeyRing(text: "new:\(key2), old:\(key1)\n")
        #expect(rotated.currentID == "new")
        #expect(try CredentialCipher.open(sealed, ring: rotated, associatedData: "registrar:integration:A") == Array(canary.utf8))
        #expect(CredentialCipher.seal([1], ring: rotated, associatedData: "x").hasPrefix("v1:new:"))

        // The old key removed too early: a precise error naming the id.
        let newOnly = try EncryptionKeyRing(text: "new:\(key2)")
        #expect(throws: CredentialCipher.OpenError.unknownKey("old")) {
            try CredentialCipher.open(sealed, ring: newOnly, associatedData: "registrar:integration:A")
        }
    }

    @Test func tamperingWrongKeyAndWrongRecordFail() throws {
        let ring = try EncryptionKeyRing(text: "k:\(key1)")
        let sealed = CredentialCipher.seal(Array(canary.utf8), ring: ring, associatedData: "registrar:integration:A")
        #expect(throws: CredentialCipher.OpenError.authenticationFailed(keyID: "k")) {
            try CredentialCipher.open(sealed, ring: ring, associatedData: "registrar:integration:B")
        }
        let impostor = try EncryptionKeyRing(text: "k:\(key2)")
        #expect(throws: CredentialCipher.OpenError.authenticationFailed(keyID: "k")) {
            try CredentialCipher.open(sealed, ring: impostor, associatedData: "registrar:integration:A")
        }
        var bytes = SigningBase64.decode(String(sealed.dropFirst(5)))!
        bytes[bytes.count / 2] ^= 1
        #expect(throws: CredentialCipher.OpenError.authenticationFailed(keyID: "k")) {
            try CredentialCipher.open("v1:k:" + SigningBase64.encode(bytes), ring: ring, associatedData: "registrar:integration:A")
        }
        for bad in ["", "v2:k:AAAA", "v1:k", "v1:k:!!!", "v1:k:AAAA"] {
            #expect(throws: CredentialCipher.OpenError.malformed, "\(bad)") { try CredentialCipher.open(bad, ring: ring, associatedData: "") }
        }
        // Two seals of one plaintext differ (random nonce).
        #expect(CredentialCipher.seal([1, 2], ring: ring, associatedData: "") != CredentialCipher.seal([1, 2], ring: ring, associatedData: ""))
    }

    @Test("Key ring errors name the entry, never the key", arguments: [
        ("", "empty"), ("nokey", "entry 1 is not ID:BASE64KEY"), ("a:!!notbase64", "not valid base64"),
        ("a:\(SigningBase64.encode([UInt8](repeating: 9, count: 16)))", "16 bytes"), ("a:\(key1),a:\(key2)", "appears twice"),
        ("bad id:\(key1)", "the id must be"),
    ])
    func keyRingErrors(text: String, fragment: String) {
        do {
            _ = try EncryptionKeyRing(text: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(!error.description.contains(key1) && !error.description.contains(key2))
        }
    }

    @Test func ringDescriptionHidesKeys() throws {
        let ring = try EncryptionKeyRing(text: "k1:\(key1)")
        #expect(!"\(ring)".contains(key1))
    }
}

@Suite struct IntegrationInputTests {
    @Test func awsFromFileWithRoleAndSecretRoundTrip() throws {
        let file = #"{"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "\#(canary)", "role_arn": "arn:aws:iam::123456789012:role/reader", "external_id": "ext", "region": "eu-west-2", "buckets": ["media"]}"#
        let (fields, buckets) = try IntegrationDefinition.fields(fromFile: Array(file.utf8))
        let d = try IntegrationDefinition.build(kind: .aws, fields: fields, buckets: buckets)
        #expect(d.settings.roleARN == "arn:aws:iam::123456789012:role/reader")
        #expect(d.settings.externalID == "ext")
        #expect(d.settings.buckets == ["media"])
        #expect(!d.settings.json.compactText.contains(canary), "settings never hold the secret")
        #expect(!"\(d.secret)".contains(canary) && !d.secret.summary.contains(canary))
        #expect(try IntegrationSecret(serialized: d.secret.serialized) == d.secret)
    }

    @Test func everyKindBuildsAndRoundTrips() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let cases: [(IntegrationKind, [String: String])] = [
            (.s3Compatible, ["endpoint": "https://obs.eu-de.otc.t-systems.com", "access_key_id": "AK", "secret_access_key": canary]),
            (.gcp, ["client_email": "sa@p.iam.gserviceaccount.com", "private_key": rsa.pemRepresentation, "token_uri": "http://127.0.0.1:1/token"]),
            (.gcp, ["hmac_access_id": "GOOG1", "hmac_secret": canary]),
            (.azure, ["account": "acct", "account_key": SigningBase64.encode(Array(canary.utf8))]),
            (.azure, ["account": "acct", "sas_token": "?sv=2022&sig=\(canary)"]),
            (.direct, [:]),
        ]
        for (kind, fields) in cases {
            let d = try IntegrationDefinition.build(kind: kind, fields: fields, buckets: nil)
            #expect(try IntegrationSecret(serialized: d.secret.serialized) == d.secret, "\(kind)")
            #expect(!d.settings.json.compactText.contains(canary))
            #expect(!"\(d.secret)".contains(canary))
        }
    }

    @Test("Bad input names the field, never the value", arguments: [
        (IntegrationKind.aws, ["access_key_id": "AK"], "needs secret_access_key"),
        (.s3Compatible, ["access_key_id": "AK", "secret_access_key": canary], "needs endpoint"),
        (.aws, ["access_key_id": "AK", "secret_access_key": canary, "external_id": "x"], "only apply with role_arn"),
        (.aws, ["access_key_id": "AK", "secret_access_key": canary, "role_arn": "nope"], "role_arn must be"),
        (.azure, ["account": "a", "account_key": canary + "!", "sas_token": "sig=1"], "not both"),
        (.azure, ["account": "a", "sas_token": canary], "no sig="),
        (.gcp, ["private_key": canary, "client_email": "e"], "not an RSA private key"),
        (.direct, ["secret_access_key": canary], "does not apply"),
        (.aws, ["access_key_id": "AK", "secret_access_key": canary, "endpoint": "http://h/path"], "endpoint must be"),
    ])
    func refusals(kind: IntegrationKind, fields: [String: String], fragment: String) {
        do {
            _ = try IntegrationDefinition.build(kind: kind, fields: fields, buckets: nil)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(!error.description.contains(canary))
        }
    }

    @Test func fileErrors() {
        #expect(throws: IntegrationInputError("the credentials file is not valid JSON")) {
            try IntegrationDefinition.fields(fromFile: Array("{\"secret_access_key\": \"\(canary)\"".utf8))
        }
        #expect(throws: IntegrationInputError("unknown field 'colour' in the credentials file")) {
            try IntegrationDefinition.fields(fromFile: Array(#"{"colour": "red"}"#.utf8))
        }
        // Google's key files carry fields we do not need: accepted.
        #expect(throws: Never.self) {
            try IntegrationDefinition.fields(fromFile: Array(#"{"type": "service_account", "client_id": "1", "auth_uri": "x"}"#.utf8))
        }
    }
}

@Suite struct IntegrationRequestPlannerTests {
    let keys = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: canary)

    func settings(_ change: (inout IntegrationSettings) -> Void) -> IntegrationSettings {
        var s = IntegrationSettings()
        change(&s)
        return s
    }

    @Test func awsFormsAreSignedForTheirRegion() throws {
        let p = IntegrationRequestPlanner(kind: .aws, settings: IntegrationSettings())
        let virtual = try p.plan("https://media.s3.eu-west-2.amazonaws.com/a%20b.mp4", auth: .aws(keys), date: date).get()
        #expect(virtual.url == "https://media.s3.eu-west-2.amazonaws.com/a%20b.mp4")
        #expect(virtual.signingRegion == "eu-west-2")
        let auth = try #require(virtual.headers.first { $0.0 == "Authorization" }?.1)
        #expect(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-2/s3/aws4_request"))
        #expect(!virtual.headers.contains { $0.1.contains(canary) })

        let scheme = try p.plan("s3://media/dir/k%2B1.jpg", auth: .aws(keys), date: date).get()
        #expect(scheme.url == "https://media.s3.us-east-1.amazonaws.com/dir/k%2B1.jpg")

        // Encord's MRAP form: the global endpoint, SigV4A for every region.
        let mrap = try p.plan("https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com/Videos/v.mp4",
                              auth: .aws(keys), date: date).get()
        #expect(mrap.url == "https://frf28frarf9.mrap.accesspoint.s3-global.amazonaws.com/Videos/v.mp4")
        #expect(mrap.headers.contains { $0.0 == "X-Amz-Region-Set" && $0.1 == "*" })
        #expect(mrap.headers.first { $0.0 == "Authorization" }?.1.hasPrefix("AWS4-ECDSA-P256-SHA256") == true)
    }

    @Test func urlsOutsideTheIntegrationAreRefused() {
        let aws = IntegrationRequestPlanner(kind: .aws, settings: settings { $0.buckets = ["media"] })
        for url in ["https://storage.googleapis.com/b/k", "https://acct.blob.core.windows.net/c/b",
                    "https://other.s3.amazonaws.com/k", "https://example.com/x.jpg", "gs://b/k"] {
            guard case .failure(let e) = aws.plan(url, auth: .aws(keys), date: date) else { Issue.record("accepted \(url)"); continue }
            #expect(e.code == CloudURLError.Code.wrongIntegration, "\(url): \(e)")
        }
        let azure = IntegrationRequestPlanner(kind: .azure, settings: settings { $0.account = "mine" })
        guard case .failure(let e) = azure.plan("https://theirs.blob.core.windows.net/c/b", auth: .azureSAS("sig=1"), date: date) else {
            Issue.record("another account accepted"); return
        }
        #expect(e.code == CloudURLError.Code.wrongIntegration)
    }

    @Test func s3CompatibleEndpointPathAndVirtualStyle() throws {
        let path = IntegrationRequestPlanner(kind: .s3Compatible, settings: settings { $0.endpoint = "http://127.0.0.1:9000" })
        #expect(try path.plan("s3://b/k.png", auth: .aws(keys), date: date).get().url == "http://127.0.0.1:9000/b/k.png")
        #expect(try path.plan("http://127.0.0.1:9000/b/k.png", auth: .aws(keys), date: date).get().location.bucket == "b")
        let virtual = IntegrationRequestPlanner(kind: .s3Compatible, settings: settings {
            $0.endpoint = "https://objects.example.net"; $0.pathStyle = false
        })
        #expect(try virtual.plan("s3://b/k.png", auth: .aws(keys), date: date).get().url == "https://b.objects.example.net/k.png")
        let otc = try path.plan("https://b.obs.eu-de.otc.t-systems.com/k", auth: .aws(keys), date: date).get()
        #expect(otc.signingRegion == "eu-de")
    }

    @Test func gcsAzureAndDirect() throws {
        let gcs = IntegrationRequestPlanner(kind: .gcp, settings: IntegrationSettings())
        let bearer = try gcs.plan("https://storage.cloud.google.com/b/a%20b.jpg", auth: .gcsBearer(GCSAccessToken(token: canary)), date: date).get()
        #expect(bearer.url == "https://storage.googleapis.com/b/a%20b.jpg")
        #expect(bearer.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer \(canary)" })
        let hmac = try gcs.plan("gs://b/k", auth: .gcsHMAC(GCSHMACCredentials(accessID: "GOOG1", secret: canary)), date: date).get()
        #expect(hmac.headers.first { $0.0 == "Authorization" }?.1.hasPrefix("GOOG4-HMAC-SHA256") == true)

        let azure = IntegrationRequestPlanner(kind: .azure, settings: IntegrationSettings())
        let sas = try azure.plan("https://acct.blob.core.windows.net/c/b.png", auth: .azureSAS("sv=1&sig=abc"), date: date).get()
        #expect(sas.url == "https://acct.blob.core.windows.net/c/b.png?sv=1&sig=abc")
        let shared = try azure.plan("https://acct.blob.core.windows.net/c/b.png",
                                    auth: .azureSharedKey(AzureSharedKeyCredentials(account: "acct", key: [1, 2, 3])), date: date).get()
        #expect(shared.headers.first { $0.0 == "Authorization" }?.1.hasPrefix("SharedKey acct:") == true)

        let direct = IntegrationRequestPlanner(kind: .direct, settings: IntegrationSettings())
        let presigned = "https://b.s3.amazonaws.com/k?X-Amz-Signature=\(canary)"
        #expect(try direct.plan(presigned, auth: .none, date: date).get().url == presigned)
        #expect(try direct.plan(presigned, auth: .none, date: date).get().headers.isEmpty)
        guard case .failure = direct.plan("s3://b/k", auth: .none, date: date) else { Issue.record("s3:// via direct"); return }
    }
}

@Suite struct CredentialProviderTests {
    @Test func stsResponseIsRead() throws {
        let xml = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
        <Credentials><AccessKeyId>ASIATEST</AccessKeyId><SecretAccessKey>\(canary)</SecretAccessKey>
        <SessionToken>tok&amp;en</SessionToken><Expiration>2026-01-01T13:00:00.123Z</Expiration></Credentials>
        </AssumeRoleResult></AssumeRoleResponse>
        """
        let t = try STSAssumeRole.parseResponse(Array(xml.utf8))
        #expect(t.credentials.accessKeyID == "ASIATEST")
        #expect(t.credentials.sessionToken == "tok&en")
        #expect(t.expiration == SigningDate(year: 2026, month: 1, day: 1, hour: 13))
        #expect(!t.needsRefresh(at: date))
        #expect(t.needsRefresh(at: SigningDate(secondsSince1970: t.expiration.secondsSince1970 - 60)), "refreshed before expiry")
        #expect(throws: IntegrationInputError.self) { try STSAssumeRole.parseResponse(Array("<Error>\(canary)</Error>".utf8)) }
    }

    @Test func stsRequestIsASignedFormPost() throws {
        let keys = AWSCredentials(accessKeyID: "AKID", secretAccessKey: canary)
        let r = try STSAssumeRole.request(roleARN: "arn:aws:iam::1:role/r", externalID: "ext id", endpoint: nil, region: nil,
                                          credentials: keys, date: date)
        #expect(r.url == "https://sts.amazonaws.com/")
        let body = String(decoding: r.body, as: UTF8.self)
        #expect(body.contains("Action=AssumeRole") && body.contains("ExternalId=ext%20id") && body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"))
        #expect(r.headers.first { $0.0 == "Authorization" }?.1.contains("/us-east-1/sts/aws4_request") == true)
    }

    @Test func serviceAccountJWTVerifiesWithThePublicKey() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let key = GCPServiceAccountKey(clientEmail: "sa@p.iam.gserviceaccount.com", privateKeyPEM: rsa.pemRepresentation,
                                       privateKeyID: "kid1", tokenURI: "https://oauth2.googleapis.com/token")
        let jwt = try ServiceAccountJWT.assertion(for: key, now: date)
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ s: String) -> [UInt8] {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b.count % 4 != 0 { b += "=" }
            return SigningBase64.decode(b)!
        }
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(decode(parts[1]))) as? [String: Any])
        #expect(claims["iss"] as? String == key.clientEmail)
        #expect(claims["aud"] as? String == key.tokenURI)
        #expect(claims["scope"] as? String == ServiceAccountJWT.readOnlyScope)
        #expect((claims["exp"] as? Int).map { $0 - (claims["iat"] as? Int ?? 0) } == 3600)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(decode(parts[0]))) as? [String: Any])
        #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == "kid1")
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decode(parts[2]))
        #expect(rsa.publicKey.isValidSignature(signature, for: SHA256.hash(data: Array((parts[0] + "." + parts[1]).utf8)),
                                               padding: .insecurePKCS1v1_5))

        let token = try ServiceAccountJWT.parseTokenResponse(Array(#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#.utf8), now: date)
        #expect(token.token == "ya29.x")
        #expect(token.expiresAt == SigningDate(secondsSince1970: date.secondsSince1970 + 3599))
        #expect(ServiceAccountJWT.tokenRequestBody(assertion: "a.b.c").hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
    }
}
