// WAV (RIFF/WAVE, and RF64/BW64 for files over 4 GiB): the chunk walk to `fmt ` and `data`. The
// `data` chunk's size gives the duration, so its bytes are never read; when chunks before it
// (LIST, bext, JUNK…) push its header past the head, their sizes say where to read next.

enum WAVParser {
    /// Read when a chunk header lies past the bytes held (the next few chunk headers fit).
    static let chunkRead = 16 * 1024

    struct Format {
        var tag: UInt16 = 0
        var channels = 0
        var sampleRate = 0
        var byteRate = 0
        var blockAlign = 0
        var bitsPerSample = 0
    }

    static func parse(_ src: AVSource) -> FormatParse {
        guard let h = src.reader(at: 0, count: 12) else { return corrupt("the RIFF header is truncated") }
        let rf64 = h.matches(Array("RF64".utf8)) || h.matches(Array("BW64".utf8))
        guard h.matches(Array("RIFF".utf8)) || rf64, h.matches(Array("WAVE".utf8), at: 8) else {
            return corrupt("not a RIFF/WAVE file")
        }
        var fmt: Format?
        var dataStart: Int64?
        var dataSize: Int64?
        var ds64Data: Int64?
        var factSamples: UInt32?
        var offset: Int64 = 12
        var steps = 0
        walk: while steps < 100_000, fmt == nil || dataSize == nil {
            steps += 1
            guard let headerEnd = avAdd(offset, 8) else { break }
            if let t = src.total, headerEnd > t { break }
            guard let ch = src.reader(at: offset, count: 8) else {
                if let req = src.request(offset, chunkRead) { return req }
                break
            }
            let id = avASCII(ch.bytes.prefix(4), max: 4)
            let size = Int64(ch.uintLE(at: 4, 4)!)
            let body = offset + 8
            switch id {
            case "fmt ":
                let want = Int(min(size, 40))
                guard want >= 14 else { return corrupt("the fmt chunk is too short") }
                guard let r = src.reader(at: body, count: want) else {
                    if let req = src.request(offset, 8 + want) { return req }
                    return corrupt("the fmt chunk is truncated")
                }
                var f = Format()
                f.tag = UInt16(r.uintLE(at: 0, 2)!)
                f.channels = Int(r.uintLE(at: 2, 2)!)
                f.sampleRate = Int(r.uintLE(at: 4, 4)!)
                f.byteRate = Int(r.uintLE(at: 8, 4)!)
                f.blockAlign = Int(r.uintLE(at: 12, 2)!)
                f.bitsPerSample = Int(r.uintLE(at: 14, 2) ?? 0)
                if f.tag == 0xFFFE, let cb = r.uintLE(at: 16, 2), cb >= 22, let sub = r.uintLE(at: 24, 2) {
                    f.tag = UInt16(sub)  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first two bytes
                }
                fmt = f
            case "data":
                dataStart = body
                var s = size
                if rf64, size == 0xFFFF_FFFF, let d = ds64Data { s = d }
                if !rf64, size == 0xFFFF_FFFF || size == 0, let t = src.total { s = t - body }  // streamed
                if let t = src.total, s > t - body { s = max(0, t - body) }  // truncated: what is there
                dataSize = s
                if fmt != nil { break walk }
                if rf64, size == 0xFFFF_FFFF, ds64Data == nil { return corrupt("RF64 file without a ds64 chunk") }
            case "ds64":
                guard let r = src.reader(at: body, count: 16) else {
                    if let req = src.request(offset, 8 + 28) { return req }
                    return corrupt("the ds64 chunk is truncated")
                }
                ds64Data = avInt64(r.uintLE(at: 8, 8)!)
            case "fact":
                if let r = src.reader(at: body, count: 4) { factSamples = UInt32(r.uintLE(at: 0, 4)!) }
            default:
                break
            }
            var next = avAdd(body, size)
            if id == "data", rf64, size == 0xFFFF_FFFF, let d = ds64Data { next = avAdd(body, d) }
            guard let n = next.flatMap({ avAdd($0, size & 1) }), n > offset else { break }
            offset = n
        }
        guard let f = fmt else { return corrupt("no fmt chunk") }
        guard f.channels > 0 else { return corrupt("the fmt chunk declares 0 channels") }
        guard f.sampleRate > 0 else { return corrupt("the fmt chunk declares a sample rate of 0") }

        var info = MediaInfo()
        info.format = .wav
        info.mimeType = "audio/wav"
        info.sampleRate = f.sampleRate
        info.channels = f.channels
        info.codec = codecName(f.tag)
        let pcm = f.tag == 1 || f.tag == 3
        if pcm || f.tag == 6 || f.tag == 7, f.bitsPerSample > 0 { info.bitDepth = f.bitsPerSample }
        if let size = dataSize, dataStart != nil {
            var align = f.blockAlign
            if pcm, align == 0 { align = f.channels * ((f.bitsPerSample + 7) / 8) }
            if pcm || f.tag == 6 || f.tag == 7, align > 0 {
                info.duration = Double(size / Int64(align)) / Double(f.sampleRate)
            } else if let n = factSamples, n > 0 {
                info.duration = Double(n) / Double(f.sampleRate)
            } else if f.byteRate > 0 {
                info.duration = Double(size) / Double(f.byteRate)
            }
        }
        return .described(info)
    }

    static func codecName(_ tag: UInt16) -> String {
        switch tag {
        case 0x0001: return "pcm"
        case 0x0003: return "pcm_float"
        case 0x0002: return "adpcm_ms"
        case 0x0006: return "alaw"
        case 0x0007: return "mulaw"
        case 0x0011: return "adpcm_ima"
        case 0x0031: return "gsm_ms"
        case 0x0050: return "mp2"
        case 0x0055: return "mp3"
        case 0x00FF, 0x1610: return "aac"
        case 0xF1AC: return "flac"
        default:
            let hex = String(tag, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }

    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }
}
