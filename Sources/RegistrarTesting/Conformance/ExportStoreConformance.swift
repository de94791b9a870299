import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// `ExportStore`'s promises, against the twin and PostgreSQL, through the `export` kind's own
/// planner and handler (parts in a `MemoryObjectStorage`) and `ExportAssembler`: the snapshot
/// total, chunks committed once (a redelivery is `alreadyDone` and leaves the part as it was),
/// the stage filter counting skipped units, and an assembled file recorded once.
public enum ExportStoreConformance {
    public static func exercise(_ make: () throws -> APIStoreUnderTest) throws {
        try exportsRunExactlyOnce(make())
    }

    static let ontology = ##"{"objects":[{"id":"1","name":"Box","color":"#D33115","shape":"bounding_box","featureNodeHash":"b0b0b0b0","required":false,"archived":false}],"classifications":[]}"##

    static func exportsRunExactlyOnce(_ s: APIStoreUnderTest) throws {
        let store = try #require(s.store as? any ExportStore & JobParamsReader)
        let labels = try #require(s.store as? any LabelStore)
        let a = try s.makeTenant(APIStoreConformance.unique("a")), b = try s.makeTenant(APIStoreConformance.unique("b"))
        let (folder, _) = try DatasetStoreConformance.folderWithFiles(s, tenant: a, name: "x", n: 3)
        guard case .created(let json, _) = try s.store.createDataset(tenantID: a, title: "X", description: nil, mirroredFolderID: nil, createdBy: nil),
              let ds = JSONCompare.string(json, "id") else { Issue.record("no dataset"); return }
        guard case .attachJob(let attach) = try s.store.createAttachJob(tenantID: a, datasetID: ds, folderIDs: [folder], fileIDs: [], duplicates: .skip)
        else { Issue.record("no attach job"); return }
        _ = try DatasetStoreConformance.run(s, job: attach)
        let o = JSONCompare.string(try s.store.createOntology(tenantID: a, title: "O", description: nil, structure: ontology, createdBy: nil), "id")!
        let project = try LabelStoreConformance.projectID(s.store.createProject(NewProject(
            tenantID: a, title: "P", description: nil, tags: [], ontologyID: o, datasetIDs: [ds], workflow: LabelStoreConformance.workflow(), createdBy: nil)))
        let units = try labels.labelRows(projectID: project, filter: LabelRowFilter(), after: nil, limit: 10).rows.compactMap { item -> String? in
            if case .unsaved(let f) = item { return f.media.dataHash } else { return nil }
        }
        #expect(units.count == 3)
        let row = #"{"data_units":{"\#(units[1])":{"labels":{"objects":[{"featureHash":"b0b0b0b0","objectHash":"o1","boundingBox":{"x":0.5,"y":0.5,"w":0.25,"h":0.25}}],"classifications":[]}}}}"#
        _ = try labels.saveLabelRow(projectID: project, dataHash: units[1], expected: 0, row: row, labelHash: UUID().uuidString.lowercased(),
                                    labelStatus: "LABEL_IN_PROGRESS", actor: nil)

        // Another tenant cannot export or read it.
        let params = ExportParams(projectID: project, format: .coco, stage: nil, featureHashes: nil, signedURLs: false, signedURLTTLSeconds: 3600,
                                  versionName: "v1", maxUnitID: 0)
        #expect(try store.createExport(tenantID: b, params: params) == nil)
        let job = try #require(try store.createExport(tenantID: a, params: params))
        #expect(try store.exportRecord(tenantID: b, jobID: job) == nil)
        let record = try #require(try store.exportRecord(tenantID: a, jobID: job))
        #expect(record.params.maxUnitID == Int64(units.last!) && record.params.versionName == "v1" && record.file == nil)

        let storage = MemoryObjectStorage()
        let counts = try run(s, store: store, job: job, storage: storage)
        #expect(counts == UnitCounts(done: 3))
        let parts = try store.exportParts(jobID: job)
        #expect(parts.map(\.seq) == [0, 1] && parts.map(\.rows) == [2, 1] && parts.map(\.annotations).reduce(0, +) == 1)

        let file = try ExportAssembler.assemble(try #require(try store.exportRecord(tenantID: a, jobID: job)), store: store, storage: storage,
                                                tempDirectory: NSTemporaryDirectory())
        let text = try read(storage, file.key)
        let coco = try #require(JSONValue.parse(Array(text.utf8)))
        #expect(coco["annotations"].map { if case .array(let x) = $0 { x.count } else { -1 } } == 1)
        #expect(coco["annotations"]?.arrayValue?.first?["bbox"] == .array([.number("0.5"), .number("0.5"), .number("0.25"), .number("0.25")]))
        // Recorded once: a second assembly finds the recorded file; another candidate loses.
        let again = try ExportAssembler.assemble(try #require(try store.exportRecord(tenantID: a, jobID: job)), store: store, storage: storage,
                                                 tempDirectory: NSTemporaryDirectory())
        #expect(again == file)
        let other = StoredObject(key: ObjectKey("exports/other")!, size: 1, sha256: "00", contentType: "application/json")
        #expect(try store.recordExportFile(jobID: job, file: other) == file)

        // A stage no unit waits at: every unit skipped, an empty JSON list.
        var staged = params
        staged.format = .json
        staged.stage = UUID().uuidString.lowercased()
        let none = try #require(try store.createExport(tenantID: a, params: staged))
        #expect(try run(s, store: store, job: none, storage: storage) == UnitCounts(skipped: 3))
        let empty = try ExportAssembler.assemble(try #require(try store.exportRecord(tenantID: a, jobID: none)), store: store, storage: storage,
                                                 tempDirectory: NSTemporaryDirectory())
        #expect(try read(storage, empty.key) == "[]")
    }

    /// Plans with the kind's planner (2 units per chunk), performs and commits every chunk twice.
    static func run(_ s: APIStoreUnderTest, store: any ExportStore & JobParamsReader, job: String, storage: any ObjectStorage) throws -> UnitCounts {
        let planner = ExportPlanner(store: store, chunkUnits: 2)
        let handler = ExportHandler(store: store, storage: storage)
        let stored = try #require(try s.store.jobStore.job(job))
        guard case .accepted(let total) = try planner.prepare(stored) else { Issue.record("refused"); return UnitCounts() }
        var chunks: [ExportChunk] = []
        try planner.plan(stored) { chunks.append(try #require(ExportChunk.decode($0.encode()))) }
        try s.store.jobStore.recordChunks(jobID: job, chunks: chunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: $0.unitIDs.count) })
        for c in chunks {
            let id = ChunkID(jobID: job, seq: c.seq)
            let part = try #require(try handler.perform(c, id: id, cancellation: .never))
            guard case .committed(let counts) = try handler.commit(part, id: id, work: c, deadLetter: nil) else { Issue.record("not committed"); continue }
            #expect(try handler.commit(part, id: id, work: c, deadLetter: nil) == .alreadyDone(counts))
        }
        try s.store.jobStore.finishSplit(jobID: job, totalChunks: chunks.count)
        #expect(try s.store.jobStore.finishJobIfComplete(jobID: job) == .done)
        let counts = try s.store.jobStore.jobCounts(jobID: job).counts
        #expect(counts.finished == total)
        return counts
    }

    static func read(_ storage: any ObjectStorage, _ key: ObjectKey) throws -> String {
        guard let (_, reader) = try storage.open(key) else { return "" }
        var source = reader
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
}
