import Foundation
import RegistrarRedis
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `ProgressTracker`'s conformance suite on the twin and on Redis (the production Lua scripts,
/// not copies: `RedisProgressTracker` runs them).
@Suite struct TrackerConformanceTests {
    @Test func twin() throws {
        try ProgressTrackerConformance.exercise { MemoryProgressTracker() }
    }

    @Test func redis() throws {
        let url = try #require(ProcessInfo.processInfo.environment["REGISTRAR_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "REGISTRAR_REDIS_URL is not set: run `scripts/services up` and `eval \"$(scripts/services env)\"`")
        try ProgressTrackerConformance.exercise { try RedisProgressTracker(url: url) }
    }
}
