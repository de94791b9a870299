/// Splits the `host[:port]` part of a server URL (`[v6]` literals included), for `ServerURL`.
public enum HostPort {
    public enum Failure: Error, Equatable {
        case unterminatedIPv6
        case textAfterIPv6
    }

    /// The host (brackets removed; "127.0.0.1" when empty) and the port text (empty when absent).
    public static func split(_ hostPort: Substring) -> Result<(host: String, port: Substring), Failure> {
        var host: String
        var portText: Substring = ""
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return .failure(.unterminatedIPv6) }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return .failure(.textAfterIPv6) }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        if host.isEmpty { host = "127.0.0.1" }
        return .success((host, portText))
    }
}
