// Integration tests for the libpq adapter. They need a real PostgreSQL:
//
//     scripts/services up && eval "$(scripts/services env)" && swift test --filter RegistrarPostgresTests
//
// REGISTRAR_POSTGRES_URL must be a postgresql:// URI for a role that may create schemas (and,
// for one test, roles). Without it every test FAILS with a message saying so — never skips.
// Each test works in its own schema `test_<random>` and drops it afterwards.

import RegistrarPostgres
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Helpers

/// The database under test, or a recorded failure.
func databaseURL() throws -> String {
    let value = getenv("REGISTRAR_POSTGRES_URL").map { String(cString: $0) } ?? ""
    return try #require(
        value.isEmpty ? nil : value,
        "REGISTRAR_POSTGRES_URL is not set: these tests need a real PostgreSQL. Run `scripts/services up` and `eval \"$(scripts/services env)\"` first."
    )
}

/// A fresh schema name.
func randomSchemaName() -> String {
    "test_" + String(UInt64.random(in: 0 ... .max), radix: 36)
}

/// Opens a connection whose search_path is a fresh schema, runs `body`, drops the schema.
func withSchema(_ body: (PGConnection, String) throws -> Void) throws {
    let conn = try PGConnection(url: databaseURL())
    let schema = randomSchemaName()
    try conn.execute("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
    defer {
        if !conn.isHealthy { try? conn.reset() }
        if conn.inTransaction { try? conn.execute("ROLLBACK") }
        try? conn.execute("DROP SCHEMA \(schema) CASCADE")
        conn.close()
    }
    try body(conn, schema)
}

/// A second connection on the same schema.
func connect(toSchema schema: String) throws -> PGConnection {
    let conn = try PGConnection(url: databaseURL())
    try conn.execute("SET search_path TO \(schema)")
    return conn
}

/// `url` with its userinfo (`user:password`) replaced. Needs a URI.
func replacingUserInfo(of url: String, with userinfo: String) throws -> String {
    let bytes = Array(url.utf8)
    let sep = Array("://".utf8)
    var schemeEnd: Int?
    if bytes.count >= 3 {
        for i in 0...(bytes.count - 3) where Array(bytes[i..<(i + 3)]) == sep {
            schemeEnd = i + 3
            break
        }
    }
    let authorityStart = try #require(schemeEnd, "REGISTRAR_POSTGRES_URL must be a postgresql:// URI")
    var end = authorityStart
    while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?") { end += 1 }
    var hostStart = authorityStart
    if let at = bytes[authorityStart..<end].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
    let head = String(decoding: bytes[0..<authorityStart], as: UTF8.self)
    let tail = String(decoding: bytes[hostStart...], as: UTF8.self)
    return head + userinfo + "@" + tail
}

/// `url` with a query parameter appended.
func addingQuery(_ item: String, to url: String) -> String {
    url + (url.contains("?") ? "&" : "?") + item
}

/// Asserts that `body` throws a `PostgresError` and returns it.
@discardableResult
func expectPostgresError(
    _ sqlState: String?, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> PostgresError? {
    do {
        try body()
        Issue.record("expected a PostgresError(\(sqlState ?? "nil")), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let e as PostgresError {
        #expect(e.sqlState == sqlState, "wrong SQLSTATE in \(e)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected a PostgresError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Connecting with `url` must fail without any of `secrets` in the error.
@discardableResult
func expectConnectFailure(_ url: String, hiding secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) -> PostgresError? {
    do {
        let c = try PGConnection(url: url)
        c.close()
        Issue.record("connecting to a bad target succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let e as PostgresError {
        for s in secrets {
            #expect(!e.message.contains(s), "password leaked into message: \(e.message)", sourceLocation: sourceLocation)
            #expect(!String(describing: e).contains(s), "password leaked into description", sourceLocation: sourceLocation)
            #expect(!(e.detail ?? "").contains(s), sourceLocation: sourceLocation)
        }
        #expect(e.sqlState == nil, sourceLocation: sourceLocation)
        #expect(!e.message.isEmpty, sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected a PostgresError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

struct Boom: Error {}

/// Asserts that `body` throws `Boom`. (A hand-written helper: `#expect(throws:)` around
/// these closures crashes the Swift 6.3.1 SendNonSendable pass.)
func expectBoom(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected Boom, nothing was thrown", sourceLocation: sourceLocation)
    } catch is Boom {
    } catch {
        Issue.record("expected Boom, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A value written by one thread and read by another after `pthread_join`.
final class Slot<T>: @unchecked Sendable {
    var value: T?
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs each body on its own POSIX thread and waits for all of them.
func onThreads(_ bodies: [() -> Void]) {
    #if canImport(Glibc)
    var threads: [pthread_t] = []
    for body in bodies {
        let arg = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, arg)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        threads.append(thread)
    }
    for t in threads { pthread_join(t, nil) }
    #else
    for body in bodies { body() }
    #endif
}

// MARK: - Connecting

@Suite("PGConnection: connecting")
struct ConnectTests {
    @Test func connectsAndSetsDefaults() throws {
        let url = try databaseURL()
        let conn = try PGConnection(url: url)
        defer { conn.close() }
        #expect(conn.isHealthy)
        #expect(!conn.inTransaction)
        let rows = try conn.query("SELECT current_setting('application_name') AS app, current_setting('client_encoding') AS enc")
        if !url.contains("application_name") {
            #expect(rows[row: 0, column: "app"] == "registrar")
        }
        #expect(rows[row: 0, column: "enc"] == "UTF8")
    }

    @Test func applicationNameFromURLWins() throws {
        let conn = try PGConnection(url: addingQuery("application_name=custom_app", to: databaseURL()))
        defer { conn.close() }
        #expect(try conn.query("SELECT current_setting('application_name')")[row: 0, column: 0] == "custom_app")
    }

    @Test func refusedPortFailsWithoutPassword() throws {
        let e = expectConnectFailure("postgresql://registrar:Sup3rS3cretPw@127.0.0.1:1/registrar", hiding: ["Sup3rS3cretPw"])
        print("refused port ->", e.map(String.init(describing:)) ?? "-")
    }

    @Test func unknownHostFailsWithoutPassword() throws {
        let e = expectConnectFailure(
            "postgresql://registrar:Sup3rS3cretPw@nonexistent.invalid:5432/registrar?connect_timeout=5",
            hiding: ["Sup3rS3cretPw"])
        print("unknown host ->", e.map(String.init(describing:)) ?? "-")
    }

    @Test func malformedURIIsScrubbed() throws {
        // libpq echoes the whole URI for this parse error; the password must be cut out of it,
        // in its percent-encoded and decoded forms.
        let e = expectConnectFailure("postgresql://registrar:Sup3r%2FS3cret@[::1/registrar", hiding: ["Sup3r%2FS3cret", "Sup3r/S3cret", "S3cret"])
        print("malformed URI ->", e.map(String.init(describing:)) ?? "-")
        let e2 = expectConnectFailure("postgresql://[::1/registrar?password=Qu3ryS3cret", hiding: ["Qu3ryS3cret"])
        print("malformed URI, password in query ->", e2.map(String.init(describing:)) ?? "-")
    }

    @Test func keywordValueConninfoIsScrubbed() throws {
        expectConnectFailure("host=127.0.0.1 port=1 user=x dbname=y password=KvS3cretPw", hiding: ["KvS3cretPw"])
        expectConnectFailure("host=127.0.0.1 port=1 user=x dbname=y password='Kv S3cret'", hiding: ["Kv S3cret"])
    }

    @Test func unknownRoleWithPasswordFailsWithoutPassword() throws {
        let url = try replacingUserInfo(of: databaseURL(), with: "registrar_no_such_role_\(UInt32.random(in: 0 ... .max)):Wr0ngS3cretPw")
        let e = expectConnectFailure(url, hiding: ["Wr0ngS3cretPw"])
        print("unknown role ->", e.map(String.init(describing:)) ?? "-")
    }

    /// A wrong password for an existing role. Meaningful only where the server checks passwords
    /// for that role (the server `scripts/services` starts trusts loopback; a pg_hba line
    /// `host all registrar_pwtest 127.0.0.1/32 scram-sha-256` makes it check). Under trust auth
    /// the connection succeeds and there is nothing more to check.
    @Test func wrongPasswordFailsWithoutPassword() throws {
        let admin = try PGConnection(url: databaseURL())
        defer {
            try? admin.execute("DROP ROLE IF EXISTS registrar_pwtest")
            admin.close()
        }
        try admin.execute("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'registrar_pwtest') THEN
                CREATE ROLE registrar_pwtest LOGIN PASSWORD 'Right-Passw0rd';
              END IF;
            END $$
            """)
        let url = try replacingUserInfo(of: databaseURL(), with: "registrar_pwtest:Wr0ng-Passw0rd")
        do {
            let c = try PGConnection(url: url)
            c.close()
            print("wrong password: server trusts registrar_pwtest, nothing to check")
        } catch let e as PostgresError {
            #expect(!e.message.contains("Wr0ng-Passw0rd"))
            #expect(!String(describing: e).contains("Wr0ng-Passw0rd"))
            #expect(e.message.contains("password authentication failed"))
            print("wrong password ->", e)
        }
    }

    @Test func closeIsIdempotentAndUseAfterCloseThrows() throws {
        let conn = try PGConnection(url: databaseURL())
        conn.close()
        conn.close()
        #expect(!conn.isHealthy)
        expectPostgresError(nil) { try conn.execute("SELECT 1") }
        expectPostgresError(nil) { _ = try conn.query("SELECT 1") }
        expectPostgresError(nil) { _ = try conn.copyIn("COPY x FROM STDIN", rows: [["1"]]) }
        expectPostgresError(nil) { try conn.reset() }
    }

    @Test func resetRecoversAKilledSession() throws {
        let conn = try PGConnection(url: databaseURL())
        defer { conn.close() }
        var notices: [String] = []
        conn.onNotice = { notices.append($0) }
        let pid = try #require(try conn.query("SELECT pg_backend_pid()")[row: 0, column: 0])
        let killer = try PGConnection(url: databaseURL())
        defer { killer.close() }
        // The second argument makes the call wait (up to 5 s) until the backend is gone.
        #expect(try killer.query("SELECT pg_terminate_backend($1::int, 5000)", [pid])[row: 0, column: 0] == "t")
        let e = expectPostgresError(nil) { _ = try conn.query("SELECT 1") }
        _ = e  // 57P01 arrives only if libpq reads the FATAL before it sees the socket close
        #expect(!conn.isHealthy)
        try conn.reset()
        #expect(conn.isHealthy)
        #expect(try conn.query("SELECT 41 + 1")[row: 0, column: 0] == "42")
        // The notice processor survives PQreset.
        try conn.execute("DO $$ BEGIN RAISE NOTICE 'after reset'; END $$")
        #expect(notices.contains { $0.contains("after reset") })
    }

    @Test func noticesGoToOnNotice() throws {
        try withSchema { conn, _ in
            var notices: [String] = []
            conn.onNotice = { notices.append($0) }
            try conn.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
            try conn.execute("ROLLBACK")  // WARNING: there is no transaction in progress
            #expect(notices.count == 2)
            #expect(notices.first?.contains("hello 42") == true)
            conn.onNotice = nil
            try conn.execute("DO $$ BEGIN RAISE NOTICE 'dropped'; END $$")
            #expect(notices.count == 2)
        }
    }
}

// MARK: - Statements and results

@Suite("PGConnection: execute and query")
struct QueryTests {
    @Test func executeRunsSeveralStatements() throws {
        try withSchema { conn, _ in
            try conn.execute("""
                CREATE TABLE t (a int PRIMARY KEY, b text);
                INSERT INTO t VALUES (1, 'one'), (2, 'two');
                INSERT INTO t VALUES (3, 'three');
                """)
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "3")
            try conn.execute("")  // empty query is fine
        }
    }

    @Test func executeIsAllOrNothingWithoutExplicitTransaction() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int)")
            expectPostgresError("22012") {
                try conn.execute("INSERT INTO t VALUES (1); SELECT 1/0; INSERT INTO t VALUES (2)")
            }
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "0")
        }
    }

    @Test func queryWithParametersAndNull() throws {
        try withSchema { conn, _ in
            let rows = try conn.query("SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c, $4::text AS empty", ["x", nil, "41", ""])
            #expect(rows.columns == ["a", "b", "c", "empty"])
            #expect(rows.count == 1)
            #expect(rows[row: 0, column: "a"] == "x")
            #expect(rows[row: 0, column: "b"] == nil)
            #expect(rows[row: 0, column: 2] == "42")
            #expect(rows[row: 0, column: "empty"] == "")  // empty string is not NULL
            let row = try #require(rows.first { _ in true })
            #expect(row["c"] == "42")
            #expect(row[1] == nil)

            try conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
            let ins = try conn.query("INSERT INTO t VALUES ($1, $2), ($3, $4), ($5, NULL)", ["1", "a", "2", nil, "3"])
            #expect(ins.rowsAffected == 3)
            #expect(ins.commandTag == "INSERT 0 3")
            #expect(ins.count == 0)
            #expect(try conn.query("SELECT count(*) FROM t WHERE v IS NULL")[row: 0, column: 0] == "2")
            let upd = try conn.query("UPDATE t SET v = 'z' WHERE id > $1", ["1"])
            #expect(upd.rowsAffected == 2)
            #expect(try conn.query("SELECT true, false, 1.5::numeric, '2024-01-02'::date")
                .map { Array($0.values) }.first == ["t", "f", "1.5", "2024-01-02"])
        }
    }

    @Test func manyParameters() throws {
        try withSchema { conn, _ in
            let n = 2000
            let sql = "SELECT " + (1...n).map { "$\($0)::int" }.joined(separator: " + ")
            let rows = try conn.query(sql, (1...n).map { String($0) })
            #expect(rows[row: 0, column: 0] == String(n * (n + 1) / 2))
        }
    }

    @Test func unicodeRoundTrips() throws {
        try withSchema { conn, _ in
            let samples = [
                "héllo wörld", "日本語テキスト", "emoji 🎉👩‍👩‍👧‍👦🏳️‍🌈", "Ελληνικά", "עברית", "\u{200B}zero width",
                "combining e\u{301}", "quote ' and \" and \\ backslash", "tab\tnew\nline",
            ]
            try conn.execute("CREATE TABLE u (id int, s text)")
            for (i, s) in samples.enumerated() {
                _ = try conn.query("INSERT INTO u VALUES ($1, $2)", [String(i), s])
            }
            let rows = try conn.query("SELECT s, length(s) FROM u ORDER BY id")
            #expect(rows.map { $0[0] } == samples)
            for (i, s) in samples.enumerated() {
                #expect(rows[row: i, column: 1] == String(s.unicodeScalars.count))
            }
            // Literal in SQL text, too.
            #expect(try conn.query("SELECT 'ünïcödé 🎉' AS s")[row: 0, column: "s"] == "ünïcödé 🎉")
        }
    }

    @Test func nulCharactersAreRefusedAndConnectionStaysUsable() throws {
        try withSchema { conn, _ in
            expectPostgresError(nil) { _ = try conn.query("SELECT $1::text", ["a\u{0}b"]) }
            expectPostgresError(nil) { try conn.execute("SELECT 'a\u{0}b'") }
            let one = try conn.query("SELECT 1")[row: 0, column: 0]
            #expect(one == "1")
        }
    }

    @Test func zeroRows() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int, b text)")
            let rows = try conn.query("SELECT a, b FROM t WHERE a > $1", ["0"])
            #expect(rows.count == 0)
            #expect(rows.columns == ["a", "b"])
            #expect(rows.map { $0 }.isEmpty)
            #expect(rows.rowsAffected == 0)
        }
    }

    @Test func manyRows() throws {
        try withSchema { conn, _ in
            let rows = try conn.query("SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 100000) g")
            #expect(rows.count == 100_000)
            #expect(rows.rowsAffected == 100_000)
            #expect(rows[row: 99_999, column: "n"] == "100000")
            var sum = 0
            var iterated = 0
            for row in rows {
                sum += Int(row["n"]!)!
                iterated += 1
                if row["h"]?.utf8.count != 32 { Issue.record("bad md5 in row \(iterated)"); break }
            }
            #expect(iterated == 100_000)
            #expect(sum == 100_000 * 100_001 / 2)
        }
    }

    @Test func errorsCarrySQLState() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            _ = try conn.query("INSERT INTO t VALUES ($1)", ["1"])
            let dup = expectPostgresError("23505") { _ = try conn.query("INSERT INTO t VALUES ($1)", ["1"]) }
            #expect(dup?.message.contains("duplicate key") == true)
            #expect(dup?.detail?.contains("already exists") == true)
            #expect(dup.map { String(describing: $0).hasPrefix("PostgresError[23505]: ") } == true)
            expectPostgresError("23505") { try conn.execute("INSERT INTO t VALUES (1)") }
            expectPostgresError("42601") { _ = try conn.query("SELEC 1") }
            expectPostgresError("42601") { try conn.execute("SELECT 1; SELEC 2") }
            expectPostgresError("42P01") { _ = try conn.query("SELECT * FROM no_such_table") }
            expectPostgresError("22P02") { _ = try conn.query("SELECT $1::int", ["abc"]) }
            // The connection is fine afterwards.
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "1")
            #expect(!conn.inTransaction)
        }
    }

    @Test func copyThroughExecuteIsRefusedCleanly() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int)")
            expectPostgresError(nil) { try conn.execute("COPY t FROM STDIN") }
            expectPostgresError(nil) { _ = try conn.query("COPY t TO STDOUT") }
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "0")
        }
    }

    @Test func quoteIdentifierMakesAnyNameUsable() throws {
        #expect(quoteIdentifier("plain") == "\"plain\"")
        #expect(quoteIdentifier("we\"ird") == "\"we\"\"ird\"")
        try withSchema { conn, _ in
            let name = quoteIdentifier("We\"ird Tåble; DROP")
            try conn.execute("CREATE TABLE \(name) (\(quoteIdentifier("Col")) int)")
            _ = try conn.query("INSERT INTO \(name) VALUES ($1)", ["7"])
            #expect(try conn.query("SELECT \"Col\" FROM \(name)")[row: 0, column: "Col"] == "7")
        }
    }
}

// MARK: - Transactions

@Suite("PGConnection: transactions")
struct TransactionTests {
    @Test func commitIsVisibleElsewhere() throws {
        try withSchema { conn, schema in
            try conn.execute("CREATE TABLE t (a int)")
            let value = try conn.withTransaction { () throws -> Int in
                #expect(conn.inTransaction)
                _ = try conn.query("INSERT INTO t VALUES (1), (2)")
                return 7
            }
            #expect(value == 7)
            #expect(!conn.inTransaction)
            let other = try connect(toSchema: schema)
            defer { other.close() }
            #expect(try other.query("SELECT count(*) FROM t")[row: 0, column: 0] == "2")
        }
    }

    @Test func rollbackOnThrow() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int PRIMARY KEY)")
            expectBoom {
                try conn.withTransaction {
                    _ = try conn.query("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            #expect(!conn.inTransaction)
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "0")

            // A server error inside rolls back the earlier statements too.
            expectPostgresError("23505") {
                try conn.withTransaction {
                    _ = try conn.query("INSERT INTO t VALUES (5)")
                    _ = try conn.query("INSERT INTO t VALUES (5)")
                }
            }
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "0")
        }
    }

    @Test func swallowedErrorDoesNotPretendToCommit() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int)")
            let e = expectPostgresError(nil) {
                try conn.withTransaction {
                    _ = try conn.query("INSERT INTO t VALUES (1)")
                    _ = try? conn.query("SELECT 1/0")
                }
            }
            #expect(e?.message.contains("rolled back") == true)
            #expect(!conn.inTransaction)
            #expect(try conn.query("SELECT count(*) FROM t")[row: 0, column: 0] == "0")
        }
    }

    @Test func nestedTransactionsUseSavepoints() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE t (a int)")
            try conn.withTransaction {
                _ = try conn.query("INSERT INTO t VALUES (1)")
                expectBoom {
                    try conn.withTransaction {
                        _ = try conn.query("INSERT INTO t VALUES (2)")
                        throw Boom()
                    }
                }
                try conn.withTransaction {
                    _ = try conn.query("INSERT INTO t VALUES (3)")
                }
                #expect(conn.inTransaction)
            }
            #expect(try conn.query("SELECT array_agg(a ORDER BY a)::text FROM t")[row: 0, column: 0] == "{1,3}")
        }
    }
}

// MARK: - COPY

@Suite("PGConnection: copyIn")
struct CopyTests {
    static let awkward: [String?] = [
        "plain", "", nil, "tab\there", "new\nline", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", "\\",
        "trailing\\", "ünïcödé 日本語 🎉👩‍👩‍👧", "\u{1}ctrl\u{7F}", "  spaces  ", "a\tb\\tc\\nd\\\\e",
        "N", "NULL", "\\\\N", "\t", "\n", "\r", String(repeating: "long\t\\\n", count: 200),
    ]

    @Test func hundredThousandAwkwardRowsRoundTrip() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE c (id int PRIMARY KEY, a text, b text)")
            let n = 100_000
            let k = Self.awkward.count
            func row(_ i: Int) -> [String?] {
                let a = Self.awkward[i % k]
                let b = Self.awkward[(i * 7 + 3) % k].map { "\($0)#\(i)" }
                return [String(i), a, b]
            }
            let sent = try conn.copyIn("COPY c (id, a, b) FROM STDIN", rows: (0..<n).lazy.map(row))
            #expect(sent == n)
            let back = try conn.query("SELECT id, a, b FROM c ORDER BY id")
            #expect(back.count == n)
            var mismatches = 0
            for i in 0..<n {
                let expected = row(i)
                if back[row: i, column: 0] != expected[0] || back[row: i, column: 1] != expected[1] || back[row: i, column: 2] != expected[2] {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("row \(i): got \(String(describing: back[row: i, column: 1])), \(String(describing: back[row: i, column: 2])); expected \(String(describing: expected[1])), \(String(describing: expected[2]))")
                    }
                }
            }
            #expect(mismatches == 0)
            // NULL stays NULL and "\N" stays a string.
            #expect(try conn.query("SELECT count(*) FROM c WHERE a IS NULL")[row: 0, column: 0] == String((0..<n).filter { $0 % k == 2 }.count))
            #expect(try conn.query("SELECT count(*) FROM c WHERE a = '\\N'")[row: 0, column: 0] == String((0..<n).filter { $0 % k == 7 }.count))
        }
    }

    @Test func endOfDataLookalikeInSingleColumn() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE c (a text)")
            let rows: [[String?]] = [["\\."], ["."], ["\\"], [nil], [""], ["x"]]
            #expect(try conn.copyIn("COPY c FROM STDIN", rows: rows) == rows.count)
            #expect(try conn.query("SELECT a FROM c").map { $0[0] } == rows.map { $0[0] })
        }
    }

    @Test func millionNarrowRowsThroughput() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE UNLOGGED TABLE narrow (id int, v int)")
            let n = 1_000_000
            let clock = ContinuousClock()
            let start = clock.now
            let sent = try conn.copyIn("COPY narrow (id, v) FROM STDIN", rows: (0..<n).lazy.map { [String($0), String($0 % 97)] })
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("copyIn 1M narrow rows: \(Int(seconds * 1000)) ms, \(Int(Double(n) / seconds)) rows/s")
            #expect(sent == n)
            let check = try conn.query("SELECT count(*), sum(id)::text, sum(v) FROM narrow")
            #expect(check[row: 0, column: 0] == String(n))
            #expect(check[row: 0, column: 1] == String(n * (n - 1) / 2))
            #expect(check[row: 0, column: 2] == String((0..<n).reduce(0) { $0 + $1 % 97 }))
        }
    }

    @Test func failingCopyThrowsAndConnectionIsUsable() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE c (a int, b int)")
            let many = (0..<50_000).lazy.map { i -> [String?] in [String(i), String(i), "extra"] }
            let e = expectPostgresError("22P04") { _ = try conn.copyIn("COPY c FROM STDIN", rows: many) }
            print("wrong column count ->", e.map(String.init(describing:)) ?? "-")
            #expect(conn.isHealthy)
            #expect(!conn.inTransaction)
            #expect(try conn.query("SELECT count(*) FROM c")[row: 0, column: 0] == "0")

            expectPostgresError("22P04") { _ = try conn.copyIn("COPY c FROM STDIN", rows: [["1"]]) }
            expectPostgresError("22P02") { _ = try conn.copyIn("COPY c FROM STDIN", rows: [["1", "x"]]) }
            expectPostgresError("42P01") { _ = try conn.copyIn("COPY no_such_table FROM STDIN", rows: [["1"]]) }
            // PostgreSQL text holds no NUL: one in user input is stored as U+FFFD, never a failed COPY.
            try conn.execute("CREATE TABLE t (v text)")
            #expect(try conn.copyIn("COPY t FROM STDIN", rows: [["a\u{0}b"]]) == 1)
            #expect(try conn.query("SELECT v FROM t")[row: 0, column: 0] == "a\u{FFFD}b")
            // Ragged rows are refused by the client and the COPY is aborted.
            let ragged = expectPostgresError(nil) { _ = try conn.copyIn("COPY c FROM STDIN", rows: [["1", "2"], ["3"]]) }
            #expect(ragged?.message.contains("row 2") == true)
            expectPostgresError(nil) { _ = try conn.copyIn("SELECT 1", rows: [["1"]]) }
            expectPostgresError(nil) { _ = try conn.copyIn("COPY c TO STDOUT", rows: [["1"]]) }

            #expect(try conn.copyIn("COPY c FROM STDIN", rows: [[String?]]()) == 0)
            #expect(try conn.copyIn("COPY c FROM STDIN", rows: [["1", "2"], ["3", nil]]) == 2)
            #expect(try conn.query("SELECT count(*) FROM c")[row: 0, column: 0] == "2")
        }
    }

    @Test func copyInsideTransactionRollsBack() throws {
        try withSchema { conn, _ in
            try conn.execute("CREATE TABLE c (a int)")
            expectBoom {
                try conn.withTransaction {
                    _ = try conn.copyIn("COPY c FROM STDIN", rows: (0..<1000).map { [String($0)] })
                    throw Boom()
                }
            }
            #expect(try conn.query("SELECT count(*) FROM c")[row: 0, column: 0] == "0")
            try conn.withTransaction {
                _ = try conn.copyIn("COPY c FROM STDIN", rows: (0..<1000).map { [String($0)] })
            }
            #expect(try conn.query("SELECT count(*) FROM c")[row: 0, column: 0] == "1000")
        }
    }
}

// MARK: - Migrations

@Suite("Migrator")
struct MigratorTests {
    static let migrations = [
        Migration(version: 1, name: "create log", sql: """
            SELECT pg_sleep(0.2);
            CREATE TABLE migration_log (version int NOT NULL, at timestamptz DEFAULT clock_timestamp());
            INSERT INTO migration_log (version) VALUES (1);
            """),
        Migration(version: 2, name: "items", sql: """
            CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);
            INSERT INTO migration_log (version) VALUES (2);
            """),
        Migration(version: 3, name: "index", sql: """
            CREATE INDEX items_name ON items (name);
            INSERT INTO migration_log (version) VALUES (3);
            """),
    ]

    @Test func appliesOnceAndIsIdempotent() throws {
        try withSchema { conn, _ in
            // Out of order on purpose: applied in version order.
            #expect(try Migrator.migrate(conn, Self.migrations.reversed()) == [1, 2, 3])
            #expect(try Migrator.migrate(conn, Self.migrations) == [])
            let recorded = try conn.query("SELECT version, name, applied_at IS NOT NULL FROM schema_migrations ORDER BY version")
            #expect(recorded.map { Array($0.values) } == [["1", "create log", "t"], ["2", "items", "t"], ["3", "index", "t"]])
            #expect(try conn.query("SELECT count(*) FROM migration_log")[row: 0, column: 0] == "3")

            // A later version (and a lower one that was missing) are applied alone.
            let more = Self.migrations + [
                Migration(version: 5, name: "five", sql: "INSERT INTO migration_log (version) VALUES (5)"),
                Migration(version: 4, name: "four", sql: "INSERT INTO migration_log (version) VALUES (4)"),
            ]
            #expect(try Migrator.migrate(conn, more) == [4, 5])
            #expect(try Migrator.migrate(conn, more) == [])
            // The advisory lock was released.
            #expect(try conn.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")[row: 0, column: 0] == "0")
        }
    }

    @Test func failingMigrationRollsBackAndNamesTheVersion() throws {
        try withSchema { conn, _ in
            let bad = Self.migrations + [
                Migration(version: 4, name: "broken", sql: "INSERT INTO migration_log (version) VALUES (4); SELEC oops"),
                Migration(version: 5, name: "never", sql: "INSERT INTO migration_log (version) VALUES (5)"),
            ]
            let e = expectPostgresError("42601") { try Migrator.migrate(conn, bad) }
            #expect(e?.message.hasPrefix("migration 4 (broken) failed") == true)
            let versions = try conn.query("SELECT array_agg(version ORDER BY version)::text FROM schema_migrations")[row: 0, column: 0]
            #expect(versions == "{1,2,3}")
            #expect(try conn.query("SELECT array_agg(version ORDER BY version)::text FROM schema_migrations")[row: 0, column: 0] == "{1,2,3}")
            #expect(try conn.query("SELECT count(*) FROM migration_log")[row: 0, column: 0] == "3")
            #expect(!conn.inTransaction)
            #expect(try conn.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")[row: 0, column: 0] == "0")
        }
    }

    @Test func invalidListsAreRefused() throws {
        try withSchema { conn, _ in
            expectPostgresError(nil) {
                try Migrator.migrate(conn, [Migration(version: 1, name: "a", sql: "SELECT 1"), Migration(version: 1, name: "b", sql: "SELECT 1")])
            }
            expectPostgresError(nil) { try Migrator.migrate(conn, [Migration(version: 0, name: "zero", sql: "SELECT 1")]) }
            try conn.withTransaction {
                _ = expectPostgresError(nil) { try Migrator.migrate(conn, Self.migrations) }
            }
        }
    }

    @Test func concurrentRunnersApplyEachVersionOnce() throws {
        try withSchema { conn, schema in
            let results = [Slot<Result<[Int], Error>>(), Slot<Result<[Int], Error>>()]
            let url = try databaseURL()
            onThreads(results.map { slot in
                {
                    slot.value = Result {
                        let c = try PGConnection(url: url)
                        defer { c.close() }
                        try c.execute("SET search_path TO \(schema)")
                        return try Migrator.migrate(c, Self.migrations)
                    }
                }
            })
            var applied: [Int] = []
            for slot in results {
                switch slot.value {
                case .success(let versions)?: applied += versions
                case .failure(let error)?: Issue.record("a runner failed: \(error)")
                case nil: Issue.record("a runner did not finish")
                }
            }
            print("concurrent migrators applied:", results.map { (try? $0.value?.get()) ?? [] })
            #expect(applied.sorted() == [1, 2, 3])
            #expect(try conn.query("SELECT version, count(*) FROM migration_log GROUP BY version ORDER BY version")
                .map { Array($0.values) } == [["1", "1"], ["2", "1"], ["3", "1"]])
            #expect(try conn.query("SELECT count(*) FROM schema_migrations")[row: 0, column: 0] == "3")
        }
    }
}

// MARK: - Lifecycle

@Suite("PGConnection: lifecycle")
struct LifecycleTests {
    @Test func thousandConnectionsAndFailedInitsFreeCleanly() throws {
        let tag = "registrar_leak_\(UInt32.random(in: 0 ... .max))"
        let url = addingQuery("application_name=\(tag)", to: try databaseURL())
        for i in 0..<1000 {
            let c = try PGConnection(url: url)
            c.onNotice = { _ in }
            if i % 2 == 0 { c.close() }          // explicit close, then deinit
            if i % 4 == 0 { c.close() }          // close twice
            // odd i: deinit alone closes it
        }
        for _ in 0..<100 {
            // init throws after the handle exists: deinit must free it exactly once.
            #expect(throws: PostgresError.self) { _ = try PGConnection(url: "postgresql://x:pw@127.0.0.1:1/x") }
            #expect(throws: PostgresError.self) {
                _ = try PGConnection(url: replacingUserInfo(of: url, with: "registrar_no_such_role:pw"))
            }
        }
        // Every backend opened above is gone (PQfinish ran for each).
        let probe = try PGConnection(url: databaseURL())
        defer { probe.close() }
        var remaining = "?"
        for _ in 0..<50 {
            remaining = try probe.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [tag])[row: 0, column: 0] ?? "?"
            if remaining == "0" { break }
            usleep(100_000)
        }
        #expect(remaining == "0", "backends still open for \(tag)")
    }
}
