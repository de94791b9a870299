/// Registrar's PostgreSQL schema, as versioned migrations (`registrar migrate` applies the
/// missing ones in order, under an advisory lock, each in its own transaction). Never edit a
/// migration that has shipped: add a new one.
public enum Schema {
    /// The tenant every object belongs to until API keys and tenants arrive.
    public static let defaultTenantID = "00000000-0000-0000-0000-000000000001"

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "registration core", sql: """
        CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            name text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO tenants (id, name) VALUES ('\(defaultTenantID)', 'default');

        CREATE TABLE folders (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, name)
        );

        -- One manifest submitted into one folder.
        CREATE TABLE upload_jobs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants,
            folder_id uuid NOT NULL REFERENCES folders,
            file_name text,
            format text NOT NULL CHECK (format IN ('json', 'csv')),
            manifest_bytes bigint NOT NULL,
            ignore_errors boolean NOT NULL,
            skip_duplicates boolean,                 -- known after pass 1 (JSON: skip_duplicate_urls)
            status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE', 'ERROR', 'CANCELLED')),
            phase text NOT NULL DEFAULT 'received' CHECK (phase IN ('received', 'splitting', 'verifying', 'finished')),
            cancel_requested boolean NOT NULL DEFAULT false,
            total_units integer,
            total_urls integer,
            total_chunks integer,
            split_done boolean NOT NULL DEFAULT false,
            error jsonb,                             -- why the manifest was refused
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz
        );
        CREATE INDEX upload_jobs_by_folder ON upload_jobs (folder_id, created_at);

        -- The manifest as submitted, in 1 MiB blocks, so the coordinator can stream it.
        CREATE TABLE manifest_blocks (
            job_id uuid NOT NULL REFERENCES upload_jobs ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (job_id, seq)
        );

        -- The chunk ledger: written before a chunk is published; a worker marks it done in the
        -- same transaction as its file records, with the chunk's counts. Job counts are sums.
        CREATE TABLE chunks (
            job_id uuid NOT NULL REFERENCES upload_jobs ON DELETE CASCADE,
            seq integer NOT NULL,
            first_unit integer NOT NULL,
            unit_count integer NOT NULL,
            url_count integer NOT NULL,
            published boolean NOT NULL DEFAULT false,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
            done_count integer NOT NULL DEFAULT 0,
            error_count integer NOT NULL DEFAULT 0,
            skipped_count integer NOT NULL DEFAULT 0,
            cancelled_count integer NOT NULL DEFAULT 0,
            finished_at timestamptz,
            PRIMARY KEY (job_id, seq)
        );
        CREATE INDEX chunks_pending ON chunks (job_id) WHERE state = 'pending';

        -- Registered files (units). (job_id, unit_index) makes redelivery idempotent.
        CREATE TABLE files (
            id bigserial PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            folder_id uuid NOT NULL REFERENCES folders,
            job_id uuid NOT NULL REFERENCES upload_jobs,
            unit_index integer NOT NULL,
            type text NOT NULL,
            title text NOT NULL,
            url text NOT NULL,                       -- the first URL
            urls text[] NOT NULL,                    -- every URL, in frame order
            url_key text NOT NULL,
            url_key_hash bytea NOT NULL,             -- sha256(url_key)
            size bigint,
            mime_type text,
            etag text,
            width integer,
            height integer,
            fps double precision,
            duration double precision,
            frame_count bigint,
            codec text,
            sample_rate integer,
            channels integer,
            bit_depth integer,
            page_count integer,
            dicom_study_uid text,
            dicom_series_uid text,
            dicom_sop_uids text[],
            dicom_modality text,
            nifti_dims integer[],
            nifti_pixdim double precision[],
            client_metadata jsonb,
            metadata_supplied boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            verified_at timestamptz,
            UNIQUE (job_id, unit_index)
        );
        CREATE INDEX files_by_folder ON files (folder_id, id);

        -- The first unit registered in a folder for each URL key: with skip_duplicate_urls a
        -- unit whose key is already here is skipped; this key decides, Redis only answers fast.
        CREATE TABLE folder_url_keys (
            folder_id uuid NOT NULL REFERENCES folders,
            url_key_hash bytea NOT NULL,
            job_id uuid NOT NULL,
            unit_index integer NOT NULL,
            PRIMARY KEY (folder_id, url_key_hash)
        );

        CREATE TABLE unit_errors (
            job_id uuid NOT NULL REFERENCES upload_jobs ON DELETE CASCADE,
            unit_index integer NOT NULL,
            object_urls text[] NOT NULL,
            code text NOT NULL,
            message text NOT NULL,
            action text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (job_id, unit_index)
        );
        """),
        Migration(version: 2, name: "probe results", sql: """
        ALTER TABLE files
            ADD COLUMN format text,
            ADD COLUMN text_encoding text,
            ADD COLUMN dicom_instance_number integer,
            ADD COLUMN dicom_has_patient_id boolean,
            ADD COLUMN probe_requests integer,
            ADD COLUMN probe_bytes integer;
        """),
        // (Versions 3 and 4 belong to other branches; the migrator applies missing versions in order.)
        Migration(version: 5, name: "dead chunks", sql: """
        -- Chunks the broker dead-lettered (delivery limit reached, or refused by a worker). Their
        -- units are recorded failed (internal_error) so the job finishes; the row keeps the chunk's
        -- message until an operator replays it (`registrar dlq replay`) or discards it (`dlq discard`).
        CREATE TABLE dead_chunks (
            job_id uuid NOT NULL,
            seq integer NOT NULL,
            first_unit integer NOT NULL,
            unit_count integer NOT NULL,
            deaths integer NOT NULL DEFAULT 1,      -- times this chunk was dead-lettered
            deliveries integer NOT NULL,            -- the broker's delivery count at the last death
            reason text NOT NULL,                   -- delivery_limit | rejected
            body bytea NOT NULL,                    -- the chunk message, for replay
            state text NOT NULL DEFAULT 'dead' CHECK (state IN ('dead', 'replaying', 'replayed', 'discarded')),
            replays integer NOT NULL DEFAULT 0,
            first_dead_at timestamptz NOT NULL DEFAULT now(),
            last_dead_at timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            PRIMARY KEY (job_id, seq),
            FOREIGN KEY (job_id, seq) REFERENCES chunks ON DELETE CASCADE
        );
        CREATE INDEX dead_chunks_open ON dead_chunks (job_id) WHERE state IN ('dead', 'replaying');
        """),
    ]
}
