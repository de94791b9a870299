// The values callers hand to and get from an `AMQPConnection`.

/// A queue or exchange argument value (x-queue-type, x-delivery-limit, x-dead-letter-exchange, …).
public enum AMQPArgument: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral
{
    case string(String)
    case int(Int)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// One message delivered to a consumer. Ack or nack it through the connection that received it.
public struct AMQPDelivery: Sendable {
    public var body: [UInt8]
    public var deliveryTag: UInt64
    public var redelivered: Bool
    /// The `x-delivery-count` header quorum queues add on redelivery (absent on the first delivery).
    public var deliveryCount: Int?
    public var routingKey: String
    public var exchange: String
    /// For a dead-lettered message: the `reason` of its latest `x-death` entry
    /// (`delivery_limit`, `rejected`, `expired`, `maxlen`).
    public var deathReason: String?
    /// The consumer it was delivered to (`consume` returns the tag): tells which queue it came from.
    public var consumerTag: String

    public init(body: [UInt8], deliveryTag: UInt64, redelivered: Bool, deliveryCount: Int?,
                routingKey: String, exchange: String, deathReason: String? = nil, consumerTag: String = "") {
        self.consumerTag = consumerTag
        self.body = body
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.deliveryCount = deliveryCount
        self.routingKey = routingKey
        self.exchange = exchange
        self.deathReason = deathReason
    }
}
