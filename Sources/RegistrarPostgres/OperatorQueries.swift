import RegistrarRuntime

/// Read-only questions operators' commands ask the store (`migrate --check`, `progress rebuild --all`).
extension PostgresRegistry {
    /// Schema versions of `Schema.migrations` not applied yet (empty: current). Changes nothing.
    public func pendingMigrations() throws -> [Int] {
        try Migrator.pending(connection, Schema.migrations)
    }

    /// Jobs whose live progress the tracker may hold: every running job and every job that
    /// finished within `days` (the tracker's keys live a week), oldest first.
    public func trackedJobIDs(days: Int = 7) throws -> [String] {
        let rows = try connection.query("""
            SELECT id FROM upload_jobs
            WHERE status = 'PENDING' OR finished_at > now() - make_interval(days => $1::int)
            ORDER BY created_at
            """, [String(days)])
        return (0..<rows.count).map { rows[$0, 0]! }
    }
}
