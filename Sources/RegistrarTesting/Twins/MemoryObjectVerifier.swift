import Foundation
import RegistrarCore
import RegistrarRuntime

/// The in-memory twin of `ObjectVerifier` (the worker's `HTTPObjectVerifier`): objects live in
/// a dictionary instead of a bucket, and are probed by the same pure `ContentProber` through
/// the same range-read loop, so the same bytes give the same media facts.
public final class MemoryObjectVerifier: ObjectVerifier, @unchecked Sendable {
    /// A stored object, or a URL scripted to fail.
    public enum Object: Sendable {
        case bytes([UInt8], contentType: String? = nil)
        /// Fails every read with this unit error code and message (`access_denied`, `timeout`, …).
        case failing(code: UnitErrorCode, message: String)
    }

    private let lock = NSLock()
    private var objects: [String: Object] = [:]
    private var reads: [String: Int] = [:]
    public let prober: ContentProber
    /// Called for every unit verified (tests block here to hold a chunk mid-work).
    public var onVerify: (@Sendable (RegistrationUnit) -> Void)?

    public init(prober: ContentProber = ContentProber()) {
        self.prober = prober
    }

    public func put(_ url: String, _ object: Object) {
        lock.lock(); objects[url] = object; lock.unlock()
    }

    /// Ranged reads made for a URL so far.
    public func readCount(_ url: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return reads[url] ?? 0
    }

    public func verify(_ units: [RegistrationUnit]) -> [UnitOutcome] {
        units.map { unit in
            onVerify?(unit)
            if let supplied = unit.suppliedMetadata { return .verified(MediaInfo(supplied: supplied)) }
            let files = unit.urls.map { url -> UnitAssembly.FileResult in
                switch ProbeDriver.run(type: unit.type, prober: prober, read: { offset, length in read(url, offset, length) }) {
                case .described(let info): return .described(info)
                case .refused(let code, let message): return .failed(code: code, message: message)
                case .needBytes: return .failed(code: .corrupt, message: "the header could not be read")
                }
            }
            return UnitAssembly.outcome(unit, files: files)
        }
    }

    private func read(_ url: String, _ offset: Int64, _ length: Int) -> ProbeDriver.Read {
        lock.lock()
        reads[url, default: 0] += 1
        let object = objects[url]
        lock.unlock()
        switch object {
        case nil:
            return .failure(code: .notFound, message: "HTTP 404: the object does not exist")
        case .failing(let code, let message)?:
            return .failure(code: code, message: message)
        case .bytes(let bytes, let contentType)?:
            let start = Int(min(Int64(bytes.count), max(0, offset)))
            let end = min(bytes.count, start + max(0, length))
            return .bytes(Array(bytes[start..<end]), offset: Int64(start), totalSize: Int64(bytes.count), contentType: contentType)
        }
    }
}
