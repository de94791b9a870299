import Testing
import RegistrarCore

/// Reads every entry of a JSON manifest given as text, collecting issues as the scanner would.
private func readAll(_ text: String, limits: ManifestLimits = .default, maxPerRead: Int = .max)
    throws -> (entries: [ManifestEntry], issues: [ManifestIssue], options: ManifestOptions) {
    var reader = JSONManifestReader(source: MemoryByteSource(text, maxPerRead: maxPerRead), limits: limits, blockSize: 64)
    var entries: [ManifestEntry] = []
    var issues: [ManifestIssue] = []
    while let e = try reader.next() {
        entries.append(e)
        issues += reader.takeIssues()
    }
    issues += reader.takeIssues()
    return (entries, issues, reader.options)
}

private func units(_ entries: [ManifestEntry]) -> [RegistrationUnit] {
    entries.compactMap { if case .unit(let u) = $0 { return u } else { return nil } }
}

private func rejected(_ entries: [ManifestEntry]) -> [RejectedItem] {
    entries.compactMap { if case .rejected(let r) = $0 { return r } else { return nil } }
}

private func scan(_ text: String, limits: ManifestLimits = .default) -> ManifestSummary {
    var reader = JSONManifestReader(source: MemoryByteSource(text), limits: limits)
    return ManifestScanner(limits: limits).scan(&reader, format: .json)
}

@Suite struct JSONManifestReaderTests {
    @Test func everySectionKeyGivesItsType() throws {
        let text = """
        {"images": [{"objectUrl": "https://b.s3.amazonaws.com/a.jpg"}],
         "videos": [{"objectUrl": "https://b.s3.amazonaws.com/a.mp4"}],
         "audio": [{"objectUrl": "https://b.s3.amazonaws.com/a.mp3"}],
         "pdfs": [{"objectUrl": "https://b.s3.amazonaws.com/a.pdf"}],
         "text": [{"objectUrl": "https://b.s3.amazonaws.com/a.txt"}],
         "nifti": [{"objectUrl": "https://b.s3.amazonaws.com/a.nii.gz"}],
         "image_groups": [{"title": "g", "createVideo": false, "objectUrl_0": "https://b/1.jpg"},
                          {"title": "s", "createVideo": true, "objectUrl_0": "https://b/2.jpg"},
                          {"title": "d", "objectUrl_0": "https://b/3.jpg"}],
         "dicom_series": [{"title": "d", "objectUrl_0": "https://b/1.dcm", "objectUrl_1": "https://b/2.dcm"}],
         "skip_duplicate_urls": true}
        """
        let (entries, issues, options) = try readAll(text)
        let types = units(entries).map(\.type)
        #expect(types == [.image, .video, .audio, .pdf, .text, .nifti, .imageGroup, .imageSequence, .imageGroup, .dicomSeries])
        #expect(entries.map(\.index) == Array(0..<10))
        #expect(options.skipDuplicateURLs)
        #expect(issues.filter { $0.severity == .error }.isEmpty)
        #expect(units(entries).last?.urls == ["https://b/1.dcm", "https://b/2.dcm"])
    }

    @Test func camelCaseDialectIsAccepted() throws {
        let text = #"{"imageGroups": [{"title": "g", "createVideo": true, "objectUrl_0": "https://b/1.jpg"}], "dicomSeries": [{"title": "d", "objectUrl_0": "https://b/1.dcm"}], "pdf": [{"objectUrl": "https://b/x.pdf"}], "skipDuplicateUrls": true}"#
        let (entries, _, options) = try readAll(text)
        #expect(units(entries).map(\.type) == [.imageSequence, .dicomSeries, .pdf])
        #expect(options.skipDuplicateURLs)
    }

    @Test func framesAreOrderedByTheirNumberNotKeyOrder() throws {
        let text = #"{"image_groups": [{"objectUrl_10": "https://b/10.jpg", "objectUrl_2": "https://b/2.jpg", "title": "t", "objectUrl_0": "https://b/0.jpg", "objectUrl_1": "https://b/1.jpg", "objectUrl_3": "https://b/3.jpg", "objectUrl_4": "https://b/4.jpg", "objectUrl_5": "https://b/5.jpg", "objectUrl_6": "https://b/6.jpg", "objectUrl_7": "https://b/7.jpg", "objectUrl_8": "https://b/8.jpg", "objectUrl_9": "https://b/9.jpg", "createVideo": true}]}"#
        let unit = try #require(units(try readAll(text).entries).first)
        #expect(unit.urls == (0...10).map { "https://b/\($0).jpg" })
        #expect(unit.type == .imageSequence)
    }

    @Test func gapsAndRepeatsInFrameNumbersAreErrors() throws {
        let gap = #"{"image_groups": [{"title": "t", "objectUrl_0": "https://b/0.jpg", "objectUrl_2": "https://b/2.jpg"}]}"#
        let r = try #require(rejected(try readAll(gap).entries).first)
        #expect(r.errors.map(\.code) == [.urlIndexGap])
        #expect(r.errors.first?.field == "objectUrl_1")
        #expect(r.errors.first?.item == "image_groups[0]")

        let repeated = #"{"dicom_series": [{"title": "t", "objectUrl_0": "https://b/0.dcm", "objectUrl_1": "https://b/1.dcm", "objectUrl_01": "https://b/1b.dcm"}]}"#
        #expect(rejected(try readAll(repeated).entries).first?.errors.map(\.code).contains(.duplicateField) == true)

        let none = #"{"image_groups": [{"title": "t", "createVideo": false}]}"#
        #expect(rejected(try readAll(none).entries).first?.errors.map(\.code) == [.missingObjectURL])

        let fromOne = #"{"image_groups": [{"title": "t", "objectUrl_1": "https://b/1.jpg", "objectUrl_2": "https://b/2.jpg"}]}"#
        let (entries, issues, _) = try readAll(fromOne)
        #expect(units(entries).first?.urls == ["https://b/1.jpg", "https://b/2.jpg"])
        #expect(issues.map(\.code).contains(.urlIndexStartsAtOne))
    }

    @Test func sequenceFrameLimit() throws {
        var limits = ManifestLimits()
        limits.maxSequenceFrames = 3
        let frames = (0..<4).map { "\"objectUrl_\($0)\": \"https://b/\($0).jpg\"" }.joined(separator: ",")
        let seq = "{\"image_groups\": [{\"title\": \"t\", \"createVideo\": true, \(frames)}, {\"title\": \"g\", \"createVideo\": false, \(frames)}]}"
        let entries = try readAll(seq, limits: limits).entries
        #expect(rejected(entries).first?.errors.map(\.code) == [.sequenceTooLong])
        #expect(units(entries).map(\.type) == [.imageGroup]) // the limit is for sequences only
    }

    @Test func clientMetadataIsKeptVerbatim() throws {
        let text = #"{"videos": [{"objectUrl": "https://b/v.mp4", "clientMetadata": {"z": 1.50, "a": [1e3, true, null, "x\"y"], "nested": {"k": "é"}}}]}"#
        let unit = try #require(units(try readAll(text).entries).first)
        #expect(unit.clientMetadata == #"{"z":1.50,"a":[1e3,true,null,"x\"y"],"nested":{"k":"é"}}"#)
    }

    @Test func suppliedMetadataInBothSpellings() throws {
        let text = """
        {"videos": [{"objectUrl": "https://b/v.mp4", "videoMetadata": {"fps": 23.98, "duration": 29.09, "width": 1280, "height": 720, "file_size": 5468354, "mime_type": "video/mp4"}},
                    {"objectUrl": "https://b/w.mp4", "video_metadata": {"fps": 25, "duration": 1, "width": 2, "height": 3, "fileSize": 4, "mimeType": "video/webm"}}],
         "audio": [{"objectUrl": "https://b/a.mp3", "audioMetadata": {"duration": 1.5, "file_size": 10, "mime_type": "audio/mpeg", "sample_rate": 44100, "bit_depth": 16, "codec": "mp3", "num_channels": 2}}],
         "images": [{"objectUrl": "https://b/i.jpg", "imageMetadata": {"mimeType": "image/jpeg", "fileSize": 9, "width": 640, "height": 480}}],
         "pdfs": [{"objectUrl": "https://b/p.pdf", "pdfMetadata": {"fileSize": 100, "numPages": 7}}],
         "text": [{"objectUrl": "https://b/t.csv", "textMetadata": {"fileSize": 250, "mime_type": "text/csv"}}]}
        """
        let us = units(try readAll(text).entries)
        #expect(us.count == 6)
        guard us.count == 6 else { return }
        #expect(us[0].suppliedMetadata == .video(.init(fps: 23.98, duration: 29.09, width: 1280, height: 720, fileSize: 5468354, mimeType: "video/mp4")))
        #expect(us[1].suppliedMetadata == .video(.init(fps: 25, duration: 1, width: 2, height: 3, fileSize: 4, mimeType: "video/webm")))
        #expect(us[2].suppliedMetadata == .audio(.init(duration: 1.5, fileSize: 10, mimeType: "audio/mpeg", sampleRate: 44100, bitDepth: 16, codec: "mp3", numChannels: 2)))
        #expect(us[3].suppliedMetadata == .image(.init(mimeType: "image/jpeg", fileSize: 9, width: 640, height: 480)))
        #expect(us[4].suppliedMetadata == .pdf(.init(fileSize: 100, numPages: 7)))
        #expect(us[5].suppliedMetadata == .text(.init(fileSize: 250, mimeType: "text/csv")))
    }

    @Test func metadataWithMissingOrMistypedFieldsIsRefusedPrecisely() throws {
        let text = #"{"videos": [{"objectUrl": "https://b/v.mp4", "videoMetadata": {"fps": "25", "duration": 1, "width": 1.5, "height": 3, "mime_type": "video/mp4"}}], "images": [{"objectUrl": "https://b/i.jpg", "videoMetadata": {}}]}"#
        let rs = rejected(try readAll(text).entries)
        #expect(rs.count == 2)
        let fields = Set(rs[0].errors.map { "\($0.code.rawValue) \($0.field ?? "")" })
        #expect(fields == ["invalid_metadata_field videoMetadata.fps", "invalid_metadata_field videoMetadata.width",
                           "missing_metadata_field videoMetadata.file_size"])
        #expect(rs[1].errors.map(\.code) == [.unexpectedMetadata])
    }

    @Test func titlesDefaultToTheURLPath() throws {
        let text = #"{"videos": [{"objectUrl": "https://bucket.s3.eu-west-2.amazonaws.com/path/to/my/bucket/video23.mp4"}, {"objectUrl": "https://b/DALL%C2%B7E.png", "title": "given"}], "image_groups": [{"objectUrl_0": "https://b/g/1.jpg"}]}"#
        let (entries, issues, _) = try readAll(text)
        let us = units(entries)
        #expect(us.map(\.title) == ["/path/to/my/bucket/video23.mp4", "given", "/g/1.jpg"])
        // A group without a title is accepted with a warning (Encord requires one for cloud data).
        #expect(issues.contains { $0.code == .titleDefaulted && $0.item == "image_groups[0]" })
    }

    @Test func titleLimit() throws {
        let long = String(repeating: "t", count: 301)
        let text = "{\"images\": [{\"objectUrl\": \"https://b/a.jpg\", \"title\": \"\(long)\"}, {\"objectUrl\": \"https://b/a.jpg\", \"title\": \"\(String(repeating: "é", count: 300))\"}]}"
        let entries = try readAll(text).entries
        #expect(rejected(entries).map { $0.errors.map(\.code) } == [[.titleTooLong]])
        #expect(units(entries).count == 1) // 300 characters (600 bytes) is within the limit
    }

    @Test func repeatedTopLevelKeyKeepsEveryItem() throws {
        let text = #"{"image_groups": [{"title": "a", "objectUrl_0": "https://b/1.jpg"}], "videos": [], "image_groups": [{"title": "b", "objectUrl_0": "https://b/2.jpg"}]}"#
        let (entries, issues, _) = try readAll(text)
        #expect(units(entries).map(\.title) == ["a", "b"])
        #expect(units(entries).map(\.location.itemName) == ["image_groups[0]", "image_groups[1]"])
        #expect(issues.contains { $0.code == .duplicateKey && $0.item == "image_groups" })
        #expect(issues.contains { $0.code == .emptySection && $0.item == "videos" })
    }

    @Test func unknownKeysAreWarningsAndSkipped() throws {
        let text = #"{"extra": {"deep": [1, {"x": 2}]}, "images": [{"objectUrl": "https://b/a.jpg", "colour": [1,2]}]}"#
        let (entries, issues, _) = try readAll(text)
        #expect(units(entries).count == 1)
        #expect(issues.map(\.code).sorted { $0.rawValue < $1.rawValue } == [.unknownField, .unknownKey])
        #expect(issues.first { $0.code == .unknownField }?.field == "colour")
    }

    @Test func itemErrorsNameTheItemAndField() throws {
        let text = """
        {"videos": [
          {"objectUrl": "https://b/ok.mp4"},
          {"title": "no url"},
          {"objectUrl": ""},
          {"objectUrl": 42},
          {"objectUrl": "ftp://b/x.mp4"},
          {"objectUrl": "https://b/has space.mp4"},
          "not an object",
          {"objectUrl": "https://b/x.mp4", "objectUrl": "https://b/y.mp4"}
        ]}
        """
        let (entries, _, _) = try readAll(text)
        #expect(entries.count == 8)
        let rs = rejected(entries)
        #expect(rs.map(\.location.itemName) == (1...7).map { "videos[\($0)]" })
        #expect(rs.map { $0.errors.first?.code } == [.missingObjectURL, .emptyObjectURL, .invalidType, .unsupportedScheme,
                                                     .urlContainsWhitespace, .notAnItemObject, .duplicateField])
        #expect(rs[1].errors.first?.line == 4)
    }

    @Test func urlRepairsFromTheSeedExamples() throws {
        let text = #"{"images": [{"objectUrl": "<https://b/thing-0002.jpg"}, {"objectUrl": "  https://b/t.jpg "}, {"objectUrl": "<object url_1>"}]}"#
        let (entries, issues, _) = try readAll(text)
        #expect(units(entries).map(\.urls) == [["https://b/thing-0002.jpg"], ["https://b/t.jpg"]])
        #expect(rejected(entries).first?.errors.first?.code == .invalidURL)
        #expect(issues.map(\.code) == [.urlRepaired, .urlTrimmed])
    }

    @Test func trailingCommasAreAcceptedWithWarnings() throws {
        let text = "{\n\"pdfs\": [\n{\"objectUrl\": \"https://b/a.pdf\",},\n],\n}"
        let (entries, issues, _) = try readAll(text)
        #expect(units(entries).count == 1)
        // Reported at each comma: `,}` and `},` end line 3, `],` is on line 4.
        #expect(issues.filter { $0.code == .trailingComma }.map(\.line) == [3, 3, 4])
    }

    @Test func urlAndUnitLimitsRefuseTheWholeManifest() throws {
        var limits = ManifestLimits()
        limits.maxURLs = 5
        let urls = (0..<3).map { "\"objectUrl_\($0)\": \"https://b/\($0).jpg\"" }.joined(separator: ",")
        let text = "{\"image_groups\": [{\"title\": \"a\", \(urls)}, {\"title\": \"b\", \(urls)}]}"
        #expect(throws: ManifestError.self) { try readAll(text, limits: limits) }
        let s = scan(text, limits: limits)
        #expect(s.fatal?.code == .tooManyURLs)
        #expect(s.fatal?.item == "image_groups[1]")
        #expect(!s.valid)

        limits = ManifestLimits()
        limits.maxUnits = 2
        let three = #"{"images": [{"objectUrl": "https://b/1"}, {"objectUrl": "https://b/2"}, {"objectUrl": "https://b/3"}]}"#
        #expect(scan(three, limits: limits).fatal?.code == .tooManyUnits)
        #expect(scan(three).valid)
    }

    @Test func wholeFileFaults() {
        #expect(scan("").fatal?.code == .emptyManifest)
        #expect(scan("[]").fatal?.code == .notAnObject)
        #expect(scan(#"{"images": [{"objectUrl": "https://b/a"}]"#).fatal?.code == .truncated)
        #expect(scan(#"{"images": []} x"#).fatal?.code == .trailingData)
        #expect(scan(#"{"images": {"objectUrl": "x"}}"#).errors.first?.code == .invalidType)
        #expect(scan(#"{"skip_duplicate_urls": "yes"}"#).errors.first?.code == .invalidType)
        let bomb = String(repeating: "[", count: 100_000)
        #expect(scan(#"{"images": [{"objectUrl": "https://b/a", "clientMetadata": {"x": "# + bomb + "}}]}").fatal?.code == .nestingTooDeep)
    }

    @Test func oversizedMetadataIsAnItemErrorAndReadingGoesOn() throws {
        var limits = ManifestLimits()
        limits.maxItemMetadataBytes = 100
        let big = (0..<50).map { "\"k\($0)\": [1, 2, {\"v\": \"value\"}]" }.joined(separator: ",")
        let text = "{\"images\": [{\"objectUrl\": \"https://b/1.jpg\", \"clientMetadata\": {\(big)}}, {\"objectUrl\": \"https://b/2.jpg\"}]}"
        let entries = try readAll(text, limits: limits).entries
        #expect(rejected(entries).first?.errors.map(\.code) == [.metadataTooLarge])
        #expect(units(entries).map(\.urls) == [["https://b/2.jpg"]])
    }

    @Test func duplicatesWithinTheFileAreCountedOnNormalisedKeys() {
        let text = #"{"images": [{"objectUrl": "https://B.s3.amazonaws.com/a%7e.jpg"}, {"objectUrl": "https://b.s3.amazonaws.com:443/a~.jpg#frag"}, {"objectUrl": "https://b.s3.amazonaws.com/A~.jpg"}], "skip_duplicate_urls": true}"#
        let s = scan(text)
        #expect(s.duplicateUnits == 1)
        #expect(s.warnings.contains { $0.code == .duplicateURL && $0.item == "images[1]" })
        #expect(s.valid)
    }

    @Test func readingInTinyPiecesGivesTheSameResult() throws {
        let text = #"{"images": [{"objectUrl": "https://b/é.jpg", "title": "\u00e9\ud83d\ude00", "clientMetadata": {"a": [1,2,3]}}], "image_groups": [{"title": "g", "objectUrl_1": "https://b/2", "objectUrl_0": "https://b/1"}], "skip_duplicate_urls": false}"#
        let whole = try readAll(text)
        for n in [1, 2, 3, 5, 7] {
            let pieces = try readAll(text, maxPerRead: n)
            #expect(pieces.entries == whole.entries)
        }
        #expect(units(whole.entries).first?.title == "é😀")
    }

    /// A generated 1,000,000-URL manifest, produced on the fly so the test itself holds none of it.
    @Test func millionURLManifestInBoundedMemory() throws {
        var limits = ManifestLimits()
        limits.maxUnits = 1_000_000
        var reader = JSONManifestReader(source: GeneratedManifest(urls: 1_000_000, duplicateEvery: 1000), limits: limits)
        let summary = ManifestScanner(limits: limits).scan(&reader, format: .json)
        #expect(summary.fatal == nil)
        #expect(summary.urls == 1_000_000)
        // Every 10th unit is a 10-frame group: 900,000 images, 10,000 groups holding 100,000 URLs.
        #expect(summary.unitsByType[.image] == 900_000)
        #expect(summary.unitsByType[.imageGroup] == 10_000)
        #expect(summary.units == 910_000)
        #expect(summary.duplicateUnits == 900)
        #expect(summary.bytes > 90_000_000)
        // The reader held one 1 MiB block and one string at a time, whatever the file's size.
        #expect(summary.peakBufferedBytes < 2 << 20)
    }
}

/// Produces a JSON manifest of `urls` URLs as bytes on demand: 9 images then one 10-frame
/// image group, repeated; every `duplicateEvery`-th image repeats the previous one's URL.
struct GeneratedManifest: ByteSource {
    let urls: Int
    let duplicateEvery: Int
    private var produced = 0
    private var imageCount = 0
    private var pending: [UInt8] = Array("{\"images\": [\n".utf8)
    private var pendingOffset = 0
    private var phase = 0 // 0 images, 1 groups, 2 done
    private var groups: [String] = []

    init(urls: Int, duplicateEvery: Int) {
        self.urls = urls
        self.duplicateEvery = duplicateEvery
    }

    private mutating func refill() {
        pending.removeAll(keepingCapacity: true)
        pendingOffset = 0
        var text = ""
        while text.utf8.count < 64 * 1024 && phase < 2 {
            if produced >= urls {
                if phase == 0 {
                    text += "],\n\"image_groups\": [\n" + groups.joined(separator: ",\n") + "\n],\n\"skip_duplicate_urls\": true}\n"
                    groups.removeAll()
                }
                phase = 2
                break
            }
            let n = produced
            if (n / 10) % 10 == 9 && n % 10 == 0 && urls - n >= 10 {
                // one group of 10 frames, written later in the image_groups section
                let frames = (0..<10).map { "\"objectUrl_\($0)\": \"https://bucket.s3.eu-west-2.amazonaws.com/groups/g\(n)/f\($0).jpg\"" }
                groups.append("{\"title\": \"g\(n)\", \"createVideo\": false, " + frames.joined(separator: ", ") + "}")
                produced += 10
                continue
            }
            imageCount += 1
            let id = imageCount % duplicateEvery == 0 ? imageCount - 1 : imageCount
            text += (imageCount > 1 ? ",\n" : "") + "{\"objectUrl\": \"https://bucket.s3.eu-west-2.amazonaws.com/datasets/batch-\(id / 1000)/img_\(id).jpg\"}"
            produced += 1
        }
        // Groups are kept until the images end; flush them in the final piece only.
        pending.append(contentsOf: text.utf8)
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pendingOffset == pending.count {
            if phase == 2 { return 0 }
            refill()
            if pending.isEmpty { return 0 }
        }
        let n = min(buffer.count, pending.count - pendingOffset)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pendingOffset, byteCount: n) }
        pendingOffset += n
        return n
    }
}
