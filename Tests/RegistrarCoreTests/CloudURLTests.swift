import RegistrarCore
import Testing

// MARK: - Helpers

fileprivate typealias Style = CloudObjectLocation.Style

fileprivate enum Want: Sendable {
    case ok(CloudObjectLocation)
    case error(String)
}

fileprivate struct Case: Sendable, CustomTestStringConvertible {
    let url: String
    let want: Want
    var testDescription: String { url }
}

fileprivate func ok(_ url: String, _ provider: CloudProvider, _ bucket: String, _ key: String, host: String,
                    _ style: Style, region: String? = nil, account: String? = nil, port: Int? = nil,
                    scheme: String = "https", dualStack: Bool = false, fips: Bool = false, mrap: String? = nil,
                    query: String? = nil, arn: Bool = false) -> Case {
    Case(url: url, want: .ok(CloudObjectLocation(
        provider: provider, bucket: bucket, key: key, region: region, account: account, endpointHost: host,
        port: port, scheme: scheme, style: style, dualStack: dualStack, fips: fips, mrapAlias: mrap,
        query: query, writtenAsARN: arn)))
}

fileprivate func fails(_ url: String, _ code: String) -> Case { Case(url: url, want: .error(code)) }

fileprivate func direct(_ url: String, host: String, path: String, port: Int? = nil, scheme: String = "https",
                        query: String? = nil) -> Case {
    ok(url, .direct, "", path, host: host, .direct, port: port, scheme: scheme, query: query)
}

fileprivate func check(_ c: Case, customEndpoint: String? = nil) {
    let got = CloudURL.parse(c.url, customEndpoint: customEndpoint)
    switch (c.want, got) {
    case (.ok(let want), .success(let loc)):
        #expect(loc == want, "\(c.url)")
    case (.error(let code), .failure(let err)):
        #expect(err.code == code, "\(c.url): \(err.message)")
        #expect(!err.message.isEmpty)
    case (.ok, .failure(let err)):
        Issue.record("\(c.url): expected a location, got \(err)")
    case (.error(let code), .success(let loc)):
        Issue.record("\(c.url): expected \(code), got \(loc)")
    }
}


fileprivate let E = CloudURLError.Code.self

// MARK: - Tables

fileprivate let awsCases: [Case] = [
    ok("https://b.s3.amazonaws.com/k", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.eu-west-2.amazonaws.com/path/to/k.mp4", .aws, "b", "path/to/k.mp4",
       host: "b.s3.eu-west-2.amazonaws.com", .virtualHosted, region: "eu-west-2"),
    ok("https://b.s3-eu-west-2.amazonaws.com/k", .aws, "b", "k", host: "b.s3-eu-west-2.amazonaws.com", .virtualHosted, region: "eu-west-2"),
    ok("https://s3.eu-west-2.amazonaws.com/b/k", .aws, "b", "k", host: "s3.eu-west-2.amazonaws.com", .pathStyle, region: "eu-west-2"),
    ok("https://s3.amazonaws.com/b/k", .aws, "b", "k", host: "s3.amazonaws.com", .pathStyle),
    ok("https://s3-eu-west-2.amazonaws.com/b/dir/k", .aws, "b", "dir/k", host: "s3-eu-west-2.amazonaws.com", .pathStyle, region: "eu-west-2"),
    ok("https://s3.amazonaws.com/Legacy_Bucket/k", .aws, "Legacy_Bucket", "k", host: "s3.amazonaws.com", .pathStyle),
    ok("https://b.s3.dualstack.us-east-1.amazonaws.com/k", .aws, "b", "k",
       host: "b.s3.dualstack.us-east-1.amazonaws.com", .virtualHosted, region: "us-east-1", dualStack: true),
    ok("https://s3.dualstack.us-east-1.amazonaws.com/b/k", .aws, "b", "k",
       host: "s3.dualstack.us-east-1.amazonaws.com", .pathStyle, region: "us-east-1", dualStack: true),
    ok("https://b.s3-fips.us-east-2.amazonaws.com/k", .aws, "b", "k", host: "b.s3-fips.us-east-2.amazonaws.com",
       .virtualHosted, region: "us-east-2", fips: true),
    ok("https://b.s3-fips.dualstack.us-east-2.amazonaws.com/k", .aws, "b", "k",
       host: "b.s3-fips.dualstack.us-east-2.amazonaws.com", .virtualHosted, region: "us-east-2", dualStack: true, fips: true),
    ok("https://s3-fips-us-gov-west-1.amazonaws.com/b/k", .aws, "b", "k", host: "s3-fips-us-gov-west-1.amazonaws.com",
       .pathStyle, region: "us-gov-west-1", fips: true),
    ok("https://b.s3-external-1.amazonaws.com/k", .aws, "b", "k", host: "b.s3-external-1.amazonaws.com", .virtualHosted, region: "us-east-1"),
    ok("https://my.dotted.bucket.s3.us-west-2.amazonaws.com/k", .aws, "my.dotted.bucket", "k",
       host: "my.dotted.bucket.s3.us-west-2.amazonaws.com", .virtualHosted, region: "us-west-2"),
    ok("https://s3.s3.amazonaws.com/k", .aws, "s3", "k", host: "s3.s3.amazonaws.com", .virtualHosted),
    ok("https://s3-backups.s3.amazonaws.com/k", .aws, "s3-backups", "k", host: "s3-backups.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.cn-north-1.amazonaws.com.cn/k", .aws, "b", "k", host: "b.s3.cn-north-1.amazonaws.com.cn", .virtualHosted, region: "cn-north-1"),
    // Access points.
    ok("https://ap-name-123456789012.s3-accesspoint.us-west-2.amazonaws.com/k", .aws, "ap-name", "k",
       host: "ap-name-123456789012.s3-accesspoint.us-west-2.amazonaws.com", .accessPoint, region: "us-west-2", account: "123456789012"),
    ok("https://ap2-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com/dir/k", .aws, "ap2", "dir/k",
       host: "ap2-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com", .accessPoint,
       region: "us-west-2", account: "123456789012", dualStack: true),
    ok("https://ap-123456789012.s3-accesspoint-fips.us-gov-west-1.amazonaws.com/k", .aws, "ap", "k",
       host: "ap-123456789012.s3-accesspoint-fips.us-gov-west-1.amazonaws.com", .accessPoint,
       region: "us-gov-west-1", account: "123456789012", fips: true),
    ok("https://arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/dir/k", .aws, "my-ap", "dir/k",
       host: "my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com", .accessPoint,
       region: "us-west-2", account: "123456789012", arn: true),
    // Multi-Region Access Points: the seed's exact form, the bare ARN form, and the real host.
    ok("https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com/Videos/2022/video_1.mp4",
       .aws, "frf28frarf9.mrap", "Videos/2022/video_1.mp4", host: "frf28frarf9.mrap.accesspoint.s3-global.amazonaws.com",
       .multiRegionAccessPoint, account: "123123123", mrap: "frf28frarf9.mrap", arn: true),
    ok("https://arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/key", .aws, "mfzwi23gnjvgw.mrap", "key",
       host: "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com", .multiRegionAccessPoint,
       account: "123456789012", mrap: "mfzwi23gnjvgw.mrap", arn: true),
    ok("https://arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/a/b",
       .aws, "mfzwi23gnjvgw.mrap", "a/b", host: "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
       .multiRegionAccessPoint, account: "123456789012", mrap: "mfzwi23gnjvgw.mrap", arn: true),
    ok("https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256",
       .aws, "mfzwi23gnjvgw.mrap", "key", host: "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
       .multiRegionAccessPoint, mrap: "mfzwi23gnjvgw.mrap", query: "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
    fails("https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap/", E.missingKey),
    fails("https://arn:aws:s3::123123123:accesspoint/frf28frarf9/key", E.unknownProviderForm),
    fails("https://arn:aws:s3:::bucket/key", E.unknownProviderForm),
    fails("https://arn:aws:s3::notdigits:accesspoint/x.mrap/key", E.unknownProviderForm),
    fails("https://arn:aws:sqs:us-east-1:123456789012:queue/x", E.unknownProviderForm),
    // s3://
    ok("s3://b/k", .aws, "b", "k", host: "s3.amazonaws.com", .scheme, scheme: "s3"),
    ok("S3://b/dir/a%20b.mp4", .aws, "b", "dir/a b.mp4", host: "s3.amazonaws.com", .scheme, scheme: "s3"),
    fails("s3://b", E.missingKey),
    fails("s3://b/", E.missingKey),
    fails("s3:///k", E.missingBucket),
    fails("s3://b/k?versionId=1", E.invalidURL),
    fails("s3://b:80/k", E.invalidBucket),
    // Other AWS hosts.
    direct("https://b.s3-website-us-east-1.amazonaws.com/index.html", host: "b.s3-website-us-east-1.amazonaws.com", path: "/index.html"),
    direct("https://abc.execute-api.us-east-1.amazonaws.com/prod/x", host: "abc.execute-api.us-east-1.amazonaws.com", path: "/prod/x"),
    fails("https://x-123456789012.s3-object-lambda.us-east-1.amazonaws.com/k", E.unknownProviderForm),
    fails("https://b.s3.weird.amazonaws.com/k", E.unknownProviderForm),
    fails("https://b.s3.dualstack.amazonaws.com/k", E.unknownProviderForm),
    fails("https://apname.s3-accesspoint.us-west-2.amazonaws.com/k", E.unknownProviderForm),
    fails("https://ap-123.s3-accesspoint.us-west-2.amazonaws.com/k", E.unknownProviderForm),
    fails("https://s3-accesspoint.us-west-2.amazonaws.com/k", E.unknownProviderForm),
    // Empty keys and buckets.
    fails("https://b.s3.amazonaws.com/", E.missingKey),
    fails("https://b.s3.amazonaws.com", E.missingKey),
    fails("https://b.s3.amazonaws.com?x=1", E.missingKey),
    fails("https://s3.amazonaws.com/", E.missingBucket),
    fails("https://s3.amazonaws.com", E.missingBucket),
    fails("https://s3.eu-west-2.amazonaws.com/b", E.missingKey),
    fails("https://s3.eu-west-2.amazonaws.com/b/", E.missingKey),
    fails("https://s3.amazonaws.com/b%2Fc/k", E.invalidBucket),
    // Case, ports, trailing dots.
    ok("HTTPS://B.S3.EU-WEST-2.AMAZONAWS.COM/Key.MP4", .aws, "b", "Key.MP4", host: "b.s3.eu-west-2.amazonaws.com",
       .virtualHosted, region: "eu-west-2"),
    ok("https://b.s3.amazonaws.com:443/k", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com:8443/k", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted, port: 8443),
    ok("http://b.s3.amazonaws.com:80/k", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted, scheme: "http"),
    ok("https://b.s3.amazonaws.com:/k", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.eu-west-2.amazonaws.com./k", .aws, "b", "k", host: "b.s3.eu-west-2.amazonaws.com", .virtualHosted, region: "eu-west-2"),
    // Keys: decoded as UTF-8, '+' kept, %2F is '/', a stray '%' literal, query and fragment apart.
    ok("https://b.s3.amazonaws.com/my%20video.mp4", .aws, "b", "my video.mp4", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/a+b.mp4", .aws, "b", "a+b.mp4", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/caf%C3%A9/%E6%97%A5%E6%9C%AC.jpg", .aws, "b", "café/日本.jpg", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/café/日本.jpg", .aws, "b", "café/日本.jpg", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/a%2Fb%2fc", .aws, "b", "a/b/c", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/100%.jpg", .aws, "b", "100%.jpg", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/a%2", .aws, "b", "a%2", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com//lead/../dots/", .aws, "b", "/lead/../dots/", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/k%3Fq%23f", .aws, "b", "k?q#f", host: "b.s3.amazonaws.com", .virtualHosted),
    fails("https://b.s3.amazonaws.com/bad%FFkey", E.invalidKey),
    fails("https://b.s3.amazonaws.com/%C3", E.invalidKey),
    ok("https://b.s3.us-east-1.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc#t=10",
       .aws, "b", "k.mp4", host: "b.s3.us-east-1.amazonaws.com", .virtualHosted, region: "us-east-1",
       query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"),
    ok("https://b.s3.amazonaws.com/k?", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted),
    ok("https://b.s3.amazonaws.com/k#", .aws, "b", "k", host: "b.s3.amazonaws.com", .virtualHosted),
]

fileprivate let gcsCases: [Case] = [
    ok("https://storage.cloud.google.com/b/k.mp4", .gcp, "b", "k.mp4", host: "storage.googleapis.com", .pathStyle),
    ok("https://storage.googleapis.com/b/dir/k.mp4", .gcp, "b", "dir/k.mp4", host: "storage.googleapis.com", .pathStyle),
    ok("https://commondatastorage.googleapis.com/b/k", .gcp, "b", "k", host: "commondatastorage.googleapis.com", .pathStyle),
    ok("https://b.storage.googleapis.com/k", .gcp, "b", "k", host: "b.storage.googleapis.com", .virtualHosted),
    ok("https://my.bucket.storage.googleapis.com/k", .gcp, "my.bucket", "k", host: "my.bucket.storage.googleapis.com", .virtualHosted),
    ok("https://Storage.GoogleAPIs.com/b/k?X-Goog-Signature=ab", .gcp, "b", "k", host: "storage.googleapis.com", .pathStyle,
       query: "X-Goog-Signature=ab"),
    ok("gs://b/k", .gcp, "b", "k", host: "storage.googleapis.com", .scheme, scheme: "gs"),
    ok("gs://my_bucket.example.com/a%2Fb", .gcp, "my_bucket.example.com", "a/b", host: "storage.googleapis.com", .scheme, scheme: "gs"),
    fails("https://storage.googleapis.com/b", E.missingKey),
    fails("https://storage.cloud.google.com/b/", E.missingKey),
    fails("https://storage.googleapis.com/", E.missingBucket),
    fails("https://b.storage.googleapis.com/", E.missingKey),
    fails("gs://b/", E.missingKey),
    fails("gs://", E.missingBucket),
    direct("https://console.cloud.google.com/storage/browser/b", host: "console.cloud.google.com", path: "/storage/browser/b"),
]

fileprivate let azureCases: [Case] = [
    ok("https://acct.blob.core.windows.net/container/blob.mp4", .azure, "container", "blob.mp4",
       host: "acct.blob.core.windows.net", .pathStyle, account: "acct"),
    ok("https://acct.blob.core.windows.net/container/dir/sub/blob%20name.mp4", .azure, "container", "dir/sub/blob name.mp4",
       host: "acct.blob.core.windows.net", .pathStyle, account: "acct"),
    ok("https://acct.blob.core.chinacloudapi.cn/c1/b", .azure, "c1", "b", host: "acct.blob.core.chinacloudapi.cn", .pathStyle, account: "acct"),
    ok("https://acct.blob.core.usgovcloudapi.net/c1/b", .azure, "c1", "b", host: "acct.blob.core.usgovcloudapi.net", .pathStyle, account: "acct"),
    ok("https://acct-secondary.blob.core.windows.net/c1/b", .azure, "c1", "b", host: "acct-secondary.blob.core.windows.net",
       .pathStyle, account: "acct"),
    ok("https://acct.blob.core.windows.net/photo.jpg", .azure, "$root", "photo.jpg", host: "acct.blob.core.windows.net",
       .pathStyle, account: "acct"),
    ok("https://acct.blob.core.windows.net/$root/photo.jpg", .azure, "$root", "photo.jpg", host: "acct.blob.core.windows.net",
       .pathStyle, account: "acct"),
    ok("https://ACCT.BLOB.CORE.WINDOWS.NET:443/c1/b?sv=2022-11-02&sig=secret", .azure, "c1", "b",
       host: "acct.blob.core.windows.net", .pathStyle, account: "acct", query: "sv=2022-11-02&sig=secret"),
    fails("https://acct.blob.core.windows.net/container/", E.missingKey),
    fails("https://acct.blob.core.windows.net/", E.missingBucket),
    fails("https://acct.blob.core.windows.net", E.missingBucket),
    fails("https://My_Acct.blob.core.windows.net/c/b", E.unknownProviderForm),
    fails("https://a.b.blob.core.windows.net/c/b", E.unknownProviderForm),
    fails("https://ab.blob.core.windows.net/c/b", E.unknownProviderForm),
]

fileprivate let otcWasabiOracleCases: [Case] = [
    ok("https://encord-bucket.obs.eu-de.otc.t-systems.com/videos/cyclists.MP4", .otc, "encord-bucket", "videos/cyclists.MP4",
       host: "encord-bucket.obs.eu-de.otc.t-systems.com", .virtualHosted, region: "eu-de"),
    ok("https://encord-bucket.obs.eu-de.otc.t-systems.com/images/DALL%C2%B7E+2022-09-08+18.53.25+-+firefighter.png", .otc,
       "encord-bucket", "images/DALL·E+2022-09-08+18.53.25+-+firefighter.png",
       host: "encord-bucket.obs.eu-de.otc.t-systems.com", .virtualHosted, region: "eu-de"),
    ok("https://obs.eu-de.otc.t-systems.com/b/k", .otc, "b", "k", host: "obs.eu-de.otc.t-systems.com", .pathStyle, region: "eu-de"),
    ok("https://b.obs.eu-ch2.sc.otc.t-systems.com/k", .otc, "b", "k", host: "b.obs.eu-ch2.sc.otc.t-systems.com", .virtualHosted, region: "eu-ch2"),
    ok("https://b.obs.otc.t-systems.com/k", .otc, "b", "k", host: "b.obs.otc.t-systems.com", .virtualHosted),
    fails("https://obs.eu-de.otc.t-systems.com/b/", E.missingKey),
    fails("https://b.obs.eu-de.otc.t-systems.com/", E.missingKey),
    direct("https://console.otc.t-systems.com/obs", host: "console.otc.t-systems.com", path: "/obs"),
    ok("https://s3.wasabisys.com/b/k", .wasabi, "b", "k", host: "s3.wasabisys.com", .pathStyle),
    ok("https://b.s3.eu-central-1.wasabisys.com/k", .wasabi, "b", "k", host: "b.s3.eu-central-1.wasabisys.com",
       .virtualHosted, region: "eu-central-1"),
    ok("https://s3.eu-central-1.wasabisys.com/b/k", .wasabi, "b", "k", host: "s3.eu-central-1.wasabisys.com", .pathStyle, region: "eu-central-1"),
    ok("https://b.s3.wasabisys.com/k", .wasabi, "b", "k", host: "b.s3.wasabisys.com", .virtualHosted),
    fails("https://s3.wasabisys.com/b", E.missingKey),
    direct("https://console.wasabisys.com/x", host: "console.wasabisys.com", path: "/x"),
    ok("https://ns.compat.objectstorage.us-ashburn-1.oraclecloud.com/b/k", .oracle, "b", "k",
       host: "ns.compat.objectstorage.us-ashburn-1.oraclecloud.com", .pathStyle, region: "us-ashburn-1", account: "ns"),
    ok("https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/bucket/o/dir%2Fobj%20one.mp4", .oracle, "bucket", "dir/obj one.mp4",
       host: "objectstorage.us-ashburn-1.oraclecloud.com", .oracleNative, region: "us-ashburn-1", account: "ns"),
    ok("https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/bucket/o/dir/obj.mp4", .oracle, "bucket", "dir/obj.mp4",
       host: "objectstorage.eu-frankfurt-1.oraclecloud.com", .oracleNative, region: "eu-frankfurt-1", account: "ns"),
    ok("https://ns.objectstorage.us-ashburn-1.oci.customer-oci.com/n/ns/b/bucket/o/obj", .oracle, "bucket", "obj",
       host: "ns.objectstorage.us-ashburn-1.oci.customer-oci.com", .oracleNative, region: "us-ashburn-1", account: "ns"),
    fails("https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/bucket/o/", E.missingKey),
    fails("https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/bucket", E.missingKey),
    fails("https://objectstorage.us-ashburn-1.oraclecloud.com/foo", E.unknownProviderForm),
    fails("https://ns.compat.objectstorage.us-ashburn-1.oraclecloud.com/b/", E.missingKey),
    direct("https://objectstorage.us-ashburn-1.oraclecloud.com/p/T0K3N/n/ns/b/bucket/o/obj",
           host: "objectstorage.us-ashburn-1.oraclecloud.com", path: "/p/T0K3N/n/ns/b/bucket/o/obj"),
]

fileprivate let directAndMalformedCases: [Case] = [
    direct("https://example.com/videos/a%20b.mp4?token=x", host: "example.com", path: "/videos/a%20b.mp4", query: "token=x"),
    direct("https://example.com", host: "example.com", path: ""),
    direct("https://cdn.example.com:443/a", host: "cdn.example.com", path: "/a"),
    direct("http://EXAMPLE.com:8080/A", host: "example.com", path: "/A", port: 8080, scheme: "http"),
    direct("http://[::1]:8080/x", host: "[::1]", path: "/x", port: 8080, scheme: "http"),
    direct("https://[2001:DB8::1]/x", host: "[2001:db8::1]", path: "/x"),
    direct("https://[::ffff:127.0.0.1]/x", host: "[::ffff:127.0.0.1]", path: "/x"),
    direct("http://127.0.0.1:9000/b/k", host: "127.0.0.1", path: "/b/k", port: 9000, scheme: "http"),
    direct("https://internal_host.example/x", host: "internal_host.example", path: "/x"),
    direct("https://example.com./x", host: "example.com", path: "/x"),
    direct("http://arn:8080/x", host: "arn", path: "/x", port: 8080, scheme: "http"),
    fails("", E.invalidURL),
    fails("not a url", E.invalidURL),
    fails("b.s3.amazonaws.com/k", E.invalidURL),
    fails("ftp://example.com/x", E.unsupportedScheme),
    fails("file:///etc/passwd", E.unsupportedScheme),
    fails("https:/example.com/x", E.invalidURL),
    fails("https://", E.invalidURL),
    fails("https:///k", E.invalidURL),
    fails("https://a..b.com/k", E.invalidURL),
    fails("https://.s3.amazonaws.com/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com../k", E.invalidURL),
    fails("https://user:pw@b.s3.amazonaws.com/k", E.invalidURL),
    fails("https://evil.com\\@b.s3.amazonaws.com/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com:99999/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com:0/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com:abc/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com:443:443/k", E.invalidURL),
    fails("https://[::1/x", E.invalidURL),
    fails("https://[fe80::1%25eth0]/x", E.invalidURL),
    fails("https://[::1]x/k", E.invalidURL),
    fails("https://[]/k", E.invalidURL),
    fails("https://bücher.de/x", E.invalidURL),
    fails("https://b%2Es3.amazonaws.com/k", E.invalidURL),
    fails("https://b.s3.amazonaws.com/a\tb", E.invalidURL),
    fails("https://b.s3.amazonaws.com/a b", E.invalidURL),
    fails("https://\(String(repeating: "a", count: 64)).com/k", E.invalidURL),
]

// MARK: - Tests

@Suite("CloudURL")
struct CloudURLTests {
    @Test("AWS S3 forms", arguments: awsCases) fileprivate func aws(_ c: Case) { check(c) }
    @Test("GCS forms", arguments: gcsCases) fileprivate func gcs(_ c: Case) { check(c) }
    @Test("Azure forms", arguments: azureCases) fileprivate func azure(_ c: Case) { check(c) }
    @Test("OTC, Wasabi and Oracle forms", arguments: otcWasabiOracleCases) fileprivate func s3Compatible(_ c: Case) { check(c) }
    @Test("direct and malformed URLs", arguments: directAndMalformedCases) fileprivate func directAndMalformed(_ c: Case) { check(c) }

    @Test func tableIsLarge() {
        #expect(awsCases.count + gcsCases.count + azureCases.count + otcWasabiOracleCases.count + directAndMalformedCases.count >= 60)
    }

    @Test func customEndpoint() {
        check(ok("http://127.0.0.1:5000/bucket/dir/key.mp4", .s3Compatible, "bucket", "dir/key.mp4", host: "127.0.0.1",
                 .pathStyle, port: 5000, scheme: "http"), customEndpoint: "http://127.0.0.1:5000")
        check(ok("https://b.minio.internal:9000/k", .s3Compatible, "b", "k", host: "b.minio.internal", .virtualHosted, port: 9000),
              customEndpoint: "MINIO.internal:9000/")
        check(ok("https://minio.internal/b/k", .s3Compatible, "b", "k", host: "minio.internal", .pathStyle),
              customEndpoint: "https://minio.internal:443")
        // Another port is another server: direct.
        check(direct("http://127.0.0.1:5001/bucket/key", host: "127.0.0.1", path: "/bucket/key", port: 5001, scheme: "http"),
              customEndpoint: "http://127.0.0.1:5000")
        // The endpoint takes precedence over built-in forms (an integration pointing at a regional host).
        check(ok("https://s3.eu-west-2.amazonaws.com/b/k", .s3Compatible, "b", "k", host: "s3.eu-west-2.amazonaws.com", .pathStyle),
              customEndpoint: "s3.eu-west-2.amazonaws.com")
        check(fails("http://127.0.0.1:5000/bucket/", E.missingKey), customEndpoint: "http://127.0.0.1:5000")
        // A malformed endpoint is ignored.
        check(direct("https://example.com/b/k", host: "example.com", path: "/b/k"), customEndpoint: "user@example.com")
    }

    @Test func derivedARN() throws {
        let ap = try CloudURL.parse("https://ap-name-123456789012.s3-accesspoint.us-west-2.amazonaws.com/k").get()
        #expect(ap.accessPointARN == "arn:aws:s3:us-west-2:123456789012:accesspoint/ap-name")
        let mrap = try CloudURL.parse("https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap/k").get()
        #expect(mrap.accessPointARN == "arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap")
        let host = try CloudURL.parse("https://frf28frarf9.mrap.accesspoint.s3-global.amazonaws.com/k").get()
        #expect(host.accessPointARN == nil)
        #expect(try CloudURL.parse("https://b.s3.amazonaws.com/k").get().accessPointARN == nil)
    }

    @Test func integrationCheck() throws {
        func code(_ url: String, _ provider: CloudProvider, _ allowed: [String]? = nil,
                  endpoint: String? = nil) throws -> String? {
            let loc = try CloudURL.parse(url, customEndpoint: endpoint).get()
            let err = CloudURL.check(loc, against: provider, allowedBuckets: allowed)
            if allowed == nil || allowed?.count == 1 {
                #expect(loc.belongs(to: provider, bucketRestriction: allowed?.first) == (err == nil), "\(url)")
            }
            return err?.code
        }
        let wrong = E.wrongIntegration
        // Provider matches.
        #expect(try code("https://b.s3.amazonaws.com/k", .aws) == nil)
        #expect(try code("s3://b/k", .aws) == nil)
        #expect(try code("https://arn:aws:s3::1:accesspoint/x.mrap/k", .aws) == nil)
        #expect(try code("https://storage.cloud.google.com/b/k", .gcp) == nil)
        #expect(try code("gs://b/k", .gcp) == nil)
        #expect(try code("https://acct.blob.core.windows.net/c/b", .azure) == nil)
        #expect(try code("https://b.obs.eu-de.otc.t-systems.com/k", .otc) == nil)
        #expect(try code("https://b.obs.eu-de.otc.t-systems.com/k", .s3Compatible) == nil)
        #expect(try code("https://s3.wasabisys.com/b/k", .wasabi) == nil)
        #expect(try code("https://s3.wasabisys.com/b/k", .s3Compatible) == nil)
        #expect(try code("https://ns.compat.objectstorage.us-ashburn-1.oraclecloud.com/b/k", .oracle) == nil)
        #expect(try code("s3://b/k", .s3Compatible) == nil)
        #expect(try code("s3://b/k", .wasabi) == nil)
        #expect(try code("http://127.0.0.1:5000/b/k", .aws, endpoint: "http://127.0.0.1:5000") == nil)
        #expect(try code("http://127.0.0.1:5000/b/k", .s3Compatible, endpoint: "http://127.0.0.1:5000") == nil)
        // Direct takes any fetchable http(s) URL, cloud ones too (public or presigned).
        #expect(try code("https://example.com/x", .direct) == nil)
        #expect(try code("https://b.s3.amazonaws.com/k?X-Amz-Signature=1", .direct) == nil)
        #expect(try code("https://b.s3.amazonaws.com/k", .direct, ["other"]) == nil)
        #expect(try code("s3://b/k", .direct) == wrong)
        #expect(try code("gs://b/k", .direct) == wrong)
        #expect(try code("https://arn:aws:s3::1:accesspoint/x.mrap/k", .direct) == wrong)
        // Provider mismatches.
        #expect(try code("https://b.s3.amazonaws.com/k", .gcp) == wrong)
        #expect(try code("https://storage.googleapis.com/b/k", .aws) == wrong)
        #expect(try code("gs://b/k", .aws) == wrong)
        #expect(try code("s3://b/k", .gcp) == wrong)
        #expect(try code("https://acct.blob.core.windows.net/c/b", .aws) == wrong)
        #expect(try code("https://example.com/x", .aws) == wrong)
        #expect(try code("https://b.obs.eu-de.otc.t-systems.com/k", .wasabi) == wrong)
        #expect(try code("https://b.obs.eu-de.otc.t-systems.com/k", .aws) == wrong)
        #expect(try code("https://b.s3.amazonaws.com/k", .s3Compatible) == wrong)
        #expect(try code("http://127.0.0.1:5000/b/k", .aws) == wrong)
        // Bucket restrictions.
        #expect(try code("https://b.s3.amazonaws.com/k", .aws, ["a", "b"]) == nil)
        #expect(try code("https://b.s3.amazonaws.com/k", .aws, ["a"]) == wrong)
        #expect(try code("https://b.s3.amazonaws.com/k", .aws, []) == wrong)
        #expect(try code("https://ap-name-123456789012.s3-accesspoint.us-west-2.amazonaws.com/k", .aws, ["ap-name"]) == nil)
        #expect(try code("https://ap-name-123456789012.s3-accesspoint.us-west-2.amazonaws.com/k", .aws,
                         ["arn:aws:s3:us-west-2:123456789012:accesspoint/ap-name"]) == nil)
        #expect(try code("https://arn:aws:s3::123:accesspoint/x.mrap/k", .aws, ["arn:aws:s3::123:accesspoint/x.mrap"]) == nil)
        #expect(try code("https://arn:aws:s3::123:accesspoint/x.mrap/k", .aws, ["x.mrap"]) == nil)
        #expect(try code("https://acct.blob.core.windows.net/c1/b", .azure, ["acct/c1"]) == nil)
        #expect(try code("https://acct.blob.core.windows.net/c1/b", .azure, ["other/c1"]) == wrong)
        #expect(try code("https://acct.blob.core.windows.net/c1/b", .azure, ["other/c2"]) == wrong)
        #expect(try code("https://acct.blob.core.windows.net/c1/b", .azure, ["c1"]) == nil)

        let loc = try CloudURL.parse("https://b.s3.amazonaws.com/k").get()
        #expect(loc.belongs(to: .aws, bucketRestriction: nil))
        #expect(loc.belongs(to: .aws, bucketRestriction: "b"))
        #expect(!loc.belongs(to: .aws, bucketRestriction: "c"))
        #expect(!loc.belongs(to: .azure, bucketRestriction: nil))
    }

    /// Presigned URLs carry their signature in the query: no error message may repeat it.
    @Test func errorsNeverEchoTheQuery() {
        let secret = "SIGSECRET123"
        let urls = [
            "https://b.s3.amazonaws.com/?X-Amz-Signature=\(secret)", "https://s3.amazonaws.com/?sig=\(secret)",
            "s3://b/k?\(secret)", "https://b.s3.weird.amazonaws.com/k?\(secret)", "https://b.s3.amazonaws.com/%FF?\(secret)",
            "https://acct.blob.core.windows.net/c/?sig=\(secret)", "https://x.y:99999/?\(secret)",
            "https://arn:aws:s3:::b/k?\(secret)", "https://objectstorage.us-ashburn-1.oraclecloud.com/n/x?\(secret)",
        ]
        for url in urls {
            guard case .failure(let err) = CloudURL.parse(url) else {
                Issue.record("\(url) should fail")
                continue
            }
            #expect(!err.message.contains(secret), "\(url): \(err.message)")
        }
    }

    /// Random strings, and random mutations of valid URLs, never trap; what parses keeps the invariants.
    @Test func neverTrapsOnRandomInput() {
        var rng = SplitMix64(seed: 0xC10D_0001)
        let alphabet: [String] = ["a", "b", "s", "3", "1", ".", "-", "_", ":", "/", "/", "?", "#", "%", "%2", "%F", "%C3", "@",
                                  "[", "]", "\\", "+", " ", "\t", "é", "日", "\u{0}", "https://", "s3://", "gs://", "arn:aws:s3::",
                                  ":accesspoint/", ".mrap", ".s3.", "amazonaws.com", "blob.core.windows.net", "storage.googleapis.com",
                                  "obs.eu-de.otc.t-systems.com", "wasabisys.com", "objectstorage.us-ashburn-1.oraclecloud.com",
                                  "/n/", "/b/", "/o/", "/p/", "eu-west-2", "dualstack", "s3-accesspoint", "-123456789012", ":443", ":99"]
        let seeds = (awsCases + gcsCases + azureCases + otcWasabiOracleCases + directAndMalformedCases).map(\.url)
        var parsed = 0
        for round in 0..<30_000 {
            var s: String
            if round % 2 == 0 {
                s = ""
                for _ in 0..<rng.int(0...14) { s += rng.pick(alphabet) }
            } else {
                var scalars = Array(rng.pick(seeds).unicodeScalars)
                for _ in 0..<rng.int(1...3) {
                    let at = scalars.isEmpty ? 0 : rng.int(0...scalars.count)
                    switch rng.int(0...2) {
                    case 0: scalars.insert(contentsOf: rng.pick(alphabet).unicodeScalars, at: at)
                    case 1: if at < scalars.count { scalars.remove(at: at) }
                    default: if at < scalars.count { scalars[at] = rng.pick(alphabet).unicodeScalars.first! }
                    }
                }
                s = String(String.UnicodeScalarView(scalars))
            }
            switch CloudURL.parse(s, customEndpoint: round % 7 == 0 ? "minio.internal:9000" : nil) {
            case .success(let loc):
                parsed += 1
                #expect(!loc.endpointHost.isEmpty || loc.style == .scheme, "\(s)")
                if loc.provider != .direct {
                    #expect(!loc.key.isEmpty && !loc.bucket.isEmpty, "\(s)")
                } else {
                    #expect(loc.bucket.isEmpty, "\(s)")
                }
                #expect(["https", "http", "s3", "gs"].contains(loc.scheme))
                if let q = loc.query { #expect(!q.isEmpty, "\(s)") }
            case .failure(let err):
                #expect(!err.code.isEmpty && !err.message.isEmpty)
            }
        }
        #expect(parsed > 1000)
    }
}
