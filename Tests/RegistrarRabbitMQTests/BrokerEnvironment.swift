// What every RabbitMQ test needs: the broker's URL (from `scripts/services env`) and names no
// other test run uses.

import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// REGISTRAR_AMQP_URL; the tests fail, not skip, without it.
func amqpURL() throws -> String {
    let value = getenv("REGISTRAR_AMQP_URL").map { String(cString: $0) }
    return try #require(value.flatMap { $0.isEmpty ? nil : $0 },
                        "REGISTRAR_AMQP_URL is not set: run `scripts/services up` and `eval \"$(scripts/services env)\"`")
}

/// A queue or exchange name unique to this process and call.
func uniqueName(_ name: String) -> String {
    "test.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
}
