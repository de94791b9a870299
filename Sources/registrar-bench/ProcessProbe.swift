// Measures a child process from outside: wall time on a monotonic clock, peak RSS and CPU time
// from wait4(2). Also the raw read(2) baseline the child's throughput is compared with.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds on a monotonic clock (immune to NTP steps and wall-clock changes).
enum MonotonicClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// How a child ended.
enum ExitStatus: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// Decodes a wait status; the W* macros are not imported into Swift.
    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(status & 0x7f)
        }
    }

    var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// One measured run of a child process.
struct ProbeResult: Equatable {
    var status: ExitStatus
    var wallSeconds: Double
    /// The child's peak resident set (ru_maxrss), in bytes.
    var peakRSSBytes: Int
    /// User + system CPU time of the child; above `wallSeconds` means it used more than a core.
    var cpuSeconds: Double
}

/// Spawns and measures child processes.
///
/// Why there is a launcher: Linux charges the high-water RSS of the process that spawns a child
/// to that child. exec(2) folds the old address space's high-water mark into the process's
/// `maxrss`, and after vfork/posix_spawn that old address space *is* the parent's (after fork it
/// is a copy of it). So ru_maxrss of a child of a 300 MB process reads at least 300 MB even for
/// `/bin/true`. So `measure(_:…)` has this executable's `_probe` launcher, still at its start-up
/// size, spawn the real child and report on it. What is left is the launcher's own size:
/// `rssFloor` measures it, and readings at that level mean "at most this".
enum ProcessProbe {
    /// Runs `arguments` (the first is looked up in PATH if it has no slash) with stdin from
    /// /dev/null and stdout/stderr into the given files, and waits for it.
    static func spawnAndWait(_ arguments: [String], stdoutPath: String, stderrPath: String) throws -> ProbeResult {
        precondition(!arguments.isEmpty)
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        // The bench ignores SIGPIPE (see `StopSignals`), and an ignored signal stays ignored
        // across exec; give the child the default back.
        #if os(Linux)
        var attributes = posix_spawnattr_t()
        #else
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var pid: pid_t = 0
        let start = MonotonicClock.now()
        let spawnError = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard spawnError == 0 else {
            throw BenchError("cannot run \(arguments[0]): \(String(cString: strerror(spawnError)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchError.posix("wait4 on \(arguments[0])") }
        }
        let wall = MonotonicClock.now() - start

        return ProbeResult(
            status: ExitStatus(waitStatus: status),
            wallSeconds: wall,
            peakRSSBytes: maxRSSBytes(usage),
            cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime)
        )
    }

    /// Where a measured run's output goes.
    struct Files {
        /// The child's stdout and stderr.
        var stdout: String
        var stderr: String
        /// The launcher's report and its own diagnostics.
        var report: String
        var launcherErrors: String

        /// Four files named `base.out`, `base.err`, `base.probe` and `base.probe-err`.
        init(base: String) {
            stdout = base + ".out"
            stderr = base + ".err"
            report = base + ".probe"
            launcherErrors = base + ".probe-err"
        }

        var all: [String] { [stdout, stderr, report, launcherErrors] }
    }

    /// `spawnAndWait` done by the `_probe` launcher (`launcher` is this executable), so that the
    /// RSS reading is not inflated by this process's own size.
    static func measure(_ arguments: [String], launcher: String, files: Files) throws -> ProbeResult {
        let launch = try spawnAndWait(
            [launcher, ProbeLauncher.name, files.stdout, files.stderr] + arguments,
            stdoutPath: files.report, stderrPath: files.launcherErrors
        )
        guard launch.status == .exited(0), let result = ProbeReport.parse(try readSmallFile(files.report, limit: 4096)) else {
            try StopSignals.check()  // Ctrl-C reaches the launcher too; say so rather than "failed"
            let detail = ((try? readSmallFile(files.launcherErrors, limit: 4096)) ?? "").trimmingWhitespace()
            throw BenchError("launcher failed (\(launch.status))" + (detail.isEmpty ? "" : ": " + detail))
        }
        return result
    }

    /// The lowest RSS reading `measure` can give: that of `true`, whose own footprint is far
    /// below the launcher's, so what it reads is what the launcher adds. The maximum of a few
    /// runs, as the figure wobbles by a page or two.
    static func rssFloor(launcher: String, files: Files) throws -> Int {
        var floor = 0
        for _ in 0..<3 {
            floor = max(floor, try measure(["true"], launcher: launcher, files: files).peakRSSBytes)
        }
        return floor
    }

    private static func maxRSSBytes(_ usage: rusage) -> Int {
        #if os(Linux)
        return usage.ru_maxrss * 1024  // kibibytes on Linux
        #else
        return usage.ru_maxrss  // bytes on macOS
        #endif
    }

    private static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1e6
    }
}

/// The one-line report `_probe` prints and `ProcessProbe.measure` reads back, e.g.
/// `exit=0 wall_ns=81234567 maxrss=14680064 cpu_ns=80000000`.
enum ProbeReport {
    static func format(_ r: ProbeResult) -> String {
        let status: String
        switch r.status {
        case .exited(let code): status = "exit=\(code)"
        case .signaled(let signal): status = "signal=\(signal)"
        }
        return "\(status) wall_ns=\(Int(r.wallSeconds * 1e9)) maxrss=\(r.peakRSSBytes)"
            + " cpu_ns=\(Int(r.cpuSeconds * 1e9))"
    }

    static func parse(_ line: String) -> ProbeResult? {
        var fields: [Substring: Int] = [:]
        for field in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            fields[parts[0]] = value
        }
        let status: ExitStatus
        if let code = fields["exit"] {
            status = .exited(Int32(code))
        } else if let signal = fields["signal"] {
            status = .signaled(Int32(signal))
        } else {
            return nil
        }
        guard let wall = fields["wall_ns"], let rss = fields["maxrss"], let cpu = fields["cpu_ns"] else { return nil }
        return ProbeResult(
            status: status, wallSeconds: Double(wall) / 1e9, peakRSSBytes: rss, cpuSeconds: Double(cpu) / 1e9
        )
    }
}

/// The speed of simply reading a file: the ceiling for any validator that reads it once.
enum RawReadBaseline {
    static let blockSize = 1 << 20

    /// Reads `path` end to end in 1 MiB blocks with read(2): once untimed, so the page cache is
    /// as hot as it will be for the validator runs that follow, then `runs` times timed.
    /// Returns the median seconds.
    static func medianSeconds(path: String, runs: Int) throws -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 4096)
        defer { buffer.deallocate() }
        _ = try readThrough(path, into: buffer)
        var times: [Double] = []
        for _ in 0..<max(runs, 1) {
            let start = MonotonicClock.now()
            _ = try readThrough(path, into: buffer)
            times.append(MonotonicClock.now() - start)
        }
        return median(times)
    }

    /// Reads the whole file; returns the byte count.
    private static func readThrough(_ path: String, into buffer: UnsafeMutableRawPointer) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchError.posix("cannot open \(path)") }
        defer { close(fd) }
        var total = 0
        while true {
            let n = read(fd, buffer, blockSize)
            if n == 0 { return total }
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError.posix("cannot read \(path)")
            }
            total += n
        }
    }
}

// MARK: - Stopping cleanly

/// Set from a signal handler, hence a plain global: nothing else is async-signal-safe here.
nonisolated(unsafe) private var stopSignalReceived: Int32 = 0

/// Lets Ctrl-C (or a closed output pipe) end the bench through its normal clean-up, instead of
/// leaving hundreds of MB of manifests in the temporary directory.
enum StopSignals {
    /// SIGINT, SIGTERM and SIGHUP only set a flag, which `check()` turns into an error between
    /// steps. SIGPIPE is ignored, so `registrar-bench … | head` fails a write, not the process.
    static func install() {
        signal(SIGPIPE, SIG_IGN)
        for stop in [SIGINT, SIGTERM, SIGHUP] {
            signal(stop) { _ in stopSignalReceived = 1 }
        }
    }

    static func check() throws {
        if stopSignalReceived != 0 { throw BenchError("interrupted") }
    }
}

// MARK: - Small helpers

func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// A whole binary file; refuses one over `limit` bytes.
func readBinaryFile(_ path: String, limit: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw BenchError.posix("cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw BenchError.posix("cannot read \(path)")
        }
        bytes += chunk[0..<n]
        if bytes.count > limit { throw BenchError("\(path) is larger than \(limit) bytes") }
    }
    return bytes
}

/// The contents of a file known to be small, as UTF-8 (invalid bytes repaired). Refuses files
/// over `limit` bytes rather than reading something unexpectedly huge into memory.
func readSmallFile(_ path: String, limit: Int) throws -> String {
    String(decoding: try readBinaryFile(path, limit: limit), as: UTF8.self)
}

/// The absolute path of the running executable (symlinks resolved).
func currentExecutablePath() -> String {
    #if os(Linux)
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if n > 0 {
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    #endif
    let argument0 = CommandLine.arguments[0]
    if let resolved = realpath(argument0, nil) {
        defer { free(resolved) }
        return String(cString: resolved)
    }
    return argument0
}

/// An error with a message for the user; `posix` appends the current errno's text.
struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }

    static func posix(_ what: String) -> BenchError {
        BenchError("\(what): \(String(cString: strerror(errno)))")
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let characters = Array(self)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
              let last = characters.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(characters[first...last])
    }
}
