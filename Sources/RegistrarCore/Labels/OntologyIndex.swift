/// A project's ontology, indexed by feature hash for checking and exporting labels
/// (docs/labels.md). Built from a structure `OntologyStructure.normalize` accepted, so the
/// shapes of its fields are known good; anything unexpected is skipped rather than trapped on.
public struct OntologyIndex: Sendable {
    /// One ontology object (a class of labelled thing).
    public struct Object: Sendable {
        public var featureHash: String
        public var id: String
        public var name: String
        public var color: String
        public var shape: String
        public var required: Bool
        public var archived: Bool
        /// Top-level attributes, in ontology order (nested ones hang off their options).
        public var attributes: [Attribute]
    }

    /// One classification (its question is its first attribute).
    public struct Classification: Sendable {
        public var featureHash: String
        public var id: String
        /// `level: "global"`: applies to the whole data unit, never to frames.
        public var global: Bool
        public var attributes: [Attribute]
        public var required: Bool { attributes.first?.required ?? false }
        public var archived: Bool { attributes.first?.archived ?? false }
        public var name: String { attributes.first?.name ?? id }
    }

    /// An attribute: a radio, checklist, text or numeric question.
    public struct Attribute: Sendable {
        public var featureHash: String
        public var name: String
        public var type: String
        public var required: Bool
        public var archived: Bool
        public var dynamic: Bool
        public var options: [Option]
        /// The value written in answers (`name` lower-cased, spaces as `_`).
        public var value: String { LabelNames.value(name) }
    }

    /// A radio or checklist option; radio options may hold nested attributes.
    public struct Option: Sendable {
        public var featureHash: String
        public var label: String
        public var value: String
        public var archived: Bool
        public var nested: [Attribute]
    }

    public private(set) var objects: [Object] = []
    public private(set) var classifications: [Classification] = []
    private var objectByHash: [String: Int] = [:]
    private var classificationByHash: [String: Int] = [:]
    private var attributeByHash: [String: Attribute] = [:]
    private var optionByHash: [String: Option] = [:]

    public init(structure: JSONValue) {
        if case .array(let items)? = structure["objects"] {
            for item in items {
                guard let hash = item["featureNodeHash"]?.stringValue else { continue }
                let object = Object(featureHash: hash, id: item["id"]?.stringValue ?? "", name: item["name"]?.stringValue ?? "",
                                    color: item["color"]?.stringValue ?? "", shape: item["shape"]?.stringValue ?? "",
                                    required: item["required"] == .bool(true), archived: item["archived"] == .bool(true),
                                    attributes: attributes(item["attributes"]))
                objectByHash[hash] = objects.count
                objects.append(object)
            }
        }
        if case .array(let items)? = structure["classifications"] {
            for item in items {
                guard let hash = item["featureNodeHash"]?.stringValue else { continue }
                let c = Classification(featureHash: hash, id: item["id"]?.stringValue ?? "", global: item["level"]?.stringValue == "global",
                                       attributes: attributes(item["attributes"]))
                classificationByHash[hash] = classifications.count
                classifications.append(c)
            }
        }
    }

    private mutating func attributes(_ value: JSONValue?) -> [Attribute] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            guard let hash = item["featureNodeHash"]?.stringValue else { return nil }
            var options: [Option] = []
            if case .array(let opts)? = item["options"] {
                for o in opts {
                    guard let oh = o["featureNodeHash"]?.stringValue else { continue }
                    let label = o["label"]?.stringValue ?? ""
                    // A checklist option's `options` is absent; a radio option's holds nested attributes.
                    let option = Option(featureHash: oh, label: label, value: o["value"]?.stringValue ?? LabelNames.value(label),
                                        archived: o["archived"] == .bool(true), nested: attributes(o["options"]))
                    optionByHash[oh] = option
                    options.append(option)
                }
            }
            let a = Attribute(featureHash: hash, name: item["name"]?.stringValue ?? "", type: item["type"]?.stringValue ?? "",
                              required: item["required"] == .bool(true), archived: item["archived"] == .bool(true),
                              dynamic: item["dynamic"] == .bool(true), options: options)
            attributeByHash[hash] = a
            return a
        }
    }

    public func object(_ hash: String) -> Object? { objectByHash[hash].map { objects[$0] } }
    public func classification(_ hash: String) -> Classification? { classificationByHash[hash].map { classifications[$0] } }
    public func attribute(_ hash: String) -> Attribute? { attributeByHash[hash] }
    public func option(_ hash: String) -> Option? { optionByHash[hash] }
    /// 1-based COCO category id of an object (ontology order; 0 stays background).
    public func categoryID(_ hash: String) -> Int? { objectByHash[hash].map { $0 + 1 } }
}

/// Encord's derived names: an element's `value` is its name lower-cased with spaces as `_`.
public enum LabelNames {
    public static func value(_ name: String) -> String {
        String(name.lowercased().map { $0 == " " ? "_" : $0 })
    }
}
