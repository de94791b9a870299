// Building an integration from what an operator gives `integrations add`: a credentials file
// (an AWS-style key file, a GCP service-account key file, a small JSON object) and/or flags,
// both reduced to one field map so the two paths cannot drift apart.

/// One integration's definition before it is stored: kind, settings, secret.
public struct IntegrationDefinition: Sendable, Equatable {
    public var kind: IntegrationKind
    public var settings: IntegrationSettings
    public var secret: IntegrationSecret

    public init(kind: IntegrationKind, settings: IntegrationSettings, secret: IntegrationSecret) {
        self.kind = kind
        self.settings = settings
        self.secret = secret
    }

    /// Field names accepted in files and as flags (`--access-key-id` ↔ `access_key_id`).
    public static let secretFields: Set<String> = ["secret_access_key", "session_token", "account_key", "sas_token",
                                                   "hmac_secret", "private_key"]
    static let knownFields: Set<String> = secretFields.union([
        "access_key_id", "role_arn", "external_id", "sts_endpoint", "sts_region", "region", "endpoint", "path_style",
        "account", "hmac_access_id", "client_email", "private_key_id", "token_uri", "type", "project_id",
    ])
    /// Other names people's files use for the same fields.
    static let aliases: [String: String] = [
        "aws_access_key_id": "access_key_id", "aws_secret_access_key": "secret_access_key",
        "aws_session_token": "session_token", "AccessKeyId": "access_key_id", "SecretAccessKey": "secret_access_key",
        "SessionToken": "session_token", "account_name": "account", "access_id": "hmac_access_id", "secret": "hmac_secret",
    ]

    /// Reads a credentials file: a JSON object whose string (and boolean) members are fields;
    /// `buckets` may be an array. A GCP service-account key file is accepted as Google issues it.
    public static func fields(fromFile bytes: [UInt8]) throws(IntegrationInputError) -> (fields: [String: String], buckets: [String]?) {
        let json = try JSONText.parse(bytes, what: "the credentials file")
        guard case .object(let members) = json else { throw IntegrationInputError("the credentials file must hold a JSON object") }
        let isServiceAccount = json["type"] == .string("service_account")
        var fields: [String: String] = [:]
        var buckets: [String]? = nil
        for (rawKey, value) in members {
            let key = aliases[rawKey] ?? rawKey
            if key == "buckets" {
                guard case .array(let a) = value else { throw IntegrationInputError("'buckets' must be an array of names") }
                buckets = try a.map { v throws(IntegrationInputError) -> String in
                    guard case .string(let s) = v else { throw IntegrationInputError("'buckets' must be an array of names") }
                    return s
                }
                continue
            }
            guard knownFields.contains(key) else {
                // Google's key files carry more (client_id, auth_uri, …) that we do not need.
                if isServiceAccount { continue }
                throw IntegrationInputError("unknown field '\(JSONText.safe(rawKey))' in the credentials file")
            }
            switch value {
            case .string(let s): fields[key] = s
            case .bool(let b): fields[key] = b ? "true" : "false"
            default: throw IntegrationInputError("field '\(key)' must be a string")
            }
        }
        return (fields, buckets)
    }

    /// Validates the fields for `kind` and builds the definition. Errors name fields, never values.
    public static func build(kind: IntegrationKind, fields input: [String: String], buckets: [String]?) throws(IntegrationInputError) -> IntegrationDefinition {
        var f = input.filter { !$0.value.isEmpty }
        for key in f.keys where !knownFields.contains(key) {
            throw IntegrationInputError("unknown field '\(JSONText.safe(key))'")
        }
        func take(_ k: String) -> String? { f.removeValue(forKey: k) }
        func need(_ k: String, _ why: String) throws(IntegrationInputError) -> String {
            guard let v = take(k) else { throw IntegrationInputError("a \(kind.rawValue) integration needs \(k) (\(why))") }
            return v
        }
        var settings = IntegrationSettings()
        settings.buckets = buckets
        if let b = buckets, b.isEmpty || b.contains(where: \.isEmpty) {
            throw IntegrationInputError("buckets, when given, must be non-empty names")
        }
        settings.region = take("region")
        settings.endpoint = take("endpoint")
        if let e = settings.endpoint, CloudForms.endpoint(e) == nil {
            throw IntegrationInputError("endpoint must be host[:port] or http(s)://host[:port] with no path")
        }
        if let p = take("path_style") {
            guard p == "true" || p == "false" else { throw IntegrationInputError("path_style must be true or false") }
            settings.pathStyle = p == "true"
        }
        _ = take("type")
        _ = take("project_id")
        let secret: IntegrationSecret
        switch kind {
        case .direct:
            secret = .none
        case .aws, .s3Compatible:
            if kind == .s3Compatible && settings.endpoint == nil {
                throw IntegrationInputError("an s3-compatible integration needs endpoint (e.g. https://obs.eu-de.otc.t-systems.com)")
            }
            let keys = AWSCredentials(accessKeyID: try need("access_key_id", "the access key id"),
                                      secretAccessKey: try need("secret_access_key", "the secret access key"),
                                      sessionToken: take("session_token"))
            secret = .awsKeys(keys)
            if kind == .aws {
                settings.roleARN = take("role_arn")
                settings.externalID = take("external_id")
                settings.stsEndpoint = take("sts_endpoint")
                settings.stsRegion = take("sts_region")
                if let arn = settings.roleARN, !(arn.hasPrefix("arn:aws") && arn.contains(":role/")) {
                    throw IntegrationInputError("role_arn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
                }
                if settings.roleARN == nil && (settings.externalID != nil || settings.stsEndpoint != nil) {
                    throw IntegrationInputError("external_id and sts_endpoint only apply with role_arn")
                }
                if let e = settings.stsEndpoint, !(e.hasPrefix("https://") || e.hasPrefix("http://")) {
                    throw IntegrationInputError("sts_endpoint must be an http(s) URL")
                }
            }
        case .gcp:
            if f["private_key"] != nil || f["client_email"] != nil {
                let key = GCPServiceAccountKey(
                    clientEmail: try need("client_email", "the service account's e-mail"),
                    privateKeyPEM: try need("private_key", "the service account's PEM private key"),
                    privateKeyID: take("private_key_id"),
                    tokenURI: take("token_uri") ?? "https://oauth2.googleapis.com/token")
                guard key.tokenURI.hasPrefix("https://") || key.tokenURI.hasPrefix("http://") else {
                    throw IntegrationInputError("token_uri must be an http(s) URL")
                }
                do { _ = try ServiceAccountJWT.signingKey(key) } catch {
                    throw IntegrationInputError("private_key is not an RSA private key in PEM form (2048 bits or more)")
                }
                settings.clientEmail = key.clientEmail
                settings.tokenURI = key.tokenURI
                secret = .gcpServiceAccount(key)
            } else if f["hmac_access_id"] != nil || f["hmac_secret"] != nil {
                secret = .gcpHMAC(GCSHMACCredentials(accessID: try need("hmac_access_id", "the HMAC key's access id"),
                                                     secret: try need("hmac_secret", "the HMAC key's secret")))
            } else {
                throw IntegrationInputError("a gcp integration needs a service-account key file (--from-file KEY.json) or hmac_access_id and hmac_secret")
            }
        case .azure:
            let account = try need("account", "the storage account name")
            settings.account = account
            let key = take("account_key"), sas = take("sas_token")
            switch (key, sas) {
            case (let k?, nil):
                do { secret = .azureSharedKey(try AzureSharedKeyCredentials(account: account, base64Key: k)) } catch {
                    throw IntegrationInputError("account_key must be the base64 account key")
                }
            case (nil, let s?):
                let token = s.hasPrefix("?") ? String(s.dropFirst()) : s
                guard token.contains("sig=") else { throw IntegrationInputError("sas_token must be a SAS query string (it has no sig=)") }
                secret = .azureSAS(token)
            case (nil, nil):
                throw IntegrationInputError("an azure integration needs account_key or sas_token")
            default:
                throw IntegrationInputError("give account_key or sas_token, not both")
            }
        }
        if let left = f.keys.sorted().first {
            throw IntegrationInputError("field '\(left)' does not apply to a \(kind.rawValue) integration")
        }
        return IntegrationDefinition(kind: kind, settings: settings, secret: secret)
    }
}
