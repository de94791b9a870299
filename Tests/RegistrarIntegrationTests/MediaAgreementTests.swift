import Foundation
import Testing

/// `registrar probe --json` must agree with independent tools. The fixtures are generated in the
/// test run by `scripts/media-fixtures.py` (ffmpeg, Pillow, pydicom, nibabel, qpdf/reportlab), and
/// the expected values are read back by those tools (ffprobe, Pillow, pydicom, nibabel, pdfinfo) —
/// never by us. See MEDIA-FIXTURES.md.
@Suite struct MediaAgreementTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Fixtures {
        let dir: URL
        let entries: [[String: Any]]
    }

    /// Generates the fixtures once per test process.
    nonisolated(unsafe) static var generated: Result<Fixtures, Error>?
    static let lock = NSLock()

    static func fixtures() throws -> Fixtures {
        lock.lock()
        defer { lock.unlock() }
        if let generated { return try generated.get() }
        let result = Result { try generate() }
        generated = result
        return try result.get()
    }

    static func generate() throws -> Fixtures {
        let venv = ProcessInfo.processInfo.environment["REGISTRAR_TOOLS_VENV"] ?? "/opt/registrar-tools-venv"
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PipelineHarness.HarnessError("\(python) is missing: run scripts/setup (the test command does) to install the fixture tools")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registrar-media-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [repoRoot.appendingPathComponent("scripts/media-fixtures.py").path, dir.path]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("media-fixtures-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PipelineHarness.HarnessError("media-fixtures.py failed: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        let data = try Data(contentsOf: dir.appendingPathComponent("expected.json"))
        guard let entries = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw PipelineHarness.HarnessError("expected.json is not a list")
        }
        return Fixtures(dir: dir, entries: entries)
    }

    static func probe(_ path: String, declared: String) throws -> (status: Int32, json: [String: Any]) {
        let p = Process()
        p.executableURL = PipelineHarness.binary
        p.arguments = ["probe", path, "--json", "--type", declared]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? ["unparsable": String(decoding: data, as: UTF8.self)]
        return (p.terminationStatus, obj)
    }

    /// ffprobe's codec names against ours (fourcc or short names).
    static func sameCodec(_ a: String, _ b: String) -> Bool {
        let groups: [Set<String>] = [["h264", "avc1", "avc3", "avc"], ["hevc", "hvc1", "hev1", "h265"], ["vp9", "vp09", "v_vp9"],
                                     ["vp8", "vp08", "v_vp8"], ["av1", "av01", "v_av1"], ["aac", "mp4a"], ["mp3", "mp3float"],
                                     ["opus", "a_opus"], ["vorbis", "a_vorbis"], ["flac"], ["mpeg4", "mp4v"]]
        let x = a.lowercased(), y = b.lowercased()
        if x == y { return true }
        if x.hasPrefix("pcm") && y.hasPrefix("pcm") { return true }
        return groups.contains { $0.contains(x) && $0.contains(y) }
    }

    /// Compares one expected field with the probe's; returns a description of the mismatch, if any.
    static func compare(_ key: String, expected: Any, got: Any?, tolerance: [String: Any]) -> String? {
        guard let got else { return "\(key): missing (expected \(expected))" }
        switch (expected, got) {
        case (let e as [String: Any], let g as [String: Any]):
            for (k, v) in e {
                if let m = compare(k, expected: v, got: g[k], tolerance: tolerance) { return "\(key).\(m)" }
            }
            return nil
        case (let e as [Any], let g as [Any]):
            guard e.count == g.count else { return "\(key): \(g) != \(e)" }
            for (x, y) in zip(e, g) {
                if let m = compare(key, expected: x, got: y, tolerance: tolerance) { return m }
            }
            return nil
        case (let e as String, let g as String):
            if key == "codec" { return sameCodec(e, g) ? nil : "codec: \(g) != \(e)" }
            return e == g ? nil : "\(key): \(g) != \(e)"
        case (let e as NSNumber, let g as NSNumber):
            let x = e.doubleValue, y = g.doubleValue
            if let t = tolerance[key] as? Double {
                let relative = key == "duration"
                let allowed = relative ? max(t * abs(x), 0.05) : t
                return abs(x - y) <= allowed + 1e-9 ? nil : "\(key): \(y) != \(x) (±\(allowed))"
            }
            if key == "pixdim" { return abs(x - y) <= 1e-5 ? nil : "\(key): \(y) != \(x)" }
            return x == y ? nil : "\(key): \(y) != \(x)"
        default:
            return "\(key): \(got) != \(expected)"
        }
    }

    @Test func probeAgreesWithIndependentTools() throws {
        let fx = try Self.fixtures()
        #expect(fx.entries.count > 40)
        var failures: [String] = []
        for entry in fx.entries {
            guard let file = entry["file"] as? String, let declared = entry["declared"] as? String else { continue }
            let path = fx.dir.appendingPathComponent(file).path
            let (status, got) = try Self.probe(path, declared: declared)
            if let code = entry["error"] as? String {
                let gotCode = (got["error"] as? [String: Any])?["code"] as? String
                if status != 1 || gotCode != code { failures.append("\(file): expected refusal \(code), got \(status) \(got)") }
                continue
            }
            guard status == 0 else {
                failures.append("\(file): refused \(got)")
                continue
            }
            let expect = entry["expect"] as? [String: Any] ?? [:]
            let tolerance = entry["tolerance"] as? [String: Any] ?? [:]
            let optional = Set(entry["optional"] as? [String] ?? [])
            for (key, value) in expect {
                if optional.contains(key) && got[key] == nil { continue }
                if let m = Self.compare(key, expected: value, got: got[key], tolerance: tolerance) { failures.append("\(file): \(m)") }
            }
            // The bytes budget: a probe says what it read.
            if let bytes = got["bytesRead"] as? Int, let requests = got["requests"] as? Int {
                let kind = expect["kind"] as? String ?? ""
                // ≤ 2 requests for video (an MP4 with moov at the end: head + tail); PDFs may chase objects.
                let maxRequests = kind == "pdf" ? 6 : (kind == "video" ? 2 : 3)
                if requests > maxRequests { failures.append("\(file): \(requests) requests (at most \(maxRequests))") }
                if ["image", "audio", "dicom", "nifti"].contains(expect["kind"] as? String ?? ""), requests == 1, bytes > 64 * 1024 {
                    failures.append("\(file): read \(bytes) bytes in one request")
                }
            } else {
                failures.append("\(file): no requests/bytesRead")
            }
        }
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) disagreements:\n" + failures.joined(separator: "\n")))
    }
}

/// The same fixtures served by the local nginx: `registrar probe URL` agrees with the file probe
/// (ranged reads over HTTP), and `registrar check` — no servers but object storage — gives every
/// verdict for a manifest of them.
@Suite struct ProbeOverHTTPTests {
    @Test func probeAndCheckOverRangedReads() throws {
        let fx = try MediaAgreementTests.fixtures()
        let env = ProcessInfo.processInfo.environment
        guard let objectsDir = env["REGISTRAR_OBJECTS_DIR"], let objectsURL = env["REGISTRAR_OBJECTS_URL"] else {
            Issue.record("REGISTRAR_OBJECTS_DIR/URL not set: run with scripts/test (it starts nginx)")
            return
        }
        let sub = "media-\(UUID().uuidString.prefix(8))"
        let dir = URL(fileURLWithPath: objectsDir).appendingPathComponent(sub)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: dir) }
        var sections: [String: [String]] = [:]
        var expectedErrors: [String: String] = [:] // url → code
        var expectedOK = 0
        for entry in fx.entries {
            guard let file = entry["file"] as? String, let declared = entry["declared"] as? String else { continue }
            let target = dir.appendingPathComponent(file)
            try FileManager.default.copyItem(at: fx.dir.appendingPathComponent(file), to: target)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target.path)
            let url = "\(objectsURL)/\(sub)/\(file)"
            let section = ["image": "images", "video": "videos", "audio": "audio", "pdf": "pdfs", "text": "text", "nifti": "nifti"][declared]
            if let section {
                sections[section, default: []].append(#"{"objectUrl": "\#(url)"}"#)
            } else {
                sections["dicom_series", default: []].append(#"{"title": "\#(file)", "objectUrl_0": "\#(url)"}"#)
            }
            if let code = entry["error"] as? String { expectedErrors[url] = code } else { expectedOK += 1 }

            // probe over HTTP == probe of the file, for every field but the read accounting.
            let overHTTP = try run(["probe", url, "--json", "--type", declared, "--fetch-allow", "127.0.0.0/8"])
            let local = try MediaAgreementTests.probe(fx.dir.appendingPathComponent(file).path, declared: declared)
            var a = overHTTP.json, b = local.json
            for k in ["requests", "bytesRead"] { a[k] = nil; b[k] = nil }
            #expect(NSDictionary(dictionary: a).isEqual(to: b), "\(file): over HTTP \(a) vs file \(b)")
            if file == "video-h264-moov-at-end.mp4" {
                #expect(overHTTP.json["requests"] as? Int == 2, "moov at the end: head + one ranged read")
            }
        }
        var manifest = "{\n"
        for (k, v) in sections { manifest += "\"\(k)\": [\n" + v.joined(separator: ",\n") + "\n],\n" }
        manifest += "\"skip_duplicate_urls\": false\n}\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(sub).json")
        try manifest.write(to: path, atomically: true, encoding: .utf8)
        let check = try run(["check", path.path, "--json", "--fetch-allow", "127.0.0.0/8"])
        #expect(check.status == 1, "some fixtures must be refused")
        #expect(check.json["units"] as? Int == fx.entries.count)
        #expect(check.json["ok"] as? Int == expectedOK)
        var got: [String: String] = [:]
        for e in check.json["errors"] as? [[String: Any]] ?? [] {
            if let url = (e["objectUrls"] as? [String])?.first, let code = e["code"] as? String { got[url] = code }
        }
        #expect(got == expectedErrors)
        // Without the allow-list, loopback is refused before any connection.
        let refused = try run(["check", path.path, "--json"])
        let codes = Set((refused.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String })
        #expect(codes == ["destination_forbidden"])
    }

    func run(_ args: [String]) throws -> (status: Int32, json: [String: Any]) {
        let p = Process()
        p.executableURL = PipelineHarness.binary
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (p.terminationStatus, obj)
    }
}
