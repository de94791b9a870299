import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's ontologies (`OntologyStore`): the same JSON as PostgreSQL's adapter.
final class MemoryOntologyState {
    struct Row {
        var tenantID: String
        var stored: StoredOntology
        var createdAt: String
        var updatedAt: String
        var createdMicros: Int64
    }
    var rows: [String: Row] = [:]
    var lastMicros: Int64 = 0
    /// ontology id → (project id → tenant id): projects marked as using it by tests
    /// (`useOntology`), besides the access twin's projects.
    var users: [String: [String: String]] = [:]
}

extension MemoryRegistry: OntologyStore {
    /// Records that a project uses an ontology (PostgreSQL: `projects.ontology_id`).
    public func useOntology(_ ontologyID: String, byProject projectID: String, tenantID: String) {
        locked { ontologyState.users[ontologyID.lowercased(), default: [:]][projectID.lowercased()] = tenantID }
    }

    func ontologyJSON(_ row: MemoryOntologyState.Row, listing: Bool) -> String {
        let s = row.stored
        var fields: [(key: String, value: JSONValue)] = [("id", .string(s.id)), ("title", .string(s.title)),
                                                         ("description", s.description.map(JSONValue.string) ?? .null)]
        let structure = JSONValue.parse(Array(s.structure.utf8)) ?? .null
        if listing {
            fields.append(("version", .number(String(s.version))))
            for (key, list) in [("objectCount", "objects"), ("classificationCount", "classifications")] {
                if case .array(let items)? = structure[list] { fields.append((key, .number(String(items.count)))) }
            }
        } else {
            fields.append(("structure", structure))
            fields.append(("version", .number(String(s.version))))
        }
        fields += [("createdAt", .string(row.createdAt)), ("updatedAt", .string(row.updatedAt)),
                   ("createdBy", s.createdBy.map(JSONValue.string) ?? .null)]
        return JSONValue.object(fields).compactText
    }

    public func createOntology(tenantID: String, title: String, description: String?, structure: String, createdBy: String?) throws -> String {
        locked {
            let id = UUID().uuidString.lowercased()
            let now = MemoryJobStore.now()
            let micros = max(Int64(Date().timeIntervalSince1970 * 1_000_000), ontologyState.lastMicros + 1)
            ontologyState.lastMicros = micros
            let row = MemoryOntologyState.Row(
                tenantID: tenantID,
                stored: StoredOntology(id: id, title: title, description: description, structure: structure, version: 1, createdBy: createdBy),
                createdAt: now, updatedAt: now, createdMicros: micros)
            ontologyState.rows[id] = row
            return ontologyJSON(row, listing: false)
        }
    }

    func ontologyRow(tenantID: String, id: String) -> MemoryOntologyState.Row? {
        guard UUIDText.isValid(id), let row = ontologyState.rows[id.lowercased()], row.tenantID == tenantID else { return nil }
        return row
    }

    public func ontology(tenantID: String, id: String) throws -> String? {
        locked { ontologyRow(tenantID: tenantID, id: id).map { ontologyJSON($0, listing: false) } }
    }

    public func storedOntology(tenantID: String, id: String) throws -> StoredOntology? {
        locked { ontologyRow(tenantID: tenantID, id: id)?.stored }
    }

    public func ontologies(tenantID: String, after: CatalogPosition?, limit: Int) throws -> (items: [String], next: CatalogPosition?) {
        locked {
            let rows = ontologyState.rows.values.filter { $0.tenantID == tenantID }
                .sorted { ($0.createdMicros, $0.stored.id) < ($1.createdMicros, $1.stored.id) }
                .filter { after == nil || ($0.createdMicros, $0.stored.id) > (after!.createdMicros, after!.id.lowercased()) }
            let shown = rows.prefix(limit)
            let next = rows.count > limit ? shown.last.map { CatalogPosition(createdMicros: $0.createdMicros, id: $0.stored.id) } : nil
            return (shown.map { ontologyJSON($0, listing: true) }, next)
        }
    }

    public func updateOntology(tenantID: String, id: String, version: Int, title: String, description: String?, structure: String,
                               refuseIfUsed: Bool) throws -> OntologyWriteOutcome {
        try locked {
            guard var row = ontologyRow(tenantID: tenantID, id: id) else { return .notFound }
            guard row.stored.version == version else { return .stale }
            if refuseIfUsed {
                let users = try projectsUsingOntology(tenantID: tenantID, id: id)
                if !users.isEmpty { return .inUse(users) }
            }
            row.stored.title = title
            row.stored.description = description
            row.stored.structure = structure
            row.stored.version += 1
            row.updatedAt = MemoryJobStore.now()
            ontologyState.rows[row.stored.id] = row
            return .done(ontologyJSON(row, listing: false))
        }
    }

    public func projectsUsingOntology(tenantID: String, id: String) throws -> [String] {
        locked {
            let key = id.lowercased()
            let marked = (ontologyState.users[key] ?? [:]).filter { $0.value == tenantID }.keys
            let projects = access.projects.filter { $0.value.tenantID == tenantID && $0.value.ontologyID == key }.keys
            return Set(marked).union(projects).sorted()
        }
    }

    public func deleteOntology(tenantID: String, id: String) throws -> OntologyWriteOutcome {
        try locked {
            guard let row = ontologyRow(tenantID: tenantID, id: id) else { return .notFound }
            let users = try projectsUsingOntology(tenantID: tenantID, id: id)
            if !users.isEmpty { return .inUse(users) }
            ontologyState.rows[row.stored.id] = nil
            return .done("")
        }
    }
}
