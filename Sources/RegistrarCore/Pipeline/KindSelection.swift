/// Which job kinds one worker process serves (`registrar worker --kinds`,
/// `REGISTRAR_WORKER_KINDS`): a comma-separated list of kind names this build knows, or `all`.
/// Workers are scaled per kind by running them with different lists; each kind has its own
/// queues, so a kind no worker serves simply waits.
public enum KindSelection {
    /// A selection that names nothing this build can run.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The kinds `text` selects, in the order `known` lists them. Empty or `all`: every known kind.
    /// Names are case-insensitive; spaces around commas are ignored; repeats are harmless.
    public static func parse(_ text: String, known: [String], source: String = "--kinds") throws -> [String] {
        let trimmed = Substring(text).trimmingASCIISpaces()
        if trimmed.isEmpty || trimmed.lowercased() == "all" { return known }
        var chosen = Set<String>()
        for (position, raw) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let name = raw.trimmingASCIISpaces().lowercased()
            guard !name.isEmpty else {
                throw Invalid(description: "\(source): item \(position + 1) is empty (write kinds separated by commas, e.g. registration)")
            }
            guard known.contains(name) else {
                throw Invalid(description: "\(source): unknown job kind '\(name)' (this build runs: \(known.joined(separator: ", ")), or all)")
            }
            chosen.insert(name)
        }
        return known.filter(chosen.contains)
    }
}
