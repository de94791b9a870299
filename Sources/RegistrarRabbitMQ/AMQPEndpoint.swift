import RegistrarCore

/// Parsed `amqp://user:pass@host:port/vhost` (by Core's `ServerURL`), with RabbitMQ's defaults:
/// guest/guest on 127.0.0.1:5672, vhost `/`.
struct AMQPEndpoint {
    var host = "127.0.0.1"
    var port = 5672
    var user = "guest"
    var password = "guest"
    var vhost = "/"

    /// Never includes the password.
    var redacted: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "amqp://\(user)@\(h):\(port)/\(vhost == "/" ? "%2F" : vhost)"
    }

    init(url: String) throws {
        do {
            let parts = try ServerURL.parse(url, scheme: "amqp", loneUserinfo: .user)
            if let u = parts.user { user = u }
            if let p = parts.password { password = p }
            host = parts.host
            if let p = parts.port { port = p }
            vhost = try parts.virtualHost()
        } catch {
            // Never the text: it may hold the password.
            switch error {
            case .wrongScheme: throw AMQPError(.invalidURL, "URL must start with amqp:// (amqps is not supported)")
            case .unterminatedIPv6: throw AMQPError(.invalidURL, "unterminated [IPv6] host in AMQP URL")
            case .textAfterIPv6: throw AMQPError(.invalidURL, "unexpected text after [IPv6] host in AMQP URL")
            case .invalidPort: throw AMQPError(.invalidURL, "invalid port in AMQP URL")
            case .badPercentEncoding(let part):
                throw AMQPError(.invalidURL, "bad percent-encoding in the \(part.rawValue) of the AMQP URL")
            case .invalidDatabase: throw AMQPError(.invalidURL, "invalid AMQP URL")  // not raised for AMQP
            }
        }
    }
}
