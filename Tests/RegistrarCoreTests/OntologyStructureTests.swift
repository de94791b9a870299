import RegistrarCore
import Testing

/// annotation-spec §1's example (GEN: real `OntologyStructure.to_dict()` output of SDK 0.1.211).
let specOntologyExample = #"""
{
 "objects": [
  {
   "id": "1", "name": "Car", "color": "#D33115", "shape": "bounding_box", "featureNodeHash": "cd613e30", "required": false,
   "archived": false,
   "attributes": [
    {
     "id": "1.1", "name": "Color", "type": "radio", "featureNodeHash": "Hi/riUFM", "required": true, "archived": false, "dynamic": false,
     "options": [
      {
       "id": "1.1.1", "label": "Red", "value": "red", "featureNodeHash": "eOUQYXMR", "archived": false,
       "options": [
        {
         "id": "1.1.1.1", "name": "Shade", "type": "text", "featureNodeHash": "5LBs5gdB", "required": false, "archived": false,
         "dynamic": false
        }
       ]
      },
      {"id": "1.1.2", "label": "Blue", "value": "blue", "featureNodeHash": "Nb+ZLcnp", "archived": false}
     ]
    },
    {
     "id": "1.2", "name": "Occlusion", "type": "checklist", "featureNodeHash": "m4EOdm7J", "required": false, "archived": false,
     "dynamic": true,
     "options": [
      {"id": "1.2.1", "label": "Partial", "value": "partial", "featureNodeHash": "siIaWACK", "archived": false},
      {"id": "1.2.2", "label": "Truncated", "value": "truncated", "featureNodeHash": "zUR+Nbi2", "archived": false}
     ]
    },
    {"id": "1.3", "name": "Speed", "type": "numeric", "featureNodeHash": "GiuPH/H9", "required": false, "archived": false, "dynamic": false}
   ]
  },
  {"id": "2", "name": "Road", "color": "#E27300", "shape": "polygon", "featureNodeHash": "05b6e6e3", "required": false, "archived": false}
 ],
 "classifications": [
  {
   "id": "1", "featureNodeHash": "025b413f",
   "attributes": [
    {
     "id": "1.1", "name": "Time of day", "type": "radio", "featureNodeHash": "r71n+WGW", "required": true, "archived": false,
     "dynamic": false,
     "options": [
      {"id": "1.1.1", "label": "Day", "value": "day", "featureNodeHash": "udF54GwP", "archived": false},
      {"id": "1.1.2", "label": "Night", "value": "night", "featureNodeHash": "w4HojzjA", "archived": false}
     ]
    }
   ]
  },
  {
   "id": "2", "featureNodeHash": "8d88348a",
   "attributes": [{"id": "2.1", "name": "Notes", "type": "text", "featureNodeHash": "rUXyPTsa", "required": false, "archived": false, "dynamic": false}]
  }
 ],
 "skeleton_templates": []
}
"""#

@Suite struct OntologyStructureTests {
    static func parse(_ text: String) -> JSONValue { JSONValue.parse(Array(text.utf8))! }

    static func check(_ text: String, seed: UInt64 = 1) -> OntologyValidation {
        var rng = SplitMix64(seed: seed)
        return OntologyStructure.normalize(text: Array(text.utf8), using: &rng)
    }

    /// Asserts `text` round-trips: valid, and its normalised form is its own compact form.
    static func expectRoundTrip(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let result = check(text)
        #expect(result.issues == [], sourceLocation: sourceLocation)
        #expect(result.structure?.compactText == parse(text).compactText, sourceLocation: sourceLocation)
    }

    @Test func specExampleRoundTripsByteForByte() {
        let result = Self.check(specOntologyExample)
        #expect(result.issues == [])
        let compact = Self.parse(specOntologyExample).compactText
        #expect(result.structure?.compactText == compact)
        // And the text itself: key order, not just equal trees.
        #expect(compact.hasPrefix(##"{"objects":[{"id":"1","name":"Car","color":"#D33115","shape":"bounding_box","featureNodeHash":"cd613e30","required":false,"archived":false,"attributes":[{"id":"1.1","name":"Color","type":"radio""##))
    }

    @Test(arguments: OntologyStructure.shapes) func everyShapeRoundTrips(shape: String) {
        let text = #"""
        {"objects":[{"id":"1","name":"Thing \#(shape)","color":"#16406C","shape":"\#(shape)","featureNodeHash":"0a1b2c3d","required":true,"archived":false,"attributes":[{"id":"1.1","name":"Kind","type":"radio","featureNodeHash":"AbC+/123","required":false,"archived":false,"dynamic":true,"options":[{"id":"1.1.1","label":"Big one","value":"big_one","featureNodeHash":"xyzXYZ09","archived":true}]}]},{"id":"3","name":"Other","color":"#e27300","shape":"\#(shape)","featureNodeHash":"ffffffff","required":false,"archived":true}],"classifications":[{"id":"1","featureNodeHash":"12345678","level":"global","attributes":[{"id":"1.1","name":"Score","type":"numeric","featureNodeHash":"NNNNNNNN","required":false,"archived":false,"dynamic":false}]}],"skeleton_templates":[]}
        """#
        Self.expectRoundTrip(text)
    }

    @Test func skeletonTemplateRoundTrips() {
        let text = #"""
        {"objects":[{"id":"1","name":"Pose","color":"#D33115","shape":"skeleton","featureNodeHash":"aaaa0001","required":false,"archived":false}],"classifications":[],"skeleton_templates":[{"template":{"name":"Line","width":0.235,"height":0.2,"skeleton":{"0":{"x":0.5,"y":0.4,"name":"point_0","color":"#000000","value":"point_0","featureHash":"A9sGmBcx"},"1":{"x":0.7,"y":0.6,"name":"point_1","color":"#000000","value":"point_1","featureHash":"UWKgC/Dy"}},"skeletonEdges":{"0":{"1":{"color":"#000000"}}},"feature_node_hash":"c67604fc","shape":"skeleton"}}]}
        """#
        Self.expectRoundTrip(text)
    }

    @Test func sevenAttributeLevelsAcceptedEightRefused() {
        func nested(levels: Int) -> String {
            // Level k: a radio attribute whose one option holds level k+1.
            func attribute(_ level: Int, id: String) -> String {
                let option = id + ".1"
                let inner = level < levels ? #","options":[\#(attribute(level + 1, id: option + ".1"))]"# : ""
                return #"{"id":"\#(id)","name":"L\#(level)","type":"radio","required":false,"options":[{"id":"\#(option)","label":"o\#(level)"\#(inner)}]}"#
            }
            return #"{"objects":[{"name":"Deep","shape":"point","attributes":[\#(attribute(1, id: "1.1"))]}],"classifications":[]}"#
        }
        let seven = Self.check(nested(levels: 7))
        #expect(seven.issues == [])
        #expect(seven.isValid)
        let eight = Self.check(nested(levels: 8))
        let path = "objects[0].attributes[0]" + String(repeating: ".options[0].options[0]", count: 7)
        #expect(eight.issues == [OntologyIssue(path: String(path.dropLast(3)),
                                               message: "attributes nest at most 7 levels deep; these would be level 8")])
    }

    @Test func mintsHashesIdsColoursAndDefaults() throws {
        let text = #"""
        {"objects":[{"id":"4","name":"A","shape":"polygon"},{"name":"B","shape":"point","attributes":[{"name":"Kind","type":"radio","options":[{"label":"Very Big"},{"id":"5.8.3","label":"Small","value":"sm"}]},{"id":"5.7","name":"Note","type":"text"}]}],
         "classifications":[{"attributes":[{"name":"Q","type":"checklist","required":true,"options":[{"label":"Yes"}]}]}]}
        """#
        let result = Self.check(text)
        #expect(result.issues == [])
        let s = try #require(result.structure)
        guard case .array(let objects)? = s["objects"], case .array(let classifications)? = s["classifications"] else {
            Issue.record("no lists"); return
        }
        #expect(objects[0]["id"] == .string("4"))
        #expect(objects[1]["id"] == .string("5"))   // continues after the highest given id
        #expect(objects[0]["color"] == .string("#D33115"))
        #expect(objects[1]["color"] == .string("#E27300"))   // the palette's next colour
        for o in objects {
            let h = try #require(o["featureNodeHash"]?.stringValue)
            #expect(h.count == 8 && h.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(o["required"] == .bool(false) && o["archived"] == .bool(false))
        }
        #expect(objects[0]["attributes"] == nil)   // empty lists are left out, as to_dict does
        guard case .array(let attrs)? = objects[1]["attributes"], case .array(let options)? = attrs[0]["options"] else {
            Issue.record("no attributes"); return
        }
        #expect(attrs[0]["id"] == .string("5.8"))   // after the highest sibling id given (5.7)
        #expect(attrs[1]["id"] == .string("5.7"))
        #expect(options[0]["id"] == .string("5.8.4"))
        #expect(options[0]["value"] == .string("very_big"))
        #expect(options[1]["value"] == .string("sm"))
        let ah = try #require(attrs[0]["featureNodeHash"]?.stringValue)
        #expect(ah.count == 8 && ah.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") })
        #expect(attrs[0]["dynamic"] == .bool(false) && attrs[0]["required"] == .bool(false))
        #expect(classifications[0]["id"] == .string("1"))
        #expect(classifications[0]["featureNodeHash"]?.stringValue?.count == 8)
        // Normalising the result again changes nothing (a minted structure is stable).
        #expect(Self.check(s.compactText, seed: 99).structure?.compactText == s.compactText)
    }

    @Test func mintedHashesAvoidHashesGivenLater() {
        // With this seed the first minted object hash is known; writing it on a later object
        // must not make the earlier, minted one collide with it.
        var rng = SplitMix64(seed: 7)
        let first = OntologyStructure.normalize(Self.parse(#"{"objects":[{"name":"A","shape":"point"}],"classifications":[]}"#), using: &rng)
        let minted = first.structure!["objects"].flatMap { if case .array(let a) = $0 { return a[0]["featureNodeHash"]?.stringValue } else { return nil } }!
        let text = #"{"objects":[{"name":"A","shape":"point"},{"name":"B","shape":"point","featureNodeHash":"\#(minted)"}],"classifications":[]}"#
        let result = Self.check(text, seed: 7)
        #expect(result.issues == [])
        #expect(result.isValid)
    }

    /// Each malformed structure is refused with exactly this (path, message) among its issues.
    static let malformed: [(String, String, String)] = [
        (#"[]"#, "structure", "must be a JSON object (an ontology structure), got an array"),
        (#"{"objects":[]}"#, "classifications", "is required"),
        (#"{"classifications":[]}"#, "objects", "is required"),
        (#"{"objects":{},"classifications":[]}"#, "objects", "must be an array, got an object"),
        (#"{"objects":[],"classifications":[],"extra":1}"#, "extra", "unknown key (an ontology structure keys are objects, classifications, skeleton_templates)"),
        (#"{"objects":[7],"classifications":[]}"#, "objects[0]", "must be a JSON object (an object), got a number"),
        (#"{"objects":[{"shape":"point"}],"classifications":[]}"#, "objects[0].name", "must be a non-empty string"),
        (#"{"objects":[{"name":"  ","shape":"point"}],"classifications":[]}"#, "objects[0].name", "must be a non-empty string"),
        (#"{"objects":[{"name":"A"}],"classifications":[]}"#, "objects[0].shape", "is required (one of \(OntologyStructure.shapes.joined(separator: ", ")))"),
        (#"{"objects":[{"name":"A","shape":"box"}],"classifications":[]}"#, "objects[0].shape", "must be one of \(OntologyStructure.shapes.joined(separator: ", "))"),
        (##"{"objects":[{"name":"A","shape":"point","color":"red"}],"classifications":[]}"##, "objects[0].color", "must be a colour \"#RRGGBB\" (six hex digits)"),
        (##"{"objects":[{"name":"A","shape":"point","color":"#12345G"}],"classifications":[]}"##, "objects[0].color", "must be a colour \"#RRGGBB\" (six hex digits)"),
        (##"{"objects":[{"name":"A","shape":"point","colour":"#123456"}],"classifications":[]}"##, "objects[0].colour", "unknown key (an object keys are id, name, color, shape, featureNodeHash, required, archived, attributes)"),
        (#"{"objects":[{"id":"01","name":"A","shape":"point"}],"classifications":[]}"#, "objects[0].id", "must be a positive integer written as a string (\"1\")"),
        (#"{"objects":[{"id":"1","name":"A","shape":"point"},{"id":"1","name":"B","shape":"point"}],"classifications":[]}"#, "objects[1].id", "duplicate id (also at objects[0].id)"),
        (#"{"objects":[{"name":"A","shape":"point","featureNodeHash":"aaaa"},{"name":"B","shape":"point","featureNodeHash":"aaaa"}],"classifications":[]}"#, "objects[1].featureNodeHash", "duplicate featureNodeHash \"aaaa\" (also at objects[0].featureNodeHash); every feature needs its own"),
        (#"{"objects":[{"name":"A","shape":"point","featureNodeHash":""}],"classifications":[]}"#, "objects[0].featureNodeHash", "must be a non-empty string of at most 64 characters (or left out to mint one)"),
        (#"{"objects":[{"name":"A","shape":"point","required":"yes"}],"classifications":[]}"#, "objects[0].required", "must be true or false"),
        (#"{"objects":[{"name":"A","shape":"point","archived":1}],"classifications":[]}"#, "objects[0].archived", "must be true or false"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":{}}],"classifications":[]}"#, "objects[0].attributes", "must be an array, got an object"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"dropdown"}]}],"classifications":[]}"#, "objects[0].attributes[0].type", "must be one of radio, checklist, text, numeric"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K"}]}],"classifications":[]}"#, "objects[0].attributes[0].type", "is required (radio, checklist, text or numeric)"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"type":"text"}]}],"classifications":[]}"#, "objects[0].attributes[0].name", "must be a non-empty string"),
        (#"{"objects":[{"id":"2","name":"A","shape":"point","attributes":[{"id":"1.1","name":"K","type":"text"}]}],"classifications":[]}"#, "objects[0].attributes[0].id", "must be \"2.N\" (the parent's id, a dot, a positive integer)"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"text","options":[{"label":"x"}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options", "a text attribute has no options"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"numeric","options":[{"label":"x"}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options", "a numeric attribute has no options"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"radio","options":[{"label":"x"},{"label":""}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options[1].label", "must be a non-empty string"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"radio","options":[{"label":"x","value":3}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options[0].value", "must be a string (or left out: made from the label)"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"checklist","options":[{"label":"x","options":[{"name":"N","type":"text"}]}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options[0].options", "checklist options do not nest attributes (only radio options do)"),
        (#"{"objects":[{"name":"A","shape":"point","attributes":[{"name":"K","type":"radio","options":[{"label":"x","options":[{"name":"N","type":"text","dynamic":true}]}]}]}],"classifications":[]}"#, "objects[0].attributes[0].options[0].options[0].dynamic", "may be true only on a top-level attribute of an object"),
        (#"{"objects":[],"classifications":[{"attributes":[{"name":"Q","type":"text","dynamic":true}]}]}"#, "classifications[0].attributes[0].dynamic", "may be true only on a top-level attribute of an object"),
        (#"{"objects":[],"classifications":[{"attributes":[]}]}"#, "classifications[0].attributes", "must hold at least one attribute (a classification's question)"),
        (#"{"objects":[],"classifications":[{"id":"1"}]}"#, "classifications[0].attributes", "is required"),
        (#"{"objects":[],"classifications":[{"level":"frame","attributes":[{"name":"Q","type":"text"}]}]}"#, "classifications[0].level", "must be \"global\" (or left out)"),
        (#"{"objects":[],"classifications":[{"name":"Q","attributes":[{"name":"Q","type":"text"}]}]}"#, "classifications[0].name", "unknown key (a classification keys are id, featureNodeHash, level, attributes)"),
        (#"{"objects":[{"name":"A","shape":"point","name":"B"}],"classifications":[]}"#, "objects[0].name", "duplicate key"),
        (#"{"objects":[],"classifications":[],"skeleton_templates":[{"template":{"name":"S","width":"1","height":1,"skeleton":{},"skeletonEdges":{}}}]}"#, "skeleton_templates[0].template.width", "must be a number"),
        (#"{"objects":[],"classifications":[],"skeleton_templates":[{"template":{"name":"S","width":1,"height":1,"skeleton":{"0":{"x":0,"name":"p"}}}}]}"#, "skeleton_templates[0].template.skeleton.0.y", "must be a number"),
        (#"{"objects":[],"classifications":[],"skeleton_templates":[{"name":"S"}]}"#, "skeleton_templates[0].name", "unknown key (a skeleton template entry keys are template)"),
        (#"{"objects":[ {"name":"A","shape":"point"} "#, "structure", "is not valid JSON"),
    ]

    @Test func malformedStructuresAreRefusedWithPathAndRule() {
        #expect(Self.malformed.count >= 25)
        for (text, path, message) in Self.malformed {
            let result = Self.check(text)
            #expect(!result.isValid, "accepted: \(text)")
            #expect(result.issues.contains(OntologyIssue(path: path, message: message)),
                    "\(text)\n wanted \(path): \(message)\n got \(result.issues.map(\.description))")
        }
    }

    @Test func reportsEveryIssueNotJustTheFirst() {
        let text = #"{"objects":[{"name":"","shape":"box","color":"x"},{"name":"B"}],"classifications":[{"attributes":[]}]}"#
        let paths = Self.check(text).issues.map(\.path)
        #expect(paths == ["objects[0].name", "objects[0].color", "objects[0].shape", "objects[1].shape", "classifications[0].attributes"])
    }

    @Test func issuesAreBounded() {
        let objects = (0..<300).map { _ in #"{"name":"","shape":"x"}"# }.joined(separator: ",")
        let result = Self.check(#"{"objects":[\#(objects)],"classifications":[]}"#)
        #expect(result.issues.count == OntologyStructure.maxIssues)
        #expect(result.omitted == 600 - OntologyStructure.maxIssues)
    }

    @Test func deepJSONIsRefusedBeforeParsing() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(Self.check(text).issues == [OntologyIssue(path: "structure", message: "nests deeper than 64 JSON levels")])
    }

    @Test func editsThatRemoveOrRetypeFeaturesAreNamed() throws {
        let old = try #require(Self.check(specOntologyExample).structure)
        // Drop "Blue" (objects[0].attributes[0].options[1]) and make Road a polyline.
        var text = Self.parse(specOntologyExample).compactText
        text = text.replacingFirst(#",{"id":"1.1.2","label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":false}"#, with: "")
        text = text.replacingFirst(#""shape":"polygon""#, with: #""shape":"polyline""#)
        let new = try #require(Self.check(text).structure)
        let issues = OntologyEdit.breakingChanges(from: old, to: new)
        #expect(issues == [
            OntologyIssue(path: "objects[0].attributes[0].options[1]", message: "removes option \"Blue\" (featureNodeHash Nb+ZLcnp); set \"archived\": true on it instead"),
            OntologyIssue(path: "objects[1]", message: "changes the shape of object \"Road\" (featureNodeHash 05b6e6e3) from polygon to polyline; archive it and add a new feature instead"),
        ])
        // Archiving and renaming are fine.
        let archived = Self.parse(specOntologyExample).compactText
            .replacingFirst(#""label":"Blue","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":false"#,
                            with: #""label":"Navy","value":"blue","featureNodeHash":"Nb+ZLcnp","archived":true"#)
        #expect(OntologyEdit.breakingChanges(from: old, to: try #require(Self.check(archived).structure)) == [])
        #expect(OntologyEdit.features(of: old).count == 16)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
