import Foundation
import RegistrarRuntime

/// Progress for `--wait`: a line redrawn in place on a terminal; on a pipe or file, a plain
/// line every few seconds and whenever the phase changes. Rate is units/s over the last ~10 s.
final class ProgressDisplay {
    let quiet: Bool
    let tty = isatty(1) == 1
    var samples: [(time: Double, finished: Int)] = []
    var lastPrint = 0.0
    var lastPhase: JobPhase?
    let start = ProgressDisplay.now()

    init(quiet: Bool) { self.quiet = quiet }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func line(_ s: JobState) -> String {
        let t = Self.now()
        samples.append((t, s.counts.finished))
        samples.removeAll { t - $0.time > 10 }
        var rate = 0.0
        if let first = samples.first, t - first.time > 0.5 { rate = Double(s.counts.finished - first.finished) / (t - first.time) }
        let total = s.total.map(String.init) ?? "?"
        var text = "\(s.status.rawValue) \(s.phase.rawValue): \(s.counts.finished)/\(total) — done \(s.counts.done), failed \(s.counts.errors), skipped \(s.counts.skipped)"
        if s.counts.cancelled > 0 { text += ", cancelled \(s.counts.cancelled)" }
        text += String(format: " — %.0f units/s", rate)
        if rate > 0, let total = s.total, s.status == .pending {
            text += String(format: ", ETA %.0f s", Double(total - s.counts.finished) / rate)
        }
        return text
    }

    func update(_ s: JobState) {
        guard !quiet else { return }
        let text = line(s)
        let t = Self.now()
        if tty {
            print("\r\u{1B}[K" + text, terminator: "")
            fflush(nil) // stdout is buffered; the line must show now
        } else if t - lastPrint >= 2 || s.phase != lastPhase {
            print(text)
            fflush(nil)
            lastPrint = t
        }
        lastPhase = s.phase
    }

    func finish(_ s: JobState) {
        guard !quiet else { return }
        if tty { print("") }
        print(String(format: "finished %@ in %.1f s: %d done, %d failed, %d skipped, %d cancelled of %d",
                     s.status.rawValue, Self.now() - start, s.counts.done, s.counts.errors, s.counts.skipped,
                     s.counts.cancelled, s.total ?? 0))
        if let error = s.error { print("error: \(error)") }
    }
}
