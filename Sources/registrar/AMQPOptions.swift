import ArgumentParser
import RegistrarCore

/// `--amqp-heartbeat` for the long-running roles (coordinator, worker, api).
struct AMQPOptions: ParsableArguments {
    static let environmentName = "REGISTRAR_AMQP_HEARTBEAT_SECONDS"

    @Option(help: ArgumentHelp("""
        AMQP heartbeat in seconds, \(HeartbeatSetting.allowed.lowerBound)–\(HeartbeatSetting.allowed.upperBound) \
        (env \(AMQPOptions.environmentName), default \(HeartbeatSetting.defaultSeconds); the broker may lower it). \
        A process that vanishes keeps its unacknowledged messages for two to three heartbeats.
        """, valueName: "seconds"))
    var amqpHeartbeat: String?

    func validate() throws {
        _ = try heartbeatSeconds()
    }

    /// The flag, else the environment variable, else the default.
    func heartbeatSeconds() throws -> Int {
        do {
            if let amqpHeartbeat { return try HeartbeatSetting.parse(amqpHeartbeat, source: "--amqp-heartbeat") }
            let env = ServerOptions.env(Self.environmentName, "")
            if !env.isEmpty { return try HeartbeatSetting.parse(env, source: Self.environmentName) }
            return HeartbeatSetting.defaultSeconds
        } catch {
            throw ValidationError(error.description)
        }
    }
}
