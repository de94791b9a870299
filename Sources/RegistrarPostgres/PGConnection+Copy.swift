import CLibpq

extension PGConnection {
    /// Bytes collected before each `PQputCopyData` call.
    public static let copyBufferSize = 256 * 1024

    /// Bulk-loads `rows` with `COPY … FROM STDIN` in PostgreSQL's text format.
    ///
    /// `copySQL` must be a `COPY table [(columns)] FROM STDIN` statement with the default text
    /// format (no `CSV`/`BINARY`, default delimiter and NULL string). Each row must hold one
    /// value per copied column; `nil` is SQL NULL (sent as `\N`), backslash, tab, newline and
    /// carriage return are escaped, everything else is sent as UTF-8. Data goes out in buffers of
    /// about `copyBufferSize` bytes.
    ///
    /// All rows are streamed before the server's verdict is read: if the server rejects a row
    /// (wrong column count, bad value, constraint violation) the COPY fails as a whole, nothing
    /// is inserted, the remaining rows are still sent (and discarded by the server), and this
    /// method throws the server's error (`22P04` bad copy format, `22P02` invalid input,
    /// `23505` unique violation, …). Rows whose value count differs from the first row's are
    /// refused on the client: the COPY is aborted and nothing is inserted. In every case the
    /// connection is usable afterwards (libpq's results are drained until `PQgetResult` returns
    /// NULL).
    ///
    /// Inside `withTransaction` the COPY is part of the transaction; otherwise it commits on its
    /// own.
    ///
    /// - Returns: the number of rows sent (equal to the rows inserted on success).
    /// - Note: `copySQL` is executed before the method can tell it is not a `COPY FROM STDIN`;
    ///   pass only COPY statements.
    public func copyIn(_ copySQL: String, rows: some Sequence<[String?]>) throws -> Int {
        let conn = try live()
        try Self.refuseNUL(copySQL, what: "SQL text")
        guard let start = copySQL.withCString({ PQexec(conn, $0) }) else {
            throw PostgresError(message: errorText(conn))
        }
        let status = PQresultStatus(start)
        guard status == PGRES_COPY_IN else {
            defer { PQclear(start) }
            switch status {
            case PGRES_COPY_OUT, PGRES_COPY_BOTH:
                abortCopy(conn)
                throw PostgresError(message: "copyIn needs COPY … FROM STDIN, got a COPY TO")
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                throw PostgresError(message: "copyIn needs COPY … FROM STDIN, got another kind of statement")
            default:
                throw error(from: start, conn)
            }
        }
        PQclear(start)

        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.copyBufferSize + 64 * 1024)
        var sent = 0
        var width = -1
        var refusal: PostgresError?
        var sendFailed = false

        for row in rows {
            if width < 0 {
                width = row.count
                if width == 0 {
                    refusal = PostgresError(message: "copyIn: rows must hold at least one value")
                    break
                }
            } else if row.count != width {
                refusal = PostgresError(message: "copyIn: row \(sent + 1) has \(row.count) values, but the first row has \(width)")
                break
            }
            Self.appendCopyRow(row, to: &buffer)
            sent += 1
            if buffer.count >= Self.copyBufferSize {
                if !Self.putCopyData(buffer, conn) { sendFailed = true; break }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if refusal == nil, !sendFailed, !buffer.isEmpty {
            if !Self.putCopyData(buffer, conn) { sendFailed = true }
        }

        // End the COPY: with an error message if we refused a row (the server then aborts it
        // and answers with an error we replace with our own, clearer one).
        let endRC: Int32
        if let refusal {
            endRC = refusal.message.withCString { PQputCopyEnd(conn, $0) }
        } else {
            endRC = PQputCopyEnd(conn, nil)
        }
        // Required: PQgetResult until NULL, or the connection stays busy.
        let serverError = drainResults(conn, abortMessage: refusal?.message)
        if let refusal { throw refusal }
        if let serverError { throw serverError }
        if sendFailed || endRC != 1 {
            throw PostgresError(message: "COPY failed: " + errorText(conn))
        }
        return sent
    }

    /// Sends `bytes` with PQputCopyData (blocking mode: 1 = queued, -1 = failure).
    private static func putCopyData(_ bytes: [UInt8], _ conn: OpaquePointer) -> Bool {
        bytes.withUnsafeBufferPointer { buf in
            var offset = 0
            while offset < buf.count {
                let n = min(buf.count - offset, 1 << 30)
                let p = UnsafeRawPointer(buf.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
                if PQputCopyData(conn, p, Int32(n)) != 1 { return false }
                offset += n
            }
            return true
        }
    }

    /// Appends one row in COPY text format: values separated by tab, row ended by newline,
    /// `\N` for NULL, and `\\`, `\t`, `\n`, `\r` for the bytes that would otherwise end a value
    /// or a row. PostgreSQL text cannot hold a NUL character at all: one arriving in user input
    /// (a manifest can spell it `\u0000`) is stored as U+FFFD, never refused mid-transaction.
    @inline(__always)
    static func appendCopyRow(_ row: [String?], to buffer: inout [UInt8]) {
        var first = true
        for value in row {
            if !first { buffer.append(0x09) }
            first = false
            guard var value else {
                buffer.append(0x5C)  // backslash
                buffer.append(0x4E)  // N
                continue
            }
            value.withUTF8 { utf8 in
                var plain = true
                for b in utf8 where b == 0x5C || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x00 {
                    plain = false
                    break
                }
                if plain {
                    buffer.append(contentsOf: utf8)
                    return
                }
                for b in utf8 {
                    switch b {
                    case 0x5C: buffer.append(0x5C); buffer.append(0x5C)  // \\ (backslash)
                    case 0x09: buffer.append(0x5C); buffer.append(0x74)  // \t
                    case 0x0A: buffer.append(0x5C); buffer.append(0x6E)  // \n
                    case 0x0D: buffer.append(0x5C); buffer.append(0x72)  // \r
                    case 0x00: buffer.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                    default: buffer.append(b)
                    }
                }
            }
        }
        buffer.append(0x0A)
    }
}
