// The connection's own heartbeat thread, against a real RabbitMQ broker (scripts/services up;
// eval "$(scripts/services env)"). scripts/services runs RabbitMQ with its default heartbeat, 60 s.

import RegistrarRabbitMQ
import Testing
#if canImport(Glibc)
import Glibc
#endif


/// Sleeps without touching any connection: the owner "busy" elsewhere (a worker verifying a chunk).
private func busy(seconds: Double) {
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(Int(seconds * 1000))
    while clock.now < end { usleep(100_000) }
}

@Suite("AMQP heartbeats", .serialized)
struct AMQPHeartbeatTests {
    @Test func theBrokerKeepsShortProposalsAndLowersLongOnes() throws {
        // rabbitmq-c answers connection.tune with the smaller of the two values (the broker adopts
        // what the client answers): a short heartbeat for tests is kept as is, and a proposal above
        // the broker's (like the 600 s workers used to propose) becomes the broker's 60 s.
        for (proposed, expected) in [(1, 1), (2, 2), (60, 60), (600, 60)] {
            let amqp = try AMQPConnection(url: try amqpURL(), heartbeatSeconds: proposed)
            #expect(amqp.heartbeatSeconds == expected, "proposed \(proposed) s")
            amqp.close()
        }
    }

    @Test func aBusyConnectionOutlivesSeveralHeartbeats() throws {
        // Six seconds without a single call on a 1 s heartbeat: the broker closes a silent client
        // after two to three intervals, and rabbitmq-c's own receive deadline (2 × heartbeat after
        // its last read) passes too. The connection must come back usable: it consumes, publishes
        // with a confirm, and the broker never lost its consumer.
        let url = try amqpURL()
        let amqp = try AMQPConnection(url: url, heartbeatSeconds: 1)
        defer { amqp.close() }
        #expect(amqp.heartbeatSeconds == 1)
        let q = uniqueName("busy")
        try amqp.declareQueue(q, durable: false)
        let observer = try AMQPConnection(url: url)
        defer {
            try? observer.deleteQueue(q)
            observer.close()
        }
        try amqp.enableConfirms()
        try amqp.setPrefetch(1)
        try amqp.consume(queue: q)
        // A message already waiting in the socket when the owner comes back.
        try observer.publish(exchange: "", routingKey: q, body: Array("before".utf8))

        busy(seconds: 6)

        // The broker still has the consumer (it would have dropped it with the connection)...
        let (_, consumers) = try observer.declareQueue(q, durable: false)
        #expect(consumers == 1)
        #expect(amqp.heartbeatFramesSent >= 4, "the heartbeat thread should have written while the owner was busy")
        // ...and the connection works in both directions.
        let first = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(first.body == Array("before".utf8))
        try amqp.ack(first.deliveryTag)
        try amqp.publish(exchange: "", routingKey: q, body: Array("after".utf8))
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
        let second = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(second.body == Array("after".utf8))
        try amqp.ack(second.deliveryTag)
        #expect(amqp.isOpen)
    }

    @Test func heartbeatsInterleaveSafelyWithTraffic() throws {
        // Bursts of publishes and consumes separated by pauses longer than half the heartbeat, so
        // the heartbeat thread writes between (and contends with) the owner's calls. A frame
        // written into the middle of another would make the broker close the connection (501).
        let url = try amqpURL()
        let amqp = try AMQPConnection(url: url, heartbeatSeconds: 1)
        defer { amqp.close() }
        let q = uniqueName("interleave")
        try amqp.declareQueue(q, durable: false)
        defer { try? amqp.deleteQueue(q) }
        try amqp.enableConfirms()
        try amqp.setPrefetch(50)
        try amqp.consume(queue: q)
        var received = Set<String>()
        let rounds = 6, perRound = 1500
        for round in 0..<rounds {
            for i in 0..<perRound {
                try amqp.publish(exchange: "", routingKey: q, body: Array("r\(round)-\(i)-".utf8) + [UInt8](repeating: 0x61, count: i % 700))
                if amqp.outstandingConfirms >= 200 { try amqp.waitForConfirms(untilOutstandingAtMost: 100, timeoutSeconds: 30) }
            }
            try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 30)
            busy(seconds: 0.7)
            while received.count < (round + 1) * perRound {
                guard let d = try amqp.nextDelivery(timeoutSeconds: 10) else {
                    Issue.record("round \(round): only \(received.count) deliveries"); return
                }
                let text = String(decoding: d.body.prefix { $0 != 0x61 }, as: UTF8.self)
                received.insert(text)
                #expect(d.body.count == text.utf8.count + (Int(text.split(separator: "-")[1])! % 700))
                try amqp.ack(d.deliveryTag)
            }
            busy(seconds: 0.7)
        }
        #expect(received.count == rounds * perRound)
        #expect(amqp.heartbeatFramesSent >= rounds)
        #expect(amqp.isOpen)
    }

    @Test func closeStopsTheHeartbeatThread() throws {
        let amqp = try AMQPConnection(url: try amqpURL(), heartbeatSeconds: 1)
        busy(seconds: 1.2)
        let sent = amqp.heartbeatFramesSent
        #expect(sent >= 1)
        amqp.close()
        // A thread still running would write to a destroyed rabbitmq-c connection (a crash).
        busy(seconds: 1.5)
        #expect(amqp.heartbeatFramesSent == sent)
        #expect(!amqp.isOpen)
    }
}
