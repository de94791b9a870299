// Writes realistic, deterministic registration manifests of an exact URL count, streaming, so
// the bench can feed `registrar validate` files of 10k to 1M+ URLs without holding them.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The manifest formats `registrar validate` reads.
enum ManifestFormat: String, CaseIterable, Sendable {
    case json
    case csv

    var fileExtension: String { rawValue }
}

// MARK: - Deterministic randomness

/// SplitMix64 (Steele, Lea & Flood, 2014). Chosen over `SystemRandomNumberGenerator` because it
/// is seedable — the same size and seed give byte-identical manifests on every run, so figures
/// from different machines or commits compare like with like — and it is tiny and fast.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix finaliser on its own: a stateless hash, used to derive an URL's bucket,
    /// project and so on from its serial number, so a duplicate can re-create an earlier URL
    /// exactly without the generator remembering any URL.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Double) -> Bool {
        Double(next() >> 11) * 0x1p-53 * 100 < percent
    }
}

// MARK: - Buffered output

/// Appends to a file through one fixed buffer (1 MiB by default), so writing a 150 MB manifest
/// costs about 1 MiB of memory. The bench has to stay small itself: see `ProcessProbe` for why
/// a big benchmark process would distort the RSS it measures.
///
/// The first write error is kept and thrown by `close()`, which keeps the many call sites of
/// the generator free of `try` noise; writes after an error are dropped.
final class BufferedWriter {
    private let fd: Int32
    private let path: String
    private let capacity: Int
    private var buffer: [UInt8]
    private var failure: BenchError?
    /// Bytes accepted so far (buffered or written): the file's size once closed.
    private(set) var bytesWritten = 0

    init(path: String, capacity: Int = 1 << 20) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchError.posix("cannot create \(path)") }
        self.fd = fd
        self.path = path
        self.capacity = capacity
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write($0) }
    }

    func write(_ text: StaticString) {
        write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        if buffer.count + bytes.count > capacity { drain() }
        if bytes.count >= capacity {
            writeFully(UnsafeRawBufferPointer(bytes))
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += bytes.count
    }

    /// Writes `value` in decimal, zero-padded to at least `width` digits, without making a
    /// String (this runs several times per URL).
    func writeDecimal(_ value: Int, width: Int = 1) {
        precondition(value >= 0 && width <= 20)
        // 20 digits hold any Int; the scratch space is on the stack.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var start = scratch.count
            var rest = value
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0 || scratch.count - start < width
            write(UnsafeBufferPointer(rebasing: scratch[start...]))
        }
    }

    func close() throws {
        drain()
        if posixClose(fd) != 0, failure == nil {
            failure = BenchError.posix("cannot close \(path)")
        }
        if let failure { throw failure }
    }

    private func drain() {
        buffer.withUnsafeBytes { writeFully($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = posixWrite(fd, next, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                failure = BenchError.posix("cannot write \(path)")
                return
            }
            next += n
            remaining -= n
        }
    }
}

// `write` and `close` are also method names of `BufferedWriter`; these reach the C functions.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}

private func posixClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #else
    Darwin.close(fd)
    #endif
}

// MARK: - What gets generated

/// The kinds of item the generator writes, in the order their sections appear in the file.
enum ItemKind: CaseIterable, Sendable {
    case image, video, audio, pdf, text, nifti, imageGroup, imageSequence, dicomSeries

    /// The key `registrar validate --json` uses in `byType`.
    var typeName: String {
        switch self {
        case .image: return "image"
        case .video: return "video"
        case .audio: return "audio"
        case .pdf: return "pdf"
        case .text: return "text"
        case .nifti: return "nifti"
        case .imageGroup: return "image_group"
        case .imageSequence: return "image_sequence"
        case .dicomSeries: return "dicom_series"
        }
    }

    /// The top-level JSON array the kind is listed in.
    var jsonSection: StaticString {
        switch self {
        case .image: return "images"
        case .video: return "videos"
        case .audio: return "audio"
        case .pdf: return "pdfs"
        case .text: return "text"
        case .nifti: return "nifti"
        case .imageGroup, .imageSequence: return "image_groups"
        case .dicomSeries: return "dicom_series"
        }
    }
}

/// What was written: the figures `registrar validate` must reproduce.
struct GeneratedManifest: Sendable {
    var path: String
    var format: ManifestFormat
    /// Object URLs in the file, duplicates included; always the requested N.
    var urls = 0
    /// Items (registration units) in the file. Duplicate items are counted: they are items of
    /// the manifest whether the validator then skips them or not.
    var units = 0
    /// Items whose URL repeats an earlier item's URL exactly (each adds one duplicate URL).
    var duplicateURLs = 0
    /// Units per `ItemKind.typeName`.
    var unitsByType: [String: Int] = [:]
    var bytes = 0
}

/// How many URLs each part of the mix gets. Fixed shares of N (see `init`), with whatever the
/// shares round away going to single images, so the total is exactly N.
struct ManifestPlan {
    static let groupFrames = 5...20
    static let seriesFiles = 3...30

    /// URL budget per single-URL kind, in file order.
    var singles: [(kind: ItemKind, urls: Int)]
    /// URLs in image groups and sequences, and in DICOM series.
    var groupURLs: Int
    var seriesURLs: Int

    init(urls n: Int, format: ManifestFormat) {
        func share(_ percent: Int) -> Int { n * percent / 100 }
        // A budget too small for one group or series goes to images instead.
        groupURLs = share(10) >= Self.groupFrames.lowerBound ? share(10) : 0
        seriesURLs = share(8) >= Self.seriesFiles.lowerBound ? share(8) : 0
        var others: [(kind: ItemKind, urls: Int)] = [(.video, share(15))]
        switch format {
        case .json:
            others += [(.audio, share(5)), (.pdf, share(5)), (.text, share(5)), (.nifti, share(2))]
        case .csv:
            // The CSV format has headers only for images, videos, image groups/sequences and
            // DICOM, so the audio/PDF/text/NIfTI shares are images there.
            break
        }
        let images = n - groupURLs - seriesURLs - others.reduce(0) { $0 + $1.urls }
        singles = [(.image, images)] + others
    }
}

/// Streams one manifest of exactly `urls` object URLs to a file.
///
/// The mix, by URLs: ~50% single images, 15% videos, 5% audio, 5% PDFs, 5% text, 2% NIfTI,
/// 10% in image groups/sequences of 5–20 frames, 8% in DICOM series of 3–30 files. About 10% of
/// single items have a title, 5% a small `clientMetadata` object (JSON only: CSV has no column
/// for it), and 1% repeat the URL of an earlier item of the same kind. JSON manifests end with
/// `"skip_duplicate_urls": true`, as Encord's examples do.
struct ManifestGenerator {
    static let percentTitled = 10.0
    static let percentWithMetadata = 5.0
    static let percentDuplicate = 1.0

    var urls: Int
    var format: ManifestFormat
    var seed: UInt64

    func write(to path: String) throws -> GeneratedManifest {
        precondition(urls > 0, "a manifest needs at least one URL")
        var state = GeneratorState(
            out: try BufferedWriter(path: path),
            rng: SplitMix64(seed: seed ^ UInt64(urls)),
            result: GeneratedManifest(path: path, format: format)
        )
        let plan = ManifestPlan(urls: urls, format: format)
        switch format {
        case .json: state.writeJSON(plan)
        case .csv: state.writeCSV(plan)
        }
        try state.out.close()
        state.result.bytes = state.out.bytesWritten
        // The bench's checks are only as good as these counts.
        precondition(state.result.urls == urls, "generator wrote \(state.result.urls) URLs, wanted \(urls)")
        return state.result
    }
}

/// The mutable part of one generation run.
private struct GeneratorState {
    let out: BufferedWriter
    var rng: SplitMix64
    var result: GeneratedManifest
    /// Serial number of the next *distinct* URL (or group). Every distinct URL embeds its serial,
    /// which is what keeps URLs unique apart from the deliberate duplicates.
    var nextSerial = 1

    // MARK: JSON

    mutating func writeJSON(_ plan: ManifestPlan) {
        out.write("{\n")
        var firstSection = true
        func openSection(_ name: StaticString) {
            out.write(firstSection ? "  \"" : ",\n  \"")
            out.write(name)
            out.write("\": [\n")
            firstSection = false
        }
        for (kind, budget) in plan.singles where budget > 0 {
            openSection(kind.jsonSection)
            writeSingles(kind, budget: budget, separator: ",\n") { state, url, title in
                state.out.write("    {\"objectUrl\": \"")
                state.writeURL(url)
                state.out.write("\"")
                if let title {
                    state.out.write(", \"title\": ")
                    state.out.write(jsonQuoted(title))
                }
                if state.rng.chance(ManifestGenerator.percentWithMetadata) {
                    state.out.write(", \"clientMetadata\": ")
                    state.writeClientMetadata()
                }
                state.out.write("}")
            }
            out.write("\n  ]")
        }
        let multiURLSections: [(name: StaticString, dicom: Bool, budget: Int)] = [
            ("image_groups", false, plan.groupURLs), ("dicom_series", true, plan.seriesURLs),
        ]
        for (name, dicom, budget) in multiURLSections where budget > 0 {
            openSection(name)
            writeGroups(dicom: dicom, budget: budget, separator: ",\n") { state, group in
                state.out.write("    {\"title\": ")
                state.out.write(jsonQuoted(group.title))
                if let createVideo = group.createVideo {
                    state.out.write(createVideo ? ", \"createVideo\": true" : ", \"createVideo\": false")
                }
                for index in 0..<group.count {
                    state.out.write(", \"objectUrl_")
                    state.out.writeDecimal(index)
                    state.out.write("\": \"")
                    state.writeURL(group.url(index))
                    state.out.write("\"")
                }
                state.out.write("}")
            }
            out.write("\n  ]")
        }
        out.write(",\n  \"skip_duplicate_urls\": true\n}\n")
    }

    /// A small, varied `clientMetadata` object: strings, a number, a boolean and an array, as
    /// customers typically attach.
    mutating func writeClientMetadata() {
        let h = rng.next()
        out.write("{\"camera\": \"cam-")
        out.writeDecimal(Int(h % 24), width: 2)
        out.write("\", \"site\": \"")
        out.write(Self.sites[Int((h >> 8) % UInt64(Self.sites.count))])
        out.write("\", \"capturedAt\": \"2024-")
        out.writeDecimal(Int((h >> 16) % 12) + 1, width: 2)
        out.write("-")
        out.writeDecimal(Int((h >> 20) % 28) + 1, width: 2)
        out.write("T")
        out.writeDecimal(Int((h >> 25) % 24), width: 2)
        out.write(":")
        out.writeDecimal(Int((h >> 30) % 60), width: 2)
        out.write(":00Z\", \"exposureMs\": ")
        out.writeDecimal(Int((h >> 36) % 30) + 1)
        out.write(".5, \"reviewed\": ")
        out.write((h >> 42) & 1 == 0 ? "false" : "true")
        out.write(", \"tags\": [\"")
        out.write(Self.tags[Int((h >> 44) % UInt64(Self.tags.count))])
        out.write("\", \"")
        out.write(Self.tags[Int((h >> 50) % UInt64(Self.tags.count))])
        out.write("\"]}")
    }

    static let sites: [StaticString] = ["lhr-2", "man-1", "ams-3", "fra-1", "dub-4"]
    static let tags: [StaticString] = ["rgb", "ir", "day", "night", "rain", "occluded", "review"]

    // MARK: CSV

    mutating func writeCSV(_ plan: ManifestPlan) {
        for (kind, budget) in plan.singles where budget > 0 {
            out.write(kind == .video ? "ObjectUrl,Video title\n" : "ObjectUrl,Image title\n")
            writeSingles(kind, budget: budget, separator: "\n") { state, url, title in
                state.writeURL(url)
                state.out.write(",")
                if let title { state.out.write(csvField(title)) }
            }
            out.write("\n")
        }
        let multiURLSections: [(header: StaticString, dicom: Bool, budget: Int)] = [
            ("ObjectUrl,Image group title,Create video\n", false, plan.groupURLs),
            ("ObjectUrl,Series title\n", true, plan.seriesURLs),
        ]
        for (header, dicom, budget) in multiURLSections where budget > 0 {
            out.write(header)
            // Consecutive rows with the same title form one group, and titles are unique, so
            // each group's rows are exactly its URLs.
            writeGroups(dicom: dicom, budget: budget, separator: "\n") { state, group in
                let title = csvField(group.title)
                for index in 0..<group.count {
                    if index > 0 { state.out.write("\n") }
                    state.writeURL(group.url(index))
                    state.out.write(",")
                    state.out.write(title)
                    if let createVideo = group.createVideo {
                        state.out.write(createVideo ? ",true" : ",false")
                    }
                }
            }
            out.write("\n")
        }
    }

    // MARK: Items, shared by both formats

    /// Writes `budget` single-URL items of `kind`, separated by `separator`. About 1% of them
    /// repeat the URL of an earlier item of this section; the rest get fresh serials.
    mutating func writeSingles(
        _ kind: ItemKind, budget: Int, separator: StaticString,
        item: (inout GeneratorState, URLSpec, String?) -> Void
    ) {
        let firstSerial = nextSerial
        for i in 0..<budget {
            if i > 0 { out.write(separator) }
            let url: URLSpec
            if nextSerial > firstSerial, rng.chance(ManifestGenerator.percentDuplicate) {
                // Serials in this section are contiguous, so any in range is an earlier URL.
                url = URLSpec(kind: kind, serial: Int.random(in: firstSerial..<nextSerial, using: &rng))
                result.duplicateURLs += 1
            } else {
                url = URLSpec(kind: kind, serial: nextSerial)
                nextSerial += 1
            }
            let title = rng.chance(ManifestGenerator.percentTitled) ? singleTitle(url) : nil
            item(&self, url, title)
            countUnit(kind, urls: 1)
        }
    }

    /// One image group/sequence or DICOM series about to be written.
    struct Group {
        var kind: ItemKind
        var serial: Int
        var count: Int
        var title: String
        /// Sequences are image groups with `createVideo: true`; nil for DICOM series.
        var createVideo: Bool?

        func url(_ index: Int) -> URLSpec { URLSpec(kind: kind, serial: serial, frame: index) }
    }

    /// Writes image groups and sequences (half each), or DICOM series, of random sizes that
    /// add up to exactly `budget` URLs.
    mutating func writeGroups(
        dicom: Bool, budget: Int, separator: StaticString, item: (inout GeneratorState, Group) -> Void
    ) {
        var remaining = budget
        while remaining > 0 {
            if remaining < budget { out.write(separator) }
            let count = nextGroupSize(remaining: remaining, sizes: dicom ? ManifestPlan.seriesFiles : ManifestPlan.groupFrames)
            let serial = nextSerial
            nextSerial += 1
            let group: Group
            if dicom {
                group = Group(kind: .dicomSeries, serial: serial, count: count,
                              title: "CT chest \(serial) series \(serial % 7 + 1)")
            } else {
                let createVideo = rng.chance(50)
                group = Group(kind: createVideo ? .imageSequence : .imageGroup, serial: serial, count: count,
                              title: "\(createVideo ? "Sequence" : "Group") \(serial) – dock camera \(serial % 12 + 1)",
                              createVideo: createVideo)
            }
            item(&self, group)
            countUnit(group.kind, urls: count)
            remaining -= count
        }
    }

    /// A random size within `sizes` that never strands a remainder too small for one more
    /// group; the last group takes what is left. Requires `remaining >= sizes.lowerBound`.
    mutating func nextGroupSize(remaining: Int, sizes: ClosedRange<Int>) -> Int {
        if remaining <= sizes.upperBound { return remaining }
        let largest = min(sizes.upperBound, remaining - sizes.lowerBound)
        return Int.random(in: sizes.lowerBound...largest, using: &rng)
    }

    mutating func countUnit(_ kind: ItemKind, urls: Int) {
        result.units += 1
        result.urls += urls
        result.unitsByType[kind.typeName, default: 0] += 1
    }

    /// Titles as people write them: mostly plain, some with non-ASCII, quotes and commas, so
    /// the validator's string unescaping (JSON) and field quoting (CSV) get exercised.
    mutating func singleTitle(_ url: URLSpec) -> String {
        switch rng.next() % 5 {
        case 0: return "Dock camera \(url.serial % 12 + 1) — frame \(url.serial)"
        case 1: return "Pallet \"A-\(url.serial % 97)\", aisle \(url.serial % 13)"
        case 2: return "Straße \(url.serial % 40) / Köln \(url.serial)"
        case 3: return "item-\(url.serial)"
        default: return "Shelf audit \(url.serial), bay \(url.serial % 31)"
        }
    }

    // MARK: URLs

    /// Everything that determines one URL. The rest (bucket, region, year, camera, …) is hashed
    /// from `serial`, so the same spec always gives the same URL.
    struct URLSpec {
        var kind: ItemKind
        var serial: Int
        var frame = 0
    }

    /// Bucket names of varied length; each bucket lives in one region, as in S3.
    static let buckets: [(name: StaticString, region: StaticString)] = [
        ("acme-vision-raw", "eu-west-2"),
        ("northwind-perception", "us-east-1"),
        ("contoso-med-imaging", "eu-central-1"),
        ("fabrikam-shelf-data", "eu-west-2"),
        ("globex-sensor-logs", "us-west-2"),
        ("initech-inbox", "ap-southeast-2"),
    ]
    static let projects: [StaticString] = [
        "warehouse-picking", "shelf-audit", "street-scenes", "dermatology-trial",
        "call-centre-qa", "contracts-review", "forklift-safety",
    ]

    /// Writes e.g. `https://acme-vision-raw.s3.eu-west-2.amazonaws.com/datasets/2024/shelf-audit/
    /// batch-0042/cam-07/img_0123456.jpg` (about 100–140 bytes).
    mutating func writeURL(_ url: URLSpec) {
        let h = SplitMix64.mix(UInt64(url.serial))
        let bucket = Self.buckets[Int(h % UInt64(Self.buckets.count))]
        out.write("https://")
        out.write(bucket.name)
        out.write(".s3.")
        out.write(bucket.region)
        out.write(".amazonaws.com/datasets/")
        out.writeDecimal(2021 + Int((h >> 8) % 4))
        out.write("/")
        out.write(Self.projects[Int((h >> 12) % UInt64(Self.projects.count))])
        out.write("/batch-")
        out.writeDecimal(url.serial / 2_000, width: 4)  // consecutive serials share a batch
        out.write("/")
        let camera = Int((h >> 20) % 24)
        switch url.kind {
        case .image:
            out.write("cam-")
            out.writeDecimal(camera, width: 2)
            out.write("/img_")
            out.writeDecimal(url.serial, width: 7)
            out.write((h >> 28) % 10 == 0 ? ".png" : ".jpg")
        case .video:
            out.write("clips/cam-")
            out.writeDecimal(camera, width: 2)
            out.write("/video_")
            out.writeDecimal(url.serial, width: 7)
            out.write(".mp4")
        case .audio:
            out.write("calls/agent-")
            out.writeDecimal(camera, width: 3)
            out.write("/call_")
            out.writeDecimal(url.serial, width: 7)
            out.write((h >> 28) % 4 == 0 ? ".mp3" : ".wav")
        case .pdf:
            out.write("documents/contract_")
            out.writeDecimal(url.serial, width: 7)
            out.write(".pdf")
        case .text:
            out.write("transcripts/transcript_")
            out.writeDecimal(url.serial, width: 7)
            out.write(".txt")
        case .nifti:
            out.write("mri/sub-")
            out.writeDecimal(url.serial, width: 7)
            out.write("/anat_T1w.nii.gz")
        case .imageGroup, .imageSequence:
            out.write("sequences/seq_")
            out.writeDecimal(url.serial, width: 7)
            out.write("/frame_")
            out.writeDecimal(url.frame, width: 5)
            out.write(".jpg")
        case .dicomSeries:
            out.write("dicom/study_")
            out.writeDecimal(url.serial, width: 7)
            out.write("/series_001/IM_")
            out.writeDecimal(url.frame, width: 5)
            out.write(".dcm")
        }
    }
}

// MARK: - Quoting

/// `text` as a JSON string literal. Our titles never contain control characters, but escape
/// them anyway so a future title template cannot produce an invalid manifest.
func jsonQuoted(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\r": quoted += "\\r"
        case "\t": quoted += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: quoted.unicodeScalars.append(scalar)
        }
    }
    return quoted + "\""
}

/// `text` as an RFC 4180 field: quoted (with quotes doubled) only when it must be.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    var quoted = "\""
    for character in text {
        quoted.append(character)
        if character == "\"" { quoted.append("\"") }
    }
    return quoted + "\""
}
