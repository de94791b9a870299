extension JSONValue {
    /// Parses a whole, small JSON text held in memory (API bodies and answers); nil when it is
    /// not JSON. Manifests never come through here: they stream through the readers.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        guard !bytes.isEmpty else { return nil }
        let t = JSONTokenizer(source: MemoryByteSource(bytes))
        var budget = Int.max
        guard let first = try? t.next() else { return nil }
        return try? t.readValue(after: first, budget: &budget)
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int? { if case .number(let n) = self { return Int(n) } else { return nil } }
}
