import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarPostgres
import RegistrarRuntime

// `registrar users …`, `registrar groups …` and `keys create --user` (docs/catalog.md).
// `users add|list` are operator bootstrap commands: they work on the database (like `tenants
// add`) and go through the API instead when REGISTRAR_API_URL and REGISTRAR_API_KEY are set.
// `groups` speaks the API only.

/// Prints an API object: its JSON with `--json`, else the fields named, tab-separated.
func printObject(_ value: JSONValue, json: Bool, _ fields: [String]) {
    if json { print(value.compactText); return }
    print(fields.map { field -> String in
        switch value[field] {
        case .string(let s)?: s
        case .number(let n)?: n
        case .bool(let b)?: b ? "true" : "false"
        case .array(let items)?: items.map { $0.stringValue ?? $0.compactText }.joined(separator: ",")
        case nil, .null?: "-"
        case let other?: other.compactText
        }
    }.joined(separator: "\t"))
}

/// A JSON object body from the members given (nil values left out).
func jsonBody(_ members: [(String, JSONValue?)]) -> String {
    JSONValue.object(members.compactMap { key, value in value.map { (key, $0) } }).compactText
}

extension KeysCommand.Create {
    /// `keys create --user EMAIL [--tenant T]`: a key acting as that user.
    func createUserKey(_ registry: PostgresRegistry, email raw: String) throws {
        guard let email = EmailAddress.normalized(raw) else { throw CommandFailure("--user: \(raw) is not an email address") }
        var matches = try registry.usersByEmail(email)
        if let tenant {
            guard let tenantID = try registry.tenantID(name: tenant) else { throw CommandFailure("no tenant named \(tenant)") }
            matches = matches.filter { $0.tenantID == tenantID }
        }
        guard !matches.isEmpty else {
            throw CommandFailure("no user \(email)\(tenant.map { " in tenant \($0)" } ?? "") (add one with `registrar users add --tenant T --email \(email)`)")
        }
        guard matches.count == 1, let match = matches.first else {
            throw CommandFailure("\(email) is a user of several tenants (\(matches.map(\.tenantName).joined(separator: ", "))): say which with --tenant")
        }
        let key = APIKey.generate()
        let id = try registry.storeAPIKey(tenantID: match.tenantID, userID: match.userID, name: name, prefix: APIKey.displayPrefix(key),
                                          hash: APIKey.hash(key))
        print("key \(id) for user \(email) of tenant \(match.tenantName) (shown once; store it now):")
        print(key)
    }
}

/// `registrar users add|list`.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Manage a workspace's users.",
                                                    subcommands: [Add.self, List.self])
    static let fields = ["id", "email", "role", "name"]

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user to a tenant; prints its id, email, role and name.")
        @Option(help: "The tenant (the workspace); through the API, the key's tenant is used.") var tenant: String?
        @Option(help: "The user's email (stored lower-case).") var email: String
        @Option(help: "The user's name.") var name: String?
        @Option(help: "Workspace role: admin or member.") var role = "member"
        @Flag(help: "Print the user as JSON.") var json = false
        @OptionGroup var servers: ServerOptions

        func run() throws {
            guard let workspaceRole = WorkspaceRole(parsing: role) else { throw CommandFailure("--role must be admin or member") }
            guard let normalized = EmailAddress.normalized(email) else { throw CommandFailure("--email: \(email) is not an email address") }
            if let api = APIClient.fromEnvironment() {
                let user = try api.call("POST", "/v1/users", json: jsonBody([("email", .string(normalized)), ("name", name.map(JSONValue.string)),
                                                                           ("role", .string(workspaceRole.rawValue))]))
                return printObject(user, json: json, UsersCommand.fields)
            }
            guard let tenant else { throw CommandFailure("say which tenant with --tenant NAME (or set REGISTRAR_API_URL and REGISTRAR_API_KEY)") }
            let registry = try connectStore(servers)
            guard let tenantID = try registry.tenantID(name: tenant) else { throw CommandFailure("no tenant named \(tenant)") }
            do {
                let user = try registry.createUser(tenantID: tenantID, email: normalized, name: name, role: workspaceRole)
                printObject(JSONValue.parse(Array(user.utf8)) ?? .null, json: json, UsersCommand.fields)
            } catch AccessRefusal.conflict(let why) { throw CommandFailure(why) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (id, email, role, name).")
        @Option(help: "Only this tenant's users (on the database; through the API, the key's tenant).") var tenant: String?
        @Flag(help: "One JSON object per line.") var json = false
        @OptionGroup var servers: ServerOptions

        func run() throws {
            if let api = APIClient.fromEnvironment() {
                return try api.forEachItem("/v1/users") { printObject($0, json: json, UsersCommand.fields) }
            }
            let registry = try connectStore(servers)
            var tenantIDs: [String]
            if let tenant {
                guard let id = try registry.tenantID(name: tenant) else { throw CommandFailure("no tenant named \(tenant)") }
                tenantIDs = [id]
            } else {
                tenantIDs = try registry.tenants().map(\.id)
            }
            for tenantID in tenantIDs {
                var after: String?
                repeat {
                    let page = try registry.users(tenantID: tenantID, after: after, limit: 1000)
                    for item in page.items { printObject(JSONValue.parse(Array(item.utf8)) ?? .null, json: json, UsersCommand.fields) }
                    after = page.nextCursor
                } while after != nil
            }
        }
    }
}

/// `registrar groups create|list|get|update|delete|add-member|remove-member` (API).
struct GroupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "groups", abstract: "Manage user groups (through the API).",
                                                    subcommands: [Create.self, List.self, Get.self, Update.self, Delete.self, AddMember.self, RemoveMember.self])
    static let fields = ["id", "name", "memberCount", "description"]

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group.")
        @Argument(help: "The group's name.") var name: String
        @Option(help: "A description.") var description: String?
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let g = try catalogAPI().call("POST", "/v1/groups", json: jsonBody([("name", .string(name)), ("description", description.map(JSONValue.string))]))
            printObject(g, json: json, GroupsCommand.fields)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups.")
        @Flag(help: "One JSON object per line.") var json = false
        func run() throws { try catalogAPI().forEachItem("/v1/groups") { printObject($0, json: json, GroupsCommand.fields) } }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a group and its members.")
        @Argument(help: "The group's id.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let g = try catalogAPI().call("GET", "/v1/groups/\(id)")
            printObject(g, json: json, GroupsCommand.fields)
            if !json, case .array(let members)? = g["members"] { for m in members { printObject(m, json: false, ["userId", "email", "name"]) } }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a group or change its description.")
        @Argument(help: "The group's id.") var id: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new description.") var description: String?
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let g = try catalogAPI().call("PATCH", "/v1/groups/\(id)", json: jsonBody([("name", name.map(JSONValue.string)),
                                                                                        ("description", description.map(JSONValue.string))]))
            printObject(g, json: json, GroupsCommand.fields)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a group (its project roles go with it).")
        @Argument(help: "The group's id.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            try catalogAPI().call("DELETE", "/v1/groups/\(id)")
            print(json ? jsonBody([("deleted", .string(id))]) : "deleted \(id)")
        }
    }

    struct AddMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-member", abstract: "Add a user (by email) to a group.")
        @Argument(help: "The group's id.") var id: String
        @Option(help: "The user's email.") var email: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let g = try catalogAPI().call("POST", "/v1/groups/\(id)/members", json: jsonBody([("email", .string(email))]))
            printObject(g, json: json, GroupsCommand.fields)
        }
    }

    struct RemoveMember: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-member", abstract: "Remove a user (by id) from a group.")
        @Argument(help: "The group's id.") var id: String
        @Option(help: "The user's id.") var user: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            try catalogAPI().call("DELETE", "/v1/groups/\(id)/members/\(user)")
            print(json ? jsonBody([("removed", .string(user))]) : "removed \(user)")
        }
    }
}
