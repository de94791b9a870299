import Foundation
import Testing
@testable import RegistrarCore

/// Per-label review in the label row (docs/labels.md, "Per-label review"): the `reviews` lists
/// the validator accepts and refuses, and what a writer without the review permission may change.
@Suite struct LabelReviewTests {
    let ontology: OntologyIndex
    let image: JSONValue
    let media = LabelMedia(dataHash: "dh-img-0001", dataType: "image", width: 1920, height: 1080, frameCount: 1)

    init() throws {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        func load(_ name: String) throws -> JSONValue {
            try #require(JSONValue.parse(Array(try Data(contentsOf: dir.appendingPathComponent("labels/\(name)")))))
        }
        ontology = OntologyIndex(structure: try load("ontology.json"))
        image = try load("image-row.json")
    }

    /// The image row with `reviews` set on one label (`section`, `hash`).
    func with(_ reviews: String, _ section: String = "object_answers", _ hash: String = "88ZK93Wo", row: JSONValue? = nil) -> JSONValue {
        let list = JSONValue.parse(Array(reviews.utf8))!
        guard case .object(var top) = row ?? image, let si = top.firstIndex(where: { $0.key == section }),
              case .object(var labels) = top[si].value, let li = labels.firstIndex(where: { $0.key == hash }),
              case .object(var entry) = labels[li].value else { return .null }
        entry.removeAll { $0.key == "reviews" }
        entry.append((key: "reviews", value: list))
        labels[li].value = .object(entry); top[si].value = .object(labels)
        return .object(top)
    }

    func issues(_ row: JSONValue) -> [LabelIssue] { LabelRowValidator.validate(row, ontology: ontology, media: media) }

    static let rejected = #"{"reviewUuid": "r1", "status": "REJECTED", "comment": "too loose", "reviewedBy": "rev@x.io", "reviewedAt": "Thu, 02 Jan 2025 10:00:00 UTC"}"#
    static let resolved = #"{"status": "RESOLVED", "reviewedBy": "ann@x.io", "reviewedAt": "2025-01-07 16:12:23"}"#
    static let approved = #"{"status": "APPROVED", "reviewedBy": "rev@x.io", "reviewedAt": "2025-01-07 16:20:00"}"#

    @Test func reviewsOnObjectsAndClassificationsAreValid() {
        #expect(issues(with("[\(Self.rejected), \(Self.resolved), \(Self.approved)]")) == [])
        #expect(issues(with("[\(Self.approved)]", "classification_answers", "7BSMtI5z")) == [])
    }

    @Test func aRejectionNeedsAComment() {
        let bare = with(#"[{"status": "REJECTED", "reviewedBy": "rev@x.io"}]"#)
        #expect(issues(bare) == [LabelIssue("object_answers.88ZK93Wo.reviews[0].comment", "a rejection needs a comment: say what to fix")])
        let blank = with(#"[{"status": "REJECTED", "comment": "  "}]"#, "classification_answers", "7BSMtI5z")
        #expect(issues(blank) == [LabelIssue("classification_answers.7BSMtI5z.reviews[0].comment", "a rejection needs a comment: say what to fix")])
    }

    @Test func badReviewsAreNamedByPath() {
        #expect(issues(with(#"{"status": "APPROVED"}"#)).map(\.path) == ["object_answers.88ZK93Wo.reviews"])
        #expect(issues(with(#"[{"status": "OK"}]"#)).map(\.path) == ["object_answers.88ZK93Wo.reviews[0].status"])
        let found = issues(with(#"[{"status": "APPROVED", "reviewedAt": "yesterday", "comment": 3, "by": "x"}]"#)).map(\.path)
        #expect(found.sorted() == ["object_answers.88ZK93Wo.reviews[0].by", "object_answers.88ZK93Wo.reviews[0].comment",
                                   "object_answers.88ZK93Wo.reviews[0].reviewedAt"])
    }

    @Test func anAnnotatorMayOnlyAddResolved() {
        let stored = with("[\(Self.rejected)]")
        // Adding RESOLVED after the rejection: allowed.
        #expect(LabelReviews.annotatorViolation(stored: stored, new: with("[\(Self.rejected), \(Self.resolved)]")) == nil)
        // The same entry with its fields in another order is the same review.
        let reordered = #"{"comment": "too loose", "status": "REJECTED", "reviewUuid": "r1", "reviewedAt": "Thu, 02 Jan 2025 10:00:00 UTC", "reviewedBy": "rev@x.io"}"#
        #expect(LabelReviews.annotatorViolation(stored: stored, new: with("[\(reordered)]")) == nil)
        // Approving, dropping or rewriting the rejection: refused, with the label's path.
        #expect(LabelReviews.annotatorViolation(stored: stored, new: with("[\(Self.rejected), \(Self.approved)]"))?.path
                == "object_answers.88ZK93Wo.reviews[1].status")
        #expect(LabelReviews.annotatorViolation(stored: stored, new: with("[]"))?.path == "object_answers.88ZK93Wo.reviews")
        #expect(LabelReviews.annotatorViolation(stored: stored, new: image)?.path == "object_answers.88ZK93Wo.reviews")
        #expect(LabelReviews.annotatorViolation(stored: stored, new: with("[\(Self.approved)]"))?.path == "object_answers.88ZK93Wo.reviews")
        // A new label may not arrive approved; a row without reviews is untouched.
        #expect(LabelReviews.annotatorViolation(stored: nil, new: with("[\(Self.approved)]", "classification_answers", "7BSMtI5z")) != nil)
        #expect(LabelReviews.annotatorViolation(stored: image, new: image) == nil)
    }

    @Test func anAddedReviewIsSignedByItsWriter() {
        let stored = with("[\(Self.rejected)]")
        // The stored rejection (by rev@x.io) kept, a RESOLVED by the annotator added: fine.
        #expect(LabelReviews.misattributed(stored: stored, new: with("[\(Self.rejected), \(Self.resolved)]"), writer: "ann@x.io") == nil)
        // An added entry naming someone else: refused at its path.
        #expect(LabelReviews.misattributed(stored: stored, new: with("[\(Self.rejected), \(Self.approved)]"), writer: "ann@x.io")
                == LabelIssue("object_answers.88ZK93Wo.reviews[1].reviewedBy", "must be ann@x.io, who is saving this review"))
        #expect(LabelReviews.misattributed(stored: nil, new: with("[\(Self.approved)]"), writer: "rev@x.io") == nil)
    }
}
