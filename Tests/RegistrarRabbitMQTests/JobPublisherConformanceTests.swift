import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import RegistrarTesting
import Testing

/// `JobPublisher` (the API's side of the broker): one conformance suite on the twin broker and
/// on RabbitMQ, each with a jobs queue of its own.
@Suite struct JobPublisherConformanceTests {
    static func jobsQueue() -> String { "registrar.jobs.publisher-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))" }

    @Test func twin() throws {
        let broker = MemoryBroker()
        let jobs = Self.jobsQueue()
        let coordinator = broker.connect(.coordinator, jobsQueue: jobs)
        try JobPublisherConformance.exercise(broker.connect(.publisher, jobsQueue: jobs), jobsQueue: jobs) {
            guard let d = try coordinator.nextDelivery(timeoutSeconds: 0.2) else { return nil }
            try coordinator.ack(d)
            return String(decoding: d.body, as: UTF8.self)
        }
    }

    @Test func rabbitMQ() throws {
        let url = try #require(ProcessInfo.processInfo.environment["REGISTRAR_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "REGISTRAR_AMQP_URL is not set: run `scripts/services up` and `eval \"$(scripts/services env)\"`")
        let jobs = Self.jobsQueue()
        defer {
            if let admin = try? AMQPConnection(url: url) {
                try? admin.deleteQueue(jobs)
                admin.close()
            }
        }
        let publisher = try AMQPWorkQueue(url: url, role: .publisher, jobsQueue: jobs)
        defer { publisher.close() }
        // The coordinator connects when first asked (a consumer takes messages off the ready count).
        var coordinator: AMQPWorkQueue?
        defer { coordinator?.close() }
        try JobPublisherConformance.exercise(publisher, jobsQueue: jobs) {
            if coordinator == nil { coordinator = try AMQPWorkQueue(url: url, role: .coordinator, jobsQueue: jobs) }
            guard let coordinator, let d = try coordinator.nextDelivery(timeoutSeconds: 1) else { return nil }
            try coordinator.ack(d)
            return String(decoding: d.body, as: UTF8.self)
        }
    }
}
