/// Metadata the user supplied in a `*Metadata` block. Encord trusts it as given (no probe, no
/// validation against the file), so we only check that it is complete and well-typed.
/// Both snake_case and camelCase field spellings are accepted, as the SDK's DTOs do.
public indirect enum SuppliedMetadata: Sendable, Equatable {
    case video(Video)
    case audio(Audio)
    case image(Image)
    case pdf(PDF)
    case text(Text)

    public struct Video: Sendable, Equatable {
        public var fps: Double
        public var duration: Double
        public var width: Int
        public var height: Int
        public var fileSize: Int
        public var mimeType: String

        public init(fps: Double, duration: Double, width: Int, height: Int, fileSize: Int, mimeType: String) {
            self.fps = fps
            self.duration = duration
            self.width = width
            self.height = height
            self.fileSize = fileSize
            self.mimeType = mimeType
        }
    }

    public struct Audio: Sendable, Equatable {
        public var duration: Double
        public var fileSize: Int
        public var mimeType: String
        public var sampleRate: Int
        public var bitDepth: Int
        public var codec: String
        public var numChannels: Int

        public init(duration: Double, fileSize: Int, mimeType: String, sampleRate: Int, bitDepth: Int, codec: String, numChannels: Int) {
            self.duration = duration
            self.fileSize = fileSize
            self.mimeType = mimeType
            self.sampleRate = sampleRate
            self.bitDepth = bitDepth
            self.codec = codec
            self.numChannels = numChannels
        }
    }

    public struct Image: Sendable, Equatable {
        public var mimeType: String
        public var fileSize: Int
        public var width: Int
        public var height: Int

        public init(mimeType: String, fileSize: Int, width: Int, height: Int) {
            self.mimeType = mimeType
            self.fileSize = fileSize
            self.width = width
            self.height = height
        }
    }

    public struct PDF: Sendable, Equatable {
        public var fileSize: Int
        public var numPages: Int

        public init(fileSize: Int, numPages: Int) {
            self.fileSize = fileSize
            self.numPages = numPages
        }
    }

    public struct Text: Sendable, Equatable {
        public var fileSize: Int
        public var mimeType: String

        public init(fileSize: Int, mimeType: String) {
            self.fileSize = fileSize
            self.mimeType = mimeType
        }
    }

    /// The block's canonical (camelCase) name.
    public var blockName: String {
        switch self {
        case .video: return "videoMetadata"
        case .audio: return "audioMetadata"
        case .image: return "imageMetadata"
        case .pdf: return "pdfMetadata"
        case .text: return "textMetadata"
        }
    }
}
