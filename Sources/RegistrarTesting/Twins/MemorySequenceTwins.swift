import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin of `FrameReader`: frames by URL from a dictionary; a URL it does not hold fails
/// `not_found`, as a 404 would. Counts reads, so tests see that frames are read once each.
public final class MemoryFrameReader: FrameReader, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: [UInt8]] = [:]
    public private(set) var reads = 0
    /// The most frames asked for in one call (the handler's batch bound).
    public private(set) var largestBatch = 0

    public init() {}

    public func put(_ url: String, _ bytes: [UInt8]) { lock.lock(); objects[url] = bytes; lock.unlock() }
    public func remove(_ url: String) { lock.lock(); objects[url] = nil; lock.unlock() }

    public func readFrames(_ urls: [String], integrationID: String?, maxBytes: Int, shouldStop: @escaping () -> Bool) -> [FrameRead]? {
        if shouldStop() { return nil }
        lock.lock(); defer { lock.unlock() }
        reads += urls.count
        largestBatch = max(largestBatch, urls.count)
        return urls.map { url in
            guard let b = objects[url] else { return .failed(code: .notFound, message: "HTTP 404 from \(SequenceEncoding.displayURL(url))") }
            guard b.count <= maxBytes else { return .failed(code: .tooLarge, message: "the frame is \(b.count) bytes; frames are read up to \(maxBytes) bytes") }
            return .bytes(b)
        }
    }
}

/// The twin of `VideoEncoder`: keeps the arguments and the frames it is sent and, on finish,
/// writes a small stand-in file where the arguments say (`FAKEMP4` + the frame count), so the
/// handler's storage write and temporary-file cleanup run as with ffmpeg. It can be told to
/// fail at a frame or at the end.
public final class MemoryVideoEncoder: VideoEncoder, @unchecked Sendable {
    public private(set) var arguments: [[String]] = []
    public private(set) var frames: [[UInt8]] = []
    public private(set) var aborted = 0
    /// Stop accepting input at this frame (0-based), as an encoder that died would.
    public var failAtFrame: Int?
    /// Exit non-zero at the end.
    public var failAtFinish = false

    public init() {}

    public func start(arguments: [String]) throws -> any VideoEncoding {
        self.arguments.append(arguments)
        return Session(owner: self, output: arguments.last ?? "")
    }

    final class Session: VideoEncoding {
        let owner: MemoryVideoEncoder
        let output: String
        var sent = 0
        var done = false
        init(owner: MemoryVideoEncoder, output: String) { self.owner = owner; self.output = output }

        func write(_ frame: [UInt8]) throws {
            if let n = owner.failAtFrame, sent >= n { throw EncoderFailure("ffmpeg exited with status 1: Error while decoding stream #0:0") }
            owner.frames.append(frame)
            sent += 1
            // Like ffmpeg, the output file exists while the encode runs.
            if sent == 1 { FileManager.default.createFile(atPath: output, contents: Data()) }
        }

        func finish() throws {
            done = true
            if owner.failAtFinish { throw EncoderFailure("ffmpeg exited with status 1: Conversion failed!") }
            FileManager.default.createFile(atPath: output, contents: Data("FAKEMP4 \(sent)".utf8))
        }

        func abort() { if !done { owner.aborted += 1 } }
    }
}
