import RegistrarCore

/// One unit error as the store renders it for the API (`UploadStore.errorsPage`: JSON with
/// URLs already redacted), read back for the formats that are not JSON: the status page's table
/// and the CSV report.
struct UnitErrorRow {
    var unit: String
    var code: String
    var message: String
    var action: String
    var urls: [String]

    init?(json: String) {
        guard let v = JSONValue.parse(Array(json.utf8)) else { return nil }
        func s(_ k: String) -> String {
            switch v[k] {
            case .string(let x)?: return x
            case .number(let x)?: return x
            default: return ""
            }
        }
        unit = s("unit")
        code = s("code")
        message = s("message")
        action = s("action")
        if case .array(let a)? = v["objectUrls"] { urls = a.compactMap(\.stringValue) } else { urls = [] }
    }

    /// The CSV report's row: unit, code, message, action, object_urls (space-separated).
    var csv: String { CSVWriter.row([unit, code, message, action, urls.joined(separator: " ")]) }
}
