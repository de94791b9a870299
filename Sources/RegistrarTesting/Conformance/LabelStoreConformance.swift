import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// `LabelStore`'s promises, against the twin `MemoryRegistry` and `PostgresRegistry`: contexts
/// only for units of the tenant's project, versions that guard every write (one of two writers
/// holding a version wins), rows kept verbatim, and the listing of every unit, paged and
/// filtered by label status.
public enum LabelStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest) throws {
        try contextsWritesAndListing(make())
    }

    /// `createProject` answers the project's JSON.
    static func projectID(_ json: String) throws -> String { try #require(JSONCompare.string(json, "id")) }

    static func workflow() -> String { WorkflowGraph.standard(mint: { UUID().uuidString.lowercased() }).json.compactText }

    static func contextsWritesAndListing(_ s: APIStoreUnderTest) throws {
        let labels = try #require(s.store as? any LabelStore)
        let a = try s.makeTenant(APIStoreConformance.unique("a")), b = try s.makeTenant(APIStoreConformance.unique("b"))
        let (folder, _) = try DatasetStoreConformance.folderWithFiles(s, tenant: a, name: "l", n: 3)
        guard case .created(let json, _) = try s.store.createDataset(tenantID: a, title: "L", description: nil, mirroredFolderID: nil, createdBy: nil),
              let ds = JSONCompare.string(json, "id") else { Issue.record("no dataset"); return }
        guard case .attachJob(let job) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [folder], fileIDs: [], duplicates: .skip)
        else { Issue.record("no attach job"); return }
        _ = try DatasetStoreConformance.run(s, job: job)
        let ontology = JSONCompare.string(try s.store.createOntology(tenantID: a, title: "O", description: nil,
                                                                     structure: #"{"objects":[],"classifications":[]}"#, createdBy: nil), "id")!
        let project = try projectID(s.store.createProject(NewProject(tenantID: a, title: "P", description: nil, tags: [], ontologyID: ontology,
                                                           datasetIDs: [ds], workflow: workflow(), createdBy: nil)))
        try TaskStoreConformance.runTaskJobs(s.store, try TaskStoreConformance.tasks(s).takeCreatedTaskJobs())
        let other = try projectID(s.store.createProject(NewProject(tenantID: a, title: "Q", description: nil, tags: [], ontologyID: nil,
                                                         datasetIDs: [], workflow: workflow(), createdBy: nil)))

        // Every unit of the project's datasets, as never saved.
        let first = try labels.labelRows(projectID: project, filter: LabelRowFilter(), after: nil, limit: 2)
        #expect(first.rows.count == 2 && first.next != nil)
        let rest = try labels.labelRows(projectID: project, filter: LabelRowFilter(), after: first.next, limit: 2)
        #expect(rest.rows.count == 1 && rest.next == nil)
        let units: [String] = (first.rows + rest.rows).compactMap { if case .unsaved(let f) = $0 { return f.media.dataHash } else { return nil } }
        #expect(units.count == 3 && units == units.sorted { Int64($0)! < Int64($1)! })
        let unit = units[0]

        // Contexts: only through the tenant's project that holds the unit.
        let ctx = try #require(try labels.labelRowContext(tenantID: a, projectID: project, dataHash: unit))
        #expect(ctx.version == 0 && ctx.stored == nil && ctx.ontology == #"{"objects":[],"classifications":[]}"#)
        #expect(ctx.facts.media.dataType == "image" && ctx.facts.datasetHash == ds && ctx.facts.datasetTitle == "L")
        #expect(try labels.labelRowContext(tenantID: b, projectID: project, dataHash: unit) == nil)
        #expect(try labels.labelRowContext(tenantID: a, projectID: other, dataHash: unit) == nil)
        #expect(try labels.labelRowContext(tenantID: a, projectID: project, dataHash: "x") == nil)
        #expect(try labels.labelRowContext(tenantID: a, projectID: "not-a-uuid", dataHash: unit) == nil)

        // Guarded writes: version 0 → 1; a second writer holding 0 is stale; 1 → 2.
        let hash = UUID().uuidString.lowercased()
        #expect(try labels.saveLabelRow(projectID: project, dataHash: unit, expected: 0, row: #"{"v":1}"#, labelHash: hash,
                                        labelStatus: "LABEL_IN_PROGRESS", actor: "ann@x.io") == .saved(version: 1))
        #expect(try labels.saveLabelRow(projectID: project, dataHash: unit, expected: 0, row: #"{"v":"lost"}"#, labelHash: hash,
                                        labelStatus: "LABEL_IN_PROGRESS", actor: "bob@x.io") == .stale(current: 1))
        #expect(try labels.saveLabelRow(projectID: project, dataHash: unit, expected: 5, row: #"{"v":"lost"}"#, labelHash: hash,
                                        labelStatus: "LABEL_IN_PROGRESS", actor: nil) == .stale(current: 1))
        #expect(try labels.saveLabelRow(projectID: project, dataHash: unit, expected: 1, row: #"{"v":2}"#, labelHash: "ignored-after-first",
                                        labelStatus: "LABELLED", actor: nil) == .saved(version: 2))
        #expect(try labels.saveLabelRow(projectID: project, dataHash: units[1], expected: 3, row: "{}", labelHash: hash,
                                        labelStatus: "LABELLED", actor: nil) == .stale(current: 0))
        #expect(try labels.saveLabelRow(projectID: other, dataHash: unit, expected: 0, row: "{}", labelHash: hash,
                                        labelStatus: "LABELLED", actor: nil) == .notFound)
        let saved = try #require(try labels.labelRowContext(tenantID: a, projectID: project, dataHash: unit))
        #expect(saved.stored == #"{"v":2}"# && saved.version == 2 && saved.labelHash == hash && saved.createdAt != nil)

        // Listing by label status: the saved row verbatim; the others as never saved.
        let labelled = try labels.labelRows(projectID: project, filter: LabelRowFilter(labelStatuses: ["LABELLED"]), after: nil, limit: 10)
        #expect(labelled.rows.count == 1)
        if case .stored(let text)? = labelled.rows.first { #expect(text == #"{"v":2}"#) } else { Issue.record("not the stored row") }
        #expect(try labels.labelRows(projectID: project, filter: LabelRowFilter(labelStatuses: ["NOT_LABELLED"]), after: nil, limit: 10).rows.count == 2)
        #expect(try labels.labelRows(projectID: other, filter: LabelRowFilter(), after: nil, limit: 10).rows.isEmpty)

        // Task → data hash (SUBMIT's required-labels check): only the project's tasks.
        let t = try #require(s.store as? any TaskStore)
        let stage = try #require(try t.stageCounts(projectID: project).first?.stage)
        let items = try TaskStoreConformance.all(t, project: project, stage: stage)
        let expected = Dictionary(uniqueKeysWithValues: items.map { (JSONCompare.string($0, "uuid")!, JSONCompare.string($0, "dataHash")!) })
        #expect(expected.count == 3 && Set(expected.values) == Set(units))
        let stranger = UUID().uuidString.lowercased()
        #expect(try labels.taskDataHashes(projectID: project, taskUUIDs: Array(expected.keys) + [stranger, "not-a-uuid"]) == expected)
        #expect(try labels.taskDataHashes(projectID: other, taskUUIDs: Array(expected.keys)).isEmpty)
    }
}
