import RegistrarCore
import RegistrarRuntime

/// A stored API key, as listed (never the key itself: only its prefix).
public struct APIKeyRecord: Sendable {
    public var id: String
    public var tenant: String
    public var name: String?
    public var prefix: String
    public var createdAt: String
    public var revokedAt: String?
    /// The user the key acts as (nil: a workspace service key).
    public var userEmail: String? = nil
}

/// Tenants and API keys. Every object (folder, job, file, error, integration) belongs to one
/// tenant; the API only ever queries with the caller's tenant id in the WHERE clause.
extension PostgresRegistry {
    /// Creates a tenant; returns its id. Throws `RegistryConflict` when the name is taken.
    public func createTenant(name: String) throws -> String {
        let rows = try connection.query("""
            INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), $1) ON CONFLICT (name) DO NOTHING RETURNING id
            """, [name])
        guard rows.count == 1, let id = rows[0, 0] else { throw RegistryConflict("a tenant named \(name) exists already") }
        return id
    }

    public func tenantID(name: String) throws -> String? {
        let rows = try connection.query("SELECT id FROM tenants WHERE name = $1", [name])
        return rows.count == 1 ? rows[0, 0] : nil
    }

    /// Every tenant: (id, name, createdAt).
    public func tenants() throws -> [(id: String, name: String, createdAt: String)] {
        let rows = try connection.query("SELECT id, name, \(SQLTime.iso("created_at")) FROM tenants ORDER BY name")
        return (0..<rows.count).map { (rows[$0, 0]!, rows[$0, 1]!, rows[$0, 2]!) }
    }

    /// Stores a key's hash for a tenant; returns the key record's id.
    public func storeAPIKey(tenantID: String, name: String?, prefix: String, hash: String) throws -> String {
        try connection.query("""
            INSERT INTO api_keys (tenant_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4) RETURNING id
            """, [tenantID, name, prefix, hash])[0, 0]!
    }

    /// Ensures the tenant has exactly this key (by hash): the deployment's bootstrap key.
    public func ensureAPIKey(tenantID: String, name: String, prefix: String, hash: String) throws {
        _ = try connection.query("""
            INSERT INTO api_keys (tenant_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key_hash) DO NOTHING
            """, [tenantID, name, prefix, hash])
    }

    public func apiKeys(tenantID: String?) throws -> [APIKeyRecord] {
        let rows = try connection.query("""
            SELECT k.id, t.name, k.name, k.prefix, \(SQLTime.iso("k.created_at")), \(SQLTime.iso("k.revoked_at")), u.email
            FROM api_keys k JOIN tenants t ON t.id = k.tenant_id LEFT JOIN users u ON u.id = k.user_id
            WHERE $1::uuid IS NULL OR k.tenant_id = $1::uuid ORDER BY k.created_at
            """, [tenantID])
        return (0..<rows.count).map {
            APIKeyRecord(id: rows[$0, 0]!, tenant: rows[$0, 1]!, name: rows[$0, 2], prefix: rows[$0, 3]!,
                         createdAt: rows[$0, 4]!, revokedAt: rows[$0, 5], userEmail: rows[$0, 6])
        }
    }

    /// Revokes a key by id; false when no such live key.
    public func revokeAPIKey(id: String) throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try connection.query("UPDATE api_keys SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id",
                                    [id]).count == 1
    }

    /// The principal a live key (given by its hash) acts for.
    public func principal(keyHash: String) throws -> Principal? {
        let rows = try connection.query("""
            SELECT k.tenant_id, t.name, k.id, u.id, u.email, u.role
            FROM api_keys k JOIN tenants t ON t.id = k.tenant_id LEFT JOIN users u ON u.id = k.user_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL
            """, [keyHash])
        guard rows.count == 1 else { return nil }
        return Principal(tenantID: rows[0, 0]!, tenantName: rows[0, 1]!, keyID: rows[0, 2]!, userID: rows[0, 3], userEmail: rows[0, 4],
                         workspaceRole: rows[0, 5].flatMap(WorkspaceRole.init(rawValue:)) ?? .admin)
    }
}

/// A write refused because it conflicts with what exists (HTTP 409).
public struct RegistryConflict: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
