import ArgumentParser
import RegistrarPostgres

/// `registrar migrate`: applies the missing schema migrations (idempotent; safe to run from
/// several processes at once — they serialise on an advisory lock).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the PostgreSQL schema.")

    @Flag(help: "Only check: exit 0 if the schema is current, 1 if migrations are missing. Changes nothing.")
    var check = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let registry: PostgresRegistry
        do { registry = try PostgresRegistry(url: servers.postgresURL) } catch {
            throw CommandFailure("cannot connect to PostgreSQL at \(redacted(servers.postgresURL)): \(error)")
        }
        if check {
            let pending = try registry.pendingMigrations()
            if pending.isEmpty {
                print("schema is current")
                return
            }
            print("schema is behind: missing migrations \(pending.map(String.init).joined(separator: ", "))")
            throw ExitCode(1)
        }
        let applied = try registry.migrate()
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}
