import RegistrarCore
// A synchronous Redis client over hiredis 0.14 (blocking sockets).
//
// Threading: a `RedisConnection` is NOT thread-safe. It wraps one hiredis context, which must be
// used by one thread at a time; the intended use is one connection per worker thread, owned for
// its whole life by that thread. It is deliberately not `Sendable`.
//
// Only the `*Argv` hiredis entry points are used (`redisCommand` is variadic and does not import),
// which also makes every argument binary-safe: lengths are passed explicitly, so values may contain
// NUL bytes.
//
// hiredis writes with plain `write()`, so a peer that went away raises SIGPIPE. The first
// `RedisConnection` created sets SIGPIPE to SIG_IGN for the process (write then fails with EPIPE
// and the call throws instead of killing the process).

import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One reply from Redis (RESP2, as hiredis 0.14 speaks it).
///
/// Bulk strings are decoded as UTF-8; bytes that are not valid UTF-8 are replaced with U+FFFD, so
/// store binary data that is not text in an encoded form (hex, base64). Embedded NUL bytes are kept.
public enum RedisReply: Equatable, Sendable {
    case string(String)
    case status(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case error(String)
}

/// A connection-level or protocol failure. A Redis error *reply* (`-ERR …`) is not thrown: it comes
/// back as `RedisReply.error`. Messages never contain the password.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The URL could not be parsed.
        case invalidURL
        /// TCP connect failed (refused, unreachable, timed out, name not resolved).
        case connectionFailed
        /// AUTH was refused.
        case authenticationFailed
        /// SELECT was refused.
        case selectFailed
        /// Reading or writing failed (peer closed, timeout, reset); the connection is now closed.
        case io
        /// The server sent something hiredis could not parse; the connection is now closed.
        case protocolError
        /// An operation was attempted on a closed connection; call `reconnect()`.
        case notConnected
        /// Redis answered with an unexpected reply type.
        case unexpectedReply
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "RedisError.\(kind): \(message)" }
}

/// Parsed `redis://[[user]:password@]host[:port][/db]` (by Core's `ServerURL`).
struct RedisEndpoint: Sendable {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var database: Int?

    /// host:port/db, never the password.
    var redacted: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "redis://\(h):\(port)" + (database.map { "/\($0)" } ?? "")
    }

    init(url: String) throws {
        let parts: ServerURL
        do {
            parts = try ServerURL.parse(url, scheme: "redis", loneUserinfo: .password)
            database = try parts.database()
        } catch {
            // Never the text: it may hold the password.
            switch error {
            case .wrongScheme: throw RedisError(.invalidURL, "URL must start with redis:// (rediss/unix sockets are not supported)")
            case .unterminatedIPv6: throw RedisError(.invalidURL, "unterminated [IPv6] host in Redis URL")
            case .textAfterIPv6: throw RedisError(.invalidURL, "unexpected text after [IPv6] host in Redis URL")
            case .invalidPort: throw RedisError(.invalidURL, "invalid port in Redis URL")
            case .invalidDatabase: throw RedisError(.invalidURL, "database in Redis URL must be a non-negative integer")
            case .badPercentEncoding(let part):
                throw RedisError(.invalidURL, "bad percent-encoding in the \(part.rawValue) of the Redis URL")
            }
        }
        host = parts.host
        port = parts.port ?? 6379
        username = parts.user.flatMap { $0.isEmpty ? nil : $0 }
        password = parts.password
    }
}

/// Set once per process: hiredis writes with `write()`, which raises SIGPIPE on a closed peer.
private let ignoreSIGPIPE: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

/// A blocking connection to one Redis server. Not thread-safe: confine each instance to one thread.
public final class RedisConnection {
    // Every stored property has a default so a throwing `init` still leaves `self` fully
    // initialised: `deinit` then runs and is the single owner of C cleanup (no double free).
    private var context: UnsafeMutablePointer<redisContext>? = nil
    private var endpoint: RedisEndpoint? = nil
    private var timeout = timeval()
    /// script text → SHA1 as returned by SCRIPT LOAD.
    private var scriptSHAs: [String: String] = [:]

    /// Commands per write/read round in `pipeline` (bounds client memory for huge pipelines).
    public var pipelineBatchSize = 8192

    /// `redis://[[user]:password@]host[:port][/db]`. Runs AUTH (and SELECT) when given.
    /// `timeoutSeconds` bounds the TCP connect and every subsequent socket read/write.
    public init(url: String, timeoutSeconds: Double = 5) throws {
        _ = ignoreSIGPIPE
        endpoint = try RedisEndpoint(url: url)
        let t = timeoutSeconds.isNaN ? 5 : min(max(timeoutSeconds, 0.001), 1e9)
        timeout = timeval(tv_sec: Int(t), tv_usec: Int((t - t.rounded(.towardZero)) * 1_000_000))
        try open()
    }

    deinit {
        if let c = context { redisFree(c) }
    }

    /// The endpoint without credentials, e.g. `redis://127.0.0.1:6379/2`.
    public var endpointDescription: String { endpoint?.redacted ?? "redis://?" }

    /// False after `close()` or after any I/O or protocol error (hiredis contexts cannot be reused
    /// after an error). Says nothing about whether the server is still there: the next command does.
    public var isConnected: Bool {
        guard let c = context else { return false }
        return c.pointee.err == 0
    }

    /// Drops the current socket (if any) and connects again, re-running AUTH/SELECT. Cached
    /// script SHAs are kept (EVALSHA falls back to EVAL if the server lost them).
    public func reconnect() throws {
        close()
        try open()
    }

    /// Closes the socket. Idempotent. Further commands throw `.notConnected` until `reconnect()`.
    public func close() {
        if let c = context {
            redisFree(c)
            context = nil
        }
    }

    // MARK: Commands

    /// Sends one command and waits for its reply. A Redis error reply is returned as `.error`.
    public func command(_ args: [String]) throws -> RedisReply {
        precondition(!args.isEmpty, "a Redis command needs at least its name")
        let c = try liveContext()
        let raw: UnsafeMutableRawPointer? = withArgv(args) { argc, argv, lens in
            redisCommandArgv(c, argc, argv, lens)
        }
        guard let raw else { throw failure(c) }
        defer { freeReplyObject(raw) }
        return convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Sends all commands, then reads all replies (in batches of `pipelineBatchSize`): one reply per
    /// command, in order. An I/O failure midway throws and closes the connection; replies already
    /// read are lost to the caller, so pipelined writes must be idempotent or re-checked.
    public func pipeline(_ commands: [[String]]) throws -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        let batch = max(1, pipelineBatchSize)
        var start = 0
        while start < commands.count {
            let end = min(start + batch, commands.count)
            let c = try liveContext()
            for i in start..<end {
                precondition(!commands[i].isEmpty, "a Redis command needs at least its name")
                let rc = withArgv(commands[i]) { argc, argv, lens in
                    redisAppendCommandArgv(c, argc, argv, lens)
                }
                if rc != REDIS_OK { throw failure(c) }
            }
            for _ in start..<end {
                var raw: UnsafeMutableRawPointer? = nil
                if redisGetReply(c, &raw) != REDIS_OK || raw == nil {
                    if let raw { freeReplyObject(raw) }
                    throw failure(c)
                }
                replies.append(convert(raw!.assumingMemoryBound(to: redisReply.self)))
                freeReplyObject(raw)
            }
            start = end
        }
        return replies
    }

    /// Runs a Lua script by SHA1 (EVALSHA). The SHA comes from SCRIPT LOAD the first time a script
    /// is used on this connection and is cached; if the server answers NOSCRIPT (after SCRIPT FLUSH,
    /// FLUSHALL with scripts, a restart or a failover) the script is sent with EVAL, which also puts
    /// it back into the server's cache. Script errors come back as `.error`.
    public func evalScript(_ script: String, keys: [String], args: [String]) throws -> RedisReply {
        let tail = [String(keys.count)] + keys + args
        let sha: String
        if let cached = scriptSHAs[script] {
            sha = cached
        } else {
            switch try command(["SCRIPT", "LOAD", script]) {
            case .string(let s):
                sha = s
                scriptSHAs[script] = s
            case .error(let e):
                return .error(e)  // e.g. a compile error
            case let other:
                throw RedisError(.unexpectedReply, "SCRIPT LOAD answered \(other.kindName)")
            }
        }
        let reply = try command(["EVALSHA", sha] + tail)
        if case .error(let e) = reply, e.hasPrefix("NOSCRIPT") {
            return try command(["EVAL", script] + tail)
        }
        return reply
    }

    // MARK: Internals

    private func open() throws {
        guard let ep = endpoint else { throw RedisError(.invalidURL, "no endpoint") }
        guard let c = redisConnectWithTimeout(ep.host, Int32(ep.port), timeout) else {
            throw RedisError(.connectionFailed, "cannot allocate a hiredis context for \(ep.redacted)")
        }
        context = c  // owned from here on: close()/deinit free it
        if c.pointee.err != 0 {
            let msg = errorString(c)
            close()
            throw RedisError(.connectionFailed, "cannot connect to \(ep.redacted): \(msg)")
        }
        // Apply the timeout to reads and writes too, so a stalled server cannot hang a worker.
        _ = redisSetTimeout(c, timeout)
        _ = redisEnableKeepAlive(c)
        if let password = ep.password {
            let args = ep.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            let reply = try command(args)
            if case .error(let e) = reply {
                close()
                // Redis' AUTH errors never echo the password; keep only the first word to be safe.
                let code = e.split(separator: " ", maxSplits: 1).first.map(String.init) ?? "ERR"
                throw RedisError(.authenticationFailed, "AUTH refused by \(ep.redacted) (\(code))")
            }
        }
        if let db = ep.database, db != 0 {
            let reply = try command(["SELECT", String(db)])
            if case .error(let e) = reply {
                close()
                throw RedisError(.selectFailed, "SELECT \(db) refused by \(ep.redacted): \(e)")
            }
        }
    }

    private func liveContext() throws -> UnsafeMutablePointer<redisContext> {
        guard let c = context else {
            throw RedisError(.notConnected, "connection to \(endpointDescription) is closed; call reconnect()")
        }
        if c.pointee.err != 0 {
            let msg = errorString(c)
            close()
            throw RedisError(.notConnected, "connection to \(endpointDescription) failed earlier (\(msg)); call reconnect()")
        }
        return c
    }

    /// Builds the error for a failed hiredis call and closes the (now unusable) context.
    private func failure(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let code = c.pointee.err
        var msg = errorString(c)
        if msg.isEmpty { msg = "unknown error" }
        close()
        let kind: RedisError.Kind = (code == REDIS_ERR_PROTOCOL) ? .protocolError : .io
        return RedisError(kind, "\(endpointDescription): \(msg)")
    }

    private func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let n = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<n]), as: UTF8.self)
        }
    }

    private func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(text(reply))
        case REDIS_REPLY_STATUS: return .status(text(reply))
        case REDIS_REPLY_ERROR: return .error(text(reply))
        case REDIS_REPLY_INTEGER: return .integer(Int(reply.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element[i] { items.append(convert(e)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unsupported reply type \(reply.type)")
        }
    }

    private func text(_ reply: redisReply) -> String {
        guard let p = reply.str, reply.len > 0 else { return "" }
        return p.withMemoryRebound(to: UInt8.self, capacity: reply.len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: reply.len), as: UTF8.self)
        }
    }
}

/// Packs the arguments into one contiguous buffer and hands hiredis argv/argvlen views of it; the
/// buffer outlives the call because the call happens inside the closure.
private func withArgv<R>(
    _ args: [String],
    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
) -> R {
    var storage: [UInt8] = []
    var total = 0
    for a in args { total += a.utf8.count }
    storage.reserveCapacity(total + 1)
    var lengths: [Int] = []
    lengths.reserveCapacity(args.count)
    for a in args {
        let before = storage.count
        storage.append(contentsOf: a.utf8)
        lengths.append(storage.count - before)
    }
    storage.append(0)  // never empty, so baseAddress is non-nil
    return storage.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { base in
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(args.count)
            var offset = 0
            for len in lengths {
                pointers.append(base + offset)
                offset += len
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lens in
                    body(Int32(args.count), argv.baseAddress!, lens.baseAddress!)
                }
            }
        }
    }
}

extension RedisReply {
    var kindName: String {
        switch self {
        case .string: return "a bulk string"
        case .status: return "a status"
        case .integer: return "an integer"
        case .array: return "an array"
        case .null: return "null"
        case .error: return "an error"
        }
    }
}
