// WebM and Matroska (EBML): the EBML header's DocType, then the Segment's children up to Info
// (TimecodeScale, Duration) and Tracks (TrackEntry: TrackType, CodecID, DefaultDuration, Video
// PixelWidth/PixelHeight, Audio SamplingFrequency/Channels/BitDepth). SeekHead positions are
// followed when Info or Tracks lie past the bytes held; Clusters and Cues are skipped.
//
// Duration comes from Info; without one (live recordings, e.g. MediaRecorder) it is the last
// block's time, found from the last Cluster in the final 64 KiB. Frame counts are exact only
// when the whole object is held (the blocks are counted); otherwise duration × frame rate.

enum MatroskaID {
    static let ebml: UInt32 = 0x1A45_DFA3, docType: UInt32 = 0x4282
    static let segment: UInt32 = 0x1853_8067, seekHead: UInt32 = 0x114D_9B74, seek: UInt32 = 0x4DBB
    static let seekID: UInt32 = 0x53AB, seekPosition: UInt32 = 0x53AC
    static let info: UInt32 = 0x1549_A966, timecodeScale: UInt32 = 0x2A_D7B1, duration: UInt32 = 0x4489
    static let tracks: UInt32 = 0x1654_AE6B, trackEntry: UInt32 = 0xAE, trackNumber: UInt32 = 0xD7
    static let trackType: UInt32 = 0x83, codecID: UInt32 = 0x86, defaultDuration: UInt32 = 0x23_E383
    static let video: UInt32 = 0xE0, pixelWidth: UInt32 = 0xB0, pixelHeight: UInt32 = 0xBA
    static let audio: UInt32 = 0xE1, samplingFrequency: UInt32 = 0xB5, outputSamplingFrequency: UInt32 = 0x78B5
    static let channels: UInt32 = 0x9F, bitDepth: UInt32 = 0x6264
    static let cluster: UInt32 = 0x1F43_B675, timecode: UInt32 = 0xE7, simpleBlock: UInt32 = 0xA3
    static let blockGroup: UInt32 = 0xA0, block: UInt32 = 0xA1
    static let cues: UInt32 = 0x1C53_BB6B, tags: UInt32 = 0x1254_C367, chapters: UInt32 = 0x1043_A770
    static let attachments: UInt32 = 0x1941_A469, void: UInt32 = 0xEC, crc32: UInt32 = 0xBF

    /// Level-1 elements: one of these ends an unknown-size Cluster.
    static let topLevel: Set<UInt32> = [segment, seekHead, info, tracks, cluster, cues, tags, chapters, attachments, ebml]
}

/// An EBML element header.
struct MatroskaHeader {
    let id: UInt32
    let headerLength: Int
    /// nil: unknown size (all value bits set).
    let size: UInt64?

    enum Read { case ok(MatroskaHeader), truncated, invalid }

    /// The header at `n` bytes into `r`'s slice.
    static func read(_ r: AVByteReader, at n: Int) -> Read {
        guard let b0 = r.byte(at: n) else { return .truncated }
        let idLength = b0.leadingZeroBitCount + 1
        guard b0 != 0, idLength <= 4 else { return .invalid }
        guard let id = r.uintBE(at: n, idLength) else { return .truncated }
        guard let s0 = r.byte(at: n + idLength) else { return .truncated }
        let sizeLength = s0.leadingZeroBitCount + 1
        guard s0 != 0, sizeLength <= 8 else { return .invalid }
        guard let raw = r.uintBE(at: n + idLength, sizeLength) else { return .truncated }
        let valueBits = 7 * sizeLength
        let mask: UInt64 = valueBits >= 64 ? .max : (UInt64(1) << UInt64(valueBits)) - 1
        let value = raw & mask
        return .ok(MatroskaHeader(id: UInt32(id), headerLength: idLength + sizeLength, size: value == mask ? nil : value))
    }
}

/// Iterates the children of a master element held in memory; an unknown-size child runs to the
/// end of its parent.
struct MatroskaIterator {
    var reader: AVByteReader

    init(_ reader: AVByteReader) { self.reader = reader }

    mutating func next() -> (id: UInt32, body: AVByteReader)? {
        guard case .ok(let h) = MatroskaHeader.read(reader, at: reader.consumed) else { return nil }
        guard reader.skip(h.headerLength) else { return nil }
        let available = UInt64(reader.remaining)
        let n = h.size.map { min($0, available) } ?? available
        let base = reader.position
        guard let body = reader.read(Int(n)) else { return nil }
        return (h.id, AVByteReader(body, base: base))
    }
}

struct MatroskaTrack {
    var number: UInt64 = 0
    var type: UInt64 = 0
    var codecID = ""
    var defaultDuration: UInt64 = 0
    var width = 0
    var height = 0
    var sampleRate = 0.0
    var outputSampleRate = 0.0
    var channels = 0
    var bitDepth = 0
}

enum MatroskaParser {
    static let maxInfo: UInt64 = 1024 * 1024
    static let maxTracks: UInt64 = 8 * 1024 * 1024
    static let segmentRead = 256 * 1024
    static let tailRead: Int64 = 64 * 1024

    static func uint(_ r: AVByteReader) -> UInt64? {
        guard r.remaining >= 1, r.remaining <= 8 else { return r.remaining == 0 ? 0 : nil }
        return r.uintBE(at: 0, r.remaining)
    }

    static func float(_ r: AVByteReader) -> Double? {
        switch r.remaining {
        case 4: return r.uintBE(at: 0, 4).map { Double(Float(bitPattern: UInt32($0))) }
        case 8: return r.uintBE(at: 0, 8).map { Double(bitPattern: $0) }
        case 0: return 0
        default: return nil
        }
    }

    /// The DocType of the EBML header at the start of `r` (nil when absent or not held).
    static func docType(_ r: AVByteReader) -> String? {
        guard case .ok(let h) = MatroskaHeader.read(r, at: 0), h.id == MatroskaID.ebml else { return nil }
        var body = r
        guard body.skip(h.headerLength) else { return nil }
        let n = min(h.size ?? UInt64(body.remaining), UInt64(body.remaining))
        guard let slice = body.read(Int(n)) else { return nil }
        var it = MatroskaIterator(AVByteReader(slice))
        while let (id, b) = it.next() {
            if id == MatroskaID.docType { return avASCII(b.bytes, max: 32) }
        }
        return nil
    }

    static func parse(_ src: AVSource, detected: MediaFormat, limits: ProbeLimits) -> FormatParse {
        // EBML header.
        guard let head = src.reader(at: 0, upTo: 4096) else { return corrupt("no EBML header") }
        guard case .ok(let eh) = MatroskaHeader.read(head, at: 0), eh.id == MatroskaID.ebml, let ebmlSize = eh.size,
              ebmlSize <= 4096 else {
            return corrupt("invalid EBML header")
        }
        let doc = docType(head)
        let isWebM: Bool
        switch doc {
        case "webm"?: isWebM = true
        case "matroska"?, nil: isWebM = false
        default: return .refused(code: .unsupportedType, message: "EBML document type '\(doc!)' is not WebM or Matroska")
        }

        // Segment (after any Void elements).
        var offset = Int64(eh.headerLength) + Int64(ebmlSize)
        var segmentData: Int64 = 0
        var segmentEnd: Int64?
        var found = false
        for _ in 0..<16 {
            guard let r = src.reader(at: offset, upTo: 16) else {
                if let req = src.request(offset, segmentRead) { return req }
                return corrupt("no Segment element")
            }
            switch MatroskaHeader.read(r, at: 0) {
            case .invalid: return corrupt("invalid element after the EBML header")
            case .truncated:
                if let req = src.request(offset, segmentRead) { return req }
                return corrupt("the Segment header is truncated")
            case .ok(let h):
                if h.id == MatroskaID.segment {
                    guard let d = avAdd(offset, Int64(h.headerLength)) else { return corrupt("invalid Segment offset") }
                    segmentData = d
                    segmentEnd = h.size.flatMap(avInt64).flatMap { avAdd(segmentData, $0) }
                    found = true
                } else if let s = h.size.flatMap(avInt64), let b = avAdd(offset, Int64(h.headerLength)), let n = avAdd(b, s) {
                    offset = n
                    continue
                } else {
                    return corrupt("invalid element after the EBML header")
                }
            }
            break
        }
        guard found else { return corrupt("no Segment element") }
        if let t = src.total { segmentEnd = min(segmentEnd ?? t, t) }

        // Segment children up to Info and Tracks.
        var info: (scale: UInt64, duration: Double?)?
        var tracks: [MatroskaTrack]?
        var seekInfo: Int64?, seekTracks: Int64?
        var jumped: Set<Int64> = []
        var firstCluster: Int64?
        offset = segmentData
        var steps = 0
        walk: while steps < 100_000, info == nil || tracks == nil {
            steps += 1
            if let e = segmentEnd, offset >= e {
                if jump(&offset, info: info != nil, tracks: tracks != nil, seekInfo, seekTracks, &jumped) { continue }
                break
            }
            let held = src.reader(at: offset, upTo: 16)
            let hr: MatroskaHeader.Read = held.map { MatroskaHeader.read($0, at: 0) } ?? .truncated
            let h: MatroskaHeader
            switch hr {
            case .invalid:
                if jump(&offset, info: info != nil, tracks: tracks != nil, seekInfo, seekTracks, &jumped) { continue }
                return corrupt("invalid element at offset \(offset)")
            case .truncated:
                // Not held: go where the SeekHead says the missing element is, else read on from here.
                if !jumped.contains(offset), jump(&offset, info: info != nil, tracks: tracks != nil, seekInfo, seekTracks, &jumped) { continue }
                if let req = src.request(offset, segmentRead) { return req }
                break walk
            case .ok(let x): h = x
            }
            guard let bodyStart = avAdd(offset, Int64(h.headerLength)) else { break }
            let size = h.size.flatMap(avInt64)
            let end = size.flatMap { avAdd(bodyStart, $0) }
            switch h.id {
            case MatroskaID.info, MatroskaID.tracks, MatroskaID.seekHead:
                let cap = h.id == MatroskaID.tracks ? maxTracks : maxInfo
                guard let s = h.size, s <= cap else { return corrupt("\(name(h.id)) element is too large or has no size") }
                guard let body = src.reader(at: bodyStart, count: Int(s)) else {
                    if let req = src.request(offset, h.headerLength + Int(s)) { return req }
                    return corrupt("\(name(h.id)) element is truncated")
                }
                if h.id == MatroskaID.info {
                    info = parseInfo(body)
                } else if h.id == MatroskaID.tracks {
                    tracks = parseTracks(body)
                } else {
                    let (i, t) = parseSeekHead(body)
                    if let i { seekInfo = avAdd(segmentData, i) }
                    if let t { seekTracks = avAdd(segmentData, t) }
                }
            case MatroskaID.cluster:
                if firstCluster == nil { firstCluster = offset }
                if jump(&offset, info: info != nil, tracks: tracks != nil, seekInfo, seekTracks, &jumped) { continue }
                if end == nil { break walk }  // unknown size: what follows cannot be found
            default:
                if end == nil { break walk }
            }
            guard let e = end, e > offset else { break }
            offset = e
        }
        guard let trackList = tracks else { return corrupt("no Tracks element before the first Cluster") }
        let scale = Double(info?.scale ?? 1_000_000)

        let videoTrack = trackList.first { $0.type == 1 }
        let audioTrack = trackList.first { $0.type == 2 }
        var out = MediaInfo()
        out.size = src.total
        out.format = isWebM ? .webm : .matroska
        _ = detected

        var seconds: Double? = info?.duration.flatMap { avPositive($0 * scale / 1e9) }
        var frames: Int?
        if seconds == nil || (src.hasWholeObject && videoTrack != nil) {
            // Block times (and, with the whole object, the video frame count).
            let start = firstCluster ?? offset
            if src.hasWholeObject, let r = src.reader(at: start, count: Int(src.total! - start)) {
                let scan = scanClusters(r, videoTrack: videoTrack?.number)
                if videoTrack != nil { frames = scan.frames }
                if seconds == nil, let last = scan.lastTime { seconds = endSeconds(last, scan.lastTrack, trackList, scale) }
            } else if seconds == nil, let t = src.total {
                let tailStart = max(segmentData, t - tailRead)
                if tailStart < t {
                    guard let tail = src.reader(at: tailStart, count: Int(t - tailStart)) else {
                        if let req = src.request(tailStart, Int(t - tailStart)) { return req }
                        return describe(&out, videoTrack, audioTrack, seconds, frames, isWebM, limits)
                    }
                    if let last = lastBlockTime(tail, videoTrack: videoTrack?.number) {
                        seconds = endSeconds(last.time, last.track, trackList, scale)
                    }
                }
            }
        }
        return describe(&out, videoTrack, audioTrack, seconds, frames, isWebM, limits)
    }

    /// Moves `offset` to a SeekHead position of a still-missing Info or Tracks not visited yet.
    static func jump(_ offset: inout Int64, info: Bool, tracks: Bool, _ seekInfo: Int64?, _ seekTracks: Int64?,
                     _ jumped: inout Set<Int64>) -> Bool {
        for (have, target) in [(info, seekInfo), (tracks, seekTracks)] {
            if !have, let t = target, t != offset, !jumped.contains(t), jumped.count < 8 {
                jumped.insert(t)
                offset = t
                return true
            }
        }
        return false
    }

    static func describe(_ out: inout MediaInfo, _ video: MatroskaTrack?, _ audio: MatroskaTrack?, _ seconds: Double?,
                         _ frames: Int?, _ isWebM: Bool, _ limits: ProbeLimits) -> FormatParse {
        out.duration = avPositive(seconds)
        if let v = video {
            if let refusal = AVProbe.checkDimensions(v.width, v.height, limits) { return refusal }
            out.width = v.width > 0 ? v.width : nil
            out.height = v.height > 0 ? v.height : nil
            out.codec = codecName(v.codecID)
            out.mimeType = isWebM ? "video/webm" : "video/x-matroska"
            if v.defaultDuration > 0 { out.fps = avSnapFPS(1e9 / Double(v.defaultDuration)) }
            if let n = frames, n > 0 {
                out.frameCount = n
                if out.fps == nil, let d = out.duration { out.fps = avSnapFPS(Double(n) / d) }
            } else if let fps = out.fps, let d = out.duration {
                out.frameCount = avRound(d * fps)
            }
            return .described(out)
        }
        if let a = audio {
            out.codec = codecName(a.codecID)
            out.mimeType = isWebM ? "audio/webm" : "audio/x-matroska"
            let rate = a.outputSampleRate > 0 ? a.outputSampleRate : a.sampleRate
            out.sampleRate = rate >= 1 ? avRound(rate) : nil
            out.channels = a.channels > 0 ? a.channels : nil
            if a.bitDepth > 0, ["pcm", "pcm_float", "flac"].contains(out.codec ?? "") { out.bitDepth = a.bitDepth }
            return .described(out)
        }
        return .refused(code: .unsupportedType, message: "the file has no audio or video track")
    }

    /// End time in seconds: the last block's time plus its track's frame duration when known.
    static func endSeconds(_ last: Int64, _ track: UInt64?, _ tracks: [MatroskaTrack], _ scale: Double) -> Double? {
        var ns = Double(last) * scale
        if let n = track, let t = tracks.first(where: { $0.number == n }) { ns += Double(t.defaultDuration) }
        return avPositive(ns / 1e9)
    }

    static func parseInfo(_ body: AVByteReader) -> (scale: UInt64, duration: Double?) {
        var scale: UInt64 = 1_000_000
        var duration: Double?
        var it = MatroskaIterator(body)
        while let (id, b) = it.next() {
            if id == MatroskaID.timecodeScale, let s = uint(b), s > 0 { scale = s }
            if id == MatroskaID.duration, let d = float(b), d.isFinite, d > 0 { duration = d }
        }
        return (scale, duration)
    }

    static func parseTracks(_ body: AVByteReader) -> [MatroskaTrack] {
        var list: [MatroskaTrack] = []
        var it = MatroskaIterator(body)
        while let (id, entry) = it.next(), list.count < 128 {
            guard id == MatroskaID.trackEntry else { continue }
            var t = MatroskaTrack()
            var e = MatroskaIterator(entry)
            while let (cid, b) = e.next() {
                switch cid {
                case MatroskaID.trackNumber: t.number = uint(b) ?? 0
                case MatroskaID.trackType: t.type = uint(b) ?? 0
                case MatroskaID.codecID: t.codecID = avASCII(b.bytes, max: 64)
                case MatroskaID.defaultDuration: t.defaultDuration = uint(b) ?? 0
                case MatroskaID.video:
                    var v = MatroskaIterator(b)
                    while let (vid, vb) = v.next() {
                        if vid == MatroskaID.pixelWidth { t.width = Int(clamping: uint(vb) ?? 0) }
                        if vid == MatroskaID.pixelHeight { t.height = Int(clamping: uint(vb) ?? 0) }
                    }
                case MatroskaID.audio:
                    var a = MatroskaIterator(b)
                    while let (aid, ab) = a.next() {
                        switch aid {
                        case MatroskaID.samplingFrequency: t.sampleRate = avPositive(float(ab)).map { min($0, 1e9) } ?? 0
                        case MatroskaID.outputSamplingFrequency: t.outputSampleRate = avPositive(float(ab)).map { min($0, 1e9) } ?? 0
                        case MatroskaID.channels: t.channels = Int(clamping: min(uint(ab) ?? 0, 1 << 20))
                        case MatroskaID.bitDepth: t.bitDepth = Int(clamping: min(uint(ab) ?? 0, 1 << 20))
                        default: break
                        }
                    }
                default: break
                }
            }
            list.append(t)
        }
        return list
    }

    /// Info and Tracks positions (relative to the Segment's data) from a SeekHead.
    static func parseSeekHead(_ body: AVByteReader) -> (Int64?, Int64?) {
        var info: Int64?, tracks: Int64?
        var it = MatroskaIterator(body)
        var n = 0
        while let (id, seek) = it.next(), n < 1024 {
            n += 1
            guard id == MatroskaID.seek else { continue }
            var target: UInt64?, position: UInt64?
            var s = MatroskaIterator(seek)
            while let (sid, b) = s.next() {
                if sid == MatroskaID.seekID { target = uint(b) }
                if sid == MatroskaID.seekPosition { position = uint(b) }
            }
            guard let tg = target, let p = position.flatMap(avInt64) else { continue }
            if tg == UInt64(MatroskaID.info), info == nil { info = p }
            if tg == UInt64(MatroskaID.tracks), tracks == nil { tracks = p }
        }
        return (info, tracks)
    }

    struct ClusterScan {
        var frames = 0
        var lastTime: Int64?
        var lastTrack: UInt64?
    }

    /// Walks level-1 elements from the start of `r` (a Cluster or a later sibling), counting the
    /// video track's frames and finding the latest block time.
    static func scanClusters(_ r: AVByteReader, videoTrack: UInt64?) -> ClusterScan {
        var scan = ClusterScan()
        var pos = 0
        var steps = 0
        while steps < 10_000_000 {
            steps += 1
            guard case .ok(let h) = MatroskaHeader.read(r, at: pos) else { break }
            let body = pos + h.headerLength
            if h.id == MatroskaID.cluster {
                let limit = h.size.map { min(UInt64(r.bytes.count - min(body, r.bytes.count)), $0) }.map { body + Int($0) } ?? r.bytes.count
                pos = scanCluster(r, from: body, limit: limit, known: h.size != nil, videoTrack: videoTrack, into: &scan, steps: &steps)
                continue
            }
            guard let s = h.size, s <= UInt64(r.bytes.count - min(body, r.bytes.count)) else { break }
            pos = body + Int(s)
        }
        return scan
    }

    /// The children of one Cluster from `from` to `limit` (or, for an unknown size, up to the
    /// next level-1 element). Returns where scanning continues.
    static func scanCluster(_ r: AVByteReader, from: Int, limit: Int, known: Bool, videoTrack: UInt64?,
                            into scan: inout ClusterScan, steps: inout Int) -> Int {
        var pos = from
        var clusterTime: Int64 = 0
        while pos < limit, steps < 10_000_000 {
            steps += 1
            guard case .ok(let h) = MatroskaHeader.read(r, at: pos) else { return r.bytes.count }
            if !known, MatroskaID.topLevel.contains(h.id) { return pos }
            let body = pos + h.headerLength
            guard let s = h.size, s <= UInt64(max(0, limit - body)) else { return r.bytes.count }
            let size = Int(s)
            switch h.id {
            case MatroskaID.timecode:
                if let v = r.uintBE(at: body, min(max(size, 1), 8)), size <= 8, let t = avInt64(v) { clusterTime = t }
            case MatroskaID.simpleBlock:
                block(r, at: body, size: size, clusterTime: clusterTime, videoTrack: videoTrack, into: &scan)
            case MatroskaID.blockGroup:
                var g = MatroskaIterator(AVByteReader(r.bytes[(r.bytes.startIndex + body)..<(r.bytes.startIndex + body + size)]))
                while let (gid, gb) = g.next() {
                    if gid == MatroskaID.block {
                        block(gb, at: 0, size: gb.remaining, clusterTime: clusterTime, videoTrack: videoTrack, into: &scan)
                    }
                }
            default:
                break
            }
            pos = body + size
        }
        return known ? limit : pos
    }

    /// One Block or SimpleBlock: track number (EBML vint), 16-bit relative time, flags (lacing).
    static func block(_ r: AVByteReader, at n: Int, size: Int, clusterTime: Int64, videoTrack: UInt64?, into scan: inout ClusterScan) {
        guard size >= 4, let b0 = r.byte(at: n) else { return }
        let len = b0.leadingZeroBitCount + 1
        guard b0 != 0, len <= 8, size >= len + 3, let raw = r.uintBE(at: n, len),
              let rel = r.uintBE(at: n + len, 2), let flags = r.byte(at: n + len + 2) else { return }
        let track = raw & ((len * 7 >= 64) ? .max : (UInt64(1) << UInt64(len * 7)) - 1)
        let time = clusterTime &+ Int64(Int16(bitPattern: UInt16(rel)))
        if scan.lastTime == nil || time > scan.lastTime! { scan.lastTime = time; scan.lastTrack = track }
        if let v = videoTrack, track == v {
            var count = 1
            if flags & 0x06 != 0, size > len + 3, let laced = r.byte(at: n + len + 3) { count = Int(laced) + 1 }
            scan.frames += count
        }
    }

    /// The latest block time in the last Cluster that starts in `tail`.
    static func lastBlockTime(_ tail: AVByteReader, videoTrack: UInt64?) -> (time: Int64, track: UInt64?)? {
        let b = tail.bytes
        var i = b.count - 4
        var attempts = 0  // bounded work on a hostile tail full of fake Cluster IDs
        while i >= 0, attempts < 64 {
            let s = b.startIndex + i
            if b[s] == 0x1F, b[s + 1] == 0x43, b[s + 2] == 0xB6, b[s + 3] == 0x75,
               case .ok(let h) = MatroskaHeader.read(tail, at: i) {
                var scan = ClusterScan()
                var steps = 0
                let body = i + h.headerLength
                // A Cluster's first child is its Timecode; a false match rarely has one.
                attempts += 1
                if case .ok(let first) = MatroskaHeader.read(tail, at: body), first.id == MatroskaID.timecode {
                    let limit = h.size.map { body + Int(min($0, UInt64(max(0, b.count - body)))) } ?? b.count
                    _ = scanCluster(tail, from: body, limit: limit, known: h.size != nil, videoTrack: videoTrack, into: &scan, steps: &steps)
                    if let t = scan.lastTime { return (t, scan.lastTrack) }
                }
            }
            i -= 1
        }
        return nil
    }

    static func codecName(_ id: String) -> String {
        switch id {
        case "V_VP8": return "vp8"
        case "V_VP9": return "vp9"
        case "V_AV1": return "av1"
        case "V_MPEG4/ISO/AVC": return "h264"
        case "V_MPEGH/ISO/HEVC": return "hevc"
        case "V_MPEG4/ISO/SP", "V_MPEG4/ISO/ASP", "V_MPEG4/ISO/AP": return "mpeg4"
        case "V_MPEG1": return "mpeg1video"
        case "V_MPEG2": return "mpeg2video"
        case "V_THEORA": return "theora"
        case "V_PRORES": return "prores"
        case "V_MJPEG": return "mjpeg"
        case "V_FFV1": return "ffv1"
        case "A_OPUS": return "opus"
        case "A_VORBIS": return "vorbis"
        case "A_FLAC": return "flac"
        case "A_MPEG/L3": return "mp3"
        case "A_MPEG/L2": return "mp2"
        case "A_AC3": return "ac3"
        case "A_EAC3": return "eac3"
        case "A_DTS": return "dts"
        case "A_ALAC": return "alac"
        case "A_PCM/INT/LIT", "A_PCM/INT/BIG": return "pcm"
        case "A_PCM/FLOAT/IEEE": return "pcm_float"
        default:
            if id.hasPrefix("A_AAC") { return "aac" }
            return id.lowercased()
        }
    }

    static func name(_ id: UInt32) -> String {
        switch id {
        case MatroskaID.info: return "Info"
        case MatroskaID.tracks: return "Tracks"
        case MatroskaID.seekHead: return "SeekHead"
        default: return "element"
        }
    }

    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }
}
