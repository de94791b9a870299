import Foundation
import RegistrarCore
@testable import RegistrarFetch
import Testing

/// Issue 20 (Weak 4 and the fetch items of "Smaller"), against the real fault server: a trickling
/// object is bounded by the fetch deadline and the low-speed limit, a caller can abandon a fetch
/// mid-transfer, oversized response headers have their own code, a server ignoring `Range`
/// yields no size it did not prove, and a request with a body is never redirected.
///
/// Bounds on elapsed time are generous (a loaded 2-core machine): what they separate is
/// seconds from the minutes the old behaviour took (attempts × the per-attempt timeout).
@Suite("Slow and odd responses", .serialized)
struct SlowAndOddResponseTests {
    func fault() throws -> RunningServer { try TestServers.fault.get() }

    func policy(_ change: (inout FetchPolicy) -> Void = { _ in }) -> FetchPolicy {
        var p = FetchPolicy(addressPolicy: try! AddressPolicy(allowList: "127.0.0.0/8"))
        p.baseBackoff = 0.05
        p.maxBackoff = 0.2
        change(&p)
        return p
    }

    func unique() -> String { String(UInt32.random(in: 0...UInt32.max)) }

    // MARK: - Deadline and low-speed limit

    /// A byte every 0.5 s: each attempt alone could run its whole 30 s timeout, four attempts
    /// two minutes. The deadline ends it at 3 s, saying so.
    @Test func aTricklingObjectIsBoundedByTheDeadline() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy { $0.totalTimeout = 30; $0.maxAttempts = 4; $0.deadline = 3; $0.lowSpeedLimit = 0 })
        let t0 = Date()
        let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/trickle/500/100000/\(unique())?X-Amz-Signature=SECRET")])[0]
        let took = Date().timeIntervalSince(t0)
        #expect(r.failure == .timeout, "\(r.failure?.rawValue ?? "ok"): \(r.message ?? "")")
        let m = r.message ?? ""
        #expect(m.contains("fetch deadline of 3 s"), "\(m)")
        #expect(!m.contains("SECRET"), "\(m)")
        #expect(took >= 2.5 && took < 15, "ended by the 3 s deadline (\(took) s)")
        #expect(r.elapsedSeconds < 15)
    }

    /// The low-speed limit cuts each attempt after 1 s under 1000 bytes/s; every attempt is
    /// retried within the deadline, and the message names the low-speed limit.
    @Test func aTricklingObjectIsCutByTheLowSpeedLimit() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy { $0.totalTimeout = 30; $0.maxAttempts = 2; $0.deadline = 60
            $0.lowSpeedLimit = 1000; $0.lowSpeedTime = 1 })
        let t0 = Date()
        let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/trickle/200/100000/\(unique())")])[0]
        let took = Date().timeIntervalSince(t0)
        #expect(r.failure == .timeout, "\(r.failure?.rawValue ?? "ok"): \(r.message ?? "")")
        #expect(r.message?.contains("low-speed limit") == true, "\(r.message ?? "")")
        #expect(r.message?.contains("gave up after 2 attempts") == true, "\(r.message ?? "")")
        #expect(r.attempts == 2)
        #expect(took < 20, "two attempts of ~1–2 s each, not 2 × 30 s (\(took) s)")
    }

    /// The deadline counts what the object's earlier reads (probe rounds) already took.
    @Test func earlierReadsCountAgainstTheDeadline() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy { $0.deadline = 5; $0.lowSpeedLimit = 0 })
        let spent = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/obj/100", timeUsed: 5)])[0]
        #expect(spent.failure == .timeout)
        #expect(spent.attempts == 0, "no attempt starts once the deadline is used up")
        #expect(spent.message?.contains("5 s of it in earlier reads") == true, "\(spent.message ?? "")")
        let t0 = Date()
        let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/trickle/500/1000/\(unique())", timeUsed: 3)])[0]
        #expect(r.failure == .timeout)
        #expect(Date().timeIntervalSince(t0) < 10, "cut at the 2 s left")
        let ok = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/obj/100", timeUsed: 4)])[0]
        #expect(ok.failure == nil && ok.bytes.count == 100, "a fast read within what is left succeeds")
    }

    /// Retries stop when the next attempt could only start after the deadline, saying so.
    @Test func aRetryThatWouldPassTheDeadlineIsNotWaitedFor() throws {
        let s = try fault()
        // /throttle answers 429 with Retry-After: 1 first; the deadline leaves no room for it.
        let fetcher = try RangeFetcher(policy: policy { $0.deadline = 0.5 })
        let t0 = Date()
        let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/throttle/\(unique())")])[0]
        #expect(r.failure == .timeout, "\(r.failure?.rawValue ?? "ok")")
        #expect(r.message?.contains("fetch deadline") == true && r.message?.contains("429") == true, "\(r.message ?? "")")
        #expect(Date().timeIntervalSince(t0) < 1, "the 1 s Retry-After was not slept through")
    }

    // MARK: - Stopping mid-transfer

    @Test func shouldStopAbandonsTransfersInFlight() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy { $0.lowSpeedLimit = 0 })
        let t0 = Date()
        var asked = 0
        let requests = (0..<3).map { FetchRequest(id: $0, url: "\(s.baseURL)/trickle/500/100000/\(unique())") }
            + [FetchRequest(id: 3, url: "\(s.baseURL)/obj/100")]
        let results = fetcher.fetch(requests, shouldStop: {
            asked += 1
            return Date().timeIntervalSince(t0) > 1
        })
        let took = Date().timeIntervalSince(t0)
        #expect(took < 3, "stopped within a check interval of the answer (\(took) s)")
        #expect(asked >= 3, "asked repeatedly while waiting (\(asked))")
        #expect(results.count == 4)
        for r in results where r.id < 3 {
            #expect(r.failure == .cancelled, "\(r.id): \(r.failure?.rawValue ?? "ok")")
        }
        #expect(results.first { $0.id == 3 }?.failure == nil, "a transfer that finished before the stop keeps its result")
        // The fetcher is usable afterwards: no handle was left behind.
        let again = fetcher.fetch([FetchRequest(id: 9, url: "\(s.baseURL)/obj/10")])
        #expect(again.first?.failure == nil && again.first?.bytes.count == 10)
    }

    // MARK: - Odd responses

    /// One header line over 100 KiB, or 300 KiB of headers in all: `invalid_response`, once.
    @Test func oversizedResponseHeadersHaveTheirOwnCode() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy())
        for path in ["/bigheaders/150/one", "/bigheaders/400/many"] {
            let before = try TestServers.stats(s).requests[path] ?? 0
            let r = fetcher.fetch([FetchRequest(id: 0, url: s.baseURL + path + "?X-Amz-Signature=SECRET")])[0]
            #expect(r.failure == .invalidResponse, "\(path): \(r.failure?.rawValue ?? "ok") \(r.message ?? "")")
            #expect(r.message?.contains("response headers") == true && r.message?.contains("SECRET") == false, "\(r.message ?? "")")
            #expect(r.attempts == 1, "not retried")
            #expect(try TestServers.stats(s).requests[path] == before + 1)
        }
        let fine = fetcher.fetch([FetchRequest(id: 0, url: s.baseURL + "/bigheaders/20/many")])[0]
        #expect(fine.failure == nil, "20 KiB of headers are fine: \(fine.message ?? "")")
    }

    /// A server that ignores `Range`: the size comes from the body only when all of it arrived.
    @Test func aServerIgnoringRangeGivesAProvenSizeOrNone() throws {
        let s = try fault()
        let fetcher = try RangeFetcher(policy: policy())
        let small = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/plain/3000", rangeLength: 65536)])[0]
        #expect(small.status == 200 && small.bytes.count == 3000)
        #expect(small.totalSize == 3000, "the whole body arrived: its length is the size")
        #expect(small.declaredSize == nil)
        let exact = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/plain/4096", rangeLength: 4096)])[0]
        #expect(exact.totalSize == 4096, "a body exactly the read length, matching Content-Length, is whole")
        let cut = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/plain/300000", rangeLength: 65536)])[0]
        #expect(cut.status == 200 && cut.bytes.count == 65536)
        #expect(cut.totalSize == nil, "cut off: Content-Length is not proven")
        #expect(cut.declaredSize == 300_000)
    }

    // MARK: - Redirects

    /// A POST (a token exchange: its body holds a signed assertion or a secret) is never
    /// redirected, even with redirects on: the redirect target is never asked.
    @Test func aRequestWithABodyIsNeverRedirected() throws {
        let s = try fault()
        let target = "/headers/\(unique())"
        let fetcher = try RangeFetcher(policy: policy { $0.followRedirects = true })
        let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/redirect?to=\(target)", postBody: Array("assertion=SECRET".utf8))])[0]
        #expect(r.failure == .tooManyRedirects, "\(r.failure?.rawValue ?? "ok")")
        #expect(r.message?.contains("never redirected") == true && r.message?.contains("SECRET") == false, "\(r.message ?? "")")
        #expect(try TestServers.stats(s).requests[target] == nil, "the redirect target was never asked")
    }

    @Test func redirectHopsAreBoundedByThePolicy() throws {
        let s = try fault()
        for limit in [1, 5] {
            let fetcher = try RangeFetcher(policy: policy { $0.followRedirects = true; $0.maxRedirects = limit })
            let before = try TestServers.stats(s).requests["/loop"] ?? 0
            let r = fetcher.fetch([FetchRequest(id: 0, url: "\(s.baseURL)/loop")])[0]
            #expect(r.failure == .tooManyRedirects)
            #expect(r.message?.contains("more than \(limit) redirects") == true, "\(r.message ?? "")")
            #expect(try TestServers.stats(s).requests["/loop"] == before + 1 + limit)
        }
    }
}
