import RegistrarCore

// Small text forms shared by the adapter's queries: bytea, arrays, JSON, timestamps, URLs as shown.

/// bytea in text form (`\x0a1b…`).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func byteaLiteral(_ bytes: ArraySlice<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2 + 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeBytea(_ text: String) throws -> [UInt8] {
        var u = Array(text.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x"), u.count % 2 == 0 else {
            throw PostgresError(sqlState: nil, message: "unexpected bytea text form")
        }
        u.removeFirst(2)
        var out = [UInt8](repeating: 0, count: u.count / 2)
        func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        for i in 0..<out.count { out[i] = v(u[2 * i]) << 4 | v(u[2 * i + 1]) }
        return out
    }
}

/// PostgreSQL array literals in text form.
enum PGArray {
    static func ints(_ values: [Int]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }

    static func text(_ values: [String]) -> String {
        var out = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in v.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}

/// Reads the JSON arrays PostgreSQL renders (`array_to_json`) with our own tokenizer.
enum JSONArrayText {
    static func strings(_ text: String, numbers: Bool = false) -> [String] {
        guard case .array(let items)? = JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.compactMap {
            switch $0 {
            case .string(let s): return s
            case .number(let n): return numbers ? n : nil
            default: return nil
            }
        }
    }
}

extension PGRows {
    /// `rows[i, j]`: the value at row i, column j (nil for NULL).
    subscript(_ row: Int, _ column: Int) -> String? { self[row: row, column: column] }
}

/// jsonb refuses the escape `\u0000` (PostgreSQL text holds no NUL); client metadata is kept
/// verbatim otherwise, so only that escape becomes `\ufffd`.
enum JSONBText {
    static func withoutNULEscapes(_ json: String) -> String {
        guard json.contains("\\u0000") else { return json }
        var out: [UInt8] = []
        let b = Array(json.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 1 < b.count {
                if b[i + 1] == UInt8(ascii: "u"), i + 5 < b.count, b[(i + 2)...(i + 5)].elementsEqual("0000".utf8) {
                    out += Array("\\ufffd".utf8)
                    i += 6
                    continue
                }
                out += [b[i], b[i + 1]]  // any other escape, including `\\`, stays as it is
                i += 2
                continue
            }
            out.append(b[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Timestamps as the API shows them: UTC, ISO 8601 with milliseconds.
enum SQLTime {
    static func iso(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }
}


/// URLs as operators see them: a presigned URL's query (its signature, a credential) and
/// fragment stay out of error rows, exports and answers.
enum ShownURL {
    /// The URL up to its query or fragment, with any user name or password masked.
    static func withoutQuery(_ url: String) -> String {
        let url = URLCredentials.masked(url)
        guard let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return url }
        return String(url[..<cut])
    }
}
