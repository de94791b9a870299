import RegistrarCore
import RegistrarRuntime

/// Live progress in Redis. Every key is built here (`RedisKeys`); multi-step updates are Lua
/// scripts so each is atomic.
///
/// - `registrar:job:{id}`: hash of `done`, `errors`, `skipped`, `cancelled`, `total`, and `base`
///   (present only when the hash was initialised from the store — a hash without it was created
///   by increments after a flush and is treated as lost).
/// - `registrar:job:{id}:chunks`: set of chunk numbers already counted (idempotency per chunk).
/// - `registrar:folder:{id}:keys`: set of digests (`URLKeyDigest`) of the URL keys the folder holds
///   (fast duplicate answers; PostgreSQL confirms before anything is skipped).
public final class RedisProgressTracker: ProgressTracker {
    let redis: RedisConnection
    /// Keys expire a week after the last write: finished jobs are read from the store.
    let ttlSeconds = 7 * 24 * 3600

    public init(url: String) throws {
        redis = try RedisConnection(url: url)
    }

    enum RedisKeys {
        static func job(_ id: String) -> String { "registrar:job:\(id)" }
        static func chunks(_ id: String) -> String { "registrar:job:\(id):chunks" }
        static func folderKeys(_ id: String) -> String { "registrar:folder:\(id):keys" }
    }

    /// Adds a chunk's counts only if the chunk was not counted before.
    static let recordChunkScript = """
    if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
      redis.call('HINCRBY', KEYS[1], 'done', ARGV[2])
      redis.call('HINCRBY', KEYS[1], 'errors', ARGV[3])
      redis.call('HINCRBY', KEYS[1], 'skipped', ARGV[4])
      redis.call('HINCRBY', KEYS[1], 'cancelled', ARGV[5])
      redis.call('EXPIRE', KEYS[1], ARGV[6])
      redis.call('EXPIRE', KEYS[2], ARGV[6])
      return 1
    end
    return 0
    """

    /// Replaces a job's progress with exact numbers (ARGV: done errors skipped cancelled total ttl chunk...).
    static let rebuildScript = """
    redis.call('DEL', KEYS[1], KEYS[2])
    redis.call('HSET', KEYS[1], 'done', ARGV[1], 'errors', ARGV[2], 'skipped', ARGV[3], 'cancelled', ARGV[4], 'base', '1')
    if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'total', ARGV[5]) end
    for i = 7, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
    redis.call('EXPIRE', KEYS[1], ARGV[6])
    redis.call('EXPIRE', KEYS[2], ARGV[6])
    return 1
    """

    /// Runs `body` on the connection, reconnecting first if an earlier call broke it, and once
    /// more if the connection breaks during this call (Redis restarted, failed over). Every
    /// operation here is idempotent (chunk-guarded scripts, SADD, HSET, reads), so a retry after
    /// a write whose reply was lost changes nothing.
    private func withRedis<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        if !redis.isConnected { try redis.reconnect() }
        do {
            return try body(redis)
        } catch let e as RedisError where e.kind == .io || e.kind == .notConnected || e.kind == .protocolError {
            try redis.reconnect()
            return try body(redis)
        }
    }

    private func check(_ reply: RedisReply) throws {
        if case .error(let message) = reply { throw RedisError(.unexpectedReply, message) }
    }

    public func recordChunk(jobID: String, seq: Int, counts: UnitCounts) throws {
        try check(try withRedis { try $0.evalScript(Self.recordChunkScript, keys: [RedisKeys.job(jobID), RedisKeys.chunks(jobID)],
                                       args: [String(seq), String(counts.done), String(counts.errors), String(counts.skipped),
                                              String(counts.cancelled), String(ttlSeconds)]) })
    }

    public func setTotal(jobID: String, total: Int) throws {
        let replies = try withRedis { try $0.pipeline([
            ["HSET", RedisKeys.job(jobID), "total", String(total), "base", "1"],
            ["EXPIRE", RedisKeys.job(jobID), String(ttlSeconds)],
        ]) }
        try replies.forEach(check)
    }

    public func counts(jobID: String) throws -> (counts: UnitCounts, total: Int?)? {
        let reply = try withRedis { try $0.command(["HGETALL", RedisKeys.job(jobID)]) }
        try check(reply)
        guard case .array(let items) = reply, !items.isEmpty else { return nil }
        var fields: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if case .string(let k) = items[i], case .string(let v) = items[i + 1] { fields[k] = v }
            i += 2
        }
        guard fields["base"] != nil else { return nil }
        func n(_ k: String) -> Int { fields[k].flatMap { Int($0) } ?? 0 }
        return (UnitCounts(done: n("done"), errors: n("errors"), skipped: n("skipped"), cancelled: n("cancelled")),
                fields["total"].flatMap { Int($0) })
    }

    public func rebuild(jobID: String, counts: UnitCounts, total: Int?, doneChunks: [Int]) throws {
        let args = [String(counts.done), String(counts.errors), String(counts.skipped), String(counts.cancelled),
                    total.map(String.init) ?? "", String(ttlSeconds)] + doneChunks.map(String.init)
        try check(try withRedis { try $0.evalScript(Self.rebuildScript, keys: [RedisKeys.job(jobID), RedisKeys.chunks(jobID)], args: args) })
    }

    /// Adds chunks not counted yet (ARGV: ttl, then seq done errors skipped cancelled per chunk).
    static let recordChunksScript = """
    local added = 0
    for i = 2, #ARGV, 5 do
      if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
        redis.call('HINCRBY', KEYS[1], 'done', ARGV[i + 1])
        redis.call('HINCRBY', KEYS[1], 'errors', ARGV[i + 2])
        redis.call('HINCRBY', KEYS[1], 'skipped', ARGV[i + 3])
        redis.call('HINCRBY', KEYS[1], 'cancelled', ARGV[i + 4])
        added = added + 1
      end
    end
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    redis.call('EXPIRE', KEYS[2], ARGV[1])
    return added
    """

    public func recordChunks(jobID: String, chunks: [Int: UnitCounts]) throws {
        guard !chunks.isEmpty else { return }
        var args = [String(ttlSeconds)]
        for (seq, c) in chunks.sorted(by: { $0.key < $1.key }) {
            args += [String(seq), String(c.done), String(c.errors), String(c.skipped), String(c.cancelled)]
        }
        try check(try withRedis { try $0.evalScript(Self.recordChunksScript, keys: [RedisKeys.job(jobID), RedisKeys.chunks(jobID)], args: args) })
    }

    public func knownURLKeys(folderID: String, keys: [String]) throws -> [Bool] {
        guard !keys.isEmpty else { return [] }
        let reply = try withRedis { try $0.command(["SMISMEMBER", RedisKeys.folderKeys(folderID)] + keys.map(URLKeyDigest.hex)) }
        try check(reply)
        guard case .array(let items) = reply, items.count == keys.count else {
            throw RedisError(.unexpectedReply, "unexpected SMISMEMBER reply")
        }
        return items.map { $0 == .integer(1) }
    }

    /// Remembers keys the folder now holds — as digests, never URLs (a presigned URL's query
    /// string is a secret). The set expires a week after its last addition: Redis is a cache here.
    public func addURLKeys(folderID: String, keys: [String]) throws {
        guard !keys.isEmpty else { return }
        let replies = try withRedis { try $0.pipeline([["SADD", RedisKeys.folderKeys(folderID)] + keys.map(URLKeyDigest.hex),
                                                        ["EXPIRE", RedisKeys.folderKeys(folderID), String(ttlSeconds)]]) }
        try replies.forEach(check)
    }

    /// Forgets a folder's key set (when its files are deleted) — the store stays the truth.
    public func dropURLKeys(folderID: String) throws {
        try check(try withRedis { try $0.command(["DEL", RedisKeys.folderKeys(folderID)]) })
    }
}
