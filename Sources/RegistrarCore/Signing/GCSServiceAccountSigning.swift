// GCS V4 signed URLs with a service account's RSA key (`GOOG4-RSA-SHA256`): the same canonical
// request as the HMAC form, signed RSASSA-PKCS1-v1_5 over SHA-256 by the account's private key
// instead of an HMAC chain. What `gsutil signurl` and the client libraries'
// `generate_signed_url(version="v4")` produce.

import Crypto
import _CryptoExtras

/// Signed URLs for GCS from a service-account key.
public enum GCSServiceAccountSigning {
    /// A signed URL valid for `expires` seconds (1…604800); the credential is the account's
    /// email. The URL is a bearer credential: log it without its query.
    public static func presign(
        _ request: SigningRequest, key: GCPServiceAccountKey, region: String = GCSHMAC.defaultRegion, date: SigningDate, expires: Int
    ) throws(SigningError) -> String {
        try presignDetailed(request, key: key, region: region, date: date, expires: expires).url ?? ""
    }

    /// ``presign(_:key:region:date:expires:)`` with the canonical request and string to sign.
    public static func presignDetailed(
        _ request: SigningRequest, key: GCPServiceAccountKey, region: String = GCSHMAC.defaultRegion, date: SigningDate, expires: Int
    ) throws(SigningError) -> SigningResult {
        let rsa: _RSA.Signing.PrivateKey
        do { rsa = try ServiceAccountJWT.signingKey(key) } catch { throw .invalidKey }
        return try SigningV4Engine.presign(
            request, dialect: .gcsRSA, rules: GCSHMAC.rules, accessKey: key.clientEmail,
            scope: GCSHMAC.credentialScope(date: date, region: region), date: date, expires: expires, sessionToken: nil, extra: []
        ) { sts throws(SigningError) in
            do {
                let signature = try rsa.signature(for: SHA256.hash(data: Array(sts.utf8)), padding: .insecurePKCS1v1_5)
                return SigningHex.encode(Array(signature.rawRepresentation))
            } catch { throw .invalidKey }
        }
    }
}
