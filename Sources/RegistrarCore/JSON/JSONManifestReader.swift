/// Reads a JSON registration manifest (Encord's format) as a stream of items.
///
/// The document is one object whose keys name data types and hold arrays of items:
/// `images`, `videos`, `audio`, `pdfs`, `text`, `nifti` (one file per item), `image_groups`
/// (`createVideo` true → image sequence, else image group) and `dicom_series`
/// (`objectUrl_N` fields), plus the flag `skip_duplicate_urls`. The SDK's camelCase dialect
/// (`imageGroups`, `dicomSeries`, `skipDuplicateUrls`, `pdf`) is accepted too.
///
/// Tolerant reading (each with a warning, nothing dropped silently):
/// trailing commas are accepted; a repeated top-level key keeps the items of every occurrence;
/// unknown keys are skipped. See docs/manifests.md for the whole policy.
public struct JSONManifestReader: ManifestReader {
    private enum Section {
        case single(DataType)
        case imageGroups
        case dicomSeries

        init?(name: String) {
            switch name {
            case "images": self = .single(.image)
            case "videos": self = .single(.video)
            case "audio": self = .single(.audio)
            case "pdfs", "pdf": self = .single(.pdf)
            case "text": self = .single(.text)
            case "nifti": self = .single(.nifti)
            case "image_groups", "imageGroups": self = .imageGroups
            case "dicom_series", "dicomSeries": self = .dicomSeries
            default: return nil
            }
        }
    }

    private let tokenizer: JSONTokenizer
    private let limits: ManifestLimits
    private var counter: EntryCounter
    public private(set) var options = ManifestOptions()
    private var issues: [ManifestIssue] = []

    private var started = false
    private var finished = false
    /// The section whose array we are inside, with its name as written.
    private var current: (section: Section, name: String)?
    private var seenKeys: Set<String> = []
    /// Items read per section name (a repeated section continues its count). The open section's
    /// count lives in `currentCount` while it is read, so items cost no dictionary lookup.
    private var sectionCounts: [String: Int] = [:]
    private var currentCount = 0
    private var currentStart = 0
    private var skipFlagSeen: Bool?

    public init(source: some ByteSource, limits: ManifestLimits = .default, blockSize: Int = 1 << 20) {
        var t = JSONTokenizer.Limits()
        t.maxDepth = limits.maxDepth
        t.maxStringBytes = limits.maxStringBytes
        t.maxTotalBytes = limits.maxFileBytes
        tokenizer = JSONTokenizer(source: source, limits: t, blockSize: blockSize)
        self.limits = limits
        counter = EntryCounter(limits: limits)
    }

    public var bytesRead: Int64 { tokenizer.bytesConsumed }
    public var peakBufferedBytes: Int { tokenizer.peakBufferedBytes }

    public mutating func takeIssues() -> [ManifestIssue] {
        drainTrailingCommas()
        defer { issues.removeAll(keepingCapacity: true) }
        return issues
    }

    private mutating func drainTrailingCommas() {
        for (line, offset) in tokenizer.trailingCommas {
            issues.append(ManifestIssue(.warning, .trailingComma, item: "manifest", field: nil,
                                        message: "trailing comma accepted (not strict JSON)", line: line, offset: Int(offset)))
        }
        tokenizer.trailingCommas.removeAll()
    }

    public mutating func next() throws -> ManifestEntry? {
        if finished { return nil }
        if !started {
            started = true
            let first = try tokenizer.next()
            guard first == .beginObject else {
                throw ManifestError(.notAnObject, item: "manifest",
                                    "the manifest must be a JSON object with keys such as \"images\" or \"videos\"",
                                    line: tokenizer.tokenLine, offset: Int(tokenizer.tokenOffset))
            }
        }
        while true {
            if let (section, name) = current {
                let token = try tokenizer.next()
                if token == .endArray {
                    sectionCounts[name] = currentCount
                    if currentCount == currentStart {
                        issues.append(ManifestIssue(.warning, .emptySection, item: name, message: "the \(name) array is empty",
                                                    line: tokenizer.tokenLine))
                    }
                    current = nil
                    continue
                }
                return try readItem(token, section: section, name: name)
            }
            // At the top level: a key, or the end of the document.
            let token = try tokenizer.next()
            if token == .endObject {
                let end = try tokenizer.next()
                precondition(end == .end, "tokenizer guarantees a single top-level value")
                finished = true
                drainTrailingCommas()
                return nil
            }
            let keyLine = tokenizer.tokenLine
            let key = tokenizer.stringValue()
            let repeated = !seenKeys.insert(key).inserted
            let value = try tokenizer.next()
            if let section = Section(name: key) {
                if repeated {
                    issues.append(ManifestIssue(.warning, .duplicateKey, item: key,
                                                message: "the top-level key \"\(key)\" appears more than once; the items of every occurrence are read",
                                                line: keyLine))
                }
                guard value == .beginArray else {
                    issues.append(ManifestIssue(.error, .invalidType, item: key,
                                                message: "\"\(key)\" must be an array of items, got \(kindName(value))", line: keyLine))
                    try tokenizer.skipValue(after: value)
                    continue
                }
                current = (section, key)
                currentCount = sectionCounts[key, default: 0]
                currentStart = currentCount
                continue
            }
            if key == "skip_duplicate_urls" || key == "skipDuplicateUrls" {
                guard case .bool(let flag) = value else {
                    issues.append(ManifestIssue(.error, .invalidType, item: key,
                                                message: "\(key) must be true or false, got \(kindName(value))", line: keyLine))
                    try tokenizer.skipValue(after: value)
                    continue
                }
                if let earlier = skipFlagSeen, earlier != flag {
                    issues.append(ManifestIssue(.error, .duplicateKey, item: key,
                                                message: "skip_duplicate_urls is given twice with different values", line: keyLine))
                }
                skipFlagSeen = flag
                options.skipDuplicateURLs = flag
                continue
            }
            issues.append(ManifestIssue(.warning, .unknownKey, item: key,
                                        message: "unknown top-level key \"\(key)\" ignored (known: images, videos, audio, pdfs, text, image_groups, dicom_series, nifti, skip_duplicate_urls)",
                                        line: keyLine))
            try tokenizer.skipValue(after: value)
        }
    }

    private func kindName(_ token: JSONTokenizer.Token) -> String {
        switch token {
        case .beginObject: return "an object"
        case .beginArray: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        default: return "\(token)"
        }
    }

    // MARK: - Items

    private mutating func readItem(_ first: JSONTokenizer.Token, section: Section, name: String) throws -> ManifestEntry {
        let indexInSection = currentCount
        currentCount += 1
        let location = ItemLocation(section: name, indexInSection: indexInSection, line: tokenizer.tokenLine)
        let declared: DataType
        switch section {
        case .single(let t): declared = t
        case .imageGroups: declared = .imageGroup
        case .dicomSeries: declared = .dicomSeries
        }
        var raw = RawItem(type: declared, location: location, fromCSV: false)

        guard first == .beginObject else {
            raw.issues.append(ManifestIssue(.error, .notAnItemObject, item: location.itemName,
                                            message: "each item must be an object, got \(kindName(first))", line: location.line))
            try tokenizer.skipValue(after: first)
            return try finish(raw)
        }

        var createVideo: Bool?
        var seenTitle = false, seenClientMetadata = false, seenURL = false
        let itemDepth = tokenizer.depth
        while true {
            let token = try tokenizer.next()
            if token == .endObject { break }
            // token == .key
            let t = tokenizer
            if t.stringEquals("objectUrl") {
                let value = try t.next()
                if seenURL { raw.issues.append(dup(location.itemName, "objectUrl")) }
                seenURL = true
                if declared.isMultiURL {
                    raw.issues.append(ManifestIssue(.error, .missingObjectURL, item: location.itemName, field: "objectUrl",
                                                    message: "groups and series list their files as objectUrl_0, objectUrl_1, …", line: location.line))
                    try t.skipValue(after: value)
                } else if value == .string {
                    raw.url = .init(field: "objectUrl", value: t.stringValue())
                } else {
                    raw.issues.append(ManifestIssue(.error, value == .null ? .missingObjectURL : .invalidType, item: location.itemName, field: "objectUrl",
                                                    message: "objectUrl must be a string, got \(kindName(value))", line: location.line))
                    try t.skipValue(after: value)
                }
            } else if declared.isMultiURL, let n = frameNumber(t.stringBytes) {
                let field = t.stringValue()
                let value = try t.next()
                if value == .string {
                    raw.indexedURLs.append((n, .init(field: field, value: t.stringValue())))
                } else {
                    raw.issues.append(ManifestIssue(.error, .invalidType, item: location.itemName, field: field,
                                                    message: "\(field) must be a string, got \(kindName(value))", line: location.line))
                    try t.skipValue(after: value)
                }
            } else if t.stringEquals("title") {
                let value = try t.next()
                if seenTitle { raw.issues.append(dup(location.itemName, "title")) }
                seenTitle = true
                if value == .string {
                    raw.title = t.stringValue()
                } else if value != .null {
                    raw.issues.append(ManifestIssue(.error, .invalidType, item: location.itemName, field: "title",
                                                    message: "title must be a string, got \(kindName(value))", line: location.line))
                    try t.skipValue(after: value)
                }
            } else if t.stringEquals("clientMetadata") || t.stringEquals("client_metadata") {
                let field = t.stringValue()
                let value = try t.next()
                if seenClientMetadata { raw.issues.append(dup(location.itemName, field)) }
                seenClientMetadata = true
                if value == .beginObject {
                    if let v = try readBudgeted(value, item: location.itemName, field: field, raw: &raw) {
                        raw.clientMetadata = v.compactText
                    }
                } else if value != .null {
                    raw.issues.append(ManifestIssue(.error, .invalidType, item: location.itemName, field: field,
                                                    message: "\(field) must be an object, got \(kindName(value))", line: location.line))
                    try t.skipValue(after: value)
                }
            } else if case .imageGroups = section, t.stringEquals("createVideo") || t.stringEquals("create_video") {
                let field = t.stringValue()
                let value = try t.next()
                if case .bool(let b) = value {
                    if createVideo != nil { raw.issues.append(dup(location.itemName, field)) }
                    createVideo = b
                } else {
                    raw.issues.append(ManifestIssue(.error, .invalidCreateVideo, item: location.itemName, field: field,
                                                    message: "\(field) must be true or false, got \(kindName(value))", line: location.line))
                    try t.skipValue(after: value)
                }
            } else {
                let field = t.stringValue()
                let value = try t.next()
                if SuppliedMetadataParser.blockType(forKey: field) != nil {
                    if let v = try readBudgeted(value, item: location.itemName, field: field, raw: &raw) {
                        raw.metadataBlocks.append((field, v))
                    }
                } else {
                    raw.issues.append(ManifestIssue(.warning, .unknownField, item: location.itemName, field: field,
                                                    message: "unknown field \"\(field)\" ignored", line: location.line))
                    try t.skipValue(after: value)
                }
            }
        }
        precondition(tokenizer.depth == itemDepth - 1)
        if case .imageGroups = section, createVideo == true { raw.type = .imageSequence }
        // Repeated objectUrl_N (e.g. objectUrl_1 and objectUrl_01) would make the order ambiguous.
        if raw.indexedURLs.count > 1 {
            var seen = Set<Int>()
            for entry in raw.indexedURLs where !seen.insert(entry.n).inserted {
                raw.issues.append(dup(location.itemName, entry.url.field))
            }
        }
        return try finish(raw)
    }

    /// Reads a metadata value within the per-item budget; over budget → an item error.
    private func readBudgeted(_ first: JSONTokenizer.Token, item: String, field: String,
                              raw: inout RawItem) throws -> JSONValue? {
        var budget = limits.maxItemMetadataBytes
        let depth = tokenizer.depth - (first == .beginObject || first == .beginArray ? 1 : 0)
        do {
            return try tokenizer.readValue(after: first, budget: &budget)
        } catch is JSONTokenizer.BudgetExceeded {
            try tokenizer.skipRemainder(toDepth: depth)
            raw.issues.append(ManifestIssue(.error, .metadataTooLarge, item: item, field: field,
                                            message: "\(field) is larger than the limit of \(limits.maxItemMetadataBytes) bytes",
                                            line: raw.location.line))
            return nil
        }
    }

    private func dup(_ item: String, _ field: String) -> ManifestIssue {
        ManifestIssue(.error, .duplicateField, item: item, field: field,
                      message: "\(field) appears more than once in the item", line: nil)
    }

    /// N from `objectUrl_N` (decimal digits only), nil for any other key.
    private func frameNumber(_ key: [UInt8]) -> Int? {
        let prefix: StaticString = "objectUrl_"
        let p = prefix.utf8CodeUnitCount
        guard key.count > p, key.count <= p + 9 else { return nil }
        let matches = prefix.withUTF8Buffer { lit in key.prefix(p).elementsEqual(lit) }
        guard matches else { return nil }
        var n = 0
        for b in key[p...] {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }

    private mutating func finish(_ raw: RawItem) throws -> ManifestEntry {
        try counter.emit(raw, warnings: &issues)
    }
}
