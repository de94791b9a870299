import ArgumentParser
import RegistrarRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The one Registrar executable. Each server role and each operator action is a subcommand.
///
/// Exit codes follow one rule across subcommands: 0 success, 1 "the answer is no" (for
/// `validate`: the manifest cannot be registered), 2 usage errors (bad flags, unreadable file).
@main
struct Registrar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrar",
        abstract: "Register cloud-stored data for annotation at high volume.",
        subcommands: [ValidateCommand.self, ConvertCommand.self, SubmitCommand.self, StatusCommand.self, ErrorsCommand.self, FilesCommand.self,
                      CancelCommand.self, ProbeCommand.self, CheckCommand.self, CoordinatorCommand.self, WorkerCommand.self,
                      MigrateCommand.self, RetryCommand.self, APICommand.self, TenantsCommand.self, KeysCommand.self,
                      IntegrationsCommand.self, DLQCommand.self, ProgressCommand.self,
                      OntologiesCommand.self, UsersCommand.self, GroupsCommand.self, ProjectsCommand.self,
                      DatasetsCommand.self, JobsCommand.self, TasksCommand.self, TemplatesCommand.self, UploadCommand.self, ExportCommand.self, WebhooksCommand.self, AgentCommand.self,
                      FoldersCommand.self]
    )

    /// Custom entry point: ArgumentParser exits 64 on usage errors; our contract is 2.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        LogSetup.bootstrap()
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help / --version
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { printError(message) }
            Glibc.exit(code == .failure && !(error is CommandFailure || error is FileReadError) ? 1 : 2)
        }
    }
}

/// A failure that is the user's input (unreadable file, bad option value): exit code 2.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var text = message
    if !text.hasSuffix("\n") { text += "\n" }
    // write(2) on fd 2: avoids touching C's global `stderr`, which Swift 6 flags as unsafe state.
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}
