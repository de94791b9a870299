import Foundation

/// The `VideoEncoder` adapter: runs `ffmpeg` (REGISTRAR_FFMPEG, else the one on PATH) with
/// frames on its stdin. Its stderr is drained by a thread into a small ring (the last 4 KiB),
/// so a chatty encoder never blocks on a full pipe and a failure says what ffmpeg said.
public final class FFmpegVideoEncoder: VideoEncoder {
    public let program: String

    public init(program: String? = nil) {
        self.program = program ?? ProcessInfo.processInfo.environment["REGISTRAR_FFMPEG"].flatMap { $0.isEmpty ? nil : $0 } ?? "ffmpeg"
    }

    public func start(arguments: [String]) throws -> any VideoEncoding {
        let p = Process()
        if program.contains("/") {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = arguments
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [program] + arguments
        }
        let input = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errors
        do { try p.run() } catch { throw EncoderFailure("cannot start \(program): \(error)") }
        return FFmpegEncoding(process: p, input: input, errors: errors)
    }
}

final class FFmpegEncoding: VideoEncoding, @unchecked Sendable {
    let process: Process
    let inputFD: Int32
    let input: Pipe
    let tail = StderrTail()
    let drained = DispatchSemaphore(value: 0)
    var closed = false

    init(process: Process, input: Pipe, errors: Pipe) {
        self.process = process
        self.input = input
        inputFD = input.fileHandleForWriting.fileDescriptor
        let tail = self.tail, drained = self.drained
        let handle = errors.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                tail.append(data)
            }
            drained.signal()
        }
    }

    func write(_ frame: [UInt8]) throws {
        var offset = 0
        while offset < frame.count {
            let n = frame.withUnsafeBytes { Glibc.write(inputFD, $0.baseAddress! + offset, frame.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                // EPIPE: ffmpeg exited (SIGPIPE is ignored by the roles).
                closeInput()
                process.waitUntilExit()
                drained.wait()
                throw EncoderFailure("ffmpeg exited with status \(process.terminationStatus): \(tail.text)")
            }
            offset += n
        }
    }

    func finish() throws {
        closeInput()
        process.waitUntilExit()
        drained.wait()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw EncoderFailure("ffmpeg exited with status \(process.terminationStatus): \(tail.text)")
        }
    }

    func abort() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        closeInput()
        process.waitUntilExit()
    }

    private func closeInput() {
        if closed { return }
        closed = true
        try? input.fileHandleForWriting.close()
    }
}

/// The last 4 KiB an encoder wrote to stderr.
final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ data: Data) {
        lock.lock(); defer { lock.unlock() }
        bytes.append(contentsOf: data)
        if bytes.count > 4096 { bytes.removeFirst(bytes.count - 4096) }
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        let s = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).suffix(5).joined(separator: " | ")
        return s.isEmpty ? "(no message)" : s
    }
}
