/// An ontology's structure JSON, exactly as Encord's `OntologyStructure.to_dict()` writes it
/// (docs/ontologies.md; annotation-spec §1): `{"objects", "classifications", "skeleton_templates"}`.
///
/// `normalize` checks every rule, reporting each broken one with its JSON path
/// (`objects[2].attributes[0].options[1].label: must be a non-empty string`), mints what may be
/// left out (`featureNodeHash`es, ids, object colours) and fills defaults (`required`,
/// `archived`, `dynamic` false; an option's `value` from its label), and writes the result back
/// in `to_dict()` key order. A structure already in that form comes back byte for byte.
///
/// Unknown keys are refused with their path rather than kept: the answer is re-serialised in
/// `to_dict()` order, so a kept unknown key would have no defined place, and a refused one
/// catches typos (`colour`, `featureNodeHas`) that would otherwise silently mint a new hash.
public enum OntologyStructure {
    /// The `Shape` values of Encord's SDK (`encord/objects/common.py`, 0.1.211).
    public static let shapes = [
        "bounding_box", "polygon", "point", "skeleton", "polyline", "rotatable_bounding_box", "bitmask", "audio",
        "time_range", "text", "cuboid", "cuboid_2d", "circle", "ellipse", "segmentation",
    ]
    /// Attribute types.
    public static let attributeTypes = ["radio", "checklist", "text", "numeric"]
    /// How deep attributes may nest under radio options: a top-level attribute is level 1.
    public static let maxAttributeLevels = 7
    /// At most this many issues are reported (the rest are counted, not listed).
    public static let maxIssues = 100
    /// The SDK's object colour palette (`encord/objects/constants.py`), used for missing colours.
    public static let palette = [
        "#D33115", "#E27300", "#16406C", "#FE9200", "#FCDC00", "#DBDF00", "#A4DD00", "#68CCCA", "#73D8FF",
        "#AEA1FF", "#FCC400", "#B0BC00", "#68BC00", "#16A5A5", "#009CE0", "#7B64FF", "#FA28FF", "#B3B3B3",
        "#9F0500", "#C45100", "#FB9E00", "#808900", "#194D33", "#0C797D", "#0062B1", "#653294", "#AB149E",
    ]
    /// Deeper JSON nesting than this is refused before parsing (7 attribute levels need about 33).
    public static let maxJSONDepth = 64

    /// Parses JSON text and normalises it; a text that is not JSON is one issue at `structure`.
    public static func normalize(text bytes: [UInt8]) -> OntologyValidation {
        var rng = SystemRandomNumberGenerator()
        return normalize(text: bytes, using: &rng)
    }

    public static func normalize<G: RandomNumberGenerator>(text bytes: [UInt8], using rng: inout G) -> OntologyValidation {
        if jsonDepth(bytes) > maxJSONDepth {
            return OntologyValidation(structure: nil, issues: [OntologyIssue(path: "structure", message: "nests deeper than \(maxJSONDepth) JSON levels")], omitted: 0)
        }
        guard let value = JSONValue.parse(bytes) else {
            return OntologyValidation(structure: nil, issues: [OntologyIssue(path: "structure", message: "is not valid JSON")], omitted: 0)
        }
        return normalize(value, using: &rng)
    }

    public static func normalize(_ value: JSONValue) -> OntologyValidation {
        var rng = SystemRandomNumberGenerator()
        return normalize(value, using: &rng)
    }

    /// Checks and normalises a parsed structure; `rng` draws the minted hashes.
    public static func normalize<G: RandomNumberGenerator>(_ value: JSONValue, using rng: inout G) -> OntologyValidation {
        var n = OntologyNormalizer(reserved: givenHashes(in: value))
        var boxed: any RandomNumberGenerator = rng
        let out = n.structure(value, rng: &boxed)
        rng = boxed as! G
        return OntologyValidation(structure: n.issues.isEmpty && n.omitted == 0 ? out : nil, issues: n.issues, omitted: n.omitted)
    }

    /// The deepest `[`/`{` nesting of a JSON text (strings skipped), stopping past the limit.
    public static func jsonDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                deepest = max(deepest, depth)
                if deepest > maxJSONDepth { return deepest }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// Every string given as a `featureNodeHash` / `feature_node_hash` anywhere: minted hashes
    /// avoid them, so minting never collides with a hash written later in the document.
    static func givenHashes(in value: JSONValue) -> Set<String> {
        var out = Set<String>()
        func walk(_ v: JSONValue) {
            switch v {
            case .object(let members):
                for m in members {
                    if m.key == "featureNodeHash" || m.key == "feature_node_hash", case .string(let s) = m.value { out.insert(s) }
                    walk(m.value)
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(value)
        return out
    }

    /// The default option value: the label with each whitespace character made `_`, lower-cased
    /// (the SDK's `re.sub(r"\s", "_", label).lower()`).
    public static func defaultValue(label: String) -> String {
        var out = ""
        for ch in label { out.append(ch.isWhitespace ? "_" : ch) }
        return out.lowercased()
    }
}

/// One broken rule: where (a JSON path into the structure) and which rule.
public struct OntologyIssue: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// What `OntologyStructure.normalize` found: the normalised structure when valid, else the
/// issues (at most `maxIssues`; `omitted` counts the others).
public struct OntologyValidation: Sendable {
    public var structure: JSONValue?
    public var issues: [OntologyIssue]
    public var omitted: Int
    public var isValid: Bool { structure != nil }
}
