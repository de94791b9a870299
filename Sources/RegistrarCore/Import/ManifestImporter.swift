/// Converts another tool's manifest into items of our JSON manifest, one record at a time.
///
/// Pure: reads a `ByteSource`, hands each converted item to `emit` (which writes it out at once),
/// and returns what it did. Nothing of the input is held beyond the current record.
public enum ManifestImporter {
    /// Converts `source` read as `format`. Throws `ImportFailure` when the input as a whole is not
    /// that format (then some items may already have been emitted; the caller discards its output).
    public static func convert(from format: ImportSource, source: some ByteSource, options: ImportOptions = ImportOptions(),
                               emit: (ImportedItem) throws -> Void) throws -> ImportSummary {
        var summary = ImportSummary()
        let reader = try ImportRecordReader(source: source, maxRecordBytes: options.maxRecordBytes)
        var cvat = CVATManifestMapper(baseURL: options.baseURL)
        if format == .cvat {
            guard let base = options.baseURL, ImportURL.problem(base) == nil else {
                throw ImportFailure("a CVAT manifest names files relative to its cloud storage: give --base-url with the storage's URL and prefix (e.g. s3://bucket/prefix/)"
                                    + (options.baseURL.flatMap { ImportURL.problem($0) }.map { "; the one given: \($0)" } ?? ""))
            }
            guard reader.layout == .lines else { throw ImportFailure("a CVAT manifest is JSON Lines (one object per line), not a JSON array") }
        }
        while let record = try reader.next() {
            let label = itemLabel(format, record, layout: reader.layout)
            let value: JSONValue
            switch record.value {
            case .success(let v): value = v
            case .failure(let reason):
                summary.refuse(ImportRefusal(item: label, field: nil, reason.message))
                continue
            }
            let outcome: MapOutcome
            switch format {
            case .labelstudio: outcome = LabelStudioMapper.map(value, summary: &summary)
            case .labelbox: outcome = LabelboxMapper.map(value, summary: &summary)
            case .cvat: outcome = try cvat.map(value, line: record.line, summary: &summary)
            }
            switch outcome {
            case .item(let item):
                try emit(item)
                summary.converted[item.type, default: 0] += 1
            case .refused(let field, let message):
                summary.refuse(ImportRefusal(item: label, field: field, message))
            case .skipped:
                summary.skippedRecords += 1
            }
        }
        if format == .cvat, let item = try cvat.finish(summary: &summary) {
            try emit(item)
            summary.converted[item.type, default: 0] += 1
        }
        return summary
    }

    /// `line 12` for JSON Lines; `task[3] (line 40)` / `row[3] (line 40)` in an array.
    static func itemLabel(_ format: ImportSource, _ record: ImportRecordReader.Record, layout: ImportRecordReader.Layout) -> String {
        if layout == .lines { return "line \(record.line)" }
        let noun = format == .labelstudio ? "task" : "row"
        return "\(noun)[\(record.index)] (line \(record.line))"
    }
}

/// What a mapper made of one record.
enum MapOutcome: Equatable {
    case item(ImportedItem)
    /// Refused: the field at fault (dotted path as in the input) and why.
    case refused(field: String?, String)
    /// Read and deliberately not an item (a header line).
    case skipped
}
