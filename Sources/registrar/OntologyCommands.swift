import ArgumentParser
import Foundation
import RegistrarCore

/// `registrar ontologies …` (docs/ontologies.md): through the HTTP API (REGISTRAR_API_URL +
/// REGISTRAR_API_KEY), except `validate`, which checks a structure file offline.
struct OntologiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ontologies",
        abstract: "Create, list, show, change and delete ontologies; validate a structure file offline.",
        discussion: """
        Every command but `validate` speaks the HTTP API: set REGISTRAR_API_URL and REGISTRAR_API_KEY. \
        Exit status: 0 ok, 1 when the API or the validator says no (invalid structure, not found, in use), 2 on usage errors.
        """,
        subcommands: [OntologyValidateCommand.self, OntologyCreateCommand.self, OntologyListCommand.self, OntologyGetCommand.self,
                      OntologyUpdateCommand.self, OntologyDeleteCommand.self]
    )
}

/// Shared pieces of the ontology commands.
enum OntologyCLI {
    static func client() throws -> APIClient { try catalogAPI() }

    /// A structure file's bytes (`-`: standard input).
    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
        return Array(data)
    }

    /// Checks a structure offline; prints every issue (`path: rule`) to standard error and
    /// exits 1 when there is any. Returns the parsed (not normalised) structure: the server mints.
    static func checked(_ bytes: [UInt8], source: String) throws -> JSONValue {
        let result = OntologyStructure.normalize(text: bytes)
        guard result.isValid, let value = JSONValue.parse(bytes) else {
            printIssues(result.issues, omitted: result.omitted, source: source)
            throw ExitCode(1)
        }
        return value
    }

    static func printIssues(_ issues: [OntologyIssue], omitted: Int, source: String) {
        printError("\(source): invalid ontology structure (\(issues.count + omitted) problem\(issues.count + omitted == 1 ? "" : "s")):")
        for issue in issues { printError("  \(issue)") }
        if omitted > 0 { printError("  … and \(omitted) more") }
    }

    /// Calls the API; an `invalid_structure` or `feature_in_use` answer prints each listed path.
    static func call(_ api: APIClient, _ method: String, _ path: String, json: String? = nil) throws -> JSONValue {
        let (status, data) = try api.raw(method, path, json: json)
        let value = JSONValue.parse(data)
        guard (200..<300).contains(status) else {
            let error = value?["error"]
            let code = error?["code"]?.stringValue ?? "http_\(status)"
            printError("\(error?["message"]?.stringValue ?? String(decoding: data.prefix(200), as: UTF8.self)) (\(code), HTTP \(status))")
            if case .array(let issues)? = error?["details"]?["errors"] {
                for i in issues { printError("  \(i["path"]?.stringValue ?? "?"): \(i["message"]?.stringValue ?? "")") }
            }
            throw ExitCode(1)
        }
        return value ?? .null
    }

    /// The human summary of an ontology answer.
    static func summary(_ o: JSONValue) -> String {
        var lines = ["id           \(o["id"]?.stringValue ?? "?")", "title        \(o["title"]?.stringValue ?? "")"]
        if let d = o["description"]?.stringValue { lines.append("description  \(d)") }
        lines.append("version      \(o["version"]?.intValue ?? 0)")
        if case .array(let objects)? = o["structure"]?["objects"] {
            lines.append("objects      " + objects.map { "\($0["name"]?.stringValue ?? "?") (\($0["shape"]?.stringValue ?? "?"))" }.joined(separator: ", "))
        }
        if case .array(let classes)? = o["structure"]?["classifications"] {
            lines.append("classifications " + classes.map { c -> String in
                if case .array(let a)? = c["attributes"], let first = a.first { return first["name"]?.stringValue ?? "?" }
                return "?"
            }.joined(separator: ", "))
        }
        lines.append("updated      \(o["updatedAt"]?.stringValue ?? "")")
        return lines.joined(separator: "\n")
    }

    static func body(title: String?, description: String?, structure: JSONValue?) -> String {
        var members: [(key: String, value: JSONValue)] = []
        if let title { members.append(("title", .string(title))) }
        if let description { members.append(("description", .string(description))) }
        if let structure { members.append(("structure", structure)) }
        return JSONValue.object(members).compactText
    }
}

/// `ontologies validate FILE`: offline, with the same rules as the API.
struct OntologyValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an ontology structure file offline; print every problem with its JSON path (exit 1 when invalid).")
    @Argument(help: "The structure JSON file (`-`: standard input).") var file: String
    @Flag(help: "Print {\"valid\", \"errors\": [{path, message}], \"structure\"} (the normalised structure, or null).") var json = false

    func run() throws {
        let result = OntologyStructure.normalize(text: try OntologyCLI.read(file))
        if json {
            print(JSONValue.object([
                ("valid", .bool(result.isValid)),
                ("errors", .array(result.issues.map { .object([("path", .string($0.path)), ("message", .string($0.message))]) })),
                ("omitted", .number(String(result.omitted))), ("structure", result.structure ?? .null),
            ]).compactText)
        } else if let s = result.structure {
            var objects = 0, classifications = 0
            if case .array(let o)? = s["objects"] { objects = o.count }
            if case .array(let c)? = s["classifications"] { classifications = c.count }
            print("\(file): valid (\(objects) object\(objects == 1 ? "" : "s"), \(classifications) classification\(classifications == 1 ? "" : "s"))")
        } else {
            OntologyCLI.printIssues(result.issues, omitted: result.omitted, source: file)
        }
        if !result.isValid { throw ExitCode(1) }
    }
}

/// `ontologies create --title T [--description D] --structure FILE|-`.
struct OntologyCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an ontology (the structure is checked locally first).")
    @Option(help: "The ontology's title.") var title: String
    @Option(help: "A description.") var description: String?
    @Option(help: "The structure JSON file (`-`: standard input).") var structure: String
    @Flag(help: "Print the API's JSON answer.") var json = false

    func run() throws {
        let api = try OntologyCLI.client()
        let value = try OntologyCLI.checked(try OntologyCLI.read(structure), source: structure)
        let o = try OntologyCLI.call(api, "POST", "/v1/ontologies", json: OntologyCLI.body(title: title, description: description, structure: value))
        print(json ? o.compactText : (o["id"]?.stringValue ?? ""))
    }
}

/// `ontologies list`.
struct OntologyListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the workspace's ontologies, oldest first.")
    @Flag(help: "One JSON object per line (the API's list items).") var json = false

    func run() throws {
        let api = try OntologyCLI.client()
        var any = false
        try api.forEachItem("/v1/ontologies") { o in
            any = true
            if json {
                print(o.compactText)
            } else {
                print("\(o["id"]?.stringValue ?? "?")  v\(o["version"]?.intValue ?? 0)  \(o["objectCount"]?.intValue ?? 0) objects, "
                      + "\(o["classificationCount"]?.intValue ?? 0) classifications  \(o["title"]?.stringValue ?? "")")
            }
        }
        if !any && !json { print("no ontologies") }
    }
}

/// `ontologies get ID`.
struct OntologyGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show an ontology (--json: with its structure, exactly as stored).")
    @Argument(help: "The ontology id.") var id: String
    @Flag(help: "Print the API's JSON answer.") var json = false

    func run() throws {
        let o = try OntologyCLI.call(try OntologyCLI.client(), "GET", "/v1/ontologies/\(id)")
        print(json ? o.compactText : OntologyCLI.summary(o))
    }
}

/// `ontologies update ID [--title T] [--description D] [--structure FILE|-]`.
struct OntologyUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change an ontology's title, description or structure (the version rises by one).",
        discussion: "While a project uses the ontology, removing or retyping a feature is refused: archive it instead (\"archived\": true).")
    @Argument(help: "The ontology id.") var id: String
    @Option(help: "A new title.") var title: String?
    @Option(help: "A new description.") var description: String?
    @Option(help: "A new structure JSON file (`-`: standard input).") var structure: String?
    @Flag(help: "Print the API's JSON answer.") var json = false

    func validate() throws {
        if title == nil && description == nil && structure == nil {
            throw ValidationError("give at least one of --title, --description, --structure")
        }
    }

    func run() throws {
        let api = try OntologyCLI.client()
        let value = try structure.map { try OntologyCLI.checked(try OntologyCLI.read($0), source: $0) }
        let o = try OntologyCLI.call(api, "PUT", "/v1/ontologies/\(id)",
                                     json: OntologyCLI.body(title: title, description: description, structure: value))
        print(json ? o.compactText : "ontology \(o["id"]?.stringValue ?? id) is now version \(o["version"]?.intValue ?? 0)")
    }
}

/// `ontologies delete ID`.
struct OntologyDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an ontology no project uses.")
    @Argument(help: "The ontology id.") var id: String
    @Flag(help: "Print {\"id\", \"deleted\": true}.") var json = false

    func run() throws {
        _ = try OntologyCLI.call(try OntologyCLI.client(), "DELETE", "/v1/ontologies/\(id)")
        print(json ? JSONValue.object([("id", .string(id)), ("deleted", .bool(true))]).compactText : "deleted ontology \(id)")
    }
}
