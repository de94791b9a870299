import Foundation
import RegistrarCore
@testable import RegistrarRuntime
import RegistrarTesting
import Testing

/// The `sequence-encode` handler on the twins (store, storage, frame reader, encoder): what it
/// sends the encoder, what it writes and records, how each failure is reported, and that it
/// never leaves its temporary file behind. The real ffmpeg and servers: SequenceEncodeLiveTests.
@Suite struct SequenceEncodeHandlerTests {
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RegistrarCoreTests/Fixtures/media/images")
    static func image(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: images.appendingPathComponent(name))) }

    /// A registered one-sequence job, its encode job's chunk, and the handler on twins; its
    /// scratch directory is removed with it.
    final class Rig {
        let registry = MemoryRegistry()
        let storage = MemoryObjectStorage()
        let reader = MemoryFrameReader()
        let encoder = MemoryVideoEncoder()
        let scratch: EncodeScratch
        let handler: SequenceEncodeHandler
        var job = ""
        var chunk: SequenceEncodeChunk!
        var urls: [String] = []

        init(frames: Int, options: SequenceOptions = SequenceOptions()) throws {
            scratch = try EncodeScratch(root: NSTemporaryDirectory() + "registrar-encode-test-\(UUID().uuidString.prefix(8))")
            handler = SequenceEncodeHandler(store: registry, storage: storage, reader: reader, encoder: encoder, scratch: scratch, batch: 4)
            urls = (0..<frames).map { "https://b.example/s/\($0).jpg?X-Amz-Signature=secret" }
            let jpeg = try SequenceEncodeHandlerTests.image("jpeg-baseline.jpg")
            for u in urls { reader.put(u, jpeg) }
            let registry = self.registry
            let s = SequenceStoreUnderTest(store: registry, jobs: registry.jobs) { manifest, options in
                let job = try registry.createJob(folderID: registry.createFolder(name: "f"), manifest: manifest, format: .json)
                try registry.setSequenceOptions(jobID: job, options)
                return job
            }
            let manifest = SequenceStoreConformance.manifest(sequences: [urls])
            let reg = try s.register(manifest, options)
            try SequenceStoreConformance.run(s, job: reg, manifest: manifest)
            job = try #require(try registry.dispatchSequenceEncodes(limit: 10).first)
            var chunks: [SequenceEncodeChunk] = []
            try SequenceEncodePlanner(store: registry).plan(try #require(try registry.jobs.job(job))) { chunks.append(SequenceEncodeChunk.decode($0.encode())!) }
            chunk = try #require(chunks.first)
            try registry.jobs.recordChunks(jobID: job, chunks: [LedgerChunk(seq: 0, firstUnit: 0, unitCount: 1)])
        }

        deinit { try? FileManager.default.removeItem(atPath: scratch.root) }

        var id: ChunkID { ChunkID(jobID: job, seq: 0) }
        func perform() throws -> SequenceOutcome? { try handler.perform(chunk, id: id, cancellation: .never)?.first }
        func scratchFiles() -> [String] {
            let fm = FileManager.default
            return ((try? fm.contentsOfDirectory(atPath: scratch.root)) ?? []).flatMap { d in
                ((try? fm.contentsOfDirectory(atPath: scratch.root + "/" + d)) ?? []).map { d + "/" + $0 }
            }
        }
    }

    @Test func everyFrameGoesToTheEncoderInOrderAtTheFirstFramesSize() throws {
        let rig = try Rig(frames: 10, options: SequenceOptions(fps: 12))
        let outcome = try #require(try rig.perform())
        guard case .encoded(let v) = outcome else { Issue.record("\(outcome)"); return }
        let jpeg = try Self.image("jpeg-baseline.jpg")
        #expect(rig.encoder.frames.count == 10 && rig.encoder.frames.allSatisfy { $0 == jpeg })
        #expect(rig.reader.reads == 10 && rig.reader.largestBatch == 4, "frames are read in batches, each once")
        let args = try #require(rig.encoder.arguments.first)
        // jpeg-baseline.jpg is 37×23: the video is 36×22.
        #expect(v.width == 36 && v.height == 22)
        #expect(args == SequenceEncoding.ffmpegArguments(inputCodec: "mjpeg", width: 36, height: 22, fps: 12, output: args.last!))
        #expect(v.fps == 12 && v.frameCount == 10 && v.duration == 10.0 / 12)
        let source = try #require(try rig.registry.sequenceSource(fileID: rig.chunk.fileIDs[0]))
        #expect(v.key == SequenceEncoding.videoKey(folderID: source.folderID, fileID: source.fileID))
        #expect(v.frames == SequenceEncoding.frameMap(urls: rig.urls))
        let stored = try #require(try rig.storage.stat(ObjectKey(v.key)!))
        #expect(stored.size == Int64("FAKEMP4 10".utf8.count) && stored.contentType == "video/mp4" && v.sha256 == stored.sha256)
        #expect(rig.scratchFiles().isEmpty, "the temporary file is removed")
        // Committed once; the file now describes the video.
        #expect(try rig.handler.commit([outcome], id: rig.id, work: rig.chunk, deadLetter: nil) == .committed(UnitCounts(done: 1)))
        #expect(try rig.registry.sequenceVideo(fileID: source.fileID) != nil)
    }

    @Test func aRetriedChunkRewritesTheSameKey() throws {
        let rig = try Rig(frames: 3)
        _ = try rig.perform()
        _ = try rig.perform()
        #expect(try rig.storage.keys(prefix: "sequences/").count == 1)
    }

    @Test func aCorruptFrameFailsTheSequenceWithItsIndexAndNoSecret() throws {
        let rig = try Rig(frames: 9)
        rig.reader.put(rig.urls[6], Array("not an image at all, just text".utf8))
        let outcome = try #require(try rig.perform())
        guard case .failed(_, let urls, let code, let message) = outcome else { Issue.record("\(outcome)"); return }
        #expect(code == .frameDecodeFailed && urls == rig.urls)
        #expect(message == "frame 6 (https://b.example/s/6.jpg) is not an image the encoder reads (JPEG, PNG, WebP, BMP, TIFF or GIF)")
        #expect(!message.contains("secret"))
        #expect(rig.encoder.frames.count == 6 && rig.encoder.aborted == 1, "the encoder is stopped at the bad frame")
        #expect(try rig.storage.keys(prefix: "sequences/").isEmpty && rig.scratchFiles().isEmpty)
        #expect(try rig.handler.commit([outcome], id: rig.id, work: rig.chunk, deadLetter: nil) == .committed(UnitCounts(errors: 1)))
        #expect(rig.handler.errorCodes([outcome]) == [.frameDecodeFailed: 1])
    }

    @Test func aTruncatedOrDifferentlyFormattedFrameIsADecodeFailure() throws {
        let rig = try Rig(frames: 5)
        rig.reader.put(rig.urls[2], Array(try Self.image("jpeg-baseline.jpg").prefix(40)))
        guard case .failed(_, _, let code, let message)? = try rig.perform() else { Issue.record("not failed"); return }
        #expect(code == .frameDecodeFailed && message.hasPrefix("frame 2 (https://b.example/s/2.jpg) "), "\(message)")
        let rig2 = try Rig(frames: 5)
        rig2.reader.put(rig2.urls[3], try Self.image("png-rgb8.png"))
        guard case .failed(_, _, let code2, let message2)? = try rig2.perform() else { Issue.record("not failed"); return }
        #expect(code2 == .frameDecodeFailed && message2 == "frame 3 (https://b.example/s/3.jpg) is image/png but frame 0 is image/jpeg: every frame of a sequence must share one format to be encoded")
    }

    @Test func anUnreadableFrameNamesItsIndexAndTheFetchReason() throws {
        let rig = try Rig(frames: 6)
        rig.reader.remove(rig.urls[5])
        guard case .failed(_, _, let code, let message)? = try rig.perform() else { Issue.record("not failed"); return }
        #expect(code == .frameUnreadable)
        #expect(message == "frame 5 (https://b.example/s/5.jpg) could not be read: not_found: HTTP 404 from https://b.example/s/5.jpg")
        #expect(try rig.storage.keys(prefix: "sequences/").isEmpty && rig.scratchFiles().isEmpty)
    }

    @Test func encoderFailuresAreEncoderFailed() throws {
        let rig = try Rig(frames: 4)
        rig.encoder.failAtFrame = 2
        guard case .failed(_, _, let code, let message)? = try rig.perform() else { Issue.record("not failed"); return }
        #expect(code == .encoderFailed && message == "the encoder stopped at frame 2 (https://b.example/s/2.jpg): ffmpeg exited with status 1: Error while decoding stream #0:0")
        rig.encoder.failAtFrame = nil
        rig.encoder.failAtFinish = true
        guard case .failed(_, _, let code2, let message2)? = try rig.perform() else { Issue.record("not failed"); return }
        #expect(code2 == .encoderFailed && message2 == "ffmpeg exited with status 1: Conversion failed!")
        #expect(try rig.storage.keys(prefix: "sequences/").isEmpty && rig.scratchFiles().isEmpty)
    }

    @Test func aCancelledJobStopsBeforeWriting() throws {
        let rig = try Rig(frames: 20)
        let outcome = try rig.handler.perform(rig.chunk, id: rig.id, cancellation: CancellationProbe(interval: .zero) { true })
        #expect(outcome == nil)
        #expect(try rig.storage.keys(prefix: "sequences/").isEmpty && rig.scratchFiles().isEmpty)
    }

    @Test func aDeletedSequenceIsSkipped() throws {
        let rig = try Rig(frames: 2)
        let gone = SequenceEncodeChunk(jobID: rig.job, seq: 0, tenantID: rig.chunk.tenantID, firstUnit: 0, fileIDs: [999_999])
        #expect(try rig.handler.perform(gone, id: rig.id, cancellation: .never) == [.skipped(fileID: 999_999)])
    }

    @Test func tooManyFramesIsRefusedBeforeAnyRead() throws {
        let rig = try Rig(frames: 1)
        let source = SequenceSource(fileID: 1, folderID: "f", urls: Array(repeating: "https://b.example/x.jpg", count: 32_768), integrationID: nil, fps: 25)
        guard case .failed(_, _, let code, let message)? = try rig.handler.encode(source, id: rig.id, cancellation: .never) else { Issue.record("not failed"); return }
        #expect(code == .tooManyFrames && message == "the sequence has 32768 frames; a video made from a sequence holds at most 32767")
        #expect(rig.reader.reads == 0)
    }

    @Test func aKilledWorkersScratchDirectoryIsSwept() throws {
        let root = NSTemporaryDirectory() + "registrar-encode-sweep-\(UUID().uuidString.prefix(8))"
        // A pid that cannot be running: above the kernel's pid_max (at most 4,194,304).
        let dead = root + "/99999999"
        try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dead + "/job-0.mp4", contents: Data("partial".utf8))
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try EncodeScratch(root: root)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: root + "/\(getpid())"), "its own directory stays")
    }
}
