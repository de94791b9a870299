// GCP service-account OAuth2 (RFC 7523 JWT bearer grant): a JWT signed with the account's RSA
// key (RS256) is exchanged at the key file's token_uri for an access token. Pure: building the
// assertion and request body, and reading the response; the HTTP exchange is the caller's.

import Crypto
import _CryptoExtras

/// The signed-JWT assertion and the token exchange's request and response.
public enum ServiceAccountJWT {
    /// Read-only access to objects: all verification needs.
    public static let readOnlyScope = "https://www.googleapis.com/auth/devstorage.read_only"
    /// Read and write access to objects: Registrar's own gs:// storage.
    public static let readWriteScope = "https://www.googleapis.com/auth/devstorage.read_write"
    /// Google's maximum assertion lifetime.
    public static let lifetime: Int64 = 3600

    /// The RSA key of a service account (PKCS#8 or PKCS#1 PEM).
    public static func signingKey(_ key: GCPServiceAccountKey) throws -> _RSA.Signing.PrivateKey {
        try _RSA.Signing.PrivateKey(pemRepresentation: key.privateKeyPEM)
    }

    /// `base64url(header).base64url(claims).base64url(RS256 signature)`.
    public static func assertion(for key: GCPServiceAccountKey, scope: String = readOnlyScope, now: SigningDate) throws -> String {
        var header: [(key: String, value: JSONValue)] = [("alg", .string("RS256")), ("typ", .string("JWT"))]
        if let kid = key.privateKeyID { header.append(("kid", .string(kid))) }
        let claims: JSONValue = .object([
            ("iss", .string(key.clientEmail)), ("scope", .string(scope)), ("aud", .string(key.tokenURI)),
            ("iat", .number(String(now.secondsSince1970))), ("exp", .number(String(now.secondsSince1970 + lifetime))),
        ])
        let signingInput = base64URL(Array(JSONValue.object(header).compactText.utf8)) + "." + base64URL(Array(claims.compactText.utf8))
        let rsa = try signingKey(key)
        let signature = try rsa.signature(for: SHA256.hash(data: Array(signingInput.utf8)), padding: .insecurePKCS1v1_5)
        return signingInput + "." + base64URL(Array(signature.rawRepresentation))
    }

    /// The `application/x-www-form-urlencoded` body of the token request.
    public static func tokenRequestBody(assertion: String) -> String {
        "grant_type=" + SigningPercentEncoding.encode("urn:ietf:params:oauth:grant-type:jwt-bearer") + "&assertion=" + assertion
    }

    /// Reads `{"access_token": …, "expires_in": N, "token_type": "Bearer"}`. The error never
    /// quotes the response (it may hold a token).
    public static func parseTokenResponse(_ bytes: [UInt8], now: SigningDate) throws(IntegrationInputError) -> GCSAccessToken {
        let json = try JSONText.parse(bytes, what: "the token endpoint's response")
        guard case .string(let token)? = json["access_token"], !token.isEmpty else {
            throw IntegrationInputError("the token endpoint's response has no access_token")
        }
        var expires: Int64 = 3600
        if case .number(let n)? = json["expires_in"], let v = Int64(n) { expires = v }
        return GCSAccessToken(token: token, expiresAt: SigningDate(secondsSince1970: now.secondsSince1970 + expires))
    }

    /// Base64url without padding (RFC 7515).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        var s = SigningBase64.encode(bytes)
        while s.hasSuffix("=") { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}
