import RegistrarCore
import RegistrarRuntime

/// Registration's rows on PostgreSQL (folders, stored manifests, files): implements
/// `RegistrationStore` for the registration kind, plus the operator queries (`submit`,
/// `status`, `errors`, `files`). Jobs and the ledger are the engine's: `jobs`, on the same
/// connection, through which chunks are committed.
///
/// Owns one `PGConnection`; like it, it is used from one thread only.
public final class PostgresRegistry: RegistrationStore {
    public let connection: PGConnection
    /// The engine's store on the same connection (so a chunk's files and ledger row commit together).
    public let jobs: PostgresJobStore
    private var stagingReady = false
    /// Task-create jobs made by the last project change that attached datasets (`takeCreatedTaskJobs`).
    var createdTaskJobs: [String] = []
    static let blockSize = 1 << 20

    public convenience init(url: String) throws {
        self.init(connection: try PGConnection(url: url))
    }

    public init(connection: PGConnection) {
        self.connection = connection
        self.jobs = PostgresJobStore(connection: connection)
    }

    public func migrate() throws -> [Int] {
        try Migrator.migrate(connection, Schema.migrations)
    }

    // MARK: - Operator side

    /// The folder's id, creating the folder if needed.
    public func ensureFolder(name: String) throws -> String {
        try ensureFolder(tenantID: Schema.defaultTenantID, name: name)
    }

    public func folderID(name: String) throws -> String? {
        let rows = try connection.query("SELECT id FROM folders WHERE tenant_id = $1 AND name = $2", [Schema.defaultTenantID, name])
        return rows.count == 0 ? nil : rows[0, 0]
    }

    /// Creates a job and stores its manifest, in one transaction: a job never exists with half a
    /// manifest. Returns the job id.
    /// `integrationID`: the integration its objects are read with (nil: URLs fetched as given).
    public func createJob(folderID: String, fileName: String, format: ManifestFormat, ignoreErrors: Bool,
                          manifest: inout some ByteSource, tenantID: String = Schema.defaultTenantID,
                          integrationID: String? = nil) throws -> String {
        try connection.withTransaction {
            let jobID = try connection.query("""
                INSERT INTO upload_jobs (tenant_id, folder_id, file_name, format, manifest_bytes, ignore_errors, integration_id)
                VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id
                """, [tenantID, folderID, fileName, format.rawValue, ignoreErrors ? "true" : "false", integrationID])[0, 0]!
            var total: Int64 = 0
            var seq = 0
            var block = [UInt8](repeating: 0, count: Self.blockSize)
            var rows: [[String?]] = []
            while true {
                // Fill a whole block (a source may return less per read).
                var filled = 0
                while filled < block.count {
                    let n = try block.withUnsafeMutableBytes { try manifest.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
                    if n == 0 { break }
                    filled += n
                }
                if filled == 0 { break }
                total += Int64(filled)
                rows.append([jobID, String(seq), Hex.byteaLiteral(block[0..<filled])])
                seq += 1
                if rows.count == 16 {
                    _ = try connection.copyIn("COPY manifest_blocks (job_id, seq, data) FROM STDIN", rows: rows)
                    rows.removeAll(keepingCapacity: true)
                }
                if filled < block.count { break }
            }
            if !rows.isEmpty { _ = try connection.copyIn("COPY manifest_blocks (job_id, seq, data) FROM STDIN", rows: rows) }
            _ = try connection.query("UPDATE upload_jobs SET manifest_bytes = $2 WHERE id = $1", [jobID, String(total)])
            return jobID
        }
    }

    /// Per-unit errors of a job, in unit order.
    public func unitErrors(jobID: String, after: Int = -1, limit: Int = 1000) throws -> [(unit: Int, urls: [String], code: String, message: String, action: String)] {
        let rows = try connection.query("""
            SELECT unit_index, array_to_json(object_urls)::text, code, message, action FROM unit_errors
            WHERE job_id = $1 AND unit_index > $2 ORDER BY unit_index LIMIT $3
            """, [jobID, String(after), String(limit)])
        return (0..<rows.count).map { i in
            (Int(rows[i, 0]!)!, JSONArrayText.strings(rows[i, 1] ?? "[]"), rows[i, 2]!, rows[i, 3]!, rows[i, 4]!)
        }
    }

    /// Files of a folder as JSON objects (one per line for `registrar files`), paged by id.
    /// A folder's file records as JSON (`registrar files --json`), URLs shown as the API shows
    /// them (`SQLRedact`: no query string, no user name or password).
    public func filesJSON(folderID: String, afterID: Int64 = 0, limit: Int = 1000) throws -> [(id: Int64, json: String)] {
        let rows = try connection.query("""
            SELECT id, json_strip_nulls(json_build_object(
                'id', id, 'type', type, 'title', title, 'url', \(SQLRedact.url("url")), 'urls', \(SQLRedact.urls("urls")), 'size', size, 'mimeType', mime_type,
                'etag', etag, 'width', width, 'height', height, 'fps', fps, 'duration', duration, 'frameCount', frame_count,
                'codec', codec, 'sampleRate', sample_rate, 'channels', channels, 'bitDepth', bit_depth, 'pageCount', page_count,
                'clientMetadata', client_metadata, 'metadataSupplied', metadata_supplied, 'format', format,
                'textEncoding', text_encoding, 'dicomStudyUid', dicom_study_uid, 'dicomSeriesUid', dicom_series_uid,
                'dicomSopUids', dicom_sop_uids, 'dicomModality', dicom_modality, 'niftiDims', nifti_dims, 'niftiPixdim', nifti_pixdim,
                'probeRequests', probe_requests, 'probeBytes', probe_bytes, 'jobId', job_id, 'unit', unit_index,
                'createdAt', created_at, 'verifiedAt', verified_at,
                'verified', verified_at IS NOT NULL, 'tombstoned', tombstoned_at IS NOT NULL, 'probeError', probe_error))::text
            FROM files WHERE folder_id = $1 AND id > $2 ORDER BY id LIMIT $3
            """, [folderID, String(afterID), String(limit)])
        return (0..<rows.count).map { (Int64(rows[$0, 0]!)!, rows[$0, 1]!) }
    }

    /// The job's state from the store alone (exact; used when Redis has nothing).
    public func jobState(jobID: String) throws -> JobState? {
        guard let job = try jobs.job(jobID) else { return nil }
        return JobState(job, counts: try jobs.jobCounts(jobID: jobID).counts)
    }

    // MARK: - RegistrationStore

    public func loadJob(_ id: String) throws -> JobRecord? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query("""
            SELECT j.id, j.folder_id, f.name, j.format, j.ignore_errors, j.skip_duplicates, j.status, j.phase,
                   j.cancel_requested, j.total_units, j.split_done,
                   to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   to_char(j.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   (j.error->>'code') || ': ' || (j.error->>'message'), j.retry_of
            FROM upload_jobs j JOIN folders f ON f.id = j.folder_id
            WHERE j.id = $1::uuid
            """, [id])
        guard rows.count == 1 else { return nil }
        return JobRecord(id: rows[0, 0]!, folderID: rows[0, 1]!, folderName: rows[0, 2]!,
                         format: ManifestFormat(rawValue: rows[0, 3]!) ?? .json, ignoreErrors: rows[0, 4] == "t",
                         skipDuplicates: rows[0, 5].map { $0 == "t" }, status: JobStatus(rawValue: rows[0, 6]!) ?? .pending,
                         phase: JobPhase(rawValue: rows[0, 7]!) ?? .received, cancelRequested: rows[0, 8] == "t",
                         totalUnits: rows[0, 9].flatMap { Int($0) }, splitDone: rows[0, 10] == "t",
                         createdAt: rows[0, 11]!, startedAt: rows[0, 12], finishedAt: rows[0, 13], error: rows[0, 14],
                         retryOf: rows[0, 15])
    }

    public func manifestSource(jobID: String) throws -> any ByteSource {
        // A retry job reads the manifest of the job it retries.
        let rows = try connection.query("SELECT coalesce(manifest_job_id, id) FROM upload_jobs WHERE id = $1::uuid", [jobID])
        return ManifestBlockSource(connection: connection, jobID: rows.count == 1 ? rows[0, 0]! : jobID)
    }

    public func retryUnits(jobID: String) throws -> Set<Int>? {
        let parent = try connection.query("SELECT retry_of FROM upload_jobs WHERE id = $1::uuid", [jobID])
        guard parent.count == 1, let retryOf = parent[0, 0] else { return nil }
        let rows = try connection.query("SELECT unit_index FROM unit_errors WHERE job_id = $1::uuid", [retryOf])
        return Set((0..<rows.count).compactMap { Int(rows[$0, 0]!) })
    }

    public func recordScan(jobID: String, units: Int, urls: Int, skipDuplicates: Bool) throws {
        _ = try connection.query("""
            UPDATE upload_jobs SET total_units = $2, total_urls = $3, skip_duplicates = $4, phase = 'splitting',
                   started_at = coalesce(started_at, now())
            WHERE id = $1
            """, [jobID, String(units), String(urls), skipDuplicates ? "true" : "false"])
    }

    public func existingURLKeys(folderID: String, keys: [String]) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        let rows = try connection.query("""
            SELECT k FROM unnest($2::text[]) AS t(k)
            WHERE EXISTS (SELECT 1 FROM folder_url_keys f WHERE f.folder_id = $1::uuid AND f.url_key_hash = sha256(convert_to(k, 'UTF8')))
            """, [folderID, PGArray.text(keys)])
        return Set((0..<rows.count).compactMap { rows[$0, 0] })
    }

    public func commitChunk(_ result: ChunkResult) throws -> RegistrationCommit {
        try ensureStaging()
        var inserted: [String] = []
        let outcome = try jobs.commitChunk(result.id, deadLetter: result.deadLetter) { connection in
            let fileRows = result.items.compactMap { item -> [String?]? in
                if case .verified(let unit, let info) = item { return Self.stagingRow(unit, info) } else { return nil }
            }
            guard !fileRows.isEmpty else { return ChunkWrite(errors: result.errors) }
            _ = try connection.copyIn("COPY staging_files (\(Self.stagingColumns)) FROM STDIN", rows: fileRows)
            let keyJoin: String
            if result.skipDuplicates {
                // First unit per key wins, in unit order; a key the folder already has wins over all.
                _ = try connection.query(Self.recordURLKeysSQL, [result.folderID, result.jobID])
                keyJoin = """
                    JOIN folder_url_keys k ON k.folder_id = $1::uuid AND k.url_key_hash = sha256(convert_to(s.url_key, 'UTF8'))
                     AND k.job_id = $2::uuid AND k.unit_index = s.unit_index
                    """
            } else {
                keyJoin = ""
            }
            let rows = try connection.query("""
                INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash,
                                   size, mime_type, etag, width, height, fps, duration, frame_count, codec, sample_rate,
                                   channels, bit_depth, page_count, client_metadata, metadata_supplied, format, text_encoding,
                                   dicom_study_uid, dicom_series_uid, dicom_sop_uids, dicom_modality, dicom_instance_number,
                                   dicom_has_patient_id, nifti_dims, nifti_pixdim, probe_requests, probe_bytes, verified_at)
                SELECT (SELECT tenant_id FROM folders WHERE id = $1::uuid), $1::uuid, $2::uuid, s.unit_index, s.type, s.title, s.urls[1], s.urls, s.url_key,
                       sha256(convert_to(s.url_key, 'UTF8')), s.size, s.mime_type, s.etag, s.width, s.height, s.fps, s.duration,
                       s.frame_count, s.codec, s.sample_rate, s.channels, s.bit_depth, s.page_count, s.client_metadata,
                       s.metadata_supplied, s.format, s.text_encoding, s.dicom_study_uid, s.dicom_series_uid, s.dicom_sop_uids,
                       s.dicom_modality, s.dicom_instance_number, s.dicom_has_patient_id, s.nifti_dims, s.nifti_pixdim,
                       s.probe_requests, s.probe_bytes, now()
                FROM staging_files s \(keyJoin)
                ORDER BY s.unit_index
                ON CONFLICT (job_id, unit_index) DO NOTHING
                RETURNING url_key, id
                """, [result.folderID, result.jobID])
            inserted = (0..<rows.count).compactMap { rows[$0, 0] }
            if rows.count > 0 {
                // Mirrored datasets of the folder take the new files in this same transaction
                // (docs/datasets.md): exact, whatever happens to the chunk afterwards.
                _ = try connection.query("""
                    INSERT INTO dataset_files (dataset_id, file_id, copy)
                    SELECT d.id, f, 0 FROM datasets d, unnest($2::bigint[]) AS f WHERE d.mirrored_folder_id = $1::uuid
                    ON CONFLICT (dataset_id, file_id, copy) DO NOTHING
                    """, [result.folderID, PGArray.ints((0..<rows.count).compactMap { rows[$0, 1].flatMap { Int($0) } })])
            }
            if !result.skipDuplicates {
                // Remember the first registration of each key, for later skip-duplicate jobs.
                _ = try connection.query(Self.recordURLKeysSQL, [result.folderID, result.jobID])
            }
            return ChunkWrite(done: inserted.count, skipped: fileRows.count - inserted.count, errors: result.errors)
        }
        if case .committed = outcome { return RegistrationCommit(outcome: outcome, newURLKeys: inserted) }
        return RegistrationCommit(outcome: outcome)
    }

    // MARK: - Staging

    /// Records the staged units' URL keys in the folder: the first unit per key wins, in unit
    /// order, and a key the folder already holds wins over all of them.
    static let recordURLKeysSQL = """
        INSERT INTO folder_url_keys (folder_id, url_key_hash, job_id, unit_index)
        SELECT DISTINCT ON (h) $1::uuid, h, $2::uuid, unit_index
        FROM (SELECT sha256(convert_to(url_key, 'UTF8')) AS h, unit_index FROM staging_files) s
        ORDER BY h, unit_index
        ON CONFLICT DO NOTHING
        """

    static let stagingColumns = "unit_index, type, title, urls, url_key, size, mime_type, etag, width, height, fps, duration, frame_count, codec, sample_rate, channels, bit_depth, page_count, client_metadata, metadata_supplied, format, text_encoding, dicom_study_uid, dicom_series_uid, dicom_sop_uids, dicom_modality, dicom_instance_number, dicom_has_patient_id, nifti_dims, nifti_pixdim, probe_requests, probe_bytes"

    /// Session-local staging tables, emptied at every commit: COPY into them, then one
    /// INSERT … SELECT per chunk does the set-based work.
    private func ensureStaging() throws {
        guard !stagingReady else { return }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS staging_files (
                unit_index integer, type text, title text, urls text[], url_key text, size bigint, mime_type text, etag text,
                width integer, height integer, fps double precision, duration double precision, frame_count bigint, codec text,
                sample_rate integer, channels integer, bit_depth integer, page_count integer, client_metadata jsonb,
                metadata_supplied boolean, format text, text_encoding text, dicom_study_uid text, dicom_series_uid text,
                dicom_sop_uids text[], dicom_modality text, dicom_instance_number integer, dicom_has_patient_id boolean,
                nifti_dims integer[], nifti_pixdim double precision[], probe_requests integer, probe_bytes integer
            ) ON COMMIT DELETE ROWS;
            """)
        stagingReady = true
    }

    static func stagingRow(_ u: RegistrationUnit, _ i: MediaInfo) -> [String?] {
        func s<T>(_ v: T?) -> String? { v.map { "\($0)" } }
        return [String(u.index), u.type.rawValue, u.title, PGArray.text(i.orderedURLs ?? u.urls), u.urlKey, s(i.size), i.mimeType, i.etag,
                s(i.width), s(i.height), s(i.fps), s(i.duration), s(i.frameCount), i.codec, s(i.sampleRate), s(i.channels),
                s(i.bitDepth), s(i.pageCount), u.clientMetadata.map(JSONBText.withoutNULEscapes), i.supplied ? "true" : "false",
                i.format?.rawValue, i.textEncoding, i.dicomStudyUID, i.dicomSeriesUID,
                i.dicomSOPInstanceUIDs.map(PGArray.text) ?? i.dicomSOPInstanceUID.map { PGArray.text([$0]) }, i.dicomModality,
                s(i.dicomInstanceNumber), i.dicomHasPatientID.map { $0 ? "true" : "false" },
                i.niftiDims.map { "{" + $0.map(String.init).joined(separator: ",") + "}" },
                i.niftiPixdim.map { "{" + $0.map { "\($0)" }.joined(separator: ",") + "}" },
                i.supplied ? nil : String(i.probeRequests), i.supplied ? nil : String(i.probeBytes)]
    }
}
