/// One feature of a normalised structure: where it sits and what kind of thing it is.
public struct OntologyFeature: Sendable, Equatable {
    /// JSON path of the feature (`objects[0].attributes[1]`).
    public var path: String
    /// `object`, `classification`, `attribute`, `option` or `skeleton_template`.
    public var kind: String
    /// The object's shape or the attribute's type ("" for the other kinds).
    public var type: String
    /// Its name (objects, attributes), label (options) or template name.
    public var title: String
}

/// The rule for editing an ontology that is in use (docs/ontologies.md, "Editing"): a feature
/// (a `featureNodeHash`) may be renamed, re-coloured, archived or added to, but not removed
/// and not turned into another kind, shape or attribute type, because labels refer to it by
/// hash. Removing is replaced by `"archived": true`.
public enum OntologyEdit {
    /// Every feature of a normalised structure by its featureNodeHash.
    public static func features(of structure: JSONValue) -> [String: OntologyFeature] {
        var out: [String: OntologyFeature] = [:]
        func add(_ node: JSONValue, _ path: String, _ kind: String, typeKey: String?, titleKey: String, hashKey: String = "featureNodeHash") {
            guard let hash = node[hashKey]?.stringValue else { return }
            out[hash] = OntologyFeature(path: path, kind: kind, type: typeKey.flatMap { node[$0]?.stringValue } ?? "",
                                        title: node[titleKey]?.stringValue ?? "")
        }
        func attributes(_ list: JSONValue?, _ path: String) {
            guard case .array(let items)? = list else { return }
            for (i, a) in items.enumerated() {
                let ap = "\(path)[\(i)]"
                add(a, ap, "attribute", typeKey: "type", titleKey: "name")
                guard case .array(let options)? = a["options"] else { continue }
                for (j, o) in options.enumerated() {
                    let op = "\(ap).options[\(j)]"
                    add(o, op, "option", typeKey: nil, titleKey: "label")
                    attributes(o["options"], "\(op).options")
                }
            }
        }
        if case .array(let objects)? = structure["objects"] {
            for (i, o) in objects.enumerated() {
                add(o, "objects[\(i)]", "object", typeKey: "shape", titleKey: "name")
                attributes(o["attributes"], "objects[\(i)].attributes")
            }
        }
        if case .array(let classifications)? = structure["classifications"] {
            for (i, c) in classifications.enumerated() {
                add(c, "classifications[\(i)]", "classification", typeKey: nil, titleKey: "id")
                attributes(c["attributes"], "classifications[\(i)].attributes")
            }
        }
        if case .array(let templates)? = structure["skeleton_templates"] {
            for (i, t) in templates.enumerated() {
                if let body = t["template"] {
                    add(body, "skeleton_templates[\(i)].template", "skeleton_template", typeKey: nil, titleKey: "name", hashKey: "feature_node_hash")
                }
            }
        }
        return out
    }

    /// What an edit from `old` to `new` (both normalised) breaks for labels: features removed,
    /// and features whose kind, shape or attribute type changed. Paths are `old`'s for removals
    /// and `new`'s for changes; sorted by path.
    public static func breakingChanges(from old: JSONValue, to new: JSONValue) -> [OntologyIssue] {
        let before = features(of: old), after = features(of: new)
        var out: [OntologyIssue] = []
        for (hash, f) in before {
            guard let g = after[hash] else {
                out.append(OntologyIssue(path: f.path, message: "removes \(f.kind) \"\(f.title)\" (featureNodeHash \(hash)); set \"archived\": true on it instead"))
                continue
            }
            if g.kind != f.kind {
                out.append(OntologyIssue(path: g.path, message: "turns \(f.kind) \"\(f.title)\" (featureNodeHash \(hash)) into \(g.kind); archive it and add a new feature instead"))
            } else if g.type != f.type {
                let what = f.kind == "object" ? "shape" : "type"
                out.append(OntologyIssue(path: g.path, message: "changes the \(what) of \(f.kind) \"\(f.title)\" (featureNodeHash \(hash)) from \(f.type) to \(g.type); archive it and add a new feature instead"))
            }
        }
        return out.sorted { $0.path < $1.path }
    }
}
