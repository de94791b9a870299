import Testing
@testable import RegistrarCore

/// The pure planning of the `sequence-encode` kind (docs/sequences.md): keys, ffmpeg's
/// arguments, the output size, the frame map, the options a registration job carries and the
/// chunk message.
@Suite struct SequenceEncodingTests {
    @Test func theKeyIsFixedBySequenceAndUnderItsOwnPrefix() throws {
        let folder = "0F4C7A3E-1111-4222-8333-444455556666"
        let key = SequenceEncoding.videoKey(folderID: folder, fileID: 42)
        #expect(key == "sequences/0f4c7a3e-1111-4222-8333-444455556666/42/video.mp4")
        #expect(key.hasPrefix(SequenceEncoding.keyPrefix(folderID: folder, fileID: 42)))
        #expect(!key.hasPrefix(SequenceEncoding.keyPrefix(folderID: folder, fileID: 4)), "file 4's prefix must not cover file 42's key")
        #expect(SequenceEncoding.videoKey(folderID: folder, fileID: 42) == key, "a retry writes the same key")
        #expect(ObjectKey(key) != nil)
    }

    @Test func ffmpegReadsImagesFromStdinAndWritesFaststartH264() {
        let args = SequenceEncoding.ffmpegArguments(inputCodec: "mjpeg", width: 320, height: 240, fps: 25, output: "/tmp/x/j-0.mp4")
        #expect(args == ["-hide_banner", "-nostats", "-loglevel", "error", "-y",
                         "-f", "image2pipe", "-c:v", "mjpeg", "-framerate", "25", "-i", "pipe:0",
                         "-vf", "scale=320:240:flags=bicubic,setsar=1,format=yuv420p",
                         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                         "-fps_mode", "passthrough", "-r", "25",
                         "-movflags", "+faststart", "-f", "mp4", "/tmp/x/j-0.mp4"])
        let fractional = SequenceEncoding.ffmpegArguments(inputCodec: "png", width: 2, height: 2, fps: 29.97, output: "o.mp4")
        #expect(fractional.contains("29.97") && !fractional.contains("29"))
    }

    @Test func theOutputIsTheFirstFramesSizeRoundedDownToEven() {
        #expect(SequenceEncoding.outputSize(width: 321, height: 241)! == (320, 240))
        #expect(SequenceEncoding.outputSize(width: 640, height: 480)! == (640, 480))
        #expect(SequenceEncoding.outputSize(width: 1, height: 480) == nil)
        #expect(SequenceEncoding.outputSize(width: 3, height: 3)! == (2, 2))
    }

    @Test func inputCodecsPerFormat() {
        #expect(SequenceEncoding.inputCodec(for: .jpeg) == "mjpeg")
        #expect(SequenceEncoding.inputCodec(for: .png) == "png")
        #expect(SequenceEncoding.inputCodec(for: .webp) == "webp")
        #expect(SequenceEncoding.inputCodec(for: .heif) == nil)
        #expect(SequenceEncoding.inputCodec(for: .mp4) == nil)
    }

    @Test func everyFrameMapsToItsSourceInManifestOrder() {
        let urls = (0..<300).map { "http://h/seq/frame-\($0).jpg" }
        let map = SequenceEncoding.frameMap(urls: urls)
        #expect(map.count == 300)
        #expect(map[0] == SequenceFrame(frame: 0, source: urls[0]))
        #expect(map[299] == SequenceFrame(frame: 299, source: urls[299]))
        #expect(map.allSatisfy { $0.source == urls[$0.frame] })
        #expect(SequenceEncoding.duration(frames: 300, fps: 25) == 12)
        #expect(SequenceEncoding.duration(frames: 30, fps: 0) == 0)
    }

    @Test func displayedURLsCarryNoSecrets() {
        #expect(SequenceEncoding.displayURL("https://b.s3.amazonaws.com/k/f.jpg?X-Amz-Signature=abc#x") == "https://b.s3.amazonaws.com/k/f.jpg")
        #expect(SequenceEncoding.displayURL("http://user:pw@host:8080/a@b.jpg") == "http://***@host:8080/a@b.jpg")
        #expect(SequenceEncoding.displayURL("http://host/a.jpg") == "http://host/a.jpg")
    }

    @Test func optionsRoundTripThroughJobParams() throws {
        #expect(try SequenceOptions.parse(nil).get() == SequenceOptions())
        #expect(SequenceOptions().effectiveFPS == 25)
        #expect(SequenceOptions().params.isEmpty, "defaults write nothing")
        let o = SequenceOptions(virtual: false, fps: 30)
        #expect(try SequenceOptions.parse(.object(o.params)).get() == o)
        #expect(try SequenceOptions.parse(.object(SequenceOptions(virtual: true).params)).get().virtual)
        let text = try #require(JSONValue.parse(Array(#"{"sequenceFps": 12.5}"#.utf8)))
        #expect(try SequenceOptions.parse(text).get().effectiveFPS == 12.5)
    }

    @Test func badOptionsNameTheFieldAndWhy() {
        let zero = JSONValue.parse(Array(#"{"sequenceFps": 0}"#.utf8))
        #expect(throws: SequenceOptions.Invalid(field: "sequenceFps", message: "the frame rate must be a number above 0 and at most 240, not 0.0")) {
            try SequenceOptions.parse(zero).get()
        }
        let text = JSONValue.parse(Array(#"{"virtualSequences": "yes"}"#.utf8))
        #expect(throws: SequenceOptions.Invalid(field: "virtualSequences", message: "must be true or false")) { try SequenceOptions.parse(text).get() }
        #expect(throws: SequenceOptions.Invalid.self) { try SequenceOptions.checkFPS(.infinity, field: "--sequence-fps").get() }
    }

    @Test func chunkMessagesRoundTrip() {
        let c = SequenceEncodeChunk(jobID: "7d3b1c52-0000-4000-8000-000000000001", seq: 3, tenantID: "t", firstUnit: 3, fileIDs: [991])
        #expect(SequenceEncodeChunk.decode(c.bytes) == c)
        #expect(SequenceEncodeChunk.decode(Array(#"{"job":"j","seq":1,"tenant":"t","first":0,"files":["x"]}"#.utf8)) == nil)
    }

    @Test func theFrameLimitIsTheValidatorsLimit() {
        #expect(SequenceEncoding.maxFrames == 32_767)
    }
}
