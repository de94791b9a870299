// registrar-bench: measures the `registrar` executable as a black box. It deliberately does not
// import RegistrarCore: what users get is the binary, so that is what gets timed, and the bench
// keeps working whatever the core's internals become.

import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials  // JSONDecoder only; the full Foundation would add ~7 MB of RSS
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct RegistrarBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrar-bench",
        abstract: "Benchmarks the registrar executable from the outside.",
        subcommands: [ManifestBench.self, ParseBench.self]
    )

    /// Dispatches the internal `_probe` launcher before ArgumentParser runs: parsing grows the
    /// process by ~4 MB, and the launcher's size is a floor under every RSS reading (see
    /// `ProcessProbe`). Everything else goes to ArgumentParser as usual.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == ProbeLauncher.name {
            ProbeLauncher.main(Array(arguments.dropFirst()))
        }
        main(nil)
    }
}

// MARK: - registrar-bench manifest

struct ManifestBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Times `registrar validate --json` on generated manifests of growing size.",
        discussion: """
            For each size and format: writes a mixed-type manifest of exactly that many URLs, \
            reads it once with read(2) as the baseline, runs `registrar validate --json` on it \
            several times, checks the reported URL and unit counts, and prints a table with \
            the median time, throughput and peak RSS.
            """
    )

    static let targets = ">= 1,000,000 URLs/s on one core, no slower than CPython's json.load of the same JSON (time/json.load <= 1), peak RSS <= 64 MB and flat from 10k to 1M"

    @Option(help: "Manifest sizes in URLs, comma-separated (10k and 1m also work).")
    var sizes = CommaSeparated<URLCount>([10_000, 100_000, 1_000_000].map(URLCount.init))

    @Option(help: "Manifest formats, comma-separated (json, csv).")
    var formats = CommaSeparated<ManifestFormat>(ManifestFormat.allCases)

    @Option(help: "The registrar executable (default: the one next to this executable).")
    var registrar: String?

    @Option(
        name: .customLong("validate-arg"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "An extra argument for `registrar validate` (repeatable), e.g. --validate-arg --max-units=1000000.",
            valueName: "argument"
        )
    )
    var validateArguments: [String] = []

    @Option(help: "Directory for manifests and outputs (default: a fresh temporary directory).")
    var workdir: String?

    @Flag(help: "Keep the generated manifests and outputs.")
    var keep = false

    @Option(help: "Runs of `registrar validate` per case; the median time is reported.")
    var runs = 3

    @Option(help: "Seed for the generator; the same seed gives identical manifests.")
    var seed: UInt64 = 0x5EED

    mutating func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard sizes.values.allSatisfy({ $0.value >= 1 }) else { throw ValidationError("sizes must be at least 1") }
    }

    func run() throws {
        StopSignals.install()
        let registrar = try resolveRegistrar()
        let workspace = try Workspace(directory: workdir, keep: keep)
        defer { workspace.cleanUp() }
        progress("registrar: \(registrar)\nworkdir: \(workspace.directory)")
        let rssFloor = try ProcessProbe.rssFloor(launcher: currentExecutablePath(), files: workspace.probeFiles("floor"))

        var rows: [Row] = []
        var mismatches = 0
        for size in sizes.values {
            for format in formats.values {
                var row = try benchmark(urls: size.value, format: format, registrar: registrar, in: workspace)
                row.rssFloor = rssFloor
                for line in row.mismatches { report("MISMATCH \(row.label): \(line)") }
                for line in row.notes { report("note \(row.label): \(line)") }
                mismatches += row.mismatches.count
                rows.append(row)
            }
        }

        report("")
        report(Row.table(rows))
        report("")
        report("targets: \(Self.targets)")
        for line in Row.verdicts(rows) { report("  \(line)") }
        report("""
              peak RSS is ru_maxrss from wait4(2), the max of \(runs) runs. Linux counts the spawning \
            process's size in it: readings can't go below \(mib(rssFloor)) MiB here ('<=' marks them).
            """)
        if mismatches > 0 {
            report("\(mismatches) mismatch(es); see MISMATCH lines above")
            throw ExitCode(1)
        }
    }

    /// One size and format: generate, take the raw baseline, run the validator `runs` times.
    private func benchmark(urls: Int, format: ManifestFormat, registrar: String, in workspace: Workspace) throws -> Row {
        let label = "\(format) \(grouped(urls))"
        let path = workspace.file("manifest-\(urls).\(format.fileExtension)")
        let start = MonotonicClock.now()
        let manifest = try ManifestGenerator(urls: urls, format: format, seed: seed).write(to: path)
        let generationSeconds = MonotonicClock.now() - start
        try StopSignals.check()
        let rawSeconds = try RawReadBaseline.medianSeconds(path: path, runs: runs)
        progress("\(label): wrote \(path) (\(fixed(Double(manifest.bytes) / 1e6, 1)) MB, "
            + "\(grouped(manifest.units)) units) in \(fixed(generationSeconds, 2)) s; "
            + "raw read \(fixed(Double(manifest.bytes) / 1e6 / rawSeconds, 0)) MB/s")

        var row = Row(label: label, manifest: manifest, rawSeconds: rawSeconds)
        if format == .json, let python = pythonForBaseline {
            // The issue's bar: validating must take no longer than CPython's C-accelerated
            // json.load merely parsing the same file (no validation), measured the same way.
            let pyFiles = workspace.probeFiles("jsonload-\(urls)")
            for _ in 1...runs {
                try StopSignals.check()
                let r = try ProcessProbe.measure(
                    [python, "-c", "import json,sys\nwith open(sys.argv[1],'rb') as f: json.load(f)", path],
                    launcher: currentExecutablePath(), files: pyFiles)
                guard r.status == .exited(0) else { row.notes.append("python json.load ended with \(r.status)"); break }
                row.jsonLoadRuns.append(r)
            }
        }
        let files = workspace.probeFiles("validate-\(urls)-\(format)")
        for run in 1...runs {
            try StopSignals.check()
            let result = try ProcessProbe.measure(
                // Encord's default of 500,000 units would refuse the mixed 1M-URL manifest
                // (~830k units): the benchmark measures reading, so it lifts the unit limit to
                // the URL count unless --validate-arg says otherwise.
                [registrar, "validate", "--json", "--max-units", String(max(urls, 500_000))] + validateArguments + [path],
                launcher: currentExecutablePath(), files: files)
            progress("\(label): run \(run)/\(runs) \(fixed(result.wallSeconds, 3)) s, "
                + "\(mib(result.peakRSSBytes)) MiB, \(result.status)")
            row.runs.append(result)
            row.check(result, stdoutPath: files.stdout, stderrPath: files.stderr)
        }
        // A single-threaded validator reading from the page cache is CPU-bound; wall time well
        // above CPU time means it waited, usually for a core some other process had.
        if row.medianSeconds > 0.05, row.medianSeconds > 1.5 * row.medianCPUSeconds {
            row.notes.append("wall time is \(fixed(row.medianSeconds / row.medianCPUSeconds, 1))x CPU time: "
                + "the machine was probably busy, so these figures are noisy")
        }
        if !keep { workspace.remove(path) }  // free the disk before the next, larger case
        return row
    }

    /// CPython for the `json.load` baseline, or nil (the column then shows "-").
    private var pythonForBaseline: String? {
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where access(candidate, X_OK) == 0 { return candidate }
        return nil
    }

    private func resolveRegistrar() throws -> String {
        guard let registrar else {
            let beside = dirname(of: currentExecutablePath()) + "/registrar"
            guard access(beside, X_OK) == 0 else {
                throw BenchError("""
                    no registrar executable at \(beside); build it (swift build -c release \
                    --product registrar) or pass --registrar PATH
                    """)
            }
            return beside
        }
        // A bare name is looked up in PATH when spawned; a path must exist now.
        if registrar.contains("/"), access(registrar, X_OK) != 0 {
            throw BenchError("--registrar \(registrar) is not an executable file")
        }
        return registrar
    }
}

// MARK: - Results

/// One line of the results table, with what was found wrong along the way.
struct Row {
    var label: String
    var manifest: GeneratedManifest
    var rawSeconds: Double
    var runs: [ProbeResult] = []
    /// CPython `json.load` of the same file (JSON manifests only): the parse-only baseline.
    var jsonLoadRuns: [ProbeResult] = []
    /// Problems that make the bench fail (wrong counts, a crash, unreadable output).
    var mismatches: [String] = []
    /// Things worth knowing that do not (the validator calling the manifest invalid, …).
    var notes: [String] = []

    var medianSeconds: Double { median(runs.map(\.wallSeconds)) }
    var medianCPUSeconds: Double { median(runs.map(\.cpuSeconds)) }
    var peakRSS: Int { runs.map(\.peakRSSBytes).max() ?? 0 }
    var jsonLoadSeconds: Double? { jsonLoadRuns.isEmpty ? nil : median(jsonLoadRuns.map(\.wallSeconds)) }
    var jsonLoadRSS: Int? { jsonLoadRuns.isEmpty ? nil : jsonLoadRuns.map(\.peakRSSBytes).max() }
    /// CPU (user + system) of json.load: on a shared machine the CPU ratio moves less than the
    /// wall-time ratio, because waiting for a core is not counted in either.
    var jsonLoadCPUSeconds: Double? { jsonLoadRuns.isEmpty ? nil : median(jsonLoadRuns.map(\.cpuSeconds)) }
    /// The lowest reading the probe can give (`ProcessProbe.rssFloor`).
    var rssFloor = 0
    var megabytes: Double { Double(manifest.bytes) / 1e6 }
    var urlsPerSecond: Double { Double(manifest.urls) / medianSeconds }
    var megabytesPerSecond: Double { megabytes / medianSeconds }
    var rawMegabytesPerSecond: Double { megabytes / rawSeconds }

    /// Checks one run's exit status and `--json` summary against what was generated.
    mutating func check(_ result: ProbeResult, stdoutPath: String, stderrPath: String) {
        func mismatch(_ text: String) { if !mismatches.contains(text) { mismatches.append(text) } }
        func note(_ text: String) { if !notes.contains(text) { notes.append(text) } }
        // The start of stderr is where a message (or Swift's "Fatal error: …") usually is.
        let stderrText = ((try? readSmallFile(stderrPath, limit: 1 << 20)) ?? "").trimmingWhitespace()
        let stderrStart = stderrText.prefix(240).split(whereSeparator: \.isNewline).joined(separator: " | ")
        let stderrTail = stderrText.isEmpty ? "" : "; stderr: \(stderrStart)"

        let exitCode: Int32
        switch result.status {
        case .exited(let code) where code == 0 || code == 1:
            exitCode = code
        default:
            return mismatch("registrar validate ended with \(result.status)\(stderrTail)")
        }
        let summary: ValidateSummary
        do {
            // The summary is one small object; a huge stdout is itself a failure.
            let text = try readSmallFile(stdoutPath, limit: 16 << 20)
            summary = try JSONDecoder().decode(ValidateSummary.self, from: Data(text.utf8))
        } catch {
            return mismatch("stdout is not the --json summary (\(error))\(stderrTail)")
        }

        if summary.urls != manifest.urls || summary.units != manifest.units {
            mismatch("""
                reported urls=\(summary.urls) units=\(summary.units), expected urls=\(manifest.urls) \
                units=\(manifest.units) (units include \(manifest.duplicateURLs) duplicate items)
                """)
        }
        if (exitCode == 0) != summary.valid {
            mismatch("exit status \(exitCode) contradicts \"valid\": \(summary.valid)")
        }
        if !summary.valid {
            let errors = summary.errors ?? []
            let first = errors.lazy.compactMap(\.text).first.map { "; first: \(String($0.prefix(200)))" } ?? ""
            note("registrar called the manifest invalid (\(errors.count) errors\(first))")
        }
        if let byType = summary.byType?.filter({ $0.value != 0 }), byType != manifest.unitsByType {
            let expected = manifest.unitsByType.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            note("byType differs from the units written (\(expected.joined(separator: ", ")))")
        }
        if let duplicates = summary.duplicateUrls, duplicates != manifest.duplicateURLs {
            note("duplicateUrls=\(duplicates); the generator repeated \(manifest.duplicateURLs) URLs")
        }
    }

    static let columns = [
        "format", "URLs", "units", "file MB", "median s", "URLs/s", "MB/s", "raw MB/s", "ratio",
        "CPU s", "peak RSS MiB", "json.load s", "json.load MiB", "time/json.load", "json.load CPU s", "CPU/json.load CPU",
    ]

    var cells: [String] {
        let rss = mib(peakRSS)
        // A reading within a few pages of the floor says "this much or less", not "this much".
        let atFloor = peakRSS <= rssFloor + 256 * 1024
        return [
            manifest.format.rawValue, grouped(manifest.urls), grouped(manifest.units),
            fixed(megabytes, 1), fixed(medianSeconds, 3), groupedRate(urlsPerSecond),
            fixed(megabytesPerSecond, 1), fixed(rawMegabytesPerSecond, 1),
            fixed(megabytesPerSecond / rawMegabytesPerSecond, 3), fixed(medianCPUSeconds, 3),
            atFloor ? "<=" + rss : rss,
            jsonLoadSeconds.map { fixed($0, 3) } ?? "-", jsonLoadRSS.map(mib) ?? "-",
            jsonLoadSeconds.map { fixed(medianSeconds / $0, 2) } ?? "-",
            jsonLoadCPUSeconds.map { fixed($0, 3) } ?? "-",
            jsonLoadCPUSeconds.map { fixed(medianCPUSeconds / $0, 2) } ?? "-",
        ]
    }

    /// The rows as a right-aligned text table (the first column left-aligned).
    static func table(_ rows: [Row]) -> String {
        let lines = [columns] + rows.map(\.cells)
        let widths = columns.indices.map { c in lines.map { $0[c].count }.max()! }
        return lines.map { cells in
            cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return c == 0 ? cells[c] + pad : pad + cells[c]
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Per format: throughput at the largest size and how peak RSS moves across sizes.
    static func verdicts(_ rows: [Row]) -> [String] {
        ManifestFormat.allCases.compactMap { format in
            let mine = rows.filter { $0.manifest.format == format && !$0.runs.isEmpty }
            guard let largest = mine.max(by: { $0.manifest.urls < $1.manifest.urls }) else { return nil }
            let speed = largest.urlsPerSecond >= 1_000_000 ? "meets" : "misses"
            let rss = mine.sorted { $0.manifest.urls < $1.manifest.urls }.map { mib($0.peakRSS) }
            let rssVerdict = mine.allSatisfy { $0.peakRSS <= 64 << 20 } ? "within" : "over"
            return "\(format): \(groupedRate(largest.urlsPerSecond)) URLs/s at \(grouped(largest.manifest.urls)) URLs "
                + "(\(speed) the target; CPU \(fixed(largest.medianCPUSeconds, 2)) s for "
                + "\(fixed(largest.medianSeconds, 2)) s wall); peak RSS \(rss.joined(separator: " -> ")) MiB "
                + "by size (\(rssVerdict) 64 MiB)"
                + (largest.jsonLoadSeconds.map { py in
                    let ratio = largest.medianSeconds / py
                    let cpu = largest.jsonLoadCPUSeconds.map { "; CPU \(fixed(largest.medianCPUSeconds / $0, 2))x json.load's (\(fixed($0, 3)) s)" } ?? ""
                    return "; \(fixed(ratio, 2))x the time of json.load (\(fixed(py, 3)) s, \(largest.jsonLoadRSS.map(mib) ?? "-") MiB): "
                        + (ratio <= 1 ? "meets" : "misses") + " the target" + cpu
                } ?? "")
        }
    }
}

/// The fields of `registrar validate --json` that the bench checks; others are ignored.
struct ValidateSummary: Decodable {
    var valid: Bool
    var units: Int
    var urls: Int
    var duplicateUrls: Int?
    var byType: [String: Int]?
    var errors: [Issue]?

    /// An entry of `errors`: a string or an object with a `message`; kept only for display.
    struct Issue: Decodable {
        var text: String?

        private enum Keys: String, CodingKey { case message }

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
            } else if let object = try? decoder.container(keyedBy: Keys.self) {
                text = try? object.decode(String.self, forKey: .message)
            }
        }
    }
}

// MARK: - _probe (internal)

/// The launcher `ProcessProbe.measure` runs, as `registrar-bench _probe STDOUT STDERR COMMAND
/// [ARGUMENT...]`: spawns the command with its output in those files, waits, and prints a
/// `ProbeReport`. It exists so the measured child is spawned by a process still at its start-up
/// size, and it parses its arguments by hand for the same reason.
enum ProbeLauncher {
    static let name = "_probe"

    static func main(_ arguments: [String]) -> Never {
        guard arguments.count >= 3 else {
            progress("usage: registrar-bench \(name) STDOUT STDERR COMMAND [ARGUMENT...]")
            exit(64)
        }
        do {
            let result = try ProcessProbe.spawnAndWait(
                Array(arguments.dropFirst(2)), stdoutPath: arguments[0], stderrPath: arguments[1]
            )
            print(ProbeReport.format(result))
            exit(0)
        } catch {
            progress("\(error)")
            exit(1)
        }
    }
}

// MARK: - Workspace

/// The directory the bench writes into, and what it created there, so that it removes exactly
/// its own files (and the directory only if it made it).
final class Workspace {
    let directory: String
    private let keep: Bool
    private let createdDirectory: Bool
    private var files: [String] = []

    init(directory requested: String?, keep: Bool) throws {
        self.keep = keep
        if let requested {
            if mkdir(requested, 0o755) == 0 {
                createdDirectory = true
            } else if errno == EEXIST {
                createdDirectory = false
            } else {
                throw BenchError.posix("cannot create --workdir \(requested)")
            }
            directory = requested
        } else {
            let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
            var template = Array((base + "/registrar-bench.XXXXXX").utf8CString)
            guard mkdtemp(&template) != nil else { throw BenchError.posix("cannot create a directory in \(base)") }
            directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            createdDirectory = true
        }
    }

    /// A path in the workspace, remembered for clean-up.
    func file(_ name: String) -> String {
        track(directory + "/" + name)
    }

    /// The files for runs measured by `ProcessProbe`, remembered for clean-up.
    func probeFiles(_ name: String) -> ProcessProbe.Files {
        let probeFiles = ProcessProbe.Files(base: directory + "/" + name)
        probeFiles.all.forEach { track($0) }
        return probeFiles
    }

    @discardableResult
    private func track(_ path: String) -> String {
        if !files.contains(path) { files.append(path) }
        return path
    }

    func remove(_ path: String) {
        unlink(path)
        files.removeAll { $0 == path }
    }

    func cleanUp() {
        if keep {
            progress("kept files in \(directory)")
            return
        }
        for path in files { unlink(path) }
        files = []
        if createdDirectory { rmdir(directory) }
    }
}

// MARK: - Arguments

/// An option value that is a comma-separated list, like `--sizes 10k,100k,1m`.
struct CommaSeparated<Element: ExpressibleByArgument & CustomStringConvertible>: ExpressibleByArgument {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        var values: [Element] = []
        for part in argument.split(separator: ",") {
            guard let value = Element(argument: part.trimmingWhitespace()) else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    var defaultValueDescription: String { values.map(\.description).joined(separator: ",") }
}

/// A URL count: digits with optional `_` separators, or a `k`/`m` suffix (`100k`, `1m`).
struct URLCount: ExpressibleByArgument, CustomStringConvertible {
    var value: Int

    init(_ value: Int) { self.value = value }

    init?(argument: String) {
        var digits = argument.lowercased().filter { $0 != "_" }
        var scale = 1
        if digits.hasSuffix("k") {
            scale = 1_000
        } else if digits.hasSuffix("m") {
            scale = 1_000_000
        }
        if scale > 1 { digits.removeLast() }
        guard let number = Int(digits), number >= 0 else { return nil }
        let (scaled, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        value = scaled
    }

    var description: String { String(value) }
}

extension ManifestFormat: ExpressibleByArgument, CustomStringConvertible {
    var description: String { rawValue }
}

// MARK: - Output

/// Prints to stdout and flushes, so report lines keep their order relative to `progress`.
func report(_ text: String) {
    print(text)
    fflush(nil)
}

/// Progress for the person waiting; stderr, so stdout holds only the report.
func progress(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// `value` with `places` decimals, rounded half away from zero ("-" when not finite).
func fixed(_ value: Double, _ places: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let units = Int(scaled)
    let whole = units / Int(scale)
    var text = (value < 0 && units != 0 ? "-" : "") + String(whole)
    if places > 0 {
        let fraction = String(units % Int(scale))
        text += "." + String(repeating: "0", count: places - fraction.count) + fraction
    }
    return text
}

/// `value` with thousands separators: 1,000,000.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var text = ""
    for (i, digit) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { text += "," }
        text.append(digit)
    }
    return (value < 0 ? "-" : "") + text
}

/// A rate rounded to a whole number, with thousands separators ("-" when not finite).
func groupedRate(_ value: Double) -> String {
    value.isFinite && abs(value) < 9e18 ? grouped(Int(value.rounded())) : "-"
}

/// Bytes as MiB with one decimal.
func mib(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) }

func dirname(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
