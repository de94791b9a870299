/// Migration 13 (docs/sequences.md): which registration jobs got their encode job, and the
/// videos recorded for image sequences. Kept in its own file; `Schema.migrations` lists it.
enum SequenceSchema {
    static let migration13 = """
    -- One row per finished registration job the dispatcher has looked at: its sequence-encode
    -- job, or none (virtual sequences, no sequences). The primary key makes the decision once.
    CREATE TABLE sequence_encodes (
        registration_job_id uuid PRIMARY KEY REFERENCES jobs ON DELETE CASCADE,
        encode_job_id uuid REFERENCES jobs ON DELETE SET NULL,
        published boolean NOT NULL DEFAULT false,
        reason text NOT NULL CHECK (reason IN ('encode', 'virtual', 'no_sequences', 'before_encoding')),
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sequence_encodes_unpublished ON sequence_encodes (encode_job_id) WHERE NOT published;
    -- Jobs that finished before encoding existed are not encoded after an upgrade.
    INSERT INTO sequence_encodes (registration_job_id, published, reason)
        SELECT id, true, 'before_encoding' FROM jobs WHERE kind = 'registration' AND status <> 'PENDING';

    -- An image sequence recorded as a video: written in the encode chunk's guarded commit.
    CREATE TABLE sequence_videos (
        file_id bigint PRIMARY KEY REFERENCES files ON DELETE CASCADE,
        job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
        object_key text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        fps double precision NOT NULL,
        frame_count integer NOT NULL,
        duration double precision NOT NULL,
        size bigint NOT NULL,
        sha256 text NOT NULL,
        frame_sources text[] NOT NULL,          -- frame i was encoded from frame_sources[i+1]
        encoded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX files_sequences_by_job ON files (job_id, id) WHERE type = 'image_sequence';
    """
}
