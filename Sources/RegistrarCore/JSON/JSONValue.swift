/// A small JSON tree, used only for the little values inside one manifest item (metadata blocks
/// and client metadata); the manifest as a whole is never held as a tree.
///
/// Objects keep their keys in document order and numbers keep their exact text, so a value
/// re-serialised with `compactText` says exactly what the user wrote, minus whitespace.
public indirect enum JSONValue: Sendable, Equatable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// The number's text as written (`1e3`, `23.98`), valid per RFC 8259.
    case number(String)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The value for `key` in an object (first occurrence), nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short name for the value's kind, for error messages ("expected a number, got a string").
    public var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// Compact JSON text: no insignificant whitespace, keys in original order, numbers verbatim.
    public var compactText: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .object(let members):
            out.append("{")
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(",") }
                JSONValue.writeString(m.key, to: &out)
                out.append(":")
                m.value.write(to: &out)
            }
            out.append("}")
        case .array(let items):
            out.append("[")
            for (i, v) in items.enumerated() {
                if i > 0 { out.append(",") }
                v.write(to: &out)
            }
            out.append("]")
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .number(let n): out.append(n)
        case .bool(let b): out.append(b ? "true" : "false")
        case .null: out.append("null")
        }
    }

    /// Writes `s` as a JSON string literal (RFC 8259 escaping; non-ASCII left as UTF-8).
    public static func writeString(_ s: String, to out: inout String) {
        out.append("\"")
        var needsEscape = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { needsEscape = true; break }
        if !needsEscape {
            out.append(s)
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out.append("\\\"")
                case "\\": out.append("\\\\")
                case "\n": out.append("\\n")
                case "\r": out.append("\\r")
                case "\t": out.append("\\t")
                case "\u{08}": out.append("\\b")
                case "\u{0C}": out.append("\\f")
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        out.append("\"")
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, to: &out)
        return out
    }
}
