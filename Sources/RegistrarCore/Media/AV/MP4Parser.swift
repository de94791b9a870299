// ISO base media (MP4, MOV, M4A/M4V, fragmented MP4): the top-level box walk, the `moov` box
// (mvhd, trak → tkhd, mdia → hdlr, mdhd, minf → stbl → stsd, stts, stsz; mvex → mehd, trex)
// and, for fragmented files, `moof` → traf → tfhd, tfdt, trun plus `mfra` → tfra at the end.
//
// Reads: the head, then — when `moov` is not in it — one read from where the box after the
// head's last box starts (the sizes of `mdat` and the rest say where), up to 4 MiB or the
// object's end. A `moov` over 8 MiB is refused. A fragmented file whose fragments run past the
// bytes held and whose `mvhd`/`mehd` give no duration costs two more reads at most: the last
// 64 KiB (for `mfra`, or to find the last `moof`) and the last `moof` itself.

enum MP4Box {
    static let ftyp = avFourCC("ftyp"), moov = avFourCC("moov"), mdat = avFourCC("mdat")
    static let moof = avFourCC("moof"), mfra = avFourCC("mfra"), mfro = avFourCC("mfro")
    static let sidx = avFourCC("sidx"), free = avFourCC("free"), skip = avFourCC("skip")
    static let wide = avFourCC("wide"), pnot = avFourCC("pnot"), uuid = avFourCC("uuid")
    static let mvhd = avFourCC("mvhd"), trak = avFourCC("trak"), tkhd = avFourCC("tkhd")
    static let mdia = avFourCC("mdia"), mdhd = avFourCC("mdhd"), hdlr = avFourCC("hdlr")
    static let minf = avFourCC("minf"), stbl = avFourCC("stbl"), stsd = avFourCC("stsd")
    static let stts = avFourCC("stts"), stsz = avFourCC("stsz"), stz2 = avFourCC("stz2")
    static let mvex = avFourCC("mvex"), mehd = avFourCC("mehd"), trex = avFourCC("trex")
    static let mfhd = avFourCC("mfhd"), traf = avFourCC("traf"), tfhd = avFourCC("tfhd")
    static let tfdt = avFourCC("tfdt"), trun = avFourCC("trun"), tfra = avFourCC("tfra")
    static let esds = avFourCC("esds"), wave = avFourCC("wave")
    static let vide = avFourCC("vide"), soun = avFourCC("soun")
}

/// Iterates the boxes inside a box body (or any byte run). Stops at the first box whose size
/// does not fit; `malformed` says so.
struct MP4BoxIterator {
    var reader: AVByteReader
    private(set) var malformed = false

    init(_ reader: AVByteReader) { self.reader = reader }

    mutating func next() -> (type: UInt32, body: AVByteReader)? {
        let r0 = reader.remaining
        guard r0 >= 8 else {
            // QuickTime lets a list end with a 32-bit zero terminator.
            if r0 > 0, !(r0 == 4 && reader.peek(4)?.allSatisfy({ $0 == 0 }) == true) { malformed = true }
            return nil
        }
        guard let size32 = reader.u32be(), let type = reader.u32be() else { malformed = true; return nil }
        var size = UInt64(size32)
        var header: UInt64 = 8
        if size32 == 1 {
            guard let large = reader.u64be() else { malformed = true; return nil }
            size = large
            header = 16
        } else if size32 == 0 {
            size = UInt64(reader.remaining) + 8
        }
        guard size >= header, size - header <= UInt64(reader.remaining) else { malformed = true; return nil }
        let base = reader.position
        guard let body = reader.read(Int(size - header)) else { malformed = true; return nil }
        return (type, AVByteReader(body, base: base))
    }
}

/// One track of a `moov`, as far as probing needs.
struct MP4Track {
    var id: UInt32 = 0
    var enabled = true
    var handler: UInt32 = 0
    var tkhdWidth = 0.0
    /// The track header's display matrix as an EXIF orientation (MediaOrientation), nil when odd.
    var orientation: Int?
    var tkhdHeight = 0.0
    var timescale: UInt32 = 0
    var mediaDuration: UInt64 = 0
    var sampleEntry: UInt32?
    var entryWidth = 0
    var entryHeight = 0
    var channels = 0
    var sampleRate = 0.0
    var sampleSize = 0
    var objectType: UInt8?
    var ascChannels = 0
    var sttsSamples: UInt64 = 0
    var sttsTicks: Double = 0
    var sttsDurations = MP4DurationHistogram()
    var stszSamples: UInt64 = 0
    var trexDuration: UInt32 = 0

    var isVideo: Bool { handler == MP4Box.vide }
    var isAudio: Bool { handler == MP4Box.soun }
    var sampleCount: UInt64 { sttsSamples > 0 ? sttsSamples : stszSamples }
}

/// What a `moov` says.
struct MP4Movie {
    var timescale: UInt32 = 0
    var duration: UInt64 = 0
    var fragmented = false
    var fragmentDuration: UInt64 = 0
    var tracks: [MP4Track] = []

    static let maxTracks = 64

    /// The track whose fragments are counted: the video track, else the first audio track.
    var primaryTrack: MP4Track? {
        if let v = MP4Parser.pickVideo(tracks) { return tracks[v] }
        return tracks.first { $0.isAudio }
    }
}

/// Samples of one track seen in `moof` boxes.
struct MP4FragmentStats {
    var samples: UInt64 = 0
    var ticks: Double = 0
    var firstDecodeTime: UInt64?
    var endTime: Double?
    var durations = MP4DurationHistogram()
    var sidxTicks: Double = 0
    var sidxTimescale: UInt32 = 0
}

/// How often each sample duration occurs (the first 8 distinct ones; the rest only counted), so
/// the frame rate can be the dominant one: a first sample stretched by a B-frame delay, or a
/// short last one, does not make 30000/1001 fps into 29.947.
struct MP4DurationHistogram {
    private(set) var slots: [(duration: UInt32, count: UInt64)] = []
    private(set) var total: UInt64 = 0

    mutating func add(_ duration: UInt32, _ count: UInt64) {
        guard count > 0 else { return }
        total &+= count
        if let i = slots.firstIndex(where: { $0.duration == duration }) {
            slots[i].count &+= count
        } else if slots.count < 8 {
            slots.append((duration, count))
        }
    }

    mutating func merge(_ other: MP4DurationHistogram) {
        var slotted: UInt64 = 0
        for s in other.slots {
            add(s.duration, s.count)
            slotted &+= s.count
        }
        total &+= other.total &- slotted
    }

    /// The duration of at least 90 % of the samples, if there is one.
    var dominant: UInt32? {
        guard total > 0, let best = slots.max(by: { $0.count < $1.count }), best.duration > 0,
              Double(best.count) >= 0.9 * Double(total) else { return nil }
        return best.duration
    }
}

enum MP4Parser {
    static let tailWindow = 4 * 1024 * 1024
    static let maxMoov: Int64 = 8 * 1024 * 1024
    static let maxMoof: Int64 = 8 * 1024 * 1024
    static let fragmentTail: Int64 = 64 * 1024

    static func parse(_ src: AVSource, detected: MediaFormat, limits: ProbeLimits) -> FormatParse {
        var offset: Int64 = 0
        var major: UInt32?
        var movie: MP4Movie?
        var stats = MP4FragmentStats()
        var primaryID: UInt32?
        var reachedEnd = false
        var steps = 0

        walk: while steps < 1_000_000 {
            steps += 1
            if let t = src.total, offset >= t { reachedEnd = true; break }
            guard let hr = src.reader(at: offset, upTo: 16), hr.remaining >= 8 else {
                if movie != nil { break walk }
                let window = src.total == nil ? Int(maxMoov) : tailWindow
                if let req = src.request(offset, window) { return req }
                reachedEnd = true
                break walk
            }
            var h = hr
            let size32 = h.u32be()!
            let type = h.u32be()!
            var size: Int64?
            var header: Int64 = 8
            if size32 == 1 {
                guard let large = h.u64be() else {
                    if movie != nil { break walk }
                    if let req = src.request(offset, 16) { return req }
                    return .refused(code: .corrupt, message: "the file ends inside a box header")
                }
                guard let l = avInt64(large) else { return corrupt("box at offset \(offset) declares an impossible size") }
                size = l
                header = 16
            } else if size32 == 0 {
                size = src.total.map { $0 - offset }
            } else {
                size = Int64(size32)
            }
            if offset == 0, !isPlausibleFirstBox(type) {
                return corrupt("not an ISO base media file")
            }
            if let s = size, s < header {
                return corrupt("box '\(avFourCCString(type))' at offset \(offset) has an invalid size")
            }
            let end = size.flatMap { avAdd(offset, $0) }
            if size != nil, end == nil { return corrupt("box at offset \(offset) declares an impossible size") }

            switch type {
            case MP4Box.ftyp where offset == 0:
                if let r = src.reader(at: offset + 8, count: 4) { var r = r; major = r.u32be() }
            case MP4Box.moov where movie == nil:
                let want = size ?? Int64(src.run(at: offset)?.count ?? 0)
                if want > maxMoov { return corrupt("moov box too large (\(want) bytes; at most \(maxMoov) are read)") }
                if let t = src.total, let e = end, e > t {
                    return corrupt("moov box runs past the end of the file (truncated)")
                }
                guard let box = src.reader(at: offset, count: Int(want)) else {
                    if let req = src.request(offset, Int(want)) { return req }
                    return corrupt("moov box is truncated")
                }
                var body = box
                body.skip(Int(header))
                switch parseMoov(body) {
                case .success(let m): movie = m
                case .failure(let message): return corrupt(message)
                }
                primaryID = movie!.primaryTrack?.id
            case MP4Box.moof:
                guard let m = movie, m.fragmented, let vid = primaryID else { break }
                guard let s = size, s <= maxMoof, let box = src.reader(at: offset, count: Int(s)) else { break walk }
                var body = box
                body.skip(Int(header))
                let track = m.tracks.first { $0.id == vid }!
                scanMoof(body, trackID: vid, trexDuration: track.trexDuration, into: &stats)
            case MP4Box.sidx:
                guard let s = size, s <= maxMoof, let box = src.reader(at: offset, count: Int(s)) else { break }
                var body = box
                body.skip(Int(header))
                scanSidx(body, into: &stats)
            default:
                break
            }
            guard let e = end else { reachedEnd = true; break }
            if e <= offset { return corrupt("box at offset \(offset) has an invalid size") }
            offset = e
        }

        guard var m = movie else {
            return corrupt(offset == 0 ? "not an ISO base media file" : "no moov box (the file has no movie header)")
        }

        // Fragmented, fragments not all held, no duration in the header: read the tail.
        if m.fragmented, !reachedEnd, m.duration == 0, m.fragmentDuration == 0, let vid = primaryID,
           let t = src.total, stats.sidxTicks == 0 {
            switch fragmentTail(src, total: t, from: offset, movie: m, trackID: vid, stats: &stats) {
            case .need(let req): return req
            case .done: break
            }
        }
        if m.fragmented, reachedEnd { stats.sidxTicks = 0 }  // the samples seen are the whole story
        return describe(&m, stats: stats, fragmentsComplete: reachedEnd, major: major, detected: detected, src: src, limits: limits)
    }

    // MARK: - Result

    static func describe(_ m: inout MP4Movie, stats: MP4FragmentStats, fragmentsComplete: Bool, major: UInt32?,
                         detected: MediaFormat, src: AVSource, limits: ProbeLimits) -> FormatParse {
        var info = MediaInfo()
        info.size = src.total
        let movieSeconds: Double? = m.timescale > 0 && m.duration > 0 && m.duration != UInt64.max
            ? Double(m.duration) / Double(m.timescale) : nil
        let isQuickTime = detected == .mov || major == avFourCC("qt  ")

        if let vi = pickVideo(m.tracks) {
            let v = m.tracks[vi]
            let w = v.entryWidth > 0 ? v.entryWidth : avRound(v.tkhdWidth) ?? 0
            let h = v.entryHeight > 0 ? v.entryHeight : avRound(v.tkhdHeight) ?? 0
            if let refusal = AVProbe.checkDimensions(w, h, limits) { return refusal }
            // The displayed frame's sides (MediaOrientation): a quarter turn swaps them.
            let swap = MediaOrientation.swapsSides(v.orientation)
            info.width = (swap ? h : w) > 0 ? (swap ? h : w) : nil
            info.height = (swap ? w : h) > 0 ? (swap ? w : h) : nil
            info.orientation = v.orientation
            info.codec = v.sampleEntry.map(videoCodecName)
            info.format = isQuickTime ? .mov : .mp4
            info.mimeType = isQuickTime ? "video/quicktime" : "video/mp4"
            let ts = Double(v.timescale)
            var frames = v.sampleCount
            var ticks = v.sttsTicks
            if m.fragmented {
                frames &+= stats.samples
                ticks += stats.ticks
            }
            info.duration = avPositive(seconds(m, track: v, movieSeconds: movieSeconds, ticks: ticks,
                                               stats: stats, fragmentsComplete: fragmentsComplete))
            var durations = v.sttsDurations
            if m.fragmented { durations.merge(stats.durations) }
            if ts > 0, let d = durations.dominant {
                info.fps = avSnapFPS(ts / Double(d))
            } else if ts > 0, ticks > 0, frames > 0 {
                info.fps = avSnapFPS(Double(frames) * ts / ticks)
            }
            if !m.fragmented || fragmentsComplete {
                info.frameCount = frames > 0 ? Int(exactly: frames) : nil
            } else if let dominant = durations.dominant, let d = info.duration, ts > 0 {
                // Fragments past the bytes read were not counted: the samples seen, plus the
                // rest of the duration in samples of the dominant length.
                info.frameCount = avRound(Double(frames) + max(0, d * ts - ticks) / Double(dominant))
            }
            return .described(info)
        }

        if let ai = m.tracks.firstIndex(where: { $0.isAudio }) {
            let a = m.tracks[ai]
            info.format = .m4a
            info.mimeType = "audio/mp4"
            info.codec = a.sampleEntry.map { audioCodecName($0, objectType: a.objectType) }
            var rate = a.sampleRate
            if rate < 1 || (a.timescale > 65535 && Double(a.timescale) != rate) { rate = Double(a.timescale) }
            info.sampleRate = rate >= 1 ? avRound(rate) : nil
            // AAC: the decoder configuration's channel count (ISO writers put a template 2 in the entry).
            let ch = a.ascChannels > 0 ? a.ascChannels : a.channels
            info.channels = ch > 0 ? ch : nil
            if info.codec == "pcm", a.sampleSize > 0 { info.bitDepth = a.sampleSize }
            var ticks = a.sttsTicks
            if m.fragmented { ticks += stats.ticks }
            info.duration = avPositive(seconds(m, track: a, movieSeconds: movieSeconds, ticks: ticks,
                                               stats: stats, fragmentsComplete: fragmentsComplete))
            return .described(info)
        }
        return .refused(code: .unsupportedType, message: "the file has no audio or video track")
    }

    /// The duration: mvhd, else mehd, else (fragmented, not all fragments read) sidx or the last
    /// fragment's end time, else the samples' ticks, else the track's mdhd.
    static func seconds(_ m: MP4Movie, track: MP4Track, movieSeconds: Double?, ticks: Double,
                        stats: MP4FragmentStats, fragmentsComplete: Bool) -> Double? {
        if let s = movieSeconds { return s }
        let ts = Double(track.timescale)
        if m.fragmented {
            if m.fragmentDuration > 0, m.timescale > 0 { return Double(m.fragmentDuration) / Double(m.timescale) }
            if !fragmentsComplete {
                if stats.sidxTicks > 0, stats.sidxTimescale > 0 { return stats.sidxTicks / Double(stats.sidxTimescale) }
                if let end = stats.endTime, ts > 0 { return (end - Double(stats.firstDecodeTime ?? 0)) / ts }
                return nil
            }
        }
        if ts > 0, ticks > 0 { return ticks / ts }
        if ts > 0, track.mediaDuration > 0, track.mediaDuration != UInt64.max { return Double(track.mediaDuration) / ts }
        return nil
    }

    /// The first enabled video track with samples, else the first video track.
    static func pickVideo(_ tracks: [MP4Track]) -> Int? {
        tracks.firstIndex { $0.isVideo && $0.enabled && $0.sampleEntry != nil }
            ?? tracks.firstIndex { $0.isVideo }
    }

    static func videoCodecName(_ fourCC: UInt32) -> String {
        switch avFourCCString(fourCC) {
        case "avc1", "avc2", "avc3", "avc4": return "h264"
        case "hvc1", "hev1", "dvh1", "dvhe": return "hevc"
        case "av01": return "av1"
        case "vp09": return "vp9"
        case "vp08": return "vp8"
        case "mp4v": return "mpeg4"
        case "apch", "apcn", "apcs", "apco", "ap4h", "ap4x": return "prores"
        case "jpeg", "mjpa", "mjpb": return "mjpeg"
        case "s263", "h263": return "h263"
        case "mp2v", "xdvc", "xd5c": return "mpeg2video"
        case let other: return other
        }
    }

    static func audioCodecName(_ fourCC: UInt32, objectType: UInt8?) -> String {
        switch avFourCCString(fourCC) {
        case "mp4a":
            switch objectType {
            case 0x69, 0x6B: return "mp3"
            case 0xA5: return "ac3"
            case 0xA6: return "eac3"
            case 0xAD: return "opus"
            case 0xDD: return "vorbis"
            default: return "aac"
            }
        case ".mp3": return "mp3"
        case "alac": return "alac"
        case "fLaC": return "flac"
        case "Opus": return "opus"
        case "ac-3": return "ac3"
        case "ec-3": return "eac3"
        case "samr": return "amr_nb"
        case "sawb": return "amr_wb"
        case "sowt", "twos", "lpcm", "in24", "in32", "fl32", "fl64", "raw", "NONE", "ipcm", "fpcm": return "pcm"
        case "ulaw": return "mulaw"
        case "alaw": return "alaw"
        case let other: return other
        }
    }

    static func corrupt(_ message: String) -> FormatParse { .refused(code: .corrupt, message: message) }

    static func isPlausibleFirstBox(_ type: UInt32) -> Bool {
        switch type {
        case MP4Box.ftyp, MP4Box.moov, MP4Box.mdat, MP4Box.wide, MP4Box.pnot, MP4Box.free, MP4Box.skip, MP4Box.uuid,
             MP4Box.sidx, MP4Box.moof, avFourCC("styp"):
            return true
        default: return false
        }
    }

    // MARK: - moov

    enum MoovResult { case success(MP4Movie), failure(String) }

    static func parseMoov(_ body: AVByteReader) -> MoovResult {
        var m = MP4Movie()
        var it = MP4BoxIterator(body)
        var sawHeader = false
        var trexList: [(id: UInt32, duration: UInt32)] = []
        while let (type, b) = it.next() {
            switch type {
            case MP4Box.mvhd:
                var r = b
                guard let version = r.u8(), r.skip(3) else { continue }
                if version == 1 {
                    guard r.skip(16), let ts = r.u32be(), let d = r.u64be() else { continue }
                    m.timescale = ts; m.duration = d
                } else {
                    guard r.skip(8), let ts = r.u32be(), let d = r.u32be() else { continue }
                    m.timescale = ts; m.duration = d == UInt32.max ? 0 : UInt64(d)
                }
                sawHeader = true
            case MP4Box.trak:
                if m.tracks.count < MP4Movie.maxTracks, let t = parseTrak(b) { m.tracks.append(t) }
            case MP4Box.mvex:
                m.fragmented = true
                var inner = MP4BoxIterator(b)
                while let (t2, b2) = inner.next() {
                    var r = b2
                    if t2 == MP4Box.mehd {
                        guard let version = r.u8(), r.skip(3) else { continue }
                        if version == 1 { m.fragmentDuration = r.u64be() ?? 0 } else { m.fragmentDuration = UInt64(r.u32be() ?? 0) }
                    } else if t2 == MP4Box.trex {
                        guard r.skip(4), let id = r.u32be(), r.skip(4), let dur = r.u32be() else { continue }
                        if trexList.count < MP4Movie.maxTracks { trexList.append((id, dur)) }
                    }
                }
            default:
                break
            }
        }
        // Applied after the loop: mvex may come before the traks in odd files.
        for (id, d) in trexList {
            for i in m.tracks.indices where m.tracks[i].id == id { m.tracks[i].trexDuration = d }
        }
        if !sawHeader, m.tracks.isEmpty {
            return .failure(it.malformed ? "moov box is malformed" : "moov box has no movie header or tracks")
        }
        return .success(m)
    }

    static func parseTrak(_ body: AVByteReader) -> MP4Track? {
        var t = MP4Track()
        var it = MP4BoxIterator(body)
        var any = false
        while let (type, b) = it.next() {
            if type == MP4Box.tkhd {
                var r = b
                guard let version = r.u8(), let flags = r.u24be() else { continue }
                t.enabled = flags & 1 != 0
                if version == 1 {
                    guard r.skip(16), let id = r.u32be() else { continue }
                    t.id = id
                    guard r.skip(4 + 8 + 16) else { continue }
                } else {
                    guard r.skip(8), let id = r.u32be() else { continue }
                    t.id = id
                    guard r.skip(4 + 4 + 16) else { continue }
                }
                // The display matrix {a b u c d v x y w}: a quarter or half turn is an orientation.
                guard let a = r.u32be(), let b = r.u32be(), r.skip(4), let c = r.u32be(), let d = r.u32be(), r.skip(16) else { continue }
                t.orientation = MediaOrientation.matrix(a: Int32(bitPattern: a), b: Int32(bitPattern: b), c: Int32(bitPattern: c), d: Int32(bitPattern: d))
                if let w = r.u32be(), let h = r.u32be() {
                    t.tkhdWidth = Double(w) / 65536
                    t.tkhdHeight = Double(h) / 65536
                }
                any = true
            } else if type == MP4Box.mdia {
                parseMdia(b, into: &t)
                any = true
            }
        }
        return any ? t : nil
    }

    static func parseMdia(_ body: AVByteReader, into t: inout MP4Track) {
        var it = MP4BoxIterator(body)
        var minf: AVByteReader?
        while let (type, b) = it.next() {
            var r = b
            switch type {
            case MP4Box.mdhd:
                guard let version = r.u8(), r.skip(3) else { continue }
                if version == 1 {
                    guard r.skip(16), let ts = r.u32be(), let d = r.u64be() else { continue }
                    t.timescale = ts; t.mediaDuration = d
                } else {
                    guard r.skip(8), let ts = r.u32be(), let d = r.u32be() else { continue }
                    t.timescale = ts; t.mediaDuration = d == UInt32.max ? 0 : UInt64(d)
                }
            case MP4Box.hdlr:
                guard r.skip(8), let h = r.u32be() else { continue }
                t.handler = h
            case MP4Box.minf:
                minf = b
            default:
                break
            }
        }
        // The handler decides how the sample entry reads, so minf comes after hdlr.
        guard let minf else { return }
        var mi = MP4BoxIterator(minf)
        while let (type, b) = mi.next() {
            guard type == MP4Box.stbl else { continue }
            var st = MP4BoxIterator(b)
            while let (t2, b2) = st.next() {
                switch t2 {
                case MP4Box.stsd: parseStsd(b2, into: &t)
                case MP4Box.stts: parseStts(b2, into: &t)
                case MP4Box.stsz, MP4Box.stz2:
                    var r = b2
                    guard r.skip(4 + 4), let n = r.u32be() else { continue }
                    t.stszSamples = UInt64(n)
                default: break
                }
            }
            break
        }
    }

    static func parseStsd(_ body: AVByteReader, into t: inout MP4Track) {
        var r = body
        guard r.skip(4), let count = r.u32be(), count > 0 else { return }
        var it = MP4BoxIterator(r.rest())
        guard let (type, entry) = it.next() else { return }
        t.sampleEntry = type
        // Offsets below are from the start of the entry's body (after size and type); the body
        // starts with 6 reserved bytes and a 2-byte data reference index.
        if t.handler == MP4Box.vide {
            if let w = entry.uintBE(at: 24, 2), let h = entry.uintBE(at: 26, 2) {
                t.entryWidth = Int(w); t.entryHeight = Int(h)
            }
        } else if t.handler == MP4Box.soun {
            let version = entry.uintBE(at: 8, 2) ?? 0
            var children = 28
            if version == 2 {
                // QuickTime sound description v2: a float64 rate and a 32-bit channel count.
                if let bits = entry.uintBE(at: 32, 8) {
                    let rate = Double(bitPattern: bits)
                    if rate.isFinite, rate > 0, rate < 10_000_000 { t.sampleRate = rate }
                }
                if let ch = entry.uintBE(at: 40, 4), ch < 1024 { t.channels = Int(ch) }
                if let bits = entry.uintBE(at: 48, 4), bits <= 64 { t.sampleSize = Int(bits) }
                children = 64
            } else {
                if let ch = entry.uintBE(at: 16, 2) { t.channels = Int(ch) }
                if let ss = entry.uintBE(at: 18, 2) { t.sampleSize = Int(ss) }
                if let sr = entry.uintBE(at: 24, 4) { t.sampleRate = Double(sr >> 16) }
                if version == 1 { children = 44 }
            }
            var er = entry
            if er.seek(to: children) { scanAudioExtensions(er.rest(), into: &t, depth: 0) }
        }
    }

    /// Finds `esds` (directly or inside QuickTime's `wave`) and reads its codec and config.
    static func scanAudioExtensions(_ body: AVByteReader, into t: inout MP4Track, depth: Int) {
        var it = MP4BoxIterator(body)
        while let (type, b) = it.next() {
            if type == MP4Box.esds {
                parseEsds(b, into: &t)
                return
            }
            if type == MP4Box.wave, depth == 0 { scanAudioExtensions(b, into: &t, depth: 1) }
        }
    }

    /// ES_Descriptor → DecoderConfigDescriptor (object type) → DecoderSpecificInfo (AAC config).
    static func parseEsds(_ body: AVByteReader, into t: inout MP4Track) {
        var r = body
        guard r.skip(4) else { return }
        func descriptor(_ r: inout AVByteReader) -> (tag: UInt8, length: Int)? {
            guard let tag = r.u8() else { return nil }
            var len = 0
            for _ in 0..<4 {
                guard let b = r.u8() else { return nil }
                len = (len << 7) | Int(b & 0x7F)
                if b & 0x80 == 0 { break }
            }
            return (tag, len)
        }
        guard let es = descriptor(&r), es.tag == 0x03, r.skip(2), let flags = r.u8() else { return }
        if flags & 0x80 != 0 { guard r.skip(2) else { return } }
        if flags & 0x40 != 0 { guard let n = r.u8(), r.skip(Int(n)) else { return } }
        if flags & 0x20 != 0 { guard r.skip(2) else { return } }
        guard let dc = descriptor(&r), dc.tag == 0x04, let oti = r.u8() else { return }
        t.objectType = oti
        guard r.skip(12), let ds = descriptor(&r), ds.tag == 0x05, ds.length >= 2, let asc = r.peek(min(ds.length, r.remaining)) else { return }
        // AudioSpecificConfig: object type (5 bits, 31 = escape + 6), frequency index (4, 15 =
        // explicit 24-bit frequency), channel configuration (4).
        var bits = AVBitReader(asc)
        guard var aot = bits.read(5) else { return }
        if aot == 31 { aot = 32 + (bits.read(6) ?? 0) }
        guard let fi = bits.read(4) else { return }
        if fi == 15 { _ = bits.read(24) }
        if let cc = bits.read(4), cc > 0, cc <= 7 {
            // Parametric stereo (object type 29) decodes a mono core to stereo.
            t.ascChannels = cc == 7 ? 8 : (aot == 29 && cc == 1 ? 2 : Int(cc))
        }
    }

    static func parseStts(_ body: AVByteReader, into t: inout MP4Track) {
        var r = body
        guard r.skip(4), let n = r.u32be() else { return }
        let count = min(Int(n), r.remaining / 8)
        var samples: UInt64 = 0
        var ticks = 0.0
        for _ in 0..<count {
            guard let c = r.u32be(), let d = r.u32be() else { break }
            let (s, o) = samples.addingReportingOverflow(UInt64(c))
            if o { break }
            samples = s
            ticks += Double(c) * Double(d)
            t.sttsDurations.add(d, UInt64(c))
        }
        t.sttsSamples = samples
        t.sttsTicks = ticks
    }

    // MARK: - Fragments

    /// Adds the samples of `trackID` in one `moof` body to `stats`; returns the fragment's end
    /// time (decode time after its last sample) when its `tfdt` says where it starts.
    @discardableResult
    static func scanMoof(_ body: AVByteReader, trackID: UInt32, trexDuration: UInt32, into stats: inout MP4FragmentStats) -> Double? {
        var it = MP4BoxIterator(body)
        var end: Double?
        while let (type, traf) = it.next() {
            guard type == MP4Box.traf else { continue }
            var ti = MP4BoxIterator(traf)
            var matches = false
            var defaultDuration = trexDuration
            var decodeTime: UInt64?
            var ticks = 0.0
            var samples: UInt64 = 0
            while let (t2, b) = ti.next() {
                var r = b
                switch t2 {
                case MP4Box.tfhd:
                    guard r.skip(1), let flags = r.u24be(), let id = r.u32be() else { continue }
                    matches = id == trackID
                    if flags & 0x01 != 0 { guard r.skip(8) else { continue } }
                    if flags & 0x02 != 0 { guard r.skip(4) else { continue } }
                    if flags & 0x08 != 0, let d = r.u32be() { defaultDuration = d }
                case MP4Box.tfdt where matches:
                    guard let version = r.u8(), r.skip(3) else { continue }
                    decodeTime = version == 1 ? r.u64be() : r.u32be().map(UInt64.init)
                case MP4Box.trun where matches:
                    guard r.skip(1), let flags = r.u24be(), let n = r.u32be() else { continue }
                    if flags & 0x001 != 0 { guard r.skip(4) else { continue } }
                    if flags & 0x004 != 0 { guard r.skip(4) else { continue } }
                    let perSample = (flags & 0x100 != 0 ? 4 : 0) + (flags & 0x200 != 0 ? 4 : 0)
                        + (flags & 0x400 != 0 ? 4 : 0) + (flags & 0x800 != 0 ? 4 : 0)
                    var count = UInt64(n)
                    if flags & 0x100 != 0 {
                        count = min(count, UInt64(r.remaining / perSample))
                        for _ in 0..<Int(count) {
                            guard let d = r.u32be() else { break }
                            ticks += Double(d)
                            stats.durations.add(d, 1)
                            r.skip(perSample - 4)
                        }
                    } else {
                        if perSample > 0 { count = min(count, UInt64(r.remaining / perSample)) }
                        ticks += Double(count) * Double(defaultDuration)
                        stats.durations.add(defaultDuration, count)
                    }
                    samples &+= count
                default:
                    break
                }
            }
            guard matches else { continue }
            stats.samples &+= samples
            stats.ticks += ticks
            if let dt = decodeTime {
                if stats.firstDecodeTime == nil { stats.firstDecodeTime = dt }
                let e = Double(dt) + ticks
                end = max(end ?? 0, e)
                stats.endTime = max(stats.endTime ?? 0, e)
            }
        }
        return end
    }

    /// `sidx`: the sum of its subsegment durations.
    static func scanSidx(_ body: AVByteReader, into stats: inout MP4FragmentStats) {
        var r = body
        guard let version = r.u8(), r.skip(3 + 4), let ts = r.u32be() else { return }
        guard r.skip(version == 0 ? 8 : 16), r.skip(2), let n = r.u16be() else { return }
        var ticks = 0.0
        for _ in 0..<Int(n) {
            guard r.skip(4), let d = r.u32be(), r.skip(4) else { break }
            ticks += Double(d)
        }
        if ticks > 0, stats.sidxTicks == 0 { stats.sidxTicks = ticks; stats.sidxTimescale = ts }
    }

    enum TailStep { case need(FormatParse), done }

    /// Finds the last fragment of the video track from the end of the file: `mfra` (its last
    /// `tfra` entry names the last fragment's `moof`) or, without one, a `moof` found by scanning
    /// the last 64 KiB; that fragment's `tfdt` plus its sample durations is the end time.
    static func fragmentTail(_ src: AVSource, total: Int64, from walked: Int64, movie: MP4Movie, trackID: UInt32,
                             stats: inout MP4FragmentStats) -> TailStep {
        // Everything before `walked` was seen by the forward walk.
        let tailStart = min(total, max(walked, total - fragmentTail))
        guard let tail = src.reader(at: tailStart, count: Int(total - tailStart)) else {
            if let req = src.request(tailStart, Int(total - tailStart)) { return .need(req) }
            return .done
        }
        let trex = movie.tracks.first { $0.id == trackID }?.trexDuration ?? 0
        var moofOffset: Int64?
        // mfro: the last 16 bytes give mfra's size.
        if total - tailStart >= 16, let mfroType = tail.uintBE(at: Int(total - tailStart) - 12, 4), UInt32(mfroType) == MP4Box.mfro,
           let mfraSize = tail.uintBE(at: Int(total - tailStart) - 4, 4), mfraSize >= 16, Int64(mfraSize) <= total - tailStart {
            let mfraStart = Int(total - tailStart) - Int(mfraSize)
            var mr = tail
            if mr.seek(to: mfraStart), let size = mr.u32be(), size == UInt32(mfraSize), mr.u32be() == MP4Box.mfra,
               let body = mr.read(Int(size) - 8) {
                var it = MP4BoxIterator(AVByteReader(body, base: tailStart + Int64(mfraStart) + 8))
                while let (type, b) = it.next() {
                    guard type == MP4Box.tfra else { continue }
                    if let off = lastTfraOffset(b, trackID: trackID) { moofOffset = max(moofOffset ?? 0, off) }
                }
            }
        }
        if moofOffset == nil {
            // Scan backwards for "moof" whose first child is "mfhd".
            let bytes = tail.bytes
            var i = bytes.endIndex - 16
            var attempts = 0  // bounded work on a hostile tail full of fake headers
            while i >= bytes.startIndex + 4, attempts < 64 {
                if bytes[i] == 0x6D, bytes[i + 1] == 0x6F, bytes[i + 2] == 0x6F, bytes[i + 3] == 0x66,
                   bytes[i + 8] == 0x6D, bytes[i + 9] == 0x66, bytes[i + 10] == 0x68, bytes[i + 11] == 0x64 {
                    attempts += 1
                    let candidate = tailStart + Int64(i - 4 - bytes.startIndex)
                    if let r = src.reader(at: candidate, count: 8), let size = r.uintBE(at: 0, 4), size >= 24,
                       Int64(size) <= total - candidate {
                        var sub = MP4FragmentStats()
                        if let body = src.reader(at: candidate + 8, count: Int(size) - 8),
                           scanMoof(body, trackID: trackID, trexDuration: trex, into: &sub) != nil {
                            moofOffset = candidate
                            break
                        }
                    }
                }
                i -= 1
            }
        }
        guard let mo = moofOffset, mo >= 0, mo < total else { return .done }
        guard let hr = src.reader(at: mo, count: 8) else {
            if let req = src.request(mo, 16 * 1024) { return .need(req) }
            return .done
        }
        guard let size = hr.uintBE(at: 0, 4), hr.uintBE(at: 4, 4).map(UInt32.init) == MP4Box.moof,
              size >= 16, Int64(size) <= maxMoof, Int64(size) <= total - mo else { return .done }
        guard let body = src.reader(at: mo + 8, count: Int(size) - 8) else {
            if let req = src.request(mo, Int(size)) { return .need(req) }
            return .done
        }
        var last = MP4FragmentStats()
        if let end = scanMoof(body, trackID: trackID, trexDuration: trex, into: &last) {
            stats.endTime = max(stats.endTime ?? 0, end)
        }
        if stats.samples == 0 {
            // No fragment was in the head: the last one gives the frame rate.
            stats.samples = last.samples
            stats.ticks = last.ticks
            stats.durations = last.durations
            if stats.firstDecodeTime == nil { stats.firstDecodeTime = 0 }
        }
        return .done
    }

    /// The largest `moof` offset in a `tfra` for `trackID`.
    static func lastTfraOffset(_ body: AVByteReader, trackID: UInt32) -> Int64? {
        var r = body
        guard let version = r.u8(), r.skip(3), let id = r.u32be(), id == trackID, let sizes = r.u32be(), let n = r.u32be() else { return nil }
        let skipBytes = Int((sizes >> 4) & 3) + 1 + Int((sizes >> 2) & 3) + 1 + Int(sizes & 3) + 1
        let entry = (version == 1 ? 16 : 8) + skipBytes
        let count = min(Int(n), r.remaining / entry)
        var best: Int64?
        for _ in 0..<count {
            let off: UInt64?
            if version == 1 { guard r.skip(8) else { break }; off = r.u64be() } else { guard r.skip(4) else { break }; off = r.u32be().map(UInt64.init) }
            guard let o = off.flatMap(avInt64), r.skip(skipBytes) else { break }
            best = max(best ?? 0, o)
        }
        return best
    }
}
