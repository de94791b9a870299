// Ogg (Vorbis, Opus, FLAC, Speex): the beginning-of-stream pages name each logical stream's
// codec by its first packet; the first audio stream's identification header gives channels and
// sample rate. The duration is the granule position of that stream's last page, found in the last
// 64 KiB of the object (an Ogg page is at most 65 307 bytes, so its header always lies there).

/// One Ogg page header.
struct OggPage {
    let headerType: UInt8
    let granule: UInt64
    let serial: UInt32
    let headerLength: Int
    let bodyLength: Int
    /// Length of the first packet when it ends on this page.
    let firstPacketLength: Int?

    var length: Int { headerLength + bodyLength }
    var isBeginning: Bool { headerType & 0x02 != 0 }

    /// The page header at `n` bytes into `r`'s slice, if the whole header is held and valid.
    init?(_ r: AVByteReader, at n: Int) {
        guard r.matches(Array("OggS".utf8), at: n), r.byte(at: n + 4) == 0,
              let type = r.byte(at: n + 5), let g = r.uintLE(at: n + 6, 8), let s = r.uintLE(at: n + 14, 4),
              let segs = r.byte(at: n + 26) else { return nil }
        headerLength = 27 + Int(segs)
        guard r.byte(at: n + headerLength - 1) != nil || segs == 0 else { return nil }
        var body = 0
        var first: Int?
        for i in 0..<Int(segs) {
            let lace = Int(r.byte(at: n + 27 + i)!)
            body += lace
            if first == nil, lace < 255 { first = body }
        }
        headerType = type
        granule = g
        serial = UInt32(s)
        bodyLength = body
        firstPacketLength = first
    }
}

enum OggParser {
    static let tailRead: Int64 = 64 * 1024

    enum Codec { case vorbis, opus, flac, speex, video(String), other }

    struct Stream {
        var serial: UInt32 = 0
        var codec: Codec = .other
        var sampleRate = 0
        var channels = 0
        var preSkip = 0
        var bitDepth: Int?
    }

    static func parse(_ src: AVSource) -> FormatParse {
        var pos: Int64 = 0
        var audio: Stream?
        var video: String?
        var pages = 0
        while pages < 64 {
            pages += 1
            if let t = src.total, pos >= t { break }
            let held = src.reader(at: pos, upTo: 27 + 255)
            guard let hr = held, let page = OggPage(hr, at: 0) else {
                let have = held?.remaining ?? 0
                let need = 27 + Int(held?.byte(at: 26) ?? 255)
                let atEnd = src.total.map { pos + Int64(have) >= $0 } ?? false
                if have >= 27 && have >= need || atEnd || have >= 5 && held?.matches(Array("OggS".utf8)) != true {
                    if pages == 1 { return corrupt("no Ogg page at the start") }
                    break
                }
                if pages > 1 { break }  // further beginning pages past the head are not chased
                if let req = src.request(pos, Int(tailRead)) { return req }
                return corrupt("the first Ogg page is truncated")
            }
            if pages == 1, !page.isBeginning { return corrupt("the first Ogg page does not begin a stream") }
            guard page.isBeginning else { break }
            if let len = page.firstPacketLength, let body = src.reader(at: pos + Int64(page.headerLength), count: len) {
                let s = identify(body, serial: page.serial)
                switch s.codec {
                case .video(let name): video = video ?? name
                case .other: break
                default: if audio == nil { audio = s }
                }
            } else if page.firstPacketLength != nil, pages == 1 {
                if let req = src.request(pos, page.length) { return req }
                return corrupt("the first Ogg page is truncated")
            }
            pos += Int64(page.length)
        }
        guard var stream = audio else {
            if let v = video { return .refused(code: .unsupportedType, message: "Ogg video (\(v)) is not supported") }
            return .refused(code: .unsupportedType, message: "the Ogg stream carries no Vorbis, Opus, FLAC or Speex audio")
        }
        if stream.sampleRate <= 0 || stream.channels <= 0 {
            return corrupt("the audio identification header declares no channels or sample rate")
        }
        if video != nil {
            return .refused(code: .unsupportedType, message: "Ogg video (\(video!)) is not supported")
        }

        var info = MediaInfo()
        info.format = .ogg
        info.mimeType = "audio/ogg"
        info.channels = stream.channels
        info.bitDepth = stream.bitDepth
        switch stream.codec {
        case .vorbis: info.codec = "vorbis"
        case .opus: info.codec = "opus"; stream.sampleRate = 48000  // Opus always decodes at 48 kHz
        case .flac: info.codec = "flac"
        case .speex: info.codec = "speex"
        default: break
        }
        info.sampleRate = stream.sampleRate

        if let t = src.total {
            let tailStart = max(0, t - tailRead)
            guard let tail = src.reader(at: tailStart, count: Int(t - tailStart)) else {
                if let req = src.request(tailStart, Int(t - tailStart)) { return req }
                return .described(info)
            }
            if let g = lastGranule(tail, serial: stream.serial) {
                var samples = Double(g)
                if case .opus = stream.codec { samples -= Double(stream.preSkip) }
                info.duration = avPositive(samples / Double(stream.sampleRate))
            }
        }
        return .described(info)
    }

    /// The codec and parameters of a first packet.
    static func identify(_ p: AVByteReader, serial: UInt32) -> Stream {
        var s = Stream()
        s.serial = serial
        if p.matches([0x01] + Array("vorbis".utf8)) {
            s.codec = .vorbis
            s.channels = Int(p.byte(at: 11) ?? 0)
            s.sampleRate = Int(p.uintLE(at: 12, 4) ?? 0)
        } else if p.matches(Array("OpusHead".utf8)) {
            s.codec = .opus
            s.channels = Int(p.byte(at: 9) ?? 0)
            s.preSkip = Int(p.uintLE(at: 10, 2) ?? 0)
            s.sampleRate = 48000
        } else if p.matches([0x7F] + Array("FLAC".utf8)), p.matches(Array("fLaC".utf8), at: 9),
                  let body = p.bytes.dropFirst(17).prefix(34) as ArraySlice<UInt8>?, body.count == 34,
                  let si = FLACStreamInfo(body) {
            s.codec = .flac
            s.channels = si.channels
            s.sampleRate = si.sampleRate
            s.bitDepth = si.bitsPerSample
        } else if p.matches(Array("Speex   ".utf8)) {
            s.codec = .speex
            s.sampleRate = Int(p.uintLE(at: 36, 4) ?? 0)
            s.channels = Int(p.uintLE(at: 48, 4) ?? 0)
        } else if p.matches([0x80] + Array("theora".utf8)) {
            s.codec = .video("Theora")
        } else if p.matches([0x80] + Array("daala".utf8)) || p.matches(Array("BBCD".utf8) + [0]) {
            s.codec = .video(p.matches([0x80]) ? "Daala" : "Dirac")
        }
        return s
    }

    /// The granule position of the last complete page of `serial` in `tail` (CRC checked).
    static func lastGranule(_ tail: AVByteReader, serial: UInt32) -> UInt64? {
        let bytes = tail.bytes
        var i = bytes.count - 27
        var checks = 0  // CRC work is bounded: a hostile tail of fake page headers costs little
        while i >= 0, checks < 256 {
            if bytes[bytes.startIndex + i] == 0x4F, let page = OggPage(tail, at: i), page.serial == serial,
               page.granule != UInt64.max, page.granule <= UInt64(Int64.max), i + page.length <= bytes.count {
                checks += 1
                if crcMatches(bytes, at: bytes.startIndex + i, length: page.length) { return page.granule }
            }
            i -= 1
        }
        return nil
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var r = UInt32(n) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    /// Whether the page at `start` (absolute index) of `length` bytes carries a correct CRC.
    static func crcMatches(_ b: ArraySlice<UInt8>, at start: Int, length: Int) -> Bool {
        var crc: UInt32 = 0
        for k in 0..<length {
            let byte: UInt8 = (k >= 22 && k < 26) ? 0 : b[start + k]
            crc = (crc << 8) ^ crcTable[Int(((crc >> 24) ^ UInt32(byte)) & 0xFF)]
        }
        let stored = UInt32(b[start + 22]) | UInt32(b[start + 23]) << 8 | UInt32(b[start + 24]) << 16 | UInt32(b[start + 25]) << 24
        return crc == stored
    }

    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }
}
