import Foundation
import RegistrarCore

/// The `sequence-encode` job kind (docs/sequences.md): each registered image sequence of one
/// registration job becomes an H.264 MP4 in Registrar's storage. One sequence per chunk: the
/// worker streams its frames through the fetcher into ffmpeg (scaled to the first frame's
/// size), writes the video under a key fixed by the sequence, and records it (size, rate, frame
/// count, duration, key, frame → source map) in the engine's guarded commit. A redelivered
/// chunk encodes again and overwrites the same key; a chunk already committed changes nothing.
public enum SequenceEncode {
    public static let kind = "sequence-encode"
    public static let queues = KindQueues.named(kind)
    public static let action = "Encoding image sequence"
}

/// Parameters of a `sequence-encode` job: the registration job whose sequences it encodes.
public struct SequenceEncodeParams: Sendable, Equatable {
    public var registrationJobID: String
    public init(registrationJobID: String) { self.registrationJobID = registrationJobID }
    public var json: JSONValue { .object([("registrationJob", .string(registrationJobID))]) }
    public static func parse(_ v: JSONValue) -> SequenceEncodeParams? {
        guard case .string(let id)? = v["registrationJob"], UUIDText.isValid(id) else { return nil }
        return SequenceEncodeParams(registrationJobID: id)
    }
}

public final class SequenceEncodePlanner: JobPlanner {
    public let queues = SequenceEncode.queues
    let store: SequenceStore

    public init(store: SequenceStore) { self.store = store }

    public func prepare(_ job: Job) throws -> Preparation {
        guard let p = SequenceEncodeParams.parse(job.params) else {
            return .refused(JobFailure(code: "invalid_params", item: "params.registrationJob", message: "a sequence-encode job names its registration job (a UUID)"))
        }
        return .accepted(units: try store.sequenceCount(registrationJobID: p.registrationJobID))
    }

    /// The registration job has finished, so its sequences are a fixed set: a re-plan after a
    /// crash gives the same chunks.
    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        guard let p = SequenceEncodeParams.parse(job.params) else { return }
        var chunks = ChunkNumbering()
        try chunks.emitPages(limit: 1, read: { try store.sequenceFileIDs(registrationJobID: p.registrationJobID, after: $0, limit: $1) },
                             to: emit) { seq, first, ids in
            SequenceEncodeChunk(jobID: job.id, seq: seq, tenantID: job.tenantID, firstUnit: first, fileIDs: ids).bytes
        }
    }
}

public final class SequenceEncodeHandler: ChunkHandler {
    public let queues = SequenceEncode.queues
    let store: SequenceStore
    let storage: ObjectStorage
    let reader: FrameReader
    let encoder: VideoEncoder
    let scratch: EncodeScratch
    /// Frames read at once (memory: at most this many frames of `maxFrameBytes`).
    let batch: Int
    let maxFrameBytes: Int
    let prober = ContentProber()
    /// Test pacing only (`REGISTRAR_TEST_FRAME_DELAY_MS`): a pause before each frame is sent.
    let frameDelayMicroseconds: UInt32

    public init(store: SequenceStore, storage: ObjectStorage, reader: FrameReader, encoder: VideoEncoder, scratch: EncodeScratch,
                batch: Int = 8, maxFrameBytes: Int = 64 << 20, frameDelayMicroseconds: UInt32 = 0) {
        self.store = store; self.storage = storage; self.reader = reader; self.encoder = encoder; self.scratch = scratch
        self.batch = max(1, batch); self.maxFrameBytes = max(1024, maxFrameBytes)
        self.frameDelayMicroseconds = frameDelayMicroseconds
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: SequenceEncodeChunk) {
        guard let chunk = SequenceEncodeChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: SequenceEncodeChunk) -> Int { work.fileIDs.count }

    public func perform(_ work: SequenceEncodeChunk, id: ChunkID, cancellation: CancellationProbe) throws -> [SequenceOutcome]? {
        var out: [SequenceOutcome] = []
        for fileID in work.fileIDs {
            guard let source = try store.sequenceSource(fileID: fileID) else { out.append(.skipped(fileID: fileID)); continue }
            guard let outcome = try encode(source, id: id, cancellation: cancellation) else { return nil }
            out.append(outcome)
        }
        return out
    }

    /// Encodes one sequence; nil when cancelled. Throws only for infrastructure faults (the
    /// storage cannot be written, the scratch directory is unusable): the chunk is retried.
    func encode(_ source: SequenceSource, id: ChunkID, cancellation: CancellationProbe) throws -> SequenceOutcome? {
        func failed(_ code: UnitErrorCode, _ message: String) -> SequenceOutcome {
            .failed(fileID: source.fileID, urls: source.urls, code: code, message: message)
        }
        guard source.urls.count <= SequenceEncoding.maxFrames else {
            return failed(.tooManyFrames, "the sequence has \(source.urls.count) frames; a video made from a sequence holds at most \(SequenceEncoding.maxFrames)")
        }
        guard !source.urls.isEmpty else { return failed(.encoderFailed, "the sequence has no frames") }
        let temp = try scratch.file(for: id)
        defer { scratch.remove(temp) }
        var session: (any VideoEncoding)?
        var firstFormat: MediaFormat?
        var size = (width: 0, height: 0)
        defer { session?.abort() }
        var index = 0
        while index < source.urls.count {
            if cancellation.isCancelled { return nil }
            let urls = Array(source.urls[index..<min(index + batch, source.urls.count)])
            guard let reads = reader.readFrames(urls, integrationID: source.integrationID, maxBytes: maxFrameBytes,
                                                shouldStop: { cancellation.isCancelled }) else { return nil }
            for (k, read) in reads.enumerated() {
                let frame = index + k
                let shown = SequenceEncoding.displayURL(urls[k])
                switch read {
                case .failed(let code, let message):
                    return failed(.frameUnreadable, "frame \(frame) (\(shown)) could not be read: \(code.rawValue): \(message)")
                case .bytes(let bytes):
                    guard let format = ContentProber.sniff(bytes[...]), let codec = SequenceEncoding.inputCodec(for: format) else {
                        return failed(.frameDecodeFailed, "frame \(frame) (\(shown)) is not an image the encoder reads (JPEG, PNG, WebP, BMP, TIFF or GIF)")
                    }
                    let info: MediaInfo
                    switch prober.probe(type: .image, data: ProbeData(head: bytes, totalSize: Int64(bytes.count)), contentType: nil) {
                    case .described(let i): info = i
                    case .refused(let code, let message): return failed(.frameDecodeFailed, "frame \(frame) (\(shown)) cannot be decoded: \(code.rawValue): \(message)")
                    case .needBytes: return failed(.frameDecodeFailed, "frame \(frame) (\(shown)) is truncated: its header runs past its end")
                    }
                    if let firstFormat {
                        guard format == firstFormat else {
                            return failed(.frameDecodeFailed, "frame \(frame) (\(shown)) is \(format.mimeType) but frame 0 is \(firstFormat.mimeType): every frame of a sequence must share one format to be encoded")
                        }
                    } else {
                        guard let w = info.width, let h = info.height, let even = SequenceEncoding.outputSize(width: w, height: h) else {
                            return failed(.frameDecodeFailed, "frame 0 (\(shown)) has no usable size (at least 2×2 pixels)")
                        }
                        firstFormat = format
                        size = even
                        do {
                            session = try encoder.start(arguments: SequenceEncoding.ffmpegArguments(inputCodec: codec, width: even.width, height: even.height,
                                                                                                   fps: source.fps, output: temp))
                        } catch let e as EncoderFailure { return failed(.encoderFailed, e.message) }
                    }
                    if frameDelayMicroseconds > 0 { usleep(frameDelayMicroseconds) }
                    do { try session!.write(bytes) } catch let e as EncoderFailure {
                        return failed(.encoderFailed, "the encoder stopped at frame \(frame) (\(shown)): \(e.message)")
                    }
                }
            }
            index += urls.count
        }
        do { try session!.finish() } catch let e as EncoderFailure { return failed(.encoderFailed, e.message) }
        session = nil
        guard let key = ObjectKey(SequenceEncoding.videoKey(folderID: source.folderID, fileID: source.fileID)) else { throw Unreadable() }
        var bytes = try FileByteSource(path: temp)
        let stored = try storage.write(key, contentType: "video/mp4", from: &bytes, expectedSHA256: nil)
        guard stored.size > 0 else { return failed(.encoderFailed, "the encoder wrote an empty video") }
        let frames = source.urls.count
        return .encoded(SequenceVideo(fileID: source.fileID, key: key.text, width: size.width, height: size.height, fps: source.fps,
                                      frameCount: frames, duration: SequenceEncoding.duration(frames: frames, fps: source.fps),
                                      size: stored.size, sha256: stored.sha256, frames: SequenceEncoding.frameMap(urls: source.urls)))
    }

    public func deadResult(_ work: SequenceEncodeChunk, id: ChunkID, letter: DeadLetter) -> [SequenceOutcome] { [] }

    public func commit(_ result: [SequenceOutcome], id: ChunkID, work: SequenceEncodeChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitSequenceChunk(work, outcomes: result, failAll: deadLetter)
    }

    public func errorCodes(_ result: [SequenceOutcome]) -> [UnitErrorCode: Int] {
        var out: [UnitErrorCode: Int] = [:]
        for case .failed(_, _, let code, _) in result { out[code, default: 0] += 1 }
        return out
    }
}

/// Where a worker's encoder writes its one temporary file per sequence: a directory per
/// process (`ROOT/PID`), named per chunk, so a retried chunk reuses the same name. When a
/// worker starts, directories of processes that no longer run (a killed worker's) are removed:
/// nothing is left behind on the disk for long.
public final class EncodeScratch: @unchecked Sendable {
    public let root: String
    let dir: String

    public init(root: String) throws {
        self.root = root
        dir = root + "/" + String(getpid())
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        sweep()
    }

    /// Removes the directories of processes that no longer run (and what their orphaned
    /// encoders wrote there after they died).
    public func sweep() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            guard let pid = Int32(name), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? fm.removeItem(atPath: root + "/" + name) }
        }
    }

    /// The temporary file for one chunk (removed first if a previous attempt left it).
    func file(for id: ChunkID) throws -> String {
        sweep()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = dir + "/\(id.jobID.lowercased())-\(id.seq).mp4"
        unlink(path)
        return path
    }

    func remove(_ path: String) { unlink(path) }
}
