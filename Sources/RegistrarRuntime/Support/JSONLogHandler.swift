import Foundation
import Logging
import RegistrarCore

/// One JSON object per line on standard error — what log collectors in containers parse
/// (`REGISTRAR_LOG_FORMAT=json`). Fields: `ts`, `level`, `logger`, `msg`, then the metadata
/// (job and chunk ids among them). Callers never put secrets in messages or metadata; URLs are
/// logged without their query strings.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var line = "{\"ts\":" + Self.quote(Self.timestamp()) + ",\"level\":" + Self.quote(level.rawValue)
            + ",\"logger\":" + Self.quote(label) + ",\"msg\":" + Self.quote(message.description)
        for (k, v) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            line += "," + Self.quote(k) + ":" + Self.quote(v.description)
        }
        line += "}\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(tv.tv_usec / 1000))
    }

    /// A JSON string literal (the core's writer: escapes exactly as RFC 8259 requires).
    static func quote(_ s: String) -> String { JSONValue.string(s).compactText }
}

/// Chooses the log format once per process, from `REGISTRAR_LOG_FORMAT` (text or json).
public enum LogSetup {
    public static func bootstrap() {
        let format = ProcessInfo.processInfo.environment["REGISTRAR_LOG_FORMAT"]?.lowercased()
        if format == "json" {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        } else {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        }
    }
}
