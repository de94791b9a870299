/// Writes CSV cells for reports people open in spreadsheets (RFC 4180 quoting).
///
/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel
/// and LibreOffice ("CSV injection"); error reports echo URLs and messages users supplied, so such
/// cells get a leading apostrophe, the neutralisation OWASP recommends.
public enum CSVWriter {
    /// One cell, neutralised and quoted when needed.
    public static func cell(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            v = "'" + v
        }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            var quoted = "\""
            for ch in v { quoted += ch == "\"" ? "\"\"" : String(ch) }
            return quoted + "\""
        }
        return v
    }

    /// One record, CRLF-terminated as RFC 4180 says.
    public static func row(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }
}
