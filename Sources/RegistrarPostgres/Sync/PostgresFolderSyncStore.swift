import RegistrarCore
import RegistrarRuntime

/// The folder-sync kind's rows on PostgreSQL (`folder_syncs`, the sync columns of `files`,
/// `folder_sync_chunks`), plus the binding operations the CLI and the API use. Probe results
/// commit through the engine's guarded commit on the same connection.
///
/// Owns one `PGConnection` (shared with `jobs`); used from one thread only.
public final class PostgresFolderSyncStore: FolderSyncStore, FolderSyncAPIStore {
    public let connection: PGConnection
    public let jobs: PostgresJobStore
    private var stagingReady = false

    public init(connection: PGConnection) {
        self.connection = connection
        self.jobs = PostgresJobStore(connection: connection)
    }

    public convenience init(url: String) throws {
        self.init(connection: try PGConnection(url: url))
    }

    // MARK: Bindings

    /// Binds a folder (of the tenant) to a bucket prefix read with an integration (of the tenant).
    public func createBinding(tenantID: String, folderID: String, integrationID: String, spec: SyncBindingSpec) throws -> SyncBindingCreated {
        guard UUIDText.isValid(folderID), UUIDText.isValid(integrationID) else { return UUIDText.isValid(folderID) ? .integrationNotFound : .folderNotFound }
        let secret = NotificationSecret.generate()
        return try connection.withTransaction {
            guard try connection.query("SELECT 1 FROM folders WHERE id = $1 AND tenant_id = $2", [folderID, tenantID]).count == 1 else { return .folderNotFound }
            let kind = try connection.query("SELECT kind FROM integrations WHERE id = $1 AND tenant_id = $2", [integrationID, tenantID])
            guard kind.count == 1 else { return .integrationNotFound }
            let rows = try connection.query("""
                INSERT INTO folder_syncs (folder_id, tenant_id, integration_id, bucket, prefix, interval_seconds, sidecar_suffix,
                                          append_only, notify_secret_sha256, next_due_at, scheme)
                VALUES ($1, $2, $3, $4, $5, $6::int, $7, $8, decode($9, 'hex'),
                        CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(secs => $6::int) END, $10)
                ON CONFLICT (folder_id) DO NOTHING RETURNING folder_id
                """, [folderID, tenantID, integrationID, spec.bucket, spec.prefix, spec.intervalSeconds.map(String.init), spec.sidecarSuffix,
                      spec.appendOnly ? "true" : "false", NotificationSecret.digest(secret), spec.scheme])
            return rows.count == 1 ? .created(secret: secret) : .exists
        }
    }

    /// The binding as the API shows it (never the secret): `{"folderId","integrationId","uri",
    /// "intervalSeconds","sidecarSuffix","appendOnly","lastKey","nextDueAt","job","listing"}`.
    public func bindingJSON(tenantID: String, folderID: String) throws -> String? {
        guard UUIDText.isValid(folderID) else { return nil }
        let rows = try connection.query("""
            SELECT json_build_object('folderId', s.folder_id, 'integrationId', s.integration_id,
                   'uri', CASE WHEN s.scheme = 'azure' THEN s.bucket ELSE s.scheme || '://' || s.bucket END || '/' || s.prefix, 'intervalSeconds', s.interval_seconds,
                   'sidecarSuffix', s.sidecar_suffix, 'appendOnly', s.append_only, 'lastKey', s.last_key,
                   'nextDueAt', \(SQLTime.iso("s.next_due_at")), 'createdAt', \(SQLTime.iso("s.created_at")),
                   'job', CASE WHEN j.id IS NULL THEN NULL ELSE json_build_object('id', j.id, 'status', j.status, 'phase', j.phase,
                          'total', j.total_units, 'totalKnown', j.total_units IS NOT NULL, 'startedAt', \(SQLTime.iso("j.started_at")), 'finishedAt', \(SQLTime.iso("j.finished_at"))) END,
                   'listing', s.listing,
                   'files', (SELECT json_build_object('total', count(*), 'verified', count(*) FILTER (WHERE verified_at IS NOT NULL AND tombstoned_at IS NULL),
                                                      'unverified', count(*) FILTER (WHERE verified_at IS NULL AND probe_error IS NULL AND tombstoned_at IS NULL),
                                                      'failed', count(*) FILTER (WHERE probe_error IS NOT NULL AND tombstoned_at IS NULL),
                                                      'tombstoned', count(*) FILTER (WHERE tombstoned_at IS NOT NULL))
                             FROM files f WHERE f.folder_id = s.folder_id AND f.sync_key IS NOT NULL))::text
            FROM folder_syncs s LEFT JOIN jobs j ON j.id = s.current_job
            WHERE s.folder_id = $1 AND s.tenant_id = $2
            """, [folderID, tenantID])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    /// Removes a binding (the files stay). False when there was none. A running sync finishes.
    public func deleteBinding(tenantID: String, folderID: String) throws -> Bool {
        guard UUIDText.isValid(folderID) else { return false }
        return try connection.query("DELETE FROM folder_syncs WHERE folder_id = $1 AND tenant_id = $2 RETURNING 1", [folderID, tenantID]).count == 1
    }

    /// Starts a sync of the folder: a `folder-sync` job, unless one is running (the binding row
    /// is locked, so two callers never both start one). `keys`: a notification's keys only.
    public func startSync(tenantID: String, folderID: String, keys: (created: [NotifiedKey], removed: [String])?) throws -> SyncStart {
        guard UUIDText.isValid(folderID) else { return .noBinding }
        return try connection.withTransaction {
            let rows = try connection.query("""
                SELECT s.append_only, s.last_key, j.id, j.status FROM folder_syncs s LEFT JOIN jobs j ON j.id = s.current_job
                WHERE s.folder_id = $1 AND s.tenant_id = $2 FOR UPDATE OF s
                """, [folderID, tenantID])
            guard rows.count == 1 else { return .noBinding }
            if let running = rows[0, 2], rows[0, 3] == "PENDING", keys == nil { return .running(jobID: running) }
            let mode: SyncJobParams.Mode
            if let keys { mode = .keys(created: keys.created, removed: keys.removed) }
            else { mode = .listing(startAfter: rows[0, 0] == "t" ? rows[0, 1] : nil) }
            let id = try jobs.createJob(NewJob(kind: FolderSync.kind, tenantID: tenantID, ignoreErrors: true,
                                               params: SyncJobParams(folderID: folderID, mode: mode).json))
            if keys == nil {
                _ = try connection.query("""
                    UPDATE folder_syncs SET current_job = $2,
                           next_due_at = CASE WHEN interval_seconds IS NULL THEN NULL ELSE now() + make_interval(secs => interval_seconds) END
                    WHERE folder_id = $1
                    """, [folderID, id])
            }
            return .started(jobID: id)
        }
    }

    /// Claims one binding whose interval sync is due and starts its sync (safe with several
    /// coordinators: the row is claimed with SKIP LOCKED, and a binding with a running sync is
    /// not due). Returns the new job's id, nil when nothing is due.
    public func claimDueSync() throws -> String? {
        try connection.withTransaction {
            let rows = try connection.query("""
                SELECT s.folder_id, s.tenant_id FROM folder_syncs s
                WHERE s.interval_seconds IS NOT NULL AND s.next_due_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = s.current_job AND j.status = 'PENDING')
                ORDER BY s.next_due_at LIMIT 1 FOR UPDATE OF s SKIP LOCKED
                """)
            guard rows.count == 1 else { return nil }
            if case .started(let id) = try startSync(tenantID: rows[0, 1]!, folderID: rows[0, 0]!, keys: nil) { return id }
            return nil
        }
    }

    public func notificationTarget(folderID: String) throws -> SyncNotificationTarget? {
        guard UUIDText.isValid(folderID) else { return nil }
        let rows = try connection.query("SELECT tenant_id, bucket, encode(notify_secret_sha256, 'hex') FROM folder_syncs WHERE folder_id = $1", [folderID])
        guard rows.count == 1 else { return nil }
        return SyncNotificationTarget(tenantID: rows[0, 0]!, bucket: rows[0, 1]!, secretDigest: rows[0, 2]!)
    }

    // MARK: FolderSyncStore

    public func syncBinding(folderID: String) throws -> SyncBinding? {
        guard UUIDText.isValid(folderID) else { return nil }
        let rows = try connection.query("""
            SELECT tenant_id, integration_id, bucket, prefix, interval_seconds, sidecar_suffix, append_only, last_key, scheme
            FROM folder_syncs WHERE folder_id = $1
            """, [folderID])
        guard rows.count == 1 else { return nil }
        let spec = SyncBindingSpec(scheme: rows[0, 8]!, bucket: rows[0, 2]!, prefix: rows[0, 3]!, intervalSeconds: rows[0, 4].flatMap { Int($0) },
                                   sidecarSuffix: rows[0, 5], appendOnly: rows[0, 6] == "t")
        return SyncBinding(folderID: folderID, tenantID: rows[0, 0]!, integrationID: rows[0, 1]!, spec: spec, lastKey: rows[0, 7])
    }

    public func storedStates(folderID: String, keys: [String]) throws -> [String: (state: StoredSyncState, probeJob: String?)] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT sync_key, coalesce(sync_etag, ''), sidecar_etag, tombstoned_at IS NOT NULL,
                   verified_at IS NOT NULL OR probe_error IS NOT NULL, probe_job
            FROM files WHERE folder_id = $1 AND sync_key = ANY($2::text[])
            """, [folderID, PGArray.text(keys)])
        var out: [String: (state: StoredSyncState, probeJob: String?)] = [:]
        for i in 0..<rows.count {
            out[rows[i, 0]!] = (StoredSyncState(etag: rows[i, 1]!, sidecarETag: rows[i, 2], tombstoned: rows[i, 3] == "t", settled: rows[i, 4] == "t"),
                                rows[i, 5])
        }
        return out
    }

    /// `s3://bucket/key`, `gs://bucket/key` or an Azure blob URL, the key path-encoded (so `?`,
    /// `#` and `%` in keys survive).
    public static func objectURL(scheme: String, bucket: String, key: String) -> String {
        SyncBindingSpec.objectURL(scheme: scheme, bucket: bucket, key: key)
    }

    public func recordListedPage(jobID: String, binding: SyncBinding, entries: [SyncPlanEntry], firstSeq: Int, chunkUnits: Int) throws -> [LedgerChunk] {
        guard !entries.isEmpty else { return [] }
        // Chunks: the probed entries, in listing order, `chunkUnits` at a time.
        let probed = entries.filter { $0.unit != nil }
        var chunks: [LedgerChunk] = []
        var seqOf: [String: Int] = [:]
        var start = 0
        while start < probed.count {
            let part = probed[start..<min(start + chunkUnits, probed.count)]
            let seq = firstSeq + chunks.count
            chunks.append(LedgerChunk(seq: seq, firstUnit: part.first!.unit!, unitCount: part.count, lastUnit: part.last!.unit!))
            for e in part { seqOf[e.object.object.key] = seq }
            start += chunkUnits
        }
        let bucket = binding.spec.bucket, scheme = binding.spec.scheme
        func col(_ list: [SyncPlanEntry], _ f: (SyncPlanEntry) -> String) -> String { PGArray.text(list.map(f)) }
        try connection.withTransaction {
            let creates = entries.filter { $0.action == .create && $0.unit != nil }
            if !creates.isEmpty {
                let urls = creates.map { Self.objectURL(scheme: scheme, bucket: bucket, key: $0.object.object.key) }
                _ = try connection.query("""
                    INSERT INTO files (tenant_id, folder_id, job_id, unit_index, type, title, url, urls, url_key, url_key_hash, size, etag,
                                       sync_key, sync_etag, sidecar_etag, sync_seen, probe_job, probe_seq, probe_unit)
                    SELECT $1::uuid, $2::uuid, $3::uuid, u.unit, u.type, u.key, u.url, ARRAY[u.url], u.urlkey, sha256(convert_to(u.urlkey, 'UTF8')),
                           u.size, nullif(u.etag, ''), u.key, u.etag, nullif(u.sidecar, ''), $3::uuid, $3::uuid, u.seq, u.unit
                    FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::int[], $11::int[], $12::text[])
                         AS u(key, url, urlkey, size, etag, sidecar, unit, seq, type)
                    ON CONFLICT (folder_id, sync_key) WHERE sync_key IS NOT NULL DO NOTHING
                    """, [binding.tenantID, binding.folderID, jobID,
                          col(creates) { $0.object.object.key }, PGArray.text(urls), PGArray.text(urls.map { URLKey.forUnit([$0]) }),
                          "{" + creates.map { String($0.object.object.size) }.joined(separator: ",") + "}",
                          col(creates) { $0.object.object.etag }, col(creates) { $0.object.sidecarETag ?? "" },
                          PGArray.ints(creates.map { $0.unit! }), PGArray.ints(creates.map { seqOf[$0.object.object.key]! }),
                          col(creates) { $0.object.type!.rawValue }])
                // Not verified yet: mirrored datasets take these files when their probe verifies them (commitProbes).
            }
            let reprobes = entries.filter { $0.action != .create && $0.unit != nil }
            if !reprobes.isEmpty {
                _ = try connection.query("""
                    UPDATE files f SET size = u.size, etag = nullif(u.etag, ''), sync_etag = u.etag, sidecar_etag = nullif(u.sidecar, ''),
                           tombstoned_at = NULL, verified_at = NULL, probe_error = NULL, sync_seen = $2::uuid,
                           probe_job = $2::uuid, probe_seq = u.seq, probe_unit = u.unit
                    FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::int[]) AS u(key, size, etag, sidecar, unit, seq)
                    WHERE f.folder_id = $1::uuid AND f.sync_key = u.key
                    """, [binding.folderID, jobID, col(reprobes) { $0.object.object.key },
                          "{" + reprobes.map { String($0.object.object.size) }.joined(separator: ",") + "}",
                          col(reprobes) { $0.object.object.etag }, col(reprobes) { $0.object.sidecarETag ?? "" },
                          PGArray.ints(reprobes.map { $0.unit! }), PGArray.ints(reprobes.map { seqOf[$0.object.object.key]! })])
            }
            let restores = entries.filter { $0.action == .restore }
            if !restores.isEmpty {
                let back = try connection.query("""
                    UPDATE files SET tombstoned_at = NULL, sync_seen = $2::uuid WHERE folder_id = $1::uuid AND sync_key = ANY($3::text[])
                    RETURNING CASE WHEN verified_at IS NOT NULL THEN id END
                    """, [binding.folderID, jobID, col(restores) { $0.object.object.key }])
                let verified = (0..<back.count).compactMap { back[$0, 0].flatMap { Int($0) } }
                // A verified file back from the dead joins the mirrored datasets it was skipped by while tombstoned,
                try Self.mirror(connection, folderID: binding.folderID, fileIDs: verified)
                // and gets the tasks task creation skipped while it was tombstoned.
                try Self.makeTasks(connection, fileIDs: verified)
            }
            let seen = entries.filter { $0.unit == nil && $0.action != .restore }
            if !seen.isEmpty {
                _ = try connection.query("""
                    UPDATE files SET sync_seen = $2::uuid
                    WHERE folder_id = $1::uuid AND sync_key = ANY($3::text[]) AND sync_seen IS DISTINCT FROM $2::uuid
                    """, [binding.folderID, jobID, col(seen) { $0.object.object.key }])
            }
            if !chunks.isEmpty {
                _ = try connection.query("""
                    INSERT INTO folder_sync_chunks (job_id, seq, first_unit, unit_count, last_unit)
                    SELECT $1, s, f, n, l FROM unnest($2::int[], $3::int[], $4::int[], $5::int[]) AS t(s, f, n, l)
                    ON CONFLICT DO NOTHING
                    """, [jobID, PGArray.ints(chunks.map(\.seq)), PGArray.ints(chunks.map(\.firstUnit)),
                          PGArray.ints(chunks.map(\.unitCount)), PGArray.ints(chunks.map(\.lastUnit))])
            }
        }
        return chunks
    }

    /// Mirrored datasets of the folder take these (verified, live) files, in the caller's
    /// transaction (docs/datasets.md); their tasks follow from the membership trigger.
    static func mirror(_ connection: PGConnection, folderID: String, fileIDs: [Int]) throws {
        guard !fileIDs.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO dataset_files (dataset_id, file_id, copy)
            SELECT d.id, x.id, 0 FROM files x JOIN datasets d ON d.mirrored_folder_id = $1::uuid
            WHERE x.id = ANY($2::bigint[]) AND x.folder_id = $1::uuid AND x.verified_at IS NOT NULL AND x.tombstoned_at IS NULL
            ORDER BY x.id
            ON CONFLICT (dataset_id, file_id, copy) DO NOTHING
            """, [folderID, PGArray.ints(fileIDs)])
    }

    /// Tasks for these files' data units in every project their datasets are attached to (what
    /// the `dataset_units_make_tasks` trigger does for new members, under the same shared
    /// per-dataset lock), for members that task creation skipped while they were tombstoned.
    static func makeTasks(_ connection: PGConnection, fileIDs: [Int]) throws {
        guard !fileIDs.isEmpty else { return }
        _ = try connection.query("""
            SELECT pg_advisory_xact_lock_shared(hashtextextended(d::text, 13))
            FROM (SELECT DISTINCT dataset_id AS d FROM dataset_files WHERE file_id = ANY($1::bigint[]) ORDER BY 1) x
            """, [PGArray.ints(fileIDs)])
        _ = try connection.query("""
            INSERT INTO tasks (project_id, data_unit, stage)
            SELECT pd.project_id, m.id, workflow_first_stage(p.workflow)
            FROM dataset_files m JOIN project_datasets pd ON pd.dataset_id = m.dataset_id JOIN projects p ON p.id = pd.project_id
            WHERE m.file_id = ANY($1::bigint[])
            ORDER BY m.id
            ON CONFLICT (project_id, data_unit) DO NOTHING
            """, [PGArray.ints(fileIDs)])
    }

    public func assignedChunks(jobID: String) throws -> [LedgerChunk] {
        let rows = try connection.query("SELECT seq, first_unit, unit_count, last_unit FROM folder_sync_chunks WHERE job_id = $1 ORDER BY seq", [jobID])
        return (0..<rows.count).map {
            LedgerChunk(seq: Int(rows[$0, 0]!)!, firstUnit: Int(rows[$0, 1]!)!, unitCount: Int(rows[$0, 2]!)!, lastUnit: Int(rows[$0, 3]!)!)
        }
    }

    public func recordListing(jobID: String, folderID: String, stats: SyncListingStats, total: Int?, lastKey: String?) throws {
        try connection.withTransaction {
            _ = try connection.query("UPDATE jobs SET total_units = $2::int WHERE id = $1", [jobID, total.map(String.init)])
            _ = try connection.query("""
                UPDATE folder_syncs SET listing = $3::jsonb,
                       last_key = CASE WHEN $4::text IS NOT NULL AND (last_key IS NULL OR $4::text > last_key COLLATE "C") THEN $4::text ELSE last_key END
                WHERE folder_id = $1 AND (current_job = $2::uuid OR current_job IS NULL)
                """, [folderID, jobID, stats.json.compactText, lastKey])
        }
    }

    public func tombstoneUnseen(jobID: String, folderID: String) throws -> Int {
        try connection.query("""
            UPDATE files SET tombstoned_at = now()
            WHERE folder_id = $1 AND sync_key IS NOT NULL AND tombstoned_at IS NULL AND sync_seen IS DISTINCT FROM $2::uuid
            RETURNING 1
            """, [folderID, jobID]).count
    }

    public func tombstone(folderID: String, keys: [String]) throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try connection.query("""
            UPDATE files SET tombstoned_at = now() WHERE folder_id = $1 AND sync_key = ANY($2::text[]) AND tombstoned_at IS NULL RETURNING 1
            """, [folderID, PGArray.text(keys)]).count
    }

    public func chunkFiles(_ id: ChunkID) throws -> [SyncFile] {
        guard UUIDText.isValid(id.jobID) else { return [] }
        let rows = try connection.query("""
            SELECT f.id, f.probe_unit, f.sync_key, f.url, f.type, f.sidecar_etag IS NOT NULL, s.bucket, s.sidecar_suffix, s.scheme
            FROM files f JOIN folder_syncs s ON s.folder_id = f.folder_id
            WHERE f.probe_job = $1::uuid AND f.probe_seq = $2 ORDER BY f.probe_unit
            """, [id.jobID, String(id.seq)])
        return (0..<rows.count).compactMap { i in
            guard let type = DataType(rawValue: rows[i, 4]!) else { return nil }
            let key = rows[i, 2]!
            var sidecar: String?
            if rows[i, 5] == "t", let suffix = rows[i, 7] { sidecar = Self.objectURL(scheme: rows[i, 8]!, bucket: rows[i, 6]!, key: key + suffix) }
            return SyncFile(fileID: Int64(rows[i, 0]!)!, unit: Int(rows[i, 1]!)!, key: key, url: rows[i, 3]!, type: type, sidecarURL: sidecar)
        }
    }

    public func commitProbes(_ result: SyncProbeResult, id: ChunkID, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try ensureStaging()
        return try jobs.commitChunk(id, deadLetter: deadLetter) { connection in
            // Key share on the folder, like a registration's file inserts: a mirrored dataset
            // being created waits for this commit (its attach then sees these files verified),
            // or this commit waits for it (and the mirror insert below sees the dataset).
            let folder = try connection.query("""
                SELECT id FROM folders WHERE id = (SELECT folder_id FROM files WHERE probe_job = $1::uuid AND probe_seq = $2 LIMIT 1) FOR KEY SHARE
                """, [id.jobID, String(id.seq)])
            var rows: [[String?]] = []
            var failed: [Int] = []
            for item in result.items {
                switch item {
                case .verified(let fileID, let info, let metadata):
                    let unit = RegistrationUnit(index: 0, type: .image, urls: [""], givenTitle: "", clientMetadata: metadata, urlKey: "",
                                                location: ItemLocation(section: "sync", indexInSection: 0, line: 0))
                    rows.append([String(fileID)] + Array(PostgresRegistry.stagingRow(unit, info).dropFirst(5)))
                case .failed(let fileID, _):
                    failed.append(Int(fileID))
                }
            }
            var done = 0
            if !rows.isEmpty {
                _ = try connection.copyIn("COPY staging_sync (\(Self.stagingColumns)) FROM STDIN", rows: rows)
                let verified = try connection.query("""
                    UPDATE files f SET size = coalesce(s.size, f.size), mime_type = s.mime_type, etag = coalesce(s.etag, f.etag),
                           sync_etag = coalesce(nullif(f.sync_etag, ''), btrim(s.etag, '"'), ''),
                           width = s.width, height = s.height, fps = s.fps, duration = s.duration, frame_count = s.frame_count, codec = s.codec,
                           sample_rate = s.sample_rate, channels = s.channels, bit_depth = s.bit_depth, page_count = s.page_count,
                           client_metadata = s.client_metadata, format = s.format, text_encoding = s.text_encoding,
                           dicom_study_uid = s.dicom_study_uid, dicom_series_uid = s.dicom_series_uid, dicom_sop_uids = s.dicom_sop_uids,
                           dicom_modality = s.dicom_modality, dicom_instance_number = s.dicom_instance_number,
                           dicom_has_patient_id = s.dicom_has_patient_id, nifti_dims = s.nifti_dims, nifti_pixdim = s.nifti_pixdim,
                           probe_requests = s.probe_requests, probe_bytes = s.probe_bytes, probe_error = NULL, verified_at = now()
                    FROM staging_sync s
                    WHERE f.id = s.file_id AND f.probe_job = $1::uuid AND f.probe_seq = $2
                    RETURNING f.id
                    """, [id.jobID, String(id.seq)])
                done = verified.count
                if folder.count == 1 {
                    try Self.mirror(connection, folderID: folder[0, 0]!, fileIDs: (0..<verified.count).compactMap { verified[$0, 0].flatMap { Int($0) } })
                }
            }
            if !failed.isEmpty {
                let codes = result.items.compactMap { if case .failed(_, let e) = $0 { return e.code.rawValue } else { return nil } }
                _ = try connection.query("""
                    UPDATE files f SET probe_error = u.code, verified_at = NULL
                    FROM unnest($3::bigint[], $4::text[]) AS u(id, code)
                    WHERE f.id = u.id AND f.probe_job = $1::uuid AND f.probe_seq = $2
                    """, [id.jobID, String(id.seq), PGArray.ints(failed), PGArray.text(codes)])
            }
            return ChunkWrite(done: done, skipped: rows.count - done, errors: result.errors)
        }
    }

    static let stagingColumns = "file_id, size, mime_type, etag, width, height, fps, duration, frame_count, codec, sample_rate, channels, bit_depth, page_count, client_metadata, metadata_supplied, format, text_encoding, dicom_study_uid, dicom_series_uid, dicom_sop_uids, dicom_modality, dicom_instance_number, dicom_has_patient_id, nifti_dims, nifti_pixdim, probe_requests, probe_bytes"

    private func ensureStaging() throws {
        guard !stagingReady else { return }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS staging_sync (
                file_id bigint, size bigint, mime_type text, etag text,
                width integer, height integer, fps double precision, duration double precision, frame_count bigint, codec text,
                sample_rate integer, channels integer, bit_depth integer, page_count integer, client_metadata jsonb,
                metadata_supplied boolean, format text, text_encoding text, dicom_study_uid text, dicom_series_uid text,
                dicom_sop_uids text[], dicom_modality text, dicom_instance_number integer, dicom_has_patient_id boolean,
                nifti_dims integer[], nifti_pixdim double precision[], probe_requests integer, probe_bytes integer
            ) ON COMMIT DELETE ROWS;
            """)
        stagingReady = true
    }
}

