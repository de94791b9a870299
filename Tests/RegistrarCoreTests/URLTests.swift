import RegistrarCore
import Testing

// MARK: - Helpers

fileprivate let location = ItemLocation(section: "videos", indexInSection: 3, line: 17)

fileprivate func check(_ raw: String, csv: Bool = false, maxBytes: Int = 16 * 1024) -> ObjectURLCheck.Outcome {
    ObjectURLCheck.check(raw, csv: csv, maxBytes: maxBytes, location: location, field: "objectUrl_2")
}

/// The codes of an outcome's issues, in order.
fileprivate func codes(_ o: ObjectURLCheck.Outcome) -> [IssueCode] { o.issues.map(\.code) }


fileprivate let unreserved: [Character] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

fileprivate func hex(_ b: UInt8, upper: Bool) -> String {
    let h = String(b, radix: 16, uppercase: upper)
    return b < 0x10 ? "0" + h : h
}

// MARK: - Tests

@Suite fileprivate struct URLTests {

    // MARK: ObjectURLCheck

    @Suite struct ObjectURLs {
        static let accepted: [String] = [
            "https://encord-integration.s3.eu-west-2.amazonaws.com/videos/boat_lake.MP4",
            "http://example.com/a.jpg",
            "s3://bucket/key.mp4",
            "s3://bucket/dir/key.mp4?versionId=3",
            "gs://bucket/dir/obj.png",
            "HTTPS://EXAMPLE.COM/x.mp4",
            "Https://example.com/x",
            "HTTP://h/p",
            "S3://bucket/key",
            "GS://b/k",
            "https://arn:aws:s3::123456789012:accesspoint/abc.mrap/key.mp4",
            "https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com/Videos/2022/video_1.mp4",
            "https://myaccount.blob.core.windows.net/encordcontainer/boat_lake.MP4",
            "https://myaccount.blob.core.windows.net/c/blob.mp4?sv=2022-11-02&ss=b&sp=r&sig=abc%2Bdef%3D",
            "https://storage.cloud.google.com/encord-image-bucket/boat_lake.MP4",
            "https://storage.googleapis.com/bucket/obj.jpg",
            "https://encord-bucket.obs.eu-de.otc.t-systems.com/videos/boat_lake.MP4",
            "https://example.com/DALL%C2%B7E%202022.png",
            "https://example.com/a/b.mp4?X-Amz-Signature=abc&X-Amz-Expires=3600#t=10",
            "https://example.com:8443/a",
            "http://[::1]:8080/x",
            "https://example.com/中文/é.png",
            "https://my-bucket/.../nifti-file1.nii",
            "https://example.com",
            "https://example.com?x=1",
        ]

        @Test(arguments: accepted, [false, true])
        func acceptedAsWritten(_ url: String, csv: Bool) {
            let o = check(url, csv: csv)
            #expect(o.url == url)
            #expect(o.issues.isEmpty, "\(o.issues)")
        }

        struct Refusal: Sendable, CustomTestStringConvertible {
            var raw: String
            var code: IssueCode
            var testDescription: String { raw.debugDescription }
            init(_ raw: String, _ code: IssueCode) {
                self.raw = raw
                self.code = code
            }
        }

        /// Refused the same way from JSON and from CSV.
        static let refusals: [Refusal] = [
            // Credentials in the URL: refused (issue 20), the secret never stored.
            Refusal("https://user:pass@example.com/x", .urlContainsCredentials),
            Refusal("http://user@example.com/x", .urlContainsCredentials),
            Refusal("https://@example.com/x", .urlContainsCredentials),
            Refusal("s3://key:secret@bucket/k", .urlContainsCredentials),
            Refusal("HTTPS://u:p@EXAMPLE.COM/x", .urlContainsCredentials),
            Refusal("http://a\\@b/x", .urlContainsCredentials),
            Refusal("", .emptyObjectURL),
            Refusal(" ", .emptyObjectURL),
            Refusal("   ", .emptyObjectURL),
            Refusal("\t\r\n", .emptyObjectURL),
            Refusal("https://example.com/a b.mp4", .urlContainsWhitespace),
            Refusal("https://example.com/a\tb.mp4", .urlContainsWhitespace),
            Refusal("https://example.com/a\nb.mp4", .urlContainsWhitespace),
            Refusal("https://exa mple.com/a", .urlContainsWhitespace),
            Refusal(" https://example.com/a b ", .urlContainsWhitespace),
            Refusal("Multi-Region-Access-Point-ARN + <object name_1>", .urlContainsWhitespace),
            Refusal("https://example.com/a\u{01}b", .invalidURL),
            Refusal("https://example.com/a\u{7F}", .invalidURL),
            Refusal("https://example.com/\u{0}", .invalidURL),
            Refusal("https://exam\u{1B}ple.com/a", .invalidURL),
            Refusal("path/to/file.mp4", .invalidURL),
            Refusal("/abs/path.mp4", .invalidURL),
            Refusal("cloud-path-to-your-video-1", .invalidURL),
            Refusal("file/path/to/images/file-name-01.file-extension", .invalidURL),
            Refusal("example.com/a.mp4", .invalidURL),
            Refusal("://example.com/a", .invalidURL),
            Refusal("1https://example.com/a", .invalidURL),
            Refusal("ftp://example.com/a", .unsupportedScheme),
            Refusal("FTP://example.com/a", .unsupportedScheme),
            Refusal("file:///etc/passwd", .unsupportedScheme),
            Refusal("mailto:a@example.com", .unsupportedScheme),
            Refusal("httpss://example.com/a", .unsupportedScheme),
            Refusal("https:/example.com/a", .invalidURL),
            Refusal("https:example.com", .invalidURL),
            Refusal("https://", .invalidURL),
            Refusal("https:///path", .invalidURL),
            Refusal("https://?q=1", .invalidURL),
            Refusal("HTTPS:///path", .invalidURL),
            Refusal("s3://bucket", .invalidURL),
            Refusal("gs://bucket", .invalidURL),
            Refusal("S3://bucket", .invalidURL),
            Refusal("s3://", .invalidURL),
            Refusal("<object url_1>", .invalidURL),
            Refusal("<object url>", .invalidURL),
            Refusal("<>", .invalidURL),
            Refusal("<", .invalidURL),
            Refusal("<ftp://example.com/a>", .invalidURL),
            Refusal("<s3://bucket>", .invalidURL),
        ]

        @Test(arguments: refusals, [false, true])
        func refused(_ r: Refusal, csv: Bool) {
            let o = check(r.raw, csv: csv)
            #expect(o.url == nil)
            #expect(codes(o) == [r.code])
            if let issue = o.issues.first {
                #expect(issue.severity == .error)
                #expect(issue.item == "videos[3]")
                #expect(issue.field == "objectUrl_2")
                #expect(issue.line == 17)
                #expect(!issue.message.isEmpty)
            }
        }

        /// A bucket with an empty key names no object.
        @Test(arguments: ["s3://bucket/", "gs://bucket/", "s3://bucket?x=1"])
        func bucketWithEmptyKeyIsRefused(_ raw: String) {
            let o = check(raw)
            #expect(o.url == nil, "accepted \(raw)")
            #expect(codes(o) == [.invalidURL])
        }

        @Test func lengthLimitCountsBytes() {
            let base = "https://example.com/"                     // 20 bytes
            let atLimit = base + String(repeating: "a", count: 10)
            #expect(check(atLimit, maxBytes: 30).url == atLimit)
            #expect(codes(check(atLimit + "a", maxBytes: 30)) == [.urlTooLong])
            let accented = base + String(repeating: "é", count: 5)  // 30 bytes, 25 characters
            #expect(check(accented, maxBytes: 30).url == accented)
            #expect(codes(check(accented + "é", maxBytes: 30)) == [.urlTooLong])
            #expect(codes(check(atLimit + "a", csv: true, maxBytes: 30)) == [.urlTooLong])
            // The 16 KB default Encord applies.
            let long = base + String(repeating: "x", count: 16 * 1024)
            #expect(codes(check(long)) == [.urlTooLong])
        }

        @Test(arguments: [" https://example.com/a", "https://example.com/a ", "\thttps://example.com/a\r\n",
                          "  https://example.com/a  "])
        func surroundingWhitespaceIsTrimmedInJSON(_ raw: String) {
            let o = check(raw)
            #expect(o.url == "https://example.com/a")
            #expect(codes(o) == [.urlTrimmed])
            #expect(o.issues.first?.severity == .warning)
            #expect(o.issues.first?.field == "objectUrl_2")
            #expect(o.issues.first?.line == 17)
        }

        @Test(arguments: [" https://example.com/a", "https://example.com/a ", "\thttps://example.com/a\r\n"])
        func surroundingWhitespaceIsAnErrorInCSV(_ raw: String) {
            let o = check(raw, csv: true)
            #expect(o.url == nil)
            #expect(codes(o) == [.urlContainsWhitespace])
            #expect(o.issues.first?.severity == .error)
        }

        @Test(arguments: [
            ("<https://encord-integration.s3.eu-west-2.amazonaws.com/images/thing-0002.jpg",
             "https://encord-integration.s3.eu-west-2.amazonaws.com/images/thing-0002.jpg"),
            ("<https://example.com/a.jpg>", "https://example.com/a.jpg"),
            ("<s3://bucket/key>", "s3://bucket/key"),
            ("<GS://bucket/key", "GS://bucket/key"),
            ("<http://example.com/a>", "http://example.com/a"),
        ] as [(raw: String, repaired: String)], [false, true])
        func strayAngleBracketsAreRepaired(_ pair: (raw: String, repaired: String), csv: Bool) {
            let (raw, repaired) = pair
            let o = check(raw, csv: csv)
            #expect(o.url == repaired)
            #expect(codes(o) == [.urlRepaired])
            #expect(o.issues.first?.severity == .warning)
        }

        @Test func trimmedAndRepairedTogetherInJSON() {
            let o = check("  <https://example.com/a.jpg> ")
            #expect(o.url == "https://example.com/a.jpg")
            #expect(codes(o) == [.urlTrimmed, .urlRepaired])
            #expect(codes(check("  <https://example.com/a.jpg> ", csv: true)) == [.urlContainsWhitespace])
        }

        /// Upper-casing the scheme sends a URL down the careful path instead of the one-pass fast
        /// path; both paths must reach the same verdict on every input.
        @Test func fastAndCarefulPathsAgree() {
            var rng = SplitMix64(seed: 0x0B1E_C7)
            let schemes = ["https", "http", "s3", "gs", "ftp", "file", "h"]
            let separators = ["://", "://", "://", ":/", ":", ""]
            let hosts = ["", "example.com", "b", "arn:aws:s3::1:accesspoint", "[::1]:80", "user@h", "h\u{7F}", "h é", "é"]
            let tails = ["", "/", "/a", "/a b", "/%20", "?q", "#f", "/\u{7F}", "/é", "\t", " ", "/k?x=1", "/\u{1}", ">", "/a>"]
            for i in 0..<1000 {
                let scheme = rng.pick(schemes)
                let rest = rng.pick(separators) + rng.pick(hosts) + rng.pick(tails) + (rng.chance(0.3) ? rng.pick(tails) : "")
                let prefix = rng.chance(0.15) ? rng.pick(["<", " ", "\t"]) : ""
                let lower = prefix + scheme + rest
                let upper = prefix + scheme.uppercased() + rest
                for csv in [false, true] {
                    let a = check(lower, csv: csv), b = check(upper, csv: csv)
                    #expect(codes(a) == codes(b), "case \(i): \(lower.debugDescription) vs \(upper.debugDescription), csv \(csv)")
                    #expect((a.url == nil) == (b.url == nil), "case \(i): \(lower.debugDescription), csv \(csv)")
                    if let u = a.url {
                        #expect(ObjectURLCheck.supportedSchemes.contains(where: { u.lowercased().hasPrefix($0 + "://") }),
                                "case \(i): accepted \(u.debugDescription)")
                        #expect(!u.utf8.contains { $0 <= 0x20 || $0 == 0x7F }, "case \(i): accepted \(u.debugDescription)")
                    }
                }
            }
        }

        @Test func everySeedURLFormIsClassified() {
            // From Encord's documented examples (see Fixtures/seed/INDEX.md).
            #expect(check("https://my-bucket/.../nifti-file2.nii.gz").url != nil)
            #expect(codes(check("<object url_1>")) == [.invalidURL])
            #expect(codes(check("<https://myaccount.blob.core.windows.net/encordcontainer/thing-02.jpg")) == [.urlRepaired])
            #expect(codes(check("file/path/to/images/file-name-02.file-extension")) == [.invalidURL])
        }
    }

    // MARK: URLKey.normalize

    @Suite struct Normalize {
        @Test(arguments: [
            // Scheme and host are lower-cased; the path is not.
            ("HTTPS://Example.COM/Path/File.MP4", "https://example.com/Path/File.MP4"),
            ("s3://My-Bucket/Key.mp4", "s3://my-bucket/Key.mp4"),
            ("GS://Bucket/Obj", "gs://bucket/Obj"),
            // Default ports dropped, others kept; an empty port dropped.
            ("https://example.com:443/x", "https://example.com/x"),
            ("http://example.com:80/x", "http://example.com/x"),
            ("HTTP://Example.com:80/x", "http://example.com/x"),
            ("https://example.com:80/x", "https://example.com:80/x"),
            ("http://example.com:443/x", "http://example.com:443/x"),
            ("https://example.com:8443/x", "https://example.com:8443/x"),
            ("https://example.com:/x", "https://example.com/x"),
            ("https://example.com:443", "https://example.com"),
            ("https://example.com:443?q=1", "https://example.com?q=1"),
            ("s3://bucket:/key", "s3://bucket/key"),
            // Percent-encoding: unreserved decoded, the rest upper-cased.
            ("https://example.com/%7e", "https://example.com/~"),
            ("https://example.com/%7E", "https://example.com/~"),
            ("https://example.com/%41%62", "https://example.com/Ab"),
            ("https://example.com/%2d%2e%5f%7e%30", "https://example.com/-._~0"),
            ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
            ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
            ("https://example.com/DALL%c2%b7E", "https://example.com/DALL%C2%B7E"),
            ("https://example.com/a%20b", "https://example.com/a%20b"),
            ("https://example.com/%25", "https://example.com/%25"),
            ("https://example.com/%2541", "https://example.com/%2541"),
            // A stray '%' is escaped as %25, so no later decoding can form a new escape from it.
            ("https://example.com/%", "https://example.com/%25"),
            ("https://example.com/%G1", "https://example.com/%25G1"),
            ("https://example.com/a%4", "https://example.com/a%254"),
            ("https://example.com/%2%41", "https://example.com/%252A"),
            // The fragment is dropped.
            ("https://example.com/a#frag", "https://example.com/a"),
            ("https://example.com/a?b=1#frag", "https://example.com/a?b=1"),
            ("https://example.com#frag", "https://example.com"),
            ("https://example.com/a#", "https://example.com/a"),
            // Kept: path case, '+', trailing slash, dot segments, repeated slashes, query order and case.
            ("https://example.com/Path/UPPER.MP4", "https://example.com/Path/UPPER.MP4"),
            ("https://example.com/a+b", "https://example.com/a+b"),
            ("https://example.com/dir/", "https://example.com/dir/"),
            ("https://example.com/a/../b/./c", "https://example.com/a/../b/./c"),
            ("https://example.com//double//slash", "https://example.com//double//slash"),
            ("https://example.com/x?b=2&a=1", "https://example.com/x?b=2&a=1"),
            ("https://example.com/x?B=2&A=1", "https://example.com/x?B=2&A=1"),
            // IPv6 literals.
            ("http://[::1]:80/x", "http://[::1]/x"),
            ("http://[::1]/x", "http://[::1]/x"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"),
            ("HTTP://[FE80::1]:80/x", "http://[fe80::1]/x"),
            ("https://[2001:db8::1]:443/k", "https://[2001:db8::1]/k"),
            ("https://[2001:db8::1]/k", "https://[2001:db8::1]/k"),
            // Userinfo kept as written.
            ("https://User:Pass@Example.COM/x", "https://User:Pass@example.com/x"),
            ("https://user@example.com:443/x", "https://user@example.com/x"),
            // S3 multi-region access points: the ARN is the authority.
            ("https://arn:aws:s3::123456789012:accesspoint/abc.mrap/key.mp4",
             "https://arn:aws:s3::123456789012:accesspoint/abc.mrap/key.mp4"),
            ("HTTPS://ARN:AWS:S3::123456789012:ACCESSPOINT/abc.mrap/Key.mp4",
             "https://arn:aws:s3::123456789012:accesspoint/abc.mrap/Key.mp4"),
        ])
        func normalizes(_ url: String, _ key: String) {
            #expect(URLKey.normalize(url) == key)
            #expect(URLKey.normalize(key) == key, "a key is its own key")
        }

        @Test func keysOfDifferentObjectsDiffer() {
            let pairs = [
                ("https://example.com/a", "https://example.com/A"),
                ("https://example.com/a+b", "https://example.com/a%20b"),
                ("https://example.com/dir", "https://example.com/dir/"),
                ("https://example.com/a/../b", "https://example.com/b"),
                ("https://example.com/x?a=1&b=2", "https://example.com/x?b=2&a=1"),
                ("https://example.com/a%2Fb", "https://example.com/a/b"),
                ("https://example.com:8443/x", "https://example.com/x"),
                ("http://example.com/x", "https://example.com/x"),
                ("s3://bucket/key", "gs://bucket/key"),
                ("https://example.com/x?sig=1", "https://example.com/x?sig=2"),
            ]
            for (a, b) in pairs {
                #expect(URLKey.normalize(a) != URLKey.normalize(b), "\(a) vs \(b)")
            }
        }

        /// A stray '%' that is not an escape must not combine with the characters an escape
        /// decodes to: `%2%41` (a literal "%2A" to a lenient server) is not `%2A` ("*").
        @Test func decodingNeverCreatesANewEscape() {
            #expect(URLKey.normalize("https://example.com/%2%41") != URLKey.normalize("https://example.com/%2A"))
            let once = URLKey.normalize("https://example.com/%%341")
            #expect(URLKey.normalize(once) == once, "\(once)")
        }

        @Test func idempotentOnRandomURLs() {
            var rng = SplitMix64(seed: 0x1DE4_7047)
            let schemes = ["https", "HTTPS", "http", "Http", "s3", "gs", "GS"]
            let hosts = ["example.com", "Example.COM", "b", "[::1]", "[FE80::1]", "user@Host", "U:P@h.com",
                         "arn:aws:s3::1:accesspoint", "ARN:AWS:S3::1:AccessPoint"]
            let ports = ["", "", ":", ":80", ":443", ":8080"]
            let pieces = ["/", "a", "A", "%7e", "%7E", "%41", "%2f", "%2F", "%c2%b7", "%", "%%", "%2", "%3", "%34", "%37",
                          "1", "e", "41", "%4", "%G1", "+", "..", ".", "~", "é", "%25", "%20", "=", "&", "?", ":", "@"]
            let tails = ["", "", "?a=1&b=2", "?X=%7e&y=%2f", "#frag", "#%41", "?q#f"]
            var failures: [String] = []
            for i in 0..<1000 {
                var url = rng.pick(schemes) + "://" + rng.pick(hosts) + rng.pick(ports) + "/"
                for _ in 0..<rng.int(0...8) { url += rng.pick(pieces) }
                url += rng.pick(tails)
                let once = URLKey.normalize(url)
                let twice = URLKey.normalize(once)
                if twice != once { failures.append("case \(i): \(url) → \(once) → \(twice)") }
            }
            if !failures.isEmpty {
                Issue.record("\(failures.count) of 1000 not idempotent, e.g.\n\(failures.prefix(5).joined(separator: "\n"))")
            }
        }

        /// A canonical URL and variants of it that differ only in normalisable ways share a key.
        @Test func normalisableVariantsShareAKey() {
            var rng = SplitMix64(seed: 0xC0FF_EE11)
            let safeExtras: [String] = ["%2F", "%20", "%C2%B7", "%25", "+", "=", "!", "$", "/", ",", ";", "%3F"]
            var failures: [String] = []
            for i in 0..<1000 {
                let scheme = rng.pick(["https", "http", "s3", "gs"])
                var host = ""
                for _ in 0..<rng.int(1...12) { host.append(rng.pick(Array("abcdefghijklmnopqrstuvwxyz0123456789-."))) }
                var path = "/"
                for _ in 0..<rng.int(1...10) {
                    path += rng.chance(0.7) ? String(rng.pick(unreserved)) : rng.pick(safeExtras)
                }
                let query = rng.chance(0.3) ? "?k=" + String((0..<rng.int(0...6)).map { _ in rng.pick(unreserved) }) : ""
                let canonical = scheme + "://" + host + path + query

                // Variant: case of scheme and host, default or empty port, needless and
                // lower-case escapes, a fragment.
                var variant = rng.randomCase(scheme) + "://" + rng.randomCase(host)
                switch (scheme, rng.int(0...2)) {
                case ("https", 0): variant += ":443"
                case ("http", 0): variant += ":80"
                case (_, 1): variant += ":"
                default: break
                }
                var rest = Array(path + query)
                var k = 0
                while k < rest.count {
                    let c = rest[k]
                    if c == "%" {
                        // Re-case an existing escape's hex digits.
                        let digits = String(rest[(k + 1)...(k + 2)])
                        rest.replaceSubrange((k + 1)...(k + 2), with: Array(rng.randomCase(digits)))
                        k += 3
                        continue
                    }
                    if unreserved.contains(c), rng.chance(0.25) {
                        let escape = "%" + hex(c.asciiValue!, upper: rng.chance(0.5))
                        rest.replaceSubrange(k...k, with: Array(escape))
                        k += 3
                        continue
                    }
                    k += 1
                }
                variant += String(rest)
                if rng.chance(0.3) { variant += "#" + rng.pick(["", "frag", "a/b?c", "%41"]) }

                if URLKey.normalize(canonical) != canonical || URLKey.normalize(variant) != canonical {
                    failures.append("case \(i): \(canonical) ← \(variant) → \(URLKey.normalize(variant))")
                }
            }
            if !failures.isEmpty {
                Issue.record("\(failures.count) of 1000 variants have another key, e.g.\n\(failures.prefix(5).joined(separator: "\n"))")
            }
        }

        @Test func unitKeys() {
            #expect(URLKey.forUnit(["HTTPS://Example.com:443/a.mp4"]) == "https://example.com/a.mp4")
            #expect(URLKey.forUnit(["HTTPS://A.com/1.jpg", "https://b.com/%7e2.jpg#f", "s3://c/3.jpg"])
                    == "https://a.com/1.jpg\nhttps://b.com/~2.jpg\ns3://c/3.jpg")
            #expect(URLKey.forUnit([]) == "")
            // Frame order matters.
            #expect(URLKey.forUnit(["https://a/1", "https://a/2"]) != URLKey.forUnit(["https://a/2", "https://a/1"]))
            // A two-frame unit never collides with a one-frame unit.
            #expect(URLKey.forUnit(["https://a/1", "https://a/2"]) != URLKey.forUnit(["https://a/1"]))
        }
    }

    // MARK: Paths and file names

    @Suite struct Paths {
        @Test(arguments: [
            ("https://bucket.s3.eu-west-2.amazonaws.com/path/to/my/bucket/video23.mp4", "/path/to/my/bucket/video23.mp4"),
            ("https://example.com/DALL%C2%B7E+2022.png", "/DALL·E+2022.png"),
            ("https://example.com/%E4%B8%AD%E6%96%87.png", "/中文.png"),
            ("s3://bucket/key/with%20space.mp4", "/key/with space.mp4"),
            ("gs://bucket/dir/obj.png", "/dir/obj.png"),
            ("https://example.com/%41", "/A"),
            // Invalid escapes are kept as written; valid ones around them are still decoded.
            ("https://example.com/a%ZZb%4", "/a%ZZb%4"),
            ("https://example.com/a%", "/a%"),
            ("https://example.com/%C2%B7%ZZ", "/·%ZZ"),
            // A decoding that is not valid UTF-8 or makes a control character: the raw path.
            ("https://example.com/bad%FFutf8", "/bad%FFutf8"),
            ("https://example.com/line%0Abreak", "/line%0Abreak"),
            // Query and fragment are not part of the path.
            ("https://example.com/a/b.mp4?sig=%41&x=/y", "/a/b.mp4"),
            ("https://example.com/a/b.mp4#frag/x", "/a/b.mp4"),
            ("https://example.com/a/b.mp4?q#f", "/a/b.mp4"),
            ("https://example.com", ""),
            ("https://example.com?x=/1", ""),
            ("https://example.com:8443/p", "/p"),
        ])
        func decodedPath(_ url: String, _ path: String) {
            #expect(URLKey.decodedPath(of: url) == path)
        }

        @Test(arguments: [
            ("https://bucket.s3.eu-west-2.amazonaws.com/path/to/my/bucket/video23.mp4", "video23.mp4"),
            ("https://example.com/DALL%C2%B7E+2022.png", "DALL·E+2022.png"),
            ("s3://bucket/k.mp4", "k.mp4"),
            ("https://example.com/a/b.mp4?x=/y/z", "b.mp4"),
            ("https://example.com/a/b.mp4#/frag", "b.mp4"),
            ("https://example.com/dir/file%20name.png", "file name.png"),
            ("https://arn:aws:s3::123456789012:accesspoint/abc.mrap/key.mp4", "key.mp4"),
        ])
        func fileName(_ url: String, _ name: String) {
            #expect(URLKey.fileName(of: url) == name)
        }
    }
}
