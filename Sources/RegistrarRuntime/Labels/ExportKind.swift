import RegistrarCore

/// The `export` job kind (docs/labels.md, "Exports"): the planner pages the project's data
/// units up to the id fixed at creation, 1,000 per chunk; each chunk reads its label rows,
/// writes one part file to Registrar's storage (deterministic bytes, a fixed key: a redone chunk
/// rewrites the same part) and records it in the engine's guarded commit. A worker never holds
/// more than one chunk's rows; the API assembles the parts into the file on first download.
public enum Export {
    public static let kind = "export"
    public static let queues = KindQueues.named(kind)
    public static let action = "Exporting labels"
}

public final class ExportPlanner: JobPlanner {
    public let queues = Export.queues
    let store: ExportStore
    let chunkUnits: Int

    public init(store: ExportStore, chunkUnits: Int = 1_000) {
        self.store = store
        self.chunkUnits = max(1, chunkUnits)
    }

    func params(_ job: Job) -> Result<ExportParams, JobFailure> {
        ExportParams.parse(job.params).mapError { JobFailure(code: "invalid_params", item: "params.\($0.field)", message: $0.message) }
    }

    public func prepare(_ job: Job) throws -> Preparation {
        switch params(job) {
        case .failure(let f): return .refused(f)
        case .success(let p): return .accepted(units: try store.exportUnitCount(params: p))
        }
    }

    public func plan(_ job: Job, emit: (PlannedChunk) throws -> Void) throws {
        let p = try params(job).get()
        var chunks = ChunkNumbering()
        try chunks.emitPages(limit: chunkUnits, read: {
            try store.exportUnitIDs(projectID: p.projectID, after: $0, maxUnitID: p.maxUnitID, limit: $1)
        }, to: emit) { seq, first, ids in
            ExportChunk(jobID: job.id, seq: seq, tenantID: job.tenantID, firstUnit: first, unitIDs: ids).bytes
        }
    }
}

public final class ExportHandler: ChunkHandler {
    public let queues = Export.queues
    let store: ExportStore & JobParamsReader
    let storage: ObjectStorage
    /// Presigns links for exports with `signedUrls: true` (nil: links stay as registered).
    let signer: (any ExportURLSigner)?

    public init(store: ExportStore & JobParamsReader, storage: ObjectStorage, signer: (any ExportURLSigner)? = nil) {
        self.store = store
        self.storage = storage
        self.signer = signer
    }

    struct Unreadable: Error {}

    public func decode(_ body: [UInt8]) throws -> (id: ChunkID, work: ExportChunk) {
        guard let chunk = ExportChunk.decode(body) else { throw Unreadable() }
        return (ChunkID(jobID: chunk.jobID, seq: chunk.seq), chunk)
    }

    public func unitCount(_ work: ExportChunk) -> Int { work.unitIDs.count }

    public func perform(_ work: ExportChunk, id: ChunkID, cancellation: CancellationProbe) throws -> ExportPartRecord? {
        if cancellation.isCancelled { return nil }
        guard let job = try store.jobParams(id.jobID), case .success(let params) = ExportParams.parse(job) else { throw Unreadable() }
        guard let project = try store.exportProject(projectID: params.projectID) else { throw Unreadable() }
        let structure = project.ontology.flatMap { JSONValue.parse(Array($0.utf8)) } ?? .object([("objects", .array([])), ("classifications", .array([]))])
        let ontology = OntologyIndex(structure: structure)
        let keep = params.featureHashes.map(Set.init)
        let signed = try ExportLinkSigning.apply(try store.exportSources(projectID: params.projectID, unitIDs: work.unitIDs, stage: params.stage),
                                                 signer: signer, params: params)
        let sources = signed.map(\.0)
        var text = ""
        var counts = CocoAssembly.Counts(images: 0, annotations: 0, tracks: 0)
        switch params.format {
        case .json:
            text = signed.map { s, links in
                let row = ExportURLRewrite.replacing(links, in: s.row.flatMap { JSONValue.parse(Array($0.utf8)) } ?? LabelRowDocument.empty(s.facts))
                let valid = LabelRowValidator.validate(row, ontology: ontology, media: s.facts.media).isEmpty
                return ExportParts.jsonItem(ExportParts.filter(row, keep: keep), facts: s.facts, valid: valid).compactText
            }.joined(separator: ",")
        case .coco:
            var counters = CocoCounters()
            var images: [JSONValue] = [], annotations: [JSONValue] = []
            for s in sources {
                guard let row = s.row.flatMap({ JSONValue.parse(Array($0.utf8)) }) else { continue }
                let unit = LabelExportUnit(media: s.facts.media, title: s.facts.dataTitle, link: s.facts.link, frameURLs: s.frameURLs,
                                           sopInstanceUIDs: s.sopInstanceUIDs)
                let out = CocoExport.row(ExportParts.filter(row, keep: keep), unit: unit, ontology: ontology, counters: &counters)
                images += out.images
                annotations += out.annotations
            }
            counts = CocoAssembly.Counts(images: images.count, annotations: annotations.count, tracks: counters.tracks.count)
            text = ExportParts.cocoPart(categories: id.seq == 0 ? CocoExport.categories(ontology) : nil, images: images,
                                        annotations: annotations, tracks: counters.tracks.count)
        }
        let key = ExportChunk.partKey(job: id.jobID, seq: id.seq)
        guard let objectKey = ObjectKey(key) else { throw Unreadable() }
        var bytes = MemoryByteSource(text)
        _ = try storage.write(objectKey, contentType: "application/json", from: &bytes, expectedSHA256: nil)
        return ExportPartRecord(seq: id.seq, key: key, rows: sources.count, images: counts.images, annotations: counts.annotations, tracks: counts.tracks)
    }

    public func deadResult(_ work: ExportChunk, id: ChunkID, letter: DeadLetter) -> ExportPartRecord {
        ExportPartRecord(seq: id.seq, key: "", rows: 0, images: 0, annotations: 0, tracks: 0)
    }

    public func commit(_ result: ExportPartRecord, id: ChunkID, work: ExportChunk, deadLetter: DeadLetter?) throws -> CommitOutcome {
        try store.commitExportPart(work, part: deadLetter == nil ? result : nil, failAll: deadLetter)
    }
}

/// Reads a job's parameters (a handler needs its job's settings; chunks carry only units).
public protocol JobParamsReader: AnyObject {
    func jobParams(_ jobID: String) throws -> JSONValue?
}
