import ArgumentParser
import Foundation
import RegistrarCore

/// `registrar projects …` (through the API; docs/catalog.md), `--json` on each.
struct ProjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projects", abstract: "Manage projects, their datasets and collaborators (through the API).",
        subcommands: [Create.self, List.self, Get.self, Update.self, Delete.self, Datasets.self, Members.self, Tags.self,
                      Stages.self, Workflow.self])
    static let fields = ["id", "title", "ontologyId", "datasetIds", "tags", "memberCount", "groupCount"]

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project (only a title is required); you become its ADMIN.")
        @Option(name: .customLong("title"), help: "The project's title (required; or give it as the argument).") var titleOption: String?
        @Argument(help: "The project's title (same as --title).") var titleArgument: String?
        @Option(help: "A description.") var description: String?
        @Option(name: .customLong("tag"), help: "A workspace tag (repeat for several).") var tags: [String] = []
        @Option(help: "The ontology's id.") var ontology: String?
        @Option(name: .customLong("dataset"), help: "A dataset's id (repeat for several).") var datasets: [String] = []
        @Option(help: "A file holding the workflow graph JSON ({\"graphNodes\": [...]}); default: the standard workflow.") var workflowFile: String?
        @Option(help: "Start from this workflow template's graph (registrar templates list); not with --workflow-file.") var template: String?
        @Flag(help: "Print JSON.") var json = false
        func validate() throws {
            if template != nil && workflowFile != nil { throw ValidationError("give --template or --workflow-file, not both") }
            if titleOption == nil && titleArgument == nil { throw ValidationError("give the project's title: --title T") }
            if titleOption != nil && titleArgument != nil { throw ValidationError("give the title once: --title T or as the argument") }
        }

        func run() throws {
            let title = titleOption ?? titleArgument ?? ""
            var workflow: JSONValue?
            if let workflowFile {
                guard let data = FileManager.default.contents(atPath: workflowFile), let value = JSONValue.parse(Array(data)) else {
                    throw CommandFailure("--workflow-file: \(workflowFile) is not a readable JSON file")
                }
                workflow = value
            }
            let p = try catalogAPI().call("POST", "/v1/projects", json: jsonBody([
                ("title", .string(title)), ("description", description.map(JSONValue.string)),
                ("tags", tags.isEmpty ? nil : .array(tags.map(JSONValue.string))), ("ontologyId", ontology.map(JSONValue.string)),
                ("datasetIds", datasets.isEmpty ? nil : .array(datasets.map(JSONValue.string))), ("workflow", workflow),
                ("workflowTemplateId", template.map(JSONValue.string)),
            ]))
            printObject(p, json: json, ProjectsCommand.fields)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the projects you may see.")
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws { try catalogAPI().forEachItem("/v1/projects") { printObject($0, json: json, ProjectsCommand.fields) } }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project.")
        @Argument(help: "The project's id.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws { printObject(try catalogAPI().call("GET", "/v1/projects/\(id)"), json: json, ProjectsCommand.fields) }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a project's title, description, tags or ontology (project ADMIN).")
        @Argument(help: "The project's id.") var id: String
        @Option(help: "A new title.") var title: String?
        @Option(help: "A new description.") var description: String?
        @Option(name: .customLong("tag"), help: "The project's tags (repeat; replaces the list).") var tags: [String] = []
        @Flag(help: "Remove every tag.") var clearTags = false
        @Option(help: "Switch to this ontology.") var ontology: String?
        @Flag(help: "Detach the ontology.") var noOntology = false
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let tagList: JSONValue? = clearTags ? .array([]) : tags.isEmpty ? nil : .array(tags.map(JSONValue.string))
            let ontologyValue: JSONValue? = noOntology ? .null : ontology.map(JSONValue.string)
            let p = try catalogAPI().call("PATCH", "/v1/projects/\(id)", json: jsonBody([
                ("title", title.map(JSONValue.string)), ("description", description.map(JSONValue.string)), ("tags", tagList), ("ontologyId", ontologyValue),
            ]))
            printObject(p, json: json, ProjectsCommand.fields)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a project (project ADMIN).")
        @Argument(help: "The project's id.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            try catalogAPI().call("DELETE", "/v1/projects/\(id)")
            print(json ? jsonBody([("deleted", .string(id))]) : "deleted \(id)")
        }
    }

    /// `projects datasets add|remove`.
    struct Datasets: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "datasets", abstract: "Attach or detach datasets (project ADMIN).",
                                                        subcommands: [Add.self, Remove.self])
        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Attach datasets to a project.")
            @Argument(help: "The project's id.") var project: String
            @Argument(help: "Dataset ids.") var datasets: [String]
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                let p = try catalogAPI().call("POST", "/v1/projects/\(project)/datasets",
                                              json: jsonBody([("datasetIds", .array(datasets.map(JSONValue.string)))]))
                printObject(p, json: json, ProjectsCommand.fields)
            }
        }
        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Detach a dataset from a project.")
            @Argument(help: "The project's id.") var project: String
            @Argument(help: "The dataset's id.") var dataset: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                try catalogAPI().call("DELETE", "/v1/projects/\(project)/datasets/\(dataset)")
                print(json ? jsonBody([("detached", .string(dataset))]) : "detached \(dataset)")
            }
        }
    }

    /// `projects members add|list|update|remove`.
    struct Members: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "members", abstract: "Manage a project's collaborators.",
                                                        subcommands: [Add.self, List.self, Update.self, Remove.self])
        static let fields = ["id", "role", "email", "groupName"]
        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a user (--email) or a group (--group) with a role.")
            @Argument(help: "The project's id.") var project: String
            @Option(help: "The user's email.") var email: String?
            @Option(help: "The group's id.") var group: String?
            @Option(help: "ADMIN, TEAM_MANAGER, REVIEWER, ANNOTATOR, ANNOTATOR_REVIEWER or VIEWER (or Encord's 0-5).") var role: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                guard (email == nil) != (group == nil) else { throw CommandFailure("give exactly one of --email and --group") }
                let m = try catalogAPI().call("POST", "/v1/projects/\(project)/members", json: jsonBody([
                    ("email", email.map(JSONValue.string)), ("groupId", group.map(JSONValue.string)), ("role", .string(role)),
                ]))
                printObject(m, json: json, Members.fields)
            }
        }
        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a project's collaborators.")
            @Argument(help: "The project's id.") var project: String
            @Flag(help: "One JSON object per line.") var json = false
            func run() throws { try catalogAPI().forEachItem("/v1/projects/\(project)/members") { printObject($0, json: json, Members.fields) } }
        }
        struct Update: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Change a collaborator's role.")
            @Argument(help: "The project's id.") var project: String
            @Argument(help: "The collaborator's id (from `members list`).") var member: String
            @Option(help: "The new role.") var role: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                let m = try catalogAPI().call("PATCH", "/v1/projects/\(project)/members/\(member)", json: jsonBody([("role", .string(role))]))
                printObject(m, json: json, Members.fields)
            }
        }
        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a collaborator.")
            @Argument(help: "The project's id.") var project: String
            @Argument(help: "The collaborator's id.") var member: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                try catalogAPI().call("DELETE", "/v1/projects/\(project)/members/\(member)")
                print(json ? jsonBody([("removed", .string(member))]) : "removed \(member)")
            }
        }
    }

    /// `projects tags add|list|remove`: the workspace's tag list projects pick from.
    struct Tags: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tags", abstract: "Manage the workspace's project tags (workspace admins).",
                                                        subcommands: [Add.self, List.self, Remove.self])
        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a tag to the workspace's list.")
            @Argument(help: "The tag.") var name: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws { printObject(try catalogAPI().call("POST", "/v1/tags", json: jsonBody([("name", .string(name))])), json: json, ["name"]) }
        }
        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the workspace's tags.")
            @Flag(help: "One JSON object per line.") var json = false
            func run() throws { try catalogAPI().forEachItem("/v1/tags") { printObject($0, json: json, ["name"]) } }
        }
        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a tag (projects lose it).")
            @Argument(help: "The tag.") var name: String
            @Flag(help: "Print JSON.") var json = false
            func run() throws {
                let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
                try catalogAPI().call("DELETE", "/v1/tags/\(escaped)")
                print(json ? jsonBody([("deleted", .string(name))]) : "deleted \(name)")
            }
        }
    }
}
