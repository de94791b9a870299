import RegistrarCore
import RegistrarRuntime

/// The tenant-scoped queries behind the HTTP API (`UploadStore`, `DeploymentHealth`; tenants
/// and keys in `+Tenants`, integrations in `IntegrationStore.swift`). Every one takes the tenant
/// id and filters on it, so another tenant's object is "not found", never "forbidden".
extension PostgresRegistry: UploadStore, TenancyStore, IntegrationRecords, DeploymentHealth {
    public var jobStore: any JobStore { jobs }

    public func createUpload(_ upload: NewUpload, manifest: inout some ByteSource) throws -> String {
        try createJob(folderID: upload.folderID, fileName: upload.fileName, format: upload.format, ignoreErrors: upload.ignoreErrors,
                      manifest: &manifest, tenantID: upload.tenantID, integrationID: upload.integrationID)
    }

    // MARK: Folders

    /// `fileCount`, `totalSize` and `byType` count the files the folder holds now: a synced
    /// file whose object vanished (tombstoned) is not among them. `files` splits them by state
    /// (docs/sync.md): `verified` (registered — a registration verifies before it writes — or probed), `unverified` (listed, not probed yet),
    /// `failed` (its probe failed), and `tombstoned` (kept, but not counted in `fileCount`).
    static let folderJSON = """
        json_build_object('id', f.id, 'name', f.name, 'createdAt', \(SQLTime.iso("f.created_at")),
            'fileCount', (SELECT count(*) FROM files x WHERE x.folder_id = f.id AND x.tombstoned_at IS NULL),
            'totalSize', (SELECT coalesce(sum(size), 0) FROM files x WHERE x.folder_id = f.id AND x.tombstoned_at IS NULL),
            'byType', (SELECT coalesce(json_object_agg(type, n), '{}'::json)
                       FROM (SELECT type, count(*) AS n FROM files x WHERE x.folder_id = f.id AND x.tombstoned_at IS NULL GROUP BY type) t),
            'files', (SELECT json_build_object(
                          'verified', count(*) FILTER (WHERE (x.sync_key IS NULL OR x.verified_at IS NOT NULL) AND x.tombstoned_at IS NULL),
                          'unverified', count(*) FILTER (WHERE x.sync_key IS NOT NULL AND x.verified_at IS NULL AND x.probe_error IS NULL AND x.tombstoned_at IS NULL),
                          'failed', count(*) FILTER (WHERE x.sync_key IS NOT NULL AND x.verified_at IS NULL AND x.probe_error IS NOT NULL AND x.tombstoned_at IS NULL),
                          'tombstoned', count(*) FILTER (WHERE x.tombstoned_at IS NOT NULL))
                      FROM files x WHERE x.folder_id = f.id))::text
        """

    /// Creates a folder; `PortError.conflict` when the tenant has one of that name.
    public func createFolder(tenantID: String, name: String) throws -> String {
        let rows = try connection.query("""
            WITH f AS (INSERT INTO folders (tenant_id, name) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING *)
            SELECT \(Self.folderJSON) FROM f
            """, [tenantID, name])
        guard rows.count == 1 else { throw PortError.conflict("a folder named \(name) exists already") }
        return rows[0, 0]!
    }

    public func folder(tenantID: String, id: String) throws -> String? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT \(Self.folderJSON) FROM folders f WHERE f.id = $2::uuid AND f.tenant_id = $1",
                                        [tenantID, id])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    public func folderNames(tenantID: String, limit: Int) throws -> [(id: String, name: String)] {
        let rows = try connection.query("SELECT id::text, name FROM folders WHERE tenant_id = $1 ORDER BY name LIMIT $2",
                                        [tenantID, String(limit)])
        return (0..<rows.count).map { (rows[$0, 0]!, rows[$0, 1]!) }
    }

    /// The tenant's folder id for a name, creating the folder if needed.
    public func ensureFolder(tenantID: String, name: String) throws -> String {
        try connection.query("""
            INSERT INTO folders (tenant_id, name) VALUES ($1, $2)
            ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id
            """, [tenantID, name])[0, 0]!
    }

    /// Folders by name, paged (the cursor is the last name).
    public func folders(tenantID: String, after: String?, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT f.name, \(Self.folderJSON) FROM folders f
            WHERE f.tenant_id = $1 AND ($2::text IS NULL OR f.name > $2) ORDER BY f.name LIMIT $3
            """, [tenantID, after, String(limit + 1)])
        return page(rows, limit: limit, cursorColumn: 0, jsonColumn: 1)
    }

    /// Deletes an empty folder (no files, no running job) with its finished jobs' records.
    public func deleteFolder(tenantID: String, id: String) throws -> FolderDeleteOutcome {
        guard UUIDText.isValid(id) else { return .notFound }
        return try connection.withTransaction {
            let rows = try connection.query("""
                SELECT (SELECT count(*) FROM files WHERE folder_id = f.id),
                       (SELECT count(*) FROM upload_jobs WHERE folder_id = f.id AND status = 'PENDING')
                FROM folders f WHERE f.id = $2::uuid AND f.tenant_id = $1 FOR UPDATE
                """, [tenantID, id])
            guard rows.count == 1 else { return .notFound }
            let holders = try connection.query("""
                SELECT id::text FROM datasets WHERE mirrored_folder_id = $1::uuid
                UNION SELECT DISTINCT m.dataset_id::text FROM files f JOIN dataset_files m ON m.file_id = f.id WHERE f.folder_id = $1::uuid
                ORDER BY 1
                """, [id])
            if holders.count > 0 { return .inDatasets((0..<holders.count).map { holders[$0, 0]! }) }
            if rows[0, 0] != "0" { return .notEmpty("the folder holds \(rows[0, 0]!) files") }
            if rows[0, 1] != "0" { return .notEmpty("the folder has \(rows[0, 1]!) running uploads") }
            _ = try connection.query("DELETE FROM folder_url_keys WHERE folder_id = $1::uuid", [id])
            _ = try connection.query("UPDATE upload_jobs SET retry_of = NULL, manifest_job_id = NULL WHERE folder_id = $1::uuid", [id])
            _ = try connection.query("DELETE FROM upload_jobs WHERE folder_id = $1::uuid", [id])
            _ = try connection.query("DELETE FROM folders WHERE id = $1::uuid", [id])
            return .deleted
        }
    }

    // MARK: Jobs

    /// The job if it belongs to the tenant.
    public func loadJob(_ id: String, tenantID: String) throws -> JobRecord? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("SELECT 1 FROM upload_jobs WHERE id = $1::uuid AND tenant_id = $2", [id, tenantID])
        return rows.count == 1 ? try loadJob(id) : nil
    }

    /// Job ids of the tenant, newest first, optionally by status or folder, after a position
    /// (the last row of the previous page). The position carries its own values: nothing is
    /// looked up by id, so it never matters whose job a position was taken from.
    public func jobIDs(tenantID: String, status: JobStatus?, folderID: String?, after: JobPosition?, limit: Int) throws -> (ids: [String], next: JobPosition?) {
        let rows = try connection.query("""
            SELECT j.id, (extract(epoch FROM j.created_at) * 1000000)::bigint FROM upload_jobs j
            WHERE j.tenant_id = $1 AND ($2::text IS NULL OR j.status = $2) AND ($3::uuid IS NULL OR j.folder_id = $3::uuid)
              AND ($4::bigint IS NULL OR (j.created_at, j.id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
            ORDER BY j.created_at DESC, j.id DESC LIMIT $6
            """, [tenantID, status?.rawValue, folderID.flatMap { UUIDText.isValid($0) ? $0 : nil },
                  after.map { String($0.createdMicros) }, after.flatMap { UUIDText.isValid($0.id) ? $0.id : nil }, String(limit + 1)])
        let n = min(rows.count, limit)
        let ids = (0..<n).map { rows[$0, 0]! }
        let next = rows.count > limit && n > 0 ? Int64(rows[n - 1, 1] ?? "").map { JobPosition(createdMicros: $0, id: ids[n - 1]) } : nil
        return (ids, next)
    }

    /// Extra facts about a job for the API: the tenant, the folder, the retry parent, the file
    /// name, and units finished in the last `window` seconds with the seconds that window covers
    /// (for a finished job: all its processed units over its whole run, the average rate).
    public func jobExtras(jobID: String, window: Int) throws -> JobExtras? {
        try engineJobExtras(jobID: jobID, window: window, registrationOnly: true)
    }

    /// `jobExtras` for a job of any kind (`registrationOnly` false): a kind without a folder or
    /// manifest has "" and 0 there.
    func engineJobExtras(jobID: String, window: Int, registrationOnly: Bool = false) throws -> JobExtras? {
        guard UUIDText.isValid(jobID) else { return nil }
        let rows = try connection.query("""
            SELECT coalesce(j.folder_id::text, ''), j.retry_of, j.file_name, coalesce(j.format, ''), j.manifest_bytes, j.ignore_errors, j.tenant_id,
                   \(SQLTime.iso("j.created_at")),
                   CASE WHEN j.finished_at IS NULL
                        THEN (SELECT coalesce(sum(unit_count), 0) FROM chunks c
                              WHERE c.job_id = j.id AND c.finished_at > now() - make_interval(secs => $2))
                        ELSE (SELECT coalesce(sum(done_count + error_count + skipped_count), 0) FROM chunks c WHERE c.job_id = j.id) END,
                   extract(epoch FROM CASE WHEN j.finished_at IS NULL
                        THEN least(make_interval(secs => $2), now() - coalesce(j.started_at, j.created_at))
                        ELSE j.finished_at - coalesce(j.started_at, j.created_at) END)
            FROM jobs j WHERE j.id = $1::uuid AND (j.kind = 'registration' OR NOT $3::boolean)
            """, [jobID, String(window), registrationOnly ? "true" : "false"])
        guard rows.count == 1 else { return nil }
        return JobExtras(tenantID: rows[0, 6]!, folderID: rows[0, 0]!, retryOf: rows[0, 1], fileName: rows[0, 2], format: rows[0, 3]!,
                         manifestBytes: rows[0, 4].flatMap { Int($0) } ?? 0, ignoreErrors: rows[0, 5] == "t", createdAt: rows[0, 7]!,
                         recentUnits: Int(rows[0, 8] ?? "0") ?? 0, recentSeconds: Double(rows[0, 9] ?? "0") ?? 0)
    }

    /// Creates a job that registers exactly the failed units of `jobID` from its stored manifest.
    /// Returns nil when the job has no failed units. The parent must have finished.
    public func createRetryJob(tenantID: String, jobID: String) throws -> String? {
        try connection.withTransaction {
            let rows = try connection.query("""
                INSERT INTO upload_jobs (tenant_id, folder_id, file_name, format, manifest_bytes, ignore_errors,
                                         skip_duplicates, total_units, total_urls, phase, started_at, retry_of, manifest_job_id)
                SELECT j.tenant_id, j.folder_id, j.file_name, j.format, j.manifest_bytes, j.ignore_errors, j.skip_duplicates,
                       e.units, e.urls, 'splitting', now(), j.id, coalesce(j.manifest_job_id, j.id)
                FROM upload_jobs j,
                     LATERAL (SELECT count(*) AS units, coalesce(sum(cardinality(object_urls)), 0) AS urls
                              FROM unit_errors WHERE job_id = j.id) e
                WHERE j.id = $1::uuid AND j.tenant_id = $2 AND e.units > 0
                RETURNING id
                """, [jobID, tenantID])
            return rows.count == 1 ? rows[0, 0] : nil
        }
    }

    // MARK: Errors and files

    /// A job's unit errors as JSON objects in unit order, optionally one code only (cursor: the
    /// last unit index).
    public func errorsPage(jobID: String, code: String?, after: Int, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT unit_index, json_build_object('unit', unit_index, 'objectUrls', \(SQLRedact.urls("object_urls")), 'code', code,
                                                 'message', message, 'action', action,
                                                 'createdAt', \(SQLTime.iso("created_at")))::text
            FROM unit_errors WHERE job_id = $1::uuid AND unit_index > $2 AND ($3::text IS NULL OR code = $3)
            ORDER BY unit_index LIMIT $4
            """, [jobID, String(after), code, String(limit + 1)])
        return page(rows, limit: limit, cursorColumn: 0, jsonColumn: 1)
    }

    /// Error counts by code for a job.
    public func errorCodes(jobID: String) throws -> [(code: String, count: Int)] {
        let rows = try connection.query("SELECT code, count(*) FROM unit_errors WHERE job_id = $1::uuid GROUP BY code ORDER BY 2 DESC, 1",
                                        [jobID])
        return (0..<rows.count).map { (rows[$0, 0]!, Int(rows[$0, 1]!)!) }
    }

    static let fileJSON = """
        json_strip_nulls(json_build_object(
            'id', id::text, 'folderId', folder_id, 'type', type, 'title', title, 'url', \(SQLRedact.url("url")),
            'urls', \(SQLRedact.urls("urls")), 'size', size,
            'mimeType', mime_type, 'etag', etag, 'width', width, 'height', height, 'fps', fps, 'duration', duration,
            'frameCount', frame_count, 'codec', codec, 'sampleRate', sample_rate, 'channels', channels, 'bitDepth', bit_depth,
            'pageCount', page_count, 'clientMetadata', client_metadata, 'metadataSupplied', metadata_supplied, 'format', format,
            'textEncoding', text_encoding, 'dicomStudyUid', dicom_study_uid, 'dicomSeriesUid', dicom_series_uid,
            'dicomSopUids', dicom_sop_uids, 'dicomModality', dicom_modality, 'niftiDims', nifti_dims, 'niftiPixdim', nifti_pixdim,
            'jobId', job_id, 'unit', unit_index, 'createdAt', \(SQLTime.iso("created_at")),
            'verified', verified_at IS NOT NULL, 'tombstoned', tombstoned_at IS NOT NULL, 'probeError', probe_error))::text
        """

    /// A folder's files by id, optionally of one type (cursor: the last id).
    public func filesPage(folderID: String, type: String?, after: Int64, limit: Int) throws -> JSONPage {
        let rows = try connection.query("""
            SELECT id, \(Self.fileJSON) FROM files
            WHERE folder_id = $1::uuid AND id > $2 AND ($3::text IS NULL OR type = $3) ORDER BY id LIMIT $4
            """, [folderID, String(after), type, String(limit + 1)])
        return page(rows, limit: limit, cursorColumn: 0, jsonColumn: 1)
    }

    public func file(tenantID: String, id: String) throws -> String? {
        guard let n = Int64(id), n > 0 else { return nil }
        let rows = try connection.query("SELECT \(Self.fileJSON) FROM files WHERE id = $1 AND tenant_id = $2", [String(n), tenantID])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    private func page(_ rows: PGRows, limit: Int, cursorColumn: Int, jsonColumn: Int) -> JSONPage {
        let n = min(rows.count, limit)
        let items = (0..<n).map { rows[$0, jsonColumn]! }
        let next = rows.count > limit && n > 0 ? rows[n - 1, cursorColumn] : nil
        return JSONPage(items: items, nextCursor: next)
    }

    // MARK: Health

    /// The highest applied migration and the highest this build knows.
    public func schemaVersions() throws -> (applied: Int, known: Int) {
        let rows = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return (Int(rows[0, 0] ?? "0") ?? 0, Schema.migrations.map(\.version).max() ?? 0)
    }

    /// Jobs by status, for the metrics gauge.
    public func jobCountsByStatus() throws -> [String: Int] {
        let rows = try connection.query("SELECT status, count(*) FROM upload_jobs GROUP BY status")
        var out: [String: Int] = [:]
        for i in 0..<rows.count { out[rows[i, 0]!] = Int(rows[i, 1]!) }
        return out
    }

    /// Running jobs and the seconds since any of their chunks finished (or since they started).
    public func runningJobsIdleSeconds() throws -> [(id: String, seconds: Double)] {
        let rows = try connection.query("""
            SELECT j.id, extract(epoch FROM now() - greatest(coalesce(j.started_at, j.created_at),
                   coalesce((SELECT max(finished_at) FROM chunks c WHERE c.job_id = j.id), j.created_at)))
            FROM upload_jobs j WHERE j.status = 'PENDING'
            """)
        return (0..<rows.count).map { (rows[$0, 0]!, Double(rows[$0, 1] ?? "0") ?? 0) }
    }
}

/// Presigned URLs carry credentials in their query string, and a URL may hold a user name and
/// password (`URLCredentials`): API responses show URLs without the query (`?…` marks that one
/// was there) and with the userinfo masked (`http://***@host/…`), as the CLI does.
enum SQLRedact {
    static func url(_ column: String) -> String { shown(column) }
    static func urls(_ column: String) -> String {
        "(SELECT coalesce(json_agg(\(shown("u"))), '[]'::json) FROM unnest(\(column)) u)"
    }
    static func shown(_ value: String) -> String {
        "regexp_replace(regexp_replace(\(value), '\(URLCredentials.sqlPattern)', '\\1***@'), '\\?.*$', '?…')"
    }
}
