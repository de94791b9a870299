import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's exports. Guarded by the registry's lock.
final class MemoryExportState {
    struct Export {
        var tenantID: String
        var projectID: String
        var file: StoredObject?
    }
    var exports: [String: Export] = [:]
    var parts: [String: [Int: ExportPartRecord]] = [:]
}

/// The in-memory twin of `PostgresRegistry+Exports`.
extension MemoryRegistry: ExportStore, JobParamsReader {
    public func jobParams(_ jobID: String) throws -> JSONValue? { try jobs.job(jobID)?.params }

    private func projectUnitIDs(_ projectID: String) -> [Int64] {
        guard let p = access.projects[projectID] else { return [] }
        return catalogDatasets.members.values.filter { p.datasetIDs.contains($0.datasetID) }.map(\.id).sorted()
    }

    public func createExport(tenantID: String, params: ExportParams) throws -> String? {
        let pid = params.projectID.lowercased()
        guard UUIDText.isValid(pid), locked({ access.projects[pid]?.tenantID == tenantID }) else { return nil }
        var fixed = params
        fixed.maxUnitID = locked { projectUnitIDs(pid).last ?? 0 }
        let job = try jobs.createJob(NewJob(kind: Export.kind, tenantID: tenantID, params: fixed.json))
        try jobs.recordTotal(jobID: job, units: try exportUnitCount(params: fixed))
        locked { exportState.exports[job] = .init(tenantID: tenantID, projectID: pid, file: nil) }
        return job
    }

    public func exportRecord(tenantID: String, jobID: String) throws -> ExportRecord? {
        let id = jobID.lowercased()
        guard let e = locked({ exportState.exports[id] }), e.tenantID == tenantID, let job = try jobs.job(id),
              case .success(let params) = ExportParams.parse(job.params) else { return nil }
        let title = locked { access.projects[e.projectID]?.title } ?? ""
        return ExportRecord(jobID: id, projectID: e.projectID, projectTitle: title, params: params, file: e.file)
    }

    public func exportUnitCount(params: ExportParams) throws -> Int {
        locked { projectUnitIDs(params.projectID).filter { $0 <= params.maxUnitID }.count }
    }

    public func exportUnitIDs(projectID: String, after: Int64, maxUnitID: Int64, limit: Int) throws -> [Int64] {
        locked { Array(projectUnitIDs(projectID.lowercased()).filter { $0 > after && $0 <= maxUnitID }.prefix(limit)) }
    }

    public func exportSources(projectID: String, unitIDs: [Int64], stage: String?) throws -> [ExportSource] {
        let pid = projectID.lowercased()
        return locked {
            let inProject = Set(projectUnitIDs(pid))
            return unitIDs.sorted().compactMap { unit -> ExportSource? in
                guard inProject.contains(unit), let m = catalogDatasets.members[unit], let facts = labelFacts(m) else { return nil }
                if let stage, taskStage(projectID: pid, unit: unit) != stage.lowercased() { return nil }
                let file = files[m.fileID]
                return ExportSource(facts: facts, row: labelState.rows[pid]?[unit]?.text, frameURLs: file?.unit.urls ?? [],
                                    sopInstanceUIDs: file?.info.dicomSOPInstanceUIDs ?? [])
            }
        }
    }

    public func exportProject(projectID: String) throws -> (title: String, ontology: String?)? {
        locked {
            guard let p = access.projects[projectID.lowercased()] else { return nil }
            return (p.title, p.ontologyID.flatMap { ontologyState.rows[$0]?.stored.structure })
        }
    }

    public func commitExportPart(_ chunk: ExportChunk, part: ExportPartRecord?, failAll: DeadLetter?) throws -> CommitOutcome {
        try jobs.commitChunk(ChunkID(jobID: chunk.jobID, seq: chunk.seq), deadLetter: failAll) {
            try locked {
                guard let part, failAll == nil else {
                    return ChunkWrite(errors: chunk.unitIDs.indices.map {
                        UnitError(index: chunk.firstUnit + $0, urls: [], code: .internalError, message: failAll?.unitMessage ?? "the chunk failed",
                                  action: Export.action)
                    })
                }
                if exportState.parts[chunk.jobID]?[chunk.seq] == nil { exportState.parts[chunk.jobID, default: [:]][chunk.seq] = part }
                return ChunkWrite(done: part.rows, skipped: chunk.unitIDs.count - part.rows)
            }
        }
    }

    public func exportParts(jobID: String) throws -> [ExportPartRecord] {
        locked { (exportState.parts[jobID.lowercased()] ?? [:]).values.sorted { $0.seq < $1.seq } }
    }

    public func recordExportFile(jobID: String, file: StoredObject) throws -> StoredObject {
        locked {
            let id = jobID.lowercased()
            if let recorded = exportState.exports[id]?.file { return recorded }
            exportState.exports[id]?.file = file
            return file
        }
    }
}
