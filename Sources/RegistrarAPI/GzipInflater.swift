import CompressNIO
import NIOCore

/// Inflates a gzip stream that arrives in pieces split anywhere, into a sink, a bounded amount
/// of output at a time. Not thread-safe: one caller at a time (`ManifestReceiver` hands it from
/// one `SpoolThreads` job to the next, never two at once).
///
/// Built on compress-nio's `ZlibDecompressor.inflate(from:to:)` alone. Its convenience loop,
/// `ByteBuffer.decompressStream(with:window:process:)`, is not safe for a stream fed in pieces:
/// it hands the window to `process` at the end of each piece without clearing it, so the next
/// piece appends to bytes already processed and they are emitted again (uploads that reached
/// the server in several body chunks were stored with repeated rows); it spins forever on bytes
/// after the end of the stream (zlib answers `Z_STREAM_END` and consumes nothing); and it cannot
/// tell a finished stream from a truncated one. What `inflate` (1.5.0) reports, and how it is
/// read here:
///
/// - returns normally: zlib's `Z_OK` with output space left — the input is used up and every
///   byte it yields was written — or `Z_STREAM_END`, the end of a gzip member (input may remain);
/// - throws `bufferOverflow`: the output is full; zlib may hold more output even with no input;
/// - throws `inputBufferOverflow`: no progress without more input (`Z_BUF_ERROR`);
/// - throws `corruptData`: a bad header, bad deflate data, or a CRC/length trailer that does not match.
final class GzipInflater {
    /// Why a body is not a gzip stream; `offset` is the compressed byte where zlib gave up.
    enum Failure: Error, Equatable, CustomStringConvertible {
        case corrupt(offset: Int)
        case truncated(offset: Int)

        var description: String {
            switch self {
            case .corrupt(let offset): return "the gzip data is corrupt at compressed byte \(offset)"
            case .truncated(let offset): return "the gzip stream ends early: \(offset) compressed bytes and no end-of-stream trailer"
            }
        }
    }

    private let zlib: ZlibDecompressor
    private var window: ByteBuffer
    /// Compressed bytes fed and not yet inflated.
    private var input = ByteBuffer()
    /// A zero-length buffer with storage: zlib is handed its (non-nil) address when there is no input.
    private var empty = ByteBufferAllocator().buffer(capacity: 16)
    /// The last call filled the window: zlib may still hold output for input it already took.
    private var outputPending = false
    /// Compressed bytes zlib has taken so far (for error positions).
    private(set) var consumed = 0
    /// Inflated bytes handed to the sink so far.
    private(set) var produced = 0

    init(windowBytes: Int = 1 << 16) throws {
        zlib = try ZlibDecompressor(algorithm: .gzip)
        window = ByteBufferAllocator().buffer(capacity: windowBytes)
    }

    /// Queues compressed bytes (any split of the stream).
    func feed(_ chunk: ByteBuffer) {
        if input.readableBytes == 0 {
            input = chunk
        } else {
            var chunk = chunk
            input.writeBuffer(&chunk)
        }
    }

    /// Inflates queued input into `sink` (each call gets fresh bytes, at most one window) until
    /// the input is used up — true — or about `budget` bytes were produced — false: call again.
    /// Several gzip members in a row (RFC 1952 §2.2, e.g. `cat a.gz b.gz`) inflate as one
    /// stream; anything else after a member is `corrupt`.
    func inflate(budget: Int = .max, into sink: (ByteBuffer) throws -> Void) throws -> Bool {
        var thisCall = 0
        while input.readableBytes > 0 || outputPending {
            if thisCall >= budget { return false }
            window.clear()
            let before = input.readableBytes
            var ended = false
            do {
                if input.readableBytes > 0 {
                    try zlib.inflate(from: &input, to: &window)
                } else {
                    try zlib.inflate(from: &empty, to: &window)
                }
                outputPending = false
                // Returned normally with input left: zlib answered Z_STREAM_END (a Z_OK with room
                // in the window would have taken all the input).
                ended = input.readableBytes > 0
            } catch let error as CompressNIOError where error == .bufferOverflow {
                outputPending = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                outputPending = false
            } catch is CompressNIOError {
                throw Failure.corrupt(offset: consumed + before - input.readableBytes)
            }
            if !ended && input.readableBytes == before && input.readableBytes > 0 && window.readableBytes == 0 {
                // No progress on input zlib was given: never spin (the contract above says this
                // cannot happen; this keeps a surprise from pinning a thread).
                throw Failure.corrupt(offset: consumed)
            }
            consumed += before - input.readableBytes
            if window.readableBytes > 0 {
                produced += window.readableBytes
                thisCall += window.readableBytes
                try sink(window)
            }
            if ended {
                // The next member starts here; if it is not one, zlib says so (corrupt).
                do { try zlib.reset() } catch { throw Failure.corrupt(offset: consumed) }
            }
        }
        return true
    }

    /// After the last piece (and `inflate` returned true): whether the stream ended with a
    /// complete member. A stream cut short (or an empty body) throws `truncated`.
    func finish() throws {
        precondition(input.readableBytes == 0 && !outputPending, "finish() before the input was inflated")
        window.clear()
        do {
            // No input and no pending output: a finished member answers Z_STREAM_END (returns);
            // one that wants more input answers Z_BUF_ERROR (inputBufferOverflow).
            try zlib.inflate(from: &empty, to: &window)
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            throw Failure.truncated(offset: consumed)
        } catch {
            throw Failure.corrupt(offset: consumed)
        }
        if window.readableBytes > 0 { throw Failure.corrupt(offset: consumed) }
    }
}
