import RegistrarRuntime

/// Registrar's PostgreSQL schema, as versioned migrations (`registrar migrate` applies the
/// missing ones in order, under an advisory lock, each in its own transaction). Never edit a
/// migration that has shipped: add a new one.
public enum Schema {
    /// The tenant every object belongs to until API keys and tenants arrive.
    public static let defaultTenantID = DefaultTenant.id

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
        Migration(version: 3, name: "integrations", sql: """
        -- Cloud storage integrations (issue 5). Credentials are sealed with AES-256-GCM
        -- (CredentialCipher: "v1:KEYID:BASE64"); key_id repeats the envelope's key id so
        -- `integrations rotate-key` finds what is not yet under the current key.
        CREATE TABLE integrations (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            name text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('aws', 's3-compatible', 'gcp', 'azure', 'direct')),
            settings jsonb NOT NULL DEFAULT '{}',
            credentials text NOT NULL,
            key_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, name)
        );
        CREATE INDEX integrations_by_key ON integrations (key_id);

        -- The integration a job's objects are read with (NULL: URLs fetched as given).
        -- RESTRICT: an integration in use by a job cannot vanish under its workers.
        ALTER TABLE upload_jobs ADD COLUMN integration_id uuid REFERENCES integrations ON DELETE RESTRICT;
        CREATE INDEX upload_jobs_by_integration ON upload_jobs (integration_id) WHERE integration_id IS NOT NULL;
        """),
        Migration(version: 4, name: "api keys and retries", sql: """
        -- API keys: only a SHA-256 of the key is stored (keys are 190+ bits of randomness, so a
        -- fast hash is enough; a password hash would only slow every request down).
        CREATE TABLE api_keys (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            name text,
            prefix text NOT NULL,                    -- the key's first characters, to tell keys apart
            key_hash text NOT NULL UNIQUE,           -- hex sha256 of the whole key
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );

        -- A retry job registers exactly the failed units of another job, reading that job's
        -- stored manifest (no re-upload); its units keep their original indexes.
        ALTER TABLE upload_jobs
            ADD COLUMN retry_of uuid REFERENCES upload_jobs,
            ADD COLUMN manifest_job_id uuid REFERENCES upload_jobs;

        CREATE INDEX upload_jobs_by_tenant ON upload_jobs (tenant_id, created_at DESC, id DESC);
        CREATE INDEX unit_errors_by_code ON unit_errors (job_id, code, unit_index);
        CREATE INDEX files_by_folder_type ON files (folder_id, type, id);
        CREATE INDEX files_by_job ON files (job_id);
        CREATE INDEX chunks_finished ON chunks (job_id, finished_at) WHERE finished_at IS NOT NULL;
        """),
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
        Migration(version: 6, name: "job engine", sql: """
        -- One engine for every kind of bulk work (docs/architecture.md): jobs of every kind live
        -- in one table; registration's own columns stay (NULL for other kinds), other kinds keep
        -- their parameters in `params`.
        ALTER TABLE upload_jobs RENAME TO jobs;
        ALTER TABLE jobs
            ADD COLUMN kind text NOT NULL DEFAULT 'registration' CHECK (kind ~ '^[a-z][a-z0-9-]{0,39}$'),
            ADD COLUMN params jsonb,
            ALTER COLUMN folder_id DROP NOT NULL,
            ALTER COLUMN format DROP NOT NULL,
            ALTER COLUMN manifest_bytes DROP NOT NULL,
            ALTER COLUMN ignore_errors SET DEFAULT false,
            ADD CONSTRAINT registration_jobs_have_a_manifest
                CHECK (kind <> 'registration' OR (folder_id IS NOT NULL AND format IS NOT NULL AND manifest_bytes IS NOT NULL));
        CREATE INDEX jobs_by_kind ON jobs (kind, status);
        -- Registration's jobs under their old name: the uploads the API lists, and what older
        -- tools and operators' queries read. Simple enough to be updatable.
        CREATE VIEW upload_jobs AS SELECT * FROM jobs WHERE kind = 'registration';

        -- The last unit index of a chunk: a retry job's chunk holds units that are not
        -- consecutive, so first_unit + unit_count does not bound them. NULL for older rows
        -- (whose chunks were consecutive).
        ALTER TABLE chunks ADD COLUMN last_unit integer, ALTER COLUMN url_count SET DEFAULT 0;
        """),
        Migration(version: 7, name: "catalog", sql: """
        -- Users, groups, datasets, ontologies and projects (docs/catalog.md). Every row belongs
        -- to a tenant (the workspace); another tenant's row is "not found".
        CREATE TABLE users (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            email text NOT NULL CHECK (email = lower(email)),
            name text,
            role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, email)
        );
        -- A key made for a user acts as that user; NULL: a workspace service key (acts as admin).
        ALTER TABLE api_keys ADD COLUMN user_id uuid REFERENCES users ON DELETE CASCADE;

        CREATE TABLE user_groups (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            name text NOT NULL,
            description text,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, name)
        );
        CREATE TABLE group_members (
            group_id uuid NOT NULL REFERENCES user_groups ON DELETE CASCADE,
            user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
            added_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX group_members_by_user ON group_members (user_id);

        -- The structure is kept as the text the API answers (key order is part of the contract;
        -- jsonb would reorder keys). `version` grows by one on every update.
        CREATE TABLE ontologies (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            title text NOT NULL,
            description text,
            structure text NOT NULL,
            version integer NOT NULL DEFAULT 1,
            created_by uuid REFERENCES users ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ontologies_by_tenant ON ontologies (tenant_id, created_at, id);

        CREATE TABLE datasets (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            title text NOT NULL,
            description text,
            -- A mirrored dataset follows this folder: files registered into it later join.
            mirrored_folder_id uuid REFERENCES folders ON DELETE RESTRICT,
            created_by uuid REFERENCES users ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX datasets_by_tenant ON datasets (tenant_id, created_at, id);
        CREATE INDEX datasets_by_mirror ON datasets (mirrored_folder_id) WHERE mirrored_folder_id IS NOT NULL;

        -- A file's membership of a dataset (a data unit). `copy` is 0 for the first membership;
        -- Encord's DUPLICATE behaviour adds copies 1, 2, ... Files cannot be deleted while a
        -- dataset holds them (RESTRICT).
        CREATE TABLE dataset_files (
            id bigserial PRIMARY KEY,
            dataset_id uuid NOT NULL REFERENCES datasets ON DELETE CASCADE,
            file_id bigint NOT NULL REFERENCES files ON DELETE RESTRICT,
            copy integer NOT NULL DEFAULT 0,
            job_id uuid,                             -- the attach job that added it (NULL: mirrored)
            added_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (dataset_id, file_id, copy)
        );
        CREATE INDEX dataset_files_by_file ON dataset_files (file_id);

        -- The workspace's project tags (projects pick from this list).
        CREATE TABLE workspace_tags (
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, name)
        );

        CREATE TABLE projects (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            title text NOT NULL,
            description text,
            tags text[] NOT NULL DEFAULT '{}',
            ontology_id uuid REFERENCES ontologies ON DELETE RESTRICT,
            workflow text NOT NULL,                  -- the workflow graph JSON (issue 13 defines it)
            created_by uuid REFERENCES users ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX projects_by_tenant ON projects (tenant_id, created_at, id);
        CREATE INDEX projects_by_ontology ON projects (ontology_id) WHERE ontology_id IS NOT NULL;

        -- A dataset cannot be deleted while a project uses it (RESTRICT).
        CREATE TABLE project_datasets (
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            dataset_id uuid NOT NULL REFERENCES datasets ON DELETE RESTRICT,
            attached_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (project_id, dataset_id)
        );
        CREATE INDEX project_datasets_by_dataset ON project_datasets (dataset_id);

        -- Collaborators: a user or a group (every member of the group), with one role.
        CREATE TABLE project_members (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            user_id uuid REFERENCES users ON DELETE CASCADE,
            group_id uuid REFERENCES user_groups ON DELETE CASCADE,
            role text NOT NULL CHECK (role IN ('ADMIN', 'TEAM_MANAGER', 'REVIEWER', 'ANNOTATOR', 'ANNOTATOR_REVIEWER', 'VIEWER')),
            added_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((user_id IS NULL) <> (group_id IS NULL))
        );
        CREATE UNIQUE INDEX project_members_user ON project_members (project_id, user_id) WHERE user_id IS NOT NULL;
        CREATE UNIQUE INDEX project_members_group ON project_members (project_id, group_id) WHERE group_id IS NOT NULL;
        CREATE INDEX project_members_by_user ON project_members (user_id) WHERE user_id IS NOT NULL;
        CREATE INDEX project_members_by_group ON project_members (group_id) WHERE group_id IS NOT NULL;
        """),
        Migration(version: 8, name: "tasks", sql: """
        -- Tasks (docs/workflows.md, "Tasks"): one per data unit per project, always at exactly
        -- one stage of the project's workflow. `version` guards every write (two people acting on
        -- one task at once: one wins, the other gets 409).
        CREATE TABLE tasks (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            data_unit bigint NOT NULL REFERENCES dataset_files ON DELETE CASCADE,
            stage uuid NOT NULL,
            status text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'ASSIGNED', 'RELEASED', 'SKIPPED', 'REOPENED', 'COMPLETED')),
            assignee text,                           -- an email (lower case)
            version integer NOT NULL DEFAULT 1,
            last_actor text,                         -- who acted last (email; NULL: a service key)
            upstream_actor text,                     -- who last submitted or approved (collaborator routers)
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (project_id, data_unit)
        );
        CREATE INDEX tasks_by_stage ON tasks (project_id, stage, created_at, id);
        CREATE INDEX tasks_by_unit ON tasks (data_unit);

        -- Every move and action of a task, in order (seq from 1).
        CREATE TABLE task_events (
            task_id uuid NOT NULL REFERENCES tasks ON DELETE CASCADE,
            seq integer NOT NULL,
            at timestamptz NOT NULL DEFAULT now(),
            actor text,
            action text NOT NULL,
            from_stage uuid,
            to_stage uuid,
            path uuid[] NOT NULL DEFAULT '{}',      -- every node entered, routers included
            status text NOT NULL,
            assignee text,
            PRIMARY KEY (task_id, seq)
        );

        -- The stage after START in a stored workflow (START leads only to an Annotate or Agent
        -- stage, never to a router, so this is where every new task waits).
        CREATE FUNCTION workflow_first_stage(workflow text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
            SELECT (n->>'toNode')::uuid FROM jsonb_array_elements(workflow::jsonb->'graphNodes') n
            WHERE n->>'nodeType' = 'START' LIMIT 1
        $$;

        -- Data units that join a dataset (an attach job's chunk, a mirrored folder's growth) get
        -- their tasks in the same transaction, in every project the dataset is attached to. The
        -- shared advisory lock pairs with the exclusive one a project attach takes
        -- (`task_create_lock`): either this insert sees the new project link, or the project's
        -- task-create job sees these units. ON CONFLICT keeps it exact under redelivery.
        CREATE FUNCTION dataset_units_make_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(hashtextextended(d::text, 13)) FROM (SELECT DISTINCT dataset_id AS d FROM new_units) x;
            INSERT INTO tasks (project_id, data_unit, stage)
                SELECT pd.project_id, n.id, workflow_first_stage(p.workflow)
                FROM new_units n JOIN project_datasets pd ON pd.dataset_id = n.dataset_id JOIN projects p ON p.id = pd.project_id
                ORDER BY n.id
                ON CONFLICT (project_id, data_unit) DO NOTHING;
            RETURN NULL;
        END $$;
        CREATE TRIGGER dataset_units_make_tasks AFTER INSERT ON dataset_files
            REFERENCING NEW TABLE AS new_units FOR EACH STATEMENT EXECUTE FUNCTION dataset_units_make_tasks();
        """),
        Migration(version: 9, name: "webhooks", sql: """
        -- Webhooks (docs/workflows.md, "Webhooks"): a URL on one Annotate, DONE or Agent stage.
        -- `secret` signs deliveries; the API shows it once, at creation.
        CREATE TABLE webhooks (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            stage uuid NOT NULL,
            stage_type text NOT NULL CHECK (stage_type IN ('ANNOTATION', 'DONE', 'AGENT')),
            url text NOT NULL,
            secret text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text                          -- an email (NULL: a service key)
        );
        CREATE INDEX webhooks_by_project ON webhooks (project_id, created_at, id);

        -- The outbox: events written in the transaction of the task move that causes them (the
        -- triggers below). `attempts` counts attempts since the event was (re)queued: the retry
        -- budget. `job_id`: the delivery job that claimed it (held while that job is PENDING).
        CREATE TABLE webhook_events (
            uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            webhook_id uuid NOT NULL REFERENCES webhooks ON DELETE CASCADE,
            tenant_id uuid NOT NULL,
            event_type text NOT NULL,
            payload text NOT NULL,                   -- JSON; agent events get pending_count when delivered
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            job_id uuid,
            claimed_at timestamptz,
            last_error text,
            delivered_at timestamptz
        );
        CREATE INDEX webhook_events_due ON webhook_events (tenant_id, next_attempt_at) WHERE state = 'pending';
        CREATE INDEX webhook_events_by_webhook ON webhook_events (webhook_id, created_at);
        CREATE INDEX webhook_events_by_job ON webhook_events (job_id) WHERE job_id IS NOT NULL;
        -- Coalescing: at most one agent event per webhook that no job has taken yet.
        CREATE UNIQUE INDEX webhook_events_one_waiting ON webhook_events (webhook_id)
            WHERE state = 'pending' AND attempts = 0 AND job_id IS NULL AND event_type = 'agent_stage_work_available_event';

        -- The delivery log: every attempt, numbered from 1 per event (redeliveries go on counting).
        CREATE TABLE webhook_attempts (
            uid uuid NOT NULL REFERENCES webhook_events ON DELETE CASCADE,
            attempt integer NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            job_id uuid,
            status integer,                          -- NULL: no answer
            error text,
            duration_ms integer NOT NULL,
            PRIMARY KEY (uid, attempt)
        );

        CREATE FUNCTION webhook_events_from_task_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO webhook_events (webhook_id, tenant_id, event_type, payload)
                SELECT w.id, w.tenant_id, 'task_submitted_event',
                       json_build_object('project_hash', t.project_id, 'data_hashes', json_build_array(t.data_unit::text),
                                         'label_hashes', json_build_array(t.id), 'task_uuid', t.id, 'stage_uuid', w.stage)::text
                FROM new_events e JOIN tasks t ON t.id = e.task_id
                JOIN webhooks w ON w.project_id = t.project_id AND w.stage = e.from_stage AND w.stage_type = 'ANNOTATION'
                WHERE e.action = 'SUBMIT'
                ORDER BY e.task_id, e.seq;
            INSERT INTO webhook_events (webhook_id, tenant_id, event_type, payload)
                SELECT w.id, w.tenant_id, 'task_completed_event',
                       json_build_object('project_hash', t.project_id, 'label_hash', t.id, 'data_hash', t.data_unit::text,
                                         'task_uuid', t.id, 'stage_uuid', w.stage)::text
                FROM new_events e JOIN tasks t ON t.id = e.task_id
                JOIN webhooks w ON w.project_id = t.project_id AND w.stage = e.to_stage AND w.stage_type = 'DONE'
                WHERE e.from_stage IS DISTINCT FROM e.to_stage
                ORDER BY e.task_id, e.seq;
            INSERT INTO webhook_events (webhook_id, tenant_id, event_type, payload)
                SELECT DISTINCT ON (w.id) w.id, w.tenant_id, 'agent_stage_work_available_event',
                       json_build_object('project_hash', w.project_id, 'stage_uuid', w.stage, 'reason', 'batch_size_reached')::text
                FROM new_events e JOIN tasks t ON t.id = e.task_id
                JOIN webhooks w ON w.project_id = t.project_id AND w.stage = e.to_stage AND w.stage_type = 'AGENT'
                WHERE e.from_stage IS DISTINCT FROM e.to_stage
                ON CONFLICT (webhook_id) WHERE state = 'pending' AND attempts = 0 AND job_id IS NULL
                    AND event_type = 'agent_stage_work_available_event' DO NOTHING;
            RETURN NULL;
        END $$;
        CREATE TRIGGER webhook_events_from_task_events AFTER INSERT ON task_events
            REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION webhook_events_from_task_events();

        -- New tasks (attach, mirrored growth) wait at the first stage: an Agent stage's webhook hears of them.
        CREATE FUNCTION webhook_events_from_new_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO webhook_events (webhook_id, tenant_id, event_type, payload)
                SELECT DISTINCT ON (w.id) w.id, w.tenant_id, 'agent_stage_work_available_event',
                       json_build_object('project_hash', w.project_id, 'stage_uuid', w.stage, 'reason', 'batch_size_reached')::text
                FROM new_tasks t JOIN webhooks w ON w.project_id = t.project_id AND w.stage = t.stage AND w.stage_type = 'AGENT'
                ON CONFLICT (webhook_id) WHERE state = 'pending' AND attempts = 0 AND job_id IS NULL
                    AND event_type = 'agent_stage_work_available_event' DO NOTHING;
            RETURN NULL;
        END $$;
        CREATE TRIGGER webhook_events_from_new_tasks AFTER INSERT ON tasks
            REFERENCING NEW TABLE AS new_tasks FOR EACH STATEMENT EXECUTE FUNCTION webhook_events_from_new_tasks();
        """),
        Migration(version: 10, name: "workflow templates", sql: """
        -- Saved workflow graphs a project can start from (copied with fresh uuids).
        CREATE TABLE workflow_templates (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            title text NOT NULL,
            description text,
            graph text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by uuid REFERENCES users ON DELETE SET NULL,
            UNIQUE (tenant_id, title)
        );
        """),
        Migration(version: 11, name: "label rows", sql: """
        -- Label rows (docs/labels.md): one per data unit per project, kept as the JSON text the
        -- API answers (key order is part of the Encord shape; jsonb would reorder it). `version`
        -- guards every write (ETag / If-Match: a stale write is refused, never merged).
        CREATE TABLE label_rows (
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            data_unit bigint NOT NULL REFERENCES dataset_files ON DELETE CASCADE,
            label_hash uuid NOT NULL,
            row text NOT NULL,
            label_status text NOT NULL,
            version integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text,                         -- an email; NULL: a service key
            PRIMARY KEY (project_id, data_unit)
        );
        """),
        Migration(version: 12, name: "exports", sql: """
        -- Exports (docs/labels.md, "Exports"): an `export` job's record, its chunks' part files
        -- (written in the chunks' guarded commits) and the assembled file (first assembly wins;
        -- the bytes are deterministic, so a second assembler writes the same file).
        CREATE TABLE exports (
            job_id uuid PRIMARY KEY REFERENCES jobs ON DELETE CASCADE,
            tenant_id uuid NOT NULL,
            project_id uuid NOT NULL REFERENCES projects ON DELETE CASCADE,
            format text NOT NULL,
            version_name text,
            file_key text,
            file_size bigint,
            file_sha256 text,
            assembled_at timestamptz
        );
        CREATE INDEX exports_by_project ON exports (project_id);
        CREATE TABLE export_parts (
            job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
            seq integer NOT NULL,
            object_key text NOT NULL,
            rows integer NOT NULL,
            images integer NOT NULL,
            annotations integer NOT NULL,
            tracks integer NOT NULL,
            PRIMARY KEY (job_id, seq)
        );
        """),
        Migration(version: 13, name: "sequence videos", sql: SequenceSchema.migration13),
        Migration(version: 14, name: "folder sync", sql: FolderSyncSchema.sql),
        Migration(version: 15, name: "task comments", sql: "ALTER TABLE task_events ADD COLUMN comment text;   -- a reviewer's reason on REJECT (docs/editor.md)"),
        Migration(version: 16, name: "gcs sync bindings", sql: FolderSyncSchema.migration16),
    ]
}