/// One unit's outcome from the outcomes of its files (an image group, a sequence or a DICOM
/// series has several): the first failure fails the unit, naming which file; otherwise one
/// record for the unit. Pure, shared by the worker's verifier and its in-memory twin.
public enum UnitAssembly {
    /// What probing one file of a unit gave.
    public enum FileResult: Sendable, Equatable {
        case described(MediaInfo)
        case failed(code: UnitErrorCode, message: String)
    }

    public static func outcome(_ unit: RegistrationUnit, files: [FileResult]) -> UnitOutcome {
        var infos: [MediaInfo] = []
        for (k, file) in files.enumerated() {
            switch file {
            case .described(let info): infos.append(info)
            case .failed(let code, let message):
                let which = unit.urls.count > 1 ? " (file \(k + 1) of \(unit.urls.count))" : ""
                return .failed(code: code, message: message + which)
            }
        }
        return outcome(unit, infos)
    }

    /// One record per unit, from its files' descriptions.
    public static func outcome(_ unit: RegistrationUnit, _ infos: [MediaInfo]) -> UnitOutcome {
        guard var first = infos.first else { return .failed(code: .internalError, message: "no files") }
        if unit.type == .dicomSeries {
            let series = Set(infos.compactMap(\.dicomSeriesUID))
            if series.count > 1 {
                return .failed(code: .seriesMismatch,
                               message: "the files of a DICOM series must share one SeriesInstanceUID; found \(series.count)")
            }
            // Files ordered by InstanceNumber (stable: files without one keep their place at the end).
            let order = infos.indices.sorted { a, b in
                (infos[a].dicomInstanceNumber ?? Int.max, a) < (infos[b].dicomInstanceNumber ?? Int.max, b)
            }
            let ordered = order != Array(infos.indices) ? order.map { unit.urls[$0] } : nil
            first = infos[order[0]]
            first.orderedURLs = ordered
            first.frameCount = infos.reduce(0) { $0 + ($1.frameCount ?? 1) }
            first.dicomSOPInstanceUIDs = order.compactMap { infos[$0].dicomSOPInstanceUID }
        }
        if unit.urls.count > 1 {
            first.size = infos.reduce(Int64(0)) { $0 + ($1.size ?? 0) }
            first.probeRequests = infos.reduce(0) { $0 + $1.probeRequests }
            first.probeBytes = infos.reduce(0) { $0 + $1.probeBytes }
            if unit.type == .imageSequence || unit.type == .imageGroup { first.frameCount = infos.count }
        }
        return .verified(first)
    }
}
