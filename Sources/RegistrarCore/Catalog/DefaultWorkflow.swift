/// The workflow a project gets when it is created without one: Encord's "default standard
/// workflow" in the graph form of annotation-spec §3 — Start → Annotate → Review, the review's
/// `approved` pathway to Complete and its `rejected` pathway back to Annotate. The workflow
/// issue (13) defines and validates graphs; until then an inline graph is stored as given.
public enum DefaultWorkflow {
    /// The graph JSON, with node and pathway uuids minted by `uuid` (one call per id: a fresh
    /// set per project).
    public static func graph(uuid: () -> String) -> JSONValue {
        let start = uuid(), annotate = uuid(), review = uuid(), done = uuid(), approved = uuid(), rejected = uuid()
        return .object([("graphNodes", .array([
            .object([("uuid", .string(start)), ("nodeType", .string("START")), ("toNode", .string(annotate))]),
            .object([("uuid", .string(annotate)), ("nodeType", .string("ANNOTATION")), ("title", .string("Annotate")),
                     ("toNode", .string(review))]),
            .object([("uuid", .string(review)), ("nodeType", .string("REVIEW")), ("title", .string("Review")),
                     ("pathways", .array([
                        .object([("uuid", .string(approved)), ("name", .string("approved")), ("targetNode", .string(done))]),
                        .object([("uuid", .string(rejected)), ("name", .string("rejected")), ("targetNode", .string(annotate))]),
                     ]))]),
            .object([("uuid", .string(done)), ("nodeType", .string("DONE")), ("title", .string("Complete")),
                     ("nodeSubtype", .string("COMPLETED"))]),
        ]))])
    }

    /// Whether an inline workflow has the graph form's outer shape (an object with a
    /// `graphNodes` array of objects); its content is issue 13's to validate.
    public static func hasGraphShape(_ value: JSONValue) -> Bool {
        guard case .array(let nodes)? = value["graphNodes"] else { return false }
        return nodes.allSatisfy { if case .object = $0 { true } else { false } }
    }
}
