import ArgumentParser
import Foundation
import Logging
import RegistrarCore

/// Where the servers are. Each flag defaults to its environment variable, then to loopback.
struct ServerOptions: ParsableArguments {
    static func env(_ name: String, _ fallback: String) -> String {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
    }

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL (env REGISTRAR_POSTGRES_URL).")
    var postgresURL = env("REGISTRAR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/registrar")

    @Option(name: .customLong("amqp-url"), help: "RabbitMQ URL (env REGISTRAR_AMQP_URL).")
    var amqpURL = env("REGISTRAR_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

    @Option(name: .customLong("redis-url"), help: "Redis URL (env REGISTRAR_REDIS_URL).")
    var redisURL = env("REGISTRAR_REDIS_URL", "redis://127.0.0.1:6379")

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env REGISTRAR_LOG_LEVEL).")
    var logLevel = env("REGISTRAR_LOG_LEVEL", "info")

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}

/// A URL with its password and query string removed, for messages.
func redacted(_ url: String) -> String {
    var s = url
    if let q = s.firstIndex(of: "?") { s = String(s[..<q]) }
    if let scheme = s.range(of: "://"), let at = s[scheme.upperBound...].lastIndex(of: "@") {
        let userinfo = s[scheme.upperBound..<at]
        if let colon = userinfo.firstIndex(of: ":") {
            s.replaceSubrange(colon..<at, with: ":***")
        }
    }
    return s
}

/// Whole-file manifest limits for the commands that register (`submit`, `coordinator`, `check`).
/// Submitters and coordinators of one deployment must agree, so each flag defaults to an
/// environment variable both read; defaults are Encord's per-file limits.
struct ManifestLimitOptions: ParsableArguments {
    @Option(help: "Most URLs per manifest (env REGISTRAR_MAX_URLS).")
    var maxUrls = Int(ServerOptions.env("REGISTRAR_MAX_URLS", "")) ?? ManifestLimits.default.maxURLs
    @Option(help: "Most units per manifest (env REGISTRAR_MAX_UNITS).")
    var maxUnits = Int(ServerOptions.env("REGISTRAR_MAX_UNITS", "")) ?? ManifestLimits.default.maxUnits

    var limits: ManifestLimits {
        var l = ManifestLimits()
        l.maxURLs = maxUrls
        l.maxUnits = maxUnits
        return l
    }
}
