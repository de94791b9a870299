import Foundation
import RegistrarRabbitMQ
import RegistrarRuntime
import Testing

extension LiveServers {
/// Webhooks on the real servers with real `registrar` processes (docs/workflows.md,
/// "Webhooks"): a loopback receiver that verifies every signature; tasks arriving at an Agent
/// stage, submitted at Annotate and completed produce events; the receiver is down for 30 s
/// mid-run, then back: every event is delivered, none lost, repeats only with the same uid;
/// webhook URLs into private address space are refused.
@Suite(.serialized) struct WebhookLiveTests {
    let tasks = TaskLiveTests()

    /// The python receiver (Support/webhook_receiver.py) on `port`, ready when it answers.
    final class Receiver {
        let port: Int
        let secrets: URL
        let log: URL
        var process: Process?

        init(dir: URL) throws {
            port = try APIHarness.freePort()
            secrets = dir.appendingPathComponent("webhook-secrets.json")
            log = dir.appendingPathComponent("webhook-receiver.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
        }

        func start() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/webhook_receiver.py").path
            p.arguments = [script, String(port), secrets.path, log.path]
            try p.run()
            process = p
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if let r = try? HTTP.send("GET", "http://127.0.0.1:\(port)/ready", timeout: 2), r.status == 200 { return }
                usleep(100_000)
            }
            throw HarnessError("the webhook receiver did not start")
        }

        func stop() {
            // SIGKILL: the receiver vanishes at once, as a crashed one would.
            if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) }
            process?.waitUntilExit()
            process = nil
        }

        /// Every delivery received so far.
        func received() throws -> [[String: Any]] {
            try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
    }

    func waitUntil(_ what: String, timeout: Double, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try done() { return }
            usleep(200_000)
        }
        throw HarnessError("timed out waiting for \(what)")
    }

    @Test func eventsAreSignedAndDeliveredThroughAReceiverOutageAndPrivateURLsAreRefused() throws {
        let (h, api, key) = try tasks.setUp()
        let amqp = try AMQPWorkQueue(url: h.env.amqp, role: .worker(kinds: [WebhookDeliver.queues]))
        amqp.close()
        let purge = try AMQPConnection(url: h.env.amqp)
        for q in [WebhookDeliver.queues.work, WebhookDeliver.queues.dead] { _ = try purge.purgeQueue(q) }
        purge.close()

        let folder = try tasks.folderWithFiles(h, api, key: key, name: "units", n: 40)
        let ds = try tasks.post(api, "/v1/datasets", key: key, #"{"title": "Units"}"#, expect: 201).string("id")
        let pid = try tasks.post(api, "/v1/projects", key: key, #"{"title": "Hooks", "datasetIds": ["\#(ds)"]}"#, expect: 201).string("id")
        // START → Triage (AGENT: "annotate" → Annotate, "done" → Complete) → Annotate → Complete.
        // (The default workflow's START and Complete keep their uuids: a Complete stage is never deleted.)
        let current = try api.json("GET", "/v1/projects/\(pid)/workflow", key: key, expect: 200)["graphNodes"] as? [[String: Any]] ?? []
        let start = try #require(current.first { $0.string("nodeType") == "START" }).string("uuid")
        let complete = try #require(current.first { $0.string("nodeType") == "DONE" }).string("uuid")
        let (agent, annotate, toAnnotate, toDone) = (UUID().uuidString, UUID().uuidString, UUID().uuidString, UUID().uuidString)
        func s(_ u: String) -> String { u.lowercased() }
        let nodes: [[String: Any]] = [
            ["uuid": s(start), "nodeType": "START", "toNode": s(agent)],
            ["uuid": s(agent), "nodeType": "AGENT", "title": "Triage",
             "pathways": [["uuid": s(toAnnotate), "name": "annotate", "targetNode": s(annotate)], ["uuid": s(toDone), "name": "done", "targetNode": s(complete)]]],
            ["uuid": s(annotate), "nodeType": "ANNOTATION", "title": "Annotate", "toNode": s(complete)],
            ["uuid": s(complete), "nodeType": "DONE", "title": "Complete"],
        ]
        _ = try api.json("PUT", "/v1/projects/\(pid)/workflow", key: key, body: try JSONSerialization.data(withJSONObject: ["graphNodes": nodes]),
                         headers: TaskLiveTests.json, expect: 200)

        // Private address space is refused (the harness allows only 127.0.0.0/8); so are
        // stages without events and URLs that are not http(s).
        for (stage, url, code, says) in [("Triage", "http://10.0.0.1/hook", "destination_forbidden", "10.0.0.1"),
                                          ("Triage", "http://169.254.169.254/latest/meta-data", "destination_forbidden", "169.254.169.254"),
                                          ("Triage", "http://metadata.google.internal/x", "destination_forbidden", "metadata"),
                                          ("Triage", "ftp://127.0.0.1/x", "invalid_body", "http"),
                                          ("Nowhere", "http://127.0.0.1/x", "invalid_body", "no stage Nowhere")] {
            let r = try api.call("POST", "/v1/projects/\(pid)/webhooks", key: key, body: Data(#"{"stage": "\#(stage)", "url": "\#(url)"}"#.utf8),
                                 headers: TaskLiveTests.json)
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(r.status == 422 && text.contains(code) && text.contains(says), "\(stage) \(url): \(r.status) \(text)")
        }

        let receiver = try Receiver(dir: h.workDir)
        var secrets: [String: String] = [:]
        var hooks: [String: String] = [:]
        for stage in ["Triage", "Annotate", "Complete"] {
            let made = try tasks.post(api, "/v1/projects/\(pid)/webhooks", key: key,
                                      #"{"stage": "\#(stage)", "url": "http://127.0.0.1:\#(receiver.port)/\#(stage)"}"#, expect: 201)
            #expect(made.string("secret").count == 64 && made.string("url").hasSuffix("/\(stage)"))
            secrets["/\(stage)"] = made.string("secret")
            hooks[stage] = made.string("id")
        }
        let listed = try api.json("GET", "/v1/projects/\(pid)/webhooks", key: key, expect: 200)
        #expect((listed["results"] as? [[String: Any]])?.count == 3)
        #expect(!(String(data: try JSONSerialization.data(withJSONObject: listed), encoding: .utf8) ?? "").contains(secrets["/Triage"]!),
                "the list never shows a secret")
        try JSONSerialization.data(withJSONObject: secrets).write(to: receiver.secrets)
        try receiver.start()
        defer { receiver.stop() }

        let workerEnv = ["REGISTRAR_WEBHOOK_BACKOFF_SECONDS": "1", "REGISTRAR_WEBHOOK_MAX_BACKOFF_SECONDS": "4", "REGISTRAR_WEBHOOK_MAX_ATTEMPTS": "60"]
        try h.startCoordinator(extraArgs: ["--webhook-dispatch-interval", "0.5"])
        try h.startWorker("w1", extraArgs: ["--kinds", "webhook-deliver"], extraEnv: workerEnv)
        let annotator = try tasks.collaborator(h, api, key: key, project: pid, email: "ann@x.io", role: "ANNOTATOR")

        // 40 tasks arrive at Triage (one coalesced agent event).
        try tasks.addUnits(h, dataset: ds, folder: folder)
        let all = try tasks.allTasks(api, key: key, project: pid, stage: "Triage").map { $0.string("uuid") }
        #expect(all.count == 40)
        func route(_ ids: ArraySlice<String>, _ pathway: String) throws {
            let r = try tasks.act(api, key: key, project: pid, stage: "Triage", ids.map { ["taskUuid": $0, "action": "PATHWAY_ACTION", "pathwayName": pathway] })
            #expect(r.allSatisfy { $0["ok"] as? Bool == true })
        }
        func submit(_ ids: [String]) throws {
            let a = try tasks.act(api, key: annotator, project: pid, stage: "Annotate", ids.map { ["taskUuid": $0, "action": "ASSIGN", "assignee": "ann@x.io"] })
            #expect(a.allSatisfy { $0["ok"] as? Bool == true })
            let b = try tasks.act(api, key: annotator, project: pid, stage: "Annotate", ids.map { ["taskUuid": $0, "action": "SUBMIT"] })
            #expect(b.allSatisfy { $0["ok"] as? Bool == true })
        }
        let undelivered = "SELECT count(*) FROM webhook_events WHERE state <> 'delivered'"

        // First half with the receiver up.
        try route(all[0..<10], "done")
        try route(all[10..<20], "annotate")
        try submit(Array(all[10..<15]))
        try waitUntil("the first events", timeout: 60) { try h.count(undelivered) == 0 }
        #expect(try h.count("SELECT count(*) FROM webhook_attempts WHERE error IS NOT NULL") == 0)

        // The receiver goes down for 30 s while the second half happens.
        receiver.stop()
        try route(all[20..<30], "done")
        try route(all[30..<40], "annotate")
        try submit(Array(all[15..<20]) + Array(all[30..<40]))
        Thread.sleep(forTimeInterval: 30)
        let failedDuringOutage = try h.count("SELECT count(*) FROM webhook_attempts WHERE error IS NOT NULL")
        try receiver.start()
        try waitUntil("every event delivered after the outage", timeout: 60) { try h.count(undelivered) == 0 }

        // Exactly the expected events, each delivered, none dead.
        #expect(try h.count("SELECT count(*) FROM webhook_events WHERE event_type = 'task_submitted_event'") == 20)
        #expect(try h.count("SELECT count(*) FROM webhook_events WHERE event_type = 'task_completed_event'") == 40)
        #expect(try h.count("SELECT count(DISTINCT payload::json->>'task_uuid') FROM webhook_events WHERE event_type = 'task_completed_event'") == 40)
        #expect(try h.count("SELECT count(*) FROM webhook_events WHERE event_type = 'agent_stage_work_available_event'") >= 1)
        #expect(failedDuringOutage > 0, "attempts failed while the receiver was down")

        let got = try receiver.received()
        #expect(got.allSatisfy { $0["valid"] as? Bool == true }, "every delivery carries a valid signature")
        let stored = try h.db.query("SELECT uid::text FROM webhook_events")
        let storedUIDs = Set((0..<stored.count).map { stored[row: $0, column: 0]! })
        var bodies: [String: Set<String>] = [:]
        for d in got { bodies[d.string("uid"), default: []].insert(d.string("body")) }
        #expect(Set(bodies.keys) == storedUIDs, "every event arrived, and nothing else")
        // A repeat (a redelivery) is the same event: same uid, type and creation time.
        let identities = bodies.values.map { texts in
            Set(texts.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .map { "\($0.string("uid"))|\($0.string("event_type"))|\($0.string("event_created_timestamp"))" })
        }
        #expect(identities.allSatisfy { $0.count == 1 }, "a repeat carries the same uid and event")
        let agentBody = try #require(got.first { $0.string("event_type") == "agent_stage_work_available_event" })
        let agentEvent = try #require(try JSONSerialization.jsonObject(with: Data(agentBody.string("body").utf8)) as? [String: Any])
        let payload = try #require(agentEvent["payload"] as? [String: Any])
        #expect(payload.string("stage_uuid") == s(agent) && payload["pending_count"] is Int && payload.string("project_hash") == pid)
        #expect(agentEvent.string("source") == "Encord" && agentEvent["version"] as? Int == 1)

        // The delivery log through the API: the Complete webhook's 40 events, delivered, some retried.
        let log = try api.json("GET", "/v1/projects/\(pid)/webhooks/\(hooks["Complete"]!)/deliveries?limit=1000", key: key, expect: 200)
        let rows = try #require(log["results"] as? [[String: Any]])
        #expect(rows.count == 40 && rows.allSatisfy { $0.string("status") == "delivered" && $0.int("attempts") >= 1 })
        #expect(try h.count("SELECT count(*) FROM webhook_events WHERE attempts > 1") > 0, "some events needed a retry")

        // The same through the command line.
        let env = ["REGISTRAR_API_URL": api.base, "REGISTRAR_API_KEY": key]
        let made = try h.run(["webhooks", "create", "--project", pid, "--stage", "Annotate", "--url", "http://127.0.0.1:\(receiver.port)/cli", "--json"], extraEnv: env)
        #expect(made.status == 0 && made.stdout.contains("\"secret\""), "\(made.stderr)")
        let refused = try h.run(["webhooks", "create", "--project", pid, "--stage", "Annotate", "--url", "http://10.0.0.1/x"], extraEnv: env)
        #expect(refused.status != 0 && refused.stderr.contains("10.0.0.1"), "\(refused.stderr)")
        let list = try h.run(["webhooks", "list", "--project", pid], extraEnv: env)
        #expect(list.status == 0 && list.stdout.split(separator: "\n").count == 4 && !list.stdout.contains(secrets["/Complete"]!))
        let shown = try h.run(["webhooks", "deliveries", "--project", pid, hooks["Complete"]!, "--limit", "1000"], extraEnv: env)
        #expect(shown.status == 0 && shown.stdout.split(separator: "\n").count == 40 && shown.stdout.contains("task_completed_event\tdelivered"))
        let redriven = try h.run(["webhooks", "redeliver", "--project", pid, hooks["Complete"]!], extraEnv: env)
        #expect(redriven.status == 0 && redriven.stdout.contains("requeued 0"), "nothing is dead")
        let deleted = try h.run(["webhooks", "delete", "--project", pid, hooks["Triage"]!], extraEnv: env)
        #expect(deleted.status == 0)
        #expect((try api.json("GET", "/v1/projects/\(pid)/webhooks", key: key, expect: 200)["results"] as? [[String: Any]])?.count == 3)
        #expect(try h.count("SELECT count(*) FROM webhook_events WHERE webhook_id = $1::uuid", [hooks["Triage"]!]) == 0)
    }
}
}
