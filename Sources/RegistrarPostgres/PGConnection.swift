import CLibpq

/// One PostgreSQL connection over libpq: synchronous and blocking.
///
/// **Threading contract.** A `PGConnection` is *not* thread-safe. Exactly one thread may use it
/// at a time, and the caller guarantees that (typically: a connection is created on, and owned
/// by, one worker thread; or it is checked out of a pool by one thread at a time). Handing a
/// connection over to another thread between calls is fine: libpq is thread-safe for distinct
/// connections and keeps no thread-local state for a connection. Every call blocks its thread
/// until the server answers — never call it from a Swift-concurrency executor thread without
/// moving the work off the cooperative pool first.
///
/// The class is `@unchecked Sendable` only so that ownership can be moved between threads (a
/// pool, a dedicated I/O thread); the compiler cannot check the one-user-at-a-time rule above.
///
/// **Connection string.** `init(url:)` takes a libpq connection URI
/// (`postgresql://user:pass@host:port/db?sslmode=disable&...`) or a key/value conninfo string.
/// Defaults added unless the string sets them: `connect_timeout=10`,
/// `application_name=registrar` (via libpq's `fallback_application_name`). The client encoding
/// is always forced to UTF-8, because Swift strings are UTF-8.
///
/// **Notices** (`RAISE NOTICE`, "there is no transaction in progress", …) never reach stderr:
/// they go to `onNotice` when set, and are dropped otherwise. A notice sent by the server during
/// the initial handshake (before the processor is installed) would still use libpq's default.
///
/// **Errors** are `PostgresError`; their text never contains the password of the connection
/// string.
public final class PGConnection: @unchecked Sendable {
    /// The libpq handle; `nil` once closed. `deinit` owns the final `PQfinish`.
    private var handle: OpaquePointer?
    private let scrubber: SecretScrubber
    private var savepointCounter = 0

    /// Receives server notices (text as formatted by libpq, with a trailing newline), called on
    /// the thread that is using the connection, inside the call that received the notice.
    /// `nil` (the default) drops notices.
    public var onNotice: ((String) -> Void)?

    /// Opens a connection and waits until it is ready (or fails).
    ///
    /// - Parameter url: a libpq connection URI (`postgresql://user:pass@host:port/db?...`) or
    ///   key/value conninfo string.
    /// - Throws: `PostgresError` (with `sqlState == nil`) when the server is unreachable,
    ///   authentication fails or the string is malformed. The message is libpq's, with the
    ///   password removed.
    public init(url: String) throws {
        scrubber = SecretScrubber(conninfo: url)
        onNotice = nil
        // Array entries before the expanded "dbname" are defaults the URL may override; entries
        // after it override the URL (libpq: "the last value that is not NULL or empty wins").
        let keywords = ["connect_timeout", "dbname", "fallback_application_name", "client_encoding"]
        let values = ["10", url, "registrar", "UTF8"]
        handle = Self.withCStringArray(keywords) { k in
            Self.withCStringArray(values) { v in
                PQconnectdbParams(k, v, 1)
            }
        }
        // From here on every stored property is initialised, so if this initialiser throws,
        // `deinit` runs and calls PQfinish. Do not free the handle here (double free).
        guard let conn = handle else {
            throw PostgresError(message: "could not connect to PostgreSQL: libpq could not allocate a connection")
        }
        installNoticeProcessor(conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(message: "could not connect to PostgreSQL: " + errorText(conn))
        }
    }

    deinit {
        if let conn = handle {
            PQsetNoticeProcessor(conn, dropNotice, nil)
            PQfinish(conn)
        }
    }

    /// Closes the connection. Later calls throw; calling `close()` again does nothing.
    public func close() {
        guard let conn = handle else { return }
        handle = nil
        PQsetNoticeProcessor(conn, dropNotice, nil)
        PQfinish(conn)
    }

    /// `true` while libpq considers the connection good (`PQstatus == CONNECTION_OK`).
    ///
    /// libpq notices a connection the server dropped only when it next talks to it: after a
    /// failed call this turns `false`, and `reset()` reconnects. `false` after `close()`.
    public var isHealthy: Bool {
        guard let conn = handle else { return false }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// Closes the underlying socket and reconnects with the same parameters (`PQreset`).
    /// Session state (search_path set with SET, prepared statements, advisory locks, temp
    /// tables) is lost; the notice handler is kept.
    public func reset() throws {
        let conn = try live()
        PQreset(conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(message: "could not reconnect to PostgreSQL: " + errorText(conn))
        }
    }

    /// Runs `sql` with the simple query protocol (`PQexec`). The text may hold several
    /// statements separated by `;`; unless it contains its own BEGIN/COMMIT they run in one
    /// implicit transaction, so an error in any of them rolls back all of them. Results of
    /// queries are discarded; use `query` to read rows. No parameters: never interpolate
    /// untrusted values into `sql` (use `query(_:_:)` or `quoteIdentifier`).
    ///
    /// - Throws: `PostgresError` carrying the SQLSTATE of the failing statement. A `COPY`
    ///   statement is refused (use `copyIn`).
    public func execute(_ sql: String) throws {
        let conn = try live()
        try Self.refuseNUL(sql, what: "SQL text")
        let res = sql.withCString { PQexec(conn, $0) }
        defer { PQclear(res) }
        _ = try check(res, conn)
    }

    /// Runs one statement with the extended protocol (`PQexecParams`), parameters `$1…$n` sent
    /// out of band in text format (`nil` is SQL NULL), and copies the whole result out of libpq.
    /// Parameter types are inferred by the server; cast in SQL where ambiguous (`$1::int`).
    ///
    /// - Throws: `PostgresError`, with the server's SQLSTATE for server-side errors. Parameters
    ///   containing a NUL character are refused before sending (PostgreSQL text cannot hold it).
    public func query(_ sql: String, _ params: [String?] = []) throws -> PGRows {
        let conn = try live()
        try Self.refuseNUL(sql, what: "SQL text")
        guard params.count <= Int(Int16.max) * 2 + 1 else {
            throw PostgresError(message: "too many parameters (\(params.count)); the protocol allows 65535")
        }
        var cParams: [UnsafePointer<CChar>?] = []
        cParams.reserveCapacity(params.count)
        defer { for p in cParams { p?.deallocate() } }
        for (i, p) in params.enumerated() {
            guard let p else { cParams.append(nil); continue }
            try Self.refuseNUL(p, what: "parameter $\(i + 1)")
            cParams.append(Self.copyCString(p))
        }
        let res = sql.withCString { csql in
            cParams.withUnsafeBufferPointer { values in
                PQexecParams(conn, csql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        defer { PQclear(res) }
        let ok = try check(res, conn)
        return PGRows(result: ok)
    }

    /// Runs `body` inside a transaction: `BEGIN`, then `COMMIT` if `body` returns, `ROLLBACK`
    /// (and rethrow) if it throws.
    ///
    /// Nested calls (when a transaction is already open on this connection) use a savepoint,
    /// so an inner failure rolls back only the inner work.
    ///
    /// If a statement inside `body` failed but `body` swallowed the error, PostgreSQL answers
    /// `COMMIT` with `ROLLBACK`; this method then throws instead of pretending the work was
    /// committed.
    public func withTransaction<T>(_ body: () throws -> T) throws -> T {
        let conn = try live()
        let nested = PQtransactionStatus(conn) != PQTRANS_IDLE
        var savepoint = ""
        if nested {
            savepointCounter += 1
            savepoint = "registrar_sp_\(savepointCounter)"
            try execute("SAVEPOINT \(savepoint)")
        } else {
            try execute("BEGIN")
        }
        let value: T
        do {
            value = try body()
        } catch {
            if nested {
                try? execute("ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
            } else {
                try? execute("ROLLBACK")
            }
            throw error
        }
        if nested {
            try execute("RELEASE SAVEPOINT \(savepoint)")
        } else {
            let tag = try commandTag(of: "COMMIT")
            if tag == "ROLLBACK" {
                throw PostgresError(message: "transaction was rolled back: a statement inside it failed and COMMIT returned ROLLBACK")
            }
        }
        return value
    }

    /// `true` when a transaction block is open (also when it is in a failed state).
    public var inTransaction: Bool {
        guard let conn = handle else { return false }
        let s = PQtransactionStatus(conn)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE
    }

    // MARK: - Internals shared with the COPY and migration code

    /// The live handle, or an error if the connection was closed.
    func live() throws -> OpaquePointer {
        guard let conn = handle else {
            throw PostgresError(message: "connection is closed")
        }
        return conn
    }

    /// libpq's current error message for the connection, trimmed and scrubbed of the password.
    func errorText(_ conn: OpaquePointer) -> String {
        let raw = PQerrorMessage(conn).map { String(cString: $0) } ?? ""
        let text = scrubber.scrub(Self.trimmed(raw))
        return text.isEmpty ? "unknown libpq error" : text
    }

    /// Builds a `PostgresError` from a failed result.
    func error(from res: OpaquePointer, _ conn: OpaquePointer) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(res, Int32(code)).map { String(cString: $0) }
        }
        let sqlState = field(UInt8(ascii: "C"))   // PG_DIAG_SQLSTATE
        var message = field(UInt8(ascii: "M"))     // PG_DIAG_MESSAGE_PRIMARY
        if message == nil || message!.isEmpty {
            message = PQresultErrorMessage(res).map { Self.trimmed(String(cString: $0)) }
        }
        if message == nil || message!.isEmpty { message = errorText(conn) }
        return PostgresError(
            sqlState: sqlState,
            message: scrubber.scrub(message!),
            detail: field(UInt8(ascii: "D")).map { scrubber.scrub($0) }   // PG_DIAG_MESSAGE_DETAIL
        )
    }

    /// Throws for anything but a successful command or row set; leaves `res` to the caller to
    /// clear. A COPY state reached through `execute`/`query` is cleanly aborted first.
    @discardableResult
    func check(_ res: OpaquePointer?, _ conn: OpaquePointer) throws -> OpaquePointer {
        guard let res else {
            throw PostgresError(message: errorText(conn))
        }
        switch PQresultStatus(res) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return res
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abortCopy(conn)
            throw PostgresError(message: "COPY is not supported by execute/query; use copyIn")
        default:
            throw error(from: res, conn)
        }
    }

    /// Gets the connection out of a COPY state and consumes every pending result.
    func abortCopy(_ conn: OpaquePointer) {
        drainResults(conn, abortMessage: "aborted by client")
    }

    /// Calls `PQgetResult` until it returns NULL (required after `PQputCopyEnd` and after any
    /// COPY), ending or draining a COPY the server is still in. Returns the first failed
    /// result's error, if any.
    @discardableResult
    func drainResults(_ conn: OpaquePointer, abortMessage: String?) -> PostgresError? {
        var firstError: PostgresError?
        var copyEnds = 0
        while let r = PQgetResult(conn) {
            defer { PQclear(r) }
            switch PQresultStatus(r) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
                break
            case PGRES_COPY_IN, PGRES_COPY_BOTH:
                // Still in COPY IN: end it with an error so the server aborts the COPY.
                copyEnds += 1
                let rc = (abortMessage ?? "aborted by client").withCString { PQputCopyEnd(conn, $0) }
                if rc != 1 || copyEnds > 3 {
                    if firstError == nil { firstError = PostgresError(message: errorText(conn)) }
                    return firstError
                }
            case PGRES_COPY_OUT:
                var buf: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(conn, &buf, 0) > 0 {
                    PQfreemem(buf)
                    buf = nil
                }
            default:
                if firstError == nil { firstError = error(from: r, conn) }
            }
        }
        return firstError
    }

    /// Runs a parameterless statement and returns its command tag (`PQcmdStatus`).
    private func commandTag(of sql: String) throws -> String {
        let conn = try live()
        let res = sql.withCString { PQexec(conn, $0) }
        defer { PQclear(res) }
        let ok = try check(res, conn)
        return PQcmdStatus(ok).map { String(cString: $0) } ?? ""
    }

    private func installNoticeProcessor(_ conn: OpaquePointer) {
        // C callbacks cannot capture: pass self (unretained; the connection outlives its handle,
        // and the processor is swapped for `dropNotice` before PQfinish).
        PQsetNoticeProcessor(conn, { arg, message in
            guard let arg, let message else { return }
            let me = Unmanaged<PGConnection>.fromOpaque(arg).takeUnretainedValue()
            me.onNotice?(String(cString: message))
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    static func refuseNUL(_ s: String, what: String) throws {
        if s.utf8.contains(0) {
            throw PostgresError(message: "\(what) contains a NUL character, which PostgreSQL text cannot hold")
        }
    }

    private static func trimmed(_ s: String) -> String {
        var scalars = Substring(s)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    private static func copyCString(_ s: String) -> UnsafePointer<CChar> {
        let utf8 = s.utf8
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        var i = 0
        for b in utf8 { p[i] = CChar(bitPattern: b); i += 1 }
        p[i] = 0
        return UnsafePointer(p)
    }

    private static func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var ptrs: [UnsafePointer<CChar>?] = strings.map { copyCString($0) }
        ptrs.append(nil)
        defer { for p in ptrs { p?.deallocate() } }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Notice processor used while a connection is being torn down: drops everything.
private func dropNotice(_ arg: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?) {}

/// Quotes `identifier` as a PostgreSQL identifier: wraps it in double quotes and doubles any
/// double quote inside (what `PQescapeIdentifier` does for a UTF-8 client encoding, without
/// needing a connection). `quoteIdentifier("my \"table\"")` → `"my ""table"""`. The result is
/// case-sensitive as written. A NUL character cannot be quoted; SQL containing one is refused
/// by `execute`/`query`.
public func quoteIdentifier(_ identifier: String) -> String {
    var out = "\""
    out.reserveCapacity(identifier.utf8.count + 2)
    for ch in identifier.unicodeScalars {
        if ch == "\"" { out.append("\"\"") } else { out.unicodeScalars.append(ch) }
    }
    out.append("\"")
    return out
}
