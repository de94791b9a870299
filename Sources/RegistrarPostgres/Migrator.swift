/// One schema migration: plain SQL supplied by the caller, identified by `version`.
///
/// `sql` may hold several statements; it runs inside a transaction, so it must not contain
/// its own BEGIN/COMMIT nor statements that refuse transactions (`CREATE INDEX CONCURRENTLY`,
/// `VACUUM`, `ALTER TYPE … ADD VALUE` before PostgreSQL 12).
public struct Migration: Sendable {
    /// Positive, unique, fits in a PostgreSQL `integer`. Applied in ascending order.
    public var version: Int
    /// Recorded in `schema_migrations.name`, for humans.
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies `Migration`s once each, recording them in
/// `schema_migrations(version int primary key, name text, applied_at timestamptz default now())`.
///
/// - Versioned and idempotent: a version present in `schema_migrations` is never run again;
///   running the same list twice applies nothing the second time. Versions missing in the
///   table are applied in ascending order, also ones lower than already-applied versions.
/// - Atomic per migration: each one runs with its `schema_migrations` row in its own
///   transaction; if it fails, it is rolled back, later ones are not attempted, earlier ones
///   stay applied, and the error names the version.
/// - Safe under concurrency: the whole run holds the session advisory lock
///   `pg_advisory_lock(Migrator.advisoryLockKey)`, so concurrent runners (several pods starting
///   at once) apply each version exactly once; the others wait and then find nothing to do.
///
/// `schema_migrations` is referenced unqualified, so it lives in the first schema of the
/// connection's `search_path` (tests use this to isolate themselves). The advisory lock is
/// database-wide: runs for different schemas of one database serialise too.
public enum Migrator {
    /// The advisory lock key held while migrating ("Registra" in ASCII).
    public static let advisoryLockKey: Int64 = 0x5265_6769_7374_7261

    /// The versions of `migrations` not recorded in `schema_migrations`, ascending (all of them
    /// on an empty database). Read-only: takes no lock and creates nothing.
    public static func pending(_ conn: PGConnection, _ migrations: [Migration]) throws -> [Int] {
        let exists = try conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        var done = Set<Int>()
        if exists[row: 0, column: 0] == "t" {
            for row in try conn.query("SELECT version FROM schema_migrations") {
                if let v = row[0].flatMap({ Int($0) }) { done.insert(v) }
            }
        }
        return migrations.map(\.version).filter { !done.contains($0) }.sorted()
    }

    /// Applies the migrations of `migrations` not yet recorded, in version order.
    ///
    /// - Parameter conn: a connection with no open transaction; used by this thread only for the
    ///   duration of the call.
    /// - Returns: the versions applied by this call, ascending (empty when up to date).
    /// - Throws: `PostgresError` for duplicate or out-of-range versions (before touching the
    ///   database), or when a migration fails (message prefixed with its version and name,
    ///   SQLSTATE of the failing statement kept).
    @discardableResult
    public static func migrate(_ conn: PGConnection, _ migrations: [Migration]) throws -> [Int] {
        let ordered = migrations.sorted { $0.version < $1.version }
        for (i, m) in ordered.enumerated() {
            guard m.version > 0, m.version <= Int(Int32.max) else {
                throw PostgresError(message: "migration \(m.version) (\(m.name)): version must be in 1...\(Int32.max)")
            }
            if i > 0, ordered[i - 1].version == m.version {
                throw PostgresError(message: "migration version \(m.version) is used twice (\(ordered[i - 1].name), \(m.name))")
            }
        }
        guard !conn.inTransaction else {
            throw PostgresError(message: "Migrator.migrate needs a connection outside any transaction")
        }

        _ = try conn.query("SELECT pg_advisory_lock(\(advisoryLockKey))")
        defer {
            // If the connection broke, the session (and its lock) is gone anyway.
            _ = try? conn.query("SELECT pg_advisory_unlock(\(advisoryLockKey))")
        }

        try conn.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var done = Set<Int>()
        for row in try conn.query("SELECT version FROM schema_migrations") {
            if let v = row[0].flatMap({ Int($0) }) { done.insert(v) }
        }

        var applied: [Int] = []
        for m in ordered where !done.contains(m.version) {
            do {
                try conn.withTransaction {
                    try conn.execute(m.sql)
                    _ = try conn.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [String(m.version), m.name]
                    )
                }
            } catch let e as PostgresError {
                throw PostgresError(
                    sqlState: e.sqlState,
                    message: "migration \(m.version) (\(m.name)) failed: \(e.message)",
                    detail: e.detail
                )
            }
            applied.append(m.version)
        }
        return applied
    }
}
