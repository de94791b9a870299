// What an integration is: its kind, its non-secret settings (stored as jsonb, shown by
// `integrations list`) and its secret (stored only sealed by CredentialCipher). Pure values and
// their JSON forms; building one from a credentials file or flags lives in IntegrationInput.swift.

/// The kinds of integration `registrar integrations add KIND` accepts.
public enum IntegrationKind: String, Sendable, CaseIterable {
    /// AWS S3: static keys, or a role assumed through STS (`role_arn`, `external_id`).
    case aws
    /// Any S3 API at an endpoint: OTC OBS, Wasabi, Oracle's S3-compatible API, MinIO.
    case s3Compatible = "s3-compatible"
    /// Google Cloud Storage: a service-account key (OAuth2 bearer tokens) or HMAC keys.
    case gcp
    /// Azure Blob Storage: account key (Shared Key) or a SAS token.
    case azure
    /// No credentials: public or presigned URLs fetched as given.
    case direct

    /// The URL provider whose forms this kind accepts (see `CloudURL.check`).
    public var provider: CloudProvider {
        switch self {
        case .aws: return .aws
        case .s3Compatible: return .s3Compatible
        case .gcp: return .gcp
        case .azure: return .azure
        case .direct: return .direct
        }
    }
}

/// Non-secret settings. Stored in clear (jsonb) and shown to operators.
public struct IntegrationSettings: Sendable, Equatable {
    /// Signing region when the URL does not name one (AWS default `us-east-1`).
    public var region: String?
    /// S3-compatible: the endpoint (`https://obs.eu-de.otc.t-systems.com`, `http://127.0.0.1:9000`).
    /// aws/gcp/azure: an override for emulators and private endpoints (URLs at it are accepted).
    public var endpoint: String?
    /// Path-style (`ENDPOINT/bucket/key`) rather than virtual-hosted (`bucket.ENDPOINT/key`) when
    /// the integration builds a URL itself (from `s3://`). Default true for endpoints.
    public var pathStyle: Bool?
    /// AWS: a role to assume with STS; the stored keys are then only used to call STS.
    public var roleARN: String?
    /// AWS: the external id the role's trust policy demands.
    public var externalID: String?
    /// AWS: the STS endpoint (default `https://sts.amazonaws.com`).
    public var stsEndpoint: String?
    /// AWS: the region STS requests are signed for (default `us-east-1`).
    public var stsRegion: String?
    /// Azure: the storage account.
    public var account: String?
    /// GCP service account: its e-mail (shown so operators know which identity is used).
    public var clientEmail: String?
    /// GCP service account: the OAuth2 token endpoint, from the key file's `token_uri`.
    public var tokenURI: String?
    /// Buckets (containers) the integration may read; nil means any.
    public var buckets: [String]?

    public init() {}

    /// The jsonb form: only the keys that are set, snake_case.
    public var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = []
        func add(_ k: String, _ v: String?) { if let v { m.append((k, .string(v))) } }
        add("region", region)
        add("endpoint", endpoint)
        if let pathStyle { m.append(("path_style", .bool(pathStyle))) }
        add("role_arn", roleARN)
        add("external_id", externalID)
        add("sts_endpoint", stsEndpoint)
        add("sts_region", stsRegion)
        add("account", account)
        add("client_email", clientEmail)
        add("token_uri", tokenURI)
        if let buckets { m.append(("buckets", .array(buckets.map(JSONValue.string)))) }
        return .object(m)
    }

    /// Reads the jsonb form back (unknown keys are ignored: a newer version may add some).
    public init(json: JSONValue) {
        func s(_ k: String) -> String? { if case .string(let v)? = json[k] { return v }; return nil }
        region = s("region")
        endpoint = s("endpoint")
        if case .bool(let b)? = json["path_style"] { pathStyle = b }
        roleARN = s("role_arn")
        externalID = s("external_id")
        stsEndpoint = s("sts_endpoint")
        stsRegion = s("sts_region")
        account = s("account")
        clientEmail = s("client_email")
        tokenURI = s("token_uri")
        if case .array(let a)? = json["buckets"] {
            buckets = a.compactMap { if case .string(let v) = $0 { return v }; return nil }
        }
    }
}

/// A GCP service-account key, as in the JSON key file Google issues.
public struct GCPServiceAccountKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var clientEmail: String
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public var privateKeyPEM: String
    public var privateKeyID: String?
    public var tokenURI: String

    public init(clientEmail: String, privateKeyPEM: String, privateKeyID: String?, tokenURI: String) {
        self.clientEmail = clientEmail
        self.privateKeyPEM = privateKeyPEM
        self.privateKeyID = privateKeyID
        self.tokenURI = tokenURI
    }

    public var description: String { "GCPServiceAccountKey(clientEmail: \(clientEmail), privateKey: <redacted>)" }
    public var debugDescription: String { description }
}

/// An integration's secret, decrypted. `description` never shows secret material, so
/// interpolating one into a log line is safe.
public enum IntegrationSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `direct`: nothing to keep.
    case none
    /// AWS / S3-compatible access keys (for `aws` with a role: the keys that call STS).
    case awsKeys(AWSCredentials)
    case gcpServiceAccount(GCPServiceAccountKey)
    case gcpHMAC(GCSHMACCredentials)
    case azureSharedKey(AzureSharedKeyCredentials)
    /// An Azure SAS token (the query string, without `?`).
    case azureSAS(String)

    /// What kind of secret, for `integrations list` ("aws access keys", …).
    public var summary: String {
        switch self {
        case .none: return "none"
        case .awsKeys(let c): return "access key \(c.accessKeyID)" + (c.sessionToken == nil ? "" : " (with session token)")
        case .gcpServiceAccount(let k): return "service account \(k.clientEmail)"
        case .gcpHMAC(let c): return "HMAC key \(c.accessID)"
        case .azureSharedKey(let c): return "account key for \(c.account)"
        case .azureSAS: return "SAS token"
        }
    }

    public var description: String { "IntegrationSecret(\(summary))" }
    public var debugDescription: String { description }

    /// The plaintext that gets sealed: a small JSON object.
    public var serialized: [UInt8] {
        var m: [(key: String, value: JSONValue)] = []
        switch self {
        case .none:
            m = [("type", .string("none"))]
        case .awsKeys(let c):
            m = [("type", .string("aws_keys")), ("access_key_id", .string(c.accessKeyID)),
                 ("secret_access_key", .string(c.secretAccessKey))]
            if let t = c.sessionToken { m.append(("session_token", .string(t))) }
        case .gcpServiceAccount(let k):
            m = [("type", .string("gcp_service_account")), ("client_email", .string(k.clientEmail)),
                 ("private_key", .string(k.privateKeyPEM)), ("token_uri", .string(k.tokenURI))]
            if let id = k.privateKeyID { m.append(("private_key_id", .string(id))) }
        case .gcpHMAC(let c):
            m = [("type", .string("gcp_hmac")), ("access_id", .string(c.accessID)), ("secret", .string(c.secret))]
        case .azureSharedKey(let c):
            m = [("type", .string("azure_shared_key")), ("account", .string(c.account)),
                 ("key", .string(SigningBase64.encode(c.key)))]
        case .azureSAS(let t):
            m = [("type", .string("azure_sas")), ("sas_token", .string(t))]
        }
        return Array(JSONValue.object(m).compactText.utf8)
    }

    /// Reads `serialized` back. Errors name the missing field, never a value.
    public init(serialized bytes: [UInt8]) throws(IntegrationInputError) {
        let json = try JSONText.parse(bytes, what: "stored credentials")
        func s(_ k: String) throws(IntegrationInputError) -> String {
            guard case .string(let v)? = json[k] else { throw IntegrationInputError("stored credentials lack '\(k)'") }
            return v
        }
        func o(_ k: String) -> String? { if case .string(let v)? = json[k] { return v }; return nil }
        switch try s("type") {
        case "none": self = .none
        case "aws_keys":
            self = .awsKeys(AWSCredentials(accessKeyID: try s("access_key_id"), secretAccessKey: try s("secret_access_key"),
                                           sessionToken: o("session_token")))
        case "gcp_service_account":
            self = .gcpServiceAccount(GCPServiceAccountKey(clientEmail: try s("client_email"), privateKeyPEM: try s("private_key"),
                                                           privateKeyID: o("private_key_id"), tokenURI: try s("token_uri")))
        case "gcp_hmac":
            self = .gcpHMAC(GCSHMACCredentials(accessID: try s("access_id"), secret: try s("secret")))
        case "azure_shared_key":
            guard let key = SigningBase64.decode(try s("key")) else { throw IntegrationInputError("stored Azure key is not base64") }
            self = .azureSharedKey(AzureSharedKeyCredentials(account: try s("account"), key: key))
        case "azure_sas":
            self = .azureSAS(try s("sas_token"))
        case let other:
            throw IntegrationInputError("stored credentials have an unknown type '\(JSONText.safe(other))'")
        }
    }
}

/// Bad integration input (a credentials file, flags, a stored record). The message names fields,
/// never their values.
public struct IntegrationInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Small whole-document JSON reading for credential files and token responses (kilobytes, so a
/// tree is fine here, unlike manifests).
public enum JSONText {
    /// Parses one JSON value (at most 1 MiB). `what` names the document in errors; the error
    /// never quotes the document (it may hold a secret).
    public static func parse(_ bytes: [UInt8], what: String) throws(IntegrationInputError) -> JSONValue {
        guard bytes.count <= 1 << 20 else { throw IntegrationInputError("\(what) is larger than 1 MiB") }
        do {
            let tokenizer = JSONTokenizer(source: MemoryByteSource(bytes))
            let first = try tokenizer.next()
            var budget = 1 << 21
            let value = try tokenizer.readValue(after: first, budget: &budget)
            guard try tokenizer.next() == .end else { throw IntegrationInputError("\(what): text after the JSON value") }
            return value
        } catch let e as IntegrationInputError {
            throw e
        } catch {
            throw IntegrationInputError("\(what) is not valid JSON")
        }
    }

    /// A value fit for an error message: printable ASCII, at most 64 characters.
    static func safe(_ s: String) -> String {
        String(decoding: s.utf8.prefix(64).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
