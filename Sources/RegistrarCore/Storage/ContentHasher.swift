import Crypto

/// Streaming SHA-256 of content as it is written (storage checksums), hex out. Wraps
/// swift-crypto so adapters need not depend on it.
public struct ContentHasher: Sendable {
    private var hasher = SHA256()
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    /// Lower-case hex digest; the hasher is spent.
    public func finalizeHex() -> String { SigningHex.encode(hasher.finalize()) }
}
