/// The node rules (annotation-spec §1), each rebuilding its node in `to_dict()` key order.
extension OntologyNormalizer {
    typealias RNG = any RandomNumberGenerator

    mutating func structure(_ value: JSONValue, rng: inout RNG) -> JSONValue {
        guard let m = members(value, at: "", allowed: ["objects", "classifications", "skeleton_templates"], what: "an ontology structure") else {
            return .null
        }
        let objects = array(m["objects"], at: "objects", required: true) ?? []
        let classifications = array(m["classifications"], at: "classifications", required: true) ?? []
        let templates = array(m["skeleton_templates"], at: "skeleton_templates", required: false) ?? []
        return .object([
            ("objects", .array(objectList(objects, rng: &rng))),
            ("classifications", .array(classificationList(classifications, rng: &rng))),
            ("skeleton_templates", .array(templates.enumerated().map { skeletonTemplate($1, at: "skeleton_templates[\($0)]", rng: &rng) })),
        ])
    }

    // MARK: objects

    static let objectKeys = ["id", "name", "color", "shape", "featureNodeHash", "required", "archived", "attributes"]

    mutating func objectList(_ items: [JSONValue], rng: inout RNG) -> [JSONValue] {
        let paths = items.indices.map { "objects[\($0)]" }
        let nodes = items.enumerated().map { members($1, at: paths[$0], allowed: Self.objectKeys, what: "an object") }
        let ids = siblingIDs(nodes, paths: paths, parent: nil)
        var out: [JSONValue] = []
        var previousColor: String?
        for (i, node) in nodes.enumerated() {
            guard let node else { continue }
            let p = paths[i]
            let name = nonEmptyString(node["name"], at: Self.join(p, "name")) ?? ""
            var color: String
            switch node["color"] {
            case nil, .null?:
                let palette = OntologyStructure.palette
                let next = previousColor.flatMap { palette.firstIndex(of: $0) }.map { ($0 + 1) % palette.count } ?? 0
                color = palette[next]
            case .string(let s)? where Self.isColor(s): color = s
            default:
                fail(Self.join(p, "color"), "must be a colour \"#RRGGBB\" (six hex digits)")
                color = ""
            }
            previousColor = color
            var shape = ""
            if case .string(let s)? = node["shape"], OntologyStructure.shapes.contains(s) {
                shape = s
            } else if node["shape"] == nil {
                fail(Self.join(p, "shape"), "is required (one of \(OntologyStructure.shapes.joined(separator: ", ")))")
            } else {
                fail(Self.join(p, "shape"), "must be one of \(OntologyStructure.shapes.joined(separator: ", "))")
            }
            let hash = self.hash(node["featureNodeHash"], at: Self.join(p, "featureNodeHash"), mint: Self.hexHash, rng: &rng)
            let required = flag(node["required"], at: Self.join(p, "required"))
            let archived = flag(node["archived"], at: Self.join(p, "archived"))
            let attrs = attributeList(node["attributes"], at: Self.join(p, "attributes"), parent: ids[i], level: 1,
                                      dynamicAllowed: true, required: false, rng: &rng)
            var fields: [(key: String, value: JSONValue)] = [
                ("id", .string(ids[i])), ("name", .string(name)), ("color", .string(color)), ("shape", .string(shape)),
                ("featureNodeHash", .string(hash)), ("required", .bool(required)), ("archived", .bool(archived)),
            ]
            if !attrs.isEmpty { fields.append(("attributes", .array(attrs))) }
            out.append(.object(fields))
        }
        return out
    }

    static func isColor(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return u.count == 7 && u[0] == 0x23 && u.dropFirst().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
    }

    // MARK: classifications

    static let classificationKeys = ["id", "featureNodeHash", "level", "attributes"]

    mutating func classificationList(_ items: [JSONValue], rng: inout RNG) -> [JSONValue] {
        let paths = items.indices.map { "classifications[\($0)]" }
        let nodes = items.enumerated().map { members($1, at: paths[$0], allowed: Self.classificationKeys, what: "a classification") }
        let ids = siblingIDs(nodes, paths: paths, parent: nil)
        var out: [JSONValue] = []
        for (i, node) in nodes.enumerated() {
            guard let node else { continue }
            let p = paths[i]
            let hash = self.hash(node["featureNodeHash"], at: Self.join(p, "featureNodeHash"), mint: Self.hexHash, rng: &rng)
            var fields: [(key: String, value: JSONValue)] = [("id", .string(ids[i])), ("featureNodeHash", .string(hash))]
            switch node["level"] {
            case nil: break
            case .string("global")?: fields.append(("level", .string("global")))
            default: fail(Self.join(p, "level"), "must be \"global\" (or left out)")
            }
            let attrs = attributeList(node["attributes"], at: Self.join(p, "attributes"), parent: ids[i], level: 1,
                                      dynamicAllowed: false, required: true, rng: &rng)
            fields.append(("attributes", .array(attrs)))
            out.append(.object(fields))
        }
        return out
    }

    // MARK: attributes and options

    static let attributeKeys = ["id", "name", "type", "featureNodeHash", "required", "archived", "dynamic", "options"]

    /// A list of attributes at `level` (1: directly under an object or classification).
    mutating func attributeList(_ value: JSONValue?, at path: String, parent: String, level: Int, dynamicAllowed: Bool,
                                required: Bool, rng: inout RNG) -> [JSONValue] {
        guard let items = array(value, at: path, required: required) else { return [] }
        if required && items.isEmpty { fail(path, "must hold at least one attribute (a classification's question)") }
        if !items.isEmpty && level > OntologyStructure.maxAttributeLevels {
            fail(path, "attributes nest at most \(OntologyStructure.maxAttributeLevels) levels deep; these would be level \(level)")
            return []
        }
        let paths = items.indices.map { "\(path)[\($0)]" }
        let nodes = items.enumerated().map { members($1, at: paths[$0], allowed: Self.attributeKeys, what: "an attribute") }
        let ids = siblingIDs(nodes, paths: paths, parent: parent)
        var out: [JSONValue] = []
        for (i, node) in nodes.enumerated() {
            guard let node else { continue }
            let p = paths[i]
            let name = nonEmptyString(node["name"], at: Self.join(p, "name")) ?? ""
            var type = ""
            if case .string(let s)? = node["type"], OntologyStructure.attributeTypes.contains(s) {
                type = s
            } else {
                fail(Self.join(p, "type"), node["type"] == nil ? "is required (radio, checklist, text or numeric)"
                                                               : "must be one of radio, checklist, text, numeric")
            }
            let hash = self.hash(node["featureNodeHash"], at: Self.join(p, "featureNodeHash"), mint: Self.shortHash, rng: &rng)
            let isRequired = flag(node["required"], at: Self.join(p, "required"))
            let archived = flag(node["archived"], at: Self.join(p, "archived"))
            let dynamic = flag(node["dynamic"], at: Self.join(p, "dynamic"))
            if dynamic && !dynamicAllowed {
                fail(Self.join(p, "dynamic"), "may be true only on a top-level attribute of an object")
            }
            var options: [JSONValue] = []
            let optionsPath = Self.join(p, "options")
            switch type {
            case "radio", "checklist":
                options = optionList(node["options"], at: optionsPath, parent: ids[i], nestable: type == "radio", level: level, rng: &rng)
            case "text", "numeric":
                if let o = node["options"], o != .null, o != .array([]) { fail(optionsPath, "a \(type) attribute has no options") }
            default: break
            }
            var fields: [(key: String, value: JSONValue)] = [
                ("id", .string(ids[i])), ("name", .string(name)), ("type", .string(type)), ("featureNodeHash", .string(hash)),
                ("required", .bool(isRequired)), ("archived", .bool(archived)), ("dynamic", .bool(dynamic)),
            ]
            if !options.isEmpty { fields.append(("options", .array(options))) }
            out.append(.object(fields))
        }
        return out
    }

    static let optionKeys = ["id", "label", "value", "featureNodeHash", "archived", "options"]

    /// The options of a radio (`nestable`: each may hold nested attributes under `options`) or
    /// checklist attribute at `level`.
    mutating func optionList(_ value: JSONValue?, at path: String, parent: String, nestable: Bool, level: Int, rng: inout RNG) -> [JSONValue] {
        guard let items = array(value, at: path, required: false) else { return [] }
        let paths = items.indices.map { "\(path)[\($0)]" }
        let nodes = items.enumerated().map { members($1, at: paths[$0], allowed: Self.optionKeys, what: "an option") }
        let ids = siblingIDs(nodes, paths: paths, parent: parent)
        var out: [JSONValue] = []
        for (i, node) in nodes.enumerated() {
            guard let node else { continue }
            let p = paths[i]
            let label = nonEmptyString(node["label"], at: Self.join(p, "label")) ?? ""
            var optionValue = OntologyStructure.defaultValue(label: label)
            switch node["value"] {
            case nil, .null?, .string("")?: break
            case .string(let s)?: optionValue = s
            default: fail(Self.join(p, "value"), "must be a string (or left out: made from the label)")
            }
            let hash = self.hash(node["featureNodeHash"], at: Self.join(p, "featureNodeHash"), mint: Self.shortHash, rng: &rng)
            let archived = flag(node["archived"], at: Self.join(p, "archived"))
            var nested: [JSONValue] = []
            if nestable {
                nested = attributeList(node["options"], at: Self.join(p, "options"), parent: ids[i], level: level + 1,
                                       dynamicAllowed: false, required: false, rng: &rng)
            } else if let o = node["options"], o != .null, o != .array([]) {
                fail(Self.join(p, "options"), "checklist options do not nest attributes (only radio options do)")
            }
            var fields: [(key: String, value: JSONValue)] = [
                ("id", .string(ids[i])), ("label", .string(label)), ("value", .string(optionValue)),
                ("featureNodeHash", .string(hash)), ("archived", .bool(archived)),
            ]
            if !nested.isEmpty { fields.append(("options", .array(nested))) }
            out.append(.object(fields))
        }
        return out
    }

    // MARK: skeleton templates

    static let templateKeys = ["name", "width", "height", "skeleton", "skeletonEdges", "feature_node_hash", "shape"]
    static let coordinateKeys = ["x", "y", "name", "color", "value", "featureHash", "feature_hash"]

    /// `{"template": {name, width, height, skeleton, skeletonEdges, feature_node_hash, shape}}`
    /// (the SDK's `SkeletonTemplate.to_dict()`); the vertices and edges are kept as written once checked.
    mutating func skeletonTemplate(_ value: JSONValue, at path: String, rng: inout RNG) -> JSONValue {
        guard let wrapper = members(value, at: path, allowed: ["template"], what: "a skeleton template entry") else { return .null }
        let p = Self.join(path, "template")
        guard let body = wrapper["template"] else {
            fail(p, "is required")
            return .null
        }
        guard let m = members(body, at: p, allowed: Self.templateKeys, what: "a skeleton template") else { return .null }
        let name = nonEmptyString(m["name"], at: Self.join(p, "name")) ?? ""
        for key in ["width", "height"] {
            if case .number? = m[key] {} else { fail(Self.join(p, key), "must be a number") }
        }
        let vertices: JSONValue = m["skeleton"] ?? .null
        if case .object(let list) = vertices {
            for v in list {
                let vp = Self.join(Self.join(p, "skeleton"), v.key)
                guard let c = members(v.value, at: vp, allowed: Self.coordinateKeys, what: "a skeleton vertex") else { continue }
                for key in ["x", "y"] { if case .number? = c[key] {} else { fail(Self.join(vp, key), "must be a number") } }
                _ = nonEmptyString(c["name"], at: Self.join(vp, "name"))
                for key in ["color", "value", "featureHash", "feature_hash"] {
                    switch c[key] {
                    case nil, .null?, .string?: break
                    default: fail(Self.join(vp, key), "must be a string")
                    }
                }
            }
        } else {
            fail(Self.join(p, "skeleton"), "must be an object of vertices")
        }
        let edges: JSONValue = m["skeletonEdges"] ?? .object([])
        if case .object(let list) = edges {
            for e in list where !(e.value.isObject) { fail(Self.join(Self.join(p, "skeletonEdges"), e.key), "must be an object") }
        } else {
            fail(Self.join(p, "skeletonEdges"), "must be an object (start vertex → end vertex → {color})")
        }
        let hash = self.hash(m["feature_node_hash"], at: Self.join(p, "feature_node_hash"), mint: Self.hexHash, rng: &rng)
        switch m["shape"] {
        case nil, .null?, .string("skeleton")?: break
        default: fail(Self.join(p, "shape"), "must be \"skeleton\"")
        }
        return .object([("template", .object([
            ("name", .string(name)), ("width", m["width"] ?? .null), ("height", m["height"] ?? .null), ("skeleton", vertices),
            ("skeletonEdges", edges), ("feature_node_hash", .string(hash)), ("shape", .string("skeleton")),
        ]))])
    }
}

extension JSONValue {
    var isObject: Bool { if case .object = self { return true } else { return false } }
}
