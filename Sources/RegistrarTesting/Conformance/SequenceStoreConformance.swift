import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// One `SequenceStore` under test, with what the suite needs besides the port.
public struct SequenceStoreUnderTest {
    public var store: any SequenceStore & RegistrationStore
    public var jobs: any JobStore
    /// Creates a folder and a registration job storing `manifest`, with sequence options;
    /// returns the job's id (not yet run).
    public var register: (_ manifest: [UInt8], _ options: SequenceOptions) throws -> String

    public init(store: any SequenceStore & RegistrationStore, jobs: any JobStore,
                register: @escaping (_ manifest: [UInt8], _ options: SequenceOptions) throws -> String) {
        self.store = store; self.jobs = jobs; self.register = register
    }
}

/// `SequenceStore`'s promises (docs/sequences.md), against the twin and PostgreSQL, through the
/// kind's planner: one dispatch decision per finished registration job (encode, virtual, no
/// sequences; never a pending job), unpublished encode jobs returned again until marked, the
/// sequences and their frames in order with the job's frame rate, a chunk committed once with
/// its video and frame map, unit errors and dead letters counted.
public enum SequenceStoreConformance {
    public static func exercise(_ make: () throws -> SequenceStoreUnderTest) throws {
        try dispatchAndCommit(make())
    }

    public static func manifest(sequences: [[String]], groups: [[String]] = [], images: [String] = []) -> [UInt8] {
        func group(_ urls: [String], video: Bool, n: Int) -> String {
            "{\"title\":\"g\(n)\",\"createVideo\":\(video)" + urls.enumerated().map { ",\"objectUrl_\($0.offset)\":\"\($0.element)\"" }.joined() + "}"
        }
        let g = sequences.enumerated().map { group($0.element, video: true, n: $0.offset) } + groups.enumerated().map { group($0.element, video: false, n: 100 + $0.offset) }
        let i = images.map { "{\"objectUrl\":\"\($0)\"}" }
        return Array("{\"image_groups\":[\(g.joined(separator: ","))],\"images\":[\(i.joined(separator: ","))]}".utf8)
    }

    /// Registers every unit of the job as verified, in one chunk, and finishes the job.
    public static func run(_ s: SequenceStoreUnderTest, job: String, manifest: [UInt8], finish: Bool = true) throws {
        let units = try Fixtures.units(String(decoding: manifest, as: UTF8.self))
        let record = try #require(try s.store.loadJob(job))
        try s.store.recordScan(jobID: job, units: units.count, urls: units.reduce(0) { $0 + $1.urls.count }, skipDuplicates: false)
        try s.jobs.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: units.count)])
        var info = MediaInfo()
        info.width = 321; info.height = 241; info.mimeType = "image/jpeg"
        _ = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: record.folderID, skipDuplicates: false, unitCount: units.count,
                                                items: units.map { .verified($0, info) }))
        if finish {
            try s.jobs.finishSplit(jobID: job, totalChunks: 1)
            #expect(try s.jobs.finishJobIfComplete(jobID: job) == .done)
        }
    }

    static func dispatchAndCommit(_ s: SequenceStoreUnderTest) throws {
        let seqA = (0..<3).map { "https://b.example/a/\($0).jpg?sig=secret" }
        let seqB = (0..<2).map { "https://b.example/b/\($0).jpg" }
        // A job with two sequences, a group and an image; one with virtual sequences; one with
        // only a group; one still running.
        let m1 = manifest(sequences: [seqA, seqB], groups: [["https://b.example/g/0.jpg"]], images: ["https://b.example/i.jpg"])
        let encoded = try s.register(m1, SequenceOptions(fps: 30))
        try run(s, job: encoded, manifest: m1)
        let mv = manifest(sequences: [seqA])
        let virtual = try s.register(mv, SequenceOptions(virtual: true))
        try run(s, job: virtual, manifest: mv)
        let mg = manifest(sequences: [], groups: [seqA])
        let groupOnly = try s.register(mg, SequenceOptions())
        try run(s, job: groupOnly, manifest: mg)
        let running = try s.register(mv, SequenceOptions())
        try run(s, job: running, manifest: mv, finish: false)

        // One encode job, returned until marked published, then never again.
        let first = try s.store.dispatchSequenceEncodes(limit: 100)
        #expect(first.count == 1, "\(first)")
        let encodeJob = try #require(first.first)
        #expect(try s.store.dispatchSequenceEncodes(limit: 100) == [encodeJob], "an unpublished job is returned again")
        try s.store.markSequenceEncodePublished(encodeJobID: encodeJob)
        #expect(try s.store.dispatchSequenceEncodes(limit: 100) == [])
        let job = try #require(try s.jobs.job(encodeJob))
        #expect(job.kind == SequenceEncode.kind && SequenceEncodeParams.parse(job.params)?.registrationJobID == encoded)

        // The running job gets its decision once it has finished.
        try s.jobs.finishSplit(jobID: running, totalChunks: 1)
        _ = try s.jobs.finishJobIfComplete(jobID: running)
        let second = try s.store.dispatchSequenceEncodes(limit: 100)
        #expect(second.count == 1 && second.first != encodeJob)
        try s.store.markSequenceEncodePublished(encodeJobID: second[0])

        // The planner: one sequence per chunk, in file id order; sources in frame order.
        let planner = SequenceEncodePlanner(store: s.store)
        guard case .accepted(let total) = try planner.prepare(job) else { Issue.record("refused"); return }
        #expect(total == 2)
        var chunks: [SequenceEncodeChunk] = []
        try planner.plan(job) { chunks.append(try #require(SequenceEncodeChunk.decode($0.encode()))) }
        #expect(chunks.map(\.seq) == [0, 1] && chunks.map(\.firstUnit) == [0, 1] && chunks.allSatisfy { $0.fileIDs.count == 1 })
        var again: [SequenceEncodeChunk] = []
        try planner.plan(job) { again.append(try #require(SequenceEncodeChunk.decode($0.encode()))) }
        #expect(again == chunks, "a re-plan gives the same chunks")
        let sources = try chunks.map { try #require(try s.store.sequenceSource(fileID: $0.fileIDs[0])) }
        #expect(sources.map(\.urls) == [seqA, seqB])
        #expect(sources.allSatisfy { $0.fps == 30 && $0.integrationID == nil })
        #expect(try s.store.sequenceSource(fileID: 987_654_321) == nil)
        let otherFile = try #require(try s.store.sequenceFileIDs(registrationJobID: running, after: 0, limit: 5).first)
        let otherSource = try #require(try s.store.sequenceSource(fileID: otherFile))
        #expect(otherSource.fps == SequenceEncoding.defaultFPS)

        // Commit: a video, then a failure; each chunk once.
        try s.jobs.recordTotal(jobID: encodeJob, units: total)
        try s.jobs.recordChunks(jobID: encodeJob, chunks: chunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: 1) })
        let a = sources[0]
        let video = SequenceVideo(fileID: a.fileID, key: SequenceEncoding.videoKey(folderID: a.folderID, fileID: a.fileID), width: 320, height: 240,
                                  fps: 30, frameCount: 3, duration: 0.1, size: 1234, sha256: String(repeating: "ab", count: 32), frames: [])
        let c0 = try s.store.commitSequenceChunk(chunks[0], outcomes: [.encoded(video)], failAll: nil)
        #expect(c0 == .committed(UnitCounts(done: 1)))
        var other = video
        other.width = 2
        #expect(try s.store.commitSequenceChunk(chunks[0], outcomes: [.encoded(other)], failAll: nil) == .alreadyDone(UnitCounts(done: 1)))
        let stored = try #require(try s.store.sequenceVideo(fileID: a.fileID))
        #expect(stored.width == 320 && stored.height == 240 && stored.fps == 30 && stored.frameCount == 3 && stored.key == video.key
                && stored.size == 1234 && stored.duration == 0.1)
        #expect(stored.frames == SequenceEncoding.frameMap(urls: seqA), "frame i → source i, with the URLs as registered")
        let failed = SequenceOutcome.failed(fileID: sources[1].fileID, urls: seqB, code: .frameDecodeFailed, message: "frame 1 (https://b.example/b/1.jpg) is not an image")
        #expect(try s.store.commitSequenceChunk(chunks[1], outcomes: [failed], failAll: nil) == .committed(UnitCounts(errors: 1)))
        #expect(try s.store.sequenceVideo(fileID: sources[1].fileID) == nil)
        try s.jobs.finishSplit(jobID: encodeJob, totalChunks: 2)
        #expect(try s.jobs.finishJobIfComplete(jobID: encodeJob) == .error)
        #expect(try s.jobs.jobCounts(jobID: encodeJob).counts == UnitCounts(done: 1, errors: 1))

        // A dead-lettered chunk: its sequence fails internal_error.
        let otherJob = try #require(try s.jobs.job(second[0]))
        var deadChunks: [SequenceEncodeChunk] = []
        try planner.plan(otherJob) { deadChunks.append(try #require(SequenceEncodeChunk.decode($0.encode()))) }
        try s.jobs.recordChunks(jobID: otherJob.id, chunks: deadChunks.map { LedgerChunk(seq: $0.seq, firstUnit: $0.firstUnit, unitCount: 1) })
        let letter = DeadLetter(deliveries: 5, reason: "delivery_limit", body: deadChunks[0].bytes)
        #expect(try s.store.commitSequenceChunk(deadChunks[0], outcomes: [], failAll: letter) == .committed(UnitCounts(errors: 1)))
    }
}
