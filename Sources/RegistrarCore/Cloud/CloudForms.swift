/// The provider forms: from a split URL to a `CloudObjectLocation`.
///
/// Hosts are matched from the right (the provider's suffix, then the service label and what
/// may follow it: region, `dualstack`), because bucket names may contain dots and even labels
/// such as `s3` — `s3.s3.amazonaws.com` is bucket `s3`. A host under a provider's storage
/// domain that fits no object form is `unknown_provider_form`, not `direct`: it was surely meant
/// for the provider, and fetching it unsigned would fail later and less clearly. Hosts of the
/// provider's other services (`*.execute-api.…amazonaws.com`, S3 website endpoints) are `direct`.
enum CloudForms {
    typealias Outcome = Result<CloudObjectLocation, CloudURLError>

    struct Endpoint: Equatable {
        var host: String
        var port: Int?
    }

    /// A custom S3 endpoint (`host`, `host:port`, `http(s)://host[:port][/]`) in the form URLs are
    /// compared in; nil when it is not one. Without a scheme, 443 is the default port.
    static func endpoint(_ raw: String) -> Endpoint? {
        var text = raw
        if !text.hasPrefix("http://") && !text.hasPrefix("https://") { text = "https://" + text }
        if !text.hasSuffix("/") { text += "/" }
        guard case .success(let parts) = CloudURL.parseParts(text), parts.arn == nil, parts.path == "/",
              parts.query == nil else { return nil }
        return Endpoint(host: parts.host, port: parts.port)
    }

    static func locate(_ p: CloudURLParts, customEndpoint: Endpoint?) -> Outcome {
        if p.scheme == "s3" || p.scheme == "gs" { return schemeForm(p) }
        if let arn = p.arn { return arnForm(p, arn) }
        if let ep = customEndpoint, ep.port == p.port {
            if p.host == ep.host { return pathStyle(p, .s3Compatible) }
            if p.host.hasSuffix("." + ep.host) {
                let bucket = String(p.host.dropLast(ep.host.count + 1))
                return virtualHosted(p, .s3Compatible, bucket: bucket)
            }
        }
        if p.isIPLiteral { return direct(p) }
        let host = p.host
        for suffix in ["amazonaws.com", "amazonaws.com.cn"] where host.hasSuffix("." + suffix) {
            return aws(p, labels(host, dropping: suffix))
        }
        if host == "storage.googleapis.com" || host == "commondatastorage.googleapis.com" {
            return pathStyle(p, .gcp)
        }
        if host == "storage.cloud.google.com" {
            // The console's "authenticated URL": it answers with a browser login redirect, not
            // the object, so requests go to the XML API host, which serves the same path.
            return pathStyle(p, .gcp, endpointHost: "storage.googleapis.com")
        }
        if host.hasSuffix(".storage.googleapis.com") {
            return virtualHosted(p, .gcp, bucket: String(host.dropLast(".storage.googleapis.com".count)))
        }
        for suffix in azureSuffixes where host.hasSuffix("." + suffix) {
            return azure(p, labels(host, dropping: suffix))
        }
        if host.hasSuffix(".otc.t-systems.com") { return otc(p, labels(host, dropping: "otc.t-systems.com")) }
        if host.hasSuffix(".wasabisys.com") { return wasabi(p, labels(host, dropping: "wasabisys.com")) }
        for suffix in ["oraclecloud.com", "oci.customer-oci.com"] where host.hasSuffix("." + suffix) {
            return oracle(p, labels(host, dropping: suffix))
        }
        return direct(p)
    }

    // MARK: - Generic shapes

    static func direct(_ p: CloudURLParts) -> Outcome {
        .success(CloudObjectLocation(provider: .direct, bucket: "", key: String(p.path), endpointHost: p.host,
                                     port: p.port, scheme: p.scheme, style: .direct, query: p.query))
    }

    /// `s3://b/k`, `gs://b/k`. No query: these are not HTTP URLs, so a `?` can only be a
    /// mistyped key character (write it `%3F`).
    static func schemeForm(_ p: CloudURLParts) -> Outcome {
        if p.query != nil {
            return fail(CloudURLError.Code.invalidURL, "a \(p.scheme):// URL has no query string; write '?' in a key as %3F")
        }
        let aws = p.scheme == "s3"
        return key(afterSlash: p.path).map {
            CloudObjectLocation(provider: aws ? .aws : .gcp, bucket: p.host, key: $0,
                                endpointHost: aws ? "s3.amazonaws.com" : "storage.googleapis.com",
                                scheme: p.scheme, style: .scheme)
        }
    }

    /// Bucket in the path's first segment, key after it.
    static func pathStyle(_ p: CloudURLParts, _ provider: CloudProvider, region: String? = nil, account: String? = nil,
                          endpointHost: String? = nil, dualStack: Bool = false, fips: Bool = false) -> Outcome {
        bucketAndKey(p.path).map { bucket, key in
            CloudObjectLocation(provider: provider, bucket: bucket, key: key, region: region, account: account,
                                endpointHost: endpointHost ?? p.host, port: p.port, scheme: p.scheme, style: .pathStyle,
                                dualStack: dualStack, fips: fips, query: p.query)
        }
    }

    static func virtualHosted(_ p: CloudURLParts, _ provider: CloudProvider, bucket: String, region: String? = nil,
                              dualStack: Bool = false, fips: Bool = false) -> Outcome {
        key(afterSlash: p.path).map {
            CloudObjectLocation(provider: provider, bucket: bucket, key: $0, region: region, endpointHost: p.host,
                                port: p.port, scheme: p.scheme, style: .virtualHosted,
                                dualStack: dualStack, fips: fips, query: p.query)
        }
    }

    // MARK: - AWS

    enum S3Label {
        case s3(fips: Bool, region: String?)
        case accessPoint(fips: Bool)
        case website
        case unsupported(String)
    }

    /// What an S3 service label says, or nil when it is not one (`s3-backups` may be part of a bucket name).
    static func s3Label(_ label: Substring) -> S3Label? {
        switch label {
        case "s3": return .s3(fips: false, region: nil)
        case "s3-fips": return .s3(fips: true, region: nil)
        case "s3-external-1": return .s3(fips: false, region: "us-east-1")
        case "s3-accesspoint": return .accessPoint(fips: false)
        case "s3-accesspoint-fips": return .accessPoint(fips: true)
        case "s3-object-lambda": return .unsupported("S3 Object Lambda access points")
        case "s3-outposts": return .unsupported("S3 on Outposts")
        case "s3-control": return .unsupported("the S3 Control API")
        case "s3-global": return .unsupported("this s3-global form")
        default: break
        }
        if label.hasPrefix("s3-website") { return .website }
        if label.hasPrefix("s3-fips-"), isRegion(label.dropFirst(8)) { return .s3(fips: true, region: String(label.dropFirst(8))) }
        if label.hasPrefix("s3-"), isRegion(label.dropFirst(3)) { return .s3(fips: false, region: String(label.dropFirst(3))) }
        return nil
    }

    /// `L` are the host's labels before `amazonaws.com(.cn)`.
    static func aws(_ p: CloudURLParts, _ L: [Substring]) -> Outcome {
        let n = L.count
        // Multi-Region Access Point: ALIAS.mrap.accesspoint.s3-global.amazonaws.com, and the
        // shape in Encord's example, ALIAS.mrap.s3-accesspoint.amazonaws.com.
        if (n == 4 && L[1] == "mrap" && L[2] == "accesspoint" && L[3] == "s3-global")
            || (n == 3 && L[1] == "mrap" && L[2] == "s3-accesspoint") {
            return mrap(p, alias: L[0], account: nil, writtenAsARN: false)
        }
        // The service label is the last, second-to-last (then a region) or third-to-last
        // (then dualstack and a region) label.
        for k in stride(from: n - 1, through: max(0, n - 3), by: -1) {
            guard let service = s3Label(L[k]) else { continue }
            let after = L[(k + 1)...]
            var region: String?
            var dualStack = false
            switch after.count {
            case 0: break
            case 1 where isRegion(after.last!): region = String(after.last!)
            case 2 where after.first == "dualstack" && isRegion(after.last!): region = String(after.last!); dualStack = true
            default: continue
            }
            let before = L[..<k]
            switch service {
            case .s3(let fips, let embedded):
                if let embedded {
                    guard after.isEmpty else { continue }
                    region = embedded
                }
                if before.isEmpty {
                    return pathStyle(p, .aws, region: region, dualStack: dualStack, fips: fips)
                }
                return virtualHosted(p, .aws, bucket: before.joined(separator: "."), region: region, dualStack: dualStack, fips: fips)
            case .accessPoint(let fips):
                return accessPoint(p, before, region: region, dualStack: dualStack, fips: fips)
            case .website:
                return direct(p) // public website hosting: plain HTTP, no signed requests
            case .unsupported(let what):
                return fail(CloudURLError.Code.unknownProviderForm, "\(what) is not supported; use a bucket or access point URL")
            }
        }
        if L.contains(where: { s3Label($0).map { if case .website = $0 { false } else { true } } ?? false }) {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "'\(p.host)' is an S3 host but not a form Registrar knows (bucket.s3.REGION.amazonaws.com, s3.REGION.amazonaws.com/bucket, …)")
        }
        return direct(p)
    }

    /// `NAME-ACCOUNT.s3-accesspoint[.dualstack].REGION.amazonaws.com/key`: the account id is the
    /// last twelve digits, after the last hyphen (access point names may hold hyphens and digits).
    static func accessPoint(_ p: CloudURLParts, _ before: ArraySlice<Substring>, region: String?,
                            dualStack: Bool, fips: Bool) -> Outcome {
        guard before.count == 1, let region, let dash = before.first!.lastIndex(of: "-") else {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "an S3 access point host is NAME-ACCOUNTID.s3-accesspoint.REGION.amazonaws.com")
        }
        let label = before.first!
        let name = label[..<dash], account = label[label.index(after: dash)...]
        guard !name.isEmpty, account.utf8.count == 12, account.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "an S3 access point host is NAME-ACCOUNTID.s3-accesspoint.REGION.amazonaws.com (a 12-digit account id)")
        }
        return key(afterSlash: p.path).map {
            CloudObjectLocation(provider: .aws, bucket: String(name), key: $0, region: region, account: String(account),
                                endpointHost: p.host, port: p.port, scheme: p.scheme, style: .accessPoint,
                                dualStack: dualStack, fips: fips, query: p.query)
        }
    }

    static func mrap(_ p: CloudURLParts, alias: Substring, account: String?, writtenAsARN: Bool,
                     path: Substring? = nil) -> Outcome {
        guard !alias.isEmpty, alias.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            return fail(CloudURLError.Code.unknownProviderForm, "a Multi-Region Access Point alias is lower-case letters and digits before '.mrap'")
        }
        let fullAlias = String(alias) + ".mrap"
        return key(afterSlash: path ?? p.path).map {
            CloudObjectLocation(provider: .aws, bucket: fullAlias, key: $0, account: account,
                                endpointHost: fullAlias + ".accesspoint.s3-global.amazonaws.com",
                                port: writtenAsARN ? nil : p.port, scheme: p.scheme, style: .multiRegionAccessPoint,
                                mrapAlias: fullAlias, query: p.query, writtenAsARN: writtenAsARN)
        }
    }

    /// Encord's form: `https://arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap[.s3-accesspoint.amazonaws.com]/key`
    /// (the `.mrap` resource may also carry the real host suffix, `.accesspoint.s3-global.amazonaws.com`).
    /// A regional access point ARN, `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/key`, is read too.
    static func arnForm(_ p: CloudURLParts, _ arn: String) -> Outcome {
        let f = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard f.count == 6, f[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(f[1]), f[2] == "s3",
              f[5] == "accesspoint", !f[4].isEmpty, f[4].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "only S3 access point ARNs may stand in for a host (https://arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap/key)")
        }
        let account = String(f[4])
        let path = p.path.dropFirst() // "RESOURCE/KEY…"
        let resource = path.prefix { $0 != "/" }
        let rest = path.dropFirst(resource.count) // "/KEY…" or ""
        let r = resource.split(separator: ".", omittingEmptySubsequences: false)
        if f[3].isEmpty {
            let suffix = r.dropFirst(2).joined(separator: ".")
            guard r.count >= 2, r[1] == "mrap",
                  ["", "s3-accesspoint.amazonaws.com", "accesspoint.s3-global.amazonaws.com"].contains(suffix) else {
                return fail(CloudURLError.Code.unknownProviderForm,
                            "a Multi-Region Access Point ARN names an alias ending in '.mrap' (arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap/key)")
            }
            return mrap(p, alias: r[0], account: account, writtenAsARN: true, path: rest)
        }
        let region = f[3]
        guard isRegion(region), r.count == 1, !resource.isEmpty,
              resource.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "an access point ARN is arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME followed by /key")
        }
        let domain = f[1] == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"
        return key(afterSlash: rest).map {
            CloudObjectLocation(provider: .aws, bucket: String(resource), key: $0, region: String(region), account: account,
                                endpointHost: "\(resource)-\(account).s3-accesspoint.\(region).\(domain)",
                                scheme: p.scheme, style: .accessPoint, query: p.query, writtenAsARN: true)
        }
    }

    // MARK: - Azure

    static let azureSuffixes = ["blob.core.windows.net", "blob.core.chinacloudapi.cn",
                                "blob.core.usgovcloudapi.net", "blob.core.cloudapi.de"]

    /// `ACCOUNT[-secondary].blob.core.windows.net/container/blob`. One segment with no slash
    /// after it is a blob in the `$root` container, as Azure reads it; `/container/` has no blob.
    static func azure(_ p: CloudURLParts, _ L: [Substring]) -> Outcome {
        var account = L.count == 1 ? L[0] : ""
        if account.hasSuffix("-secondary") { account = account.dropLast("-secondary".count) } // RA-GRS read replica
        guard (3...24).contains(account.utf8.count),
              account.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            return fail(CloudURLError.Code.unknownProviderForm,
                        "an Azure Blob host is ACCOUNT.blob.core.windows.net with a 3–24 character lower-case account name")
        }
        let path = p.path.dropFirst()
        if !path.isEmpty, !path.contains("/") {
            guard let blob = CloudKeyDecoding.decode(path) else { return invalidKey() }
            return .success(CloudObjectLocation(provider: .azure, bucket: "$root", key: blob, account: String(account),
                                                endpointHost: p.host, port: p.port, scheme: p.scheme,
                                                style: .pathStyle, query: p.query))
        }
        return pathStyle(p, .azure, account: String(account))
    }

    // MARK: - OTC, Wasabi, Oracle

    /// `[BUCKET.]obs[.REGION][.sc].otc.t-systems.com` (`sc` is the Swiss cloud).
    static func otc(_ p: CloudURLParts, _ all: [Substring]) -> Outcome {
        var L = all[...]
        if L.last == "sc" { L = L.dropLast() }
        var region: String?
        if let last = L.last, last != "obs", L.dropLast().last == "obs", isOTCRegion(last) {
            region = String(last)
            L = L.dropLast()
        }
        guard L.last == "obs" else {
            return all.contains("obs")
                ? fail(CloudURLError.Code.unknownProviderForm, "an OTC OBS host is BUCKET.obs.REGION.otc.t-systems.com")
                : direct(p)
        }
        let before = L.dropLast()
        return before.isEmpty
            ? pathStyle(p, .otc, region: region)
            : virtualHosted(p, .otc, bucket: before.joined(separator: "."), region: region)
    }

    /// `[BUCKET.]s3[.REGION].wasabisys.com`.
    static func wasabi(_ p: CloudURLParts, _ all: [Substring]) -> Outcome {
        var L = all[...]
        var region: String?
        if let last = L.last, L.dropLast().last == "s3", isRegion(last) {
            region = String(last)
            L = L.dropLast()
        }
        guard L.last == "s3" else {
            return all.contains("s3")
                ? fail(CloudURLError.Code.unknownProviderForm, "a Wasabi host is BUCKET.s3.REGION.wasabisys.com or s3.REGION.wasabisys.com")
                : direct(p)
        }
        let before = L.dropLast()
        return before.isEmpty
            ? pathStyle(p, .wasabi, region: region)
            : virtualHosted(p, .wasabi, bucket: before.joined(separator: "."), region: region)
    }

    /// S3-compatible `NAMESPACE.compat.objectstorage.REGION.oraclecloud.com/BUCKET/KEY` (path-style
    /// only), and the native API `[NAMESPACE.]objectstorage.REGION.…/n/NAMESPACE/b/BUCKET/o/OBJECT`.
    /// A pre-authenticated request (`/p/TOKEN/n/…`) is a presigned URL, so it is `direct`.
    static func oracle(_ p: CloudURLParts, _ L: [Substring]) -> Outcome {
        let n = L.count
        if n == 4, L[1] == "compat", L[2] == "objectstorage", isRegion(L[3]) {
            return pathStyle(p, .oracle, region: String(L[3]), account: String(L[0]))
        }
        guard n >= 2, n <= 3, L[n - 2] == "objectstorage", isRegion(L[n - 1]) else {
            return L.contains("objectstorage")
                ? fail(CloudURLError.Code.unknownProviderForm,
                       "an Oracle Object Storage host is NAMESPACE.compat.objectstorage.REGION.oraclecloud.com or objectstorage.REGION.oraclecloud.com")
                : direct(p)
        }
        let seg = p.path.split(separator: "/", maxSplits: 6, omittingEmptySubsequences: false)
        // "", "n", NS, "b", BUCKET, "o", OBJECT…
        if seg.count >= 2, seg[1] == "p" { return direct(p) }
        guard seg.count >= 5, seg[0].isEmpty, seg[1] == "n", seg[3] == "b", !seg[2].isEmpty else {
            return fail(CloudURLError.Code.unknownProviderForm, "an Oracle native object URL is /n/NAMESPACE/b/BUCKET/o/OBJECT")
        }
        guard let namespace = CloudKeyDecoding.decode(seg[2]), let bucket = CloudKeyDecoding.decode(seg[4]), !bucket.isEmpty,
              bucket.utf8.allSatisfy(CloudURLParts.isBucketByte) else {
            return fail(CloudURLError.Code.invalidBucket, "the Oracle bucket name is missing or has characters bucket names cannot have")
        }
        guard seg.count == 7, seg[5] == "o", !seg[6].isEmpty else {
            return fail(CloudURLError.Code.missingKey, "the Oracle URL names bucket '\(bucket)' but no object (/o/OBJECT)")
        }
        guard let object = CloudKeyDecoding.decode(seg[6]) else { return invalidKey() }
        return .success(CloudObjectLocation(provider: .oracle, bucket: bucket, key: object, region: String(L[n - 1]),
                                            account: namespace, endpointHost: p.host, port: p.port, scheme: p.scheme,
                                            style: .oracleNative, query: p.query))
    }

    // MARK: - Pieces

    /// The labels of `host` before `.suffix`.
    static func labels(_ host: String, dropping suffix: String) -> [Substring] {
        host.dropLast(suffix.count + 1).split(separator: ".", omittingEmptySubsequences: false)
    }

    /// The key after the leading '/', decoded; an error when there is none.
    static func key(afterSlash path: Substring) -> Result<String, CloudURLError> {
        let raw = path.dropFirst()
        if raw.isEmpty { return .failure(CloudURLError(code: CloudURLError.Code.missingKey, message: "the URL names no object key")) }
        guard let key = CloudKeyDecoding.decode(raw) else { return .failure(invalidKeyError) }
        return .success(key)
    }

    /// `/BUCKET/KEY…` → (bucket, key), both decoded.
    static func bucketAndKey(_ path: Substring) -> Result<(String, String), CloudURLError> {
        let rest = path.dropFirst()
        let rawBucket = rest.prefix { $0 != "/" }
        if rawBucket.isEmpty {
            return .failure(CloudURLError(code: CloudURLError.Code.missingBucket, message: "the URL names no bucket (expected /BUCKET/KEY)"))
        }
        guard let bucket = CloudKeyDecoding.decode(rawBucket), bucket.utf8.allSatisfy(CloudURLParts.isBucketByte) else {
            return .failure(CloudURLError(code: CloudURLError.Code.invalidBucket, message: "the bucket name has characters bucket names cannot have"))
        }
        return key(afterSlash: rest.dropFirst(rawBucket.count)).mapError {
            $0.code == CloudURLError.Code.missingKey
                ? CloudURLError(code: $0.code, message: "the URL names bucket '\(bucket)' but no object key") : $0
        }.map { (bucket, $0) }
    }

    /// AWS-shaped region names: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`,
    /// Oracle's `us-ashburn-1` and Wasabi's `eu-central-1` too.
    static func isRegion(_ s: Substring) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].utf8.count == 2 else { return false }
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            guard !part.isEmpty, part.utf8.allSatisfy({ last ? ($0 >= 0x30 && $0 <= 0x39) : ($0 >= 0x61 && $0 <= 0x7A) }) else { return false }
        }
        return true
    }

    /// OTC regions: `eu-de`, `eu-nl`, `eu-ch2`.
    static func isOTCRegion(_ s: Substring) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy {
            !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
        }
    }

    static let invalidKeyError = CloudURLError(code: CloudURLError.Code.invalidKey,
                                               message: "the object key's percent-escapes do not decode to UTF-8")

    static func invalidKey() -> Outcome { .failure(invalidKeyError) }

    static func fail(_ code: String, _ message: String) -> Outcome {
        .failure(CloudURLError(code: code, message: message))
    }
}
