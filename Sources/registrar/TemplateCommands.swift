import ArgumentParser
import Foundation
import RegistrarCore

/// `registrar templates …`: workflow templates through the API (docs/workflows.md, "Templates").
struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates", abstract: "Manage workflow templates (through the API).",
        subcommands: [Create.self, List.self, Show.self, Delete.self])
    static let fields = ["id", "title", "description", "createdBy", "createdAt"]

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a workflow as a template: a project's (--project) or a graph file's (--file).")
        @Option(help: "The template's title (unique in the workspace).") var title: String
        @Option(help: "A description.") var description: String?
        @Option(help: "Save this project's workflow.") var project: String?
        @Option(help: "A file holding the graph JSON ({\"graphNodes\": [...]}).") var file: String?
        @Flag(help: "Print JSON.") var json = false
        func validate() throws {
            if (project == nil) == (file == nil) { throw ValidationError("give --project P or --file graph.json (one of them)") }
        }
        func run() throws {
            var nodes: JSONValue?
            if let file {
                guard let data = FileManager.default.contents(atPath: file), let value = JSONValue.parse(Array(data)), let list = value["graphNodes"] else {
                    throw CommandFailure("--file: \(file) is not a readable JSON file with graphNodes")
                }
                nodes = list
            }
            let t = try catalogAPI().call("POST", "/v1/workflow-templates", json: jsonBody([
                ("title", .string(title)), ("description", description.map(JSONValue.string)),
                ("projectId", project.map(JSONValue.string)), ("graphNodes", nodes),
            ]))
            printObject(t, json: json, TemplatesCommand.fields)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspace's workflow templates by title.")
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws { try catalogAPI().forEachItem("/v1/workflow-templates") { printObject($0, json: json, TemplatesCommand.fields) } }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a workflow template with its graph (JSON).")
        @Argument(help: "The template's id.") var id: String
        func run() throws { print(try catalogAPI().call("GET", "/v1/workflow-templates/\(id)").compactText) }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a workflow template (its creator or a workspace admin).")
        @Argument(help: "The template's id.") var id: String
        func run() throws {
            _ = try catalogAPI().call("DELETE", "/v1/workflow-templates/\(id)")
            print("deleted \(id)")
        }
    }
}
