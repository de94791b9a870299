/// The name of an object Registrar writes to its storage (exports, uploaded files, encoded
/// videos): a relative path of segments separated by `/`.
///
/// Keys come from Registrar, sometimes built from user input (a file name), so they are checked
/// before any storage sees them: no empty, `.` or `..` segment (no way out of the storage root),
/// no leading `/`, only `A–Z a–z 0–9 . _ - /` and at most 512 bytes. A user's file name is
/// mapped into that alphabet by `ObjectKey.segment(from:)`.
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public static let maxLength = 512

    /// A checked key; nil when `text` breaks a rule (`problem(with:)` says which).
    public init?(_ text: String) {
        guard ObjectKey.problem(with: text) == nil else { return nil }
        self.text = text
    }

    public var description: String { text }

    /// Why `text` is not a key, or nil when it is one.
    public static func problem(with text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return "empty" }
        if bytes.count > maxLength { return "longer than \(maxLength) bytes" }
        for b in bytes where !(isLetterOrDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "/")) {
            return "contains \(b < 32 || b > 126 ? "a byte 0x" + String(b, radix: 16) : "'" + String(UnicodeScalar(b)) + "'"); keys use A-Z a-z 0-9 . _ - /"
        }
        for segment in text.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "has an empty segment (a leading, trailing or doubled /)" }
            if segment == "." || segment == ".." { return "has a '\(segment)' segment" }
        }
        return nil
    }

    /// A safe segment made from a user's file name: other characters become `_`, leading dots
    /// are dropped (no hidden files, no `..`), at most 200 bytes; "file" when nothing is left.
    public static func segment(from name: String) -> String {
        var out: [UInt8] = []
        for b in name.utf8 {
            out.append(isLetterOrDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") ? b : UInt8(ascii: "_"))
        }
        while out.first == UInt8(ascii: ".") { out.removeFirst() }
        if out.count > 200 { out = Array(out.suffix(200)) }
        return out.isEmpty ? "file" : String(decoding: out, as: UTF8.self)
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
    }
}
