import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarRuntime

/// Options shared by the commands that read objects.
struct FetchOptions: ParsableArguments {
    @Option(help: "CIDRs and hosts the fetcher may reach despite the private-address rules (env REGISTRAR_FETCH_ALLOW), e.g. 127.0.0.0/8.")
    var fetchAllow = ServerOptions.env("REGISTRAR_FETCH_ALLOW", "")
    @Option(help: "Seconds before a fetch gives up.") var fetchTimeout = 30.0
    @Option(help: "Seconds one object may take over all its reads: attempts, retry waits, redirects and probe rounds; past it the unit fails `timeout` (env REGISTRAR_FETCH_DEADLINE; default 60).")
    var fetchDeadline: Double?
    @Option(help: "Bytes per second below which a read is cut off after --fetch-low-speed-time seconds and retried within the deadline; 0 = off (env REGISTRAR_FETCH_LOW_SPEED_LIMIT; default 1024).")
    var fetchLowSpeedLimit: Int?
    @Option(help: "Seconds a read may stay below --fetch-low-speed-limit (env REGISTRAR_FETCH_LOW_SPEED_TIME; default 15).")
    var fetchLowSpeedTime: Double?
    @Option(help: "Redirect hops followed per read, each re-checked by the address policy; 0 = follow none (env REGISTRAR_FETCH_MAX_REDIRECTS; default 5).")
    var fetchMaxRedirects: Int?
    @Option(help: "Largest width or height accepted.") var maxDimension = ProbeLimits().maxDimension
    @Option(help: "Largest object accepted, in bytes (default: no limit).") var maxObjectBytes: Int64?

    func policy(concurrency: Int) throws -> FetchPolicy {
        let allow: AddressPolicy
        do { allow = try AddressPolicy(allowList: fetchAllow) } catch { throw CommandFailure("\(error)") }
        var p = FetchPolicy(addressPolicy: allow)
        p.maxConcurrent = concurrency
        guard fetchTimeout > 0, fetchTimeout.isFinite else { throw CommandFailure("--fetch-timeout must be a positive number of seconds, got \(fetchTimeout)") }
        p.totalTimeout = fetchTimeout
        p.deadline = try Self.setting(fetchDeadline, flag: "--fetch-deadline", env: "REGISTRAR_FETCH_DEADLINE", default: 60,
                                      what: "a positive number of seconds") { $0 > 0 && $0.isFinite }
        p.lowSpeedLimit = try Self.setting(fetchLowSpeedLimit, flag: "--fetch-low-speed-limit", env: "REGISTRAR_FETCH_LOW_SPEED_LIMIT",
                                           default: 1024, what: "a whole number of bytes per second, 0 or more") { $0 >= 0 }
        p.lowSpeedTime = try Self.setting(fetchLowSpeedTime, flag: "--fetch-low-speed-time", env: "REGISTRAR_FETCH_LOW_SPEED_TIME",
                                          default: 15, what: "a positive number of seconds") { $0 > 0 && $0.isFinite }
        p.maxRedirects = try Self.setting(fetchMaxRedirects, flag: "--fetch-max-redirects", env: "REGISTRAR_FETCH_MAX_REDIRECTS",
                                          default: FetchPolicy.defaultMaxRedirects, what: "a whole number from 0 to 20") { (0...20).contains($0) }
        p.followRedirects = p.maxRedirects > 0
        return p
    }

    /// A setting from its flag, else its environment variable, else the default; a value that
    /// is not valid is refused naming where it came from.
    static func setting<T: LosslessStringConvertible>(_ flag: T?, flag name: String, env: String, default fallback: T, what: String,
                                                      valid: (T) -> Bool) throws -> T {
        if let flag {
            guard valid(flag) else { throw CommandFailure("\(name) must be \(what), got \(flag)") }
            return flag
        }
        let text = ServerOptions.env(env, "")
        if text.isEmpty { return fallback }
        guard let v = T(text.trimmingCharacters(in: .whitespaces)), valid(v) else {
            throw CommandFailure("\(env) must be \(what), got '\(text)'")
        }
        return v
    }

    var prober: ContentProber {
        var limits = ProbeLimits()
        limits.maxDimension = maxDimension
        limits.maxObjectBytes = maxObjectBytes
        return ContentProber(limits: limits)
    }
}

/// `registrar probe TARGET [--json]`: what verification derives from one object.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe one object (a URL or a local file) from a few ranged reads.",
        discussion: "Exit status: 0 when the object is described, 1 when it is refused, 2 on usage errors."
    )

    @Argument(help: "An http(s) URL or a local file path.") var target: String
    @Option(help: "Probe as this type (image, video, audio, pdf, text, dicom_series, nifti); default: what the content is.")
    var type: DataType?
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var fetch: FetchOptions

    func run() throws {
        let prober = fetch.prober
        let outcome: FormatParse
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let fetcher = try RangeFetcher(policy: try fetch.policy(concurrency: 1))
            outcome = ProbeDriver.run(type: type, prober: prober) { offset, length in
                let r = fetcher.fetch([FetchRequest(id: 0, url: target, rangeStart: offset, rangeLength: length)])[0]
                if let failure = r.failure { return .failure(code: failure.code, message: r.message ?? failure.rawValue) }
                return .bytes(r.bytes, offset: r.bytesOffset, totalSize: r.totalSize, contentType: r.contentType)
            }
        } else {
            guard let handle = FileHandle(forReadingAtPath: target) else {
                let message = "cannot open \(redactQuery(target)): not an http(s) URL, and no readable file has that path"
                // Usage error (exit 2), reported in the shape --json promises for every other error.
                guard json else { throw CommandFailure(message) }
                print(JSONValue.object([("error", .object([("code", .string("invalid_target")), ("message", .string(message))]))]).compactText)
                throw ExitCode(2)
            }
            defer { try? handle.close() }
            let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int64) ?? nil
            outcome = ProbeDriver.run(type: type, prober: prober) { offset, length in
                do {
                    try handle.seek(toOffset: UInt64(offset))
                    let data = try handle.read(upToCount: length) ?? Data()
                    return .bytes(Array(data), offset: offset, totalSize: size, contentType: nil)
                } catch {
                    return .failure(code: UnitErrorCode(.readFailed), message: "\(error)")
                }
            }
        }
        switch outcome {
        case .described(let info):
            print(json ? ProbeReport.json(info) : ProbeReport.text(info, target: target))
        case .refused(let code, let message):
            print(json ? JSONValue.object([("error", .object([("code", .string(code.rawValue)), ("message", .string(message))]))]).compactText
                       : "\(redactQuery(target)): refused: \(code): \(message)")
            throw ExitCode(1)
        case .needBytes:
            throw CommandFailure("internal: probe did not finish")
        }
    }
}

extension DataType: ExpressibleByArgument {}

/// Renders a probe result.
enum ProbeReport {
    static func kind(_ info: MediaInfo) -> String? {
        switch info.format?.dataType {
        case .image?: return "image"
        case .video?: return "video"
        case .audio?: return "audio"
        case .pdf?: return "pdf"
        case .text?: return "text"
        case .dicomSeries?: return "dicom"
        case .nifti?: return "nifti"
        default: return nil
        }
    }

    /// `{"kind","mimeType","fileSize","width",…,"dicom":{…},"nifti":{…},"requests","bytesRead"}`, absent fields omitted.
    static func json(_ i: MediaInfo) -> String {
        var m: [(key: String, value: JSONValue)] = []
        func num(_ k: String, _ v: Int?) { if let v { m.append((k, .number(String(v)))) } }
        func num(_ k: String, _ v: Int64?) { if let v { m.append((k, .number(String(v)))) } }
        func dbl(_ k: String, _ v: Double?) { if let v, v.isFinite { m.append((k, .number("\(v)"))) } }
        func str(_ k: String, _ v: String?) { if let v { m.append((k, .string(v))) } }
        str("kind", kind(i))
        str("mimeType", i.mimeType)
        num("fileSize", i.size)
        num("width", i.width); num("height", i.height); num("orientation", i.orientation)   // width/height are the displayed ones
        dbl("fps", i.fps); dbl("duration", i.duration); num("frameCount", i.frameCount)
        str("codec", i.codec); num("sampleRate", i.sampleRate); num("channels", i.channels); num("bitDepth", i.bitDepth)
        num("numPages", i.pageCount)
        str("textEncoding", i.textEncoding)
        if i.format == .dicom {
            var d: [(key: String, value: JSONValue)] = []
            if let v = i.dicomStudyUID { d.append(("studyInstanceUid", .string(v))) }
            if let v = i.dicomSeriesUID { d.append(("seriesInstanceUid", .string(v))) }
            if let v = i.dicomSOPInstanceUID { d.append(("sopInstanceUid", .string(v))) }
            if let v = i.dicomModality { d.append(("modality", .string(v))) }
            if let v = i.height { d.append(("rows", .number(String(v)))) }
            if let v = i.width { d.append(("columns", .number(String(v)))) }
            if let v = i.dicomInstanceNumber { d.append(("instanceNumber", .number(String(v)))) }
            if let v = i.dicomHasPatientID { d.append(("hasPatientId", .bool(v))) }
            m.append(("dicom", .object(d)))
        }
        if let dims = i.niftiDims {
            var n: [(key: String, value: JSONValue)] = [("dims", .array(dims.map { .number(String($0)) }))]
            if let p = i.niftiPixdim { n.append(("pixdim", .array(p.map { .number("\($0)") }))) }
            m.append(("nifti", .object(n)))
        }
        m.append(("requests", .number(String(i.probeRequests))))
        m.append(("bytesRead", .number(String(i.probeBytes))))
        return JSONValue.object(m).compactText
    }

    static func text(_ i: MediaInfo, target: String) -> String {
        var parts = ["\(redactQuery(target)): \(kind(i) ?? "?") (\(i.mimeType ?? "?"))"]
        if let w = i.width, let h = i.height { parts.append("\(w)×\(h)") }
        if let d = i.duration { parts.append(String(format: "%.3f s", d)) }
        if let f = i.fps { parts.append(String(format: "%.3f fps", f)) }
        if let n = i.frameCount { parts.append("\(n) frames") }
        if let c = i.codec { parts.append(c) }
        if let r = i.sampleRate { parts.append("\(r) Hz") }
        if let c = i.channels { parts.append("\(c) ch") }
        if let b = i.bitDepth { parts.append("\(b)-bit") }
        if let p = i.pageCount { parts.append("\(p) pages") }
        if let s = i.dicomSeriesUID { parts.append("series \(s)") }
        if let d = i.niftiDims { parts.append("dims \(d)") }
        parts.append("\(i.probeRequests) request\(i.probeRequests == 1 ? "" : "s"), \(i.probeBytes) bytes read")
        return parts.joined(separator: ", ")
    }
}

/// `registrar check MANIFEST [--json] [--concurrency N]`: validates the manifest and probes every
/// unit in this one process — no servers, nothing written. Exit 0 when every unit would register.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Dry run: validate a manifest and probe every unit, with no servers and no records written."
    )

    @Argument(help: "The manifest file.") var manifest: String
    @Option(help: "The manifest format; by default from the extension, else from the content.") var format: ManifestFormat?
    @Flag(help: "Print one JSON object: {\"units\", \"ok\", \"errors\": [...], \"byType\"}.") var json = false
    @Option(help: "Concurrent object fetches.") var concurrency = 64
    @OptionGroup var fetch: FetchOptions
    @OptionGroup var manifestLimits: ManifestLimitOptions

    func run() throws {
        let source = try FileByteSource(path: manifest)
        let format = self.format ?? ManifestFormat.detect(fileName: manifest, firstBytes: source.peek(512))
        var reader = makeManifestReader(format: format, source: source, limits: manifestLimits.limits)
        let verifier = try HTTPObjectVerifier(policy: try fetch.policy(concurrency: concurrency), prober: fetch.prober)
        var units = 0, ok = 0
        var byType: [DataType: Int] = [:]
        var errors: [JSONValue] = []
        var batch: [RegistrationUnit] = []
        var fatal: ManifestIssue?
        func fail(_ index: Int, _ item: String, _ urls: [String], _ code: UnitErrorCode, _ message: String) {
            errors.append(.object([("unit", .number(String(index))), ("item", .string(item)),
                                   ("objectUrls", .array(urls.map { .string(redactQuery($0)) })),
                                   ("code", .string(code.rawValue)), ("message", .string(message))]))
            if !json { print("unit \(index) (\(item)) \(code): \(message)") }
        }
        func flush() {
            guard !batch.isEmpty else { return }
            for (u, outcome) in zip(batch, verifier.verify(batch)) {
                switch outcome {
                case .verified: ok += 1
                case .failed(let code, let message): fail(u.index, u.location.itemName, u.urls, code, message)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
        do {
            while let entry = try reader.next() {
                _ = reader.takeIssues()
                units += 1
                switch entry {
                case .unit(let u):
                    byType[u.type, default: 0] += 1
                    batch.append(u)
                    if batch.count >= 500 { flush() }
                case .rejected(let r):
                    if let t = r.type { byType[t, default: 0] += 1 }
                    let first = r.errors.first
                    fail(r.index, r.location.itemName, r.urls, first.map { UnitErrorCode($0.code) } ?? .invalidItem,
                         r.errors.map { ($0.field.map { "\($0): " } ?? "") + $0.message }.joined(separator: "; "))
                }
            }
            flush()
        } catch let e as ManifestError {
            flush()
            fatal = e.issue
        }
        if json {
            var members: [(key: String, value: JSONValue)] = [
                ("units", .number(String(units))), ("ok", .number(String(ok))), ("errors", .array(errors)),
                ("byType", .object(byType.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .number(String($0.value))) })),
            ]
            if let fatal { members.append(("fatal", .object([("code", .string(fatal.code.rawValue)), ("message", .string(fatal.description))]))) }
            print(JSONValue.object(members).compactText)
        } else {
            if let fatal { print("manifest: \(fatal.description)") }
            print("\(units) units: \(ok) would register, \(errors.count) would fail\(fatal == nil ? "" : " (reading stopped at a fatal fault)")")
        }
        if fatal != nil || ok != units { throw ExitCode(1) }
    }
}
