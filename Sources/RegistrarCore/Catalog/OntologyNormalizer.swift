/// The walk behind `OntologyStructure.normalize`: checks one node at a time, collecting issues
/// (it never stops at the first), and rebuilds each node in `to_dict()` key order.
struct OntologyNormalizer {
    var issues: [OntologyIssue] = []
    var omitted = 0
    /// featureNodeHash → where it was first seen (duplicates are refused).
    var seen: [String: String] = [:]
    /// Hashes written anywhere in the input: minted ones must differ from them.
    var reserved: Set<String>

    init(reserved: Set<String>) { self.reserved = reserved }

    mutating func fail(_ path: String, _ message: String) {
        if issues.count < OntologyStructure.maxIssues {
            issues.append(OntologyIssue(path: path.isEmpty ? "structure" : path, message: message))
        } else {
            omitted += 1
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// An object's members by key, refusing non-objects, duplicate keys and keys not in `allowed`.
    mutating func members(_ value: JSONValue, at path: String, allowed: [String], what: String) -> [String: JSONValue]? {
        guard case .object(let list) = value else {
            fail(path, "must be a JSON object (\(what)), got \(value.kindName)")
            return nil
        }
        var out: [String: JSONValue] = [:]
        for m in list {
            let p = Self.join(path, m.key)
            if out[m.key] != nil { fail(p, "duplicate key"); continue }
            guard allowed.contains(m.key) else {
                fail(p, "unknown key (\(what) keys are \(allowed.joined(separator: ", ")))")
                continue
            }
            out[m.key] = m.value
        }
        return out
    }

    mutating func array(_ value: JSONValue?, at path: String, required: Bool) -> [JSONValue]? {
        guard let value, value != .null || required else { return required ? failing(path, "is required") : [] }
        guard case .array(let items) = value else { return failing(path, "must be an array, got \(value.kindName)") }
        return items
    }

    mutating func failing<T>(_ path: String, _ message: String) -> T? {
        fail(path, message)
        return nil
    }

    mutating func nonEmptyString(_ value: JSONValue?, at path: String) -> String? {
        guard case .string(let s)? = value, !s.allSatisfy(\.isWhitespace) else { return failing(path, "must be a non-empty string") }
        return s
    }

    mutating func flag(_ value: JSONValue?, at path: String) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        default:
            fail(path, "must be true or false")
            return false
        }
    }

    /// A given featureNodeHash (checked, unique) or a minted one.
    mutating func hash(_ value: JSONValue?, at path: String, mint: (inout any RandomNumberGenerator) -> String,
                       rng: inout any RandomNumberGenerator) -> String {
        switch value {
        case nil, .null?:
            while true {
                let h = mint(&rng)
                if !reserved.contains(h) {
                    reserved.insert(h)
                    seen[h] = path
                    return h
                }
            }
        case .string(let s)? where !s.isEmpty && s.count <= 64 && !s.unicodeScalars.contains(where: { $0.value < 0x20 }):
            if let other = seen[s] {
                fail(path, "duplicate featureNodeHash \"\(s)\" (also at \(other)); every feature needs its own")
            } else {
                seen[s] = path
            }
            return s
        default:
            fail(path, "must be a non-empty string of at most 64 characters (or left out to mint one)")
            return ""
        }
    }

    // MARK: ids

    /// A top-level id (`"1"`, `"2"`…): a positive integer, written as a string (a JSON integer is
    /// accepted and written back as a string).
    static func topID(_ value: JSONValue) -> Int? {
        let text: String
        switch value {
        case .string(let s): text = s
        case .number(let n): text = n
        default: return nil
        }
        guard !text.isEmpty, text.count <= 9, text.first != "0", text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// Checks the ids of a list of siblings; returns each one's final id (given or minted: the
    /// highest given + 1, in order). `parent` is the parent's id for nested ids (nil: top level).
    mutating func siblingIDs(_ nodes: [[String: JSONValue]?], paths: [String], parent: String?) -> [String] {
        var given: [Int?] = []
        var firstAt: [Int: String] = [:]
        for (i, node) in nodes.enumerated() {
            guard let node, let raw = node["id"], raw != .null else { given.append(nil); continue }
            let p = Self.join(paths[i], "id")
            var local: Int?
            if let parent {
                if case .string(let s) = raw, s.hasPrefix(parent + "."), let n = Self.topID(.string(String(s.dropFirst(parent.count + 1)))) {
                    local = n
                } else {
                    fail(p, "must be \"\(parent).N\" (the parent's id, a dot, a positive integer)")
                }
            } else if let n = Self.topID(raw) {
                local = n
            } else {
                fail(p, "must be a positive integer written as a string (\"1\")")
            }
            if let n = local, let other = firstAt[n] {
                fail(p, "duplicate id (also at \(other))")
                local = nil
            } else if let n = local {
                firstAt[n] = p
            }
            given.append(local)
        }
        var next = (given.compactMap { $0 }.max() ?? 0) + 1
        return given.map { local in
            let n: Int
            if let local { n = local } else { n = next; next += 1 }
            return parent.map { "\($0).\(n)" } ?? String(n)
        }
    }

    // MARK: hash formats (annotation-spec §1 "Hash formats")

    /// Objects, classifications, skeleton templates: 8 lowercase hex characters (`str(uuid4())[:8]`).
    static func hexHash(_ rng: inout any RandomNumberGenerator) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<8).map { _ in digits[Int(rng.next() & 15)] })
    }

    /// Attributes and options: base64 of 6 random bytes, 8 characters of `[A-Za-z0-9+/]`.
    static func shortHash(_ rng: inout any RandomNumberGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return String((0..<8).map { _ in alphabet[Int(rng.next() & 63)] })
    }
}
