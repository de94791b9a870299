import Foundation
import Testing
import RegistrarCore

// Audio/video header parsing (AVProbe) against real files made with ffmpeg (see
// Fixtures/media/av/README.md for how each was made and ffprobe's values), plus synthetic
// hostile inputs, truncations at many lengths and a seeded mutation fuzz loop.

// MARK: - Helpers

fileprivate let avFixtureDirectory = "Fixtures/media/av"

fileprivate func avFixture(_ name: String) throws -> [UInt8] {
    let dot = try #require(name.lastIndex(of: "."))
    let base = String(name[..<dot]), ext = String(name[name.index(after: dot)...])
    let url = try #require(Bundle.module.url(forResource: base, withExtension: ext, subdirectory: avFixtureDirectory),
                           "missing fixture \(name)")
    return [UInt8](try Data(contentsOf: url))
}

/// One probe driven to its end, as the worker drives it.
fileprivate struct AVRun {
    var format: MediaFormat?
    var result: FormatParse = .refused(code: "undetected", message: "")
    var requests: [(offset: Int64, length: Int)] = []
    var bytesRead = 0
    var ranges: Int { requests.count + 1 }
    var info: MediaInfo? {
        if case .described(let i) = result { return i }
        return nil
    }
    var refusalCode: String? {
        if case .refused(let code, _) = result { return code.rawValue }
        return nil
    }
}

/// Reads the first `head` bytes, detects (unless `format` is given), parses, and serves each
/// requested range from `bytes` (clipped to its end) for up to `maxRounds` reads in all. Every
/// request is checked to lie inside the object.
fileprivate func avProbe(_ bytes: [UInt8], head: Int = 64 * 1024, format: MediaFormat? = nil, sizeKnown: Bool = true,
                         limits: ProbeLimits = ProbeLimits(), maxRounds: Int = 8) -> AVRun {
    var run = AVRun()
    let first = Array(bytes.prefix(head))
    guard let f = format ?? AVProbe.detect(first[...]) else { return run }
    run.format = f
    var data = ProbeData(head: first, totalSize: sizeKnown ? Int64(bytes.count) : nil)
    var rounds = 1
    while true {
        let r = AVProbe.parse(f, data, limits: limits)
        run.result = r
        guard case .needBytes(let offset, let length) = r else { break }
        #expect(offset >= 0, "request at a negative offset")
        #expect(length > 0, "empty request")
        #expect(length <= 8 * 1024 * 1024, "request over 8 MiB")
        if sizeKnown {
            #expect(offset < Int64(bytes.count) && offset + Int64(length) <= Int64(bytes.count),
                    "request \(offset)+\(length) outside an object of \(bytes.count) bytes")
        }
        run.requests.append((offset, length))
        if rounds >= maxRounds || offset < 0 || length <= 0 { break }
        rounds += 1
        let start = Int(clamping: min(offset, Int64(bytes.count)))
        let end = Int(clamping: min(offset + Int64(length), Int64(bytes.count)))
        data.add(offset: offset, bytes: Array(bytes[start..<end]))
    }
    run.bytesRead = data.bytesRead
    return run
}

fileprivate func near(_ a: Double?, _ b: Double, tolerance: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance * b
}

// Bytes for synthetic files.
fileprivate func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
fileprivate func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * $0)) } }
fileprivate func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) } }
fileprivate func le16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
fileprivate func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }
fileprivate func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * $0)) } }
fileprivate func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
fileprivate func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(UInt32(8 + body.count)) + ascii(type) + body }
fileprivate func chunk(_ id: String, _ body: [UInt8]) -> [UInt8] { ascii(id) + le32(UInt32(body.count)) + body + (body.count % 2 == 1 ? [0] : []) }

// MARK: - Expected values (ffprobe's, see the README)

fileprivate struct AVExpect: Sendable, CustomTestStringConvertible {
    var file: String
    var detected: MediaFormat
    var format: MediaFormat
    var mime: String
    var codec: String
    var duration: Double
    var width: Int? = nil
    var height: Int? = nil
    var fps: Double? = nil
    var frames: Int? = nil
    var sampleRate: Int? = nil
    var channels: Int? = nil
    var bitDepth: Int? = nil
    /// Ranges read with a 64 KiB head.
    var ranges = 1
    var testDescription: String { file }
    var isVideo: Bool { width != nil }
}

fileprivate let avExpectations: [AVExpect] = [
    AVExpect(file: "mp4_faststart.mp4", detected: .mp4, format: .mp4, mime: "video/mp4", codec: "h264", duration: 1.0,
             width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "mp4_moov_end.mp4", detected: .mp4, format: .mp4, mime: "video/mp4", codec: "h264", duration: 1.0,
             width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "mp4_moov_end_big.mp4", detected: .mp4, format: .mp4, mime: "video/mp4", codec: "h264", duration: 0.48,
             width: 64, height: 48, fps: 25, frames: 12, ranges: 2),
    AVExpect(file: "mp4_fragmented.mp4", detected: .mp4, format: .mp4, mime: "video/mp4", codec: "h264", duration: 1.0,
             width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "mp4_fragmented_big.mp4", detected: .mp4, format: .mp4, mime: "video/mp4", codec: "h264", duration: 0.8,
             width: 64, height: 48, fps: 25, frames: 20, ranges: 2),
    AVExpect(file: "mov_mpeg4_pcm.mov", detected: .mov, format: .mov, mime: "video/quicktime", codec: "mpeg4", duration: 1.001,
             width: 64, height: 48, fps: 30000.0 / 1001.0, frames: 30),
    AVExpect(file: "webm_vp9_opus.webm", detected: .webm, format: .webm, mime: "video/webm", codec: "vp9", duration: 1.008,
             width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "webm_vp8.webm", detected: .webm, format: .webm, mime: "video/webm", codec: "vp8", duration: 1.0,
             width: 64, height: 48, fps: 30, frames: 30),
    // ffprobe: duration N/A (no Duration element); 25 frames at 25 fps end at 1.0 s.
    AVExpect(file: "webm_live.webm", detected: .webm, format: .webm, mime: "video/webm", codec: "vp8", duration: 1.0,
             width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "mkv_h264_vorbis.mkv", detected: .matroska, format: .matroska, mime: "video/x-matroska", codec: "h264",
             duration: 1.023, width: 64, height: 48, fps: 25, frames: 25),
    AVExpect(file: "m4a_aac.m4a", detected: .m4a, format: .m4a, mime: "audio/mp4", codec: "aac", duration: 1.0,
             sampleRate: 22050, channels: 2),
    // An `isom` MP4 with only an audio track: detected as mp4, described as m4a.
    AVExpect(file: "mp4_audio_only.mp4", detected: .mp4, format: .m4a, mime: "audio/mp4", codec: "aac", duration: 1.0,
             sampleRate: 44100, channels: 1),
    AVExpect(file: "wav_pcm16.wav", detected: .wav, format: .wav, mime: "audio/wav", codec: "pcm", duration: 1.0,
             sampleRate: 8000, channels: 1, bitDepth: 16),
    AVExpect(file: "wav_ext_24bit_6ch.wav", detected: .wav, format: .wav, mime: "audio/wav", codec: "pcm", duration: 0.5,
             sampleRate: 8000, channels: 6, bitDepth: 24),
    AVExpect(file: "mp3_cbr.mp3", detected: .mp3, format: .mp3, mime: "audio/mpeg", codec: "mp3", duration: 2.06375,
             sampleRate: 22050, channels: 1),
    AVExpect(file: "mp3_vbr.mp3", detected: .mp3, format: .mp3, mime: "audio/mpeg", codec: "mp3", duration: 2.037551,
             sampleRate: 44100, channels: 2),
    AVExpect(file: "mp3_id3_cover.mp3", detected: .mp3, format: .mp3, mime: "audio/mpeg", codec: "mp3", duration: 2.063673,
             sampleRate: 22050, channels: 1, ranges: 2),
    AVExpect(file: "flac_16.flac", detected: .flac, format: .flac, mime: "audio/flac", codec: "flac", duration: 1.0,
             sampleRate: 8000, channels: 1, bitDepth: 16),
    AVExpect(file: "ogg_vorbis.ogg", detected: .ogg, format: .ogg, mime: "audio/ogg", codec: "vorbis", duration: 1.0,
             sampleRate: 22050, channels: 1),
    // ffprobe says 1.0065 s: it counts Opus's 312-sample pre-skip, which RFC 7845 subtracts (1.0 s).
    AVExpect(file: "ogg_opus.opus", detected: .ogg, format: .ogg, mime: "audio/ogg", codec: "opus", duration: 1.0065,
             sampleRate: 48000, channels: 1),
]

fileprivate func checkValues(_ info: MediaInfo, _ e: AVExpect, durationTolerance: Double, frameSlack: Int = 0) {
    #expect(info.format == e.format, "\(e.file): format")
    #expect(info.mimeType == e.mime, "\(e.file): mime")
    #expect(info.codec == e.codec, "\(e.file): codec")
    #expect(near(info.duration, e.duration, tolerance: durationTolerance), "\(e.file): duration \(String(describing: info.duration)) vs \(e.duration)")
    #expect(info.width == e.width, "\(e.file): width")
    #expect(info.height == e.height, "\(e.file): height")
    if let fps = e.fps {
        #expect(near(info.fps, fps, tolerance: 1e-9), "\(e.file): fps \(String(describing: info.fps))")
    } else {
        #expect(info.fps == nil)
    }
    if let frames = e.frames {
        #expect(info.frameCount.map { abs($0 - frames) <= frameSlack } == true, "\(e.file): frames \(String(describing: info.frameCount)) vs \(frames)")
    } else {
        #expect(info.frameCount == nil)
    }
    #expect(info.sampleRate == e.sampleRate, "\(e.file): sample rate")
    #expect(info.channels == e.channels, "\(e.file): channels")
    #expect(info.bitDepth == e.bitDepth, "\(e.file): bit depth")
}

// MARK: - Tests

@Suite struct AVProbeTests {
    @Test(arguments: avExpectations)
    fileprivate func describesFixture(_ e: AVExpect) throws {
        let bytes = try avFixture(e.file)
        #expect(bytes.count < 100_000)
        #expect(AVProbe.detect(bytes.prefix(64 * 1024)) == e.detected)
        let run = avProbe(bytes)
        let info = try #require(run.info, "\(e.file): \(run.result)")
        checkValues(info, e, durationTolerance: 0.01)
        #expect(info.size == Int64(bytes.count))
        #expect(run.ranges == e.ranges, "\(e.file): \(run.ranges) ranges read: \(run.requests)")
        if !e.isVideo {
            // Audio headers: the usual case fits in the 64 KiB head; a 70 KB cover costs one 16 KiB read more.
            #expect(run.bytesRead <= 64 * 1024 + (e.ranges > 1 ? 16 * 1024 : 0), "\(e.file): \(run.bytesRead) bytes read")
        }
    }

    /// Heads far smaller than 64 KiB force every follow-up path (moov past the head, SeekHead
    /// jumps, tails); the answers must not change (frame counts may become duration × rate).
    @Test(arguments: avExpectations)
    fileprivate func describesFixtureFromSmallHeads(_ e: AVExpect) throws {
        let bytes = try avFixture(e.file)
        for head in [48, 300, 1500, 6000] {
            let run = avProbe(bytes, head: head, format: e.detected)
            let info = try #require(run.info, "\(e.file) head \(head): \(run.result)")
            checkValues(info, e, durationTolerance: 0.02, frameSlack: 1)
            #expect(run.ranges <= 4, "\(e.file) head \(head): \(run.requests)")
        }
    }

    @Test func moovAtTheEndIsReadWithOneMoreRange() throws {
        let bytes = try avFixture("mp4_moov_end_big.mp4")
        #expect(bytes.count > 64 * 1024)
        let run = avProbe(bytes, maxRounds: 2)
        #expect(run.info?.frameCount == 12)
        #expect(run.ranges == 2)
        // The read starts where the box after the huge mdat starts, and runs to the end.
        let request = try #require(run.requests.first)
        #expect(request.offset > 64 * 1024)
        #expect(request.offset + Int64(request.length) == Int64(bytes.count))
        #expect(Array(bytes[Int(request.offset) + 4..<Int(request.offset) + 8]) == ascii("moov"))
    }

    @Test func moovAtTheEndWithUnknownSize() throws {
        let bytes = try avFixture("mp4_moov_end_big.mp4")
        let run = avProbe(bytes, sizeKnown: false)
        #expect(run.info?.frameCount == 12)
        #expect(run.ranges == 2)
    }

    @Test func fragmentedMP4FromTheTail() throws {
        // With a 1 KiB head: the tail (mfra) names the last moof, which is read too.
        let bytes = try avFixture("mp4_fragmented_big.mp4")
        let run = avProbe(bytes, head: 1024)
        let info = try #require(run.info)
        #expect(run.ranges == 3, "\(run.requests)")
        #expect(near(info.duration, 0.8, tolerance: 1e-9))
        #expect(info.fps == 25)
        #expect(info.frameCount == 20)
        #expect(run.ranges <= AVProbe.maxRounds)
    }

    @Test func oggDurationFromTheTail() throws {
        for file in ["ogg_vorbis.ogg", "ogg_opus.opus"] {
            let bytes = try avFixture(file)
            let run = avProbe(bytes, head: 1024)
            #expect(run.ranges == 2)
            let request = try #require(run.requests.first)
            #expect(request.offset + Int64(request.length) == Int64(bytes.count))
            #expect(request.length <= 64 * 1024)
            #expect(near(run.info?.duration, 1.0, tolerance: 0.01), "\(file)")
        }
    }

    @Test func detectsNothingForOtherFormats() {
        let samples: [[UInt8]] = [
            [],
            [0x89] + ascii("PNG\r\n\u{1A}\n") + [0, 0, 0, 13],
            [0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + ascii("JFIF"),
            ascii("%PDF-1.7\n"),
            ascii("hello, world\n"),
            be32(28) + ascii("ftypavif") + be32(0) + ascii("avifmif1miaf"),
            be32(24) + ascii("ftypheic") + be32(0) + ascii("mif1heic"),
            [0xFF, 0xFB],  // a lone sync word
            [0xFF, 0xF1, 0x50, 0x80, 0x01, 0x1F, 0xFC],  // AAC ADTS, not MPEG audio
        ]
        for s in samples { #expect(AVProbe.detect(s[...]) == nil, "\(s.prefix(12))") }
        // EBML with a DocType that is neither webm nor matroska.
        let ebml: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0x86, 0x42, 0x82, 0x83] + ascii("foo")
        #expect(AVProbe.detect(ebml[...]) == nil)
        // A slice that does not start at index 0.
        let padded = try? avFixture("flac_16.flac")
        if let p = padded { #expect(AVProbe.detect(([0, 0, 0] + p)[3...]) == .flac) }
    }

    @Test func refusesVideoOverTheDimensionLimits() throws {
        var small = ProbeLimits()
        small.maxDimension = 32
        for file in ["mp4_faststart.mp4", "webm_vp9_opus.webm", "mkv_h264_vorbis.mkv", "mov_mpeg4_pcm.mov"] {
            #expect(avProbe(try avFixture(file), limits: small).refusalCode == "dimensions_exceed_limit", "\(file)")
        }
        var fewPixels = ProbeLimits()
        fewPixels.maxPixels = 64 * 48 - 1
        #expect(avProbe(try avFixture("mp4_moov_end_big.mp4"), limits: fewPixels).refusalCode == "dimensions_exceed_limit")
    }

    @Test func refusesObjectsOverTheSizeLimit() throws {
        var limits = ProbeLimits()
        limits.maxObjectBytes = 1000
        #expect(avProbe(try avFixture("wav_pcm16.wav"), limits: limits).refusalCode == "too_large")
    }

    @Test func refusesAnMP4WithoutAudioOrVideo() {
        let mvhd = box("mvhd", [0, 0, 0, 0] + be32(0) + be32(0) + be32(1000) + be32(5000) + [UInt8](repeating: 0, count: 80))
        let hdlr = box("hdlr", [0, 0, 0, 0] + be32(0) + ascii("text") + [UInt8](repeating: 0, count: 13))
        let mdhd = box("mdhd", [0, 0, 0, 0] + be32(0) + be32(0) + be32(1000) + be32(5000) + [0, 0, 0, 0])
        let trak = box("trak", box("mdia", mdhd + hdlr))
        let file = box("ftyp", ascii("isom") + be32(0x200) + ascii("isommp41")) + box("moov", mvhd + trak)
        #expect(AVProbe.detect(file[...]) == .mp4)
        #expect(avProbe(file).refusalCode == "unsupported_type")
    }

    @Test func refusesAHugeMoovWithoutReadingIt() {
        let ftyp = box("ftyp", ascii("isom") + be32(0x200) + ascii("isom"))
        let moovSize: UInt32 = 9 * 1024 * 1024
        let head = ftyp + be32(moovSize) + ascii("moov") + [UInt8](repeating: 0, count: 100)
        let data = ProbeData(head: head, totalSize: Int64(ftyp.count) + Int64(moovSize))
        guard case .refused(let code, let message) = AVProbe.parse(.mp4, data, limits: ProbeLimits()) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(code == "corrupt")
        #expect(message.contains("moov box too large"))
    }

    @Test func refusesHostile64BitBoxSizes() {
        let ftyp = box("ftyp", ascii("isom") + be32(0x200) + ascii("isom"))
        for large: UInt64 in [.max, UInt64(Int64.max), UInt64(Int64.max) - 8, 3, 0] {
            let file = ftyp + be32(1) + ascii("mdat") + be64(large) + [UInt8](repeating: 0, count: 64)
            for total: Int64? in [Int64(file.count), nil, Int64.max] {
                let r = AVProbe.parse(.mp4, ProbeData(head: file, totalSize: total), limits: ProbeLimits())
                switch r {
                case .refused: break
                case .needBytes(let offset, let length): #expect(offset >= 0 && length > 0)
                case .described: Issue.record("described a file without moov")
                }
            }
        }
    }

    @Test func mp3WithAVBRIHeader() {
        // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo: 417-byte frames. VBRI 32 bytes after the header.
        let header: [UInt8] = [0xFF, 0xFB, 0x90, 0x00]
        var first = header + [UInt8](repeating: 0, count: 32) + ascii("VBRI") + be16(1) + be16(0) + be16(75)
            + be32(500_000) + be32(1000)
        first += [UInt8](repeating: 0, count: 417 - first.count)
        let second = header + [UInt8](repeating: 0, count: 413)
        let file = first + second + second
        #expect(AVProbe.detect(file[...]) == .mp3)
        let info = avProbe(file).info
        #expect(info?.sampleRate == 44100)
        #expect(info?.channels == 2)
        #expect(near(info?.duration, 1000 * 1152 / 44100, tolerance: 1e-9))
    }

    @Test func flacBehindAnID3Tag() throws {
        let flac = try avFixture("flac_16.flac")
        let file = ascii("ID3") + [3, 0, 0, 0, 0, 0, 20] + [UInt8](repeating: 0, count: 20) + flac
        #expect(AVProbe.detect(file[...]) == .flac)
        let info = avProbe(file).info
        #expect(info?.format == .flac)
        #expect(info?.sampleRate == 8000)
        #expect(info?.bitDepth == 16)
        #expect(near(info?.duration, 1.0, tolerance: 1e-9))
    }

    @Test func wavWithDataPastTheHead() {
        // 70 KB of LIST metadata before `data`: the chunk sizes say where to read.
        let fmt = chunk("fmt ", le16(1) + le16(2) + le32(44100) + le32(176_400) + le16(4) + le16(16))
        let list = chunk("LIST", ascii("INFO") + [UInt8](repeating: 0x20, count: 70_000))
        let dataBytes = 441_000  // 2.5 s
        let body = ascii("WAVE") + fmt + list + ascii("data") + le32(UInt32(dataBytes)) + [UInt8](repeating: 0, count: dataBytes)
        let file = ascii("RIFF") + le32(UInt32(body.count)) + body
        let run = avProbe(file)
        #expect(run.ranges == 2)
        #expect(run.bytesRead <= 64 * 1024 + 16 * 1024)
        #expect(run.info?.channels == 2)
        #expect(near(run.info?.duration, 2.5, tolerance: 1e-9))
    }

    @Test func rf64WithA64BitDataSize() {
        let dataSize: UInt64 = 6_000_000_000
        let ds64 = chunk("ds64", le64(dataSize + 100) + le64(dataSize) + le64(dataSize / 2) + le32(0))
        let fmt = chunk("fmt ", le16(1) + le16(1) + le32(48000) + le32(96000) + le16(2) + le16(16))
        let head = ascii("RF64") + le32(.max) + ascii("WAVE") + ds64 + fmt + ascii("data") + le32(.max)
        #expect(AVProbe.detect(head[...]) == .wav)
        let data = ProbeData(head: head, totalSize: Int64(head.count) + Int64(dataSize))
        guard case .described(let info) = AVProbe.parse(.wav, data, limits: ProbeLimits()) else {
            Issue.record("not described")
            return
        }
        #expect(near(info.duration, 62_500, tolerance: 1e-9))
        #expect(info.bitDepth == 16)
    }

    @Test func refusesOggVideo() {
        let packet = [0x80] + ascii("theora") + [UInt8](repeating: 0, count: 35)
        let page = ascii("OggS") + [0, 2] + le64(0) + le32(1) + le32(0) + le32(0) + [1, UInt8(packet.count)] + packet
        #expect(AVProbe.detect(page[...]) == .ogg)
        #expect(avProbe(page).refusalCode == "unsupported_type")
    }

    /// Without a total size (no Content-Range) the same files are still described: values that
    /// need the size (CBR MP3 and Ogg durations, tails) may be missing, nothing else changes.
    @Test(arguments: avExpectations)
    fileprivate func describesFixtureWithoutTotalSize(_ e: AVExpect) throws {
        let run = avProbe(try avFixture(e.file), sizeKnown: false)
        let info = try #require(run.info, "\(e.file): \(run.result)")
        #expect(info.format == e.format)
        #expect(info.codec == e.codec)
        #expect(info.width == e.width)
        #expect(info.sampleRate == e.sampleRate)
        #expect(info.channels == e.channels)
        if let d = info.duration { #expect(near(d, e.duration, tolerance: 0.02), "\(e.file)") }
        #expect(run.ranges <= 2)
    }

    /// Tails stuffed with fake page, box and Cluster headers cost bounded work.
    @Test func hostileTailsStayCheap() throws {
        let clock = ContinuousClock()
        let started = clock.now
        // Ogg: a real first page, then 200 KB of fake pages of the same stream with bad CRCs.
        let ogg = try avFixture("ogg_vorbis.ogg")
        let serial = Array(ogg[14..<18])
        var fake = ascii("OggS") + [0, 0] + le64(1000) + serial + le32(0) + le32(0xDEAD) + [1, 200]
        fake += [UInt8](repeating: 0x4F, count: 200)
        var file = Array(ogg.prefix(4000))
        while file.count < 200_000 { file += fake }
        var run = avProbe(file)
        #expect(run.info?.duration == nil)
        // MP4 (fragmented): a tail of fake `moof`/`mfhd` headers.
        let frag = try avFixture("mp4_fragmented.mp4")
        let moofLike = be32(60_000) + ascii("moof") + be32(16) + ascii("mfhd") + [UInt8](repeating: 0, count: 8)
        file = Array(frag.prefix(778)) + box("mdat", [UInt8](repeating: 0, count: 100_000))
        while file.count < 200_000 { file += moofLike }
        run = avProbe(file)
        #expect(run.info?.width == 64)
        // WebM without Duration: a tail of fake Cluster IDs, each with a Timecode child.
        let live = try avFixture("webm_live.webm")
        let clusterLike: [UInt8] = [0x1F, 0x43, 0xB6, 0x75, 0x01, 0, 0, 0, 0, 0, 0xFF, 0xF0, 0xE7, 0x81, 0x05]
        file = Array(live)
        while file.count < 200_000 { file += clusterLike }
        run = avProbe(file)
        #expect(run.info?.width == 64)
        #expect(clock.now - started < .seconds(20))
    }

    /// The object itself cut short at many lengths (the server reports the cut length): every
    /// answer is a refusal, a description, or a read inside the object.
    @Test(arguments: avExpectations)
    fileprivate func truncatedObjectsNeverTrap(_ e: AVExpect) throws {
        let bytes = try avFixture(e.file)
        var lengths = Array(0..<min(bytes.count, 320))
        lengths += Array(stride(from: 320, to: bytes.count, by: 173))
        for n in lengths {
            let cut = Array(bytes.prefix(n))
            _ = avProbe(cut, format: e.detected)
            _ = avProbe(cut, head: 200, format: e.detected)
            if n % 7 == 0 { _ = avProbe(cut, format: e.detected, sizeKnown: false) }
        }
    }

    /// ~2000 seeded mutations of the fixtures (bytes overwritten with random values, 0x00, 0xFF,
    /// huge sizes; cuts; duplicated runs) through detect and parse: all must end.
    @Test func seededFuzzTerminates() throws {
        let files = try avExpectations.map { try avFixture($0.file) }
        var rng = SplitMix64(seed: 0x5EED_A0D1)
        var described = 0, refused = 0, unfinished = 0
        for i in 0..<2000 {
            let k = i % files.count
            var b = files[k]
            let edits = Int.random(in: 1...8, using: &rng)
            for _ in 0..<edits where !b.isEmpty {
                // Mostly in the headers (first 2 KiB), sometimes anywhere.
                let p = Bool.random(using: &rng) || b.count < 2048 ? Int.random(in: 0..<min(b.count, 2048), using: &rng)
                                                                  : Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<7, using: &rng) {
                case 0: b[p] = UInt8.random(in: 0...255, using: &rng)
                case 1: b[p] = 0xFF
                case 2: b[p] = 0
                case 3: for j in p..<min(b.count, p + 8) { b[j] = 0xFF }
                case 4: for j in p..<min(b.count, p + 4) { b[j] = UInt8.random(in: 0...255, using: &rng) }
                case 5: b.removeLast(Int.random(in: 0...(b.count - p), using: &rng))
                default:
                    let len = min(b.count - p, Int.random(in: 1...64, using: &rng))
                    b.insert(contentsOf: b[p..<(p + len)], at: p)
                }
            }
            let head = [48, 1024, 64 * 1024][Int.random(in: 0..<3, using: &rng)]
            let sizeKnown = Int.random(in: 0..<5, using: &rng) != 0
            // Parse as the detected format, or (when detection fails) as the original one.
            let format = AVProbe.detect(b.prefix(head)) ?? avExpectations[k].detected
            let run = avProbe(b, head: head, format: format, sizeKnown: sizeKnown, maxRounds: 4)
            switch run.result {
            case .described(let info):
                described += 1
                if let d = info.duration { #expect(d.isFinite && d >= 0) }
                if let f = info.fps { #expect(f.isFinite && f > 0) }
            case .refused: refused += 1
            case .needBytes: unfinished += 1
            }
        }
        #expect(described + refused + unfinished == 2000)
        #expect(described > 200)
        #expect(refused > 20)
    }
}
