import Foundation
import RegistrarRuntime
import Testing

/// Every promise of `JobPublisher`'s doc comments, checked against one broker (the twin
/// `MemoryBroker`'s connections, and RabbitMQ through `AMQPWorkQueue`).
public enum JobPublisherConformance {
    /// - Parameters:
    ///   - publisher: a publisher whose job ids go to `jobsQueue` (a queue no other test uses).
    ///   - consume: takes one job id from `jobsQueue` (as a coordinator would), nil when empty.
    ///     Connect its consumer on the first call: a consumer's prefetched messages are not "ready".
    public static func exercise(_ publisher: any JobPublisher, jobsQueue: String, consume: () throws -> String?) throws {
        let before = try publisher.depth(of: jobsQueue)
        try publisher.publishJob("job-a")
        try publisher.publishJob("job-b")
        // Confirmed before returning: the broker has them (a broker may report its count a moment
        // later, hence the generous wait).
        #expect(try depth(publisher, jobsQueue, becomes: before + 2))
        var seen: [String] = []
        while let id = try consume() { seen.append(id) }
        #expect(Array(seen.suffix(2)) == ["job-a", "job-b"])
        #expect(try depth(publisher, jobsQueue, becomes: 0))
        // A queue that does not exist is an error, never a depth of 0.
        #expect(throws: (any Error).self) { try publisher.depth(of: "registrar.no-such-queue-\(UInt32.random(in: 0...UInt32.max))") }
    }

    static func depth(_ publisher: any JobPublisher, _ queue: String, becomes n: Int) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let d = try publisher.depth(of: queue)
            if d == n { return true }
            if Date() > deadline { Issue.record("depth of \(queue) is \(d), expected \(n)"); return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
