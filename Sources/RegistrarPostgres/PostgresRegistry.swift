import RegistrarCore
import RegistrarRuntime

/// The system of record on PostgreSQL: implements `RegistrationStore` for the coordinator and
/// workers, plus the operator queries (`submit`, `status`, `errors`, `files`, `cancel`).
///
/// Owns one `PGConnection`; like it, it is used from one thread only.
public final class PostgresRegistry: RegistrationStore {
    public let connection: PGConnection
    private var stagingReady = false
    static let blockSize = 1 << 20

    public init(url: String) throws {
        connection = try PGConnection(url: url)
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

    /// Asks a job to stop. Returns the status it had (nil for an unknown job).
    public func requestCancel(jobID: String) throws -> JobStatus? {
        guard UUIDText.isValid(jobID) else { return nil }
        let rows = try connection.query("""
            UPDATE upload_jobs SET cancel_requested = true WHERE id = $1::uuid RETURNING status
            """, [jobID])
        return rows.count == 0 ? nil : JobStatus(rawValue: rows[0, 0] ?? "")
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
                'createdAt', created_at, 'verifiedAt', verified_at))::text
            FROM files WHERE folder_id = $1 AND id > $2 ORDER BY id LIMIT $3
            """, [folderID, String(afterID), String(limit)])
        return (0..<rows.count).map { (Int64(rows[$0, 0]!)!, rows[$0, 1]!) }
    }

    /// The job's state from the store alone (exact; used when Redis has nothing).
    public func jobState(jobID: String) throws -> JobState? {
        guard let job = try loadJob(jobID) else { return nil }
        let counts = try jobCounts(jobID: jobID).counts
        return JobState(id: job.id, status: job.status, phase: job.phase, total: job.totalUnits, counts: counts,
                        startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error)
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

    public func failJob(jobID: String, reason: ManifestIssue) throws {
        var error = ""
        JSONValue.object([("code", .string(reason.code.rawValue)), ("item", .string(reason.item)),
                          ("message", .string(reason.item == "manifest" ? reason.message : "\(reason.item): \(reason.message)")),
                          ("line", reason.line.map { .number(String($0)) } ?? .null)]).write(to: &error)
        _ = try connection.query("""
            UPDATE upload_jobs SET status = 'ERROR', phase = 'finished', error = $2::jsonb, total_units = 0,
                   started_at = coalesce(started_at, now()), finished_at = now(), split_done = true, total_chunks = 0
            WHERE id = $1 AND status = 'PENDING'
            """, [jobID, error])
    }

    public func ledger(jobID: String) throws -> [Int: Bool] {
        let rows = try connection.query("SELECT seq, published FROM chunks WHERE job_id = $1", [jobID])
        var out: [Int: Bool] = [:]
        for i in 0..<rows.count { out[Int(rows[i, 0]!)!] = rows[i, 1] == "t" }
        return out
    }

    public func recordChunks(jobID: String, chunks: [LedgerChunk]) throws {
        guard !chunks.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO chunks (job_id, seq, first_unit, unit_count, url_count)
            SELECT $1, s, f, u, n FROM unnest($2::int[], $3::int[], $4::int[], $5::int[]) AS t(s, f, u, n)
            ON CONFLICT (job_id, seq) DO NOTHING
            """, [jobID, Self.intArray(chunks.map(\.seq)), Self.intArray(chunks.map(\.firstUnit)),
                  Self.intArray(chunks.map(\.unitCount)), Self.intArray(chunks.map(\.urlCount))])
    }

    public func markPublished(jobID: String, seqs: [Int]) throws {
        guard !seqs.isEmpty else { return }
        _ = try connection.query("UPDATE chunks SET published = true WHERE job_id = $1 AND seq = ANY($2::int[])",
                                 [jobID, Self.intArray(seqs)])
    }

    public func recordCancelledChunks(jobID: String, chunks: [LedgerChunk]) throws {
        guard !chunks.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO chunks (job_id, seq, first_unit, unit_count, url_count, state, cancelled_count, finished_at)
            SELECT $1, s, f, u, n, 'done', u, now() FROM unnest($2::int[], $3::int[], $4::int[], $5::int[]) AS t(s, f, u, n)
            ON CONFLICT (job_id, seq) DO UPDATE SET state = 'done', cancelled_count = chunks.unit_count, finished_at = now()
            WHERE chunks.state = 'pending'
            """, [jobID, Self.intArray(chunks.map(\.seq)), Self.intArray(chunks.map(\.firstUnit)),
                  Self.intArray(chunks.map(\.unitCount)), Self.intArray(chunks.map(\.urlCount))])
    }

    public func finishSplit(jobID: String, totalChunks: Int) throws {
        _ = try connection.query("""
            UPDATE upload_jobs SET split_done = true, total_chunks = $2,
                   phase = CASE WHEN phase = 'finished' THEN phase ELSE 'verifying' END
            WHERE id = $1
            """, [jobID, String(totalChunks)])
    }

    public func finishJobIfComplete(jobID: String) throws -> JobStatus? {
        // One statement, after the caller's commit: whoever runs it last sees every chunk done,
        // and `status = 'PENDING'` lets exactly one caller end the job.
        let rows = try connection.query("""
            UPDATE upload_jobs j SET
                status = CASE
                    WHEN j.cancel_requested AND EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.cancelled_count > 0) THEN 'CANCELLED'
                    WHEN NOT j.ignore_errors AND EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.error_count > 0) THEN 'ERROR'
                    ELSE 'DONE' END,
                phase = 'finished', finished_at = now()
            WHERE j.id = $1 AND j.status = 'PENDING' AND j.split_done
              AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.job_id = j.id AND c.state = 'pending')
            RETURNING j.status
            """, [jobID])
        return rows.count == 1 ? JobStatus(rawValue: rows[0, 0]!) : nil
    }

    public func isCancelRequested(jobID: String) throws -> Bool {
        let rows = try connection.query("SELECT cancel_requested FROM upload_jobs WHERE id = $1", [jobID])
        return rows.count == 1 && rows[0, 0] == "t"
    }

    public func jobCounts(jobID: String) throws -> (counts: UnitCounts, doneChunks: [Int]) {
        guard UUIDText.isValid(jobID) else { return (UnitCounts(), []) }
        let rows = try connection.query("""
            SELECT coalesce(sum(done_count), 0), coalesce(sum(error_count), 0), coalesce(sum(skipped_count), 0),
                   coalesce(sum(cancelled_count), 0),
                   coalesce(array_to_json(array_agg(seq ORDER BY seq) FILTER (WHERE state = 'done'))::text, '[]')
            FROM chunks WHERE job_id = $1::uuid
            """, [jobID])
        let counts = UnitCounts(done: Int(rows[0, 0]!)!, errors: Int(rows[0, 1]!)!, skipped: Int(rows[0, 2]!)!, cancelled: Int(rows[0, 3]!)!)
        let done = JSONArrayText.strings(rows[0, 4] ?? "[]", numbers: true).compactMap { Int($0) }
        return (counts, done)
    }

    public func chunkCounts(jobID: String) throws -> [Int: UnitCounts] {
        let rows = try connection.query("""
            SELECT seq, done_count, error_count, skipped_count, cancelled_count FROM chunks
            WHERE job_id::text = $1 AND state = 'done'
            """, [jobID])
        var out: [Int: UnitCounts] = [:]
        for i in 0..<rows.count {
            out[Int(rows[i, 0]!)!] = UnitCounts(done: Int(rows[i, 1]!)!, errors: Int(rows[i, 2]!)!,
                                                skipped: Int(rows[i, 3]!)!, cancelled: Int(rows[i, 4]!)!)
        }
        return out
    }

    public func existingURLKeys(folderID: String, keys: [String]) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        let rows = try connection.query("""
            SELECT k FROM unnest($2::text[]) AS t(k)
            WHERE EXISTS (SELECT 1 FROM folder_url_keys f WHERE f.folder_id = $1::uuid AND f.url_key_hash = sha256(convert_to(k, 'UTF8')))
            """, [folderID, PGArray.text(keys)])
        return Set((0..<rows.count).compactMap { rows[$0, 0] })
    }

    public func commitChunk(_ result: ChunkResult) throws -> CommitOutcome {
        try ensureStaging()
        return try connection.withTransaction {
            let ledger = try connection.query("""
                SELECT state, done_count, error_count, skipped_count, cancelled_count, unit_count FROM chunks
                WHERE job_id = $1 AND seq = $2 FOR UPDATE
                """, [result.jobID, String(result.seq)])
            guard ledger.count == 1 else { return .unknownChunk }
            if ledger[0, 0] == "done" {
                return .alreadyDone(UnitCounts(done: Int(ledger[0, 1]!)!, errors: Int(ledger[0, 2]!)!,
                                               skipped: Int(ledger[0, 3]!)!, cancelled: Int(ledger[0, 4]!)!))
            }
            if result.cancelled {
                _ = try connection.query("""
                    UPDATE chunks SET state = 'done', cancelled_count = unit_count, finished_at = now() WHERE job_id = $1 AND seq = $2
                    """, [result.jobID, String(result.seq)])
                return .committed(UnitCounts(cancelled: Int(ledger[0, 5]!)!), newURLKeys: [])
            }

            var fileRows: [[String?]] = []
            var errorRows: [[String?]] = []
            for item in result.items {
                switch item {
                case .verified(let unit, let info):
                    fileRows.append(Self.stagingRow(unit, info))
                case .failed(let index, let urls, let code, let message):
                    // Error rows are shown to operators and exported: a presigned URL's query (its
                    // signature, a credential) stays out of them. The file record keeps the URL whole.
                    errorRows.append([result.jobID, String(index), PGArray.text(urls.map(Self.withoutQuery)), code, message, Self.action(for: code)])
                }
            }
            var inserted: [String] = []
            if !fileRows.isEmpty {
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
                    RETURNING url_key
                    """, [result.folderID, result.jobID])
                inserted = (0..<rows.count).compactMap { rows[$0, 0] }
                if !result.skipDuplicates {
                    // Remember the first registration of each key, for later skip-duplicate jobs.
                    _ = try connection.query(Self.recordURLKeysSQL, [result.folderID, result.jobID])
                }
            }
            if !errorRows.isEmpty {
                _ = try connection.copyIn("COPY staging_errors (job_id, unit_index, object_urls, code, message, action) FROM STDIN",
                                          rows: errorRows)
                _ = try connection.execute("INSERT INTO unit_errors SELECT *, now() FROM staging_errors ON CONFLICT DO NOTHING")
            }
            let counts = UnitCounts(done: inserted.count, errors: errorRows.count, skipped: fileRows.count - inserted.count)
            _ = try connection.query("""
                UPDATE chunks SET state = 'done', done_count = $3, error_count = $4, skipped_count = $5, finished_at = now()
                WHERE job_id = $1 AND seq = $2
                """, [result.jobID, String(result.seq), String(counts.done), String(counts.errors), String(counts.skipped)])
            if let letter = result.deadLetter { try recordDeadChunk(jobID: result.jobID, seq: result.seq, letter) }
            return .committed(counts, newURLKeys: inserted)
        }
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
            CREATE TEMP TABLE IF NOT EXISTS staging_errors (
                job_id uuid, unit_index integer, object_urls text[], code text, message text, action text
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

    /// Encord's `action_description`: what was being done when the unit failed.
    /// The URL up to its query or fragment, with any user name or password masked.
    static func withoutQuery(_ url: String) -> String {
        let url = URLCredentials.masked(url)
        guard let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return url }
        return String(url[..<cut])
    }

    static func action(for code: String) -> String {
        switch code {
        case "internal_error": return "Processing chunk"
        case "not_found", "access_denied", "timeout", "throttled", "server_error", "connect_failed", "destination_forbidden",
             "too_many_redirects", "http_error", "wrong_region", "wrong_integration", "credentials_unavailable",
             "integration_unavailable", "signing_failed", "invalid_response":
            return "Fetching object"
        case "type_mismatch", "unsupported_type", "corrupt", "too_large", "dimensions_exceed_limit", "empty_object":
            return "Verifying object"
        default: return "Validating manifest item"
        }
    }

    static func intArray(_ v: [Int]) -> String { "{" + v.map(String.init).joined(separator: ",") + "}" }
}

/// Streams a stored manifest block by block.
struct ManifestBlockSource: ByteSource {
    let connection: PGConnection
    let jobID: String
    var seq = 0
    var block: [UInt8] = []
    var offset = 0
    var done = false

    init(connection: PGConnection, jobID: String) {
        self.connection = connection
        self.jobID = jobID
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset == block.count {
            if done { return 0 }
            let rows = try connection.query("SELECT data FROM manifest_blocks WHERE job_id = $1 AND seq = $2", [jobID, String(seq)])
            guard rows.count == 1, let hex = rows[0, 0] else { done = true; return 0 }
            block = try Hex.decodeBytea(hex)
            offset = 0
            seq += 1
            if block.isEmpty { done = true; return 0 }
        }
        let n = min(buffer.count, block.count - offset)
        block.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// bytea in text form (`\x0a1b…`).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func byteaLiteral(_ bytes: ArraySlice<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2 + 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeBytea(_ text: String) throws -> [UInt8] {
        var u = Array(text.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x"), u.count % 2 == 0 else {
            throw PostgresError(sqlState: nil, message: "unexpected bytea text form")
        }
        u.removeFirst(2)
        var out = [UInt8](repeating: 0, count: u.count / 2)
        func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        for i in 0..<out.count { out[i] = v(u[2 * i]) << 4 | v(u[2 * i + 1]) }
        return out
    }
}

/// PostgreSQL array literals in text form.
enum PGArray {
    static func text(_ values: [String]) -> String {
        var out = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in v.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}

/// Reads the JSON arrays PostgreSQL renders (`array_to_json`) with our own tokenizer.
enum JSONArrayText {
    static func strings(_ text: String, numbers: Bool = false) -> [String] {
        guard case .array(let items)? = JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.compactMap {
            switch $0 {
            case .string(let s): return s
            case .number(let n): return numbers ? n : nil
            default: return nil
            }
        }
    }
}

extension PGRows {
    /// `rows[i, j]`: the value at row i, column j (nil for NULL).
    subscript(_ row: Int, _ column: Int) -> String? { self[row: row, column: column] }
}

/// jsonb refuses the escape `\u0000` (PostgreSQL text holds no NUL); client metadata is kept
/// verbatim otherwise, so only that escape becomes `\ufffd`.
enum JSONBText {
    static func withoutNULEscapes(_ json: String) -> String {
        guard json.contains("\\u0000") else { return json }
        var out: [UInt8] = []
        let b = Array(json.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 1 < b.count {
                if b[i + 1] == UInt8(ascii: "u"), i + 5 < b.count, b[(i + 2)...(i + 5)].elementsEqual("0000".utf8) {
                    out += Array("\\ufffd".utf8)
                    i += 6
                    continue
                }
                out += [b[i], b[i + 1]]  // any other escape, including `\\`, stays as it is
                i += 2
                continue
            }
            out.append(b[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
