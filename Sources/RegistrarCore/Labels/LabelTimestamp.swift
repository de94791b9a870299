/// The two timestamp forms label rows carry (annotation-spec §2): the SDK's
/// `"Thu, 02 Jan 2025 10:00:00 UTC"` and the JSON export's `"2025-01-07 16:12:23"`; ISO 8601
/// (`2025-01-07T16:12:23Z`, with optional fraction and offset) is accepted too. Pure parsing to
/// seconds since 1970 (UTC), so a row can be checked and sorted without Foundation's formatters.
public enum LabelTimestamp {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since 1970-01-01 UTC, or nil when the text is in neither form or names no real time.
    public static func parse(_ text: String) -> Double? {
        let s = Array(text.utf8)
        if s.count >= 25, s[3] == UInt8(ascii: ","), s[4] == UInt8(ascii: " ") {
            // "Thu, 02 Jan 2025 10:00:00 UTC" (or GMT).
            let parts = text.split(separator: " ")
            guard parts.count == 6, ["UTC", "GMT"].contains(String(parts[5])),
                  let day = Int(parts[1]), let m = months.firstIndex(of: parts[2].lowercased()), let year = Int(parts[3]) else { return nil }
            return time(year: year, month: m + 1, day: day, clock: String(parts[4]), offset: 0)
        }
        // "2025-01-07 16:12:23" or ISO 8601 "2025-01-07T16:12:23(.fff)(Z|±hh:mm)".
        guard s.count >= 19, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), s[10] == UInt8(ascii: " ") || s[10] == UInt8(ascii: "T"),
              let year = Int(text.prefix(4)), let month = Int(String(decoding: s[5..<7], as: UTF8.self)),
              let day = Int(String(decoding: s[8..<10], as: UTF8.self)) else { return nil }
        var rest = Array(s[19...])
        var fraction = 0.0
        if rest.first == UInt8(ascii: ".") {
            let digits = rest.dropFirst().prefix { $0 >= 48 && $0 <= 57 }
            guard !digits.isEmpty, let f = Double("0." + String(decoding: digits, as: UTF8.self)) else { return nil }
            fraction = f
            rest = Array(rest.dropFirst(1 + digits.count))
        }
        var offset = 0
        switch rest.count {
        case 0: break
        case 1 where rest[0] == UInt8(ascii: "Z"): break
        case 6 where (rest[0] == UInt8(ascii: "+") || rest[0] == UInt8(ascii: "-")) && rest[3] == UInt8(ascii: ":"):
            guard let h = Int(String(decoding: rest[1..<3], as: UTF8.self)), let m = Int(String(decoding: rest[4..<6], as: UTF8.self)),
                  h < 24, m < 60 else { return nil }
            offset = (h * 3600 + m * 60) * (rest[0] == UInt8(ascii: "+") ? 1 : -1)
        default: return nil
        }
        return time(year: year, month: month, day: day, clock: String(decoding: s[11..<19], as: UTF8.self), offset: offset).map { $0 + fraction }
    }

    static func time(year: Int, month: Int, day: Int, clock: String, offset: Int) -> Double? {
        let hms = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 }), let h = Int(hms[0]), let mi = Int(hms[1]), let se = Int(hms[2]),
              (1...12).contains(month), h < 24, mi < 60, se < 61, (1970...9999).contains(year) else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days * 86400 + h * 3600 + mi * 60 + se - offset)
    }
}
