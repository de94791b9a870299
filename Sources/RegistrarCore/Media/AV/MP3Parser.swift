// MPEG audio (MP3, and Layer I/II): ID3v2 tags skipped by their syncsafe sizes, the first frame
// header, then the Xing/Info or VBRI header in that frame for the frame count; without one the
// stream is taken as constant bit rate and its duration comes from the object's size.

/// One MPEG audio frame header.
struct MP3Frame {
    /// 1 (MPEG-1), 2 (MPEG-2) or 25 (MPEG-2.5).
    let version: Int
    let layer: Int
    let bitrate: Int
    let sampleRate: Int
    let channels: Int
    let protected: Bool
    /// Bytes in the frame, header included.
    let length: Int
    let samplesPerFrame: Int

    static let bitratesV1: [[Int]] = [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    ]
    static let sampleRates = [44100, 48000, 32000]
    static let bitratesV2: [[Int]] = [
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ]

    /// The header at `n` bytes from the start of `r`'s slice, if valid (free-format bit rates
    /// and reserved values are not).
    init?(_ r: AVByteReader, at n: Int) {
        guard let h = r.uintBE(at: n, 4).map({ UInt32($0) }) else { return nil }
        guard h & 0xFFE0_0000 == 0xFFE0_0000 else { return nil }
        let versionBits = (h >> 19) & 3, layerBits = (h >> 17) & 3
        let bitrateIndex = Int((h >> 12) & 0xF), rateIndex = Int((h >> 10) & 3)
        guard versionBits != 1, layerBits != 0, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else { return nil }
        version = versionBits == 3 ? 1 : versionBits == 2 ? 2 : 25
        layer = 4 - Int(layerBits)
        let table = version == 1 ? MP3Frame.bitratesV1 : MP3Frame.bitratesV2
        bitrate = table[layer - 1][bitrateIndex] * 1000
        sampleRate = MP3Frame.sampleRates[rateIndex] / (version == 1 ? 1 : version == 2 ? 2 : 4)
        channels = (h >> 6) & 3 == 3 ? 1 : 2
        protected = (h >> 16) & 1 == 0
        let padding = Int((h >> 9) & 1)
        switch layer {
        case 1:
            samplesPerFrame = 384
            length = (12 * bitrate / sampleRate + padding) * 4
        case 2:
            samplesPerFrame = 1152
            length = 144 * bitrate / sampleRate + padding
        default:
            samplesPerFrame = version == 1 ? 1152 : 576
            length = (version == 1 ? 144 : 72) * bitrate / sampleRate + padding
        }
        guard length >= 4 else { return nil }
    }

    /// Whether `other` belongs to the same stream (same version, layer and sample rate).
    func matches(_ other: MP3Frame) -> Bool {
        version == other.version && layer == other.layer && sampleRate == other.sampleRate
    }
}

enum MP3Parser {
    /// How far past the tags a first frame is looked for.
    static let syncSearch = 64 * 1024
    /// Read after a tag that ends beyond the bytes held.
    static let audioRead = 16 * 1024

    /// The total size of the ID3v2 tag at the start of `r` (header, body and footer), or nil
    /// when the header is not a valid one.
    static func id3Size(_ r: AVByteReader, at n: Int = 0) -> Int64? {
        guard r.matches(Array("ID3".utf8), at: n), let v = r.byte(at: n + 3), v >= 2, v <= 4, v != 0xFF,
              let flags = r.byte(at: n + 5) else { return nil }
        var size: Int64 = 0
        for i in 0..<4 {
            guard let b = r.byte(at: n + 6 + i), b < 0x80 else { return nil }
            size = (size << 7) | Int64(b)
        }
        return 10 + size + (v == 4 && flags & 0x10 != 0 ? 10 : 0)
    }

    static func parse(_ src: AVSource) -> FormatParse {
        var offset: Int64 = 0
        var tags = 0
        while tags < 16 {
            guard let r = src.reader(at: offset, count: 10) else {
                if tags > 0, let req = src.request(offset, audioRead) { return req }
                if tags > 0 { return corrupt("no audio after the ID3v2 tag") }
                return corrupt("the file is too short for MPEG audio")
            }
            guard r.matches(Array("ID3".utf8)) else { break }
            guard let size = id3Size(r) else { return corrupt("ID3v2 tag header is invalid") }
            guard let next = avAdd(offset, size) else { return corrupt("ID3v2 tag size is invalid") }
            offset = next
            tags += 1
        }
        if let t = src.total, offset >= t { return corrupt("no audio after the ID3v2 tag") }
        if let r = src.reader(at: offset, count: 4), r.matches(Array("fLaC".utf8)) { return FLACParser.parse(src, at: offset) }

        // The first frame whose successor is a frame of the same stream (or that ends the object).
        var found: (reader: AVByteReader, frame: MP3Frame)?
        var p = offset
        let searchEnd = offset + Int64(syncSearch)
        search: while p < searchEnd, found == nil {
            guard let run = src.reader(at: p, upTo: Int(searchEnd - p) + 3), run.remaining >= 4 else {
                if let req = src.request(p, audioRead) { return req }
                break
            }
            let bytes = run.bytes
            for i in 0...(bytes.count - 4) where bytes[bytes.startIndex + i] == 0xFF {
                guard let f = MP3Frame(run, at: i) else { continue }
                let fs = run.base + Int64(i)
                guard let fr = src.reader(at: fs, upTo: f.length + 8) else { continue }
                if fr.remaining >= f.length + 4 {
                    if let n = MP3Frame(fr, at: f.length), n.matches(f) { found = (fr, f); break search }
                    continue
                }
                if let t = src.total, fs + Int64(f.length) >= t { found = (fr, f); break search }
                if let req = src.request(fs, audioRead) { return req }
                found = (fr, f)
                break search
            }
            let next = run.base + Int64(bytes.count - 3)
            if next <= p { break }
            p = next
        }
        guard let (frameReader, frame) = found else { return corrupt("no MPEG audio frame found") }
        let frameStart = frameReader.base

        var info = MediaInfo()
        info.format = .mp3
        info.mimeType = "audio/mpeg"
        info.codec = frame.layer == 3 ? "mp3" : frame.layer == 2 ? "mp2" : "mp1"
        info.sampleRate = frame.sampleRate
        info.channels = frame.channels
        info.size = src.total

        if let frames = vbrFrames(frameReader, at: 0, frame) {
            info.duration = avPositive(Double(frames) * Double(frame.samplesPerFrame) / Double(frame.sampleRate))
        } else if let t = src.total, t > frameStart {
            var end = t
            // An ID3v1 tag at the very end, when held.
            if t >= 128, let tag = src.reader(at: t - 128, count: 3), tag.matches(Array("TAG".utf8)) { end -= 128 }
            info.duration = avPositive(Double(end - frameStart) * 8 / Double(frame.bitrate))
        }
        return .described(info)
    }

    /// The frame count of a Xing/Info or VBRI header in the frame at `at`, if any.
    static func vbrFrames(_ r: AVByteReader, at: Int, _ f: MP3Frame) -> UInt32? {
        let side: Int
        if f.version == 1 { side = f.channels == 1 ? 17 : 32 } else { side = f.channels == 1 ? 9 : 17 }
        for x in [at + 4 + side, at + 4 + side + 2] where f.layer == 3 {
            if r.matches(Array("Xing".utf8), at: x) || r.matches(Array("Info".utf8), at: x) {
                guard let flags = r.uintBE(at: x + 4, 4) else { return nil }
                guard flags & 1 != 0, let n = r.uintBE(at: x + 8, 4), n > 0 else { return nil }
                return UInt32(n)
            }
        }
        let v = at + 4 + 32
        if r.matches(Array("VBRI".utf8), at: v), let n = r.uintBE(at: v + 14, 4), n > 0 { return UInt32(n) }
        return nil
    }

    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }
}
