import Foundation
import RegistrarCore
import RegistrarRuntime
import RegistrarTesting
import Synchronization
import Testing

/// A counter shared with hooks (which are `@Sendable`).
final class Count: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult func next() -> Int { value.add(1, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Registration on the engine, in process, against the twins: the whole path from a stored
/// manifest to file records, with exact counts.
@Suite struct RegistrationEngineTests {
    @Test func registersEveryUnitOnceWithExactCounts() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 7
        var urls = rig.putImages(40)
        urls += ["https://bucket.example/missing/1.png", "https://bucket.example/missing/2.png"]
        rig.verifier.put("https://bucket.example/denied.png", .failing(code: "access_denied", message: "HTTP 403"))
        urls.append("https://bucket.example/denied.png")
        let job = try rig.submit(Fixtures.imagesManifest(urls))
        #expect(try rig.runToEnd() == 0)

        let state = try rig.state(job)
        #expect(state.status == .error)
        #expect(state.total == 43)
        #expect(state.counts == UnitCounts(done: 40, errors: 3))
        let files = rig.registry.files(jobID: job)
        #expect(files.count == 40)
        #expect(files[3]?.info.width == 13 && files[3]?.info.height == 20 && files[3]?.info.mimeType == "image/png")
        let errors = rig.jobs.unitErrors(jobID: job)
        #expect(errors.map(\.index) == [40, 41, 42])
        #expect(errors.map(\.code) == [.notFound, .notFound, .accessDenied])
        #expect(errors.allSatisfy { $0.action == "Fetching object" })
        // 43 units in chunks of 7: 7 chunks, each committed once.
        #expect(rig.jobs.ledgerRows(jobID: job).count == 7)
        #expect(rig.jobs.ledgerRows(jobID: job).values.allSatisfy { $0.done && $0.published })
        // The tracker ends with the store's exact numbers.
        #expect(try rig.tracker.counts(jobID: job)?.counts == state.counts)
    }

    @Test func ignoreErrorsEndsDone() throws {
        let rig = EngineRig()
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(3) + ["https://bucket.example/gone.png"]), ignoreErrors: true)
        _ = try rig.runToEnd()
        let state = try rig.state(job)
        #expect(state.status == .done)
        #expect(state.counts == UnitCounts(done: 3, errors: 1))
    }

    @Test func aRefusedManifestEndsErrorWithoutChunks() throws {
        let rig = EngineRig()
        let job = try rig.submit(Array("{\"images\": [".utf8))
        _ = try rig.runToEnd()
        let state = try rig.state(job)
        #expect(state.status == .error)
        #expect(state.error?.hasPrefix("truncated") == true || state.error?.hasPrefix("invalid_json") == true)
        #expect(rig.jobs.ledgerRows(jobID: job).isEmpty)
    }

    @Test func skipDuplicateURLsAcrossJobsAndWithinOne() throws {
        let rig = EngineRig()
        let folder = rig.registry.createFolder(name: "dups")
        let urls = rig.putImages(5)
        let first = try rig.submit(Fixtures.imagesManifest(urls), folder: folder)
        _ = try rig.runToEnd()
        #expect(try rig.state(first).counts == UnitCounts(done: 5))
        // Again, with two of them twice and one new: only the new one is registered.
        let more = urls + [urls[0], urls[1]] + rig.putImages(1, base: "https://bucket.example/new")
        let second = try rig.submit(Fixtures.imagesManifest(more, skipDuplicates: true), folder: folder)
        _ = try rig.runToEnd()
        #expect(try rig.state(second).counts == UnitCounts(done: 1, skipped: 7))
        #expect(rig.registry.files(folderID: folder).count == 6)
        // Known keys were not fetched again: each old object was read by the first job only.
        #expect(rig.verifier.readCount(urls[2]) == 1)
    }

    @Test func aRetryJobRegistersExactlyTheFailedUnits() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 2
        let ok = rig.putImages(4)
        let missing = ["https://bucket.example/late/0.png", "https://bucket.example/late/1.png"]
        let job = try rig.submit(Fixtures.imagesManifest([ok[0], missing[0], ok[1], ok[2], missing[1], ok[3]]))
        _ = try rig.runToEnd()
        #expect(try rig.state(job).counts == UnitCounts(done: 4, errors: 2))
        for url in missing { rig.verifier.put(url, .bytes(Fixtures.png(width: 1, height: 1))) }
        let retry = try #require(try rig.registry.createRetryJob(of: job))
        try rig.broker.connect(.publisher).publishJob(retry)
        _ = try rig.runToEnd()
        #expect(try rig.state(retry).counts == UnitCounts(done: 2))
        #expect(rig.registry.files(jobID: retry).keys.sorted() == [1, 4])
        // Its single chunk holds units 1 and 4: not consecutive, and the ledger says so.
        let row = try #require(rig.jobs.ledgerRows(jobID: retry)[0])
        #expect(row.chunk.firstUnit == 1 && row.chunk.lastUnit == 4 && row.chunk.unitCount == 2)
    }

    @Test func progressSurvivesLosingTheTracker() throws {
        let rig = EngineRig()
        rig.planning.chunkUnits = 5
        let job = try rig.submit(Fixtures.imagesManifest(rig.putImages(30)))
        try rig.split()
        try rig.work(limit: 3)
        rig.tracker.flush()
        // A reader rebuilds from the ledger, exactly.
        #expect(try rig.state(job).counts == UnitCounts(done: 15))
        try rig.work()
        #expect(try rig.state(job).counts == UnitCounts(done: 30))
        #expect(try rig.tracker.counts(jobID: job)?.counts == UnitCounts(done: 30))
    }

    @Test func suppliedMetadataIsTrustedWithoutReading() throws {
        let rig = EngineRig()
        let manifest = """
            {"images": [{"objectUrl": "https://bucket.example/never-read.png", "imageMetadata":
              {"mimeType": "image/png", "fileSize": 1234, "width": 640, "height": 480}}]}
            """
        let job = try rig.submit(Array(manifest.utf8))
        _ = try rig.runToEnd()
        #expect(try rig.state(job).counts == UnitCounts(done: 1))
        #expect(rig.registry.files(jobID: job)[0]?.info.width == 640)
        #expect(rig.verifier.readCount("https://bucket.example/never-read.png") == 0)
    }
}
