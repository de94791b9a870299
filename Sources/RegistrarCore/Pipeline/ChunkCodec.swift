/// The wire form of a chunk: compact JSON, written and read by our own code only (coordinator →
/// RabbitMQ → worker). Short keys keep a 500-unit chunk around 100 KB.
///
/// `{"job","seq","folder","skip","units":[{"i","t","u":[…],"ti"?,"ts"?,"m"?,"s"?,"k","loc":[section,index,line,lastLine?]} |
///   {"i","t"?,"u":[…],"e":[{"c","f"?,"msg"}],"loc":[…]}]}`
public enum ChunkCodec {
    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ chunk: Chunk) -> [UInt8] {
        var out = ""
        out.reserveCapacity(chunk.entries.count * 200)
        out += "{\"job\":"; JSONValue.writeString(chunk.jobID, to: &out)
        out += ",\"seq\":\(chunk.seq),\"folder\":"; JSONValue.writeString(chunk.folderID, to: &out)
        out += ",\"skip\":\(chunk.skipDuplicates),\"units\":["
        for (n, entry) in chunk.entries.enumerated() {
            if n > 0 { out += "," }
            switch entry {
            case .unit(let u):
                out += "{\"i\":\(u.index),\"t\":\"\(u.type.rawValue)\",\"u\":"
                writeStrings(u.urls, &out)
                if let t = u.givenTitle { out += ",\"ti\":"; JSONValue.writeString(t, to: &out) }
                if u.titleStyle == .fileName { out += ",\"ts\":\"file\"" }
                if u.maxTitleCharacters != ManifestLimits.default.maxTitleCharacters { out += ",\"tl\":\(u.maxTitleCharacters)" }
                if let m = u.clientMetadata { out += ",\"m\":" + m }
                if let s = u.suppliedMetadata { out += ",\"s\":"; encodeSupplied(s).write(to: &out) }
                out += ",\"k\":"; JSONValue.writeString(u.urlKey, to: &out)
                writeLocation(u.location, &out)
                out += "}"
            case .rejected(let r):
                out += "{\"i\":\(r.index)"
                if let t = r.type { out += ",\"t\":\"\(t.rawValue)\"" }
                out += ",\"u\":"
                writeStrings(r.urls, &out)
                out += ",\"e\":["
                for (k, e) in r.errors.enumerated() {
                    if k > 0 { out += "," }
                    out += "{\"c\":\"\(e.code.rawValue)\""
                    if let f = e.field { out += ",\"f\":"; JSONValue.writeString(f, to: &out) }
                    out += ",\"msg\":"; JSONValue.writeString(e.message, to: &out)
                    out += "}"
                }
                out += "]"
                writeLocation(r.location, &out)
                out += "}"
            }
        }
        out += "]}"
        return Array(out.utf8)
    }

    public static func decode(_ bytes: [UInt8]) throws -> Chunk {
        let tokenizer = JSONTokenizer(source: MemoryByteSource(bytes), blockSize: max(64, min(bytes.count, 1 << 20)))
        var budget = Int.max
        let root: JSONValue
        do {
            root = try tokenizer.readValue(after: try tokenizer.next(), budget: &budget)
        } catch {
            throw DecodeError(description: "chunk is not valid JSON: \(error)")
        }
        guard case .string(let job)? = root["job"], case .number(let seqText)? = root["seq"], let seq = Int(seqText),
              case .string(let folder)? = root["folder"], case .bool(let skip)? = root["skip"],
              case .array(let units)? = root["units"] else {
            throw DecodeError(description: "chunk lacks job, seq, folder, skip or units")
        }
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(units.count)
        for u in units {
            guard case .number(let iText)? = u["i"], let index = Int(iText), case .array(let urlValues)? = u["u"],
                  case .array(let locValues)? = u["loc"], locValues.count >= 3,
                  case .string(let section) = locValues[0], case .number(let idxText) = locValues[1], let idx = Int(idxText),
                  case .number(let lineText) = locValues[2], let line = Int(lineText) else {
                throw DecodeError(description: "chunk \(job)/\(seq): malformed unit")
            }
            var lastLine: Int?
            if locValues.count > 3, case .number(let t) = locValues[3] { lastLine = Int(t) }
            let location = ItemLocation(section: section, indexInSection: idx, line: line, lastLine: lastLine)
            let urls = urlValues.compactMap { v -> String? in if case .string(let s) = v { return s } else { return nil } }
            var type: DataType?
            if case .string(let t)? = u["t"] { type = DataType(rawValue: t) }
            if case .array(let errs)? = u["e"] {
                let errors = errs.map { e -> ManifestIssue in
                    var code = IssueCode.invalidType
                    if case .string(let c)? = e["c"], let parsed = IssueCode(rawValue: c) { code = parsed }
                    var field: String?
                    if case .string(let f)? = e["f"] { field = f }
                    var message = ""
                    if case .string(let m)? = e["msg"] { message = m }
                    return ManifestIssue(.error, code, item: location.itemName, field: field, message: message, line: line)
                }
                entries.append(.rejected(RejectedItem(index: index, type: type, urls: urls, location: location, errors: errors)))
                continue
            }
            guard let type, case .string(let key)? = u["k"], !urls.isEmpty else {
                throw DecodeError(description: "chunk \(job)/\(seq): unit \(index) lacks type, key or URLs")
            }
            var givenTitle: String?
            if case .string(let t)? = u["ti"] { givenTitle = t }
            var style: RegistrationUnit.TitleStyle = .urlPath
            if case .string("file")? = u["ts"] { style = .fileName }
            var maxTitle = ManifestLimits.default.maxTitleCharacters
            if case .number(let t)? = u["tl"], let v = Int(t) { maxTitle = v }
            let supplied = try u["s"].map { try decodeSupplied($0, type: type) }
            entries.append(.unit(RegistrationUnit(index: index, type: type, urls: urls, titleStyle: style, givenTitle: givenTitle,
                                                  maxTitleCharacters: maxTitle, clientMetadata: u["m"]?.compactText,
                                                  suppliedMetadata: supplied, urlKey: key, location: location)))
        }
        return Chunk(jobID: job, seq: seq, folderID: folder, skipDuplicates: skip, entries: entries)
    }

    private static func writeStrings(_ values: [String], _ out: inout String) {
        out += "["
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            JSONValue.writeString(v, to: &out)
        }
        out += "]"
    }

    private static func writeLocation(_ l: ItemLocation, _ out: inout String) {
        out += ",\"loc\":["
        JSONValue.writeString(l.section, to: &out)
        out += ",\(l.indexInSection),\(l.line)"
        if let last = l.lastLine { out += ",\(last)" }
        out += "]"
    }

    private static func num(_ d: Double) -> JSONValue { .number(d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)") }
    private static func num(_ i: Int) -> JSONValue { .number(String(i)) }

    /// Supplied metadata in the manifest's own camelCase-free spelling (snake_case), so the same
    /// parser reads it back.
    static func encodeSupplied(_ s: SuppliedMetadata) -> JSONValue {
        switch s {
        case .video(let v):
            return .object([("fps", num(v.fps)), ("duration", num(v.duration)), ("width", num(v.width)), ("height", num(v.height)),
                            ("file_size", num(v.fileSize)), ("mime_type", .string(v.mimeType))])
        case .audio(let a):
            return .object([("duration", num(a.duration)), ("file_size", num(a.fileSize)), ("mime_type", .string(a.mimeType)),
                            ("sample_rate", num(a.sampleRate)), ("bit_depth", num(a.bitDepth)), ("codec", .string(a.codec)),
                            ("num_channels", num(a.numChannels))])
        case .image(let i):
            return .object([("mime_type", .string(i.mimeType)), ("file_size", num(i.fileSize)), ("width", num(i.width)), ("height", num(i.height))])
        case .pdf(let p):
            return .object([("file_size", num(p.fileSize)), ("num_pages", num(p.numPages))])
        case .text(let t):
            return .object([("file_size", num(t.fileSize)), ("mime_type", .string(t.mimeType))])
        }
    }

    static func decodeSupplied(_ v: JSONValue, type: DataType) throws -> SuppliedMetadata {
        let key: String
        switch type {
        case .video: key = "videoMetadata"
        case .audio: key = "audioMetadata"
        case .image: key = "imageMetadata"
        case .pdf: key = "pdfMetadata"
        case .text: key = "textMetadata"
        default: throw DecodeError(description: "supplied metadata on a \(type.rawValue) unit")
        }
        switch SuppliedMetadataParser.parse(v, blockKey: key, for: type) {
        case .success(let m): return m
        case .failure(let f): throw DecodeError(description: "bad supplied metadata: \(f.issues.map(\.message))")
        }
    }
}
