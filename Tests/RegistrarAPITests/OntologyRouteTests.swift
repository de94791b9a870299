import Foundation
import Hummingbird
import HummingbirdTesting
import RegistrarCore
import RegistrarTesting
import Testing

/// `/v1/ontologies…` in process over the twin (docs/ontologies.md).
@Suite struct OntologyRouteTests {
    static let structure = OntologyStoreConformance.structure

    static func body(title: String? = "Traffic", description: String? = nil, structure: String? = Self.structure) -> String {
        var parts: [String] = []
        if let title { parts.append(#""title":"# + JSONValue.quoted(title)) }
        if let description { parts.append(#""description":"# + JSONValue.quoted(description)) }
        if let structure { parts.append(#""structure":"# + structure) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    @Test func createReadsBackByteExactAndLists() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        let (_, otherKey) = try rig.tenant()
        try await rig.run { client in
            // Whitespace and a missing hash: the stored text is the normalised, compact one.
            let spaced = Self.structure.replacingOccurrences(of: ",", with: ", ")
                .replacingOccurrences(of: #", "featureNodeHash":"cd613e30""#, with: "")
            var r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(description: "cars", structure: spaced))
            #expect(r.status == .created)
            let id = try #require(r.json["id"]?.string)
            #expect(r.json["version"]?.int == 1 && r.json["description"]?.string == "cars" && r.json["title"]?.string == "Traffic")
            let stored = try #require(OntologyStoreConformance.embeddedStructure(r.text))
            let minted = try #require(r.json["structure"]?["objects"].flatMap { if case .array(let a) = $0 { a[0]["featureNodeHash"]?.string } else { nil } })
            #expect(minted.count == 8 && minted != "cd613e30")
            #expect(stored == Self.structure.replacingOccurrences(of: "cd613e30", with: minted))
            // The exact spec text comes back byte for byte.
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(title: "  Exact  ", structure: Self.structure))
            let exactID = try #require(r.json["id"]?.string)
            #expect(r.json["title"]?.string == "Exact")
            r = try await client.call("/v1/ontologies/\(exactID)", key: key)
            #expect(r.status == .ok)
            #expect(OntologyStoreConformance.embeddedStructure(r.text) == Self.structure)
            // Another tenant: 404 for get, update and delete; its list is empty.
            for method in [HTTPRequest.Method.get, .delete] {
                r = try await client.call("/v1/ontologies/\(id)", method, key: otherKey)
                #expect(r.status == .notFound && r.errorCode == "not_found")
            }
            r = try await client.call("/v1/ontologies/\(id)", .put, key: otherKey, body: #"{"title":"x"}"#)
            #expect(r.status == .notFound)
            r = try await client.call("/v1/ontologies", key: otherKey)
            #expect(r.status == .ok && r.json.items.isEmpty)
            r = try await client.call("/v1/ontologies/not-a-uuid", key: key)
            #expect(r.status == .notFound)
            // The list: oldest first, one per page, counts instead of the structure.
            r = try await client.call("/v1/ontologies?limit=1", key: key)
            #expect(r.json.items.map { $0["id"]?.string } == [id])
            #expect(r.json.items[0]["structure"] == nil && r.json.items[0]["objectCount"]?.int == 1 && r.json.items[0]["classificationCount"]?.int == 1)
            let cursor = try #require(r.json["nextCursor"]?.string)
            r = try await client.call("/v1/ontologies?limit=1&cursor=\(cursor)", key: key)
            #expect(r.json.items.map { $0["id"]?.string } == [exactID])
            #expect(r.json["nextCursor"] == .null)
            r = try await client.call("/v1/ontologies?cursor=\(cursor)", key: otherKey)
            #expect(r.status == .badRequest && r.errorCode == "invalid_parameter")
        }
    }

    @Test func badBodiesAndStructuresAre422NamingTheField() async throws {
        let rig = APIRig()
        let (_, key) = try rig.tenant()
        try await rig.run { client in
            var r = try await client.call("/v1/ontologies", .post, key: key, body: "not json")
            #expect(r.status == .unprocessableContent && r.errorCode == "invalid_body")
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(title: nil))
            #expect(r.status == .unprocessableContent && r.json["error"]?["details"]?["field"]?.string == "title")
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(title: "  "))
            #expect(r.status == .unprocessableContent && r.json["error"]?["details"]?["field"]?.string == "title")
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(structure: nil))
            #expect(r.status == .unprocessableContent && r.json["error"]?["details"]?["field"]?.string == "structure")
            r = try await client.call("/v1/ontologies", .post, key: key, body: #"{"title":"T","description":5,"structure":{}}"#)
            #expect(r.json["error"]?["details"]?["field"]?.string == "description")
            // Every broken rule, each with its path.
            let bad = #"{"objects":[{"name":"A","shape":"box"},{"name":"","shape":"point"}],"classifications":[{"attributes":[{"name":"Q","type":"text","dynamic":true}]}]}"#
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body(structure: bad))
            #expect(r.status == .unprocessableContent && r.errorCode == "invalid_structure")
            guard case .array(let errors)? = r.json["error"]?["details"]?["errors"] else { Issue.record("no errors: \(r.text)"); return }
            #expect(errors.map { $0["path"]?.string } == ["objects[0].shape", "objects[1].name", "classifications[0].attributes[0].dynamic"])
            #expect(errors[1]["message"]?.string == "must be a non-empty string")
            r = try await client.call("/v1/ontologies", key: key)
            #expect(r.json.items.isEmpty)
        }
    }

    @Test func updatesBumpTheVersionAndRefuseRemovingUsedFeatures() async throws {
        let rig = APIRig()
        let (tenant, key) = try rig.tenant()
        try await rig.run { client in
            var r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body())
            let id = try #require(r.json["id"]?.string)
            // Title only: the structure stays, the version rises.
            r = try await client.call("/v1/ontologies/\(id)", .put, key: key, body: #"{"title":"Renamed","description":"d"}"#)
            #expect(r.status == .ok && r.json["version"]?.int == 2 && r.json["title"]?.string == "Renamed" && r.json["description"]?.string == "d")
            #expect(OntologyStoreConformance.embeddedStructure(r.text) == Self.structure)
            r = try await client.call("/v1/ontologies/\(id)", .put, key: key, body: "{}")
            #expect(r.status == .unprocessableContent && r.errorCode == "invalid_body")
            // Removing the object "Car" while no project uses the ontology: allowed.
            let withoutCar = Self.structure.replacingOccurrences(
                of: ##"{"id":"1","name":"Car","color":"#D33115","shape":"bounding_box","featureNodeHash":"cd613e30","required":false,"archived":false}"##, with: "")
            let archivedCar = Self.structure.replacingOccurrences(of: #""archived":false}],"classifications""#, with: #""archived":true}],"classifications""#)
            #expect(archivedCar != Self.structure)
            rig.world.registry.useOntology(id, byProject: "11111111-1111-4111-8111-111111111111", tenantID: tenant)
            r = try await client.call("/v1/ontologies/\(id)", .put, key: key, body: #"{"structure":\#(withoutCar)}"#)
            #expect(r.status == .conflict && r.errorCode == "feature_in_use")
            guard case .array(let errors)? = r.json["error"]?["details"]?["errors"] else { Issue.record("no errors: \(r.text)"); return }
            #expect(errors.map { $0["path"]?.string } == ["objects[0]"])
            #expect(errors[0]["message"]?.string?.contains(#"set "archived": true on it instead"#) == true)
            #expect(r.json["error"]?["details"]?["projectIds"] == .array([.string("11111111-1111-4111-8111-111111111111")]))
            // Changing the shape: refused the same way.
            r = try await client.call("/v1/ontologies/\(id)", .put, key: key,
                                      body: #"{"structure":\#(Self.structure.replacingOccurrences(of: "bounding_box", with: "polygon"))}"#)
            #expect(r.status == .conflict && r.errorCode == "feature_in_use")
            // Archiving instead: accepted.
            r = try await client.call("/v1/ontologies/\(id)", .put, key: key, body: #"{"structure":\#(archivedCar)}"#)
            #expect(r.status == .ok && r.json["version"]?.int == 3)
            #expect(OntologyStoreConformance.embeddedStructure(r.text) == archivedCar)
            // Delete: refused while used, naming the project.
            r = try await client.call("/v1/ontologies/\(id)", .delete, key: key)
            #expect(r.status == .conflict && r.errorCode == "ontology_in_use")
            #expect(r.json["error"]?["details"]?["projectIds"] == .array([.string("11111111-1111-4111-8111-111111111111")]))
            // An unused one: removal allowed, then delete.
            r = try await client.call("/v1/ontologies", .post, key: key, body: Self.body())
            let free = try #require(r.json["id"]?.string)
            r = try await client.call("/v1/ontologies/\(free)", .put, key: key, body: #"{"structure":\#(withoutCar)}"#)
            #expect(r.status == .ok && r.json["version"]?.int == 2)
            r = try await client.call("/v1/ontologies/\(free)", .delete, key: key)
            #expect(r.status == .noContent)
            r = try await client.call("/v1/ontologies/\(free)", key: key)
            #expect(r.status == .notFound)
        }
    }
}
