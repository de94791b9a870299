import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// An `OntologyStore` under test, with what the port leaves to other parts: tenants, users (for
/// `createdBy`) and projects that use an ontology.
public struct OntologyStoreUnderTest {
    public var store: any OntologyStore
    public var makeTenant: (_ name: String) throws -> String
    /// Creates a user in a tenant; returns its id.
    public var makeUser: (_ tenantID: String) throws -> String
    /// Makes a project of the tenant use the ontology; returns the project's id.
    public var useOntology: (_ ontologyID: String, _ tenantID: String) throws -> String

    public init(store: any OntologyStore, makeTenant: @escaping (String) throws -> String, makeUser: @escaping (String) throws -> String,
                useOntology: @escaping (String, String) throws -> String) {
        self.store = store; self.makeTenant = makeTenant; self.makeUser = makeUser; self.useOntology = useOntology
    }
}

/// Every promise of `OntologyStore`'s doc comments, against the twin and PostgreSQL. The
/// structure is compared as text: it must come back exactly as stored.
public enum OntologyStoreConformance {
    public static func exercise(_ make: () throws -> OntologyStoreUnderTest) throws {
        try createReadAndScope(make())
        try listPagesOldestFirst(make())
        try updatesBumpVersionAndRefuseStaleOrUsed(make())
        try deleteRefusedWhileUsed(make())
    }

    static func unique(_ prefix: String) -> String { prefix + "-" + String(UInt64.random(in: 0 ... .max), radix: 36) }

    /// A structure text whose key order is not alphabetical (so a store that re-orders shows).
    public static let structure = ##"{"objects":[{"id":"1","name":"Car","color":"#D33115","shape":"bounding_box","featureNodeHash":"cd613e30","required":false,"archived":false}],"classifications":[{"id":"1","featureNodeHash":"025b413f","attributes":[{"id":"1.1","name":"Notes","type":"text","featureNodeHash":"rUXyPTsa","required":false,"archived":false,"dynamic":false}]}],"skeleton_templates":[]}"##

    static func json(_ text: String?) throws -> JSONValue { try #require(text.flatMap { JSONValue.parse(Array($0.utf8)) }) }

    /// The `structure` member's text inside an answer, cut out of the raw answer (not re-serialised).
    public static func embeddedStructure(_ answer: String) -> String? {
        guard let start = answer.range(of: #""structure":"#) ?? answer.range(of: #""structure" : "#) else { return nil }
        var depth = 0, inString = false, escaped = false
        var i = start.upperBound
        let first = i
        while i < answer.endIndex {
            let c = answer[i]
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" { inString = true } else if c == "{" || c == "[" { depth += 1 } else if c == "}" || c == "]" {
                depth -= 1
                if depth == 0 { return String(answer[first...i]) }
            }
            i = answer.index(after: i)
        }
        return nil
    }

    static func createReadAndScope(_ s: OntologyStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let other = try s.makeTenant(unique("u"))
        let user = try s.makeUser(tenant)
        let created = try s.store.createOntology(tenantID: tenant, title: "Traffic", description: "cars", structure: structure, createdBy: user)
        let v = try json(created)
        let id = try #require(v["id"]?.stringValue)
        #expect(v["title"] == .string("Traffic"))
        #expect(v["description"] == .string("cars"))
        #expect(v["version"] == .number("1"))
        #expect(v["createdBy"] == .string(user))
        #expect(v["createdAt"]?.stringValue?.hasSuffix("Z") == true)
        #expect(v["updatedAt"] == v["createdAt"])
        #expect(embeddedStructure(created) == structure)
        let read = try s.store.ontology(tenantID: tenant, id: id)
        #expect(embeddedStructure(read ?? "") == structure)
        #expect(try json(read) == v)
        #expect(try s.store.ontology(tenantID: tenant, id: id.uppercased()) != nil)
        #expect(try s.store.ontology(tenantID: other, id: id) == nil)
        #expect(try s.store.ontology(tenantID: tenant, id: "not-a-uuid") == nil)
        #expect(try s.store.storedOntology(tenantID: tenant, id: id) ==
                StoredOntology(id: id, title: "Traffic", description: "cars", structure: structure, version: 1, createdBy: user))
        #expect(try s.store.storedOntology(tenantID: other, id: id) == nil)
        // A service key's ontology: no creator, no description.
        let anon = try json(s.store.createOntology(tenantID: tenant, title: "B", description: nil, structure: structure, createdBy: nil))
        #expect(anon["createdBy"] == .null)
        #expect(anon["description"] == .null)
    }

    static func listPagesOldestFirst(_ s: OntologyStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let other = try s.makeTenant(unique("u"))
        var ids: [String] = []
        for i in 0..<5 {
            ids.append(try #require(json(s.store.createOntology(tenantID: tenant, title: "O\(i)", description: nil, structure: structure,
                                                                  createdBy: nil))["id"]?.stringValue))
        }
        _ = try s.store.createOntology(tenantID: other, title: "X", description: nil, structure: structure, createdBy: nil)
        var seen: [String] = []
        var after: CatalogPosition?
        var pages = 0
        repeat {
            let page = try s.store.ontologies(tenantID: tenant, after: after, limit: 2)
            for item in page.items {
                let v = try json(item)
                seen.append(try #require(v["id"]?.stringValue))
                #expect(v["structure"] == nil)
                #expect(v["objectCount"] == .number("1"))
                #expect(v["classificationCount"] == .number("1"))
                #expect(v["version"] == .number("1"))
            }
            after = page.next
            pages += 1
        } while after != nil && pages < 10
        #expect(seen == ids)
        #expect(pages == 3)
    }

    static func updatesBumpVersionAndRefuseStaleOrUsed(_ s: OntologyStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let other = try s.makeTenant(unique("u"))
        let id = try #require(json(s.store.createOntology(tenantID: tenant, title: "A", description: "d", structure: structure,
                                                           createdBy: nil))["id"]?.stringValue)
        let newStructure = structure.replacingOccurrences(of: #""name":"Car""#, with: #""name":"Automobile""#)
        let outcome = try s.store.updateOntology(tenantID: tenant, id: id, version: 1, title: "A2", description: nil,
                                                 structure: newStructure, refuseIfUsed: true)
        guard case .done(let answer) = outcome else { Issue.record("update: \(outcome)"); return }
        let v = try json(answer)
        #expect(v["version"] == .number("2"))
        #expect(v["title"] == .string("A2"))
        #expect(v["description"] == .null)
        #expect(embeddedStructure(answer) == newStructure)
        #expect(try s.store.storedOntology(tenantID: tenant, id: id)?.version == 2)
        // Written against version 1 again: stale.
        #expect(try s.store.updateOntology(tenantID: tenant, id: id, version: 1, title: "A3", description: nil, structure: structure,
                                           refuseIfUsed: false) == .stale)
        #expect(try s.store.updateOntology(tenantID: other, id: id, version: 2, title: "A3", description: nil, structure: structure,
                                           refuseIfUsed: false) == .notFound)
        // Used by a project: a breaking edit is refused, a compatible one goes through.
        let project = try s.useOntology(id, tenant)
        #expect(try s.store.projectsUsingOntology(tenantID: tenant, id: id) == [project])
        #expect(try s.store.projectsUsingOntology(tenantID: other, id: id) == [])
        #expect(try s.store.updateOntology(tenantID: tenant, id: id, version: 2, title: "A3", description: nil, structure: structure,
                                           refuseIfUsed: true) == .inUse([project]))
        #expect(try s.store.storedOntology(tenantID: tenant, id: id)?.structure == newStructure)
        guard case .done = try s.store.updateOntology(tenantID: tenant, id: id, version: 2, title: "A3", description: nil,
                                                      structure: structure, refuseIfUsed: false) else {
            Issue.record("compatible update refused"); return
        }
        #expect(try s.store.storedOntology(tenantID: tenant, id: id)?.version == 3)
    }

    static func deleteRefusedWhileUsed(_ s: OntologyStoreUnderTest) throws {
        let tenant = try s.makeTenant(unique("t"))
        let other = try s.makeTenant(unique("u"))
        let used = try #require(json(s.store.createOntology(tenantID: tenant, title: "U", description: nil, structure: structure,
                                                             createdBy: nil))["id"]?.stringValue)
        let free = try #require(json(s.store.createOntology(tenantID: tenant, title: "F", description: nil, structure: structure,
                                                             createdBy: nil))["id"]?.stringValue)
        let p1 = try s.useOntology(used, tenant)
        let p2 = try s.useOntology(used, tenant)
        #expect(try s.store.deleteOntology(tenantID: tenant, id: used) == .inUse([p1, p2].sorted()))
        #expect(try s.store.ontology(tenantID: tenant, id: used) != nil)
        #expect(try s.store.deleteOntology(tenantID: other, id: free) == .notFound)
        #expect(try s.store.deleteOntology(tenantID: tenant, id: free) == .done(""))
        #expect(try s.store.ontology(tenantID: tenant, id: free) == nil)
        #expect(try s.store.deleteOntology(tenantID: tenant, id: free) == .notFound)
        #expect(try s.store.deleteOntology(tenantID: tenant, id: "nope") == .notFound)
    }
}
