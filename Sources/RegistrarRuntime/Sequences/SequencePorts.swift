import RegistrarCore

/// The `sequence-encode` kind's rows (docs/sequences.md): which registration jobs hold
/// sequences to encode, each sequence's frames, and the videos recorded for them.
public protocol SequenceStore: AnyObject {
    /// Registered image sequences of a registration job, by file id (the kind's units).
    func sequenceCount(registrationJobID: String) throws -> Int
    /// Up to `limit` sequence file ids of a registration job after `after`, ascending.
    func sequenceFileIDs(registrationJobID: String, after: Int64, limit: Int) throws -> [Int64]
    /// What encoding one sequence needs; nil when the file no longer exists.
    func sequenceSource(fileID: Int64) throws -> SequenceSource?
    /// Commits one chunk's outcome in the engine's guarded commit (`JobStore`'s rules): the
    /// video's record, or the unit error, or (dead letter) every unit failed.
    func commitSequenceChunk(_ chunk: SequenceEncodeChunk, outcomes: [SequenceOutcome], failAll: DeadLetter?) throws -> CommitOutcome
    /// The coordinator's dispatcher: in one transaction, gives every finished registration job
    /// not yet looked at its encode job (or marks it as having none: virtual, or no sequences),
    /// at most once per registration job; returns the encode jobs created and not yet marked
    /// published (new ones and those a crash left unpublished).
    func dispatchSequenceEncodes(limit: Int) throws -> [String]
    /// Marks an encode job's id as published (after the broker confirmed it).
    func markSequenceEncodePublished(encodeJobID: String) throws
    /// The video recorded for a sequence, if any.
    func sequenceVideo(fileID: Int64) throws -> SequenceVideo?
}

/// One registered image sequence, as the encoder needs it.
public struct SequenceSource: Sendable, Equatable {
    public var fileID: Int64
    public var folderID: String
    /// Every frame's URL, in frame order.
    public var urls: [String]
    /// The integration the registration read them with (nil: fetched as given).
    public var integrationID: String?
    /// From the registration job's options (`sequenceFps`), else 25.
    public var fps: Double
    public init(fileID: Int64, folderID: String, urls: [String], integrationID: String?, fps: Double) {
        self.fileID = fileID; self.folderID = folderID; self.urls = urls; self.integrationID = integrationID; self.fps = fps
    }
}

/// A sequence recorded as a video.
public struct SequenceVideo: Sendable, Equatable {
    public var fileID: Int64
    public var key: String
    public var width: Int
    public var height: Int
    public var fps: Double
    public var frameCount: Int
    public var duration: Double
    public var size: Int64
    public var sha256: String
    /// Frame index → source image URL.
    public var frames: [SequenceFrame]
    public init(fileID: Int64, key: String, width: Int, height: Int, fps: Double, frameCount: Int, duration: Double, size: Int64,
                sha256: String, frames: [SequenceFrame]) {
        self.fileID = fileID; self.key = key; self.width = width; self.height = height; self.fps = fps
        self.frameCount = frameCount; self.duration = duration; self.size = size; self.sha256 = sha256; self.frames = frames
    }
}

/// What encoding one sequence came to.
public enum SequenceOutcome: Sendable, Equatable {
    case encoded(SequenceVideo)
    /// The sequence's file is gone (deleted since registration): nothing to do.
    case skipped(fileID: Int64)
    case failed(fileID: Int64, urls: [String], code: UnitErrorCode, message: String)
}

/// Reads whole frames through the registration workers' fetcher (same SSRF rules, same
/// integration signing). Port: `HTTPObjectVerifier` (libcurl) in RegistrarFetch.
public protocol FrameReader: AnyObject {
    /// Reads each URL whole, concurrently; a frame larger than `maxBytes` fails `too_large`.
    /// nil when `shouldStop` answered true (the reads were abandoned).
    func readFrames(_ urls: [String], integrationID: String?, maxBytes: Int, shouldStop: @escaping () -> Bool) -> [FrameRead]?
}

/// One frame read, or why not.
public enum FrameRead: Sendable, Equatable {
    case bytes([UInt8])
    case failed(code: UnitErrorCode, message: String)
}

/// Starts encoder processes (ffmpeg). One running encode at a time per caller.
public protocol VideoEncoder: AnyObject {
    /// Starts the encoder with `arguments` (it writes the file the arguments name).
    func start(arguments: [String]) throws -> any VideoEncoding
}

/// One running encode: frames go in, one at a time, in order.
public protocol VideoEncoding: AnyObject {
    /// Sends one frame (a whole image file). Throws `EncoderFailure` once the encoder has gone.
    func write(_ frame: [UInt8]) throws
    /// Ends the input and waits for the encoder; throws `EncoderFailure` unless it succeeded.
    func finish() throws
    /// Stops the encoder at once (cancel, a failed frame).
    func abort()
}

/// The encoder failed: its exit status and the end of what it said.
public struct EncoderFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
