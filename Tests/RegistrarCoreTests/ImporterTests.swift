import Foundation
import RegistrarCore
import Testing

// The importers (`registrar convert --from …`) on inputs shaped exactly as Label Studio, CVAT and
// Labelbox write them (Fixtures/importers, copied from each tool's documentation; see README.md
// there). Every expectation was worked out by reading the fixture text, not from the output.
// Each converted set is assembled into our JSON manifest and run through our own validator.

private func fixture(_ file: String) throws -> [UInt8] {
    let dot = try #require(file.lastIndex(of: "."))
    let url = try #require(Bundle.module.url(forResource: String(file[..<dot]), withExtension: String(file[file.index(after: dot)...]),
                                             subdirectory: "Fixtures/importers"), "fixture \(file) missing")
    return [UInt8](try Data(contentsOf: url))
}

private struct Converted {
    var items: [ImportedItem]
    var summary: ImportSummary
    /// Our JSON manifest holding the items, grouped by section as `registrar convert` writes it.
    var manifest: String {
        var sections: [(String, [String])] = []
        for item in items {
            if let i = sections.firstIndex(where: { $0.0 == item.section }) { sections[i].1.append(item.jsonText) }
            else { sections.append((item.section, [item.jsonText])) }
        }
        return "{" + sections.map { "\"\($0.0)\":[\($0.1.joined(separator: ","))]" }.joined(separator: ",") + "}"
    }
    var validation: ManifestSummary {
        var reader = JSONManifestReader(source: MemoryByteSource(manifest), limits: .default)
        return ManifestScanner(limits: .default).scan(&reader, format: .json)
    }
}

private func convert(_ format: ImportSource, _ bytes: [UInt8], baseURL: String? = nil, maxPerRead: Int = .max) throws -> Converted {
    var items: [ImportedItem] = []
    let summary = try ManifestImporter.convert(from: format, source: MemoryByteSource(bytes, maxPerRead: maxPerRead),
                                               options: ImportOptions(baseURL: baseURL)) { items.append($0) }
    return Converted(items: items, summary: summary)
}

private func expectValid(_ c: Converted, sourceLocation: SourceLocation = #_sourceLocation) {
    let v = c.validation
    #expect(v.valid, "converted manifest does not validate: \(v.errors.map(\.description))", sourceLocation: sourceLocation)
    #expect(v.units == c.items.count, sourceLocation: sourceLocation)
    #expect(v.warningCount == 0, "warnings: \(v.warnings.map(\.description))", sourceLocation: sourceLocation)
}

@Suite struct LabelStudioImporterTests {
    @Test func anExportConvertsEveryMediaFieldKeepingTaskIdsAndData() throws {
        let c = try convert(.labelstudio, try fixture("labelstudio-export.json"))
        #expect(c.items.map(\.type) == [.image, .image, .video, .audio, .text])
        #expect(c.items.map(\.objectURL) == ["https://example.com/opensource/label-studio/1.jpg", "s3://my-bucket/images/2.jpg",
                                            "gs://my-bucket/videos/clip.mp4", "https://example.com/opensource/label-studio/speech.wav",
                                            "https://example.com/opensource/label-studio/review.txt"])
        #expect(c.items[0].clientMetadata?.compactText == #"{"labelStudio":{"taskId":1,"mediaField":"image"}}"#)
        #expect(c.items[1].clientMetadata?.compactText
                == #"{"labelStudio":{"taskId":2,"data":{"capture_site":"Lisbon","batch":7},"meta":{"source":"camera-3"},"mediaField":"image"}}"#)
        #expect(c.summary.refusedCount == 0)
        // Task 1's annotation and task 2's prediction are named as not carried; empty lists are not.
        #expect(c.summary.notCarried == ["annotations": 1, "predictions": 1])
        expectValid(c)
    }

    @Test func refusalsNameTheTaskItsLineAndTheField() throws {
        let c = try convert(.labelstudio, try fixture("labelstudio-short.json"))
        #expect(c.items.map(\.objectURL) == ["https://example.com/opensource/label-studio/7.jpg", "https://example.com/scans/page-13.png"])
        // The short form (no `data`) has no task id; task 13's URL sits in a custom field.
        #expect(c.items[0].clientMetadata?.compactText == #"{"labelStudio":{"mediaField":"image"}}"#)
        #expect(c.items[1].clientMetadata?.compactText == #"{"labelStudio":{"taskId":13,"data":{"label_hint":"invoice"},"mediaField":"ocr"}}"#)
        #expect(c.summary.refusals.map(\.item) == ["task[1] (line 3)", "task[2] (line 4)", "task[3] (line 5)", "task[4] (line 6)", "task[5] (line 7)"])
        #expect(c.summary.refusals.map(\.field) == ["data.text", "data.image", "data.image", "data", "data.image"])
        #expect(c.summary.refusals[0].message.contains("inline text"))
        #expect(c.summary.refusals[1].message.contains("tool's own server"))
        #expect(c.summary.refusals[2].message.contains("azure-blob"))
        #expect(c.summary.refusals[4].message.contains("not a number"))
        expectValid(c)
    }

    @Test func aSingleTaskObjectAndTinyReadsGiveTheSameResult() throws {
        let one = try convert(.labelstudio, Array(#"{"id": 5, "data": {"image": "gs://b/x.png"}}"#.utf8))
        #expect(one.items.map(\.objectURL) == ["gs://b/x.png"])
        let whole = try convert(.labelstudio, try fixture("labelstudio-export.json"))
        let bytewise = try convert(.labelstudio, try fixture("labelstudio-export.json"), maxPerRead: 1)
        #expect(whole.items == bytewise.items)
    }

    @Test func brokenJSONStopsTheConversionWithWhere() throws {
        #expect(throws: ImportFailure.self) { try convert(.labelstudio, Array("[{\"data\": {\"image\": \"https://a/b.jpg\"}},\n {oops}]".utf8)) }
    }
}

@Suite struct CVATImporterTests {
    @Test func anImagesManifestBecomesImagesUnderTheBaseURL() throws {
        let c = try convert(.cvat, try fixture("cvat-images-manifest.jsonl"), baseURL: "s3://bucket/datasets/cvat")
        #expect(c.items.map(\.objectURL) == ["s3://bucket/datasets/cvat/image1.jpg", "s3://bucket/datasets/cvat/image2.jpg",
                                            "s3://bucket/datasets/cvat/image3.jpg"])
        #expect(c.items.allSatisfy { $0.type == .image })
        #expect(c.items[1].clientMetadata?.compactText
                == #"{"cvat":{"name":"image2.jpg","width":183,"height":275,"checksum":"4b4eefd03cc6a45c1c068b98477fb639","meta":{"related_images":[]}}}"#)
        #expect(c.summary.skippedRecords == 2)   // version and type lines
        expectValid(c)
    }

    @Test func aVideoManifestBecomesOneVideoAndItsKeyFramesAreNamedAsNotCarried() throws {
        let c = try convert(.cvat, try fixture("cvat-video-manifest.jsonl"), baseURL: "https://cdn.example.com/v/")
        #expect(c.items == [ImportedItem(type: .video, objectURL: "https://cdn.example.com/v/video.mp4",
                                         clientMetadata: .object([("cvat", .object([("name", .string("video.mp4")),
                                                                                    ("resolution", .array([.number("1280"), .number("720")])),
                                                                                    ("length", .number("778"))]))]))])
        #expect(c.summary.notCarried == ["key frames (number, pts, checksum)": 6])
        expectValid(c)
    }

    @Test func namesWithSpacesAndFoldersAreEncodedAndOddLinesRefusedByLine() throws {
        let text = """
        {"version":"1.1"}
        {"type":"images"}
        {"name":"sub dir/cat #1","extension":".png","width":1,"height":1}
        {"name":"cloud","extension":".pcd","width":1,"height":1}
        {"extension":".jpg"}
        [1,2]
        {"name":"ok","extension":".JPG","width":2,"height":2}
        """
        let c = try convert(.cvat, Array(text.utf8), baseURL: "gs://b/p/")
        #expect(c.items.map(\.objectURL) == ["gs://b/p/sub%20dir/cat%20%231.png", "gs://b/p/ok.JPG"])
        #expect(c.summary.refusals.map(\.description) == [
            "line 4, extension: 'cloud.pcd' is not an image (CVAT's 3D point clouds and other files have no counterpart here)",
            "line 5, name: missing: every image line names its file",
            "line 6: a manifest line must be a JSON object, not an array"])
        expectValid(c)
    }

    @Test func withoutABaseURLNothingIsConverted() throws {
        #expect(throws: ImportFailure.self) { try convert(.cvat, try fixture("cvat-images-manifest.jsonl")) }
        #expect(throws: ImportFailure.self) { try convert(.cvat, try fixture("cvat-images-manifest.jsonl"), baseURL: "bucket/prefix") }
    }
}

@Suite struct LabelboxImporterTests {
    @Test func dataRowsKeepGlobalKeysAndMetadata() throws {
        let c = try convert(.labelbox, try fixture("labelbox-data-rows.json"))
        #expect(c.items.map(\.type) == [.image, .video, .pdf, .audio])
        #expect(c.items.map(\.title) == ["img_0001.jpeg", "video-sample-1", "contract-17", "audio-legacy-id"])
        #expect(c.items[0].clientMetadata?.compactText == """
        {"labelbox":{"globalKey":"img_0001.jpeg","mediaType":"image","metadata_fields":[{"name":"tag","value":"tag_string"},\
        {"schema_id":"cko8s9r5v0001h2dk9elqdidh","value":"2023-01-01T00:00:00Z"}],"attachments":[{"type":"RAW_TEXT","name":"note","value":"Sample text"}]}}
        """)
        #expect(c.summary.refusals.map(\.item) == ["row[4] (line 23)", "row[5] (line 28)", "row[6] (line 33)"])
        #expect(c.summary.refusals.map(\.field) == ["row_data", "media_type", "row_data"])
        expectValid(c)
    }

    @Test func exportLinesReadNestedDataRowsAndRefuseABadLineByNumber() throws {
        let c = try convert(.labelbox, try fixture("labelbox-export.ndjson"))
        #expect(c.items.map(\.type) == [.image, .video])
        #expect(c.items.map(\.title) == ["img_0002.jpeg", "video-2"])
        #expect(c.summary.refusals.map(\.description) == ["line 2: not a JSON value"])
        #expect(c.summary.notCarried == ["projects": 1])
        expectValid(c)
    }
}

@Suite struct ImporterStreamingTests {
    /// 100,000 CVAT lines convert item by item: the emit closure sees each as it is read, and
    /// the reader never holds more than a block and a line (checked by count and order here;
    /// the 1-byte reads above check tokens split across reads).
    @Test func aLargeCVATManifestStreams() throws {
        var text = "{\"version\":\"1.1\"}\n{\"type\":\"images\"}\n"
        for i in 0..<100_000 { text += "{\"name\":\"img\(i)\",\"extension\":\".jpg\",\"width\":10,\"height\":10}\n" }
        var n = 0
        var last = ""
        let summary = try ManifestImporter.convert(from: .cvat, source: MemoryByteSource(text), options: ImportOptions(baseURL: "s3://b")) {
            n += 1
            last = $0.objectURL
        }
        #expect(n == 100_000 && summary.convertedCount == 100_000)
        #expect(last == "s3://b/img99999.jpg")
    }
}
