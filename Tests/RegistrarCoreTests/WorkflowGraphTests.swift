import Testing
@testable import RegistrarCore

/// Workflow graphs: every rule has an accepted and a refused example, and each refusal names
/// the node and the rule.
struct WorkflowGraphTests {
    /// A uuid whose last digits are `n` (readable fixtures).
    static func uuid(_ n: Int) -> String {
        let digits = String(n)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits
    }
    func u(_ n: Int) -> String { Self.uuid(n) }
    let start = Self.uuid(1), annotate = Self.uuid(2), review = Self.uuid(3), done = Self.uuid(4), agent = Self.uuid(5), router = Self.uuid(6), annotate2 = Self.uuid(7), review2 = Self.uuid(8)

    /// Builds `{"graphNodes": [...]}` from node JSON snippets.
    func graph(_ nodes: String...) -> Result<WorkflowGraph, WorkflowIssues> {
        WorkflowGraph.parse(text: Array("{\"graphNodes\": [\(nodes.joined(separator: ","))]}".utf8))
    }
    func node(_ uuid: String, _ type: String, _ title: String?, _ extra: String = "") -> String {
        "{\"uuid\": \"\(uuid)\", \"nodeType\": \"\(type)\"" + (title.map { ", \"title\": \"\($0)\"" } ?? "") + (extra.isEmpty ? "" : ", " + extra) + "}"
    }
    func to(_ uuid: String) -> String { "\"toNode\": \"\(uuid)\"" }
    func pathways(_ items: (uuid: String, name: String, target: String, extra: String)...) -> String {
        "\"pathways\": [" + items.map { "{\"uuid\": \"\($0.uuid)\", \"name\": \"\($0.name)\", \"targetNode\": \"\($0.target)\"\($0.extra.isEmpty ? "" : ", " + $0.extra)}" }.joined(separator: ",") + "]"
    }
    var standardNodes: [String] {
        [node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
         node(review, "REVIEW", "Review", to(done) + ", \"rejectedToNode\": \"\(annotate)\""), node(done, "DONE", "Complete")]
    }
    func parse(_ nodes: [String]) -> Result<WorkflowGraph, WorkflowIssues> {
        WorkflowGraph.parse(text: Array("{\"graphNodes\": [\(nodes.joined(separator: ","))]}".utf8))
    }
    /// The rules a refusal reports, and the first issue.
    func refusal(_ result: Result<WorkflowGraph, WorkflowIssues>) -> (rules: Set<WorkflowRule>, first: WorkflowIssue?) {
        guard case .failure(let f) = result else { return ([], nil) }
        return (Set(f.issues.map(\.rule)), f.issues.first)
    }

    @Test func theStandardGraphIsAcceptedAndRoundTrips() throws {
        let g = try parse(standardNodes).get()
        #expect(g.nodes.map(\.type) == [.start, .annotation, .review, .done])
        #expect(g.stage("Review")?.rejectedToNode == annotate)
        #expect(g.stage(done.uppercased())?.title == "Complete")
        #expect(g.stage(start) == nil, "START is not a stage")
        #expect(g.node(uuid: done)?.nodeSubtype == "COMPLETED", "DONE gets its subtype")
        let again = try WorkflowGraph.parse(g.json).get()
        #expect(again == g)
        #expect(g.json.compactText.hasPrefix("{\"graphNodes\":[{\"uuid\":\"\(start)\",\"nodeType\":\"START\""))
    }

    @Test func theDefaultWorkflowIsValid() throws {
        var n = 100
        let g = WorkflowGraph.standard { n += 1; return Self.uuid(n) }
        let parsed = try WorkflowGraph.parse(g.json).get()
        #expect(parsed.nodes.map(\.title) == ["Start", "Annotate", "Review", "Complete"])
        #expect(parsed.stage("Review")?.rejectedToNode == parsed.stage("Annotate")?.uuid)
    }

    @Test func shapeErrorsNameThePath() {
        let result = graph(node(start, "START", nil, to(annotate) + ", \"colour\": 1"), node("not-a-uuid", "ANNOTATION", "A", to(done)), node(done, "DONE", "Complete"))
        guard case .failure(let f) = result else { Issue.record("accepted"); return }
        #expect(refusal(result).rules == [.shape])
        #expect(f.issues.map(\.path) == ["graphNodes[0].colour", "graphNodes[1].uuid"])
        #expect(refusal(WorkflowGraph.parse(text: Array("[]".utf8))).first?.path == "$")
        #expect(refusal(WorkflowGraph.parse(text: Array("{\"graphNodes\": []}".utf8))).first?.path == "graphNodes")
        #expect(refusal(graph(node(annotate, "ANNOTATION", nil, to(done)))).first?.path == "graphNodes[0].title", "stages need titles")
        #expect(refusal(graph(node(annotate, "LABEL", "A"))).first?.message.contains("unknown node type LABEL") == true)
    }

    @Test func consensusStagesAreRefusedAsUnsupported() {
        let r = refusal(graph(node(start, "START", nil, to(annotate)), node(annotate, "CONSENSUS_ANNOTATION", "C", to(done)), node(done, "DONE", "Complete")))
        #expect(r.rules == [.unsupportedStage])
        #expect(r.first?.path == "graphNodes[1].nodeType")
    }

    @Test func rule1ExactlyOneStartThatLinksOnward() {
        var two = standardNodes
        two.append(node(u(9), "START", nil, to(annotate)))
        let r = refusal(parse(two))
        #expect(r.rules.contains(.oneStart))
        #expect(r.first?.nodeUUID == u(9))
        var none = standardNodes
        none.removeFirst()
        #expect(refusal(parse(none)).rules == [.oneStart])
        var dangling = standardNodes
        dangling[0] = node(start, "START", nil)
        #expect(refusal(parse(dangling)).rules.contains(.oneStart))
    }

    @Test func rule2OnlyAnnotateOrAgentFollowsStart() throws {
        var viaReview = standardNodes
        viaReview[0] = node(start, "START", nil, to(review))
        let r = refusal(parse(viaReview))
        #expect(r.rules == [.startTarget])
        #expect(r.first?.nodeUUID == start && r.first?.path == "graphNodes[0].toNode")
        var viaAgent = standardNodes
        viaAgent[0] = node(start, "START", nil, to(agent))
        viaAgent.append(node(agent, "AGENT", "Pre-label", pathways((u(20), "done", annotate, ""))))
        _ = try parse(viaAgent).get()
    }

    @Test func rule3NeedsAnAnnotateStageAndAComplete() throws {
        let noAnnotate = refusal(graph(node(start, "START", nil, to(agent)), node(agent, "AGENT", "Bot", pathways((u(20), "ok", done, ""))), node(done, "DONE", "Complete")))
        #expect(noAnnotate.rules == [.needsAnnotateAndComplete])
        #expect(noAnnotate.first?.path == "graphNodes")
    }

    @Test func rule3EveryNodeCanReachComplete() {
        // Review's rejected exit loops back, its approved exit goes to a second Annotate that
        // only leads back to Review: a trap with no way out.
        let r = refusal(parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
                               node(review, "REVIEW", "Review", to(annotate2) + ", \"rejectedToNode\": \"\(annotate)\""),
                               node(annotate2, "ANNOTATION", "Fix", to(review)), node(done, "DONE", "Complete")]))
        #expect(r.rules.contains(.noWayToComplete))
        #expect(r.rules.contains(.unreachable), "Complete itself is not linked")
    }

    @Test func rule4EveryNodeIsLinkedFromStart() {
        var island = standardNodes
        island.append(node(annotate2, "ANNOTATION", "Orphan", to(done)))
        let r = refusal(parse(island))
        #expect(r.rules == [.unreachable])
        #expect(r.first?.nodeUUID == annotate2 && r.first?.nodeTitle == "Orphan")
    }

    @Test func rule5RejectedMayNotLeadToAnotherReview() throws {
        let nodes = [node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
                     node(review, "REVIEW", "Review", to(review2) + ", \"rejectedToNode\": \"\(annotate)\""),
                     node(review2, "REVIEW", "Second review", to(done) + ", \"rejectedToNode\": \"\(review)\""), node(done, "DONE", "Complete")]
        let r = refusal(parse(nodes))
        #expect(r.rules == [.rejectedToReview])
        #expect(r.first?.path == "graphNodes[3].rejectedToNode" && r.first?.nodeTitle == "Second review")
        var fixed = nodes
        fixed[3] = node(review2, "REVIEW", "Second review", to(done) + ", \"rejectedToNode\": \"\(annotate)\"")
        _ = try parse(fixed).get()
    }

    @Test func exitsFollowTheNodeType() {
        var reviewWithoutReject = standardNodes
        reviewWithoutReject[2] = node(review, "REVIEW", "Review", to(done))
        #expect(refusal(parse(reviewWithoutReject)).first?.path == "graphNodes[2].rejectedToNode")
        var doneWithExit = standardNodes
        doneWithExit[3] = node(done, "DONE", "Complete", to(annotate))
        #expect(refusal(parse(doneWithExit)).rules == [.exits])
        var agentWithoutPathways = standardNodes
        agentWithoutPathways[0] = node(start, "START", nil, to(agent))
        agentWithoutPathways.append(node(agent, "AGENT", "Bot", "\"pathways\": []"))
        #expect(refusal(parse(agentWithoutPathways)).rules.contains(.exits))
    }

    @Test func targetsMustExistAndNeverBeStart() {
        var missing = standardNodes
        missing[1] = node(annotate, "ANNOTATION", "Annotate", to(u(99)))
        let r = refusal(parse(missing))
        #expect(r.rules == [.badTarget])
        #expect(r.first?.message.contains(u(99)) == true)
        var back = standardNodes
        back[2] = node(review, "REVIEW", "Review", to(done) + ", \"rejectedToNode\": \"\(start)\"")
        #expect(refusal(parse(back)).rules.contains(.badTarget))
    }

    @Test func uuidsAndTitlesAreUnique() {
        var twice = standardNodes
        twice[3] = node(done, "DONE", "annotate")
        #expect(refusal(parse(twice)).rules == [.duplicate], "titles compare case-insensitively")
        var sameUUID = standardNodes
        sameUUID[0] = node(start, "START", nil, to(annotate))
        sameUUID.append(node(annotate, "ANNOTATION", "Again", to(done)))
        #expect(refusal(parse(sameUUID)).rules.contains(.duplicate))
    }

    func routerGraph(_ routerPathways: String, type: String = "PERCENTAGE_ROUTER") -> Result<WorkflowGraph, WorkflowIssues> {
        parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(router)),
               node(router, type, "Split", routerPathways),
               node(review, "REVIEW", "Review", to(done) + ", \"rejectedToNode\": \"\(annotate)\""), node(done, "DONE", "Complete")])
    }

    @Test func percentageRoutersSumTo100() throws {
        _ = try routerGraph(pathways((u(30), "review", review, "\"percentage\": 30"), (u(31), "skip", done, "\"percentage\": 70"))).get()
        let r = refusal(routerGraph(pathways((u(30), "review", review, "\"percentage\": 30"), (u(31), "skip", done, "\"percentage\": 60"))))
        #expect(r.rules == [.percentages])
        #expect(r.first?.message == "the percentages sum to 90, not 100")
        #expect(refusal(routerGraph(pathways((u(30), "review", review, "\"percentage\": 0"), (u(31), "skip", done, "\"percentage\": 100")))).first?.path == "graphNodes[2].pathways[0].percentage")
        #expect(refusal(routerGraph(pathways((u(30), "all", review, "\"percentage\": 100")))).rules == [.percentages])
    }

    @Test func collaboratorRoutersNeedOneDefaultAndDisjointPeople() throws {
        _ = try routerGraph(pathways((u(30), "seniors", done, "\"collaborators\": [\"Ann@Example.com\"]"), (u(31), "others", review, "")), type: "USER_ROUTER").get()
        #expect(refusal(routerGraph(pathways((u(30), "seniors", done, "\"collaborators\": [\"a@example.com\"]"), (u(31), "others", review, "\"collaborators\": [\"b@example.com\"]")), type: "USER_ROUTER")).rules == [.collaborators])
        #expect(refusal(routerGraph(pathways((u(30), "x", done, "\"collaborators\": [\"a@example.com\"]"), (u(31), "y", review, "\"collaborators\": [\"a@example.com\"]"), (u(32), "z", review, "")), type: "USER_ROUTER")).rules == [.collaborators])
        #expect(refusal(routerGraph(pathways((u(30), "x", done, "\"collaborators\": [\"nobody\"]"), (u(31), "y", review, "")), type: "USER_ROUTER")).rules == [.shape])
    }

    @Test func routersInACycleAreRefused() {
        let r = refusal(parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(router)),
                               node(router, "PERCENTAGE_ROUTER", "A", pathways((u(30), "loop", u(10), "\"percentage\": 50"), (u(31), "out", done, "\"percentage\": 50"))),
                               node(u(10), "PERCENTAGE_ROUTER", "B", pathways((u(32), "back", router, "\"percentage\": 50"), (u(33), "out", done, "\"percentage\": 50"))),
                               node(done, "DONE", "Complete")]))
        #expect(r.rules == [.routerCycle])
    }

    @Test func percentageRoutingIsDeterministicAndFair() throws {
        let g = try routerGraph(pathways((u(30), "review", review, "\"percentage\": 30"), (u(31), "skip", done, "\"percentage\": 70"))).get()
        let split = g.node(uuid: router)!
        var counts: [String: Int] = [:]
        for i in 0..<100_000 {
            let task = Self.uuid(1_000_000 + i)
            let chosen = WorkflowRouting.percentagePathway(split, taskUUID: task)!
            counts[chosen.name, default: 0] += 1
            if i < 100 { #expect(WorkflowRouting.percentagePathway(split, taskUUID: task.uppercased()) == chosen, "same task, same pathway") }
        }
        let share = Double(counts["review"] ?? 0) / 1000
        #expect(abs(share - 30) < 1, "review took \(share)% of 100,000 tasks")
    }

    @Test func collaboratorRoutingFollowsWhoActedUpstream() throws {
        let g = try routerGraph(pathways((u(30), "seniors", done, "\"collaborators\": [\"ann@example.com\"]"), (u(31), "others", review, "")), type: "USER_ROUTER").get()
        let r = g.node(uuid: router)!
        #expect(WorkflowRouting.collaboratorPathway(r, actor: "ANN@example.com")?.name == "seniors")
        #expect(WorkflowRouting.collaboratorPathway(r, actor: "bob@example.com")?.name == "others")
        #expect(WorkflowRouting.collaboratorPathway(r, actor: nil)?.name == "others")
    }

    @Test func liveEditsKeepOccupiedStagesCompleteAndTypes() throws {
        let old = try parse(standardNodes).get()
        // Renaming and inserting a stage is fine.
        let renamed = try parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Draw", to(review)),
                                 node(review, "REVIEW", "Check", to(review2) + ", \"rejectedToNode\": \"\(annotate)\""),
                                 node(review2, "REVIEW", "QA", to(done) + ", \"rejectedToNode\": \"\(annotate)\""), node(done, "DONE", "Complete")]).get()
        #expect(WorkflowEdit.check(old: old, new: renamed, occupied: [annotate, review]).isEmpty)
        // Dropping the Review that holds tasks is refused; dropping it while empty is fine.
        let noReview = try parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(done)), node(done, "DONE", "Complete")]).get()
        let refused = WorkflowEdit.check(old: old, new: noReview, occupied: [review])
        #expect(refused.map(\.rule) == [.stageInUse] && refused.first?.nodeUUID == review)
        #expect(WorkflowEdit.check(old: old, new: noReview, occupied: [annotate]).isEmpty)
        // Changing a type, or deleting Complete, is refused even when empty.
        let retyped = try parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
                                 node(review, "AGENT", "Review", pathways((u(40), "ok", done, ""))), node(done, "DONE", "Complete")]).get()
        #expect(WorkflowEdit.check(old: old, new: retyped, occupied: []).map(\.rule) == [.typeChanged])
        let newComplete = try parse([node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
                                     node(review, "REVIEW", "Review", to(u(50)) + ", \"rejectedToNode\": \"\(annotate)\""), node(u(50), "DONE", "Done")]).get()
        #expect(WorkflowEdit.check(old: old, new: newComplete, occupied: []).map(\.rule) == [.stageInUse])
    }

    @Test func userAssignmentRestrictionsListWorkStages() throws {
        func restricted(_ listed: [String], on: String = "REVIEW") -> [String] {
            let r = "\"restrictions\": {\"excludeUsersFromStages\": [" + listed.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            return [node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(review)),
                    node(review, on, "Review", on == "REVIEW" ? to(done) + ", \"rejectedToNode\": \"\(annotate)\", " + r : pathways((u(40), "ok", done, "")) + ", " + r),
                    node(done, "DONE", "Complete")]
        }
        // Accepted: a reviewer may not review what they annotated (or reviewed before); the
        // restriction survives the round trip through JSON.
        let g = try parse(restricted([annotate, review])).get()
        #expect(g.node(uuid: review)?.excludeUsersFromStages == [annotate, review])
        #expect(try WorkflowGraph.parse(g.json).get() == g)
        #expect(try parse(standardNodes).get().node(uuid: review)?.excludeUsersFromStages == [])
        // Refused: unknown stages, non-work stages, repeats, on a node where nobody works, bad shapes.
        let unknown = refusal(parse(restricted([u(99)])))
        #expect(unknown.rules == [.restrictions] && unknown.first?.path == "graphNodes[2].restrictions.excludeUsersFromStages[0]")
        #expect(unknown.first?.nodeUUID == review && unknown.first?.nodeTitle == "Review")
        #expect(refusal(parse(restricted([done]))).rules == [.restrictions])
        #expect(refusal(parse(restricted([annotate, annotate]))).rules == [.restrictions])
        #expect(refusal(parse(restricted([annotate], on: "AGENT"))).rules == [.restrictions])
        #expect(refusal(parse(restricted(["not-a-uuid"]))).rules == [.shape])
        let extra = [node(start, "START", nil, to(annotate)), node(annotate, "ANNOTATION", "Annotate", to(done) + ", \"restrictions\": {\"users\": []}"),
                     node(done, "DONE", "Complete")]
        #expect(refusal(parse(extra)).first?.path == "graphNodes[1].restrictions.users")
    }

    @Test func aTemplateCopyGetsFreshUUIDsWithEveryReferenceFollowing() throws {
        let original = try parse([node(start, "START", nil, to(agent)),
                                  node(agent, "AGENT", "Pre-label", pathways((u(40), "auto", done, ""), (u(41), "people", annotate, ""))),
                                  node(annotate, "ANNOTATION", "Annotate", to(review)),
                                  node(review, "REVIEW", "Review", to(done) + ", \"rejectedToNode\": \"\(annotate)\", \"restrictions\": {\"excludeUsersFromStages\": [\"\(annotate)\"]}"),
                                  node(done, "DONE", "Complete")]).get()
        var n = 0
        let copy = original.withFreshUUIDs { n += 1; return Self.uuid(500 + n) }
        // The copy is a valid graph of the same shape, sharing no uuid with the original.
        #expect(try WorkflowGraph.parse(copy.json).get() == copy)
        #expect(copy.nodes.map(\.type) == original.nodes.map(\.type) && copy.nodes.map(\.title) == original.nodes.map(\.title))
        let old = Set(original.nodes.flatMap { [$0.uuid] + $0.pathways.map(\.uuid) })
        let new = Set(copy.nodes.flatMap { [$0.uuid] + $0.pathways.map(\.uuid) })
        #expect(new.count == 7 && new.isDisjoint(with: old))
        let a = copy.stage("Annotate")!.uuid
        #expect(copy.stage("Review")?.rejectedToNode == a && copy.stage("Review")?.excludeUsersFromStages == [a])
        #expect(copy.stage("Pre-label")?.pathway("people")?.targetNode == a)
        #expect(copy.start.toNode == copy.stage("Pre-label")?.uuid)
    }

    @Test func everyRuleHasARefusedExampleInThisSuite() {
        // Keeps this suite honest as rules are added: each rule must be named by a test above.
        let covered: Set<WorkflowRule> = [.shape, .unsupportedStage, .oneStart, .startTarget, .needsAnnotateAndComplete, .unreachable,
                                          .noWayToComplete, .rejectedToReview, .exits, .badTarget, .duplicate, .percentages,
                                          .collaborators, .routerCycle, .stageInUse, .typeChanged, .restrictions]
        #expect(Set(WorkflowRule.allCases).subtracting(covered) == [.limit])
    }
}
