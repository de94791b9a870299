import Foundation
import RegistrarCore
import Testing

// Every JSON and CSV example of Encord's "Data Annotation" docs page, extracted as fixtures in
// Fixtures/seed (see INDEX.md there), checked against the tolerant-reading policy:
//
// - trailing commas are accepted with `trailing_comma`; a repeated top-level key keeps the items
//   of every occurrence with `duplicate_key`; bare words are a fatal `invalid_json`;
// - object URLs must be absolute http(s)/s3/gs URLs: relative paths and `<object url_1>`
//   placeholders are `invalid_url`, `"<https://…"` is repaired with `url_repaired`, whitespace
//   inside a URL is `url_contains_whitespace`;
// - so the templates (placeholder or relative URLs) are not valid, and the data examples (real
//   https URLs) are, with warnings where they are quirky.
//
// Every expectation below was worked out by reading the fixture text, not from the program's
// output.

// MARK: - Fixture access

private let seedSubdirectory = "Fixtures/seed"

private func fixtureURL(_ file: String) throws -> URL {
    let dot = try #require(file.lastIndex(of: "."))
    let base = String(file[..<dot]), ext = String(file[file.index(after: dot)...])
    return try #require(Bundle.module.url(forResource: base, withExtension: ext, subdirectory: seedSubdirectory),
                        "fixture \(file) not found in the test bundle")
}

private func fixtureBytes(_ file: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: fixtureURL(file)))
}

private func fixtureText(_ file: String) throws -> String {
    String(decoding: try fixtureBytes(file), as: UTF8.self)
}

private func format(of file: String) -> ManifestFormat {
    file.hasSuffix(".csv") ? .csv : .json
}

// MARK: - Scanning

fileprivate struct Scan {
    var summary: ManifestSummary
    var entries: [ManifestEntry]

    var units: [RegistrationUnit] {
        entries.compactMap { if case .unit(let u) = $0 { return u } else { return nil } }
    }

    var rejected: [RejectedItem] {
        entries.compactMap { if case .rejected(let r) = $0 { return r } else { return nil } }
    }

    func errorCounts() -> [IssueCode: Int] { counts(summary.errors) }
    func warningCounts() -> [IssueCode: Int] { counts(summary.warnings) }
    func warnings(_ code: IssueCode) -> [ManifestIssue] { summary.warnings.filter { $0.code == code } }
}

private func counts(_ issues: [ManifestIssue]) -> [IssueCode: Int] {
    var out: [IssueCode: Int] = [:]
    for i in issues { out[i.code, default: 0] += 1 }
    return out
}

private func scan(_ bytes: [UInt8], format: ManifestFormat, limits: ManifestLimits = .default,
                  maxPerRead: Int = .max) -> Scan {
    var entries: [ManifestEntry] = []
    let scanner = ManifestScanner(limits: limits, maxListedIssues: 100_000)
    let summary: ManifestSummary
    switch format {
    case .json:
        var reader = JSONManifestReader(source: MemoryByteSource(bytes, maxPerRead: maxPerRead), limits: limits)
        summary = scanner.scan(&reader, format: .json) { entries.append($0) }
    case .csv:
        var reader = CSVManifestReader(source: MemoryByteSource(bytes, maxPerRead: maxPerRead), limits: limits)
        summary = scanner.scan(&reader, format: .csv) { entries.append($0) }
    }
    return Scan(summary: summary, entries: entries)
}

private func scan(_ text: String, format: ManifestFormat) -> Scan {
    scan(Array(text.utf8), format: format)
}

private func scanFixture(_ file: String) throws -> Scan {
    scan(try fixtureBytes(file), format: format(of: file))
}

// MARK: - The table

/// A whole-file fault expected to stop reading.
fileprivate struct FatalExpectation: Sendable {
    var code: IssueCode
    var line: Int
    /// 1-based column, as Python's json module reports it.
    var column: Int
    /// 0-based byte offset (Python's "char N"; the fixtures are ASCII).
    var offset: Int
}

/// What one seed fixture must give, worked out by hand from its text.
fileprivate struct SeedExpectation: Sendable, CustomTestStringConvertible {
    var file: String
    var valid: Bool
    /// `unitsByType` / `urlsByType`, accepted and rejected items together.
    var units: [DataType: Int]
    var urls: [DataType: Int]
    var rejected = 0
    /// Units whose URLs repeat an earlier unit's.
    var duplicates = 0
    /// `skip_duplicate_urls` as read; nil when reading stops before the key is reached.
    var skip: Bool? = true
    var fatal: FatalExpectation?
    /// Exact count of each error code (item errors and the fatal fault).
    var errors: [IssueCode: Int] = [:]
    /// Exact count of each notable warning code; notable codes not listed must be absent.
    var warnings: [IssueCode: Int] = [:]
    /// Notable warning codes this case deliberately does not check.
    var unchecked: Set<IssueCode> = []

    var testDescription: String { file }
}

/// Warnings every seed fixture is checked for, present or absent.
private let notableWarnings: [IssueCode] = [
    .trailingComma, .duplicateKey, .urlRepaired, .urlTrimmed, .duplicateURL, .typeHintMismatch,
    .unknownKey, .unknownField, .emptySection, .titleDefaulted, .urlIndexStartsAtOne,
]

/// The bare-word video templates: item 0 (`cloud-path-to-your-video-1`, relative) is read and
/// refused, then `"fps": frames-per-second` on line 9, column 18 (char 176) stops reading.
private func videosTemplate(_ file: String) -> SeedExpectation {
    SeedExpectation(file: file, valid: false, units: [.video: 1], urls: [.video: 1], rejected: 1, skip: nil,
                    fatal: FatalExpectation(code: .invalidJSON, line: 9, column: 18, offset: 176),
                    errors: [.invalidURL: 1, .invalidJSON: 1])
}

/// images: 1, videos: 2, image_groups: 2 sequences (4 frames each), image_groups again: 1 group
/// (2 frames); every URL absolute.
private func multipleTypes(_ file: String) -> SeedExpectation {
    SeedExpectation(file: file, valid: true,
                    units: [.image: 1, .video: 2, .imageSequence: 2, .imageGroup: 1],
                    urls: [.image: 1, .video: 2, .imageSequence: 8, .imageGroup: 2],
                    warnings: [.duplicateKey: 1])
}

private let seedExpectations: [SeedExpectation] = [
    // MARK: AWS
    videosTemplate("aws-videos-template.json"),
    // 8 absolute URLs; boat_lake.MP4 twice.
    .init(file: "aws-videos-data.json", valid: true, units: [.video: 8], urls: [.video: 8], duplicates: 1,
          warnings: [.duplicateURL: 1]),
    .init(file: "aws-videos-video-metadata.json", valid: true, units: [.video: 1], urls: [.video: 1]),
    // `<object url_1>`, `<object url_2>` placeholders.
    .init(file: "aws-audio-template.json", valid: false, units: [.audio: 2], urls: [.audio: 2], rejected: 2,
          errors: [.invalidURL: 2]),
    .init(file: "aws-audio-audio-metadata.json", valid: true, units: [.audio: 1], urls: [.audio: 1]),
    .init(file: "aws-pdfs-template.json", valid: false, units: [.pdf: 3], urls: [.pdf: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    // Trailing comma after item 0's objectUrl (line 4).
    .init(file: "aws-pdfs-data.json", valid: true, units: [.pdf: 3], urls: [.pdf: 3],
          warnings: [.trailingComma: 1]),
    .init(file: "aws-text-template.json", valid: false, units: [.text: 6], urls: [.text: 6], rejected: 6,
          errors: [.invalidURL: 6]),
    .init(file: "aws-text-data.json", valid: true, units: [.text: 6], urls: [.text: 6]),
    // Relative `file/path/to/images/…` paths.
    .init(file: "aws-images-template.json", valid: false, units: [.image: 3], urls: [.image: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    // No skip_duplicate_urls key.
    .init(file: "aws-images-data.json", valid: true, units: [.image: 6], urls: [.image: 6], skip: false),
    .init(file: "aws-images-image-metadata.json", valid: true, units: [.image: 1], urls: [.image: 1]),
    // createVideo false → groups; 6 relative paths; trailing comma on line 8. The groups repeat
    // the same (invalid) URLs, but refused items are not units, so no duplicate is counted.
    .init(file: "aws-image-groups-template.json", valid: false, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          rejected: 2, errors: [.invalidURL: 6], warnings: [.trailingComma: 1]),
    // Group 02 objectUrl_1 starts with `<https://`.
    .init(file: "aws-image-groups-data.json", valid: true, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          warnings: [.urlRepaired: 1]),
    // createVideo true → sequences; `<object url>` placeholders (1 + 3).
    .init(file: "aws-image-sequences-template.json", valid: false, units: [.imageSequence: 2],
          urls: [.imageSequence: 4], rejected: 2, errors: [.invalidURL: 4]),
    .init(file: "aws-image-sequences-data.json", valid: true, units: [.imageSequence: 2], urls: [.imageSequence: 6],
          warnings: [.urlRepaired: 1]),
    // Absolute URLs (1 + 3 + 2); trailing commas on lines 11 and 16.
    .init(file: "aws-dicom-template.json", valid: true, units: [.dicomSeries: 3], urls: [.dicomSeries: 6],
          warnings: [.trailingComma: 2]),
    // `https://my-bucket/.../nifti-file1.nii` is a syntactically absolute https URL.
    .init(file: "aws-nifti-template.json", valid: true, units: [.nifti: 2], urls: [.nifti: 2]),
    multipleTypes("aws-multiple-types-multiple-file-types.json"),
    // `Multi-Region-Access-Point-ARN + <object name_1>`: spaces inside the value.
    .init(file: "aws-mrap-videos-example.json", valid: false, units: [.video: 2], urls: [.video: 2], rejected: 2,
          errors: [.urlContainsWhitespace: 2]),
    // `https://arn:aws:s3::123123123:accesspoint/…`: absolute https with a non-empty authority;
    // Encord documents this as the real MRAP form, so it is accepted.
    .init(file: "aws-mrap-videos-mrap-example.json", valid: true, units: [.video: 2], urls: [.video: 2]),

    // MARK: GCP
    videosTemplate("gcp-videos-template.json"),
    .init(file: "gcp-videos-data.json", valid: true, units: [.video: 8], urls: [.video: 8], duplicates: 1,
          warnings: [.duplicateURL: 1]),
    .init(file: "gcp-videos-video-metadata.json", valid: true, units: [.video: 1], urls: [.video: 1]),
    .init(file: "gcp-audio-template.json", valid: false, units: [.audio: 2], urls: [.audio: 2], rejected: 2,
          errors: [.invalidURL: 2]),
    .init(file: "gcp-audio-audio-metadata.json", valid: true, units: [.audio: 1], urls: [.audio: 1]),
    .init(file: "gcp-pdfs-template.json", valid: false, units: [.pdf: 3], urls: [.pdf: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "gcp-pdfs-data.json", valid: true, units: [.pdf: 3], urls: [.pdf: 3],
          warnings: [.trailingComma: 1]),
    .init(file: "gcp-text-template.json", valid: false, units: [.text: 6], urls: [.text: 6], rejected: 6,
          errors: [.invalidURL: 6]),
    .init(file: "gcp-text-data.json", valid: true, units: [.text: 6], urls: [.text: 6]),
    .init(file: "gcp-images-template.json", valid: false, units: [.image: 3], urls: [.image: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "gcp-images-data.json", valid: true, units: [.image: 6], urls: [.image: 6]),
    .init(file: "gcp-images-image-metadata.json", valid: true, units: [.image: 1], urls: [.image: 1]),
    .init(file: "gcp-image-groups-template.json", valid: false, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          rejected: 2, errors: [.invalidURL: 6], warnings: [.trailingComma: 1]),
    .init(file: "gcp-image-groups-data.json", valid: true, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          warnings: [.urlRepaired: 1]),
    .init(file: "gcp-image-sequences-template.json", valid: false, units: [.imageSequence: 2],
          urls: [.imageSequence: 4], rejected: 2, errors: [.invalidURL: 4]),
    .init(file: "gcp-image-sequences-data.json", valid: true, units: [.imageSequence: 2], urls: [.imageSequence: 6],
          warnings: [.urlRepaired: 1]),
    .init(file: "gcp-dicom-json-for-dicom.json", valid: true, units: [.dicomSeries: 3], urls: [.dicomSeries: 6],
          warnings: [.trailingComma: 2]),
    .init(file: "gcp-nifti-example.json", valid: true, units: [.nifti: 2], urls: [.nifti: 2]),
    // Mixed hosts (3 frames on an S3 host) change nothing: every URL is absolute.
    multipleTypes("gcp-multiple-types-multiple-file-types.json"),

    // MARK: Azure
    // Also misses a comma between items 1 and 2 (lines 16/17), but reading stops at line 9 first.
    videosTemplate("azure-videos-template.json"),
    .init(file: "azure-videos-data.json", valid: true, units: [.video: 8], urls: [.video: 8], duplicates: 1,
          warnings: [.duplicateURL: 1]),
    .init(file: "azure-videos-video-metadata.json", valid: true, units: [.video: 1], urls: [.video: 1]),
    .init(file: "azure-audio-template.json", valid: false, units: [.audio: 2], urls: [.audio: 2], rejected: 2,
          errors: [.invalidURL: 2]),
    .init(file: "azure-audio-audio-metadata.json", valid: true, units: [.audio: 1], urls: [.audio: 1]),
    .init(file: "azure-pdfs-template.json", valid: false, units: [.pdf: 3], urls: [.pdf: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "azure-pdfs-data.json", valid: true, units: [.pdf: 3], urls: [.pdf: 3],
          warnings: [.trailingComma: 1]),
    .init(file: "azure-text-template.json", valid: false, units: [.text: 6], urls: [.text: 6], rejected: 6,
          errors: [.invalidURL: 6]),
    .init(file: "azure-text-data.json", valid: true, units: [.text: 6], urls: [.text: 6]),
    .init(file: "azure-images-template.json", valid: false, units: [.image: 3], urls: [.image: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "azure-images-data.json", valid: true, units: [.image: 6], urls: [.image: 6]),
    .init(file: "azure-images-image-metadata.json", valid: true, units: [.image: 1], urls: [.image: 1]),
    // Unlike the other providers: no trailing comma here.
    .init(file: "azure-image-groups-template.json", valid: false, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          rejected: 2, errors: [.invalidURL: 6]),
    // Unlike the other providers: no `<https://` here.
    .init(file: "azure-image-groups-data.json", valid: true, units: [.imageGroup: 2], urls: [.imageGroup: 6]),
    .init(file: "azure-image-sequences-template.json", valid: false, units: [.imageSequence: 2],
          urls: [.imageSequence: 4], rejected: 2, errors: [.invalidURL: 4]),
    .init(file: "azure-image-sequences-data.json", valid: true, units: [.imageSequence: 2],
          urls: [.imageSequence: 6], warnings: [.urlRepaired: 1]),
    .init(file: "azure-dicom-template.json", valid: true, units: [.dicomSeries: 3], urls: [.dicomSeries: 6],
          warnings: [.trailingComma: 2]),
    .init(file: "azure-nifti-template.json", valid: true, units: [.nifti: 2], urls: [.nifti: 2]),
    multipleTypes("azure-multiple-types-example.json"),

    // MARK: OTC
    videosTemplate("otc-videos-template.json"),
    .init(file: "otc-videos-data.json", valid: true, units: [.video: 8], urls: [.video: 8], duplicates: 1,
          warnings: [.duplicateURL: 1]),
    .init(file: "otc-videos-video-metadata.json", valid: true, units: [.video: 1], urls: [.video: 1]),
    .init(file: "otc-audio-template.json", valid: false, units: [.audio: 2], urls: [.audio: 2], rejected: 2,
          errors: [.invalidURL: 2]),
    .init(file: "otc-audio-audio-metadata.json", valid: true, units: [.audio: 1], urls: [.audio: 1]),
    .init(file: "otc-pdfs-template.json", valid: false, units: [.pdf: 3], urls: [.pdf: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "otc-pdfs-data.json", valid: true, units: [.pdf: 3], urls: [.pdf: 3],
          warnings: [.trailingComma: 1]),
    .init(file: "otc-text-template.json", valid: false, units: [.text: 6], urls: [.text: 6], rejected: 6,
          errors: [.invalidURL: 6]),
    .init(file: "otc-text-data.json", valid: true, units: [.text: 6], urls: [.text: 6]),
    .init(file: "otc-images-template.json", valid: false, units: [.image: 3], urls: [.image: 3], rejected: 3,
          errors: [.invalidURL: 3]),
    .init(file: "otc-images-data.json", valid: true, units: [.image: 6], urls: [.image: 6]),
    .init(file: "otc-images-image-metadata.json", valid: true, units: [.image: 1], urls: [.image: 1]),
    // Trailing comma on line 8; group 2 also has a clientMetadata object (a known field).
    .init(file: "otc-image-groups-template.json", valid: false, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          rejected: 2, errors: [.invalidURL: 6], warnings: [.trailingComma: 1]),
    .init(file: "otc-image-groups-data.json", valid: true, units: [.imageGroup: 2], urls: [.imageGroup: 6],
          warnings: [.urlRepaired: 1]),
    .init(file: "otc-image-sequences-template.json", valid: false, units: [.imageSequence: 2],
          urls: [.imageSequence: 4], rejected: 2, errors: [.invalidURL: 4]),
    .init(file: "otc-image-sequences-data.json", valid: true, units: [.imageSequence: 2], urls: [.imageSequence: 6],
          warnings: [.urlRepaired: 1]),
    .init(file: "otc-dicom-json-for-dicom.json", valid: true, units: [.dicomSeries: 3], urls: [.dicomSeries: 6],
          warnings: [.trailingComma: 2]),
    .init(file: "otc-nifti-example.json", valid: true, units: [.nifti: 2], urls: [.nifti: 2]),
    multipleTypes("otc-multiple-types-multiple-file-types.json"),

    // MARK: CSV (relative `path/to/storage-location/…` URLs: refused, but typed and counted)
    // CSV has no file-level flags, so skip_duplicate_urls stays false.
    .init(file: "csv-videos.csv", valid: false, units: [.video: 4], urls: [.video: 4], rejected: 4, skip: false,
          errors: [.invalidURL: 4]),
    .init(file: "csv-images.csv", valid: false, units: [.image: 4], urls: [.image: 4], rejected: 4, skip: false,
          errors: [.invalidURL: 4]),
    // Group 1 (2 rows), Group 2 (2 rows), Create video false.
    .init(file: "csv-image-groups.csv", valid: false, units: [.imageGroup: 2], urls: [.imageGroup: 4], rejected: 2,
          skip: false, errors: [.invalidURL: 4]),
    .init(file: "csv-image-sequences.csv", valid: false, units: [.imageSequence: 2], urls: [.imageSequence: 4],
          rejected: 2, skip: false, errors: [.invalidURL: 4]),
    // dicom series 1 (2 rows), 2 (2 rows), 3 (1 row).
    .init(file: "csv-dicom.csv", valid: false, units: [.dicomSeries: 3], urls: [.dicomSeries: 5], rejected: 3,
          skip: false, errors: [.invalidURL: 5]),
    // Sequence 1, Sequence 2 (2 rows each), Group 1 (2 rows), then an image row under a repeated
    // `Image title` header and a video.mp4 row under another one — read as an image too. The
    // type-hint warning applies to accepted units, so it is checked on an absolute-URL copy instead.
    .init(file: "csv-multiple-types.csv", valid: false,
          units: [.imageSequence: 2, .imageGroup: 1, .image: 2],
          urls: [.imageSequence: 4, .imageGroup: 2, .image: 2], rejected: 5, skip: false,
          errors: [.invalidURL: 8], unchecked: [.typeHintMismatch]),
]

private let multipleTypesFiles = [
    "aws-multiple-types-multiple-file-types.json", "gcp-multiple-types-multiple-file-types.json",
    "azure-multiple-types-example.json", "otc-multiple-types-multiple-file-types.json",
]

private let providers = ["aws", "gcp", "azure", "otc"]

// MARK: - Tests

@Suite("Seed fixtures (Encord's documented examples)")
struct SeedFixtureTests {
    @Test("every fixture file has an expectation, and every expectation a file")
    func tableCoversEveryFixture() throws {
        let index = try fixtureURL("INDEX.md")
        let dir = index.deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".csv") }
        #expect(files.count == 84, "INDEX.md: 78 JSON + 6 CSV fixtures")
        let expected = seedExpectations.map(\.file)
        #expect(Set(expected).count == expected.count, "no fixture listed twice")
        #expect(Set(files) == Set(expected))
    }

    @Test("verdict, counts per type, fatal fault, error and warning codes", arguments: seedExpectations)
    fileprivate func fixture(_ e: SeedExpectation) throws {
        let result = try scanFixture(e.file)
        let s = result.summary

        #expect(s.valid == e.valid)
        #expect(s.fatal?.code == e.fatal?.code)
        if let f = e.fatal, let fatal = s.fatal {
            #expect(fatal.line == f.line)
            #expect(fatal.offset == f.offset)
            #expect(fatal.message.contains("line \(f.line)"), "message gives the line: \(fatal.message)")
            #expect(fatal.message.contains("column \(f.column)"), "message gives the column: \(fatal.message)")
        }

        #expect(s.unitsByType == e.units)
        #expect(s.urlsByType == e.urls)
        #expect(s.units == e.units.values.reduce(0, +))
        #expect(s.urls == e.urls.values.reduce(0, +))
        #expect(s.rejectedUnits == e.rejected)
        #expect(s.duplicateUnits == e.duplicates)
        if let skip = e.skip { #expect(s.options.skipDuplicateURLs == skip) }

        #expect(result.errorCounts() == e.errors)
        #expect(s.errorCount == e.errors.values.reduce(0, +))
        let warnings = result.warningCounts()
        for code in notableWarnings where !e.unchecked.contains(code) {
            #expect(warnings[code, default: 0] == e.warnings[code, default: 0], "warning \(code.rawValue)")
        }

        // Entries: one per unit, consecutive indices from 0, rejected ones keep their type.
        #expect(result.entries.count == s.units)
        #expect(result.entries.map(\.index) == Array(0..<result.entries.count))
        #expect(result.rejected.count == e.rejected)
        #expect(result.rejected.allSatisfy { $0.type != nil && !$0.errors.isEmpty })
        #expect(result.units.allSatisfy { !$0.urls.isEmpty })
    }

    @Test("reading in tiny pieces changes nothing", arguments: seedExpectations.map(\.file), [1, 5])
    func chunkedReadsAgree(_ file: String, maxPerRead: Int) throws {
        let bytes = try fixtureBytes(file)
        let whole = scan(bytes, format: format(of: file))
        let pieces = scan(bytes, format: format(of: file), maxPerRead: maxPerRead)
        #expect(pieces.entries == whole.entries)
        #expect(pieces.summary.errors == whole.summary.errors)
        #expect(pieces.summary.warnings == whole.summary.warnings)
        #expect(pieces.summary.fatal == whole.summary.fatal)
        #expect(pieces.summary.options == whole.summary.options)
    }

    // MARK: Multiple file types: the repeated "image_groups" key

    @Test("both image_groups arrays are read, frames ordered by N", arguments: multipleTypesFiles)
    func multipleTypesKeepsBothImageGroups(_ file: String) throws {
        let result = try scanFixture(file)
        let units = result.units
        try #require(units.count == 6)
        #expect(units.map(\.type) == [.image, .video, .video, .imageSequence, .imageSequence, .imageGroup])
        #expect(units.map(\.index) == [0, 1, 2, 3, 4, 5])

        let groups = units.filter { $0.location.section == "image_groups" }
        #expect(groups.count == 3, "2 sequences from the first image_groups array + 1 group from the second")
        #expect(groups.map(\.title) == ["apple-samsung-light", "apple-samsung-dark", "apple-ios-light"])
        #expect(groups.map(\.type) == [.imageSequence, .imageSequence, .imageGroup])
        // The repeated key continues the section's count.
        #expect(groups.map(\.location.indexInSection) == [0, 1, 2])
        #expect(groups.map(\.location.line) == [16, 24, 34])

        // Frame order: objectUrl_0 … objectUrl_N, i.e. "<k>+(32).jpg" … "<k>+(35).jpg".
        func names(_ u: RegistrationUnit) -> [String] { u.urls.map { String($0.split(separator: "/").last!) } }
        #expect(names(groups[0]) == ["1+(32).jpg", "1+(33).jpg", "1+(34).jpg", "1+(35).jpg"])
        #expect(names(groups[1]) == ["2+(32).jpg", "2+(33).jpg", "2+(34).jpg", "2+(35).jpg"])
        #expect(names(groups[2]) == ["3+(32).jpg", "3+(33).jpg"])

        let dup = result.warnings(.duplicateKey)
        #expect(dup.count == 1)
        #expect(dup.first?.line == 33, "points at the repeated key")
        #expect(dup.first?.item == "image_groups")
    }

    @Test("multiple file types: exact URLs per unit, per provider")
    func multipleTypesExactURLs() throws {
        let s3 = "https://encord-integration.s3.eu-west-2.amazonaws.com/"
        let gcs = "https://storage.cloud.google.com/encord-image-bucket/"
        let az = "https://myaccount.blob.core.windows.net/encordcontainer/"
        let obs = "https://encord-bucket.obs.eu-de.otc.t-systems.com/"
        func frames(_ base: String, _ k: Int, _ ns: ClosedRange<Int>) -> [String] { ns.map { "\(base)\(k)+(\($0)).jpg" } }
        let expected: [String: [[String]]] = [
            "aws-multiple-types-multiple-file-types.json": [
                [s3 + "images/Image1.png"], [s3 + "videos/Cooking.mp4"], [s3 + "videos/Oranges.mp4"],
                frames(s3 + "images/", 1, 32...35), frames(s3 + "images/", 2, 32...35), frames(s3 + "images/", 3, 32...33),
            ],
            "gcp-multiple-types-multiple-file-types.json": [
                [gcs + "images/Image1.png"], [gcs + "videos/Cooking.mp4"], [gcs + "videos/Oranges.mp4"],
                [gcs + "images/1+(32).jpg"] + frames(s3 + "images/", 1, 33...35),
                frames(gcs + "images/", 2, 32...35), frames(gcs + "images/", 3, 32...33),
            ],
            "azure-multiple-types-example.json": [
                [az + "Image1.png"], [az + "Cooking.mp4"], [az + "Oranges.mp4"],
                frames(az + "1-Samsung-S4-Light+Environment/", 1, 32...35),
                frames(az + "2-samsung-S4-Dark+Environment/", 2, 32...35),
                frames(az + "3-IOS-4-Light+Environment/", 3, 32...33),
            ],
            "otc-multiple-types-multiple-file-types.json": [
                [obs + "images/Image1.png"], [obs + "videos/Cooking.mp4"], [obs + "videos/Oranges.mp4"],
                frames(obs + "images/", 1, 32...35), frames(obs + "images/", 2, 32...35), frames(obs + "images/", 3, 32...33),
            ],
        ]
        for (file, urls) in expected.sorted(by: { $0.key < $1.key }) {
            let result = try scanFixture(file)
            #expect(result.units.map(\.urls) == urls, "\(file)")
        }
    }

    @Test("merging the two image_groups arrays gives the same units, without duplicate_key",
          arguments: multipleTypesFiles)
    func multipleTypesMerged(_ file: String) throws {
        let text = try fixtureText(file)
        let seam = "\n  ],\n  \"image_groups\": [\n"
        // The seam appears twice: videos → image_groups, then image_groups → image_groups again.
        try #require(text.components(separatedBy: seam).count == 3)
        let second = try #require(text.range(of: seam, options: .backwards))
        let merged = text.replacingCharacters(in: second, with: ",\n")
        let original = try scanFixture(file)
        let result = scan(merged, format: .json)
        #expect(result.summary.valid)
        #expect(result.warnings(.duplicateKey).isEmpty)
        #expect(result.units.map(\.type) == original.units.map(\.type))
        #expect(result.units.map(\.urls) == original.units.map(\.urls))
        #expect(result.units.map(\.title) == original.units.map(\.title))
        #expect(result.summary.unitsByType == original.summary.unitsByType)
    }

    // MARK: Frame order, titles and repairs of groups, sequences and series

    fileprivate struct UnitListing: Sendable, CustomTestStringConvertible {
        var file: String
        var type: DataType
        var titles: [String]
        var urls: [[String]]
        /// The `<https://…` repair: (unit index, field).
        var repaired: (Int, String)?
        var testDescription: String { file }
    }

    private static let dall = "DALL%C2%B7E+2022-09-08+18.53.25+-+firefighter+extinguishing+flames+around+computer+in+software+office+overgrown+by+foliage.png"

    private static let listings: [UnitListing] = {
        let bases = [
            "aws": "https://encord-integration.s3.eu-west-2.amazonaws.com/images/",
            "gcp": "https://storage.cloud.google.com/encord-image-bucket/images/",
            "azure": "https://myaccount.blob.core.windows.net/encordcontainer/",
            "otc": "https://encord-bucket.obs.eu-de.otc.t-systems.com/images/",
        ]
        var out: [UnitListing] = []
        for p in providers {
            let b = bases[p]!
            // Image sequences data: createVideo true; objectUrl_1 of the second starts with "<".
            out.append(UnitListing(file: "\(p)-image-sequences-data.json", type: .imageSequence,
                                   titles: ["Image sequence 001", "Image sequence 002"],
                                   urls: [[b + "01.jpg", b + "02.jpg", b + dall],
                                          [b + "thing-01.jpg", b + "thing-02.jpg", b + "thing-03.jpg"]],
                                   repaired: (1, "objectUrl_1")))
            // Image groups data: createVideo false.
            let second = p == "azure"
                ? [b + "images/thing-0001.jpg", b + "images/thing-0002.jpg", b + "thing-0003.jpg"]
                : [b + "thing-0001.jpg", b + "thing-0002.jpg", b + "thing-0003.jpg"]
            out.append(UnitListing(file: "\(p)-image-groups-data.json", type: .imageGroup,
                                   titles: ["Image group 01", "Image group 02"],
                                   urls: [[b + "0001.jpg", b + "0002.jpg", b + dall], second],
                                   repaired: p == "azure" ? nil : (1, "objectUrl_1")))
            // DICOM: one series per element.
            let dicom = p == "aws" || p == "azure" ? "\(p)-dicom-template.json" : "\(p)-dicom-json-for-dicom.json"
            out.append(UnitListing(file: dicom, type: .dicomSeries, titles: ["Series-1", "Series-2", "Series-3"],
                                   urls: [[b + "study1-series1-file.dcm"],
                                          (1...3).map { b + "study1-series2-file\($0).dcm" },
                                          (1...2).map { b + "study1-series3-file\($0).dcm" }]))
        }
        return out
    }()

    @Test("groups, sequences and series: type, title and frames in objectUrl_N order", arguments: listings)
    fileprivate func unitListing(_ l: UnitListing) throws {
        let result = try scanFixture(l.file)
        #expect(result.summary.valid)
        #expect(result.units.map(\.type) == Array(repeating: l.type, count: l.titles.count))
        #expect(result.units.map(\.title) == l.titles)
        #expect(result.units.map(\.urls) == l.urls)
        let repairs = result.warnings(.urlRepaired)
        if let (unit, field) = l.repaired {
            try #require(repairs.count == 1)
            #expect(repairs[0].item == "image_groups[\(unit)]")
            #expect(repairs[0].field == field)
            #expect(!result.units[unit].urls.contains { $0.hasPrefix("<") })
        } else {
            #expect(repairs.isEmpty)
        }
    }

    @Test("image sequences data with objectUrl_N keys shuffled: same frame order",
          arguments: providers, allPermutations(of: 3))
    func shuffledFrameKeys(_ provider: String, _ permutation: [Int]) throws {
        let file = "\(provider)-image-sequences-data.json"
        let text = try fixtureText(file)
        let shuffled = permuteFrameLines(text, permutation)
        if permutation != [0, 1, 2] { #expect(shuffled != text, "the keys really moved") }
        let original = try scanFixture(file)
        let result = scan(shuffled, format: .json)
        #expect(result.summary.valid)
        #expect(result.summary.unitsByType == [.imageSequence: 2])
        #expect(result.units.map(\.urls) == original.units.map(\.urls))
        // And the order is the documented one, not merely a stable one.
        let expected = Self.listings.first { $0.file == file }!.urls
        #expect(result.units.map(\.urls) == expected)
    }

    @Test("objectUrl_N is ordered numerically (objectUrl_10 after objectUrl_9)")
    func numericFrameOrder() {
        let keys = (0..<12).map(String.init).sorted() // "0", "1", "10", "11", "2", … (string order)
        let fields = keys.map { "\"objectUrl_\($0)\": \"https://b.s3.amazonaws.com/seq/frame-\($0).jpg\"" }
        let text = """
            {"image_groups": [{"title": "twelve", "createVideo": true, \(fields.joined(separator: ", "))}]}
            """
        let result = scan(text, format: .json)
        #expect(result.summary.valid)
        #expect(result.units.first?.type == .imageSequence)
        #expect(result.units.first?.urls == (0..<12).map { "https://b.s3.amazonaws.com/seq/frame-\($0).jpg" })
    }

    // MARK: Other in-memory edits of the seed

    @Test("pdfs data without its trailing comma: same units, no trailing_comma", arguments: providers)
    func pdfsWithoutTrailingComma(_ provider: String) throws {
        let file = "\(provider)-pdfs-data.json"
        let text = try fixtureText(file)
        let fixed = text.replacingOccurrences(of: "my-document-01.pdf\",", with: "my-document-01.pdf\"")
        try #require(fixed != text)
        let result = scan(fixed, format: .json)
        #expect(result.summary.valid)
        #expect(result.summary.unitsByType == [.pdf: 3])
        #expect(result.warnings(.trailingComma).isEmpty)
        // Item 0 has no title: the JSON default is the URL's path.
        #expect(result.units.first?.title.hasSuffix("/my-document-01.pdf") == true)
        #expect(result.units.first?.title.hasPrefix("/") == true)
        #expect(result.units.map(\.title).dropFirst() == ["my-document-02.pdf", "my-document-03.pdf"])
        // Item 2's pdfMetadata {fileSize 300, numPages 5} is taken as supplied.
        #expect(result.units.last?.suppliedMetadata == .pdf(.init(fileSize: 300, numPages: 5)))
    }

    @Test("templates with their placeholders filled in become valid",
          arguments: providers, [("audio", DataType.audio, "mp3", 2), ("pdfs", .pdf, "pdf", 3), ("text", .text, "txt", 6)])
    func filledTemplates(_ provider: String, _ kind: (String, DataType, String, Int)) throws {
        let (section, type, ext, count) = kind
        var text = try fixtureText("\(provider)-\(section)-template.json")
        for n in 1...count {
            let placeholder = "<object url_\(n)>"
            try #require(text.contains(placeholder))
            text = text.replacingOccurrences(of: placeholder, with: "https://bucket.s3.eu-west-2.amazonaws.com/data/file-\(n).\(ext)")
        }
        let result = scan(text, format: .json)
        #expect(result.summary.valid)
        #expect(result.summary.unitsByType == [type: count])
        #expect(result.summary.rejectedUnits == 0)
        #expect(result.units.first?.title == "/data/file-1.\(ext)", "no title: the URL's path")
    }

    @Test("a JSON objectUrl with leading/trailing whitespace is trimmed with a warning")
    func jsonURLTrimmed() throws {
        let text = try fixtureText("aws-images-data.json")
        let padded = text.replacingOccurrences(of: "\"https://encord-integration.s3.eu-west-2.amazonaws.com/images/0001.jpg\"",
                                               with: "\"  https://encord-integration.s3.eu-west-2.amazonaws.com/images/0001.jpg\\t\"")
        try #require(padded != text)
        let result = scan(padded, format: .json)
        #expect(result.summary.valid)
        #expect(result.warnings(.urlTrimmed).count == 1)
        #expect(result.units.first?.urls == ["https://encord-integration.s3.eu-west-2.amazonaws.com/images/0001.jpg"])
    }

    @Test("unknown keys are warnings, not errors")
    func unknownKeys() throws {
        let text = try fixtureText("aws-images-data.json")
        let edited = text
            .replacingOccurrences(of: "{\n  \"images\": [", with: "{\n  \"upsert_metadata\": true,\n  \"images\": [")
            .replacingOccurrences(of: "\"objectUrl\": \"https://encord-integration.s3.eu-west-2.amazonaws.com/images/0002.jpg\"",
                                  with: "\"note\": {\"a\": [1, 2]}, \"objectUrl\": \"https://encord-integration.s3.eu-west-2.amazonaws.com/images/0002.jpg\"")
        try #require(edited.contains("upsert_metadata") && edited.contains("\"note\""))
        let result = scan(edited, format: .json)
        #expect(result.summary.valid)
        #expect(result.summary.unitsByType == [.image: 6])
        #expect(result.warnings(.unknownKey).map(\.item) == ["upsert_metadata"])
        #expect(result.warnings(.unknownField).map(\.item) == ["images[1]"])
        #expect(result.warnings(.unknownField).map(\.field) == ["note"])
    }

    @Test("nifti templates: titles as given, URLs absolute")
    func niftiTemplate() throws {
        let result = try scanFixture("aws-nifti-template.json")
        #expect(result.units.map(\.title) == ["<file-1>", "<file-2>"])
        #expect(result.units.map(\.urls) == [["https://my-bucket/.../nifti-file1.nii"], ["https://my-bucket/.../nifti-file2.nii.gz"]])
    }

    @Test("video data: the repeated boat_lake.MP4 is the one duplicate", arguments: providers)
    func videoDuplicate(_ provider: String) throws {
        let result = try scanFixture("\(provider)-videos-data.json")
        let dup = result.warnings(.duplicateURL)
        try #require(dup.count == 1)
        #expect(dup[0].item == "videos[5]")
        #expect(dup[0].line == 18)
        #expect(result.units[5].urls.first?.hasSuffix("/boat_lake.MP4") == true)
    }

    @Test("supplied metadata blocks are read as given")
    func suppliedMetadata() throws {
        let video = try scanFixture("aws-videos-video-metadata.json")
        #expect(video.units.first?.suppliedMetadata == .video(.init(fps: 23.98, duration: 29.09, width: 1280, height: 720,
                                                                    fileSize: 5_468_354, mimeType: "video/mp4")))
        let audio = try scanFixture("aws-audio-audio-metadata.json")
        #expect(audio.units.first?.suppliedMetadata == .audio(.init(duration: 23.98, fileSize: 2_900_000, mimeType: "audio/mp3",
                                                                    sampleRate: 44_100, bitDepth: 24, codec: "mp3", numChannels: 2)))
        let image = try scanFixture("aws-images-image-metadata.json")
        #expect(image.units.first?.suppliedMetadata == .image(.init(mimeType: "image/jpg", fileSize: 124, width: 640, height: 480)))
    }

    // MARK: CSV seed

    @Test("csv-multiple-types: groups in file order, rejected items keep type and location")
    func csvMultipleTypesStructure() throws {
        let result = try scanFixture("csv-multiple-types.csv")
        let r = result.rejected
        try #require(r.count == 5)
        #expect(r.map(\.type) == [.imageSequence, .imageSequence, .imageGroup, .image, .image])
        #expect(r.map(\.index) == [0, 1, 2, 3, 4])
        let p = "path/to/storage-location/"
        #expect(r.map(\.urls) == [[p + "frame1.jpg", p + "frame2.jpg"], [p + "frame3.jpg", p + "frame4.jpg"],
                                  [p + "frame5.jpg", p + "frame6.jpg"], [p + "frame1.jpg"], ["full/storage/path/video.mp4"]])
        #expect(r.map(\.location.line) == [2, 4, 6, 9, 11])
        #expect(r.map(\.location.lastLine) == [3, 5, 7, nil, nil])
        #expect(result.summary.fatal == nil)
    }

    fileprivate struct CSVSeedCase: Sendable, CustomTestStringConvertible {
        var file: String
        var types: [DataType]
        var titles: [String]
        var urlCounts: [Int]
        var typeHintMismatches = 0
        var testDescription: String { file }
    }

    private static let csvSeeds: [CSVSeedCase] = [
        // Blank title on line 4: the original file name.
        .init(file: "csv-videos.csv", types: Array(repeating: .video, count: 4),
              titles: ["Video 1", "Video 2", "frame3.mp4", "Video 3"], urlCounts: [1, 1, 1, 1]),
        .init(file: "csv-images.csv", types: Array(repeating: .image, count: 4),
              titles: ["Image 1", "Image 2", "frame3.jpg", "Image 3"], urlCounts: [1, 1, 1, 1]),
        .init(file: "csv-image-groups.csv", types: [.imageGroup, .imageGroup], titles: ["Group 1", "Group 2"], urlCounts: [2, 2]),
        .init(file: "csv-image-sequences.csv", types: [.imageSequence, .imageSequence],
              titles: ["Sequence 1", "Sequence 2"], urlCounts: [2, 2]),
        .init(file: "csv-dicom.csv", types: [.dicomSeries, .dicomSeries, .dicomSeries],
              titles: ["dicom series 1", "dicom series 2", "dicom series 3"], urlCounts: [2, 2, 1]),
        // video.mp4 under an `Image title` header: an image, with a type-hint warning.
        .init(file: "csv-multiple-types.csv", types: [.imageSequence, .imageSequence, .imageGroup, .image, .image],
              titles: ["Sequence 1", "Sequence 2", "Group 1", "Image 1", "Video 1"], urlCounts: [2, 2, 2, 1, 1],
              typeHintMismatches: 1),
    ]

    @Test("CSV seed with absolute URLs: valid, same units", arguments: csvSeeds)
    fileprivate func csvSeedWithAbsoluteURLs(_ c: CSVSeedCase) throws {
        let host = "https://bucket.s3.eu-west-2.amazonaws.com/"
        let text = try fixtureText(c.file)
            .replacingOccurrences(of: "path/to/storage-location/", with: host + "path/to/storage-location/")
            .replacingOccurrences(of: "full/storage/path/", with: host + "full/storage/path/")
        let result = scan(text, format: .csv)
        #expect(result.summary.valid)
        #expect(result.summary.errorCount == 0)
        #expect(result.units.map(\.type) == c.types)
        #expect(result.units.map(\.title) == c.titles)
        #expect(result.units.map(\.urls.count) == c.urlCounts)
        #expect(result.units.allSatisfy { $0.urls.allSatisfy { $0.hasPrefix(host) } })
        let hints = result.warnings(.typeHintMismatch)
        #expect(hints.count == c.typeHintMismatches)
        if c.typeHintMismatches == 1 {
            #expect(hints.first?.line == 11)
            #expect(result.units.last?.urls == [host + "full/storage/path/video.mp4"])
        }
    }
}

// MARK: - Text edits

/// All permutations of 0..<n, in lexicographic order.
private func allPermutations(of n: Int) -> [[Int]] {
    func go(_ prefix: [Int], _ rest: [Int]) -> [[Int]] {
        if rest.isEmpty { return [prefix] }
        return rest.flatMap { x in go(prefix + [x], rest.filter { $0 != x }) }
    }
    return go([], Array(0..<n))
}

/// Reorders each run of consecutive `"objectUrl_N": …` lines by `permutation`, keeping the commas
/// where they were (the run's last line has none when it ends its object).
private func permuteFrameLines(_ text: String, _ permutation: [Int]) -> String {
    func isFrameLine(_ line: String) -> Bool {
        line.drop { $0 == " " }.hasPrefix("\"objectUrl_")
    }
    var lines = text.components(separatedBy: "\n")
    var i = 0
    while i < lines.count {
        guard isFrameLine(lines[i]) else { i += 1; continue }
        var j = i
        while j < lines.count, isFrameLine(lines[j]) { j += 1 }
        let run = Array(lines[i..<j])
        precondition(run.count == permutation.count, "every frame run of the fixture has \(permutation.count) lines")
        let hadComma = run.map { $0.hasSuffix(",") }
        let bare = run.map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 }
        for k in run.indices { lines[i + k] = bare[permutation[k]] + (hadComma[k] ? "," : "") }
        i = j
    }
    return lines.joined(separator: "\n")
}
