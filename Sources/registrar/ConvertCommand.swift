import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarRuntime

/// `registrar convert --from labelstudio|cvat|labelbox INPUT [-o manifest.json] [--base-url URL] [--json]`:
/// turns another tool's manifest into ours (docs/importers.md), then checks the result with the
/// same validator `registrar validate` uses. Exit 0 when something was converted and the output
/// validates, 1 when nothing could be converted (or the output does not validate), 2 on usage errors.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Label Studio, CVAT or Labelbox manifest into a registration manifest.",
        discussion: """
        Reads the input one task/line/row at a time and writes the output as it goes. Prints a summary:
        items converted per type, items refused (with item/line, field and reason), fields that do not
        carry over. Exit status: 0 converted, 1 nothing could be converted, 2 usage error.
        """
    )

    @Option(help: "The tool that wrote INPUT: labelstudio, cvat or labelbox.") var from: ImportSource
    @Argument(help: "The other tool's manifest (Label Studio task JSON, CVAT manifest.jsonl, Labelbox data rows JSON/NDJSON).") var input: String
    @Option(name: .shortAndLong, help: "Where to write our JSON manifest (default: standard output, summary on standard error).") var output: String?
    @Option(help: "Prefix that turns relative names into URLs (required for CVAT: the cloud storage's s3://bucket/prefix/ or https://…/).") var baseUrl: String?
    @Flag(help: "Print the summary as one JSON object (the last line of output).") var json = false

    func run() throws {
        let summary = try convertManifest(from: from, input: input, output: output, baseURL: baseUrl, json: json)
        if summary.convertedCount == 0 { throw ExitCode(1) }
    }
}

extension ImportSource: ExpressibleByArgument {}

/// Converts `input` into our JSON manifest at `output` (stdout when nil), printing the summary
/// (to stderr when the manifest goes to stdout). Memory holds one record: each section's items
/// go to a temporary file as they come, and the sections are joined at the end.
@discardableResult
func convertManifest(from format: ImportSource, input: String, output: String?, baseURL: String?, json: Bool) throws -> ImportSummary {
    let source = try FileByteSource(path: input)
    let work = NSTemporaryDirectory() + "registrar-convert-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    var sections: [(name: String, file: SectionFile)] = []
    let summary: ImportSummary
    do {
        summary = try ManifestImporter.convert(from: format, source: source, options: ImportOptions(baseURL: baseURL)) { item in
            let name = item.section
            if let i = sections.firstIndex(where: { $0.name == name }) {
                try sections[i].file.append(item.jsonText)
            } else {
                let f = try SectionFile(path: work + "/" + name)
                try f.append(item.jsonText)
                sections.append((name, f))
            }
        }
    } catch let failure as ImportFailure {
        throw CommandFailure("\(input): not a \(format.rawValue) manifest: \(failure.description)")
    }
    for s in sections { try s.file.close() }

    // Join: {"images":[…],"videos":[…]} written in 1 MiB pieces.
    let target = output ?? (work + "/out.json")
    guard FileManager.default.createFile(atPath: target, contents: nil), let out = FileHandle(forWritingAtPath: target) else {
        throw CommandFailure("cannot write \(target)")
    }
    out.write(Data("{".utf8))
    for (i, s) in sections.enumerated() {
        out.write(Data(((i > 0 ? ",\n" : "") + JSONValue.quoted(s.name) + ":[\n").utf8))
        guard let inp = FileHandle(forReadingAtPath: s.file.path) else { throw CommandFailure("cannot read back \(s.file.path)") }
        while true {
            let chunk = inp.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            out.write(chunk)
        }
        inp.closeFile()
        out.write(Data("\n]".utf8))
    }
    out.write(Data("}\n".utf8))
    out.closeFile()

    // Check the output with our own validator, so what convert writes is what submit accepts.
    let limits = ManifestLimits()
    var reader = makeManifestReader(format: .json, source: try FileByteSource(path: target), limits: limits)
    let check = ManifestScanner(limits: limits, maxListedIssues: 5).scan(&reader, format: .json)

    if output == nil {
        let fh = FileHandle.standardOutput
        if let inp = FileHandle(forReadingAtPath: target) {
            while true { let c = inp.readData(ofLength: 1 << 20); if c.isEmpty { break }; fh.write(c) }
            inp.closeFile()
        }
    }
    let say: (String) -> Void = output == nil ? { printError($0) } : { print($0) }
    if summary.convertedCount == 0, let output { try? FileManager.default.removeItem(atPath: output) }   // no empty manifest left behind
    if json {
        let byType = JSONValue.object(summary.converted.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .number(String($0.value))) })
        let refusals = JSONValue.array(summary.refusals.map { r in
            .object([("item", .string(r.item)), ("field", r.field.map { .string($0) } ?? .null), ("message", .string(r.message))])
        })
        let notCarried = JSONValue.object(summary.notCarried.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })
        say(JSONValue.object([("from", .string(format.rawValue)), ("output", output.map { .string($0) } ?? .null),
                              ("converted", .number(String(summary.convertedCount))), ("byType", byType),
                              ("refused", .number(String(summary.refusedCount))), ("refusals", refusals),
                              ("skippedRecords", .number(String(summary.skippedRecords))), ("notCarried", notCarried),
                              ("valid", .bool(check.valid)), ("validationErrors", .number(String(check.errorCount)))]).compactText)
    } else {
        let types = summary.converted.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
        say("converted \(summary.convertedCount) item\(summary.convertedCount == 1 ? "" : "s") from \(format.rawValue)\(types.isEmpty ? "" : " (\(types))")\(summary.convertedCount > 0 ? output.map { " into \($0)" } ?? "" : "")")
        if summary.refusedCount > 0 {
            say("refused \(summary.refusedCount):")
            for r in summary.refusals { say("  \(r.description)") }
            if summary.refusedCount > summary.refusals.count { say("  … and \(summary.refusedCount - summary.refusals.count) more") }
        }
        for (field, n) in summary.notCarried.sorted(by: { $0.key < $1.key }) {
            say("not carried over: \(field) (\(n) item\(n == 1 ? "" : "s"))")
        }
        if summary.convertedCount > 0 {
            say(check.valid ? "the manifest validates: \(check.units) units" : "the written manifest does not validate (\(check.errorCount) errors):")
            for e in check.errors { say("  \(e.description)") }
        }
    }
    if summary.convertedCount > 0 && !check.valid { throw ExitCode(1) }
    return summary
}

/// One section's items, appended as comma-separated JSON objects, buffered.
final class SectionFile {
    let path: String
    private let handle: FileHandle
    private var pending = ""
    private var count = 0

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw CommandFailure("cannot write \(path)")
        }
        handle = h
    }

    func append(_ itemJSON: String) throws {
        if count > 0 { pending += ",\n" }
        pending += itemJSON
        count += 1
        if pending.utf8.count >= 1 << 16 { flush() }
    }

    private func flush() {
        handle.write(Data(pending.utf8))
        pending = ""
    }

    func close() throws {
        flush()
        handle.closeFile()
    }
}
