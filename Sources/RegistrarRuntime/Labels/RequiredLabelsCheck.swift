import RegistrarCore

/// `required` labels are enforced on `SUBMIT` (docs/labels.md, "Required labels"): a task is
/// submitted only if its data unit's label row, checked against the project's ontology with
/// `submitting: true`, has every required object, classification and attribute. Saving a draft
/// never checks this, so a person can save half-done work.
///
/// Decisions: the check reads the row as stored when the SUBMIT arrives (a save racing the
/// submit is the person's own ordering); a project without an ontology requires nothing; a unit
/// never saved is checked as the empty row (so a required label refuses it); the refusal is the
/// per-task code `labels_incomplete` naming the first missing path, other tasks of the batch go on.
public enum RequiredLabelsCheck {
    /// The refusal code a `SUBMIT` gets when the row lacks a required label.
    public static let code = "labels_incomplete"

    /// Refusals by index into `requests`, for the `SUBMIT`s whose label row is incomplete.
    public static func refusals(store: any LabelStore, tenantID: String, projectID: String,
                                requests: [TaskActionRequest]) throws -> [Int: TaskActionResult] {
        let submits = requests.enumerated().filter { if case .submit = $0.element.action { return true } else { return false } }
        guard !submits.isEmpty else { return [:] }
        let hashes = try store.taskDataHashes(projectID: projectID, taskUUIDs: submits.map(\.element.taskUUID))
        var out: [Int: TaskActionResult] = [:]
        var ontology: (text: String, index: OntologyIndex)?
        for (i, request) in submits {
            // A task not in the project: `act` answers not_found.
            guard let hash = hashes[request.taskUUID],
                  let ctx = try store.labelRowContext(tenantID: tenantID, projectID: projectID, dataHash: hash),
                  let text = ctx.ontology else { continue }
            if ontology?.text != text {
                guard let structure = JSONValue.parse(Array(text.utf8)) else { continue }
                ontology = (text, OntologyIndex(structure: structure))
            }
            guard let index = ontology?.index else { continue }
            let row = ctx.stored.flatMap { JSONValue.parse(Array($0.utf8)) } ?? LabelRowDocument.empty(ctx.facts)
            let issues = LabelRowValidator.validate(row, ontology: index, media: ctx.facts.media,
                                                    existing: LabelRowDocument.featureHashes(row), submitting: true)
            guard let first = issues.first else { continue }
            let more = issues.count > 1 ? " (and \(issues.count - 1) more)" : ""
            out[i] = .refused(request.taskUUID, code,
                              "label row \(hash) is not complete: \(first)\(more); save the missing labels, then submit again")
        }
        return out
    }
}
