/// Turns a `RawItem` into a validated `RegistrationUnit` or a `RejectedItem`, with warnings.
/// Pure and format-agnostic: the JSON and CSV readers share every rule here.
public struct ItemValidator: Sendable {
    public var limits: ManifestLimits

    public init(limits: ManifestLimits) {
        self.limits = limits
    }

    /// Validates `raw` as the manifest's item number `index`. Warnings are appended to
    /// `warnings`; errors end up in the rejected item.
    public func validate(_ raw: RawItem, index: Int, warnings: inout [ManifestIssue]) -> ManifestEntry {
        var item: String { raw.location.itemName } // built only when an issue needs it
        let line = raw.location.line
        var errors: [ManifestIssue] = []
        for issue in raw.issues {
            if issue.severity == .error { errors.append(issue) } else { warnings.append(issue) }
        }

        // 1. URLs, in frame order.
        var fields: [RawItem.URLField] = []
        if raw.type.isMultiURL {
            fields = orderedFrameURLs(raw, item: item, line: line, errors: &errors, warnings: &warnings)
            if raw.type == .imageSequence && fields.count > limits.maxSequenceFrames {
                errors.append(ManifestIssue(.error, .sequenceTooLong, item: item, field: nil,
                                            message: "an image sequence holds at most \(limits.maxSequenceFrames) frames; this one has \(fields.count) (register a video instead)",
                                            line: line))
            }
        } else if let url = raw.url {
            fields = [url]
        } else if !errors.contains(where: { $0.field == "objectUrl" }) {
            errors.append(ManifestIssue(.error, .missingObjectURL, item: item, field: "objectUrl",
                                        message: "the item has no objectUrl", line: line))
        }
        var urls: [String] = []
        if !fields.isEmpty { urls.reserveCapacity(fields.count) }
        for f in fields {
            let outcome = ObjectURLCheck.check(f.value, csv: raw.fromCSV, maxBytes: limits.maxURLBytes,
                                               location: raw.location, field: f.field)
            for issue in outcome.issues {
                if issue.severity == .error { errors.append(issue) } else { warnings.append(issue) }
            }
            if let u = outcome.url { urls.append(u) }
        }

        // 2. Supplied metadata.
        var supplied: SuppliedMetadata?
        for block in raw.metadataBlocks {
            switch SuppliedMetadataParser.parse(block.value, blockKey: block.key, for: raw.type) {
            case .success(let m):
                if supplied != nil {
                    errors.append(ManifestIssue(.error, .duplicateField, item: item, field: block.key,
                                                message: "more than one metadata block", line: line))
                }
                supplied = m
            case .failure(let failure):
                errors.append(contentsOf: failure.issues.map {
                    ManifestIssue(.error, $0.code, item: item, field: $0.field, message: $0.message, line: line)
                })
            }
        }

        // 3. Title.
        let title = raw.title ?? ""
        if title.utf8.count > limits.maxTitleCharacters, title.count > limits.maxTitleCharacters {
            errors.append(ManifestIssue(.error, .titleTooLong, item: item, field: "title",
                                        message: "the title is \(title.count) characters long; the limit is \(limits.maxTitleCharacters)",
                                        line: line))
        }

        if !errors.isEmpty {
            // A refused item's URLs travel in chunks and land in unit errors: credentials masked.
            return .rejected(RejectedItem(index: index, type: raw.type, urls: raw.allURLValues.map(URLCredentials.masked),
                                          location: raw.location, errors: errors))
        }

        // A missing title defaults to the URL (computed when asked for: most items have none,
        // and building a million path strings nobody reads would cost a third of the scan).
        let titleStyle: RegistrationUnit.TitleStyle = title.isEmpty ? (raw.fromCSV ? .fileName : .urlPath) : .given
        if titleStyle != .given {
            if raw.type.isMultiURL && raw.type != .dicomSeries || (raw.type == .dicomSeries && !raw.fromCSV) {
                let preview = RegistrationUnit.defaultTitle(style: titleStyle, url: urls[0], maxCharacters: limits.maxTitleCharacters)
                warnings.append(ManifestIssue(.warning, .titleDefaulted, item: item, field: "title",
                                              message: "no title given; using '\(ObjectURLCheck.clip(preview))' (Encord requires a title for groups and series registered from cloud storage)",
                                              line: line))
            }
            // Only a URL longer than the limit can give a default title that needs cutting.
            if urls[0].utf8.count > limits.maxTitleCharacters,
               RegistrationUnit.defaultTitle(style: titleStyle, url: urls[0], maxCharacters: .max).count > limits.maxTitleCharacters {
                warnings.append(ManifestIssue(.warning, .titleTruncated, item: item, field: "title",
                                              message: "the default title taken from the URL was cut to its last \(limits.maxTitleCharacters) characters",
                                              line: line))
            }
        }

        if let hinted = TypeHint.type(forURL: urls[0]), !TypeHint.compatible(declared: raw.type, hinted: hinted) {
            warnings.append(ManifestIssue(.warning, .typeHintMismatch, item: item, field: fields[0].field,
                                          message: "registered as \(raw.type.rawValue), but the file name suggests \(hinted.rawValue); the content decides when the file is verified",
                                          line: line))
        }

        return .unit(RegistrationUnit(index: index, type: raw.type, urls: urls,
                                      titleStyle: titleStyle, givenTitle: titleStyle == .given ? title : nil,
                                      maxTitleCharacters: limits.maxTitleCharacters,
                                      clientMetadata: raw.clientMetadata, suppliedMetadata: supplied,
                                      urlKey: URLKey.forUnit(urls), location: raw.location))
    }

    /// `objectUrl_N` fields ordered by N; N must run 0…n-1 (1…n is accepted with a warning).
    private func orderedFrameURLs(_ raw: RawItem, item: String, line: Int,
                                  errors: inout [ManifestIssue], warnings: inout [ManifestIssue]) -> [RawItem.URLField] {
        if raw.fromCSV { return raw.indexedURLs.map(\.url) } // CSV rows are already in file order
        let sorted = raw.indexedURLs.sorted { $0.n < $1.n }
        guard let first = sorted.first else {
            errors.append(ManifestIssue(.error, .missingObjectURL, item: item, field: "objectUrl_0",
                                        message: "the \(raw.type == .dicomSeries ? "series" : "group") has no objectUrl_N fields", line: line))
            return []
        }
        if first.n == 1 {
            warnings.append(ManifestIssue(.warning, .urlIndexStartsAtOne, item: item, field: "objectUrl_1",
                                          message: "frame numbering starts at objectUrl_1, not objectUrl_0; frames are ordered by N as given", line: line))
        }
        var expected = first.n > 1 ? 0 : first.n
        for entry in sorted {
            if entry.n != expected {
                errors.append(ManifestIssue(.error, .urlIndexGap, item: item, field: "objectUrl_\(expected)",
                                            message: "objectUrl_\(expected) is missing: frames must be numbered without gaps (next present is objectUrl_\(entry.n))",
                                            line: line))
                return sorted.map(\.url)
            }
            expected += 1
        }
        return sorted.map(\.url)
    }

}

/// The type a file name suggests, used only for a warning: the bytes decide at verification.
enum TypeHint {
    /// Looks at the extension of the URL's path only (no allocation beyond the short extension).
    static func type(forURL url: String) -> DataType? {
        guard let code = url.utf8.withContiguousStorageIfAvailable({ extensionCode($0) }) ?? nil else { return nil }
        switch code {
        case pack("jpg"), pack("jpeg"), pack("png"), pack("gif"), pack("webp"), pack("bmp"), pack("tif"),
             pack("tiff"), pack("avif"), pack("heic"), pack("heif"): return .image
        case pack("mp4"), pack("mov"), pack("m4v"), pack("webm"), pack("mkv"), pack("avi"): return .video
        case pack("mp3"), pack("wav"), pack("flac"), pack("ogg"), pack("opus"), pack("m4a"), pack("aac"): return .audio
        case pack("pdf"): return .pdf
        case pack("txt"), pack("csv"), pack("html"), pack("htm"), pack("xml"), pack("json"): return .text
        case pack("dcm"): return .dicomSeries
        case pack("nii"), pack("nii.gz"): return .nifti
        default: return nil
        }
    }

    /// Up to 6 ASCII bytes packed into an integer, so extensions compare without Strings.
    private static func pack(_ s: StaticString) -> UInt64 {
        s.withUTF8Buffer { b in b.reduce(0) { $0 << 8 | UInt64($1) } }
    }

    /// The lower-cased extension of the URL's path (`nii.gz` kept whole), packed; nil if none.
    private static func extensionCode(_ b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        let end = ByteScan.firstIndex(of: 0x3F, or: 0x23, in: b)
        var dot = end - 1
        while dot >= 0, end - dot <= 6, b[dot] != 0x2E, b[dot] != 0x2F { dot -= 1 }
        guard dot >= 0, b[dot] == 0x2E, end - dot <= 6 else { return nil }
        func lower(_ c: UInt8) -> UInt64 { UInt64((c >= 0x41 && c <= 0x5A) ? c | 0x20 : c) }
        var code: UInt64 = 0
        for k in (dot + 1)..<end { code = code << 8 | lower(b[k]) }
        if code == pack("gz"), dot >= 4,
           lower(b[dot - 4]) == 0x2E, lower(b[dot - 3]) == 0x6E, lower(b[dot - 2]) == 0x69, lower(b[dot - 1]) == 0x69 {
            return pack("nii.gz")
        }
        return code
    }

    static func compatible(declared: DataType, hinted: DataType) -> Bool {
        switch declared {
        case .imageGroup, .imageSequence: return hinted == .image
        case .dicomSeries: return hinted == .dicomSeries || hinted == .image
        default: return declared == hinted
        }
    }
}
