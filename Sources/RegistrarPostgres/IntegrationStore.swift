import RegistrarCore
import RegistrarRuntime

/// Integration records, each owned by a tenant (the CLI acts for tenant `default`; the API for
/// the key's tenant).
extension PostgresRegistry {
    static let integrationColumns = """
        id, name, kind, settings::text, credentials, key_id,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        """

    /// Stores a new integration, its secret sealed with the ring's current key.
    public func addIntegration(name: String, definition: IntegrationDefinition, ring: EncryptionKeyRing,
                               tenantID: String = Schema.defaultTenantID) throws -> StoredIntegration {
        let id = try connection.query("SELECT gen_random_uuid()")[0, 0]!
        let sealed = CredentialCipher.seal(definition.secret.serialized, ring: ring, associatedData: StoredIntegration.associatedData(id: id))
        do {
            _ = try connection.query("""
                INSERT INTO integrations (id, tenant_id, name, kind, settings, credentials, key_id)
                VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
                """, [id, tenantID, name, definition.kind.rawValue, definition.settings.json.compactText, sealed, ring.currentID])
        } catch let e as PostgresError where e.sqlState == "23505" {
            throw IntegrationStoreError(description: "an integration named '\(name)' already exists")
        }
        return try integration(id: id)!
    }

    public func integrations(tenantID: String = Schema.defaultTenantID) throws -> [StoredIntegration] {
        let rows = try connection.query("SELECT \(Self.integrationColumns) FROM integrations WHERE tenant_id = $1 ORDER BY name",
                                        [tenantID])
        return try (0..<rows.count).map { try Self.integrationRow(rows, $0) }
    }

    public func integration(name: String, tenantID: String = Schema.defaultTenantID) throws -> StoredIntegration? {
        let rows = try connection.query("SELECT \(Self.integrationColumns) FROM integrations WHERE tenant_id = $1 AND name = $2",
                                        [tenantID, name])
        return rows.count == 0 ? nil : try Self.integrationRow(rows, 0)
    }

    /// By id, in any tenant (workers: the job already names it) or in one tenant (the API).
    public func integration(id: String, tenantID: String? = nil) throws -> StoredIntegration? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try connection.query(
            "SELECT \(Self.integrationColumns) FROM integrations WHERE id = $1::uuid AND ($2::uuid IS NULL OR tenant_id = $2::uuid)", [id, tenantID])
        return rows.count == 0 ? nil : try Self.integrationRow(rows, 0)
    }

    /// Removes an integration. Refused while an unfinished job uses it (its workers need it);
    /// finished jobs forget it (they keep their files and errors).
    public func removeIntegration(name: String, tenantID: String = Schema.defaultTenantID) throws -> Bool {
        try connection.withTransaction {
            let rows = try connection.query("SELECT id FROM integrations WHERE tenant_id = $1 AND name = $2 FOR UPDATE",
                                            [tenantID, name])
            guard rows.count == 1, let id = rows[0, 0] else { return false }
            let pending = try connection.query("SELECT count(*) FROM upload_jobs WHERE integration_id = $1 AND status = 'PENDING'", [id])[0, 0]!
            if pending != "0" {
                throw IntegrationStoreError(description: "integration '\(name)' is used by \(pending) unfinished job(s); cancel them or wait for them to finish")
            }
            _ = try connection.query("UPDATE upload_jobs SET integration_id = NULL WHERE integration_id = $1", [id])
            _ = try connection.query("DELETE FROM integrations WHERE id = $1", [id])
            return true
        }
    }

    /// Re-encrypts every credential not under the ring's current key. Returns (re-encrypted,
    /// already current). All or nothing: one transaction, rows locked.
    public func rotateIntegrationKeys(ring: EncryptionKeyRing) throws -> (rotated: Int, current: Int) {
        try connection.withTransaction {
            let rows = try connection.query("SELECT id, credentials FROM integrations WHERE key_id <> $1 ORDER BY id FOR UPDATE", [ring.currentID])
            for r in 0..<rows.count {
                let id = rows[r, 0]!
                let aad = StoredIntegration.associatedData(id: id)
                let plain: [UInt8]
                do { plain = try CredentialCipher.open(rows[r, 1]!, ring: ring, associatedData: aad) } catch {
                    throw IntegrationStoreError(description: "integration \(id): \(error)")
                }
                _ = try connection.query("UPDATE integrations SET credentials = $2, key_id = $3, updated_at = now() WHERE id = $1",
                                         [id, CredentialCipher.seal(plain, ring: ring, associatedData: aad), ring.currentID])
            }
            let current = try connection.query("SELECT count(*) FROM integrations WHERE key_id = $1", [ring.currentID])[0, 0]!
            return (rows.count, (Int(current) ?? 0) - rows.count)
        }
    }

    /// Records which integration a job reads its objects with.
    public func setJobIntegration(jobID: String, integrationID: String) throws {
        _ = try connection.query("UPDATE upload_jobs SET integration_id = $2 WHERE id = $1", [jobID, integrationID])
    }

    /// The integration of a job (nil: none, URLs fetched as given).
    public func jobIntegrationID(jobID: String) throws -> String? {
        let rows = try connection.query("SELECT integration_id FROM upload_jobs WHERE id::text = $1", [jobID])
        return rows.count == 0 ? nil : rows[0, 0]
    }

    static func integrationRow(_ rows: PGRows, _ r: Int) throws -> StoredIntegration {
        guard let kind = IntegrationKind(rawValue: rows[r, 2]!) else {
            throw IntegrationStoreError(description: "integration \(rows[r, 0]!) has an unknown kind")
        }
        let settingsJSON = (try? JSONText.parse(Array(rows[r, 3]!.utf8), what: "settings")) ?? .object([])
        return StoredIntegration(id: rows[r, 0]!, name: rows[r, 1]!, kind: kind, settings: IntegrationSettings(json: settingsJSON),
                                 credentials: rows[r, 4]!, keyID: rows[r, 5]!, createdAt: rows[r, 6]!)
    }
}
