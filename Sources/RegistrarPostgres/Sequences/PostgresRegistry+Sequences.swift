import RegistrarCore
import RegistrarRuntime

/// The `sequence-encode` kind's store (docs/sequences.md) on PostgreSQL.
extension PostgresRegistry: SequenceStore {
    public func sequenceCount(registrationJobID: String) throws -> Int {
        Int(try connection.query("SELECT count(*) FROM files WHERE job_id = $1::uuid AND type = 'image_sequence'",
                                 [registrationJobID])[0, 0]!)!
    }

    public func sequenceFileIDs(registrationJobID: String, after: Int64, limit: Int) throws -> [Int64] {
        let rows = try connection.query("""
            SELECT id FROM files WHERE job_id = $1::uuid AND type = 'image_sequence' AND id > $2 ORDER BY id LIMIT $3
            """, [registrationJobID, String(after), String(limit)])
        return (0..<rows.count).map { Int64(rows[$0, 0]!)! }
    }

    public func sequenceSource(fileID: Int64) throws -> SequenceSource? {
        let rows = try connection.query("""
            SELECT f.folder_id, array_to_json(f.urls)::text, j.integration_id, j.params::text
            FROM files f JOIN jobs j ON j.id = f.job_id WHERE f.id = $1
            """, [String(fileID)])
        guard rows.count == 1 else { return nil }
        let options = (try? SequenceOptions.parse(rows[0, 3].flatMap { JSONValue.parse(Array($0.utf8)) }).get()) ?? SequenceOptions()
        return SequenceSource(fileID: fileID, folderID: rows[0, 0]!, urls: JSONArrayText.strings(rows[0, 1]!),
                              integrationID: rows[0, 2], fps: options.effectiveFPS)
    }

    public func commitSequenceChunk(_ chunk: SequenceEncodeChunk, outcomes: [SequenceOutcome], failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) { conn in
            guard failAll == nil else {
                return ChunkWrite(errors: chunk.fileIDs.indices.map {
                    UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll!.unitMessage, action: SequenceEncode.action)
                })
            }
            var write = ChunkWrite()
            for (i, outcome) in outcomes.enumerated() {
                switch outcome {
                case .skipped: write.skipped += 1
                case .failed(_, let urls, let code, let message):
                    write.errors.append(UnitError(index: chunk.firstUnit + i, urls: urls, code: code, message: message, action: SequenceEncode.action))
                case .encoded(let v):
                    _ = try conn.query("""
                        INSERT INTO sequence_videos (file_id, job_id, object_key, width, height, fps, frame_count, duration, size, sha256, frame_sources)
                        SELECT f.id, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, f.urls FROM files f WHERE f.id = $1
                        ON CONFLICT (file_id) DO UPDATE SET job_id = EXCLUDED.job_id, object_key = EXCLUDED.object_key, width = EXCLUDED.width,
                            height = EXCLUDED.height, fps = EXCLUDED.fps, frame_count = EXCLUDED.frame_count, duration = EXCLUDED.duration,
                            size = EXCLUDED.size, sha256 = EXCLUDED.sha256, frame_sources = EXCLUDED.frame_sources, encoded_at = now()
                        """, [String(v.fileID), chunk.jobID, v.key, String(v.width), String(v.height), String(v.fps), String(v.frameCount),
                              String(v.duration), String(v.size), v.sha256])
                    // The sequence is now described as the video it is (Encord: a sequence is a video).
                    _ = try conn.query("""
                        UPDATE files SET width = $2, height = $3, fps = $4, duration = $5, frame_count = $6, codec = 'h264' WHERE id = $1
                        """, [String(v.fileID), String(v.width), String(v.height), String(v.fps), String(v.duration), String(v.frameCount)])
                    write.done += 1
                }
            }
            return write
        }
    }

    public func dispatchSequenceEncodes(limit: Int) throws -> [String] {
        try connection.withTransaction {
            // One dispatcher at a time (two coordinators): the decision per registration job is
            // made once, under this lock and the table's primary key.
            _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext('registrar.sequence_encodes'))")
            let due = try connection.query("""
                SELECT j.id, j.tenant_id, j.params::text,
                       EXISTS (SELECT 1 FROM files f WHERE f.job_id = j.id AND f.type = 'image_sequence')
                FROM jobs j
                WHERE j.kind = 'registration' AND j.status <> 'PENDING'
                  AND NOT EXISTS (SELECT 1 FROM sequence_encodes s WHERE s.registration_job_id = j.id)
                ORDER BY j.finished_at LIMIT $1
                """, [String(max(1, limit))])
            for r in 0..<due.count {
                let (job, tenant) = (due[r, 0]!, due[r, 1]!)
                let options = (try? SequenceOptions.parse(due[r, 2].flatMap { JSONValue.parse(Array($0.utf8)) }).get()) ?? SequenceOptions()
                if due[r, 3] != "t" || options.virtual {
                    _ = try connection.query("""
                        INSERT INTO sequence_encodes (registration_job_id, published, reason) VALUES ($1::uuid, true, $2)
                        """, [job, options.virtual ? "virtual" : "no_sequences"])
                    continue
                }
                let encode = try connection.query("""
                    INSERT INTO jobs (tenant_id, kind, ignore_errors, params) VALUES ($1, $2, false, $3::jsonb) RETURNING id
                    """, [tenant, SequenceEncode.kind, SequenceEncodeParams(registrationJobID: job).json.compactText])[0, 0]!
                _ = try connection.query("""
                    INSERT INTO sequence_encodes (registration_job_id, encode_job_id, published, reason) VALUES ($1::uuid, $2::uuid, false, 'encode')
                    """, [job, encode])
            }
            let unpublished = try connection.query("""
                SELECT encode_job_id FROM sequence_encodes WHERE NOT published AND encode_job_id IS NOT NULL ORDER BY created_at
                """)
            return (0..<unpublished.count).map { unpublished[$0, 0]! }
        }
    }

    public func markSequenceEncodePublished(encodeJobID: String) throws {
        _ = try connection.query("UPDATE sequence_encodes SET published = true WHERE encode_job_id = $1::uuid", [encodeJobID])
    }

    public func sequenceVideo(fileID: Int64) throws -> SequenceVideo? {
        let rows = try connection.query("""
            SELECT object_key, width, height, fps, frame_count, duration, size, sha256, array_to_json(frame_sources)::text
            FROM sequence_videos WHERE file_id = $1
            """, [String(fileID)])
        guard rows.count == 1 else { return nil }
        return SequenceVideo(fileID: fileID, key: rows[0, 0]!, width: Int(rows[0, 1]!)!, height: Int(rows[0, 2]!)!, fps: Double(rows[0, 3]!)!,
                             frameCount: Int(rows[0, 4]!)!, duration: Double(rows[0, 5]!)!, size: Int64(rows[0, 6]!)!, sha256: rows[0, 7]!,
                             frames: SequenceEncoding.frameMap(urls: JSONArrayText.strings(rows[0, 8]!)))
    }
}

extension PostgresRegistry {
    /// Records a registration job's sequence options in its params (nothing for the defaults).
    public func setSequenceOptions(jobID: String, _ options: SequenceOptions) throws {
        let fields = options.params
        guard !fields.isEmpty else { return }
        _ = try connection.query("UPDATE jobs SET params = coalesce(params, '{}'::jsonb) || $2::jsonb WHERE id = $1::uuid",
                                 [jobID, JSONValue.object(fields).compactText])
    }
}
