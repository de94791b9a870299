import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin's label rows. Guarded by the registry's lock.
final class MemoryLabelState {
    struct Row {
        var text: String
        var labelHash: String
        var status: String
        var version: Int
        var createdAt: Double
    }
    /// project → data unit → row.
    var rows: [String: [Int64: Row]] = [:]
}

/// The in-memory twin of `PostgresRegistry+Labels`: the same contexts, guarded writes and listing.
extension MemoryRegistry: LabelStore {
    /// The unit's membership when it is in one of the project's datasets.
    private func projectUnit(_ projectID: String, _ unit: Int64) -> MemoryDatasetState.Membership? {
        guard let p = access.projects[projectID], let m = catalogDatasets.members[unit], p.datasetIDs.contains(m.datasetID) else { return nil }
        return m
    }

    func labelFacts(_ m: MemoryDatasetState.Membership) -> LabelUnitFacts? {
        guard let f = files[m.fileID], let d = catalogDatasets.datasets[m.datasetID] else { return nil }
        let type = f.unit.type.rawValue
        let media = LabelMedia(dataHash: String(m.id), dataType: type, width: f.info.width, height: f.info.height,
                               frameCount: f.info.frameCount ?? (type == "image" ? 1 : nil))
        return LabelUnitFacts(media: media, dataTitle: f.unit.title, mimeType: f.info.mimeType, link: f.unit.urls.first,
                              fps: f.info.fps, duration: f.info.duration, datasetHash: m.datasetID, datasetTitle: d.title)
    }

    public func labelRowContext(tenantID: String, projectID: String, dataHash: String) throws -> LabelRowContext? {
        guard UUIDText.isValid(projectID), let unit = Int64(dataHash), unit > 0 else { return nil }
        let pid = projectID.lowercased()
        return locked {
            guard access.projects[pid]?.tenantID == tenantID, let m = projectUnit(pid, unit), let facts = labelFacts(m) else { return nil }
            let ontology = access.projects[pid]?.ontologyID.flatMap { ontologyState.rows[$0]?.stored.structure }
            let row = labelState.rows[pid]?[unit]
            return LabelRowContext(ontology: ontology, facts: facts, stored: row?.text, version: row?.version ?? 0,
                                   labelHash: row?.labelHash, createdAt: row?.createdAt)
        }
    }

    public func taskDataHashes(projectID: String, taskUUIDs: [String]) throws -> [String: String] {
        let pid = projectID.lowercased()
        return locked {
            var out: [String: String] = [:]
            for id in taskUUIDs {
                if let t = taskState.tasks[id.lowercased()], t.projectID == pid { out[t.id] = String(t.dataUnit) }
            }
            return out
        }
    }

    public func saveLabelRow(projectID: String, dataHash: String, expected: Int, row: String, labelHash: String, labelStatus: String,
                             actor: String?) throws -> LabelWriteOutcome {
        guard UUIDText.isValid(projectID), let unit = Int64(dataHash) else { return .notFound }
        let pid = projectID.lowercased()
        return locked {
            let current = labelState.rows[pid]?[unit]
            guard current != nil || projectUnit(pid, unit) != nil else { return .notFound }
            guard (current?.version ?? 0) == expected else { return .stale(current: current?.version ?? 0) }
            let version = expected + 1
            labelState.rows[pid, default: [:]][unit] = MemoryLabelState.Row(text: row, labelHash: current?.labelHash ?? labelHash, status: labelStatus,
                                                                            version: version, createdAt: current?.createdAt ?? Date().timeIntervalSince1970)
            return .saved(version: version)
        }
    }

    public func labelRows(projectID: String, filter: LabelRowFilter, after: Int64?, limit: Int) throws -> (rows: [LabelRowItem], next: Int64?) {
        guard UUIDText.isValid(projectID) else { return ([], nil) }
        let pid = projectID.lowercased()
        return locked {
            guard let p = access.projects[pid] else { return ([], nil) }
            var units = catalogDatasets.members.values.filter { p.datasetIDs.contains($0.datasetID) && $0.id > (after ?? 0) }.sorted { $0.id < $1.id }
            if let stage = filter.stage {
                units = units.filter { taskStage(projectID: pid, unit: $0.id) == stage.lowercased() }
            }
            if !filter.labelStatuses.isEmpty {
                units = units.filter { filter.labelStatuses.contains(labelState.rows[pid]?[$0.id]?.status ?? "NOT_LABELLED") }
            }
            let page = units.prefix(limit)
            let items: [LabelRowItem] = page.compactMap { m in
                if let row = labelState.rows[pid]?[m.id] { return .stored(row.text) }
                return labelFacts(m).map(LabelRowItem.unsaved)
            }
            return (items, units.count > limit ? page.last?.id : nil)
        }
    }
}

extension MemoryRegistry {
    /// The stage of the unit's task in the project (nil: no task). Called under the lock.
    func taskStage(projectID: String, unit: Int64) -> String? {
        taskState.byUnit[projectID]?[unit].flatMap { taskState.tasks[$0]?.stage }
    }
}
