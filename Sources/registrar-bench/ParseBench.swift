// registrar-bench parse: times the media probes themselves, in this process, on the media
// fixtures. Unlike `manifest` it imports RegistrarCore: a per-probe figure of a few microseconds
// cannot be read through process spawns and HTTP, and this is the code the workers run per
// object (`ContentProber.describe`, fed ranges the way `ProbeDriver` feeds them). The end-to-end
// figures, fetches included, come from scripts/bench-probe (`registrar check` against nginx).

import ArgumentParser
import RegistrarCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - registrar-bench parse

struct ParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Times ContentProber on every media fixture, in memory, one core.",
        discussion: """
            For each file under the fixtures' images/, av/ and documents/ folders (README, \
            scripts and non-media files skipped): loads the whole file, hands the prober its \
            first --head-bytes as a worker's first ranged GET would, and serves every further \
            range it asks for (needBytes) from memory, up to the prober's maxRounds, exactly as \
            ProbeDriver does. That probe is repeated for --seconds per file; the table gives \
            probes/s, microseconds per probe, and the bytes and requests one probe used. No I/O \
            is timed: the ranges a probe asks for are cut from the file once, before timing.
            """
    )

    static let folders = ["images", "av", "documents"]
    /// Files in the fixture folders that are not media: docs, generator scripts, and the raw
    /// deflate vectors of the inflater's tests (`inflate-vectors.bin`).
    static let skippedExtensions: Set<String> = ["md", "py", "pyc", "sh", "bin"]

    @Option(help: "The media fixtures folder (default: Tests/RegistrarCoreTests/Fixtures/media of the current directory or of the checkout this executable was built in).")
    var fixtures: String?

    @Option(help: "Seconds of repeated probing per file.")
    var seconds = 0.3

    @Option(help: "Bytes of the first read (workers fetch 65536).")
    var headBytes = 64 * 1024

    @Option(help: "Only files whose name contains this text.")
    var filter: String?

    mutating func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be positive") }
        guard headBytes >= 1 else { throw ValidationError("--head-bytes must be at least 1") }
    }

    func run() throws {
        StopSignals.install()
        let root = try resolveFixtures()
        let prober = ContentProber()
        progress("fixtures: \(root)\nprober: ContentProber() (maxRounds \(prober.maxRounds)), head \(grouped(headBytes)) bytes, \(fixed(seconds, 2)) s per file")

        var rows: [ParseRow] = []
        for folder in Self.folders {
            for name in try listFiles(root + "/" + folder) {
                if let filter, !name.contains(filter) { continue }
                if Self.isSkipped(name) {
                    progress("skipped \(folder)/\(name) (not a media file)")
                    continue
                }
                try StopSignals.check()
                let bytes = try readBinaryFile(root + "/" + folder + "/" + name, limit: 256 << 20)
                let row = ParseCase(file: bytes, headBytes: headBytes, prober: prober)
                    .measure(label: folder + "/" + name, seconds: seconds)
                progress("\(row.label): \(fixed(row.microsecondsPerProbe, 2)) µs/probe, \(row.outcome)")
                rows.append(row)
            }
        }
        guard !rows.isEmpty else { throw BenchError("no media fixtures found in \(root)") }

        let problems = rows.flatMap { row in row.problems.map { "MISMATCH \(row.label): \($0)" } }
        for line in problems { report(line) }
        for row in rows { for note in row.notes { report("note \(row.label): \(note)") } }
        report("")
        report(ParseRow.table(rows))
        report("")
        let probes = rows.reduce(0) { $0 + $1.probes }
        let busy = rows.filter { $0.coreShare < 0.9 }.count
        report("""
              \(rows.count) files, \(grouped(probes)) probes. One thread, in memory: µs/probe (median over \
            batches of >= 0.5 ms) is sniffing + parsing + ProbeData bookkeeping only, no fetching; \
            'bytes read' and 'requests' are what one probe of the file costs a worker (ranged GETs, \
            the first of \(grouped(headBytes)) bytes); 'core %' is the CPU time the bench thread got \
            while timed, per wall second.
            """)
        if busy > 0 {
            report("  \(busy) file(s) got under 90% of a core while timed: the machine was busy, figures are noisy")
        }
        if !problems.isEmpty {
            report("\(problems.count) mismatch(es); see MISMATCH lines above")
            throw ExitCode(1)
        }
    }

    static func isSkipped(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.uppercased().hasPrefix("README") { return true }
        guard let dot = name.lastIndex(of: ".") else { return false }
        return skippedExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// --fixtures, else the fixtures of the current directory, else of a folder above this
    /// executable (it lives in `.build/<triple>/release/` of the checkout).
    private func resolveFixtures() throws -> String {
        let relative = "Tests/RegistrarCoreTests/Fixtures/media"
        func isFixtures(_ path: String) -> Bool {
            var s = stat()
            return stat(path + "/images", &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
        }
        if let fixtures {
            guard isFixtures(fixtures) else { throw BenchError("--fixtures \(fixtures) has no images/ folder") }
            return fixtures
        }
        var candidates = ["."]
        var dir = dirname(of: currentExecutablePath())
        while dir != "/" && dir != "." {
            candidates.append(dir)
            dir = dirname(of: dir)
        }
        for base in candidates where isFixtures(base + "/" + relative) {
            return base == "." ? relative : base + "/" + relative
        }
        throw BenchError("no \(relative) in the current directory or above \(currentExecutablePath()); pass --fixtures DIR")
    }
}

// MARK: - One file

/// One fixture, ready to probe: the whole file in memory, its head, and the further ranges a
/// probe asks for, cut once so that timing sees no copying.
struct ParseCase {
    let file: [UInt8]
    let head: [UInt8]
    let prober: ContentProber
    private var extraRanges: [(offset: Int64, length: Int, bytes: [UInt8])] = []

    init(file: [UInt8], headBytes: Int, prober: ContentProber) {
        self.file = file
        head = Array(file.prefix(headBytes))
        self.prober = prober
    }

    /// One probe's answer and cost.
    struct Outcome {
        var parse: FormatParse
        var requests: Int
        var bytesRead: Int
    }

    /// The bytes a ranged GET of (`offset`, `length`) would return: clamped at the end of the
    /// file, empty past it (where a server would answer 416).
    private func read(_ offset: Int64, _ length: Int) -> [UInt8] {
        for r in extraRanges where r.offset == offset && r.length == length { return r.bytes }
        return Self.cut(file, offset, length)
    }

    static func cut(_ file: [UInt8], _ offset: Int64, _ length: Int) -> [UInt8] {
        guard offset >= 0, offset < Int64(file.count), length > 0 else { return [] }
        let start = Int(offset)
        return Array(file[start..<min(file.count, start + min(length, file.count))])
    }

    /// ProbeDriver's loop with reads served from memory: a first read of the head, then the
    /// ranges the prober names, `maxRounds` reads in all.
    @inline(never)
    func probeOnce() -> Outcome {
        var data = ProbeData(head: head, totalSize: Int64(file.count))
        var requests = 1
        while true {
            let parse = prober.describe(declared: nil, data: data, contentType: nil)
            guard case .needBytes(let offset, let length) = parse else {
                return Outcome(parse: parse, requests: requests, bytesRead: data.bytesRead)
            }
            guard requests < prober.maxRounds else {
                return Outcome(
                    parse: .refused(code: .corrupt, message: "the header could not be read within \(prober.maxRounds) ranged reads"),
                    requests: requests, bytesRead: data.bytesRead)
            }
            requests += 1
            data.add(offset: offset, bytes: read(offset, length))
        }
    }

    /// Probes once to learn the ranges and the answer, then repeatedly for `seconds`.
    func measure(label: String, seconds: Double) -> ParseRow {
        var warm = self
        // Record the ranges the probe asks for (deterministic: one pass finds them all).
        var data = ProbeData(head: head, totalSize: Int64(file.count))
        for _ in 1..<max(1, prober.maxRounds) {
            guard case .needBytes(let offset, let length) = prober.describe(declared: nil, data: data, contentType: nil) else { break }
            let bytes = Self.cut(file, offset, length)
            warm.extraRanges.append((offset, length, bytes))
            data.add(offset: offset, bytes: bytes)
        }
        let reference = warm.probeOnce()
        var row = ParseRow(label: label, size: file.count, reference: reference,
                           sniffed: ContentProber.sniff(head[...]))

        // Batches that double until one takes ~1 ms, so reading the clock costs nothing
        // against the probes; then whole batches until `seconds` have passed. The figure is the
        // median batch: on a shared machine a batch that lost the core to another process is an
        // outlier, not a slower probe.
        var batch = 1
        var probes = 0
        var requestSum = 0
        var perProbe: [Double] = []
        var last = reference
        let cpuStart = threadCPUSeconds()
        let start = MonotonicClock.now()
        var now = start
        while now - start < seconds {
            let batchStart = now
            for _ in 0..<batch {
                last = warm.probeOnce()
                requestSum &+= last.requests
            }
            probes += batch
            now = MonotonicClock.now()
            let elapsed = now - batchStart
            if elapsed >= 0.0005 { perProbe.append(elapsed / Double(batch)) }
            if elapsed < 0.001 && batch < 1 << 20 { batch *= 2 }
        }
        row.wallSeconds = now - start
        row.cpuSeconds = threadCPUSeconds() - cpuStart
        row.probes = probes
        row.medianSeconds = perProbe.isEmpty ? row.wallSeconds / Double(probes) : median(perProbe)

        if last.parse != reference.parse || last.bytesRead != reference.bytesRead {
            row.problems.append("the last timed probe answered differently from the first (\(ParseRow.describe(last.parse)) vs \(ParseRow.describe(reference.parse)))")
        }
        if requestSum != probes * reference.requests {
            row.problems.append("requests varied between probes (\(requestSum) for \(probes) probes of \(reference.requests))")
        }
        if probeDriverAgrees(reference) == false {
            row.problems.append("ProbeDriver.run on the same bytes answered differently")
        }
        return row
    }

    /// The same file through `ProbeDriver.run` (what `registrar probe FILE` does): the bench's
    /// loop must reproduce it, or its figures are of something else.
    private func probeDriverAgrees(_ outcome: Outcome) -> Bool {
        let driven = ProbeDriver.run(type: nil, prober: prober, headBytes: head.count) { offset, length in
            .bytes(Self.cut(file, offset, length), offset: offset, totalSize: Int64(file.count), contentType: nil)
        }
        switch (driven, outcome.parse) {
        case (.described(let a), .described(var b)):
            b.probeRequests = outcome.requests
            b.probeBytes = outcome.bytesRead
            return a == b
        default:
            return driven == outcome.parse
        }
    }
}

/// This thread's CPU time: wall time well above it means the core was shared.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// MARK: - Results

struct ParseRow {
    var label: String
    var size: Int
    var reference: ParseCase.Outcome
    var sniffed: MediaFormat?
    var probes = 0
    var wallSeconds = 0.0
    var cpuSeconds = 0.0
    var problems: [String] = []

    init(label: String, size: Int, reference: ParseCase.Outcome, sniffed: MediaFormat?) {
        self.label = label
        self.size = size
        self.reference = reference
        self.sniffed = sniffed
    }

    /// Seconds per probe, the median over the timed batches.
    var medianSeconds = 0.0

    var probesPerSecond: Double { 1 / medianSeconds }
    var microsecondsPerProbe: Double { medianSeconds * 1e6 }
    /// The share of a core this thread had while timed (below ~100%: other processes ran).
    var coreShare: Double { cpuSeconds / wallSeconds }

    /// The format as described (MP4 audio-only becomes m4a), else as sniffed.
    var format: String {
        if case .described(let info) = reference.parse, let f = info.format { return f.rawValue }
        return sniffed?.rawValue ?? "-"
    }

    var outcome: String { Self.describe(reference.parse) }

    var notes: [String] {
        if case .refused(_, let message) = reference.parse { return ["refused: \(message)"] }
        return []
    }

    static func describe(_ parse: FormatParse) -> String {
        switch parse {
        case .described(let i):
            var parts: [String] = []
            if let w = i.width, let h = i.height { parts.append("\(w)x\(h)") }
            if let p = i.pageCount { parts.append("\(p)p") }
            if let d = i.niftiDims { parts.append(d.map(String.init).joined(separator: "x")) }
            if let r = i.sampleRate, i.width == nil { parts.append("\(r)Hz") }
            if let e = i.textEncoding { parts.append(e) }
            return parts.isEmpty ? "ok" : "ok " + parts.joined(separator: " ")
        case .refused(let code, _): return "refused " + code.rawValue
        case .needBytes(let o, let l): return "needBytes \(o)+\(l)"
        }
    }

    static let columns = ["file", "format", "bytes", "outcome", "probes/s", "µs/probe", "bytes read", "requests", "core %"]

    var cells: [String] {
        [label, format, grouped(size), outcome, groupedRate(probesPerSecond), fixed(microsecondsPerProbe, 2),
         grouped(reference.bytesRead), String(reference.requests), fixed(coreShare * 100, 0)]
    }

    /// Text columns left-aligned, figures right-aligned.
    static func table(_ rows: [ParseRow]) -> String {
        let left: Set<Int> = [0, 1, 3]
        let lines = [columns] + rows.map(\.cells)
        let widths = columns.indices.map { c in lines.map { $0[c].count }.max()! }
        return lines.map { cells in
            cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return left.contains(c) ? cells[c] + pad : pad + cells[c]
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

// MARK: - Files

/// The names in a folder, sorted (regular files only).
func listFiles(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw BenchError.posix("cannot list \(path)") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        var s = stat()
        if stat(path + "/" + name, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG { names.append(name) }
    }
    return names.sorted()
}

