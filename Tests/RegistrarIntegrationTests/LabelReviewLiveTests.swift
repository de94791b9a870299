import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Per-label review through `PUT …/label-rows/{dataHash}` on the real servers (docs/labels.md,
/// "Per-label review"): a reviewer records APPROVED / REJECTED (with a comment) on each label;
/// an annotator may only answer with RESOLVED and never rewrite what the reviewer said.
@Suite(.serialized) struct LabelReviewLiveTests {
    let labels = LabelLiveTests()
    let tasks = TaskLiveTests()
    typealias Row = [String: Any]

    /// The row with `entries` appended to the reviews of object_answers[hash].
    func adding(_ row: Row, _ hash: String, _ entries: [Row]) -> Row {
        var r = row
        var answers = r["object_answers"] as! Row
        var entry = answers[hash] as! Row
        entry["reviews"] = ((entry["reviews"] as? [Row]) ?? []) + entries
        answers[hash] = entry
        r["object_answers"] = answers
        return r
    }

    func error(_ reply: HTTP.Reply) -> (String, String) {
        let e = ((try? JSONSerialization.jsonObject(with: reply.body)) as? Row)?["error"] as? Row ?? [:]
        let path = ((e["details"] as? Row)?["errors"] as? [Row])?.first?["path"] as? String ?? ""
        return (e["code"] as? String ?? "", path)
    }

    @Test func reviewersJudgeEachLabelAndAnnotatorsOnlyResolve() throws {
        let h = try PipelineHarness()
        let api = try APIHarness(h)
        let key = try api.tenantKey("acme")
        let (pid, hashes) = try labels.project(h, api, key: key)
        let hash = hashes["image"]!
        let path = "/v1/projects/\(pid)/label-rows/\(hash)"
        let annotator = try tasks.collaborator(h, api, key: key, project: pid, email: "ann@acme.io", role: "ANNOTATOR")
        let reviewer = try tasks.collaborator(h, api, key: key, project: pid, email: "rev@acme.io", role: "REVIEWER")
        let base = try labels.row("image-row.json", from: "dh-img-0001", to: hash)
        let car = "88ZK93Wo"
        #expect(try labels.put(api, key: annotator, path, base, ifMatch: "\"0\"").status == 200)

        // The annotator may not approve its own label.
        let approve: Row = ["status": "APPROVED", "reviewedBy": "ann@acme.io", "reviewedAt": "Thu, 02 Jan 2025 10:00:00 UTC"]
        let selfApproved = try labels.put(api, key: annotator, path, adding(base, car, [approve]), ifMatch: "\"1\"")
        #expect(selfApproved.status == 403 && error(selfApproved) == ("review_forbidden", "object_answers.\(car).reviews[0].status"), "\(selfApproved.text)")

        // A rejection without a comment is refused with its path; with one it is stored.
        let bare: Row = ["status": "REJECTED", "reviewedBy": "rev@acme.io"]
        let noComment = try labels.put(api, key: reviewer, path, adding(base, car, [bare]), ifMatch: "\"1\"")
        #expect(noComment.status == 422 && error(noComment) == ("invalid_label_row", "object_answers.\(car).reviews[0].comment"), "\(noComment.text)")
        // A review is signed by whoever saves it.
        let forged = try labels.put(api, key: reviewer, path, adding(base, car, [approve]), ifMatch: "\"1\"")
        #expect(forged.status == 422 && error(forged) == ("invalid_label_row", "object_answers.\(car).reviews[0].reviewedBy"), "\(forged.text)")
        let reject: Row = ["reviewUuid": "r-1", "status": "REJECTED", "comment": "The box cuts the bumper off.", "reviewedBy": "rev@acme.io",
                           "reviewedAt": "Thu, 02 Jan 2025 10:05:00 UTC"]
        let rejected = try labels.put(api, key: reviewer, path, adding(base, car, [reject]), ifMatch: "\"1\"")
        try #require(rejected.status == 200, "\(rejected.text)")
        let stored = try JSONSerialization.jsonObject(with: rejected.body) as! Row
        let reviews = (((stored["object_answers"] as? Row)?[car] as? Row)?["reviews"] as? [Row]) ?? []
        #expect(reviews.map { $0["comment"] as? String } == ["The box cuts the bumper off."])

        // The annotator may not drop the rejection, only answer it.
        let dropped = try labels.put(api, key: annotator, path, base, ifMatch: "\"2\"")
        #expect(dropped.status == 403 && error(dropped) == ("review_forbidden", "object_answers.\(car).reviews"), "\(dropped.text)")
        let resolve: Row = ["status": "RESOLVED", "reviewedBy": "ann@acme.io", "reviewedAt": "Thu, 02 Jan 2025 10:10:00 UTC"]
        let resolved = try labels.put(api, key: annotator, path, adding(stored, car, [resolve]), ifMatch: "\"2\"")
        #expect(resolved.status == 200, "\(resolved.text)")

        // The reviewer approves; the row read back holds the whole story.
        let now = try JSONSerialization.jsonObject(with: resolved.body) as! Row
        #expect(try labels.put(api, key: reviewer, path, adding(now, car, [approve.merging(["reviewedBy": "rev@acme.io"]) { $1 }]), ifMatch: "\"3\"").status == 200)
        let read = try api.json("GET", path, key: annotator, expect: 200)
        let story = (((read["object_answers"] as? Row)?[car] as? Row)?["reviews"] as? [Row]) ?? []
        #expect(story.map { $0["status"] as? String } == ["REJECTED", "RESOLVED", "APPROVED"], "\(story)")
    }
}
}
