import Testing
@testable import RegistrarCore

// The server URL parser shared by the Redis and RabbitMQ adapters: userinfo, percent-decoding,
// [IPv6] hosts, ports, the AMQP vhost and the Redis database.

@Suite struct ServerURLTests {
    func amqp(_ url: String) throws(ServerURL.Failure) -> ServerURL { try ServerURL.parse(url, scheme: "amqp", loneUserinfo: .user) }
    func redis(_ url: String) throws(ServerURL.Failure) -> ServerURL { try ServerURL.parse(url, scheme: "redis", loneUserinfo: .password) }
    func failure(_ body: () throws -> Void) -> ServerURL.Failure? {
        do { try body(); return nil } catch { return error as? ServerURL.Failure }
    }

    @Test func fullAMQPURL() throws {
        let u = try amqp("amqp://alice:s%40cret@broker.example:5673/%2Fprod?heartbeat=30")
        #expect(u == ServerURL(user: "alice", password: "s@cret", host: "broker.example", port: 5673, path: "%2Fprod"))
        #expect(try u.virtualHost() == "/prod")
    }

    @Test func defaultsWhenPartsAreAbsent() throws {
        let u = try amqp("amqp://")
        #expect(u == ServerURL(user: nil, password: nil, host: "127.0.0.1", port: nil, path: nil))
        #expect(try u.virtualHost() == "/")
        #expect(try amqp("amqp://h/").virtualHost() == "/")         // the empty vhost means the default
        #expect(try amqp("amqp://h/%2F").virtualHost() == "/")
        #expect(try redis("redis://h").database() == nil)
        #expect(try redis("redis://h/").database() == nil)
    }

    @Test func userinfo() throws {
        #expect(try amqp("amqp://bob@h").user == "bob")
        #expect(try amqp("amqp://bob@h").password == nil)
        // Redis reads a lone userinfo as a password (redis-cli's reading), and `:pw` as no user.
        #expect(try redis("redis://secret@h").password == "secret")
        #expect(try redis("redis://secret@h").user == nil)
        #expect(try redis("redis://:pw@h").user == "")
        #expect(try redis("redis://:pw@h").password == "pw")
        #expect(try redis("redis://@h").password == nil)
        // The last '@' ends the userinfo: an unencoded '@' in a password survives.
        let u = try amqp("amqp://u:p@ss@h:1")
        #expect(u.user == "u" && u.password == "p@ss" && u.host == "h" && u.port == 1)
        // A ':' after the first belongs to the password.
        #expect(try amqp("amqp://u:a:b@h").password == "a:b")
    }

    @Test func percentDecodingFailuresNameThePart() {
        #expect(failure { _ = try amqp("amqp://b%zz:p@h") } == .badPercentEncoding(.user))
        #expect(failure { _ = try amqp("amqp://u:p%4@h") } == .badPercentEncoding(.password))
        #expect(failure { _ = try redis("redis://p%g0@h") } == .badPercentEncoding(.password))
        #expect(failure { _ = try amqp("amqp://h/%zz").virtualHost() } == .badPercentEncoding(.vhost))
        #expect(ServerURL.Part.user.rawValue == "user name")
    }

    @Test func ipv6Hosts() throws {
        let u = try redis("redis://[::1]:6380/2")
        #expect(u.host == "::1" && u.port == 6380)
        #expect(try u.database() == 2)
        #expect(try amqp("amqp://[fe80::1]").host == "fe80::1")
        #expect(failure { _ = try amqp("amqp://[::1") } == .unterminatedIPv6)
        #expect(failure { _ = try amqp("amqp://[::1]x:5672") } == .textAfterIPv6)
    }

    @Test func ports() throws {
        #expect(try amqp("amqp://h:1").port == 1)
        #expect(try amqp("amqp://h:65535").port == 65535)
        for bad in ["amqp://h:0", "amqp://h:65536", "amqp://h:notaport", "amqp://h:-1"] {
            #expect(failure { _ = try amqp(bad) } == .invalidPort, "\(bad)")
        }
        #expect(try amqp("amqp://h:").port == nil)   // "host:" has no port
    }

    @Test func redisDatabase() throws {
        #expect(try redis("redis://h/0").database() == 0)
        #expect(try redis("redis://h/15").database() == 15)
        #expect(failure { _ = try redis("redis://h/x").database() } == .invalidDatabase)
        #expect(failure { _ = try redis("redis://h/-1").database() } == .invalidDatabase)
    }

    @Test func schemeAndQuery() throws {
        #expect(failure { _ = try amqp("amqps://h") } == .wrongScheme)
        #expect(failure { _ = try redis("rediss://h") } == .wrongScheme)
        #expect(failure { _ = try redis("h:6379") } == .wrongScheme)
        #expect(try redis("redis://h:7000?timeout=1").port == 7000)   // the query is dropped
    }
}
