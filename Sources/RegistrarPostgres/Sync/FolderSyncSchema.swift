/// Migration 14's SQL: cloud-synced folders (docs/sync.md).
enum FolderSyncSchema {
    /// A binding's store: `s3` (ListObjectsV2), `gs` (GCS JSON API listing) or `azure` (List
    /// Blobs; `bucket` holds the container's URL): how its files' URLs are written too. Bindings
    /// made before are S3 ones.
    static let migration16 = """
        ALTER TABLE folder_syncs ADD COLUMN scheme text NOT NULL DEFAULT 's3' CHECK (scheme IN ('s3', 'gs', 'azure'));
        """

    static let sql = """
    -- A folder bound to a bucket prefix. The notification secret is kept as its SHA-256 only.
    CREATE TABLE folder_syncs (
        folder_id uuid PRIMARY KEY REFERENCES folders ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants,
        integration_id uuid NOT NULL REFERENCES integrations ON DELETE RESTRICT,
        bucket text NOT NULL,
        prefix text NOT NULL,
        interval_seconds integer CHECK (interval_seconds IS NULL OR interval_seconds >= 60),
        sidecar_suffix text,
        append_only boolean NOT NULL DEFAULT false,
        notify_secret_sha256 bytea NOT NULL,
        last_key text,
        current_job uuid,                        -- the sync job started last (one runs at a time)
        next_due_at timestamptz,                 -- interval bindings: when the next sync starts
        listing jsonb,                           -- the current/last listing's counts
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX folder_syncs_due ON folder_syncs (next_due_at) WHERE interval_seconds IS NOT NULL;

    -- Files a sync records: keyed by object key within the folder; ETags decide what changed.
    -- verified_at NULL = listed, not yet verified. probe_job/probe_seq: the sync chunk that
    -- probes the file (set in the listing's transaction, so a re-plan finds the same chunks).
    ALTER TABLE files
        ADD COLUMN sync_key text,
        ADD COLUMN sync_etag text,
        ADD COLUMN sidecar_etag text,
        ADD COLUMN sync_seen uuid,
        ADD COLUMN tombstoned_at timestamptz,
        ADD COLUMN probe_job uuid,
        ADD COLUMN probe_seq integer,
        ADD COLUMN probe_unit integer,
        ADD COLUMN probe_error text;
    CREATE UNIQUE INDEX files_by_sync_key ON files (folder_id, sync_key) WHERE sync_key IS NOT NULL;
    CREATE INDEX files_by_probe_chunk ON files (probe_job, probe_seq) WHERE probe_job IS NOT NULL;

    -- A sync job's chunks as the planner assigned them (a re-plan emits these first).
    CREATE TABLE folder_sync_chunks (
        job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
        seq integer NOT NULL,
        first_unit integer NOT NULL,
        unit_count integer NOT NULL,
        last_unit integer NOT NULL,
        PRIMARY KEY (job_id, seq)
    );
    """
}
