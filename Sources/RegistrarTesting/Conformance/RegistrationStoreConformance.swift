import Foundation
import RegistrarCore
import RegistrarRuntime
import Testing

/// A `RegistrationStore` under test, with the operator-side calls the port leaves out.
public struct RegistrationStoreUnderTest {
    public var store: any RegistrationStore
    /// The engine's store the registration store commits through.
    public var jobs: any JobStore
    public var makeFolder: () throws -> String
    /// Stores a manifest as a new job of the folder.
    public var createJob: (_ folderID: String, _ manifest: [UInt8], _ format: ManifestFormat) throws -> String
    /// A retry job of a finished job's failed units; nil when there are none.
    public var createRetryJob: (_ jobID: String) throws -> String?
    /// The files a job registered: unit index → URL key.
    public var files: (_ jobID: String) throws -> [Int: String]

    public init(store: any RegistrationStore, jobs: any JobStore, makeFolder: @escaping () throws -> String,
                createJob: @escaping (String, [UInt8], ManifestFormat) throws -> String,
                createRetryJob: @escaping (String) throws -> String?, files: @escaping (String) throws -> [Int: String]) {
        self.store = store; self.jobs = jobs; self.makeFolder = makeFolder; self.createJob = createJob
        self.createRetryJob = createRetryJob; self.files = files
    }
}

/// Every promise of `RegistrationStore`'s doc comments, checked against one implementation
/// (the twin `MemoryRegistry`, and `PostgresRegistry` on a real PostgreSQL).
public enum RegistrationStoreConformance {
    public static func exercise(_ make: () throws -> RegistrationStoreUnderTest) throws {
        try jobsKeepTheirManifestAndFacts(make())
        try chunksCommitFilesOnce(make())
        try duplicatesAreSkippedByURLKey(make())
        try retryJobsReadTheFailedUnits(make())
    }

    static func manifest(_ urls: [String], skip: Bool = false) -> [UInt8] {
        Fixtures.imagesManifest(urls, skipDuplicates: skip)
    }

    static func info(_ w: Int) -> MediaInfo {
        var i = MediaInfo()
        i.width = w
        i.height = 1
        i.mimeType = "image/png"
        i.size = 100
        return i
    }

    /// Records the job's scan and one ledger row per chunk of `size` consecutive units.
    static func ledger(_ s: RegistrationStoreUnderTest, _ job: String, _ units: [RegistrationUnit], size: Int, skip: Bool) throws {
        try s.store.recordScan(jobID: job, units: units.count, urls: units.count, skipDuplicates: skip)
        let rows = stride(from: 0, to: units.count, by: size).enumerated().map { seq, start in
            LedgerChunk(seq: seq, firstUnit: units[start].index, unitCount: min(size, units.count - start))
        }
        try s.jobs.recordChunks(jobID: job, chunks: rows)
    }

    static func jobsKeepTheirManifestAndFacts(_ s: RegistrationStoreUnderTest) throws {
        let folder = try s.makeFolder()
        // Larger than one stored block of some stores, and not a multiple of any block size.
        let big = manifest((0..<30_000).map { "https://b.example/f/\($0).png" })
        let job = try s.createJob(folder, big, .json)
        let record = try #require(try s.store.loadJob(job))
        #expect(record.folderID == folder && record.format == .json && record.status == .pending)
        #expect(record.skipDuplicates == nil && record.retryOf == nil && record.totalUnits == nil)
        var source = try s.store.manifestSource(jobID: job)
        var read: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 70_001)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            read += buffer[..<n]
        }
        #expect(read == big)
        try s.store.recordScan(jobID: job, units: 30_000, urls: 30_000, skipDuplicates: true)
        let scanned = try #require(try s.store.loadJob(job))
        #expect(scanned.totalUnits == 30_000 && scanned.skipDuplicates == true)
        #expect(try s.jobs.job(job)?.phase == .splitting)
        #expect(try s.store.jobIntegrationID(jobID: job) == nil)
        #expect(try s.store.retryUnits(jobID: job) == nil)
        #expect(try s.store.loadJob(UUID().uuidString.lowercased()) == nil)
    }

    static func chunksCommitFilesOnce(_ s: RegistrationStoreUnderTest) throws {
        let folder = try s.makeFolder()
        let urls = (0..<5).map { "https://b.example/c/\($0).png?X-Amz-Signature=abc" }
        let job = try s.createJob(folder, manifest(urls), .json)
        let units = try Fixtures.units(String(decoding: manifest(urls), as: UTF8.self))
        try ledger(s, job, units, size: 5, skip: false)
        let result = ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 5, items: [
            .verified(units[0], info(10)), .verified(units[1], info(11)),
            .failed(UnitError(index: 2, urls: units[2].urls, code: .notFound, message: "HTTP 404")),
            .verified(units[3], info(13)), .verified(units[4], info(14)),
        ])
        let first = try s.store.commitChunk(result)
        #expect(first.outcome == .committed(UnitCounts(done: 4, errors: 1)))
        #expect(Set(first.newURLKeys) == Set([units[0], units[1], units[3], units[4]].map(\.urlKey)))
        let again = try s.store.commitChunk(result)
        #expect(again == RegistrationCommit(outcome: .alreadyDone(UnitCounts(done: 4, errors: 1))))
        #expect(try s.files(job) == [0: units[0].urlKey, 1: units[1].urlKey, 3: units[3].urlKey, 4: units[4].urlKey])
        #expect(try s.store.existingURLKeys(folderID: folder, keys: [units[1].urlKey, units[2].urlKey]) == [units[1].urlKey])
        // A chunk the ledger does not have: nothing recorded.
        var ghost = result
        ghost.seq = 7
        #expect(try s.store.commitChunk(ghost).outcome == .unknownChunk)
    }

    static func duplicatesAreSkippedByURLKey(_ s: RegistrationStoreUnderTest) throws {
        let folder = try s.makeFolder()
        let urls = (0..<3).map { "https://b.example/d/\($0).png" }
        let first = try s.createJob(folder, manifest(urls), .json)
        let firstUnits = try Fixtures.units(String(decoding: manifest(urls), as: UTF8.self))
        try ledger(s, first, firstUnits, size: 3, skip: false)
        _ = try s.store.commitChunk(ChunkResult(jobID: first, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 3,
                                                items: firstUnits.map { .verified($0, info(1)) }))

        // The second job repeats 0 and 2, holds a new URL twice, and skips duplicates.
        let second = [urls[0], "https://b.example/d/new.png", urls[2], "https://b.example/d/new.png"]
        let job = try s.createJob(folder, manifest(second, skip: true), .json)
        let units = try Fixtures.units(String(decoding: manifest(second, skip: true), as: UTF8.self))
        try ledger(s, job, units, size: 4, skip: true)
        let commit = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: true, unitCount: 4,
                                                         items: units.map { .verified($0, info(2)) }))
        // First unit per key wins, in unit order; a key the folder already has wins over all.
        #expect(commit.outcome == .committed(UnitCounts(done: 1, skipped: 3)))
        #expect(commit.newURLKeys == [units[1].urlKey])
        #expect(try s.files(job) == [1: units[1].urlKey])

        // Without skipping, duplicates are registered again.
        let third = try s.createJob(folder, manifest([urls[0]]), .json)
        let thirdUnits = try Fixtures.units(String(decoding: manifest([urls[0]]), as: UTF8.self))
        try ledger(s, third, thirdUnits, size: 1, skip: false)
        let dup = try s.store.commitChunk(ChunkResult(jobID: third, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 1,
                                                      items: [.verified(thirdUnits[0], info(3))]))
        #expect(dup.outcome == .committed(UnitCounts(done: 1)))
        #expect(try s.store.existingURLKeys(folderID: try s.makeFolder(), keys: [units[1].urlKey]).isEmpty)
    }

    static func retryJobsReadTheFailedUnits(_ s: RegistrationStoreUnderTest) throws {
        let folder = try s.makeFolder()
        let urls = (0..<4).map { "https://b.example/r/\($0).png" }
        let job = try s.createJob(folder, manifest(urls), .json)
        let units = try Fixtures.units(String(decoding: manifest(urls), as: UTF8.self))
        try ledger(s, job, units, size: 4, skip: false)
        #expect(try s.createRetryJob(job) == nil)   // no failed unit yet
        _ = try s.store.commitChunk(ChunkResult(jobID: job, seq: 0, folderID: folder, skipDuplicates: false, unitCount: 4, items: [
            .verified(units[0], info(1)), .failed(UnitError(index: 1, urls: [urls[1]], code: .timeout, message: "slow")),
            .verified(units[2], info(1)), .failed(UnitError(index: 3, urls: [urls[3]], code: .corrupt, message: "bad")),
        ]))
        try s.jobs.finishSplit(jobID: job, totalChunks: 1)
        #expect(try s.jobs.finishJobIfComplete(jobID: job) == .error)
        let retry = try #require(try s.createRetryJob(job))
        #expect(try s.store.retryUnits(jobID: retry) == [1, 3])
        let record = try #require(try s.store.loadJob(retry))
        #expect(record.retryOf == job && record.folderID == folder)
        // It reads its parent's manifest.
        var reader = makeManifestReader(format: .json, source: try s.store.manifestSource(jobID: retry))
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 4)
    }
}
