import ArgumentParser
import Foundation
import RegistrarCore

/// `registrar webhooks …` (through the API; docs/workflows.md, "Webhooks"), `--json` on each.
struct WebhooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Add, list and delete a project's webhooks; read their delivery log; re-drive dead events (through the API).",
        subcommands: [Create.self, List.self, Deliveries.self, Redeliver.self, Delete.self])
    static let fields = ["id", "stageType", "eventType", "stage", "url", "createdAt"]

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a webhook on an Annotate, Complete (DONE) or Agent stage; prints its signing secret (shown only once).")
        @Option(help: "The project's id.") var project: String
        @Option(help: "The stage: its uuid or title.") var stage: String
        @Option(help: "The http(s) URL events are POSTed to.") var url: String
        @Flag(help: "The answer as JSON.") var json = false
        func run() throws {
            let made = try catalogAPI().call("POST", "/v1/projects/\(project)/webhooks", json: jsonBody([("stage", .string(stage)), ("url", .string(url))]))
            printObject(made, json: json, ["id", "secret"] + WebhooksCommand.fields.dropFirst())
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The project's webhooks (without secrets).")
        @Option(help: "The project's id.") var project: String
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws {
            let answer = try catalogAPI().call("GET", "/v1/projects/\(project)/webhooks")
            if case .array(let items)? = answer["results"] { items.forEach { printObject($0, json: json, WebhooksCommand.fields) } }
        }
    }

    struct Deliveries: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A webhook's events, newest first: uid, type, status, attempts, last error, delivered at.")
        @Option(help: "The project's id.") var project: String
        @Argument(help: "The webhook's id.") var webhook: String
        @Option(help: "Events to show (1 to 1000).") var limit = 100
        @Flag(help: "One JSON object per line (with every attempt).") var json = false
        func run() throws {
            let answer = try catalogAPI().call("GET", "/v1/projects/\(project)/webhooks/\(webhook)/deliveries", query: [("limit", String(limit))])
            if case .array(let items)? = answer["results"] {
                items.forEach { printObject($0, json: json, ["uid", "event_type", "status", "attempts", "last_error", "delivered_at"]) }
            }
        }
    }

    struct Redeliver: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a webhook's dead events pending again (same uids, a fresh retry budget).")
        @Option(help: "The project's id.") var project: String
        @Argument(help: "The webhook's id.") var webhook: String
        func run() throws {
            let answer = try catalogAPI().call("POST", "/v1/projects/\(project)/webhooks/\(webhook)/redeliver")
            print("requeued \(answer["requeued"]?.compactText ?? "0") dead event(s)")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a webhook with its events and delivery log.")
        @Option(help: "The project's id.") var project: String
        @Argument(help: "The webhook's id.") var webhook: String
        func run() throws {
            try catalogAPI().call("DELETE", "/v1/projects/\(project)/webhooks/\(webhook)")
            print("deleted \(webhook)")
        }
    }
}
