// Integration tests for RedisConnection against a real Redis server.
// REGISTRAR_REDIS_URL must be set (scripts/services up; eval "$(scripts/services env)"): the tests
// fail, not skip, without it. Every test uses its own key prefix, so they can run in parallel.

import RegistrarRedis
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func redisURL() throws -> String {
    let value = getenv("REGISTRAR_REDIS_URL").map { String(cString: $0) }
    return try #require(value.flatMap { $0.isEmpty ? nil : $0 },
                        "REGISTRAR_REDIS_URL is not set: run `scripts/services up` and `eval \"$(scripts/services env)\"`")
}

private func uniquePrefix(_ name: String) -> String {
    "test:\(name):\(getpid()):\(UInt64.random(in: 0...UInt64.max))"
}

/// The server URL without any /db suffix, to build URLs with a chosen database.
private func baseURL(_ url: String) -> String {
    let scheme = "redis://"
    let rest = url.dropFirst(scheme.count)
    if let slash = rest.firstIndex(of: "/") { return scheme + rest[..<slash] }
    return url
}

private func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) / 1e18
}

@Suite("RedisConnection", .serialized)
struct RedisConnectionTests {
    @Test func basicCommands() throws {
        let redis = try RedisConnection(url: try redisURL())
        defer { redis.close() }
        #expect(redis.isConnected)
        let p = uniquePrefix("basic")
        #expect(try redis.command(["PING"]) == .status("PONG"))
        #expect(try redis.command(["SET", "\(p):k", "v1"]) == .status("OK"))
        #expect(try redis.command(["GET", "\(p):k"]) == .string("v1"))
        #expect(try redis.command(["GET", "\(p):missing"]) == .null)
        #expect(try redis.command(["INCRBY", "\(p):n", "41"]) == .integer(41))
        #expect(try redis.command(["INCR", "\(p):n"]) == .integer(42))
        #expect(try redis.command(["RPUSH", "\(p):l", "a", "b", "c"]) == .integer(3))
        #expect(try redis.command(["LRANGE", "\(p):l", "0", "-1"]) == .array([.string("a"), .string("b"), .string("c")]))
        #expect(try redis.command(["LRANGE", "\(p):empty", "0", "-1"]) == .array([]))
        #expect(try redis.command(["HSET", "\(p):h", "f", "1"]) == .integer(1))
        #expect(try redis.command(["HGETALL", "\(p):h"]) == .array([.string("f"), .string("1")]))
        #expect(try redis.command(["DEL", "\(p):k", "\(p):n", "\(p):l", "\(p):h"]) == .integer(4))
        #expect(try redis.command(["EXISTS", "\(p):k"]) == .integer(0))
    }

    @Test func binarySafeValues() throws {
        let redis = try RedisConnection(url: try redisURL())
        defer { redis.close() }
        let p = uniquePrefix("binary")
        let key = "\(p):k\u{0}ey:ключ"
        let value = "a\u{0}b\u{0}\u{0}c — héllo 🙂 日本語\r\n$3\r\n"
        #expect(try redis.command(["SET", key, value]) == .status("OK"))
        #expect(try redis.command(["GET", key]) == .string(value))
        #expect(try redis.command(["STRLEN", key]) == .integer(value.utf8.count))
        #expect(try redis.command(["SET", "\(p):empty", ""]) == .status("OK"))
        #expect(try redis.command(["GET", "\(p):empty"]) == .string(""))
        let big = String(repeating: "x\u{0}", count: 512 * 1024)
        #expect(try redis.command(["SET", "\(p):big", big]) == .status("OK"))
        #expect(try redis.command(["GET", "\(p):big"]) == .string(big))
        _ = try redis.command(["DEL", key, "\(p):empty", "\(p):big"])
    }

    @Test func errorRepliesAreValuesNotThrows() throws {
        let redis = try RedisConnection(url: try redisURL())
        defer { redis.close() }
        let p = uniquePrefix("errors")
        _ = try redis.command(["SET", "\(p):s", "not a number"])
        guard case .error(let e1) = try redis.command(["INCR", "\(p):s"]) else {
            Issue.record("INCR on a string should be an error reply"); return
        }
        #expect(e1.hasPrefix("ERR"))
        guard case .error(let e2) = try redis.command(["LPUSH", "\(p):s", "x"]) else {
            Issue.record("LPUSH on a string should be an error reply"); return
        }
        #expect(e2.hasPrefix("WRONGTYPE"))
        guard case .error(let e3) = try redis.command(["NOSUCHCOMMAND", "x"]) else {
            Issue.record("an unknown command should be an error reply"); return
        }
        #expect(e3.contains("unknown command"))
        // Still usable afterwards.
        #expect(redis.isConnected)
        #expect(try redis.command(["PING"]) == .status("PONG"))
        _ = try redis.command(["DEL", "\(p):s"])
    }

    @Test func pipelineOf10kCommands() throws {
        let redis = try RedisConnection(url: try redisURL())
        defer { redis.close() }
        let p = uniquePrefix("pipeline")
        let n = 10_000
        var commands: [[String]] = []
        commands.reserveCapacity(n)
        for i in 0..<n {
            if i % 2 == 0 {
                commands.append(["SADD", "\(p):set", "url-\(i / 2)"])
            } else {
                commands.append(["HINCRBY", "\(p):counters", "done", "1"])
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let replies = try redis.pipeline(commands)
        let elapsed = seconds(clock.now - start)
        #expect(replies.count == n)
        #expect(replies[0] == .integer(1))
        #expect(replies[1] == .integer(1))
        #expect(replies[n - 1] == .integer(n / 2))
        #expect(try redis.command(["SCARD", "\(p):set"]) == .integer(n / 2))
        print("redis pipeline: \(n) commands in \(Int(elapsed * 1000)) ms = \(Int(Double(n) / elapsed)) ops/s")

        // A bigger run for a steadier throughput figure (crosses pipeline batches).
        let m = 200_000
        var more: [[String]] = []
        more.reserveCapacity(m)
        for i in 0..<m { more.append(["HINCRBY", "\(p):h\(i % 64)", "f\(i % 7)", "1"]) }
        let start2 = clock.now
        let replies2 = try redis.pipeline(more)
        let elapsed2 = seconds(clock.now - start2)
        #expect(replies2.count == m)
        #expect(!replies2.contains { if case .error = $0 { return true } else { return false } })
        print("redis pipeline: \(m) HINCRBY in \(Int(elapsed2 * 1000)) ms = \(Int(Double(m) / elapsed2)) ops/s")

        // Errors inside a pipeline are values in their slot.
        let mixed = try redis.pipeline([["SET", "\(p):s", "x"], ["INCR", "\(p):s"], ["GET", "\(p):s"]])
        #expect(mixed[0] == .status("OK"))
        if case .error = mixed[1] {} else { Issue.record("expected an error reply in slot 1") }
        #expect(mixed[2] == .string("x"))
        #expect(try redis.pipeline([]) == [])

        _ = try redis.command(["DEL", "\(p):set", "\(p):counters", "\(p):s"] + (0..<64).map { "\(p):h\($0)" })
    }

    /// The DESIGN §3 pattern: add the chunk id to the job's done-set and only if new, increment.
    static let guardedIncrement = """
        if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
          return redis.call('HINCRBY', KEYS[2], 'done', tonumber(ARGV[2]))
        end
        return -1
        """

    @Test func evalScriptWithNoscriptFallback() throws {
        let redis = try RedisConnection(url: try redisURL())
        defer { redis.close() }
        let p = uniquePrefix("eval")
        let keys = ["\(p):chunks", "\(p):progress"]
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-1", "500"]) == .integer(500))
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-1", "500"]) == .integer(-1))
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-2", "250"]) == .integer(750))

        // The server forgets every script: the cached SHA now answers NOSCRIPT and EVAL takes over.
        #expect(try redis.command(["SCRIPT", "FLUSH"]) == .status("OK"))
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-3", "1"]) == .integer(751))
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-3", "1"]) == .integer(-1))
        // EVAL put the script back into the server's cache.
        let sha = try redis.command(["SCRIPT", "LOAD", Self.guardedIncrement])
        guard case .string(let s) = sha else { Issue.record("SCRIPT LOAD: \(sha)"); return }
        #expect(try redis.command(["SCRIPT", "EXISTS", s]) == .array([.integer(1)]))

        // Flushed from another connection too (as after a restart).
        let other = try RedisConnection(url: try redisURL())
        _ = try other.command(["SCRIPT", "FLUSH"])
        other.close()
        #expect(try redis.evalScript(Self.guardedIncrement, keys: keys, args: ["chunk-4", "9"]) == .integer(760))

        // Script results of each type, and script errors as error replies.
        #expect(try redis.evalScript("return {1, 'two', {3}}", keys: [], args: [])
            == .array([.integer(1), .string("two"), .array([.integer(3)])]))
        #expect(try redis.evalScript("return ARGV[1]", keys: [], args: ["a\u{0}b"]) == .string("a\u{0}b"))
        #expect(try redis.evalScript("return redis.status_reply('FINE')", keys: [], args: []) == .status("FINE"))
        if case .error = try redis.evalScript("this is not lua", keys: [], args: []) {} else {
            Issue.record("a script that does not compile should give an error reply")
        }
        if case .error = try redis.evalScript("return redis.call('INCR', KEYS[1])", keys: ["\(p):chunks"], args: []) {} else {
            Issue.record("a runtime script error should give an error reply")
        }
        #expect(redis.isConnected)
        _ = try redis.command(["DEL"] + keys)
    }

    @Test func badPortThrows() throws {
        // Port 1 on loopback: nothing listens there, connect is refused at once.
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: RedisError.self) { _ = try RedisConnection(url: "redis://127.0.0.1:1", timeoutSeconds: 2) }
        #expect(clock.now - start < .seconds(2))
        do {
            _ = try RedisConnection(url: "redis://127.0.0.1:1")
        } catch let e as RedisError {
            #expect(e.kind == .connectionFailed)
            #expect(e.description.contains("127.0.0.1:1"))
        }
        #expect(throws: RedisError.self) { _ = try RedisConnection(url: "http://127.0.0.1:6379") }
        #expect(throws: RedisError.self) { _ = try RedisConnection(url: "redis://127.0.0.1:notaport") }
    }

    @Test func passwordNeverInErrors() throws {
        // The test server has no password: AUTH is refused, and the error must not echo it.
        let url = try redisURL()
        let secret = "s3cr3t-Pa55word-\(UInt32.random(in: 0...UInt32.max))"
        let withPassword = "redis://:\(secret)@" + baseURL(url).dropFirst("redis://".count)
        do {
            _ = try RedisConnection(url: withPassword)
            Issue.record("AUTH against a server without a password should fail")
        } catch let e as RedisError {
            #expect(e.kind == .authenticationFailed)
            #expect(!e.description.contains(secret))
            #expect(!e.message.contains(secret))
        }
    }

    @Test func selectsDatabaseFromURL() throws {
        let base = baseURL(try redisURL())
        let db3 = try RedisConnection(url: base + "/3")
        let db0 = try RedisConnection(url: base + "/0")
        defer { db3.close(); db0.close() }
        let key = uniquePrefix("select")
        _ = try db3.command(["SET", key, "in-3"])
        #expect(try db0.command(["GET", key]) == .null)
        #expect(try db3.command(["GET", key]) == .string("in-3"))
        _ = try db3.command(["DEL", key])
        #expect(throws: RedisError.self) { _ = try RedisConnection(url: base + "/99999") }
    }

    @Test func reconnectAfterServerKillsConnection() throws {
        let redis = try RedisConnection(url: try redisURL())
        let killer = try RedisConnection(url: try redisURL())
        defer { redis.close(); killer.close() }
        guard case .integer(let id) = try redis.command(["CLIENT", "ID"]) else {
            Issue.record("CLIENT ID"); return
        }
        #expect(try killer.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        // The next command notices the dead socket and throws; the connection is then closed.
        #expect(throws: RedisError.self) { _ = try redis.command(["PING"]) }
        #expect(!redis.isConnected)
        do {
            _ = try redis.command(["PING"])
            Issue.record("a closed connection should throw")
        } catch let e as RedisError {
            #expect(e.kind == .notConnected)
        }
        try redis.reconnect()
        #expect(redis.isConnected)
        #expect(try redis.command(["PING"]) == .status("PONG"))
        // Explicit close and reconnect.
        redis.close()
        #expect(!redis.isConnected)
        #expect(throws: RedisError.self) { _ = try redis.command(["PING"]) }
        try redis.reconnect()
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func readTimeoutThrowsInsteadOfHanging() throws {
        let redis = try RedisConnection(url: try redisURL(), timeoutSeconds: 0.5)
        defer { redis.close() }
        let clock = ContinuousClock()
        let start = clock.now
        // BLPOP blocks for 3 s server-side; the 0.5 s socket timeout fires first.
        #expect(throws: RedisError.self) { _ = try redis.command(["BLPOP", uniquePrefix("timeout"), "3"]) }
        #expect(clock.now - start < .seconds(2))
        #expect(!redis.isConnected)
        try redis.reconnect()
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }
}
