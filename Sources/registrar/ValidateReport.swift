import RegistrarCore

/// Renders a `ManifestSummary` for people (text) and for programs (one JSON object).
enum ValidateReport {
    /// `{"valid", "units", "urls", "byType", "duplicateUrls", "warnings", "errors", …}` on one line.
    /// The fields named in the issue are a contract; the others are additions.
    static func json(_ s: ManifestSummary) -> String {
        func counts(_ d: [DataType: Int]) -> JSONValue {
            .object(d.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .number(String($0.value))) })
        }
        func issue(_ i: ManifestIssue) -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [
                ("item", .string(i.item)),
                ("field", i.field.map(JSONValue.string) ?? .null),
                ("code", .string(i.code.rawValue)),
                ("message", .string(i.message)),
            ]
            if let line = i.line { members.append(("line", .number(String(line)))) }
            if let offset = i.offset { members.append(("offset", .number(String(offset)))) }
            return .object(members)
        }
        let value: JSONValue = .object([
            ("valid", .bool(s.valid)),
            ("format", .string(s.format.rawValue)),
            ("bytes", .number(String(s.bytes))),
            ("units", .number(String(s.units))),
            ("urls", .number(String(s.urls))),
            ("byType", counts(s.unitsByType)),
            ("urlsByType", counts(s.urlsByType)),
            ("rejectedUnits", .number(String(s.rejectedUnits))),
            ("duplicateUrls", .number(String(s.duplicateUnits))),
            ("skipDuplicateUrls", .bool(s.options.skipDuplicateURLs)),
            ("complete", .bool(s.fatal == nil)),
            ("warningCount", .number(String(s.warningCount))),
            ("errorCount", .number(String(s.errorCount))),
            ("warnings", .array(s.warnings.map(issue))),
            ("errors", .array(s.errors.map(issue))),
        ])
        return value.compactText
    }

    static func text(_ s: ManifestSummary, path: String) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        func lpad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
        }
        line("\(path): \(s.format.rawValue.uppercased()), \(formatBytes(s.bytes))\(s.fatal == nil ? "" : " read before the error")")
        line("  \(s.units) unit\(s.units == 1 ? "" : "s"), \(s.urls) URL\(s.urls == 1 ? "" : "s")\(s.rejectedUnits > 0 ? " (\(s.rejectedUnits) refused)" : "")")
        for type in DataType.allCases {
            guard let units = s.unitsByType[type] else { continue }
            let urls = s.urlsByType[type] ?? 0
            line("    \(pad(type.rawValue, 15))\(lpad(String(units), 9)) unit\(units == 1 ? " " : "s") \(lpad(String(urls), 9)) URL\(urls == 1 ? "" : "s")")
        }
        line("  duplicates within the file: \(s.duplicateUnits)")
        if s.format == .json && s.fatal == nil { line("  skip_duplicate_urls: \(s.options.skipDuplicateURLs)") }
        func list(_ title: String, _ issues: [ManifestIssue], total: Int) {
            guard total > 0 else { return }
            line()
            line("\(title) (\(total)):")
            for i in issues { line("  \(i.description)") }
            if total > issues.count { line("  … and \(total - issues.count) more") }
        }
        list("warnings", s.warnings, total: s.warningCount)
        list("errors", s.errors, total: s.errorCount)
        line()
        if s.valid {
            line("OK: the manifest can be registered.")
        } else if let fatal = s.fatal {
            line("NOT VALID: \(fatal.code.rawValue) — the manifest cannot be registered.")
        } else if let whole = s.fileErrors.first {
            // e.g. a password in a URL: the whole file is refused, ignore-errors or not.
            line("NOT VALID: \(whole.code.rawValue) (\(whole.item)) — the manifest cannot be registered, even with --ignore-errors.")
        } else {
            line("NOT VALID: \(s.errorCount) error\(s.errorCount == 1 ? "" : "s") in \(s.rejectedUnits) item\(s.rejectedUnits == 1 ? "" : "s") — fix them, or register the rest with --ignore-errors.")
        }
        return out
    }

    static func formatBytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) bytes" }
        let units = ["KiB", "MiB", "GiB"]
        var v = Double(n) / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        let rounded = (v * 10).rounded() / 10
        return "\(rounded) \(units[i])"
    }
}
