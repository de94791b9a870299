import RegistrarCore
// A synchronous AMQP 0-9-1 client over rabbitmq-c 0.11 (blocking calls with timeouts).
//
// Threading: an `AMQPConnection` is NOT thread-safe for its callers: own each connection from one
// thread for its whole life (one connection per publisher or consumer thread). It is deliberately
// not `Sendable`. Inside, every rabbitmq-c call holds a lock shared with the connection's own
// heartbeat thread (AMQPHeartbeat.swift), the only other user of the C connection.
//
// Heartbeats: rabbitmq-c services heartbeats only inside its own calls, so each connection runs a
// small thread that writes a heartbeat frame whenever the owner has written nothing for half the
// negotiated interval. The owner may therefore stay away from the connection (a worker verifying a
// long chunk, an idle API publisher) for as long as it likes, while a process that vanishes (frozen,
// node lost) stops heartbeating and the broker closes its connection after two to three intervals,
// returning its unacknowledged deliveries to their queues. The interval is the smaller of the
// client's proposal and the broker's (RabbitMQ's default is 60 s); 0 disables heartbeats.
//
// Channels: channel 1 carries publishing, confirms, consuming and acks; channel 2 carries topology
// and inspection (declare, bind, purge, delete, passive declare). A broker error on channel 2 (say a
// passive declare of a missing queue, 404) is thrown and channel 2 is reopened on the next call: the
// connection stays usable. A broker error on channel 1 (ack of an unknown tag, publish to a missing
// exchange, consumer timeout) or any connection/IO error leaves the connection unusable: every later
// call throws `.connectionClosed`; make a new `AMQPConnection`. There is no automatic reconnect.
//
// Memory: message bodies are copied into Swift arrays before rabbitmq-c's envelope is destroyed,
// decoding pools are released with `amqp_maybe_release_buffers` between frames, and every C string
// passed to rabbitmq-c is copied into malloc'd memory that outlives the call (never the
// `withCString` + `amqp_cstring_bytes` pattern, whose pointer dangles).

import CRabbitMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Public types

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

// MARK: - URL

/// Parsed `amqp://user:pass@host:port/vhost`.
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
        let prefix = "amqp://"
        guard url.hasPrefix(prefix) else {
            throw AMQPError(.invalidURL, "URL must start with amqp:// (amqps is not supported)")
        }
        var rest = Substring(url.dropFirst(prefix.count))
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        var path: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostPort = rest
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = try amqpPercentDecode(userinfo[..<colon], what: "user name")
                password = try amqpPercentDecode(userinfo[userinfo.index(after: colon)...], what: "password")
            } else {
                user = try amqpPercentDecode(userinfo, what: "user name")
            }
        }
        let portText: Substring
        switch HostPort.split(hostPort[...]) {
        case .success(let parts): (host, portText) = parts
        case .failure(.unterminatedIPv6): throw AMQPError(.invalidURL, "unterminated [IPv6] host in AMQP URL")
        case .failure(.textAfterIPv6): throw AMQPError(.invalidURL, "unexpected text after [IPv6] host in AMQP URL")
        }
        if !portText.isEmpty {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw AMQPError(.invalidURL, "invalid port in AMQP URL")
            }
            port = p
        }
        if let path {
            let v = try amqpPercentDecode(path, what: "vhost")
            // The spec makes "amqp://h/" the empty vhost; everybody means the default one.
            vhost = v.isEmpty ? "/" : v
        }
    }
}

private func amqpPercentDecode(_ s: Substring, what: String) throws -> String {
    guard let decoded = PercentDecoding.decode(s) else {
        throw AMQPError(.invalidURL, "bad percent-encoding in the \(what) of the AMQP URL")
    }
    return decoded
}

// MARK: - C memory helpers

/// Owns malloc'd copies of strings and tables handed to rabbitmq-c for the duration of one call.
private final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    private func alloc(_ n: Int) -> UnsafeMutableRawPointer {
        guard let p = malloc(max(n, 1)) else { fatalError("out of memory") }
        blocks.append(p)
        return p
    }

    func bytes(_ s: String) -> amqp_bytes_t {
        let utf8 = Array(s.utf8)
        if utf8.isEmpty { return amqp_bytes_t(len: 0, bytes: nil) }
        let p = alloc(utf8.count)
        utf8.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return amqp_bytes_t(len: utf8.count, bytes: p)
    }

    /// NUL-terminated copy (for the few `const char *` parameters).
    func cString(_ s: String) -> UnsafePointer<CChar> {
        let utf8 = Array(s.utf8)
        let p = alloc(utf8.count + 1)
        utf8.withUnsafeBytes { if $0.count > 0 { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        p.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    func table(_ args: [String: AMQPArgument]) -> amqp_table_t {
        if args.isEmpty { return amqp_table_t(num_entries: 0, entries: nil) }
        let raw = alloc(MemoryLayout<amqp_table_entry_t>.stride * args.count)
        let entries = raw.bindMemory(to: amqp_table_entry_t.self, capacity: args.count)
        // Sorted for a deterministic wire order.
        for (i, (key, value)) in args.sorted(by: { $0.key < $1.key }).enumerated() {
            var v = amqp_field_value_t()
            switch value {
            case .string(let s):
                v.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                v.value.bytes = bytes(s)
            case .int(let n):
                v.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                v.value.i64 = Int64(n)
            case .bool(let b):
                v.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                v.value.boolean = b ? 1 : 0
            }
            (entries + i).initialize(to: amqp_table_entry_t(key: bytes(key), value: v))
        }
        return amqp_table_t(num_entries: Int32(args.count), entries: entries)
    }
}

/// Runs `body` with an arena that stays alive until `body` returns (C calls happen inside it).
private func withArena<R>(_ body: (CArena) throws -> R) rethrows -> R {
    let arena = CArena()
    return try withExtendedLifetime(arena) { try body(arena) }
}

private func string(_ b: amqp_bytes_t) -> String {
    guard b.len > 0, let p = b.bytes else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
}

private func libraryMessage(_ code: Int32) -> String {
    if let p = amqp_error_string2(code) { return String(cString: p) }
    return "rabbitmq-c error \(code)"
}

private func timevalFrom(seconds: Double) -> timeval {
    let s = seconds.isNaN ? 0 : min(max(seconds, 0), 1e9)
    let whole = s.rounded(.towardZero)
    return timeval(tv_sec: Int(whole), tv_usec: Int((s - whole) * 1_000_000))
}

/// Seconds as a Duration, clamped to [0, ~30 years] so absurd inputs cannot trap.
private func microseconds(_ seconds: Double) -> Duration {
    let s = seconds.isNaN ? 0 : min(max(seconds, 0), 1e9)
    return .microseconds(Int64(s * 1_000_000))
}

private func timevalFrom(duration d: Duration) -> timeval {
    if d <= .zero { return timeval(tv_sec: 0, tv_usec: 0) }
    let (sec, atto) = d.components
    return timeval(tv_sec: Int(sec), tv_usec: Int(atto / 1_000_000_000_000))
}

// Method ids (amqp_framing.h defines them as casts, which do not import reliably).
private let methodBasicDeliver: UInt32 = 0x003C_003C
private let methodBasicAck: UInt32 = 0x003C_0050
private let methodBasicNack: UInt32 = 0x003C_0078
private let methodBasicReturn: UInt32 = 0x003C_0032
private let methodBasicCancel: UInt32 = 0x003C_001E
private let methodChannelClose: UInt32 = 0x0014_0028
private let methodChannelCloseOk: UInt32 = 0x0014_0029
private let methodConnectionClose: UInt32 = 0x000A_0032
private let methodConnectionCloseOk: UInt32 = 0x000A_0033

// MARK: - Confirm bookkeeping

/// Tracks publish sequence numbers awaiting basic.ack/basic.nack. Sequence numbers are handed out
/// in order from 1; everything below `floor` is settled, plus the individually settled ones in
/// `settledAbove`, so memory stays proportional to out-of-order confirms, not to the window.
struct ConfirmTracker {
    private(set) var nextSequence: UInt64 = 1
    private var floor: UInt64 = 1
    private var settledAbove = Set<UInt64>()
    var nacked: [UInt64] = []

    var outstanding: Int { Int(nextSequence - floor) - settledAbove.count }

    mutating func published() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    mutating func settle(tag: UInt64, multiple: Bool, ack: Bool) {
        guard tag < nextSequence else { return }  // not ours; ignore
        if multiple {
            if tag >= floor {
                var t = floor
                while t <= tag {
                    if !settledAbove.contains(t) {
                        if !ack { nacked.append(t) }
                    } else {
                        settledAbove.remove(t)
                    }
                    t += 1
                }
                floor = tag + 1
            }
        } else if tag >= floor, !settledAbove.contains(tag) {
            if !ack { nacked.append(tag) }
            if tag == floor { floor += 1 } else { settledAbove.insert(tag) }
        }
        while settledAbove.remove(floor) != nil { floor += 1 }
    }
}

// MARK: - Connection

/// A blocking AMQP 0-9-1 connection (RabbitMQ) with one data channel. Not thread-safe: confine each
/// instance to one thread. See the file header for channels, heartbeats and error recovery.
public final class AMQPConnection {
    // Every stored property has a default so a throwing `init` leaves `self` fully initialised:
    // `deinit` then runs and is the single owner of C cleanup (no double free).
    private var conn: amqp_connection_state_t? = nil
    private var failure: AMQPError? = nil
    private var endpoint = "amqp://?"
    private var adminChannelOpen = false
    private var confirmsEnabled = false
    private var confirms = ConfirmTracker()
    private var returnedKeys: [String] = []
    private var buffered: [AMQPDelivery] = []
    private var bufferedIndex = 0
    private var cancelledConsumers: [String] = []
    private let heartbeat = AMQPHeartbeat()
    /// The heartbeat interval both sides agreed on at login (0: none).
    public private(set) var heartbeatSeconds = 0

    private let dataChannel: amqp_channel_t = 1
    private let adminChannel: amqp_channel_t = 2

    /// `amqp://user:pass@host:port/vhost` (`%2F` for "/", which is also the default). Connects, logs
    /// in with PLAIN and opens the data channel. `connectTimeoutSeconds` bounds the TCP connect and
    /// the login handshake; broker RPCs (declare, consume, …) time out after 30 s. `heartbeatSeconds`
    /// is proposed to the broker, which may lower it (see `heartbeatSeconds` after login).
    public init(url: String, heartbeatSeconds requestedHeartbeat: Int = 30, connectTimeoutSeconds: Double = 5) throws {
        let ep = try AMQPEndpoint(url: url)
        endpoint = ep.redacted
        guard let c = amqp_new_connection() else {
            throw AMQPError(.library, "cannot allocate a rabbitmq-c connection")
        }
        conn = c  // owned from here on; deinit destroys it
        failure = AMQPError(.connectionClosed, "not connected yet")  // skip close RPCs if init fails
        guard let socket = amqp_tcp_socket_new(c) else {
            throw AMQPError(.library, "cannot allocate a rabbitmq-c TCP socket")
        }
        var connectTimeout = timevalFrom(seconds: connectTimeoutSeconds)
        let rc = withArena { a in
            amqp_socket_open_noblock(socket, a.cString(ep.host), Int32(ep.port), &connectTimeout)
        }
        if rc != AMQP_STATUS_OK.rawValue {
            throw AMQPError(.connectionFailed, "cannot connect to \(endpoint): \(libraryMessage(rc))")
        }
        _ = amqp_set_handshake_timeout(c, &connectTimeout)
        var rpcTimeout = timevalFrom(seconds: 30)
        _ = amqp_set_rpc_timeout(c, &rpcTimeout)

        let login = withArena { a in
            registrar_amqp_login_plain(c, a.cString(ep.vhost), 0, 131_072, Int32(clamping: requestedHeartbeat),
                                       a.cString(ep.user), a.cString(ep.password))
        }
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            throw loginError(login)
        }
        failure = nil
        _ = amqp_channel_open(c, dataChannel)
        try checkRPC(channel: dataChannel, what: "channel.open")
        heartbeatSeconds = Int(amqp_get_heartbeat(c))
        guard heartbeat.start(c, heartbeatSeconds: heartbeatSeconds) else {
            throw fail(.library, "cannot start the heartbeat thread for \(endpoint)")
        }
    }

    deinit { close() }

    /// The broker address without the password, e.g. `amqp://guest@127.0.0.1:5672/%2F`.
    public var endpointDescription: String { endpoint }

    /// False after `close()` or once the connection failed.
    public var isOpen: Bool {
        lockConnection(); defer { unlockConnection(wrote: false) }
        return conn != nil && failure == nil && heartbeat.failure == nil
    }

    /// Heartbeat frames the connection's own thread sent while the owner was away (diagnostics).
    public var heartbeatFramesSent: Int {
        lockConnection(); defer { unlockConnection(wrote: false) }
        return heartbeat.framesSent
    }

    /// Closes the connection (unacked deliveries go back to their queues). Idempotent.
    public func close() {
        lockConnection(); defer { unlockConnection(wrote: false) }
        heartbeat.stop()
        guard let c = conn else { return }
        if failure == nil && heartbeat.failure == nil {
            var quick = timevalFrom(seconds: 2)
            _ = amqp_set_rpc_timeout(c, &quick)
            _ = amqp_connection_close(c, AMQP_REPLY_SUCCESS)
        }
        _ = amqp_destroy_connection(c)
        conn = nil
        if failure == nil { failure = AMQPError(.connectionClosed, "connection to \(endpoint) was closed") }
    }

    // MARK: Topology (channel 2)

    public func declareExchange(_ name: String, type: String = "direct", durable: Bool = true) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try adminReady()
        withArena { a in
            _ = amqp_exchange_declare(c, adminChannel, a.bytes(name), a.bytes(type), 0, durable ? 1 : 0, 0, 0,
                                      amqp_table_t(num_entries: 0, entries: nil))
        }
        try checkRPC(channel: adminChannel, what: "exchange.declare \(name)")
    }

    /// Declares a queue (not exclusive, not auto-delete). For a quorum queue with a delivery limit and
    /// dead-lettering pass e.g. `["x-queue-type": "quorum", "x-delivery-limit": 5,
    /// "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead"]`.
    /// Redeclaring with different arguments throws `.channelClosed` (406) and leaves the queue as is.
    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true,
                             arguments: [String: AMQPArgument] = [:]) throws -> (messageCount: Int, consumerCount: Int) {
        lockConnection(); defer { unlockConnection(wrote: true) }
        return try queueDeclare(name, passive: false, durable: durable, arguments: arguments)
    }

    public func bindQueue(_ queue: String, exchange: String, routingKey: String) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try adminReady()
        withArena { a in
            _ = amqp_queue_bind(c, adminChannel, a.bytes(queue), a.bytes(exchange), a.bytes(routingKey),
                                amqp_table_t(num_entries: 0, entries: nil))
        }
        try checkRPC(channel: adminChannel, what: "queue.bind \(queue)")
    }

    /// Removes all ready messages; returns how many. Unacked deliveries are not affected.
    @discardableResult
    public func purgeQueue(_ name: String) throws -> Int {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try adminReady()
        let ok = withArena { a in amqp_queue_purge(c, adminChannel, a.bytes(name)) }
        try checkRPC(channel: adminChannel, what: "queue.purge \(name)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    public func deleteQueue(_ name: String) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try adminReady()
        withArena { a in _ = amqp_queue_delete(c, adminChannel, a.bytes(name), 0, 0) }
        try checkRPC(channel: adminChannel, what: "queue.delete \(name)")
    }

    /// Ready messages in the queue (passive declare). Throws `.channelClosed` with `isNotFound` if the
    /// queue does not exist; the connection stays usable.
    public func queueDepth(_ name: String) throws -> Int {
        lockConnection(); defer { unlockConnection(wrote: true) }
        return try queueDeclare(name, passive: true, durable: false, arguments: [:]).messageCount
    }

    private func queueDeclare(_ name: String, passive: Bool, durable: Bool,
                              arguments: [String: AMQPArgument]) throws -> (messageCount: Int, consumerCount: Int) {
        let c = try adminReady()
        let ok = withArena { a in
            amqp_queue_declare(c, adminChannel, a.bytes(name), passive ? 1 : 0, durable ? 1 : 0, 0, 0,
                               a.table(arguments))
        }
        try checkRPC(channel: adminChannel, what: "queue.declare \(name)")
        guard let ok else { throw AMQPError(.library, "queue.declare \(name): no reply") }
        return (Int(ok.pointee.message_count), Int(ok.pointee.consumer_count))
    }

    // MARK: Publishing (channel 1)

    /// Puts the data channel into confirm mode (confirm.select). Idempotent.
    public func enableConfirms() throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        if confirmsEnabled { return }
        _ = amqp_confirm_select(c, dataChannel)
        try checkRPC(channel: dataChannel, what: "confirm.select")
        confirmsEnabled = true
    }

    /// Publishes one message. With confirms on, returns its publish sequence number (1, 2, …) as
    /// the broker will use it in basic.ack/basic.nack; otherwise 0. Returns once the frames are
    /// written; call `waitForConfirms` to learn the outcome.
    @discardableResult
    public func publish(exchange: String, routingKey: String, body: [UInt8], persistent: Bool = true,
                        mandatory: Bool = false) throws -> UInt64 {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        var props = amqp_basic_properties_t()
        props._flags = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        props.delivery_mode = persistent ? 2 : 1
        let rc = withArena { a in
            body.withUnsafeBytes { raw in
                amqp_basic_publish(c, dataChannel, a.bytes(exchange), a.bytes(routingKey), mandatory ? 1 : 0, 0,
                                   &props, amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
        }
        if rc != AMQP_STATUS_OK.rawValue {
            throw fail(.connectionClosed, "publish to \(endpoint) failed: \(libraryMessage(rc))")
        }
        return confirmsEnabled ? confirms.published() : 0
    }

    /// Publishes not yet acked or nacked by the broker.
    public var outstandingConfirms: Int { confirms.outstanding }

    /// Reads basic.ack/basic.nack frames until at most `n` publishes are outstanding. Windowed use:
    /// publish, and when `outstandingConfirms` reaches the window (say 1000) wait until it is
    /// `window - 1` or lower; at the end wait for 0. Throws `.nacked` with the nacked sequence numbers
    /// (all nacks seen since the last throw), `.returned` if mandatory publishes came back unroutable,
    /// `.timeout` if the broker did not confirm in time. Deliveries for a consumer on this connection
    /// that arrive meanwhile are kept for `nextDelivery`.
    public func waitForConfirms(untilOutstandingAtMost n: Int, timeoutSeconds: Double) throws {
        lockConnection(); defer { unlockConnection(wrote: false) }
        _ = try ready()
        let target = max(n, 0)
        let clock = ContinuousClock()
        let deadline = clock.now + microseconds(timeoutSeconds)
        while confirms.outstanding > target {
            let remaining = deadline - clock.now
            if remaining <= .zero {
                let nacked = confirms.nacked
                confirms.nacked = []
                throw AMQPError(.timeout, "\(confirms.outstanding) publishes still unconfirmed after \(timeoutSeconds) s",
                                nackedSequenceNumbers: nacked)
            }
            if case .delivery(let d) = try pump(timeout: remaining) { buffered.append(d) }
        }
        if !confirms.nacked.isEmpty {
            let nacked = confirms.nacked
            confirms.nacked = []
            let keys = returnedKeys
            returnedKeys = []
            throw AMQPError(.nacked, "broker nacked \(nacked.count) publish(es)", nackedSequenceNumbers: nacked,
                            returnedRoutingKeys: keys)
        }
        if !returnedKeys.isEmpty {
            let keys = returnedKeys
            returnedKeys = []
            throw AMQPError(.returned, "\(keys.count) mandatory publish(es) were unroutable", returnedRoutingKeys: keys)
        }
    }

    // MARK: Consuming (channel 1)

    /// basic.qos on the data channel: at most `count` unacked deliveries per consumer.
    public func setPrefetch(_ count: UInt16) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        _ = amqp_basic_qos(c, dataChannel, 0, count, 0)
        try checkRPC(channel: dataChannel, what: "basic.qos")
    }

    /// Starts a consumer with manual acks; returns its tag (the broker picks one if nil).
    @discardableResult
    public func consume(queue: String, consumerTag: String? = nil) throws -> String {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        let ok = withArena { a in
            amqp_basic_consume(c, dataChannel, a.bytes(queue), a.bytes(consumerTag ?? ""), 0, 0, 0,
                               amqp_table_t(num_entries: 0, entries: nil))
        }
        try checkRPC(channel: dataChannel, what: "basic.consume \(queue)")
        guard let ok else { throw AMQPError(.library, "basic.consume \(queue): no reply") }
        return string(ok.pointee.consumer_tag)
    }

    /// The next delivery for any consumer on this connection, or nil if none arrives within
    /// `timeoutSeconds` (0 polls). Also processes confirms and heartbeats: call it regularly.
    /// Throws if the broker closes the channel or connection or cancels a consumer.
    public func nextDelivery(timeoutSeconds: Double) throws -> AMQPDelivery? {
        lockConnection(); defer { unlockConnection(wrote: false) }
        _ = try ready()
        if let d = takeBuffered() { return d }
        let clock = ContinuousClock()
        let deadline = clock.now + microseconds(timeoutSeconds)
        while true {
            let remaining = deadline - clock.now
            switch try pump(timeout: remaining) {
            case .delivery(let d): return d
            case .timeout: return nil
            case .other:
                if !cancelledConsumers.isEmpty {
                    let tags = cancelledConsumers
                    cancelledConsumers = []
                    throw AMQPError(.consumerCancelled, "broker cancelled consumer(s) \(tags.joined(separator: ", "))")
                }
                if remaining <= .zero { return nil }
            }
        }
    }

    public func ack(_ tag: UInt64, multiple: Bool = false) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        let rc = amqp_basic_ack(c, dataChannel, tag, multiple ? 1 : 0)
        if rc != AMQP_STATUS_OK.rawValue { throw fail(.connectionClosed, "basic.ack failed: \(libraryMessage(rc))") }
    }

    public func nack(_ tag: UInt64, requeue: Bool) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        let rc = amqp_basic_nack(c, dataChannel, tag, 0, requeue ? 1 : 0)
        if rc != AMQP_STATUS_OK.rawValue { throw fail(.connectionClosed, "basic.nack failed: \(libraryMessage(rc))") }
    }

    /// Stops a consumer. Deliveries already sent stay unacked and still come out of `nextDelivery`.
    public func cancel(consumerTag: String) throws {
        lockConnection(); defer { unlockConnection(wrote: true) }
        let c = try ready()
        withArena { a in _ = amqp_basic_cancel(c, dataChannel, a.bytes(consumerTag)) }
        try checkRPC(channel: dataChannel, what: "basic.cancel")
    }

    // MARK: Internals

    private enum Pumped {
        case delivery(AMQPDelivery)
        case timeout
        case other
    }

    private func takeBuffered() -> AMQPDelivery? {
        guard bufferedIndex < buffered.count else { return nil }
        let d = buffered[bufferedIndex]
        bufferedIndex += 1
        if bufferedIndex == buffered.count {
            buffered.removeAll(keepingCapacity: true)
            bufferedIndex = 0
        }
        return d
    }

    /// Reads one delivery or one other frame (handled here), waiting at most `timeout`.
    private func pump(timeout: Duration) throws -> Pumped {
        let c = try ready()
        amqp_maybe_release_buffers(c)
        var tv = timevalFrom(duration: timeout)
        var envelope = amqp_envelope_t()
        let reply = amqp_consume_message(c, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            let delivery = copyDelivery(envelope)
            amqp_destroy_envelope(&envelope)
            return .delivery(delivery)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return .timeout }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // Not a basic.deliver: rabbitmq-c put the frame back; take it and deal with it.
                var frame = amqp_frame_t()
                let rc = amqp_simple_wait_frame(c, &frame)
                if rc != AMQP_STATUS_OK.rawValue {
                    throw fail(.connectionClosed, "reading from \(endpoint) failed: \(libraryMessage(rc))")
                }
                try handle(frame)
                return .other
            }
            throw fail(.connectionClosed, "reading from \(endpoint) failed: \(libraryMessage(reply.library_error))")
        default:
            throw fail(.connectionClosed, "unexpected reply while reading from \(endpoint)")
        }
    }

    private func copyDelivery(_ e: amqp_envelope_t) -> AMQPDelivery {
        var body: [UInt8] = []
        if e.message.body.len > 0, let p = e.message.body.bytes {
            body = Array(UnsafeRawBufferPointer(start: p, count: e.message.body.len))
        }
        var count: Int? = nil
        var deathReason: String? = nil
        let props = e.message.properties
        if props._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, props.headers.num_entries > 0,
           let entries = props.headers.entries {
            for i in 0..<Int(props.headers.num_entries) {
                switch string(entries[i].key) {
                case "x-delivery-count": count = integer(entries[i].value)
                case "x-death": deathReason = latestDeathReason(entries[i].value)
                default: break
                }
            }
        }
        return AMQPDelivery(body: body, deliveryTag: e.delivery_tag, redelivered: e.redelivered != 0,
                            deliveryCount: count, routingKey: string(e.routing_key), exchange: string(e.exchange),
                            deathReason: deathReason, consumerTag: string(e.consumer_tag))
    }

    /// `x-death` is an array of tables, most recent first; each has a `reason` string.
    private func latestDeathReason(_ v: amqp_field_value_t) -> String? {
        guard UInt32(v.kind) == AMQP_FIELD_KIND_ARRAY.rawValue, v.value.array.num_entries > 0,
              let first = v.value.array.entries, UInt32(first.pointee.kind) == AMQP_FIELD_KIND_TABLE.rawValue,
              let fields = first.pointee.value.table.entries else { return nil }
        for i in 0..<Int(first.pointee.value.table.num_entries) where string(fields[i].key) == "reason" {
            let value = fields[i].value
            if UInt32(value.kind) == AMQP_FIELD_KIND_UTF8.rawValue || UInt32(value.kind) == AMQP_FIELD_KIND_BYTES.rawValue {
                return string(value.value.bytes)
            }
        }
        return nil
    }

    private func integer(_ v: amqp_field_value_t) -> Int? {
        switch UInt32(v.kind) {
        case AMQP_FIELD_KIND_I8.rawValue: return Int(v.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: return Int(v.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: return Int(v.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: return Int(v.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: return Int(v.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: return Int(v.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: return Int(v.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return Int(exactly: v.value.u64)
        default: return nil
        }
    }

    /// A frame that is not a delivery: confirms, returns, broker closes, consumer cancels.
    private func handle(_ frame: amqp_frame_t) throws {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }  // stray content/heartbeat
        let c = try ready()
        let method = frame.payload.method
        switch method.id {
        case methodBasicAck:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirms.settle(tag: m.delivery_tag, multiple: m.multiple != 0, ack: true)
        case methodBasicNack:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirms.settle(tag: m.delivery_tag, multiple: m.multiple != 0, ack: false)
        case methodBasicReturn:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            returnedKeys.append(string(m.routing_key))
            // The returned message's header and body frames follow: read and drop them.
            var message = amqp_message_t()
            let r = amqp_read_message(c, frame.channel, &message, 0)
            if r.reply_type == AMQP_RESPONSE_NORMAL {
                amqp_destroy_message(&message)
            } else {
                throw fail(.connectionClosed, "reading a returned message from \(endpoint) failed")
            }
        case methodBasicCancel:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            cancelledConsumers.append(string(m.consumer_tag))
        case methodChannelClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t()
            _ = amqp_send_method(c, frame.channel, methodChannelCloseOk, &ok)
            if frame.channel == adminChannel {
                adminChannelOpen = false
            } else {
                throw fail(.channelClosed, "broker closed channel \(frame.channel): \(string(m.reply_text))",
                           replyCode: Int(m.reply_code))
            }
        case methodConnectionClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(c, 0, methodConnectionCloseOk, &ok)
            throw fail(.connectionClosed, "broker closed the connection: \(string(m.reply_text))",
                       replyCode: Int(m.reply_code))
        default:
            break  // connection.blocked/unblocked, channel.flow, …
        }
    }

    /// Every public operation holds the connection lock from start to end (the heartbeat thread
    /// shares the C connection): `lockConnection(); defer { unlockConnection(wrote: …) }`.
    private func lockConnection() { heartbeat.lock() }

    /// `wrote`: the operation sends frames, which the broker counts as signs of life, so the
    /// heartbeat thread need not write for another half interval. Reads do not count.
    private func unlockConnection(wrote: Bool) {
        if wrote { heartbeat.noteWrite() }
        heartbeat.unlock()
    }

    private func ready() throws -> amqp_connection_state_t {
        if failure == nil, let broken = heartbeat.failure {
            _ = fail(.connectionClosed, "sending a heartbeat to \(endpoint) failed: \(broken)")
        }
        if let failure { throw AMQPError(.connectionClosed, "connection unusable: \(failure.message)", replyCode: failure.replyCode) }
        guard let c = conn else { throw AMQPError(.connectionClosed, "connection to \(endpoint) is closed") }
        return c
    }

    private func adminReady() throws -> amqp_connection_state_t {
        let c = try ready()
        if !adminChannelOpen {
            _ = amqp_channel_open(c, adminChannel)
            try checkRPC(channel: adminChannel, what: "channel.open")
            adminChannelOpen = true
        }
        return c
    }

    /// Records a fatal error: the connection is unusable from now on.
    private func fail(_ kind: AMQPError.Kind, _ message: String, replyCode: Int? = nil) -> AMQPError {
        let e = AMQPError(kind, message, replyCode: replyCode)
        if failure == nil { failure = e }
        return e
    }

    /// Checks the result of the last rabbitmq-c RPC on `channel`.
    private func checkRPC(channel: amqp_channel_t, what: String) throws {
        guard let c = conn else { throw AMQPError(.connectionClosed, "connection is closed") }
        let r = amqp_get_rpc_reply(c)
        switch r.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if r.reply.id == methodChannelClose {
                let m = r.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = string(m.reply_text)
                var ok = amqp_channel_close_ok_t()
                _ = amqp_send_method(c, channel, methodChannelCloseOk, &ok)
                if channel == adminChannel {
                    adminChannelOpen = false
                    throw AMQPError(.channelClosed, "\(what): \(text)", replyCode: Int(m.reply_code))
                }
                throw fail(.channelClosed, "\(what): \(text)", replyCode: Int(m.reply_code))
            }
            if r.reply.id == methodConnectionClose {
                let m = r.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                var ok = amqp_connection_close_ok_t()
                _ = amqp_send_method(c, 0, methodConnectionCloseOk, &ok)
                throw fail(.connectionClosed, "\(what): broker closed the connection: \(string(m.reply_text))",
                           replyCode: Int(m.reply_code))
            }
            throw fail(.connectionClosed, "\(what): unexpected broker method \(r.reply.id)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw fail(.connectionClosed, "\(what) on \(endpoint) failed: \(libraryMessage(r.library_error))")
        default:
            throw fail(.library, "\(what): no RPC reply")
        }
    }

    private func loginError(_ r: amqp_rpc_reply_t) -> AMQPError {
        switch r.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION where r.reply.id == methodConnectionClose:
            let m = r.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let text = string(m.reply_text)
            let code = Int(m.reply_code)
            let kind: AMQPError.Kind = (code == 403 || code == 530) ? .authenticationFailed : .connectionFailed
            return AMQPError(kind, "login to \(endpoint) refused: \(text)", replyCode: code)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let rc = r.library_error
            if rc == AMQP_STATUS_CONNECTION_CLOSED.rawValue || rc == AMQP_STATUS_SOCKET_ERROR.rawValue {
                // Brokers without authentication_failure_close just drop the socket on bad credentials.
                return AMQPError(.authenticationFailed,
                                 "login to \(endpoint) failed: broker closed the connection (bad credentials or vhost?)")
            }
            return AMQPError(.connectionFailed, "login to \(endpoint) failed: \(libraryMessage(rc))")
        default:
            return AMQPError(.connectionFailed, "login to \(endpoint) failed")
        }
    }
}
