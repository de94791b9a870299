#if canImport(Glibc)
import Glibc
#endif
import RegistrarCore

/// A `ByteSource` over a file descriptor, read with plain read(2) into the reader's block.
/// The manifest is never mapped or loaded whole.
public final class FileByteSource: ByteSource {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileReadError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FileReadError("\(path) is a directory, not a manifest file")
        }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw FileReadError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The first bytes of the file, for format detection (the file offset is restored).
    public func peek(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        return Array(bytes.prefix(max(0, n)))
    }
}

/// A manifest file that cannot be opened or read; the message names the path and the reason.
public struct FileReadError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
