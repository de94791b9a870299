import CLibpq

/// The result of `PGConnection.query`: every value already copied out of libpq (the
/// `PGresult` is cleared before `query` returns), so a `PGRows` is an ordinary value that can be
/// kept, shared and sent anywhere.
///
/// Values are PostgreSQL's text format (`t`/`f` for booleans, ISO dates, …); `nil` is SQL NULL.
/// Indexes out of range and unknown column names trap, like array indexes.
///
///     let rows = try conn.query("SELECT id, name FROM items WHERE folder = $1", [folder])
///     rows[row: 0, column: 1]          // by position
///     rows[row: 0, column: "name"]     // by name
///     for row in rows { row["id"]; row[1] }
public struct PGRows: Sequence, Sendable {
    /// Column names in result order.
    public let columns: [String]
    /// Number of rows.
    public var count: Int { rowCount }
    /// Rows affected by an INSERT/UPDATE/DELETE/MERGE/COPY (`PQcmdTuples`), or the number of
    /// rows returned by a SELECT; 0 when the command reports none.
    public let rowsAffected: Int
    /// The command tag, e.g. `INSERT 0 3`, `SELECT 2`, `UPDATE 0`.
    public let commandTag: String

    private let rowCount: Int
    /// Row-major values: row r, column c is at `r * columns.count + c`.
    private let values: [String?]

    init(result res: OpaquePointer) {
        let nrows = Int(PQntuples(res))
        let ncols = Int(PQnfields(res))
        var names: [String] = []
        names.reserveCapacity(ncols)
        for c in 0..<ncols {
            names.append(PQfname(res, Int32(c)).map { String(cString: $0) } ?? "")
        }
        var values: [String?] = []
        values.reserveCapacity(nrows * ncols)
        for r in 0..<Int32(nrows) {
            for c in 0..<Int32(ncols) {
                if PQgetisnull(res, r, c) != 0 {
                    values.append(nil)
                } else {
                    let len = Int(PQgetlength(res, r, c))
                    let raw = UnsafeRawPointer(PQgetvalue(res, r, c)!)
                    let bytes = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: UInt8.self), count: len)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        self.columns = names
        self.rowCount = nrows
        self.values = values
        self.commandTag = PQcmdStatus(res).map { String(cString: $0) } ?? ""
        self.rowsAffected = PQcmdTuples(res).flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// Index of the first column called `name`, or `nil`.
    public func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }

    /// The value at `row`, `column` (0-based); `nil` is SQL NULL.
    public subscript(row row: Int, column column: Int) -> String? {
        precondition(row >= 0 && row < rowCount, "row \(row) out of range 0..<\(rowCount)")
        precondition(column >= 0 && column < columns.count, "column \(column) out of range 0..<\(columns.count)")
        return values[row * columns.count + column]
    }

    /// The value at `row` in the first column called `name`; `nil` is SQL NULL. Traps if there
    /// is no such column.
    public subscript(row row: Int, column name: String) -> String? {
        guard let c = columnIndex(name) else {
            preconditionFailure("no column named \"\(name)\" in result (columns: \(columns))")
        }
        return self[row: row, column: c]
    }

    /// The row at `index`.
    public subscript(index: Int) -> PGRow {
        precondition(index >= 0 && index < rowCount, "row \(index) out of range 0..<\(rowCount)")
        let w = columns.count
        return PGRow(columns: columns, values: values[(index * w)..<((index + 1) * w)])
    }

    public var underestimatedCount: Int { rowCount }

    public func makeIterator() -> Iterator { Iterator(rows: self) }

    public struct Iterator: IteratorProtocol {
        let rows: PGRows
        var position = 0
        public mutating func next() -> PGRow? {
            guard position < rows.rowCount else { return nil }
            defer { position += 1 }
            return rows[position]
        }
    }
}

/// One row of a `PGRows`.
public struct PGRow: Sendable {
    /// Column names in result order (shared with the `PGRows`).
    public let columns: [String]
    /// The row's values in column order; `nil` is SQL NULL.
    public let values: ArraySlice<String?>

    /// The value of column `index` (0-based); `nil` is SQL NULL.
    public subscript(index: Int) -> String? {
        precondition(index >= 0 && index < columns.count, "column \(index) out of range 0..<\(columns.count)")
        return values[values.startIndex + index]
    }

    /// The value of the first column called `name`; `nil` is SQL NULL. Traps if there is no
    /// such column.
    public subscript(name: String) -> String? {
        guard let c = columns.firstIndex(of: name) else {
            preconditionFailure("no column named \"\(name)\" in row (columns: \(columns))")
        }
        return self[c]
    }
}
