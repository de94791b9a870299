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

// MARK: - Connection

/// A blocking AMQP 0-9-1 connection (RabbitMQ) with one data channel. Not thread-safe: confine each
/// instance to one thread. See the file header for channels, heartbeats and error recovery.
public final class AMQPConnection {
    // Every stored property has a default so a throwing `init` leaves `self` fully initialised:
    // `deinit` then runs and is the single owner of C cleanup (no double free). Internal rather
    // than private: the frame loop in AMQPConnection+Frames.swift shares them.
    var conn: amqp_connection_state_t? = nil
    var failure: AMQPError? = nil
    var endpoint = "amqp://?"
    var adminChannelOpen = false
    var confirmsEnabled = false
    var confirms = ConfirmTracker()
    var returnedKeys: [String] = []
    var buffered: [AMQPDelivery] = []
    var bufferedIndex = 0
    var cancelledConsumers: [String] = []
    let heartbeat = AMQPHeartbeat()
    /// The heartbeat interval both sides agreed on at login (0: none).
    public private(set) var heartbeatSeconds = 0

    let dataChannel: amqp_channel_t = 1
    let adminChannel: amqp_channel_t = 2

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

    func queueDeclare(_ name: String, passive: Bool, durable: Bool,
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

    // MARK: Internals (frame pumping: AMQPConnection+Frames.swift)

    func lockConnection() { heartbeat.lock() }

    /// `wrote`: the operation sends frames, which the broker counts as signs of life, so the
    /// heartbeat thread need not write for another half interval. Reads do not count.
    func unlockConnection(wrote: Bool) {
        if wrote { heartbeat.noteWrite() }
        heartbeat.unlock()
    }

    func ready() throws -> amqp_connection_state_t {
        if failure == nil, let broken = heartbeat.failure {
            _ = fail(.connectionClosed, "sending a heartbeat to \(endpoint) failed: \(broken)")
        }
        if let failure { throw AMQPError(.connectionClosed, "connection unusable: \(failure.message)", replyCode: failure.replyCode) }
        guard let c = conn else { throw AMQPError(.connectionClosed, "connection to \(endpoint) is closed") }
        return c
    }

    func adminReady() throws -> amqp_connection_state_t {
        let c = try ready()
        if !adminChannelOpen {
            _ = amqp_channel_open(c, adminChannel)
            try checkRPC(channel: adminChannel, what: "channel.open")
            adminChannelOpen = true
        }
        return c
    }

    /// Records a fatal error: the connection is unusable from now on.
    func fail(_ kind: AMQPError.Kind, _ message: String, replyCode: Int? = nil) -> AMQPError {
        let e = AMQPError(kind, message, replyCode: replyCode)
        if failure == nil { failure = e }
        return e
    }

    /// Checks the result of the last rabbitmq-c RPC on `channel`.
    func checkRPC(channel: amqp_channel_t, what: String) throws {
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

    func loginError(_ r: amqp_rpc_reply_t) -> AMQPError {
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
