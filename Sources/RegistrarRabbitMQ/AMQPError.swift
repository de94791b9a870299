/// A broker, protocol or connection failure. Messages never contain the password.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The URL could not be parsed.
        case invalidURL
        /// TCP connect or the AMQP handshake failed.
        case connectionFailed
        /// The broker refused the credentials (or the vhost).
        case authenticationFailed
        /// The broker closed a channel (see `replyCode`: 404 not found, 406 precondition failed, …).
        case channelClosed
        /// The connection is gone (broker close, I/O error, heartbeat timeout, earlier channel-1 error).
        case connectionClosed
        /// `waitForConfirms` ran out of time.
        case timeout
        /// The broker nacked publishes: see `nackedSequenceNumbers`.
        case nacked
        /// Mandatory publishes were returned as unroutable: see `returnedRoutingKeys`.
        case returned
        /// The broker cancelled our consumer (queue deleted, or a quorum queue consumer cancelled).
        case consumerCancelled
        /// rabbitmq-c reported an unexpected library failure.
        case library
    }

    public let kind: Kind
    public let message: String
    /// AMQP reply code when the broker closed the channel or connection (e.g. 403, 404, 406, 320).
    public var replyCode: Int?
    /// For `.nacked` (and a `.timeout` that saw nacks): publish sequence numbers the broker nacked.
    public var nackedSequenceNumbers: [UInt64]
    /// For `.returned`: routing keys of mandatory publishes the broker could not route.
    public var returnedRoutingKeys: [String]

    public init(_ kind: Kind, _ message: String, replyCode: Int? = nil,
                nackedSequenceNumbers: [UInt64] = [], returnedRoutingKeys: [String] = []) {
        self.kind = kind
        self.message = message
        self.replyCode = replyCode
        self.nackedSequenceNumbers = nackedSequenceNumbers
        self.returnedRoutingKeys = returnedRoutingKeys
    }

    /// The broker answered 404 NOT_FOUND (e.g. `queueDepth` of a queue that does not exist).
    public var isNotFound: Bool { replyCode == 404 }

    public var description: String {
        var s = "AMQPError.\(kind): \(message)"
        if let replyCode { s += " (reply code \(replyCode))" }
        return s
    }
}
