import RegistrarCore
import RegistrarRuntime

/// Whole-object reads for the `sequence-encode` kind, on the registration workers' own fetcher:
/// the same address policy (SSRF rules), retries, redirects and deadlines, and each GET signed
/// with the job's integration exactly as a probe read is. A frame is read with one ranged GET
/// of `bytes=0-(maxBytes-1)`; a frame whose size proves larger fails `too_large`.
extension HTTPObjectVerifier: FrameReader {
    public func readFrames(_ urls: [String], integrationID: String?, maxBytes: Int, shouldStop: @escaping () -> Bool) -> [FrameRead]? {
        var out = [FrameRead?](repeating: nil, count: urls.count)
        var authenticator: IntegrationAuthenticator?
        if let integrationID {
            switch self.authenticator(integrationID) {
            case .success(let a): authenticator = a
            case .failure(let f): return urls.map { _ in .failed(code: f.code, message: f.message) }
            }
        }
        var auth: Result<RequestAuth, IntegrationAuthenticator.Failure> = .success(.none)
        if let authenticator { auth = authenticator.currentAuth(using: fetcher) }
        let date = authenticator?.now
        var requests: [FetchRequest] = []
        var sent: [Int] = []
        for (i, url) in urls.enumerated() {
            var request = FetchRequest(id: requests.count, url: url, rangeStart: 0, rangeLength: maxBytes)
            if let authenticator, let date, let f = authenticator.sign(&request, auth: auth, date: date) {
                out[i] = .failed(code: f.code, message: f.message)
                continue
            }
            requests.append(request)
            sent.append(i)
        }
        let results = fetcher.fetch(requests, shouldStop: shouldStop)
        if results.contains(where: { $0.failure == .cancelled }) { return nil }
        for r in results {
            let i = sent[r.id]
            FetchMetrics.response(status: r.status)
            if let failure = r.failure {
                out[i] = .failed(code: failure.code, message: r.message ?? failure.rawValue)
            } else if let total = r.totalSize, total > Int64(r.bytes.count) || r.bytesOffset != 0 {
                out[i] = .failed(code: .tooLarge, message: "the frame is \(total) bytes; frames are read up to \(maxBytes) bytes")
            } else if r.totalSize == nil && r.bytes.count >= maxBytes {
                out[i] = .failed(code: .tooLarge, message: "the frame is larger than \(maxBytes) bytes")
            } else if r.bytes.isEmpty {
                out[i] = .failed(code: .emptyObject, message: "the frame is empty (0 bytes)")
            } else {
                out[i] = .bytes(r.bytes)
            }
        }
        return out.map { $0 ?? .failed(code: .internalError, message: "no read result") }
    }
}
