/// Pure planning for turning a registered image sequence into an H.264 video
/// (the `sequence-encode` job kind, docs/sequences.md): the storage key, the encoder's
/// arguments, the output size, the frame map and the options a registration job carries.
/// No I/O: the worker's handler does the reading, piping and writing.
public enum SequenceEncoding {
    /// Encord's frame rate for sequences when none is given ("32,767 frames … 21:50 minutes").
    public static let defaultFPS = 25.0
    /// The most frames a sequence may hold (the validator refuses more, `sequence_too_long`).
    public static let maxFrames = ManifestLimits().maxSequenceFrames
    /// Highest frame rate accepted from a job's options.
    public static let maxFPS = 240.0

    /// The key prefix every object of one sequence lives under: `sequences/{folder}/{file}/`.
    public static func keyPrefix(folderID: String, fileID: Int64) -> String {
        "sequences/\(folderID.lowercased())/\(fileID)/"
    }

    /// The video's key: fixed by the sequence alone, so a retried or redelivered chunk writes
    /// the same key again (replacing it) and never leaves a second object.
    public static func videoKey(folderID: String, fileID: Int64) -> String {
        keyPrefix(folderID: folderID, fileID: fileID) + "video.mp4"
    }

    /// The encoded size for a first frame of `width`×`height`: the same size, rounded down to
    /// even numbers (4:2:0 chroma needs them; Encord's videos are even too). nil below 2×2.
    public static func outputSize(width: Int, height: Int) -> (width: Int, height: Int)? {
        let w = width - width % 2, h = height - height % 2
        return w >= 2 && h >= 2 ? (w, h) : nil
    }

    /// ffmpeg's arguments (without the program name): images on stdin (`image2pipe`, each
    /// frame one complete image file), every frame scaled to the first frame's size, H.264
    /// (libx264) in yuv420p, MP4 with the index first (`+faststart`, so players start before
    /// the whole file arrives), one output frame per input frame at `fps`.
    /// `inputCodec` is ffmpeg's decoder for the frames' format (`inputCodec(for:)`): a pipe
    /// cannot be probed, so it is named.
    public static func ffmpegArguments(inputCodec: String, width: Int, height: Int, fps: Double, output: String) -> [String] {
        let rate = fpsText(fps)
        return ["-hide_banner", "-nostats", "-loglevel", "error", "-y",
                "-f", "image2pipe", "-c:v", inputCodec, "-framerate", rate, "-i", "pipe:0",
                "-vf", "scale=\(width):\(height):flags=bicubic,setsar=1,format=yuv420p",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                "-fps_mode", "passthrough", "-r", rate,
                "-movflags", "+faststart", "-f", "mp4", output]
    }

    /// ffmpeg's decoder for frames of this format; nil for formats ffmpeg cannot read from a pipe
    /// here (AVIF, HEIF) or that are not images. Every frame of a sequence must share the first
    /// frame's format: one pipe has one decoder.
    public static func inputCodec(for format: MediaFormat) -> String? {
        switch format {
        case .jpeg: "mjpeg"
        case .png: "png"
        case .webp: "webp"
        case .bmp: "bmp"
        case .tiff: "tiff"
        case .gif: "gif"
        default: nil
        }
    }

    /// A frame rate as ffmpeg reads it: an integer when it is one, else a decimal.
    public static func fpsText(_ fps: Double) -> String {
        fps == fps.rounded() && fps < 1e6 ? String(Int(fps)) : String(fps)
    }

    /// Seconds a video of `frames` frames lasts at `fps`.
    public static func duration(frames: Int, fps: Double) -> Double {
        fps > 0 ? Double(frames) / fps : 0
    }

    /// Frame index → the source image it was encoded from. One frame per source image, in the
    /// order the manifest listed them (the order of the sequence's `urls`).
    public static func frameMap(urls: [String]) -> [SequenceFrame] {
        urls.enumerated().map { SequenceFrame(frame: $0.offset, source: $0.element) }
    }

    /// A URL fit for messages: no user info, query or fragment (presigned URLs are secrets).
    public static func displayURL(_ url: String) -> String {
        var s = Substring(url)
        if let cut = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<cut] }
        let chars = Array(s)
        var schemeEnd: Int?
        var i = 0
        while i + 2 < chars.count {
            if chars[i] == ":" && chars[i + 1] == "/" && chars[i + 2] == "/" { schemeEnd = i + 3; break }
            if chars[i] == "/" { break }
            i += 1
        }
        guard let start = schemeEnd else { return String(s) }
        let authorityEnd = chars[start...].firstIndex(of: "/") ?? chars.count
        guard let at = chars[start..<authorityEnd].lastIndex(of: "@") else { return String(s) }
        return String(chars[..<start]) + "***@" + String(chars[(at + 1)...])
    }
}

/// One frame of an encoded sequence and the source image it came from.
public struct SequenceFrame: Sendable, Equatable {
    public var frame: Int
    public var source: String
    public init(frame: Int, source: String) { self.frame = frame; self.source = source }
}

/// What a registration job says about its image sequences (its `params`, set by
/// `registrar submit --virtual-sequences / --sequence-fps`): keep them virtual (no video is
/// made, nothing written to storage), and the frame rate of the videos made.
public struct SequenceOptions: Sendable, Equatable {
    public var virtual: Bool
    public var fps: Double?
    public init(virtual: Bool = false, fps: Double? = nil) { self.virtual = virtual; self.fps = fps }

    /// The frame rate videos are encoded at.
    public var effectiveFPS: Double { fps ?? SequenceEncoding.defaultFPS }

    /// A refused option: which field, and why.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// Checks a frame rate given by a user.
    public static func checkFPS(_ fps: Double, field: String) -> Result<Double, Invalid> {
        guard fps.isFinite, fps > 0, fps <= SequenceEncoding.maxFPS else {
            return .failure(Invalid(field: field, message: "the frame rate must be a number above 0 and at most \(Int(SequenceEncoding.maxFPS)), not \(fps)"))
        }
        return .success(fps)
    }

    /// The params fields (`virtualSequences`, `sequenceFps`) of a registration job.
    public var params: [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = []
        if virtual { out.append(("virtualSequences", .bool(true))) }
        if let fps { out.append(("sequenceFps", .number(SequenceEncoding.fpsText(fps)))) }
        return out
    }

    /// Reads them back from a job's params (absent fields: the defaults).
    public static func parse(_ params: JSONValue?) -> Result<SequenceOptions, Invalid> {
        var o = SequenceOptions()
        guard let params, case .object = params else { return .success(o) }
        if let v = params["virtualSequences"] {
            guard case .bool(let b) = v else { return .failure(Invalid(field: "virtualSequences", message: "must be true or false")) }
            o.virtual = b
        }
        if let v = params["sequenceFps"] {
            guard case .number(let text) = v, let n = Double(text) else { return .failure(Invalid(field: "sequenceFps", message: "must be a number")) }
            switch checkFPS(n, field: "sequenceFps") {
            case .success(let f): o.fps = f
            case .failure(let e): return .failure(e)
            }
        }
        return .success(o)
    }
}

/// One chunk of a `sequence-encode` job: one sequence (a registered file), so a worker holds
/// one sequence at a time and a redelivery redoes exactly one.
public struct SequenceEncodeChunk: Sendable, Equatable {
    public var jobID: String
    public var seq: Int
    public var tenantID: String
    public var firstUnit: Int
    public var fileIDs: [Int64]

    public init(jobID: String, seq: Int, tenantID: String, firstUnit: Int, fileIDs: [Int64]) {
        self.jobID = jobID; self.seq = seq; self.tenantID = tenantID; self.firstUnit = firstUnit; self.fileIDs = fileIDs
    }

    public var bytes: [UInt8] {
        Array(("{\"job\":\"\(jobID)\",\"seq\":\(seq),\"tenant\":\"\(tenantID)\",\"first\":\(firstUnit),\"files\":["
               + fileIDs.map(String.init).joined(separator: ",") + "]}").utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> SequenceEncodeChunk? {
        guard let v = JSONValue.parse(bytes), case .string(let job)? = v["job"], case .string(let tenant)? = v["tenant"],
              let seq = v["seq"]?.intValue, let first = v["first"]?.intValue, case .array(let items)? = v["files"] else { return nil }
        let ids = items.compactMap { $0.intValue.map(Int64.init) }
        guard ids.count == items.count else { return nil }
        return SequenceEncodeChunk(jobID: job, seq: seq, tenantID: tenant, firstUnit: first, fileIDs: ids)
    }
}
