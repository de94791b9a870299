import Foundation
import RegistrarCore
import Testing

/// Ontologies end to end (docs/ontologies.md): a real `registrar api` on PostgreSQL, driven by
/// the real `registrar ontologies` CLI and plain HTTP.
extension LiveServers {
@Suite(.serialized) struct OntologyLiveTests {
    /// annotation-spec §1's example, compact: what the API must store and answer byte for byte.
    static let spec = ##"{"objects":[{"id":"1","name":"Car","color":"#D33115","shape":"bounding_box","featureNodeHash":"cd613e30","required":false,"archived":false,"attributes":[{"id":"1.1","name":"Color","type":"radio","featureNodeHash":"Hi/riUFM","required":true,"archived":false,"dynamic":false,"options":[{"id":"1.1.1","label":"Red","value":"red","featureNodeHash":"eOUQYXMR","archived":false,"options":[{"id":"1.1.1.1","name":"Shade","type":"text","featureNodeHash":"5LBs5gdB","required":false,"archived":false,"dynamic":false}]},{"id":"1.1.2","label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":false}]},{"id":"1.2","name":"Occlusion","type":"checklist","featureNodeHash":"m4EOdm7J","required":false,"archived":false,"dynamic":true,"options":[{"id":"1.2.1","label":"Partial","value":"partial","featureNodeHash":"siIaWACK","archived":false},{"id":"1.2.2","label":"Truncated","value":"truncated","featureNodeHash":"zUR+Nbi2","archived":false}]},{"id":"1.3","name":"Speed","type":"numeric","featureNodeHash":"GiuPH/H9","required":false,"archived":false,"dynamic":false}]},{"id":"2","name":"Road","color":"#E27300","shape":"polygon","featureNodeHash":"05b6e6e3","required":false,"archived":false}],"classifications":[{"id":"1","featureNodeHash":"025b413f","attributes":[{"id":"1.1","name":"Time of day","type":"radio","featureNodeHash":"r71n+WGW","required":true,"archived":false,"dynamic":false,"options":[{"id":"1.1.1","label":"Day","value":"day","featureNodeHash":"udF54GwP","archived":false},{"id":"1.1.2","label":"Night","value":"night","featureNodeHash":"w4HojzjA","archived":false}]}]},{"id":"2","featureNodeHash":"8d88348a","attributes":[{"id":"2.1","name":"Notes","type":"text","featureNodeHash":"rUXyPTsa","required":false,"archived":false,"dynamic":false}]}],"skeleton_templates":[]}"##
    static let blue = #",{"id":"1.1.2","label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":false}"#

    @Test func createReadBackUpdateAndRefuseRemovalOnceAProjectUsesIt() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("onto")
        let cli = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]

        // Offline validation: every problem with its path, exit 1.
        let bad = try h.writeManifest("bad.json", #"{"objects":[{"name":"","shape":"box"}],"classifications":[{"attributes":[]}]}"#)
        var run = try h.run(["ontologies", "validate", bad])
        #expect(run.status == 1)
        #expect(run.stderr.contains("objects[0].name: must be a non-empty string"), "\(run.stderr)")
        #expect(run.stderr.contains("objects[0].shape: must be one of bounding_box"), "\(run.stderr)")
        #expect(run.stderr.contains("classifications[0].attributes: must hold at least one attribute"), "\(run.stderr)")
        // The CLI refuses it before calling the API, too.
        run = try h.run(["ontologies", "create", "--title", "Bad", "--structure", bad], extraEnv: cli)
        #expect(run.status == 1 && run.stderr.contains("objects[0].name"))
        let good = try h.writeManifest("good.json", Self.spec)
        run = try h.run(["ontologies", "validate", good])
        #expect(run.status == 0 && run.stdout.contains("valid (2 objects, 2 classifications)"), "\(run.stdout) \(run.stderr)")

        // Create through the CLI; read back over HTTP byte for byte.
        run = try h.run(["ontologies", "create", "--title", "Traffic", "--description", "cars and roads", "--structure", good, "--json"],
                        extraEnv: cli)
        #expect(run.status == 0, "\(run.stderr)")
        let created = try #require(JSONValue.parse(Array(run.lastLine.utf8)))
        let id = try #require(created["id"]?.stringValue)
        #expect(created["version"] == .number("1"))
        var reply = try api.call("GET", "/v1/ontologies/\(id)", key: key)
        #expect(reply.status == 200)
        #expect(reply.text.contains(Self.spec), "structure not byte-exact: \(reply.text)")
        let stored = try h.db.query("SELECT structure FROM ontologies WHERE id = $1::uuid", [id])[row: 0, column: 0]
        #expect(stored == Self.spec)
        run = try h.run(["ontologies", "list", "--json"], extraEnv: cli)
        #expect(run.status == 0 && (run.stdout.contains(#""objectCount":2"#) || run.stdout.contains(#""objectCount" : 2"#)), "\(run.stdout)")

        // Update the title: version 2; remove "Blue" while unused: allowed (version 3); put it back (4).
        run = try h.run(["ontologies", "update", id, "--title", "Traffic v2"], extraEnv: cli)
        #expect(run.status == 0 && run.stdout.contains("version 2"), "\(run.stdout) \(run.stderr)")
        let noBlue = Self.spec.replacingOccurrences(of: Self.blue, with: "")
        reply = try api.call("PUT", "/v1/ontologies/\(id)", key: key, body: Data(#"{"structure":\#(noBlue)}"#.utf8))
        #expect(reply.status == 200 && reply.text.contains(noBlue), "\(reply.text)")
        reply = try api.call("PUT", "/v1/ontologies/\(id)", key: key, body: Data(#"{"structure":\#(Self.spec)}"#.utf8))
        #expect(reply.status == 200 && reply.text.contains(#""version" : 4"#), "\(reply.text)")

        // A project uses it now (issue 12's projects part makes these rows; here, SQL).
        let project = try #require(try h.db.query("""
            INSERT INTO projects (tenant_id, title, ontology_id, workflow)
            SELECT tenant_id, 'P', id, '{}' FROM ontologies WHERE id = $1::uuid RETURNING id::text
            """, [id])[row: 0, column: 0])
        reply = try api.call("PUT", "/v1/ontologies/\(id)", key: key, body: Data(#"{"structure":\#(noBlue)}"#.utf8))
        #expect(reply.status == 409, "\(reply.text)")
        let refusal = try #require(JSONValue.parse(Array(reply.body)))
        #expect(refusal["error"]?["code"] == .string("feature_in_use"))
        #expect(refusal["error"]?["details"]?["projectIds"] == .array([.string(project)]))
        guard case .array(let errors)? = refusal["error"]?["details"]?["errors"] else { Issue.record("\(reply.text)"); return }
        #expect(errors.map { $0["path"]?.stringValue } == ["objects[0].attributes[0].options[1]"])
        // The same through the CLI: exit 1, the path and the pointer to `archived` on stderr.
        let noBlueFile = try h.writeManifest("no-blue.json", noBlue)
        run = try h.run(["ontologies", "update", id, "--structure", noBlueFile], extraEnv: cli)
        #expect(run.status == 1)
        #expect(run.stderr.contains("feature_in_use") && run.stderr.contains(#"objects[0].attributes[0].options[1]: removes option "Blue""#)
                && run.stderr.contains(#"set "archived": true"#), "\(run.stderr)")
        // Archiving instead is accepted; the stored text is still the refused edit's predecessor until then.
        let archived = Self.spec.replacingOccurrences(of: #""label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":false"#,
                                                      with: #""label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":true"#)
        #expect(try h.db.query("SELECT structure FROM ontologies WHERE id = $1::uuid", [id])[row: 0, column: 0] == Self.spec)
        reply = try api.call("PUT", "/v1/ontologies/\(id)", key: key, body: Data(#"{"structure":\#(archived)}"#.utf8))
        #expect(reply.status == 200 && reply.text.contains(archived) && reply.text.contains(#""version" : 5"#), "\(reply.text)")

        // Delete: refused while the project uses it (CLI exit 1), then allowed.
        run = try h.run(["ontologies", "delete", id], extraEnv: cli)
        #expect(run.status == 1 && run.stderr.contains("ontology_in_use") && run.stderr.contains(project), "\(run.stderr)")
        _ = try h.db.query("DELETE FROM projects WHERE id = $1::uuid", [project])

        // A workspace member that did not create it: 403 naming who may; the creator may.
        let memberKey = try api.tenantKey("onto")
        let tenantID = try #require(try h.db.query("SELECT id::text FROM tenants WHERE name = 'onto'")[row: 0, column: 0])
        let userID = try #require(try h.db.query("INSERT INTO users (tenant_id, email, role) VALUES ($1, 'm@example.com', 'member') RETURNING id::text",
                                                 [tenantID])[row: 0, column: 0])
        _ = try h.db.query("UPDATE api_keys SET user_id = $1::uuid WHERE key_hash = $2", [userID, APIKey.hash(memberKey)])
        reply = try api.call("DELETE", "/v1/ontologies/\(id)", key: memberKey)
        #expect(reply.status == 403 && reply.text.contains(#""forbidden""#) && reply.text.contains("workspace role admin"), "\(reply.text)")
        reply = try api.call("GET", "/v1/ontologies/\(id)", key: memberKey)
        #expect(reply.status == 200)
        reply = try api.call("POST", "/v1/ontologies", key: memberKey, body: Data(#"{"title":"Mine","structure":{"objects":[],"classifications":[]}}"#.utf8))
        #expect(reply.status == 201 && reply.text.contains(userID), "\(reply.text)")
        let mine = try #require(JSONValue.parse(Array(reply.body))?["id"]?.stringValue)
        reply = try api.call("PUT", "/v1/ontologies/\(mine)", key: memberKey, body: Data(#"{"title":"Mine 2"}"#.utf8))
        #expect(reply.status == 200, "\(reply.text)")

        run = try h.run(["ontologies", "delete", id, "--json"], extraEnv: cli)
        #expect(run.status == 0 && run.stdout.contains(#""deleted":true"#), "\(run.stderr)")
        reply = try api.call("GET", "/v1/ontologies/\(id)", key: key)
        #expect(reply.status == 404)
    }
}
}
