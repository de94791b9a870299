import Foundation
import Logging
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Testing

/// The folder-sync kind's planner and handler on the twins (an in-memory bucket, the twin
/// store and verifier): listing first, the diff, sidecars, tombstones, and a re-plan after the
/// coordinator dies mid-listing giving the same chunks.
@Suite struct FolderSyncKindTests {
    /// A bucket in memory, listed in pages of `pageSize` keys in byte order.
    final class MemoryBucket: BucketReader {
        var objects: [String: (etag: String, bytes: [UInt8])] = [:]
        var pageSize = 3
        var pagesListed = 0
        /// Throws a fault from the listing after this many pages (a coordinator crash).
        var failAfterPages: Int?
        /// Called before each page is listed (what a client would see at that moment).
        var beforePage: (() -> Void)?

        func listPage(integrationID: String, bucket: String, prefix: String, at position: S3ListRequest.Position) -> Result<S3ListingPage, BucketListingError> {
            beforePage?()
            if let f = failAfterPages, pagesListed >= f { return .failure(BucketListingError(code: "connect_failed", message: "simulated")) }
            pagesListed += 1
            let keys = objects.keys.filter { $0.hasPrefix(prefix) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let after = position.continuationToken ?? position.startAfter
            let rest = keys.filter { after == nil || Array(after!.utf8).lexicographicallyPrecedes(Array($0.utf8)) }
            let page = Array(rest.prefix(pageSize))
            let more = rest.count > page.count
            return .success(S3ListingPage(objects: page.map { ListedObject(key: $0, size: Int64(objects[$0]!.bytes.count), etag: objects[$0]!.etag) },
                                          isTruncated: more, nextContinuationToken: more ? page.last : nil))
        }

        func read(integrationID: String, url: String, maxBytes: Int) -> Result<[UInt8], BucketListingError> {
            let key = String(url.dropFirst("s3://bkt/".count)).removingPercentEncodingForTest
            guard let o = objects[key] else { return .failure(BucketListingError(code: "not_found", message: "404")) }
            return .success(o.bytes)
        }
    }

    struct Rig {
        let jobs = MemoryJobStore()
        let store: MemoryFolderSyncStore
        let bucket = MemoryBucket()
        let verifier = MemoryObjectVerifier()
        let folder: String
        let tenant = "t1"

        init(sidecars: Bool = true) throws {
            store = MemoryFolderSyncStore(jobs: jobs)
            folder = store.addFolder(tenantID: tenant)
            let integration = store.addIntegration(tenantID: tenant)
            let spec = try SyncBindingSpec.parse(uri: "s3://bkt/p/", interval: nil, sidecarSuffix: sidecars ? ".metadata.json" : nil, appendOnly: false).get()
            _ = try store.createBinding(tenantID: tenant, folderID: folder, integrationID: integration, spec: spec)
        }

        func put(_ key: String, _ etag: String, _ bytes: [UInt8]) {
            bucket.objects[key] = (etag, bytes)
            verifier.put("s3://bkt/" + SigningPercentEncoding.encodePath(key), .bytes(bytes))
        }

        /// Plans a sync job (listing), then runs every chunk through the handler; returns the job and its chunks.
        func sync(chunkUnits: Int = 2) throws -> (job: String, chunks: [LedgerChunk], counts: UnitCounts) {
            guard case .started(let job) = try store.startSync(tenantID: tenant, folderID: folder, keys: nil) else { throw PortError.conflict("running") }
            return try run(job, chunkUnits: chunkUnits)
        }

        func run(_ job: String, chunkUnits: Int = 2) throws -> (job: String, chunks: [LedgerChunk], counts: UnitCounts) {
            let planner = FolderSyncPlanner(store: store, reader: bucket, progress: nil, chunkUnits: chunkUnits, logger: Logger(label: "t"))
            let handler = FolderSyncHandler(store: store, reader: bucket, verifier: verifier, logger: Logger(label: "t"))
            var planned: [(LedgerChunk, [UInt8])] = []
            try planner.plan(try #require(try jobs.job(job))) { planned.append(($0.ledger, $0.encode())) }
            try jobs.recordChunks(jobID: job, chunks: planned.map(\.0))
            var counts = UnitCounts()
            for (_, body) in planned {
                let (id, work) = try handler.decode(body)
                let result = try #require(try handler.perform(work, id: id, cancellation: .never))
                switch try handler.commit(result, id: id, work: work, deadLetter: nil) {
                case .committed(let c), .alreadyDone(let c): counts = counts + c
                case .unknownChunk: Issue.record("unknown chunk")
                }
            }
            try jobs.finishSplit(jobID: job, totalChunks: planned.count)
            _ = try jobs.finishJobIfComplete(jobID: job)
            return (job, planned.map(\.0), counts)
        }
    }

    /// A real PNG from the media fixtures.
    static let png: [UInt8] = {
        let path = #filePath.split(separator: "/").dropLast(2).joined(separator: "/") + "/RegistrarCoreTests/Fixtures/media/images/png-rgb8.png"
        return Array(FileManager.default.contents(atPath: "/" + path) ?? Data())
    }()

    @Test func listsFirstThenProbesOnlyWhatChanged() throws {
        let rig = try Rig()
        for i in 0..<5 { rig.put("p/img\(i).png", "e\(i)", Self.png) }
        rig.put("p/img1.png.metadata.json", "s1", Array(#"{"camera":"a"}"#.utf8))
        rig.put("p/notes.bin", "b", [1, 2, 3])
        rig.put("other/x.png", "x", Self.png)
        let first = try rig.sync()
        #expect(first.counts == UnitCounts(done: 5))
        let files = rig.store.syncedFiles(folderID: rig.folder)
        #expect(files.map(\.key).sorted() == (0..<5).map { "p/img\($0).png" })
        #expect(!Self.png.isEmpty && files.allSatisfy { $0.verified && $0.info?.width != nil })
        #expect(files.first { $0.key == "p/img1.png" }?.clientMetadata == #"{"camera":"a"}"#)
        #expect(rig.verifier.readCount("s3://bkt/p/img0.png") == 1)

        // Unchanged: nothing probed. Then one overwritten, one deleted, one added, a sidecar changed.
        let idle = try rig.sync()
        #expect(idle.chunks.isEmpty && idle.counts == UnitCounts())
        #expect(rig.verifier.readCount("s3://bkt/p/img0.png") == 1)
        rig.put("p/img0.png", "e0-new", Self.png)
        rig.bucket.objects["p/img2.png"] = nil
        rig.put("p/img9.png", "e9", Self.png)
        rig.put("p/img1.png.metadata.json", "s1-new", Array(#"{"camera":"b"}"#.utf8))
        let second = try rig.sync()
        #expect(second.counts == UnitCounts(done: 3))
        #expect(rig.verifier.readCount("s3://bkt/p/img0.png") == 2 && rig.verifier.readCount("s3://bkt/p/img3.png") == 1)
        let after = rig.store.syncedFiles(folderID: rig.folder)
        #expect(after.first { $0.key == "p/img2.png" }?.tombstoned == true)
        #expect(after.first { $0.key == "p/img1.png" }?.clientMetadata == #"{"camera":"b"}"#)
        // It returns unchanged: restored, not opened.
        rig.put("p/img2.png", "e2", Self.png)
        let third = try rig.sync()
        #expect(third.chunks.isEmpty)
        #expect(rig.store.syncedFiles(folderID: rig.folder).first { $0.key == "p/img2.png" }?.tombstoned == false)
        #expect(rig.verifier.readCount("s3://bkt/p/img2.png") == 1)
    }

    /// Progress is honest: through the coordinator's splitter, the job's total is unknown
    /// (`totalKnown` false) while pages are still being listed, the binding's `listed` grows,
    /// and the total is fixed (job and tracker) when the listing ends.
    @Test func theTotalIsNotKnownWhileTheListingRunsThenFixed() throws {
        let rig = try Rig(sidecars: false)
        for i in 0..<7 { rig.put("p/f\(i).png", "e\(i)", Self.png) }
        guard case .started(let job) = try rig.store.startSync(tenantID: rig.tenant, folderID: rig.folder, keys: nil) else { Issue.record("no job"); return }
        var during: [(job: String, listed: Int?)] = []
        rig.bucket.beforePage = {
            guard rig.bucket.pagesListed > 0, let j = try? rig.jobs.job(job) else { return }
            let binding = (try? rig.store.bindingJSON(tenantID: rig.tenant, folderID: rig.folder)).flatMap { JSONValue.parse(Array($0.utf8)) }
            during.append((JobState(j, counts: UnitCounts()).json, binding?["listing"]?["listed"]?.intValue))
        }
        let tracker = MemoryProgressTracker()
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let planner = FolderSyncPlanner(store: rig.store, reader: rig.bucket, progress: tracker, chunkUnits: 2, logger: logger)
        let splitter = JobSplitter(jobs: rig.jobs, progress: tracker, queue: MemoryBroker().connect(.coordinator), planners: [planner], logger: logger)
        #expect(try splitter.handle(jobID: job) == .done)
        #expect(during.count == 2, "pages of 3 keys: two pages listed before the last")
        #expect(during.allSatisfy { $0.job.contains(#""total":null,"totalKnown":false"#) }, "\(during.map(\.job))")
        #expect(during.map(\.listed) == [3, 6], "listed so far grows page by page")
        let final = try #require(try rig.jobs.job(job))
        #expect(final.totalUnits == 7 && JobState(final, counts: UnitCounts()).json.contains(#""total":7,"totalKnown":true"#))
        #expect(try tracker.counts(jobID: job)?.total == 7)
        let shown = try #require(try rig.store.bindingJSON(tenantID: rig.tenant, folderID: rig.folder))
        #expect(shown.contains(#""totalKnown":true"#) && shown.contains(#""complete":true"#), "\(shown)")
    }

    @Test func aReplanAfterACrashMidListingGivesTheSameChunks() throws {
        let rig = try Rig(sidecars: false)
        for i in 0..<10 { rig.put("p/f\(i).png", "e\(i)", Self.png) }
        guard case .started(let job) = try rig.store.startSync(tenantID: rig.tenant, folderID: rig.folder, keys: nil) else { Issue.record("no job"); return }
        let planner = FolderSyncPlanner(store: rig.store, reader: rig.bucket, progress: nil, chunkUnits: 2, logger: Logger(label: "t"))
        rig.bucket.failAfterPages = 2
        var before: [LedgerChunk] = []
        #expect(throws: JobFailure.self) { try planner.plan(try #require(try rig.jobs.job(job))) { before.append($0.ledger) } }
        #expect(before.count == 4, "two pages of 3 keys, each page's objects in chunks of 2")
        rig.bucket.failAfterPages = nil
        var after: [(LedgerChunk, [UInt8])] = []
        try planner.plan(try #require(try rig.jobs.job(job))) { after.append(($0.ledger, $0.encode())) }
        #expect(Array(after.map(\.0).prefix(4)) == before, "the chunks assigned before the crash come first, unchanged")
        #expect(after.map(\.0.unitCount).reduce(0, +) == 10 && after.map(\.0.seq) == Array(0..<7))
        // Every object in exactly one chunk.
        var keys: [String] = []
        for (chunk, _) in after { keys += try rig.store.chunkFiles(ChunkID(jobID: job, seq: chunk.seq)).map(\.key) }
        #expect(keys.sorted() == (0..<10).map { "p/f\($0).png" }.sorted())
        #expect(try rig.jobs.job(job)?.totalUnits == 10)
    }

    @Test func notificationsSyncJustTheirKeys() throws {
        let rig = try Rig()
        for i in 0..<3 { rig.put("p/a\(i).png", "e\(i)", Self.png) }
        _ = try rig.sync()
        rig.put("p/new one.png", "n", Self.png)
        guard case .started(let job) = try rig.store.startSync(tenantID: rig.tenant, folderID: rig.folder,
                                                                keys: ([NotifiedKey(change: .created, key: "p/new one.png", size: 33, etag: "n")], ["p/a0.png"])) else {
            Issue.record("no job"); return
        }
        let listedBefore = rig.bucket.pagesListed
        let r = try rig.run(job)
        #expect(r.counts == UnitCounts(done: 1) && rig.bucket.pagesListed == listedBefore, "no listing for a notification")
        let files = rig.store.syncedFiles(folderID: rig.folder)
        #expect(files.first { $0.key == "p/new one.png" }?.verified == true)
        #expect(files.first { $0.key == "p/a0.png" }?.tombstoned == true)
        #expect(rig.verifier.readCount("s3://bkt/p/a1.png") == 1)
    }
}

extension String {
    var removingPercentEncodingForTest: String {
        var out: [UInt8] = []
        let b = Array(utf8)
        var i = 0
        while i < b.count {
            if b[i] == 37, i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) { out.append(v); i += 3 } else { out.append(b[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
