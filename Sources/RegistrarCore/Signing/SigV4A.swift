// AWS SigV4A (AWS4-ECDSA-P256-SHA256), used for S3 Multi-Region Access Points: the string to
// sign is signed with an ECDSA P-256 key derived from the secret access key, and the scope has
// no region; the regions go in `X-Amz-Region-Set` instead. ECDSA comes from swift-crypto.

import Crypto

/// AWS Signature Version 4A.
public enum SigV4A {
    /// The headers to add: `Authorization`, `X-Amz-Date`, `X-Amz-Region-Set`,
    /// `X-Amz-Content-SHA256` (S3 rules) and `X-Amz-Security-Token`. ECDSA signatures are
    /// randomised: two calls give different, equally valid signatures.
    ///
    /// - Parameter regionSet: regions the signature is valid in; `["*"]` for all (what Multi-Region
    ///   Access Points use).
    public static func sign(
        _ request: SigningRequest, credentials: AWSCredentials, regionSet: [String] = ["*"], service: String = "s3",
        date: SigningDate, options: SigV4.Options? = nil
    ) throws(SigningError) -> [(String, String)] {
        try signDetailed(request, credentials: credentials, regionSet: regionSet, service: service, date: date, options: options).headers
    }

    /// ``sign(_:credentials:regionSet:service:date:options:)`` with the canonical request and
    /// string to sign (the canonical request holds header values: never log it).
    public static func signDetailed(
        _ request: SigningRequest, credentials: AWSCredentials, regionSet: [String] = ["*"], service: String = "s3",
        date: SigningDate, options: SigV4.Options? = nil
    ) throws(SigningError) -> SigningResult {
        let key = try privateKey(credentials)
        return try SigningV4Engine.signHeaders(
            request, dialect: .awsECDSA, rules: (options ?? .forService(service)).rules, accessKey: credentials.accessKeyID,
            scope: credentialScope(date: date, service: service), date: date, sessionToken: credentials.sessionToken,
            extra: [("X-Amz-Region-Set", regionSet.joined(separator: ","))]
        ) { sts throws(SigningError) in try signature(sts, key: key) }
    }

    /// A presigned URL (`X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256`, `X-Amz-Region-Set=…`, …).
    public static func presign(
        _ request: SigningRequest, credentials: AWSCredentials, regionSet: [String] = ["*"], service: String = "s3",
        date: SigningDate, expires: Int, options: SigV4.Options? = nil
    ) throws(SigningError) -> String {
        try presignDetailed(request, credentials: credentials, regionSet: regionSet, service: service, date: date,
                            expires: expires, options: options).url ?? ""
    }

    /// ``presign(_:credentials:regionSet:service:date:expires:options:)`` with the canonical
    /// request and string to sign.
    public static func presignDetailed(
        _ request: SigningRequest, credentials: AWSCredentials, regionSet: [String] = ["*"], service: String = "s3",
        date: SigningDate, expires: Int, options: SigV4.Options? = nil
    ) throws(SigningError) -> SigningResult {
        let key = try privateKey(credentials)
        return try SigningV4Engine.presign(
            request, dialect: .awsECDSA, rules: (options ?? .forService(service)).rules, accessKey: credentials.accessKeyID,
            scope: credentialScope(date: date, service: service), date: date, expires: expires,
            sessionToken: credentials.sessionToken, extra: [("X-Amz-Region-Set", regionSet.joined(separator: ","))]
        ) { sts throws(SigningError) in try signature(sts, key: key) }
    }

    /// `yyyyMMdd/service/aws4_request` (no region).
    public static func credentialScope(date: SigningDate, service: String) -> String {
        "\(date.dateStamp)/\(service)/aws4_request"
    }

    /// The derived key's public point as lower-case hex `(x, y)`, 32 bytes each — what AWS's test
    /// suite publishes per credential, and what a verifier needs.
    public static func publicKey(_ credentials: AWSCredentials) throws(SigningError) -> (x: String, y: String) {
        let raw = Array(try privateKey(credentials).publicKey.rawRepresentation)
        return (SigningHex.encode(raw[0..<32]), SigningHex.encode(raw[32..<64]))
    }

    /// Whether `signatureHex` (DER, hex) is a valid signature of `stringToSign` by the key
    /// derived from `credentials`.
    public static func verify(signatureHex: String, stringToSign: String, credentials: AWSCredentials) throws(SigningError) -> Bool {
        guard let der = SigningHex.decode(signatureHex),
              let sig = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
        return try privateKey(credentials).publicKey.isValidSignature(sig, for: Array(stringToSign.utf8))
    }

    // P-256's group order n minus 2, big-endian.
    private static let nMinus2: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x4F,
    ]

    /// AWS's SigV4A key derivation (NIST SP 800-108 counter-mode KDF with HMAC-SHA256):
    /// `k0 = HMAC("AWS4A" + secret, 00000001 || "AWS4-ECDSA-P256-SHA256" || 00 || accessKeyID ||
    /// counter || 00000100)`; the first counter (1…254) with `k0 <= n-2` gives the private
    /// scalar `k0 + 1`.
    static func privateKey(_ credentials: AWSCredentials) throws(SigningError) -> P256.Signing.PrivateKey {
        let secret = Array(("AWS4A" + credentials.secretAccessKey).utf8)
        let label = Array("AWS4-ECDSA-P256-SHA256".utf8)
        let access = Array(credentials.accessKeyID.utf8)
        for counter in UInt8(1)...UInt8(254) {
            let input: [UInt8] = [0, 0, 0, 1] + label + [0] + access + [counter] + [0, 0, 1, 0]
            var k = SigningCrypto.hmac(key: secret, input)
            guard k.lexicographicallyPrecedesOrEqual(nMinus2) else { continue }
            // k + 1, big-endian, cannot overflow since k <= n-2.
            var i = k.count - 1
            while true {
                if k[i] == 0xFF { k[i] = 0; i -= 1 } else { k[i] += 1; break }
            }
            guard let key = try? P256.Signing.PrivateKey(rawRepresentation: k) else { throw .keyDerivationFailed }
            return key
        }
        throw .keyDerivationFailed
    }

    private static func signature(_ stringToSign: String, key: P256.Signing.PrivateKey) throws(SigningError) -> String {
        guard let sig = try? key.signature(for: Array(stringToSign.utf8)) else { throw .keyDerivationFailed }
        return SigningHex.encode(sig.derRepresentation)
    }
}

extension Array where Element == UInt8 {
    /// Big-endian comparison of equal-length byte strings: `self <= other`.
    fileprivate func lexicographicallyPrecedesOrEqual(_ other: [UInt8]) -> Bool {
        !other.lexicographicallyPrecedes(self)
    }
}
