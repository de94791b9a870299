/// The AMQP heartbeat a long-running process proposes to the broker (`--amqp-heartbeat`, env
/// `REGISTRAR_AMQP_HEARTBEAT_SECONDS`). The broker may lower it (rabbitmq-c takes the smaller of
/// the two); a process that vanishes keeps its unacknowledged messages for two to three intervals.
public enum HeartbeatSetting {
    /// RabbitMQ's own default.
    public static let defaultSeconds = 60
    /// At least a second (0 would switch heartbeats off, and with them the detection of vanished
    /// processes); at most an hour.
    public static let allowed = 1...3600

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Whole seconds in `allowed`; the error names `source` (the flag or variable), the value and
    /// the range.
    public static func parse(_ text: String, source: String) throws(ParseError) -> Int {
        guard let seconds = Int(text) else {
            throw ParseError(description: "\(source): \"\(text)\" is not a whole number of seconds")
        }
        guard allowed.contains(seconds) else {
            throw ParseError(description: "\(source): \(seconds) s is outside \(allowed.lowerBound)…\(allowed.upperBound) s")
        }
        return seconds
    }
}
