// Integration tests for AMQPConnection against a real RabbitMQ broker.
// REGISTRAR_AMQP_URL must be set (scripts/services up; eval "$(scripts/services env)"): the tests
// fail, not skip, without it. Every test declares its own uniquely named queues and exchanges and
// deletes them at the end.

import RegistrarRabbitMQ
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif


private func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) / 1e18
}

/// The URL with its user info replaced (for the bad-credentials test).
private func url(_ url: String, user: String, password: String) -> String {
    let scheme = "amqp://"
    var rest = Substring(url.dropFirst(scheme.count))
    let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    if let at = rest[..<hostEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
    return scheme + user + ":" + password + "@" + rest
}

/// A quorum work queue with a delivery limit, dead-lettering into `<name>.dead` through `<name>.dlx`
/// (the DESIGN §3 topology).
private struct Topology {
    let queue: String
    let dlx: String
    let dead: String

    init(_ amqp: AMQPConnection, name: String, deliveryLimit: Int = 3) throws {
        queue = name
        dlx = name + ".dlx"
        dead = name + ".dead"
        try amqp.declareExchange(dlx, type: "direct", durable: true)
        try amqp.declareQueue(dead, durable: true, arguments: ["x-queue-type": "quorum"])
        try amqp.bindQueue(dead, exchange: dlx, routingKey: dead)
        let (messages, consumers) = try amqp.declareQueue(queue, durable: true, arguments: [
            "x-queue-type": .string("quorum"),
            "x-delivery-limit": .int(deliveryLimit),
            "x-dead-letter-exchange": .string(dlx),
            "x-dead-letter-routing-key": .string(dead),
        ])
        #expect(messages == 0)
        #expect(consumers == 0)
    }

    func delete(_ amqp: AMQPConnection) {
        try? amqp.deleteQueue(queue)
        try? amqp.deleteQueue(dead)
    }
}

/// Polls until `body` is true or `timeout` passes (for broker-side effects that lag, like DLX).
private func eventually(timeout: Double = 10, _ body: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(Int(timeout * 1000))
    while clock.now < deadline {
        if try body() { return true }
        usleep(50_000)
    }
    return try body()
}

@Suite("AMQPConnection", .serialized)
struct AMQPConnectionTests {
    @Test func quorumQueue20kWindowedConfirmsAndManualAcks() throws {
        let url = try amqpURL()
        let admin = try AMQPConnection(url: url)
        defer { admin.close() }
        let topo = try Topology(admin, name: uniqueName("bulk"))
        defer { topo.delete(admin) }

        // Publish 20k with a 1000-message confirm window.
        let n = 20_000
        let window = 1000
        let publisher = try AMQPConnection(url: url)
        defer { publisher.close() }
        try publisher.enableConfirms()
        let clock = ContinuousClock()
        let start = clock.now
        var lastSeq: UInt64 = 0
        for i in 0..<n {
            let seq = try publisher.publish(exchange: "", routingKey: topo.queue, body: Array("chunk-\(i)".utf8))
            #expect(seq == lastSeq + 1)
            lastSeq = seq
            if publisher.outstandingConfirms >= window {
                try publisher.waitForConfirms(untilOutstandingAtMost: window - 1, timeoutSeconds: 30)
            }
        }
        try publisher.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 30)
        let publishSeconds = seconds(clock.now - start)
        #expect(publisher.outstandingConfirms == 0)
        print("amqp publish: \(n) msgs, confirm window \(window): \(Int(publishSeconds * 1000)) ms = \(Int(Double(n) / publishSeconds)) msgs/s")
        #expect(try eventually { try admin.queueDepth(topo.queue) == n })

        // Consume with prefetch 100 and an ack per message.
        let consumer = try AMQPConnection(url: url)
        defer { consumer.close() }
        try consumer.setPrefetch(100)
        let tag = try consumer.consume(queue: topo.queue)
        #expect(!tag.isEmpty)
        var seen = Set<String>()
        var deliveries = 0
        let consumeStart = clock.now
        while deliveries < n {
            guard let d = try consumer.nextDelivery(timeoutSeconds: 10) else {
                Issue.record("timed out after \(deliveries) deliveries")
                break
            }
            deliveries += 1
            seen.insert(String(decoding: d.body, as: UTF8.self))
            #expect(d.routingKey == topo.queue)
            #expect(d.exchange == "")
            #expect(!d.redelivered)
            try consumer.ack(d.deliveryTag)
        }
        let consumeSeconds = seconds(clock.now - consumeStart)
        print("amqp consume: \(deliveries) msgs, prefetch 100, ack each: \(Int(consumeSeconds * 1000)) ms = \(Int(Double(deliveries) / consumeSeconds)) msgs/s")
        #expect(deliveries == n)
        #expect(seen.count == n)
        #expect(seen.contains("chunk-0") && seen.contains("chunk-\(n - 1)"))
        #expect(try consumer.nextDelivery(timeoutSeconds: 0.3) == nil)
        try consumer.cancel(consumerTag: tag)
        #expect(try eventually { try admin.queueDepth(topo.queue) == 0 })
        #expect(try admin.queueDepth(topo.dead) == 0)
    }

    @Test func nackRequeueRedeliversThenDeadLettersAfterLimit() throws {
        let url = try amqpURL()
        let amqp = try AMQPConnection(url: url)
        defer { amqp.close() }
        let topo = try Topology(amqp, name: uniqueName("poison"), deliveryLimit: 3)
        defer { topo.delete(amqp) }
        try amqp.enableConfirms()
        try amqp.publish(exchange: "", routingKey: topo.queue, body: Array("poison".utf8))
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)

        try amqp.setPrefetch(10)
        try amqp.consume(queue: topo.queue)
        let first = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(!first.redelivered)
        #expect(first.deliveryCount == nil)
        #expect(first.body == Array("poison".utf8))
        try amqp.nack(first.deliveryTag, requeue: true)

        let second = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(second.redelivered)
        #expect(second.deliveryCount == 1)
        #expect(second.body == first.body)
        try amqp.nack(second.deliveryTag, requeue: true)

        // Keep failing it: with x-delivery-limit 3 it may be delivered 1 + 3 times, then it is dead.
        var counts = [first.deliveryCount, second.deliveryCount]
        while let d = try amqp.nextDelivery(timeoutSeconds: 1) {
            counts.append(d.deliveryCount)
            try amqp.nack(d.deliveryTag, requeue: true)
            if counts.count > 10 { break }
        }
        print("amqp delivery-count headers seen: \(counts.map { $0.map(String.init) ?? "nil" })")
        #expect(counts == [nil, 1, 2, 3])
        #expect(try eventually { try amqp.queueDepth(topo.dead) == 1 })
        #expect(try amqp.queueDepth(topo.queue) == 0)

        // The dead-lettered message is intact and routable to a dead-letter consumer.
        let deadReader = try AMQPConnection(url: url)
        defer { deadReader.close() }
        try deadReader.consume(queue: topo.dead)
        let dead = try #require(try deadReader.nextDelivery(timeoutSeconds: 5))
        #expect(dead.body == Array("poison".utf8))
        #expect(dead.exchange == topo.dlx)
        #expect(dead.routingKey == topo.dead)
        try deadReader.ack(dead.deliveryTag)
    }

    @Test func unackedDeliveriesComeBackAfterConsumerCloses() throws {
        let url = try amqpURL()
        let admin = try AMQPConnection(url: url)
        defer { admin.close() }
        let topo = try Topology(admin, name: uniqueName("unacked"), deliveryLimit: 5)
        defer { topo.delete(admin) }
        try admin.enableConfirms()
        for i in 0..<10 { try admin.publish(exchange: "", routingKey: topo.queue, body: Array("m\(i)".utf8)) }
        try admin.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)

        let crashing = try AMQPConnection(url: url)
        try crashing.setPrefetch(100)
        try crashing.consume(queue: topo.queue)
        var firstRound = Set<[UInt8]>()
        while firstRound.count < 10, let d = try crashing.nextDelivery(timeoutSeconds: 5) {
            #expect(!d.redelivered)
            firstRound.insert(d.body)  // never acked
        }
        #expect(firstRound.count == 10)
        crashing.close()  // the broker returns the 10 unacked deliveries to the queue

        let survivor = try AMQPConnection(url: url)
        defer { survivor.close() }
        try survivor.setPrefetch(100)
        try survivor.consume(queue: topo.queue)
        var secondRound = Set<[UInt8]>()
        while secondRound.count < 10, let d = try survivor.nextDelivery(timeoutSeconds: 5) {
            #expect(d.redelivered)
            #expect(d.deliveryCount == 1)
            secondRound.insert(d.body)
            try survivor.ack(d.deliveryTag)
        }
        #expect(secondRound == firstRound)
        #expect(try survivor.nextDelivery(timeoutSeconds: 0.2) == nil)
    }

    @Test func nextDeliveryTimeoutReturnsNilPromptly() throws {
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        let q = uniqueName("idle")
        try amqp.declareQueue(q, durable: false)
        defer { try? amqp.deleteQueue(q) }
        try amqp.consume(queue: q)
        let clock = ContinuousClock()
        var start = clock.now
        #expect(try amqp.nextDelivery(timeoutSeconds: 0.3) == nil)
        let waited = clock.now - start
        #expect(waited >= .milliseconds(290))
        #expect(waited < .milliseconds(800))
        start = clock.now
        #expect(try amqp.nextDelivery(timeoutSeconds: 0) == nil)
        #expect(clock.now - start < .milliseconds(100))
        // And a message published meanwhile arrives without waiting the full timeout.
        try amqp.publish(exchange: "", routingKey: q, body: [0, 1, 2, 255])
        start = clock.now
        let d = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(clock.now - start < .seconds(1))
        #expect(d.body == [0, 1, 2, 255])
        try amqp.ack(d.deliveryTag)
    }

    @Test func badCredentialsThrowWithoutThePassword() throws {
        let secret = "wr0ng-Pa55-\(UInt32.random(in: 0...UInt32.max))"
        let bad = url(try amqpURL(), user: "guest", password: secret)
        do {
            _ = try AMQPConnection(url: bad, connectTimeoutSeconds: 5)
            Issue.record("login with a wrong password should fail")
        } catch let e as AMQPError {
            print("amqp bad credentials: \(e)")
            #expect(e.kind == .authenticationFailed)
            #expect(!e.description.contains(secret))
        }
        let unknownUser = url(try amqpURL(), user: "nobody-\(secret)x", password: secret)
        do {
            _ = try AMQPConnection(url: unknownUser)
            Issue.record("login as an unknown user should fail")
        } catch let e as AMQPError {
            #expect(e.kind == .authenticationFailed)
            #expect(!e.description.contains(secret + "@"))
            #expect(!e.description.contains(":" + secret))
        }
    }

    @Test func badPortAndBadURLThrow() throws {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try AMQPConnection(url: "amqp://guest:guest@127.0.0.1:1/%2F", connectTimeoutSeconds: 2)
            Issue.record("connect to a closed port should fail")
        } catch let e as AMQPError {
            #expect(e.kind == .connectionFailed)
            #expect(!e.description.contains("guest:guest"))
        }
        #expect(clock.now - start < .seconds(3))
        #expect(throws: AMQPError.self) { _ = try AMQPConnection(url: "http://127.0.0.1:5672") }
        #expect(throws: AMQPError.self) { _ = try AMQPConnection(url: "amqp://127.0.0.1:99999/") }
    }

    @Test func brokerNacksAreReportedWithSequenceNumbers() throws {
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        let q = uniqueName("full")
        // A queue that holds one message and refuses more: the broker nacks the overflow.
        try amqp.declareQueue(q, durable: true, arguments: ["x-max-length": 1, "x-overflow": "reject-publish"])
        defer { try? amqp.deleteQueue(q) }
        try amqp.enableConfirms()
        var seqs: [UInt64] = []
        for i in 0..<3 { seqs.append(try amqp.publish(exchange: "", routingKey: q, body: [UInt8(i)])) }
        #expect(seqs == [1, 2, 3])
        do {
            try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
            Issue.record("publishes beyond x-max-length should be nacked")
        } catch let e as AMQPError {
            #expect(e.kind == .nacked)
            #expect(e.nackedSequenceNumbers == [2, 3])
        }
        #expect(amqp.outstandingConfirms == 0)
        // The connection is still fine.
        try amqp.purgeQueue(q)
        #expect(try amqp.publish(exchange: "", routingKey: q, body: [9]) == 4)
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
        #expect(try amqp.queueDepth(q) == 1)
        #expect(try amqp.purgeQueue(q) == 1)
    }

    @Test func unroutableMandatoryPublishIsReported() throws {
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        try amqp.enableConfirms()
        let nowhere = uniqueName("nowhere")
        try amqp.publish(exchange: "", routingKey: nowhere, body: [1], mandatory: true)
        do {
            try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
            Issue.record("an unroutable mandatory publish should be reported")
        } catch let e as AMQPError {
            #expect(e.kind == .returned)
            #expect(e.returnedRoutingKeys == [nowhere])
        }
        // Without mandatory the broker drops it silently and acks.
        try amqp.publish(exchange: "", routingKey: nowhere, body: [1])
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
    }

    @Test func missingQueueIsNotFoundAndConnectionSurvives() throws {
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        let q = uniqueName("missing")
        do {
            _ = try amqp.queueDepth(q)
            Issue.record("queueDepth of a missing queue should throw")
        } catch let e as AMQPError {
            #expect(e.kind == .channelClosed)
            #expect(e.isNotFound)
        }
        // Topology channel reopened; data channel untouched.
        try amqp.declareQueue(q, durable: false)
        defer { try? amqp.deleteQueue(q) }
        #expect(try amqp.queueDepth(q) == 0)
        try amqp.enableConfirms()
        try amqp.publish(exchange: "", routingKey: q, body: [1])
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
        #expect(try eventually { try amqp.queueDepth(q) == 1 })
        // Redeclaring with conflicting arguments is a 406 on the topology channel.
        do {
            try amqp.declareQueue(q, durable: true, arguments: ["x-queue-type": "quorum"])
            Issue.record("redeclaring with other arguments should fail")
        } catch let e as AMQPError {
            #expect(e.replyCode == 406)
        }
        #expect(try amqp.queueDepth(q) == 1)
    }

    @Test func publishAndConsumeOnOneConnection() throws {
        // Deliveries that arrive while waitForConfirms reads acks are kept for nextDelivery, and
        // acks that arrive while nextDelivery waits still settle the confirms.
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        let q = uniqueName("loop")
        try amqp.declareQueue(q, durable: true, arguments: ["x-queue-type": "quorum"])
        defer { try? amqp.deleteQueue(q) }
        try amqp.enableConfirms()
        try amqp.setPrefetch(500)
        try amqp.consume(queue: q)
        let n = 2000
        for i in 0..<n { try amqp.publish(exchange: "", routingKey: q, body: Array("\(i)".utf8)) }
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 30)
        var got = Set<String>()
        while got.count < n, let d = try amqp.nextDelivery(timeoutSeconds: 5) {
            got.insert(String(decoding: d.body, as: UTF8.self))
            try amqp.ack(d.deliveryTag)
        }
        #expect(got.count == n)
        for i in 0..<10 { try amqp.publish(exchange: "", routingKey: q, body: Array("again-\(i)".utf8)) }
        var again = 0
        while again < 10, let d = try amqp.nextDelivery(timeoutSeconds: 5) {
            again += 1
            try amqp.ack(d.deliveryTag)
        }
        #expect(again == 10)
        _ = try amqp.nextDelivery(timeoutSeconds: 0.2)  // reads any remaining acks
        try amqp.waitForConfirms(untilOutstandingAtMost: 0, timeoutSeconds: 10)
        #expect(amqp.outstandingConfirms == 0)
    }

    @Test func heartbeatsKeepAnIdleConsumerAlive() throws {
        // With a 1 s heartbeat the broker drops a silent client after ~2-3 s; calling nextDelivery
        // regularly keeps the connection open well past that.
        let amqp = try AMQPConnection(url: try amqpURL(), heartbeatSeconds: 1)
        defer { amqp.close() }
        let q = uniqueName("heartbeat")
        try amqp.declareQueue(q, durable: false)
        defer { try? amqp.deleteQueue(q) }
        try amqp.consume(queue: q)
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(4) {
            #expect(try amqp.nextDelivery(timeoutSeconds: 0.7) == nil)
        }
        try amqp.publish(exchange: "", routingKey: q, body: [7])
        let d = try #require(try amqp.nextDelivery(timeoutSeconds: 5))
        #expect(d.body == [7])
        try amqp.ack(d.deliveryTag)
    }

    @Test func dataChannelErrorMakesConnectionUnusable() throws {
        let amqp = try AMQPConnection(url: try amqpURL())
        defer { amqp.close() }
        let q = uniqueName("badack")
        try amqp.declareQueue(q, durable: false)
        defer {
            if let cleanup = try? AMQPConnection(url: try amqpURL()) { try? cleanup.deleteQueue(q); cleanup.close() }
        }
        try amqp.consume(queue: q)
        try amqp.ack(424242)  // unknown delivery tag: the broker closes channel 1 (406)
        do {
            _ = try amqp.nextDelivery(timeoutSeconds: 5)
            Issue.record("the broker should have closed the channel")
        } catch let e as AMQPError {
            #expect(e.kind == .channelClosed)
            #expect(e.replyCode == 406)
        }
        #expect(!amqp.isOpen)
        do {
            _ = try amqp.nextDelivery(timeoutSeconds: 0)
            Issue.record("an unusable connection should throw")
        } catch let e as AMQPError {
            #expect(e.kind == .connectionClosed)
        }
    }
}
