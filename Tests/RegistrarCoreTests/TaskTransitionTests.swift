import Testing
@testable import RegistrarCore

/// Task actions: who may do what at which stage, and where the task goes.
struct TaskTransitionTests {
    func u(_ n: Int) -> String { WorkflowGraphTests.uuid(n) }
    let task = WorkflowGraphTests.uuid(900)

    /// Start → Agent (pathways: auto → Complete, people → Annotate) → Annotate → Review
    /// (approved → 50/50 router → Complete | Review QA; rejected → Annotate).
    var graph: WorkflowGraph {
        get throws {
            let text = """
            {"graphNodes": [
             {"uuid": "\(u(1))", "nodeType": "START", "toNode": "\(u(5))"},
             {"uuid": "\(u(5))", "nodeType": "AGENT", "title": "Pre-label", "pathways": [
               {"uuid": "\(u(50))", "name": "auto", "targetNode": "\(u(4))"}, {"uuid": "\(u(51))", "name": "people", "targetNode": "\(u(2))"}]},
             {"uuid": "\(u(2))", "nodeType": "ANNOTATION", "title": "Annotate", "toNode": "\(u(3))"},
             {"uuid": "\(u(3))", "nodeType": "REVIEW", "title": "Review", "toNode": "\(u(6))", "rejectedToNode": "\(u(2))"},
             {"uuid": "\(u(6))", "nodeType": "PERCENTAGE_ROUTER", "title": "Sample", "pathways": [
               {"uuid": "\(u(60))", "name": "done", "targetNode": "\(u(4))", "percentage": 50},
               {"uuid": "\(u(61))", "name": "qa", "targetNode": "\(u(7))", "percentage": 50}]},
             {"uuid": "\(u(7))", "nodeType": "REVIEW", "title": "QA", "toNode": "\(u(4))", "rejectedToNode": "\(u(2))"},
             {"uuid": "\(u(4))", "nodeType": "DONE", "title": "Complete"}]}
            """
            return try WorkflowGraph.parse(text: Array(text.utf8)).get()
        }
    }
    let annotator = TaskActor(email: "ann@example.com", permissions: Set(ProjectPermission.allCases.filter { ProjectRole.annotator.allows($0) }))
    let reviewer = TaskActor(email: "rev@example.com", permissions: Set(ProjectPermission.allCases.filter { ProjectRole.reviewer.allows($0) }))
    let manager = TaskActor(email: "tm@example.com", permissions: Set(ProjectPermission.allCases.filter { ProjectRole.teamManager.allows($0) }))
    let agent = TaskActor(email: nil, permissions: Set(ProjectPermission.allCases))

    func at(_ stage: Int, _ status: TaskStatus = .new, _ assignee: String? = nil) -> TaskPosition {
        TaskPosition(taskUUID: task, stageUUID: u(stage), status: status, assignee: assignee)
    }

    @Test func annotatorsClaimAndSubmitAtAnnotate() throws {
        let g = try graph
        let claimed = try TaskTransitions.apply(.assign(assignee: "ANN@example.com"), to: at(2), atStage: u(2), in: g, by: annotator).get()
        #expect(claimed.after.status == .assigned && claimed.after.assignee == "ann@example.com" && claimed.path.isEmpty)
        let submitted = try TaskTransitions.apply(.submit, to: claimed.after, atStage: u(2), in: g, by: annotator).get()
        #expect(submitted.after.stageUUID == u(3) && submitted.after.status == .new && submitted.after.assignee == nil)
        #expect(submitted.path == [u(3)] && !submitted.completed)
    }

    @Test func rolesAreCheckedPerStage() throws {
        let g = try graph
        #expect(TaskTransitions.apply(.submit, to: at(2), atStage: u(2), in: g, by: reviewer) == .failure(TaskRefusal(.forbidden, "SUBMIT needs a role granting annotate", needs: .annotate)))
        if case .failure(let r) = TaskTransitions.apply(.approve, to: at(3), atStage: u(3), in: g, by: annotator) { #expect(r.needs == .review) } else { Issue.record("annotator approved") }
        if case .failure(let r) = TaskTransitions.apply(.assign(assignee: "rev@example.com"), to: at(3), atStage: u(3), in: g, by: annotator) { #expect(r.needs == .controlTasks) } else { Issue.record("annotator assigned another") }
        #expect((try? TaskTransitions.apply(.assign(assignee: "rev@example.com"), to: at(3), atStage: u(3), in: g, by: manager).get())?.after.assignee == "rev@example.com")
        if case .failure(let r) = TaskTransitions.apply(.pathway("auto"), to: at(5), atStage: u(5), in: g, by: annotator) { #expect(r.code == .forbidden) } else { Issue.record("annotator moved an agent task") }
    }

    @Test func someoneElsesTaskIsAConflictUnlessYouControlTasks() throws {
        let g = try graph
        let held = at(2, .assigned, "other@example.com")
        #expect(TaskTransitions.apply(.submit, to: held, atStage: u(2), in: g, by: annotator) == .failure(TaskRefusal(.assignedToOther, "the task is assigned to other@example.com")))
        if case .failure(let r) = TaskTransitions.apply(.assign(assignee: "ann@example.com"), to: held, atStage: u(2), in: g, by: annotator) { #expect(r.code == .assignedToOther) } else { Issue.record("took a held task") }
        #expect((try? TaskTransitions.apply(.release, to: held, atStage: u(2), in: g, by: manager).get())?.after.status == .released)
        #expect(TaskTransitions.apply(.release, to: at(2), atStage: u(2), in: g, by: annotator) == .failure(TaskRefusal(.invalidState, "the task is not assigned")))
    }

    @Test func aTaskThatMovedIsAConflict() throws {
        let r = TaskTransitions.apply(.submit, to: at(3), atStage: u(2), in: try graph, by: annotator)
        guard case .failure(let refusal) = r else { Issue.record("acted on a moved task"); return }
        #expect(refusal.code == .moved && refusal.message.contains("Review"))
    }

    @Test func reviewRejectsBackToAnnotateReopened() throws {
        let rejected = try TaskTransitions.apply(.reject, to: at(3), atStage: u(3), in: try graph, by: reviewer).get()
        #expect(rejected.after.stageUUID == u(2) && rejected.after.status == .reopened)
        #expect(TaskTransitions.apply(.skip, to: at(3), atStage: u(3), in: try graph, by: reviewer).map(\.completed)
                == .failure(TaskRefusal(.wrongStage, "only Annotate tasks can be skipped (reviewers cannot skip)")))
    }

    @Test func approvalPassesThroughTheRouterDeterministically() throws {
        let g = try graph
        var ends: Set<String> = []
        for i in 0..<200 {
            let t = TaskPosition(taskUUID: u(10_000 + i), stageUUID: u(3), status: .new, assignee: nil)
            let once = try TaskTransitions.apply(.approve, to: t, atStage: u(3), in: g, by: reviewer).get()
            let again = try TaskTransitions.apply(.approve, to: t, atStage: u(3), in: g, by: reviewer).get()
            #expect(once == again)
            #expect(once.path.first == u(6), "the router is in the history")
            #expect(once.completed == (once.after.stageUUID == u(4)))
            ends.insert(once.after.stageUUID)
        }
        #expect(ends == [u(4), u(7)], "both pathways are taken")
    }

    @Test func agentsMoveTasksByPathwayNameOrUUID() throws {
        let g = try graph
        let auto = try TaskTransitions.apply(.pathway("auto"), to: at(5), atStage: u(5), in: g, by: agent).get()
        #expect(auto.completed && auto.after.status == .completed)
        let people = try TaskTransitions.apply(.pathway(u(51).uppercased()), to: at(5), atStage: u(5), in: g, by: agent).get()
        #expect(people.after.stageUUID == u(2))
        guard case .failure(let r) = TaskTransitions.apply(.pathway("nope"), to: at(5), atStage: u(5), in: g, by: agent) else { Issue.record("unknown pathway taken"); return }
        #expect(r.code == .unknownPathway && r.message.hasSuffix("auto, people"))
        #expect(TaskTransitions.apply(.submit, to: at(5), atStage: u(5), in: g, by: agent).map(\.completed)
                == .failure(TaskRefusal(.wrongStage, "SUBMIT is for Annotate stages; use APPROVE or REJECT at Review, PATHWAY_ACTION at Agent")))
    }

    /// Start → Annotate → Review (restricted: nobody reviews a task they annotated) → Complete.
    var restrictedGraph: WorkflowGraph {
        get throws {
            let text = """
            {"graphNodes": [
             {"uuid": "\(u(1))", "nodeType": "START", "toNode": "\(u(2))"},
             {"uuid": "\(u(2))", "nodeType": "ANNOTATION", "title": "Annotate", "toNode": "\(u(3))"},
             {"uuid": "\(u(3))", "nodeType": "REVIEW", "title": "Review", "toNode": "\(u(4))", "rejectedToNode": "\(u(2))",
              "restrictions": {"excludeUsersFromStages": ["\(u(2))"]}},
             {"uuid": "\(u(4))", "nodeType": "DONE", "title": "Complete"}]}
            """
            return try WorkflowGraph.parse(text: Array(text.utf8)).get()
        }
    }

    @Test func theRestrictionBarsWhoWorkedTheTaskAtAListedStage() throws {
        let g = try restrictedGraph
        let both = TaskActor(email: "both@example.com", permissions: Set(ProjectPermission.allCases.filter { ProjectRole.annotatorReviewer.allows($0) }))
        let admin = TaskActor(email: "admin@example.com", permissions: Set(ProjectPermission.allCases))
        let annotated: [String: Set<String>] = [u(2): ["both@example.com", "admin@example.com"]]
        // Who annotated the task may not claim, approve or reject it at Review, nor be given it; admins too.
        for action in [TaskAction.assign(assignee: "both@example.com"), .approve, .reject] {
            guard case .failure(let r) = TaskTransitions.apply(action, to: at(3), atStage: u(3), in: g, by: both, workedBy: annotated) else {
                Issue.record("\(action.name) by the annotator was accepted"); continue
            }
            #expect(r.code == .restricted && r.message.contains("stage Annotate"))
        }
        #expect((try? TaskTransitions.apply(.approve, to: at(3), atStage: u(3), in: g, by: admin, workedBy: annotated).get()) == nil)
        if case .failure(let r) = TaskTransitions.apply(.assign(assignee: "both@example.com"), to: at(3), atStage: u(3), in: g, by: manager, workedBy: annotated) {
            #expect(r.code == .restricted)
        } else { Issue.record("a manager gave the task to its annotator") }
        // Someone else reviews it; the annotator still annotates (Annotate lists no stage), and
        // without history nobody is barred.
        #expect(try TaskTransitions.apply(.approve, to: at(3), atStage: u(3), in: g, by: reviewer, workedBy: annotated).get().completed)
        #expect(try TaskTransitions.apply(.submit, to: at(2, .reopened), atStage: u(2), in: g, by: both, workedBy: annotated).get().after.stageUUID == u(3))
        #expect(try TaskTransitions.apply(.approve, to: at(3), atStage: u(3), in: g, by: both).get().completed)
        // Releasing is never restricted (it hands the task back).
        #expect(try TaskTransitions.apply(.release, to: at(3, .assigned, "both@example.com"), atStage: u(3), in: g, by: both, workedBy: annotated).get().after.status == .released)
    }
}
