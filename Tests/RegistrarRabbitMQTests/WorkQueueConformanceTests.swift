import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `WorkQueue`'s conformance suite on the twin broker and on RabbitMQ. The real run uses two
/// kinds and a jobs queue of its own (fresh names), so it never meets another test's messages,
/// and deletes them afterwards.
@Suite struct WorkQueueConformanceTests {
    static func kinds() -> (KindQueues, KindQueues) {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return (KindQueues.named("conf-a-\(tag)"), KindQueues.named("conf-b-\(tag)"))
    }

    @Test func twin() throws {
        let broker = MemoryBroker(deliveryLimit: 5)
        try WorkQueueConformance.exercise(WorkQueueUnderTest(
            connect: { role in
                switch role {
                case .publisher: return broker.connect(.publisher)
                case .coordinator: return broker.connect(.coordinator)
                case .worker(let kinds): return broker.connect(.worker(kinds: kinds), prefetch: 1)
                }
            },
            drop: { ($0 as! MemoryWorkQueue).close() }, kinds: Self.kinds(), deliveryLimit: 5))
    }

    @Test func rabbitMQ() throws {
        let url = try #require(ProcessInfo.processInfo.environment["REGISTRAR_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "REGISTRAR_AMQP_URL is not set: run `scripts/services up` and `eval \"$(scripts/services env)\"`")
        let kinds = Self.kinds()
        let jobs = "registrar.jobs.conformance-\(kinds.0.kind)"
        defer {
            if let admin = try? AMQPConnection(url: url) {
                for q in [jobs, kinds.0.work, kinds.0.dead, kinds.1.work, kinds.1.dead] { try? admin.deleteQueue(q) }
                admin.close()
            }
        }
        try WorkQueueConformance.exercise(WorkQueueUnderTest(
            connect: { role in
                switch role {
                case .publisher: return try AMQPWorkQueue(url: url, role: .publisher, jobsQueue: jobs)
                case .coordinator: return try AMQPWorkQueue(url: url, role: .coordinator, jobsQueue: jobs)
                case .worker(let k): return try AMQPWorkQueue(url: url, role: .worker(kinds: k), prefetch: 1, jobsQueue: jobs)
                }
            },
            drop: { ($0 as! AMQPWorkQueue).close() }, kinds: kinds, deliveryLimit: 5))
    }
}
