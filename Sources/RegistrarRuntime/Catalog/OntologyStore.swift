import RegistrarCore

/// Ontologies (docs/ontologies.md): a title, a description and a structure JSON, stored as the
/// exact normalised text (`OntologyStructure.normalize`) so it is answered byte for byte, with a
/// version that each update raises by one. Tenant-scoped like every API port: another tenant's
/// ontology, or a malformed id, is "not found".
///
/// Answers are JSON built by the store: `{id, title, description, structure, version,
/// createdAt, updatedAt, createdBy}` (the structure embedded verbatim; `description` and
/// `createdBy` null when absent). Listing items leave the structure out and carry
/// `objectCount` and `classificationCount` instead.
public protocol OntologyStore: AnyObject {
    /// Stores a new ontology (version 1) and returns its JSON.
    func createOntology(tenantID: String, title: String, description: String?, structure: String, createdBy: String?) throws -> String
    /// An ontology's JSON.
    func ontology(tenantID: String, id: String) throws -> String?
    /// What an update needs to decide: the stored fields.
    func storedOntology(tenantID: String, id: String) throws -> StoredOntology?
    /// The tenant's ontologies, oldest first (the cursor is the last row's position).
    func ontologies(tenantID: String, after: CatalogPosition?, limit: Int) throws -> (items: [String], next: CatalogPosition?)
    /// Replaces title, description and structure if the stored version is still `version`
    /// (else `.stale`), raising the version by one; `.inUse` instead when `refuseIfUsed` and a
    /// project uses the ontology (the check and the write are one statement).
    func updateOntology(tenantID: String, id: String, version: Int, title: String, description: String?, structure: String,
                        refuseIfUsed: Bool) throws -> OntologyWriteOutcome
    /// Ids of the tenant's projects that use the ontology, sorted.
    func projectsUsingOntology(tenantID: String, id: String) throws -> [String]
    /// Deletes an ontology no project uses.
    func deleteOntology(tenantID: String, id: String) throws -> OntologyWriteOutcome
}

/// An ontology's stored fields.
public struct StoredOntology: Sendable, Equatable {
    public var id: String
    public var title: String
    public var description: String?
    public var structure: String
    public var version: Int
    public var createdBy: String?
    public init(id: String, title: String, description: String?, structure: String, version: Int, createdBy: String?) {
        self.id = id
        self.title = title
        self.description = description
        self.structure = structure
        self.version = version
        self.createdBy = createdBy
    }
}

/// What an update or a delete did.
public enum OntologyWriteOutcome: Sendable, Equatable {
    /// Done; the new JSON for an update, "" for a delete.
    case done(String)
    case notFound
    /// The stored version moved on since it was read.
    case stale
    /// Projects (ids, sorted) use it.
    case inUse([String])
}

/// Where a row sits in an oldest-first catalog listing: creation time in microseconds since the
/// epoch, and its id (the tie-breaker).
public struct CatalogPosition: Sendable, Equatable {
    public var createdMicros: Int64
    public var id: String
    public init(createdMicros: Int64, id: String) {
        self.createdMicros = createdMicros
        self.id = id
    }
}
