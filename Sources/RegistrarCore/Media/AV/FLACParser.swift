// FLAC: the `fLaC` marker and the STREAMINFO block that must follow it (sample rate, channels,
// bits per sample, total samples → duration).

/// What a FLAC STREAMINFO block says.
struct FLACStreamInfo {
    let sampleRate: Int
    let channels: Int
    let bitsPerSample: Int
    let totalSamples: UInt64

    /// The 34-byte STREAMINFO body.
    init?(_ body: ArraySlice<UInt8>) {
        var bits = AVBitReader(body)
        guard bits.read(16) != nil, bits.read(16) != nil, bits.read(24) != nil, bits.read(24) != nil,
              let rate = bits.read(20), let ch = bits.read(3), let bps = bits.read(5),
              let hi = bits.read(4), let lo = bits.read(32) else { return nil }
        guard rate > 0 else { return nil }
        sampleRate = Int(rate)
        channels = Int(ch) + 1
        bitsPerSample = Int(bps) + 1
        totalSamples = (UInt64(hi) << 32) | UInt64(lo)
    }

    var duration: Double? {
        totalSamples > 0 ? Double(totalSamples) / Double(sampleRate) : nil
    }
}

enum FLACParser {
    /// Parses native FLAC whose `fLaC` marker is at `start` (0, or after an ID3v2 tag).
    static func parse(_ src: AVSource, at start: Int64) -> FormatParse {
        guard let r = src.reader(at: start, count: 42) else {
            if let req = src.request(start, 4096) { return req }
            return .refused(code: .corrupt, message: "the FLAC header is truncated")
        }
        guard r.matches(Array("fLaC".utf8)) else {
            return .refused(code: .corrupt, message: "no fLaC marker")
        }
        guard let type = r.byte(at: 4), type & 0x7F == 0, let length = r.uintBE(at: 5, 3), length >= 34 else {
            return .refused(code: .corrupt, message: "the first FLAC metadata block is not STREAMINFO")
        }
        guard let si = FLACStreamInfo(r.bytes.suffix(34)) else {
            return .refused(code: .corrupt, message: "FLAC STREAMINFO has a sample rate of 0")
        }
        var info = MediaInfo()
        info.format = .flac
        info.mimeType = "audio/flac"
        info.codec = "flac"
        info.sampleRate = si.sampleRate
        info.channels = si.channels
        info.bitDepth = si.bitsPerSample
        info.duration = si.duration
        return .described(info)
    }
}
