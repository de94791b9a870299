/// Per-label review (issue 19; Encord's `LabelReview {reviewUuid, status, labelType, labelId}`,
/// annotation-spec §4): a reviewer approves or rejects each object and classification of a
/// label row, with a comment on a rejection, and the annotator answers a rejection by fixing the
/// label. Decision (docs/labels.md, "Per-label review"): the reviews live in the label row, as a
/// `reviews` list on the label's `object_answers.<objectHash>` or
/// `classification_answers.<classificationHash>` entry, oldest first; the last entry is the
/// label's review state. Entry: `{reviewUuid, status, comment?, reviewedBy, reviewedAt}`.
/// They are written with the row (`PUT …/label-rows/{dataHash}`, `If-Match`), so a review can
/// never overwrite someone else's newer labels, and the JSON export carries them.
public enum LabelReviews {
    /// Encord's label review statuses. `RESOLVED`: the annotator changed (or answered) a rejected label.
    public static let statuses: Set<String> = ["NEW", "APPROVED", "REJECTED", "RESOLVED", "REOPENED"]
    /// Statuses a writer without the review permission (an annotator) may add.
    public static let annotatorStatuses: Set<String> = ["RESOLVED"]
    public static let maxComment = 2_000
    public static let maxEntries = 100

    /// The problems of one label's `reviews` value at `path` (`…object_answers.X.reviews`).
    public static func problems(_ value: JSONValue?, at path: String) -> [LabelIssue] {
        guard let value, value != .null else { return [] }
        guard case .array(let entries) = value else { return [LabelIssue(path, "must be a list of reviews ({status, comment?, reviewedBy, reviewedAt})")] }
        var out: [LabelIssue] = []
        if entries.count > maxEntries { out.append(LabelIssue(path, "holds \(entries.count) reviews; at most \(maxEntries) are kept per label")) }
        for (i, entry) in entries.enumerated() {
            let p = "\(path)[\(i)]"
            guard case .object(let members) = entry else { out.append(LabelIssue(p, "must be an object, got \(entry.kindName)")); continue }
            let known: Set<String> = ["reviewUuid", "status", "comment", "reviewedBy", "reviewedAt"]
            for m in members where !known.contains(m.key) { out.append(LabelIssue("\(p).\(m.key)", "is not a review field (reviewUuid, status, comment, reviewedBy, reviewedAt)")) }
            guard case .string(let status)? = entry["status"], statuses.contains(status) else {
                out.append(LabelIssue("\(p).status", "must be one of \(statuses.sorted().joined(separator: ", "))")); continue
            }
            switch entry["comment"] {
            case nil, .null?:
                if status == "REJECTED" { out.append(LabelIssue("\(p).comment", "a rejection needs a comment: say what to fix")) }
            case .string(let c)?:
                if status == "REJECTED" && c.allSatisfy(\.isWhitespace) {
                    out.append(LabelIssue("\(p).comment", "a rejection needs a comment: say what to fix"))
                }
                if c.count > maxComment { out.append(LabelIssue("\(p).comment", "is \(c.count) characters; at most \(maxComment)")) }
            case let other?: out.append(LabelIssue("\(p).comment", "must be a string, got \(other.kindName)"))
            }
            for key in ["reviewUuid", "reviewedBy"] {
                if let v = entry[key], v != .null, v.stringValue == nil { out.append(LabelIssue("\(p).\(key)", "must be a string, got \(v.kindName)")) }
            }
            if let at = entry["reviewedAt"], at != .null {
                if case .string(let s) = at, LabelTimestamp.parse(s) != nil {} else {
                    out.append(LabelIssue("\(p).reviewedAt", "must be a timestamp like \"Thu, 02 Jan 2025 10:00:00 UTC\" or \"2025-01-07 16:12:23\""))
                }
            }
        }
        return out
    }

    /// Every label's reviews in a row: `"object_answers.<hash>"` / `"classification_answers.<hash>"` → entries.
    public static func byLabel(_ row: JSONValue?) -> [String: [JSONValue]] {
        var out: [String: [JSONValue]] = [:]
        for section in ["object_answers", "classification_answers"] {
            guard case .object(let members)? = row?[section] else { continue }
            for m in members { if case .array(let list)? = m.value["reviews"] { out["\(section).\(m.key)"] = list } }
        }
        return out
    }

    /// What a writer without the review permission (an annotator) may do to the reviews: keep
    /// the stored entries of every label it keeps, unchanged and in order, and add `RESOLVED`
    /// entries after them (a label it deletes goes with its reviews). Returns the first
    /// violation, or nil. A reviewer (or a task controller) may write any valid reviews.
    public static func annotatorViolation(stored: JSONValue?, new: JSONValue) -> LabelIssue? {
        let before = byLabel(stored)
        let after = byLabel(new)
        for (label, entries) in after.sorted(by: { $0.key < $1.key }) {
            let old = before[label] ?? []
            if entries.count < old.count || zip(old, entries).contains(where: { !same($0, $1) }) {
                return LabelIssue("\(label).reviews", "only a reviewer may change or remove the reviews already given; keep them and add a RESOLVED entry")
            }
            for (i, e) in entries.enumerated().dropFirst(old.count) {
                let status = e["status"]?.stringValue ?? ""
                if !annotatorStatuses.contains(status) {
                    return LabelIssue("\(label).reviews[\(i)].status", "only a reviewer may record \(status.isEmpty ? "a review" : status); an annotator answers a rejection with RESOLVED")
                }
            }
        }
        // A label kept without its reviews (the list dropped) also loses what the reviewer said.
        for (label, old) in before where !old.isEmpty && after[label] == nil && labelExists(label, in: new) {
            return LabelIssue("\(label).reviews", "only a reviewer may change or remove the reviews already given; keep them and add a RESOLVED entry")
        }
        return nil
    }

    /// The entries a write adds (past the stored list's common prefix, per label) whose
    /// `reviewedBy` is not `writer`: a review is signed by the person saving it. Returns the
    /// first such path, or nil. `reviewedBy` may be left out (then nobody is named).
    public static func misattributed(stored: JSONValue?, new: JSONValue, writer: String) -> LabelIssue? {
        let before = byLabel(stored)
        for (label, entries) in byLabel(new).sorted(by: { $0.key < $1.key }) {
            let old = before[label] ?? []
            let kept = zip(old, entries).prefix { same($0, $1) }.count
            for (i, e) in entries.enumerated().dropFirst(kept) {
                if let by = e["reviewedBy"], by != .null, by != .string(writer) {
                    return LabelIssue("\(label).reviews[\(i)].reviewedBy", "must be \(writer), who is saving this review")
                }
            }
        }
        return nil
    }

    /// The same review, whatever the order of its fields.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        ["reviewUuid", "status", "comment", "reviewedBy", "reviewedAt"].allSatisfy { (a[$0] ?? .null) == (b[$0] ?? .null) }
    }

    static func labelExists(_ label: String, in row: JSONValue) -> Bool {
        let parts = label.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return false }
        return row[parts[0]]?[parts[1]] != nil
    }
}
