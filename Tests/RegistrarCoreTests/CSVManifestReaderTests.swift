import RegistrarCore
import Testing

// The CSV manifest rules (registration spec, section B, and the tolerant-reading policy), each
// with a small inline CSV:
// - headers are case-insensitive; `Video title` → videos, `Image title` → images,
//   `Image group title` (+ `Create video`, blank = true) → image groups / sequences,
//   `Series title` / `Dicom title` → DICOM series; a lone `ObjectUrl` column → videos;
// - consecutive rows with the same group title form one unit, in file order; a title that comes
//   back after other rows is `csv_group_not_contiguous`; a blank group title is `missing_title`;
//   a blank series title makes the file its own series, titled with the file name;
// - a header row is repeated whenever the type changes;
// - any whitespace in a CSV URL is `url_contains_whitespace`.

// MARK: - Helpers

private struct CSVRead {
    var summary: ManifestSummary
    var entries: [ManifestEntry]

    var units: [RegistrationUnit] {
        entries.compactMap { if case .unit(let u) = $0 { return u } else { return nil } }
    }

    var rejected: [RejectedItem] {
        entries.compactMap { if case .rejected(let r) = $0 { return r } else { return nil } }
    }

    var errorCodes: [IssueCode] { summary.errors.map(\.code) }
    var warningCodes: [IssueCode] { summary.warnings.map(\.code) }

    /// Type of every entry, accepted or not, in order.
    var types: [DataType?] {
        entries.map {
            switch $0 {
            case .unit(let u): return u.type
            case .rejected(let r): return r.type
            }
        }
    }

    var locations: [ItemLocation] {
        entries.map {
            switch $0 {
            case .unit(let u): return u.location
            case .rejected(let r): return r.location
            }
        }
    }
}

private func readCSV(_ text: String, limits: ManifestLimits = .default, maxPerRead: Int = .max) -> CSVRead {
    readCSV(Array(text.utf8), limits: limits, maxPerRead: maxPerRead)
}

private func readCSV(_ bytes: [UInt8], limits: ManifestLimits = .default, maxPerRead: Int = .max) -> CSVRead {
    var reader = CSVManifestReader(source: MemoryByteSource(bytes, maxPerRead: maxPerRead), limits: limits)
    var entries: [ManifestEntry] = []
    let summary = ManifestScanner(limits: limits, maxListedIssues: 10_000).scan(&reader, format: .csv) {
        entries.append($0)
    }
    return CSVRead(summary: summary, entries: entries)
}

/// Lines joined with LF, ending with one.
private func csv(_ lines: String...) -> String {
    lines.joined(separator: "\n") + "\n"
}

private let host = "https://bucket.s3.eu-west-2.amazonaws.com"

// MARK: - Header → type

fileprivate struct HeaderCase: Sendable, CustomTestStringConvertible {
    var header: String
    var row: String
    var type: DataType
    var title: String
    var url: String
    var testDescription: String { "\(header) | \(row)" }
}

private let headerCases: [HeaderCase] = [
    .init(header: "ObjectUrl,Video title", row: "\(host)/v/clip.mp4,Clip", type: .video, title: "Clip", url: "\(host)/v/clip.mp4"),
    .init(header: "ObjectUrl,Image title", row: "\(host)/i/pic.jpg,Pic", type: .image, title: "Pic", url: "\(host)/i/pic.jpg"),
    .init(header: "ObjectUrl,Image group title,Create video", row: "\(host)/g/1.jpg,Group,false",
          type: .imageGroup, title: "Group", url: "\(host)/g/1.jpg"),
    .init(header: "ObjectUrl,Image group title,Create video", row: "\(host)/s/1.jpg,Seq,true",
          type: .imageSequence, title: "Seq", url: "\(host)/s/1.jpg"),
    // Create video blank: the default is true.
    .init(header: "ObjectUrl,Image group title,Create video", row: "\(host)/s/1.jpg,Seq,",
          type: .imageSequence, title: "Seq", url: "\(host)/s/1.jpg"),
    // No Create video column at all: the default again.
    .init(header: "ObjectUrl,Image group title", row: "\(host)/s/1.jpg,Seq",
          type: .imageSequence, title: "Seq", url: "\(host)/s/1.jpg"),
    .init(header: "ObjectUrl,Series title", row: "\(host)/d/1.dcm,Series", type: .dicomSeries, title: "Series", url: "\(host)/d/1.dcm"),
    .init(header: "ObjectUrl,Dicom title", row: "\(host)/d/1.dcm,Series", type: .dicomSeries, title: "Series", url: "\(host)/d/1.dcm"),
    // Legacy single column: videos, titled with the file name.
    .init(header: "ObjectUrl", row: "\(host)/v/clip.mp4", type: .video, title: "clip.mp4", url: "\(host)/v/clip.mp4"),
    // Columns are found by name, not position.
    .init(header: "Image title,ObjectUrl", row: "Pic,\(host)/i/pic.jpg", type: .image, title: "Pic", url: "\(host)/i/pic.jpg"),
]

// Headings are case-insensitive (spec B); spaces around and inside the names are the usual
// spreadsheet noise.
private let caseInsensitiveHeaderCases: [HeaderCase] = [
    .init(header: "OBJECTURL, image TITLE", row: "\(host)/i/pic.jpg,Pic", type: .image, title: "Pic", url: "\(host)/i/pic.jpg"),
    .init(header: "objecturl,VIDEO TITLE", row: "\(host)/v/clip.mp4,Clip", type: .video, title: "Clip", url: "\(host)/v/clip.mp4"),
    .init(header: "ObjectURL,IMAGE GROUP TITLE,CREATE VIDEO", row: "\(host)/g/1.jpg,Group,false",
          type: .imageGroup, title: "Group", url: "\(host)/g/1.jpg"),
    .init(header: "objectUrl,Image Group Title,create Video", row: "\(host)/s/1.jpg,Seq,",
          type: .imageSequence, title: "Seq", url: "\(host)/s/1.jpg"),
    .init(header: "OBJECTURL,series TITLE", row: "\(host)/d/1.dcm,Series", type: .dicomSeries, title: "Series", url: "\(host)/d/1.dcm"),
    .init(header: "objecturl,DICOM Title", row: "\(host)/d/1.dcm,Series", type: .dicomSeries, title: "Series", url: "\(host)/d/1.dcm"),
    .init(header: "OBJECTURL", row: "\(host)/v/clip.mp4", type: .video, title: "clip.mp4", url: "\(host)/v/clip.mp4"),
]

private let urlSchemeCases: [(String, IssueCode?)] = [
    ("path/to/storage-location/frame1.jpg", .invalidURL),
    ("ftp://bucket/frame1.jpg", .unsupportedScheme),
    ("s3://bucket/frame1.jpg", nil),
    ("gs://bucket/frame1.jpg", nil),
    ("http://bucket.example.com/frame1.jpg", nil),
]

@Suite("CSV manifest reader")
struct CSVManifestReaderTests {
    @Test("the header decides the type", arguments: headerCases)
    fileprivate func headerSelectsType(_ c: HeaderCase) {
        let r = readCSV(csv(c.header, c.row))
        #expect(r.summary.valid)
        #expect(r.summary.fatal == nil)
        #expect(r.units.map(\.type) == [c.type])
        #expect(r.units.map(\.title) == [c.title])
        #expect(r.units.map(\.urls) == [[c.url]])
        #expect(r.summary.unitsByType == [c.type: 1])
        #expect(r.summary.warningCount == 0, "\(r.summary.warnings)")
        #expect(r.summary.options.skipDuplicateURLs == false, "CSV has no file-level flags")
    }

    @Test("headers are case-insensitive", arguments: caseInsensitiveHeaderCases)
    fileprivate func caseInsensitiveHeaders(_ c: HeaderCase) {
        let r = readCSV(csv(c.header, c.row))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [c.type])
        #expect(r.units.map(\.title) == [c.title])
        #expect(r.units.map(\.urls) == [[c.url]])
    }

    // MARK: Create video

    @Test("Create video: blank and true give a sequence, false a group (Excel's TRUE/FALSE too)",
          arguments: [("", DataType.imageSequence), ("true", .imageSequence), ("TRUE", .imageSequence),
                      ("false", .imageGroup), ("FALSE", .imageGroup), ("False", .imageGroup)])
    func createVideoValues(_ value: String, _ type: DataType) {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/f/1.jpg,Frames,\(value)",
                            "\(host)/f/2.jpg,Frames,\(value)"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [type])
        #expect(r.units.first?.urls == ["\(host)/f/1.jpg", "\(host)/f/2.jpg"])
    }

    @Test("Create video with another value is an item error", arguments: ["yes", "maybe", "1 2"])
    func createVideoInvalid(_ value: String) throws {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/f/1.jpg,Frames,\(value)",
                            "\(host)/o/1.jpg,Other,false"))
        #expect(!r.summary.valid)
        #expect(r.summary.fatal == nil, "an item error, not a file error")
        #expect(r.entries.count == 2)
        let bad = try #require(r.rejected.first)
        #expect(bad.index == 0)
        #expect(bad.errors.map(\.code) == [.invalidCreateVideo])
        #expect(r.errorCodes == [.invalidCreateVideo])
        // The next group is unaffected.
        #expect(r.units.map(\.type) == [.imageGroup])
        #expect(r.units.map(\.title) == ["Other"])
    }

    // MARK: Grouping

    @Test("a group keeps its rows in file order, not sorted")
    func groupKeepsFileOrder() throws {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/img/c.jpg,G,false",
                            "\(host)/img/a.jpg,G,false",
                            "\(host)/img/b.jpg,G,false",
                            "\(host)/img/10.jpg,G,false",
                            "\(host)/img/9.jpg,G,false"))
        #expect(r.summary.valid)
        let g = try #require(r.units.first)
        #expect(r.units.count == 1)
        #expect(g.type == .imageGroup)
        #expect(g.title == "G")
        #expect(g.urls == ["c", "a", "b", "10", "9"].map { "\(host)/img/\($0).jpg" })
        #expect(g.location.line == 2)
        #expect(g.location.lastLine == 6)
        #expect(r.summary.urlsByType == [.imageGroup: 5])
    }

    @Test("a different title starts a new group")
    func groupsSplitByTitle() {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/1.jpg,Sequence 1,true",
                            "\(host)/2.jpg,Sequence 1,true",
                            "\(host)/3.jpg,Sequence 2,true",
                            "\(host)/4.jpg,Sequence 2,true",
                            "\(host)/5.jpg,Group 1,false",
                            "\(host)/6.jpg,Group 1,false",
                            "\(host)/7.jpg,Group 2,false"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.title) == ["Sequence 1", "Sequence 2", "Group 1", "Group 2"])
        #expect(r.units.map(\.type) == [.imageSequence, .imageSequence, .imageGroup, .imageGroup])
        #expect(r.units.map(\.urls) == [["\(host)/1.jpg", "\(host)/2.jpg"], ["\(host)/3.jpg", "\(host)/4.jpg"],
                                        ["\(host)/5.jpg", "\(host)/6.jpg"], ["\(host)/7.jpg"]])
        #expect(r.summary.unitsByType == [.imageSequence: 2, .imageGroup: 2])
        #expect(r.summary.urlsByType == [.imageSequence: 4, .imageGroup: 3])
    }

    @Test("series rows group by title the same way")
    func dicomSeriesGrouping() {
        let r = readCSV(csv("ObjectUrl,Series title",
                            "\(host)/d/frame1.dcm,dicom series 1",
                            "\(host)/d/frame2.dcm,dicom series 1",
                            "\(host)/d/frame3.dcm,dicom series 2",
                            "\(host)/d/frame4.dcm,dicom series 2",
                            "\(host)/d/frame5.dcm,dicom series 3"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [.dicomSeries, .dicomSeries, .dicomSeries])
        #expect(r.units.map(\.title) == ["dicom series 1", "dicom series 2", "dicom series 3"])
        #expect(r.units.map(\.urls.count) == [2, 2, 1])
        #expect(r.summary.urlsByType == [.dicomSeries: 5])
    }

    @Test("images with the same title stay separate images")
    func repeatedImageTitleIsFine() {
        let r = readCSV(csv("ObjectUrl,Image title", "\(host)/1.jpg,Same", "\(host)/2.jpg,Same", "\(host)/3.jpg,Other",
                            "\(host)/4.jpg,Same"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [.image, .image, .image, .image])
        #expect(r.units.map(\.title) == ["Same", "Same", "Other", "Same"])
    }

    fileprivate struct NonContiguousCase: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var types: [DataType]
        /// Index of the entry refused as non-contiguous, and its line.
        var refused: Int
        var refusedLine: Int
        var testDescription: String { name }
    }

    private static let nonContiguousCases: [NonContiguousCase] = [
        .init(name: "groups", text: csv("ObjectUrl,Image group title,Create video",
                                        "\(host)/1.jpg,G1,false",
                                        "\(host)/2.jpg,G2,false",
                                        "\(host)/3.jpg,G1,false"),
              types: [.imageGroup, .imageGroup, .imageGroup], refused: 2, refusedLine: 4),
        .init(name: "sequences", text: csv("ObjectUrl,Image group title,Create video",
                                           "\(host)/1.jpg,S1,",
                                           "\(host)/2.jpg,S1,",
                                           "\(host)/3.jpg,S2,",
                                           "\(host)/4.jpg,S1,"),
              types: [.imageSequence, .imageSequence, .imageSequence], refused: 2, refusedLine: 5),
        .init(name: "series", text: csv("ObjectUrl,Series title",
                                        "\(host)/1.dcm,A",
                                        "\(host)/2.dcm,B",
                                        "\(host)/3.dcm,A"),
              types: [.dicomSeries, .dicomSeries, .dicomSeries], refused: 2, refusedLine: 4),
        // A blank series title is a series of its own: it separates the two runs of A.
        .init(name: "series around a blank-titled series", text: csv("ObjectUrl,Series title",
                                                                     "\(host)/1.dcm,A",
                                                                     "\(host)/2.dcm,",
                                                                     "\(host)/3.dcm,A"),
              types: [.dicomSeries, .dicomSeries, .dicomSeries], refused: 2, refusedLine: 4),
        // Other rows in between may be of another type, under another header.
        .init(name: "across headers", text: csv("ObjectUrl,Image group title,Create video",
                                                "\(host)/1.jpg,G1,false",
                                                "ObjectUrl,Image title",
                                                "\(host)/2.jpg,Picture",
                                                "ObjectUrl,Image group title,Create video",
                                                "\(host)/3.jpg,G1,false"),
              types: [.imageGroup, .image, .imageGroup], refused: 2, refusedLine: 6),
    ]

    @Test("a group title that comes back after other rows is refused", arguments: nonContiguousCases)
    fileprivate func nonContiguousGroup(_ c: NonContiguousCase) throws {
        let r = readCSV(c.text)
        #expect(!r.summary.valid)
        #expect(r.summary.fatal == nil, "an item error: the rest of the file is still read")
        #expect(r.types == c.types)
        #expect(r.entries.map(\.index) == Array(0..<c.types.count))
        #expect(r.errorCodes == [.csvGroupNotContiguous])
        #expect(r.rejected.count == 1)
        let refused = try #require(r.rejected.first)
        #expect(refused.index == c.refused)
        #expect(refused.location.line == c.refusedLine)
        #expect(refused.errors.map(\.code) == [.csvGroupNotContiguous])
        // The first run of the group was fine and stays a unit.
        #expect(r.units.count == c.types.count - 1)
    }

    // MARK: Titles

    @Test("a blank series title makes the file its own series, titled with the file name")
    func dicomBlankTitle() {
        let r = readCSV(csv("ObjectUrl,Series title",
                            "\(host)/scans/a.dcm,",
                            "\(host)/scans/b.dcm",          // the title cell missing altogether
                            "\(host)/scans/c.dcm,Study",
                            "\(host)/scans/d.dcm,Study",
                            "\(host)/scans/e.dcm,   "))     // blank after trimming
        #expect(r.summary.valid)
        #expect(r.summary.errorCount == 0)
        #expect(r.units.map(\.type) == [.dicomSeries, .dicomSeries, .dicomSeries, .dicomSeries])
        #expect(r.units.map(\.title) == ["a.dcm", "b.dcm", "Study", "e.dcm"])
        #expect(r.units.map(\.urls) == [["\(host)/scans/a.dcm"], ["\(host)/scans/b.dcm"],
                                        ["\(host)/scans/c.dcm", "\(host)/scans/d.dcm"], ["\(host)/scans/e.dcm"]])
        #expect(r.units.map(\.titleStyle) == [.fileName, .fileName, .given, .fileName])
    }

    @Test("a blank image or video title falls back to the file name",
          arguments: [("Image title", DataType.image, "jpg"), ("Video title", .video, "mp4")])
    func blankSingleTitle(_ column: String, _ type: DataType, _ ext: String) {
        let r = readCSV(csv("ObjectUrl,\(column)", "\(host)/path/to/frame1.\(ext),One", "\(host)/path/to/frame3.\(ext),"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [type, type])
        #expect(r.units.map(\.title) == ["One", "frame3.\(ext)"])
    }

    @Test("a blank image group title is refused", arguments: ["", "   "], ["false", ""])
    func groupBlankTitle(_ title: String, _ createVideo: String) throws {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/g/1.jpg,Named,false",
                            "\(host)/g/2.jpg,\(title),\(createVideo)",
                            "\(host)/g/3.jpg,Named 2,false"))
        #expect(!r.summary.valid)
        #expect(r.summary.fatal == nil)
        #expect(r.entries.count == 3)
        let bad = try #require(r.rejected.first)
        #expect(bad.index == 1)
        #expect(bad.location.line == 3)
        #expect(bad.type == (createVideo == "false" ? .imageGroup : .imageSequence), "the refused item keeps its type")
        #expect(bad.errors.map(\.code) == [.missingTitle])
        #expect(r.units.map(\.title) == ["Named", "Named 2"])
    }

    // MARK: Legacy single column

    @Test("a lone ObjectUrl column lists videos")
    func singleColumnVideos() {
        let r = readCSV(csv("ObjectUrl", "\(host)/v/one.mp4", "\(host)/v/two.mov"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [.video, .video])
        #expect(r.units.map(\.title) == ["one.mp4", "two.mov"])
        #expect(r.summary.warningCount == 0)
    }

    @Test("a lone ObjectUrl column with an image: still a video, with a type-hint warning")
    func singleColumnNonVideo() {
        // Encord: "Expected a video, got a file of type XXX" — the bytes decide at verification.
        let r = readCSV(csv("ObjectUrl", "\(host)/i/picture.jpg"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.type) == [.video])
        #expect(r.warningCodes == [.typeHintMismatch])
    }

    // MARK: Multi-type files

    @Test("a multi-type file repeats the header whenever the type changes")
    func multiTypeFile() {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",  // 1
                            "\(host)/seq/1.jpg,Seq A,",                   // 2
                            "\(host)/seq/2.jpg,Seq A,",                   // 3
                            "\(host)/grp/1.jpg,Group B,false",            // 4
                            "\(host)/grp/2.jpg,Group B,false",            // 5
                            "ObjectUrl,Image title,Create video",         // 6
                            "\(host)/img/x.jpg,Image X,false",            // 7
                            "ObjectUrl,Video title",                      // 8
                            "\(host)/vid/y.mp4,Video Y",                  // 9
                            "ObjectUrl,Series title",                     // 10
                            "\(host)/dcm/1.dcm,Series Z",                 // 11
                            "\(host)/dcm/2.dcm,Series Z",                 // 12
                            "ObjectUrl",                                  // 13
                            "\(host)/vid/z.mp4"))                         // 14
        #expect(r.summary.valid)
        #expect(r.summary.warningCount == 0, "\(r.summary.warnings)")
        #expect(r.units.map(\.type) == [.imageSequence, .imageGroup, .image, .video, .dicomSeries, .video])
        #expect(r.units.map(\.title) == ["Seq A", "Group B", "Image X", "Video Y", "Series Z", "z.mp4"])
        #expect(r.units.map(\.urls) == [["\(host)/seq/1.jpg", "\(host)/seq/2.jpg"], ["\(host)/grp/1.jpg", "\(host)/grp/2.jpg"],
                                        ["\(host)/img/x.jpg"], ["\(host)/vid/y.mp4"],
                                        ["\(host)/dcm/1.dcm", "\(host)/dcm/2.dcm"], ["\(host)/vid/z.mp4"]])
        #expect(r.units.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(r.units.map(\.location.line) == [2, 4, 7, 9, 11, 14])
        #expect(r.units.map(\.location.lastLine) == [3, 5, nil, nil, 12, nil])
        #expect(r.units.allSatisfy { $0.location.section == "csv" })
        #expect(r.summary.unitsByType == [.imageSequence: 1, .imageGroup: 1, .image: 1, .video: 2, .dicomSeries: 1])
        #expect(r.summary.urlsByType == [.imageSequence: 2, .imageGroup: 2, .image: 1, .video: 2, .dicomSeries: 2])
        #expect(r.summary.units == 6)
        #expect(r.summary.urls == 9)
    }

    @Test("the seed's quirk: a video row under an Image title header is an image, with a type-hint warning")
    func videoUnderImageHeader() throws {
        let r = readCSV(csv("ObjectUrl,Image title,Create video",
                            "\(host)/path/to/storage-location/frame1.jpg,Image 1,false",
                            "ObjectUrl,Image title,Create video",
                            "\(host)/full/storage/path/video.mp4,Video 1,false"))
        #expect(r.summary.valid, "a warning, not an error")
        #expect(r.units.map(\.type) == [.image, .image])
        #expect(r.units.map(\.title) == ["Image 1", "Video 1"])
        let hints = r.summary.warnings.filter { $0.code == .typeHintMismatch }
        try #require(hints.count == 1)
        #expect(hints[0].line == 4)
        #expect(r.warningCodes == [.typeHintMismatch])
    }

    // MARK: RFC 4180 details

    @Test("quoted fields may hold commas and doubled quotes")
    func quotedFields() {
        let r = readCSV(csv("ObjectUrl,Image title",
                            "\"\(host)/img/a,b.jpg\",\"Title, with comma\"",
                            "\"\(host)/img/c.jpg\",\"He said \"\"hi\"\"\"",
                            "\(host)/img/d.jpg,\"multi",
                            "line\"",
                            "\(host)/img/e.jpg,After"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.urls) == [["\(host)/img/a,b.jpg"], ["\(host)/img/c.jpg"], ["\(host)/img/d.jpg"], ["\(host)/img/e.jpg"]])
        #expect(r.units.map(\.title).prefix(2) == ["Title, with comma", "He said \"hi\""])
        // The quoted line break counts as a physical line: the next row starts on line 6.
        #expect(r.units.map(\.location.line) == [2, 3, 4, 6])
    }

    @Test("a quoted group title with a comma groups like any other")
    func quotedGroupTitle() {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/1.jpg,\"Seq, one\",",
                            "\(host)/2.jpg,\"Seq, one\",",
                            "\(host)/3.jpg,Seq,"))
        #expect(r.summary.valid)
        #expect(r.units.map(\.title) == ["Seq, one", "Seq"])
        #expect(r.units.map(\.urls.count) == [2, 1])
    }

    @Test("CRLF line ends read the same as LF")
    func crlf() {
        let lines = ["ObjectUrl,Image group title,Create video",
                     "\(host)/g/1.jpg,G,false",
                     "\(host)/g/2.jpg,G,false",
                     "ObjectUrl,Video title",
                     "\(host)/v/1.mp4,V"]
        let lf = readCSV(lines.joined(separator: "\n") + "\n")
        let crlf = readCSV(lines.joined(separator: "\r\n") + "\r\n")
        let noFinalBreak = readCSV(lines.joined(separator: "\r\n"))
        for r in [crlf, noFinalBreak] {
            #expect(r.summary.valid, "no CR is left on a URL (that would be whitespace)")
            #expect(r.entries == lf.entries)
            #expect(r.units.map(\.urls) == [["\(host)/g/1.jpg", "\(host)/g/2.jpg"], ["\(host)/v/1.mp4"]])
            #expect(r.units.map(\.title) == ["G", "V"])
            #expect(r.units.map(\.location.line) == [2, 5])
            #expect(r.units.map(\.location.lastLine) == [3, nil])
        }
    }

    @Test("a UTF-8 byte order mark before the header is ignored")
    func byteOrderMark() {
        let body = Array(csv("ObjectUrl,Image title", "\(host)/i/1.jpg,One").utf8)
        let r = readCSV([0xEF, 0xBB, 0xBF] + body)
        #expect(r.summary.valid)
        #expect(r.summary.fatal == nil)
        #expect(r.units.map(\.type) == [.image])
        #expect(r.units.map(\.title) == ["One"])
        #expect(r.units.first?.location.line == 2)
        // And the same through a String with U+FEFF (CRLF too, as Excel writes it).
        let excel = readCSV("\u{FEFF}OBJECTURL,VIDEO TITLE\r\n\(host)/v/1.mp4,V\r\n")
        #expect(excel.summary.valid)
        #expect(excel.units.map(\.type) == [.video])
    }

    @Test("blank rows are skipped, even inside a group")
    func blankRowsSkipped() {
        let r = readCSV(csv("",                                              // 1
                            "ObjectUrl,Image group title,Create video",       // 2
                            "\(host)/g/1.jpg,G,false",                         // 3
                            "",                                                // 4
                            "\(host)/g/2.jpg,G,false",                         // 5
                            ",,",                                              // 6
                            "   ",                                             // 7
                            "\(host)/g/3.jpg,H,false",                         // 8
                            ""))                                               // 9
        #expect(r.summary.valid)
        #expect(r.summary.errorCount == 0)
        #expect(r.units.map(\.title) == ["G", "H"])
        #expect(r.units.map(\.urls) == [["\(host)/g/1.jpg", "\(host)/g/2.jpg"], ["\(host)/g/3.jpg"]])
        #expect(r.units.map(\.location.line) == [3, 8])
        #expect(r.units.first?.location.lastLine == 5)
    }

    @Test("rows before any header are a fatal csv_missing_header",
          arguments: [
              // A data row first.
              csv("\(host)/i/1.jpg,Image 1", "ObjectUrl,Image title", "\(host)/i/2.jpg,Image 2"),
              // A header without an ObjectUrl column is not a header.
              csv("Url,Image title", "\(host)/i/1.jpg,Image 1"),
          ])
    func missingHeader(_ text: String) throws {
        let r = readCSV(text)
        #expect(!r.summary.valid)
        let fatal = try #require(r.summary.fatal)
        #expect(fatal.code == .csvMissingHeader)
        #expect(fatal.line == 1)
        #expect(r.entries.isEmpty)
    }

    @Test("a blank line before the header is not a row before the header")
    func blankLineBeforeHeader() {
        let r = readCSV(csv("", "", "ObjectUrl,Image title", "\(host)/i/1.jpg,One"))
        #expect(r.summary.valid)
        #expect(r.units.first?.location.line == 4)
    }

    // MARK: URLs

    @Test("any whitespace in a CSV URL is url_contains_whitespace",
          arguments: ["\(host)/img/a b.jpg", " \(host)/img/a.jpg", "\(host)/img/a.jpg ", "\(host)/img/a\tb.jpg",
                      "\t\(host)/img/a.jpg", "\"\(host)/img/a.jpg \"", "\"\(host)/img/a\nb.jpg\""])
    func whitespaceInURL(_ cell: String) throws {
        let r = readCSV(csv("ObjectUrl,Image title", "\(cell),Pic", "\(host)/img/fine.jpg,Fine"))
        #expect(!r.summary.valid)
        #expect(r.summary.fatal == nil)
        let bad = try #require(r.rejected.first)
        #expect(bad.index == 0)
        #expect(bad.type == .image)
        #expect(bad.errors.map(\.code) == [.urlContainsWhitespace])
        #expect(r.errorCodes == [.urlContainsWhitespace])
        #expect(r.units.map(\.title) == ["Fine"])
    }

    // "Object URLs can't contain whitespace" (spec B). Spreadsheets and copy-paste produce
    // non-ASCII spaces (U+00A0 above all) that look exactly like a space; raw, they are no more
    // valid in a URL than U+0020 (RFC 3986 requires them percent-encoded).
    @Test("Unicode whitespace in a CSV URL is url_contains_whitespace too",
          arguments: ["\u{00A0}", "\u{2003}", "\u{3000}", "\u{2028}"])
    func unicodeWhitespaceInURL(_ space: String) throws {
        for url in ["\(host)/img/a\(space)b.jpg", "\(host)/img/a.jpg\(space)", "\(space)\(host)/img/a.jpg"] {
            let r = readCSV(csv("ObjectUrl,Image title", "\(url),Pic"))
            #expect(!r.summary.valid, "\(url.debugDescription)")
            #expect(r.errorCodes == [.urlContainsWhitespace], "\(url.debugDescription)")
            #expect(r.types == [.image])
        }
    }

    @Test("one bad URL refuses its whole group, which keeps its type and every URL")
    func badURLInGroup() throws {
        let r = readCSV(csv("ObjectUrl,Image group title,Create video",
                            "\(host)/g/1.jpg,G,",
                            "\(host)/g/2 copy.jpg,G,",
                            "path/to/g/3.jpg,G,",
                            "\(host)/h/1.jpg,H,"))
        #expect(r.entries.count == 2)
        let bad = try #require(r.rejected.first)
        #expect(bad.type == .imageSequence)
        #expect(bad.urls.count == 3)
        #expect(Set(bad.errors.map(\.code)) == [.urlContainsWhitespace, .invalidURL])
        #expect(bad.location.line == 2)
        #expect(bad.location.lastLine == 4)
        #expect(r.summary.unitsByType == [.imageSequence: 2])
        #expect(r.summary.urlsByType == [.imageSequence: 4])
        #expect(r.units.map(\.title) == ["H"])
    }

    @Test("relative paths and unsupported schemes are refused",
          arguments: urlSchemeCases)
    func urlSchemes(_ url: String, _ error: IssueCode?) {
        let r = readCSV(csv("ObjectUrl,Image title", "\(url),Frame"))
        #expect(r.summary.valid == (error == nil))
        #expect(r.errorCodes == (error.map { [$0] } ?? []))
        #expect(r.types == [.image])
    }

    // MARK: Indices and locations

    @Test("indices run from 0 over accepted and refused items; locations give lines")
    func indicesAndLocations() {
        let r = readCSV(csv("ObjectUrl,Image title",                          // 1
                            "\(host)/i/1.jpg,One",                             // 2  → 0
                            "relative/2.jpg,Two",                              // 3  → 1 refused
                            "ObjectUrl,Image group title,Create video",        // 4
                            "\(host)/g/1.jpg,G,false",                         // 5  → 2
                            "\(host)/g/2.jpg,G,false",                         // 6
                            "\(host)/g/3.jpg,G,false",                         // 7
                            "\(host)/g/4.jpg,,false",                          // 8  → 3 refused (no title)
                            "\(host)/s/1.jpg,S,",                              // 9  → 4
                            "ObjectUrl,Video title",                           // 10
                            "\(host)/v/1.mp4,V"))                              // 11 → 5
        #expect(r.entries.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(r.types == [.image, .image, .imageGroup, .imageGroup, .imageSequence, .video])
        #expect(r.locations.map(\.line) == [2, 3, 5, 8, 9, 11])
        #expect(r.locations.map { $0.lastLine ?? $0.line } == [2, 3, 7, 8, 9, 11])
        #expect(r.locations.map(\.itemName) == ["line 2", "line 3", "lines 5-7", "line 8", "line 9", "line 11"])
        #expect(r.rejected.map(\.index) == [1, 3])
        #expect(r.summary.rejectedUnits == 2)
        #expect(Set(r.errorCodes) == [.invalidURL, .missingTitle])
    }

    @Test("reading one byte at a time gives the same entries and issues", arguments: [1, 2, 7])
    func smallReads(_ maxPerRead: Int) {
        let text = "\u{FEFF}" + ["ObjectUrl,Image group title,Create video",
                                 "\(host)/g/1.jpg,\"G, quoted\",false",
                                 "\(host)/g/2.jpg,\"G, quoted\",false",
                                 "",
                                 "ObjectUrl,Image title",
                                 "\(host)/i/a b.jpg,Bad",
                                 "\(host)/v/x.mp4,Hinted",
                                 "ObjectUrl,Series title",
                                 "\(host)/d/1.dcm,"].joined(separator: "\r\n")
        let whole = readCSV(text)
        let pieces = readCSV(text, maxPerRead: maxPerRead)
        #expect(whole.entries.count == 4)
        #expect(pieces.entries == whole.entries)
        #expect(pieces.summary.errors == whole.summary.errors)
        #expect(pieces.summary.warnings == whole.summary.warnings)
    }

    // MARK: Limits

    private static func limits(maxURLs: Int = 1_000_000, maxUnits: Int = 500_000) -> ManifestLimits {
        var l = ManifestLimits()
        l.maxURLs = maxURLs
        l.maxUnits = maxUnits
        return l
    }

    private static func imageRows(_ n: Int) -> String {
        (["ObjectUrl,Image title"] + (1...n).map { "\(host)/i/\($0).jpg,Image \($0)" }).joined(separator: "\n") + "\n"
    }

    private static func groupRows(groups: Int, rows: Int) -> String {
        var lines = ["ObjectUrl,Image group title,Create video"]
        for g in 1...groups { for k in 1...rows { lines.append("\(host)/g\(g)/\(k).jpg,Group \(g),false") } }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("maxURLs: 10 URLs pass, the 11th refuses the whole file")
    func tooManyURLs() throws {
        let ok = readCSV(Self.imageRows(10), limits: Self.limits(maxURLs: 10))
        #expect(ok.summary.valid)
        #expect(ok.summary.urls == 10)

        let over = readCSV(Self.imageRows(11), limits: Self.limits(maxURLs: 10))
        #expect(!over.summary.valid)
        let fatal = try #require(over.summary.fatal)
        #expect(fatal.code == .tooManyURLs)
        #expect(fatal.line == 12, "the 11th data row, under the header on line 1")
        #expect(over.summary.errors.filter { $0.code == .tooManyURLs }.count == 1)
    }

    @Test("maxURLs counts the URLs inside groups", arguments: [(1, 11), (2, 6), (3, 4)])
    func tooManyURLsInGroups(_ groups: Int, _ rows: Int) throws {
        // groups × rows > 10.
        let r = readCSV(Self.groupRows(groups: groups, rows: rows), limits: Self.limits(maxURLs: 10))
        #expect(!r.summary.valid)
        #expect(r.summary.fatal?.code == .tooManyURLs)
    }

    @Test("maxURLs: groups totalling exactly the limit pass")
    func groupsAtURLLimit() {
        let r = readCSV(Self.groupRows(groups: 2, rows: 5), limits: Self.limits(maxURLs: 10))
        #expect(r.summary.valid)
        #expect(r.summary.urls == 10)
        #expect(r.summary.units == 2)
    }

    @Test("maxUnits counts units, not rows")
    func tooManyUnits() throws {
        let ok = readCSV(Self.imageRows(3), limits: Self.limits(maxUnits: 3))
        #expect(ok.summary.valid)

        let over = readCSV(Self.imageRows(4), limits: Self.limits(maxUnits: 3))
        let fatal = try #require(over.summary.fatal)
        #expect(fatal.code == .tooManyUnits)
        #expect(fatal.line == 5)
        #expect(!over.summary.valid)

        // Three groups of four rows are three units.
        let groups = readCSV(Self.groupRows(groups: 3, rows: 4), limits: Self.limits(maxUnits: 3))
        #expect(groups.summary.valid)
        #expect(groups.summary.units == 3)
        #expect(groups.summary.urls == 12)

        let moreGroups = readCSV(Self.groupRows(groups: 4, rows: 4), limits: Self.limits(maxUnits: 3))
        #expect(moreGroups.summary.fatal?.code == .tooManyUnits)
    }
}

@Suite struct CSVHeaderDetectionTests {
    @Test func aTitleReadingObjectURLIsData() throws {
        let csv = "ObjectUrl,Image title\nhttps://b/1.jpg,Object URL\nhttps://b/2.jpg,object_url\nImage title,ObjectUrl\nOne,https://b/3.jpg\n"
        var reader = CSVManifestReader(source: MemoryByteSource(csv))
        var titles: [String] = []
        while let e = try reader.next() {
            if case .unit(let u) = e { titles.append(u.title) }
        }
        // Rows 2-3 are images titled like the header; row 4 is a real header with the columns swapped.
        #expect(titles == ["Object URL", "object_url", "One"])
    }
}
