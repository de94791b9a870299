import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RegistrarCore
import RegistrarRuntime

/// `registrar upload PATH... --folder F`: files from this disk into a folder, through the
/// signed-upload flow (docs/uploads.md): hash every file, ask the API which hashes it already
/// stores, PUT only the missing ones (N at a time, a progress line with bytes, files, rate and
/// ETA), then register them all in one job. Re-running after an interruption uploads only
/// what is missing, and registers nothing twice (`skipDuplicates`).
struct UploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload files (or directories of files) from this disk into a folder and register them (HTTP API; resumable).")

    @Argument(help: "Files or directories (read recursively; hidden files skipped).") var paths: [String]
    @Option(help: "Folder name (created if missing) or id.") var folder: String
    @Option(name: .customLong("as"), help: "image-group or image-sequence: all files (images) as one unit, in name order. Default: one item per file (a .dcm file: a DICOM series of one).")
    var layout: String?
    @Option(help: "Title of the image group or sequence (required with --as).") var title: String?
    @Flag(help: "DICOM files (read by content, any extension) become DICOM series: one per directory and SeriesInstanceUID. Other files are refused.")
    var dicomSeries = false
    @Option(help: "Files uploaded at once (1-64).") var concurrency = 4
    @Flag(help: "Finish the job DONE even if some files fail verification.") var ignoreErrors = false
    @Flag(help: "Follow the registration job until it ends (exit 1 unless DONE).") var wait = false
    @Flag(help: "Print the registration job's JSON last.") var json = false
    @Flag(help: "No progress line.") var quiet = false

    struct LocalFile {
        var path: String
        var name: String
        var size: Int64
        var sha256 = ""
        var key = ""
        /// With --dicom-series: the series (unit) title, and the type to declare.
        var series: String?
        var contentType: String?
    }

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64") }
        if case .failure(let e) = UploadManifest.Layout.parse(layout, title: title) { throw ValidationError(e.message) }
        if dicomSeries && layout != nil { throw ValidationError("--dicom-series and --as are exclusive: DICOM series are grouped by directory and SeriesInstanceUID") }
    }

    func run() throws {
        let api = try catalogAPI()
        var (files, refused) = try Self.collect(paths, dicomSeries: dicomSeries)
        guard !files.isEmpty || !refused.isEmpty else { throw ValidationError("no files under \(paths.joined(separator: " "))") }
        let folderID = try viaAPI { UUIDText.isValid(folder) ? folder : try api.folderID(name: folder, create: true) }!
        let progress = UploadProgress(quiet: quiet)

        // 1. Hash (the content address), 2. ask which are stored.
        for i in files.indices {
            files[i].sha256 = try Self.sha256(files[i].path)
            progress.note("hashed \(i + 1)/\(files.count) files")
        }
        var missing: [(file: Int, url: String, headers: [String: String])] = []
        for start in stride(from: 0, to: files.count, by: 1000) {
            let batch = Array(files.indices[start..<min(files.count, start + 1000)])
            let body = JSONValue.object([("files", .array(batch.map { i in
                var fields: [(String, JSONValue)] = [("name", .string(files[i].name)), ("sha256", .string(files[i].sha256)), ("size", .number(String(files[i].size)))]
                if let type = files[i].contentType { fields.append(("contentType", .string(type))) }
                return .object(fields)
            }))])
            let answer = try viaAPI { try api.call("POST", "/v1/folders/\(folderID)/upload-signed-urls", json: body.compactText) }
            guard case .array(let items)? = answer["items"], items.count == batch.count else { throw CommandFailure("unexpected answer to upload-signed-urls") }
            for (i, item) in zip(batch, items) {
                files[i].key = item["objectKey"]?.stringValue ?? ""
                if item["present"] != .bool(true) {
                    var headers: [String: String] = [:]
                    if case .object(let h)? = item["uploadHeaders"] { for (k, v) in h { headers[k] = v.stringValue } }
                    missing.append((i, item["signedUrl"]?.stringValue ?? "", headers))
                }
            }
        }

        // 3. PUT what is missing, `concurrency` at a time.
        let already = files.count - missing.count
        progress.start(files: missing.count, bytes: missing.reduce(0) { $0 + files[$1.file].size }, already: already)
        let queue = PutQueue(files: files, missing: missing, progress: progress)
        // Test hook (REGISTRAR_TEST_HOOKS=1 only): pause before each PUT, so a test can interrupt mid-upload.
        let env = ProcessInfo.processInfo.environment
        let delay = env["REGISTRAR_TEST_HOOKS"] == "1" ? (env["REGISTRAR_TEST_UPLOAD_DELAY_MS"].flatMap(UInt32.init) ?? 0) : 0
        let group = DispatchGroup()
        for _ in 0..<min(concurrency, max(1, missing.count)) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while let (file, url, headers) = queue.take() {
                    if delay > 0 { usleep(delay * 1000) }
                    queue.finished(file, error: Self.put(file.path, to: url, headers: headers))
                }
            }
        }
        while group.wait(timeout: .now() + 0.5) == .timedOut { queue.draw() }
        let failures = queue.failures
        progress.finish()
        for (name, message) in refused + failures { printError("\(name): \(message)") }
        guard failures.isEmpty else {
            printError("\(failures.count) file(s) not uploaded; nothing registered yet — run the same command again to upload only what is missing")
            throw ExitCode(1)
        }
        guard !files.isEmpty else { throw ExitCode(1) }

        // 4. Register every file (those stored before included: skipDuplicates keeps it once).
        var body: [(key: String, value: JSONValue)] = [
            ("files", .array(files.map { file in
                .object([("objectKey", .string(file.key)), ("title", .string(file.name))] + (file.series.map { [("series", JSONValue.string($0))] } ?? []))
            })),
            ("skipDuplicates", .bool(true)), ("ignoreErrors", .bool(ignoreErrors)),
        ]
        if let layout { body.append(("as", .string(layout))) }
        if dicomSeries { body.append(("as", .string("dicom-series"))) }
        if let title { body.append(("title", .string(title))) }
        let job = try viaAPI { try api.call("POST", "/v1/folders/\(folderID)/files/register", json: JSONValue.object(body).compactText) }
        let jobID = job["id"]?.stringValue ?? "?"
        if !quiet { print("registering \(files.count) file(s) in folder \(folderID): upload \(jobID)") }
        var last = job
        if wait { last = try viaAPI { try api.follow(jobID, quiet: quiet || json) } }
        if json { print(last.compactText) } else if !wait { print(jobID) }
        if !refused.isEmpty || (wait && last["status"]?.stringValue != "DONE") { throw ExitCode(1) }
    }

    /// Every regular file under the paths (directories recursively, hidden entries skipped),
    /// named by their path below the argument (a directory argument's own name first), sorted
    /// by name; files refused before any upload (empty, a type Registrar does not register)
    /// come back with the reason. With `dicomSeries`, every file is read as DICOM (whatever its
    /// extension): those that are not are refused, the others get their series title.
    static func collect(_ paths: [String], dicomSeries: Bool = false) throws -> ([LocalFile], [(String, String)]) {
        var out: [LocalFile] = []
        var refused: [(String, String)] = []
        let fm = FileManager.default
        func add(_ path: String, name: String) throws {
            let attributes = try fm.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { return }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            if size == 0 { refused.append((name, "the file is empty (0 bytes): not uploaded")); return }
            if dicomSeries { out.append(LocalFile(path: path, name: name, size: size, contentType: "application/dicom")); return }
            if UploadManifest.classify(contentType: nil, name: name) == nil {
                refused.append((name, "not a type Registrar registers (by its extension): not uploaded")); return
            }
            out.append(LocalFile(path: path, name: name, size: size))
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("no such file or directory: \(path)") }
            if isDirectory.boolValue {
                let root = URL(fileURLWithPath: path).standardized
                guard let walker = fm.enumerator(atPath: root.path) else { continue }
                while let relative = walker.nextObject() as? String {
                    if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                    try add(root.path + "/" + relative, name: root.lastPathComponent + "/" + relative)
                }
            } else {
                try add(path, name: URL(fileURLWithPath: path).lastPathComponent)
            }
        }
        out.sort { $0.name < $1.name }
        if dicomSeries { out = try seriesOf(out, refused: &refused) }
        return (out, refused)
    }

    /// The DICOM files among `files` (read by the registration prober), each with its series
    /// title (DICOMSeriesGrouping); the others go to `refused` with the prober's reason.
    static func seriesOf(_ files: [LocalFile], refused: inout [(String, String)]) throws -> [LocalFile] {
        var dicom: [LocalFile] = []
        var headers: [DICOMSeriesGrouping.File] = []
        for file in files {
            guard let handle = FileHandle(forReadingAtPath: file.path) else { refused.append((file.name, "cannot be read: not uploaded")); continue }
            defer { try? handle.close() }
            let header = DICOMSeriesGrouping.header(size: file.size) { offset, length in
                guard (try? handle.seek(toOffset: UInt64(offset))) != nil else { return nil }
                return (try? handle.read(upToCount: length)).map { [UInt8]($0) } ?? []
            }
            switch header {
            case .success(let h):
                dicom.append(file)
                headers.append(DICOMSeriesGrouping.File(name: file.name, seriesUID: h.seriesUID, instanceNumber: h.instanceNumber))
            case .failure(let why):
                refused.append((file.name, "\(why.message) (--dicom-series takes DICOM files only): not uploaded"))
            }
        }
        for (i, title) in DICOMSeriesGrouping.titles(headers).enumerated() { dicom[i].series = title }
        return dicom
    }

    static func sha256(_ path: String) throws -> String {
        let source = try FileByteSource(path: path)
        var hasher = ContentHasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalizeHex()
    }

    /// One PUT of a file to a signed link (up to 3 tries for network faults and 5xx); nil on
    /// success, else why not.
    static func put(_ path: String, to url: String, headers: [String: String]) -> String? {
        guard let target = URL(string: url) else { return "the API gave an invalid upload link" }
        var lastError = ""
        for attempt in 0..<3 {
            if attempt > 0 { Thread.sleep(forTimeInterval: Double(attempt)) }
            var request = URLRequest(url: target, timeoutInterval: 600)
            request.httpMethod = "PUT"
            for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var status = 0
            nonisolated(unsafe) var body = Data()
            nonisolated(unsafe) var failure: Error?
            URLSession.shared.uploadTask(with: request, fromFile: URL(fileURLWithPath: path)) { data, response, error in
                failure = error
                status = (response as? HTTPURLResponse)?.statusCode ?? 0
                body = data ?? Data()
                done.signal()
            }.resume()
            done.wait()
            if let failure { lastError = "upload failed: \(failure.localizedDescription)"; continue }
            if (200..<300).contains(status) { return nil }
            let message = JSONValue.parse(Array(body))?["error"]?["message"]?.stringValue ?? "HTTP \(status)"
            lastError = message
            if status < 500 { return message }
        }
        return lastError
    }
}

/// The PUTs to do, shared by the upload threads (every access under the lock).
final class PutQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let files: [UploadCommand.LocalFile]
    private let missing: [(file: Int, url: String, headers: [String: String])]
    private let progress: UploadProgress
    private var next = 0
    private var failed: [(String, String)] = []

    init(files: [UploadCommand.LocalFile], missing: [(file: Int, url: String, headers: [String: String])], progress: UploadProgress) {
        self.files = files; self.missing = missing; self.progress = progress
    }

    func take() -> (UploadCommand.LocalFile, String, [String: String])? {
        lock.lock(); defer { lock.unlock() }
        guard next < missing.count else { return nil }
        let m = missing[next]
        next += 1
        return (files[m.file], m.url, m.headers)
    }

    func finished(_ file: UploadCommand.LocalFile, error: String?) {
        lock.lock(); defer { lock.unlock() }
        if let error { failed.append((file.name, error)) } else { progress.done(bytes: file.size) }
    }

    func draw() { lock.lock(); defer { lock.unlock() }; progress.draw() }
    var failures: [(String, String)] { lock.lock(); defer { lock.unlock() }; return failed }
}

/// The upload's progress line (stderr): files and bytes done, rate over the last ~10 s, ETA.
final class UploadProgress {
    let quiet: Bool
    let tty = isatty(2) == 1
    var totalFiles = 0, doneFiles = 0, already = 0
    var totalBytes: Int64 = 0, doneBytes: Int64 = 0
    var samples: [(time: Double, bytes: Int64)] = []
    var lastPlain = 0.0

    init(quiet: Bool) { self.quiet = quiet }

    func note(_ text: String) {
        guard !quiet, tty else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func start(files: Int, bytes: Int64, already: Int) {
        totalFiles = files; totalBytes = bytes; self.already = already
        samples = [(ProgressDisplay.now(), 0)]
    }

    func done(bytes: Int64) { doneFiles += 1; doneBytes += bytes }

    func line() -> String {
        let t = ProgressDisplay.now()
        samples.append((t, doneBytes))
        samples.removeAll { t - $0.time > 10 && samples.count > 1 }
        var rate = 0.0
        if let first = samples.first, t - first.time > 0.2 { rate = Double(doneBytes - first.bytes) / (t - first.time) }
        var text = String(format: "uploaded %d/%d files, %.1f/%.1f MB, %.1f MB/s", doneFiles, totalFiles,
                          Double(doneBytes) / 1e6, Double(totalBytes) / 1e6, rate / 1e6)
        if rate > 0 && doneBytes < totalBytes { text += String(format: ", ETA %.0f s", Double(totalBytes - doneBytes) / rate) }
        if already > 0 { text += " (\(already) already stored)" }
        return text
    }

    func draw() {
        guard !quiet else { return }
        let t = ProgressDisplay.now()
        if tty { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line()).utf8)) } else if t - lastPlain >= 2 {
            FileHandle.standardError.write(Data((line() + "\n").utf8)); lastPlain = t
        }
    }

    func finish() {
        guard !quiet else { return }
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + line() + "\n").utf8))
    }
}
