import ArgumentParser
import Foundation
import RegistrarCore

/// Where Registrar writes its own objects, and the secret its object links are signed with
/// (docs/storage.md).
struct StorageOptions: ParsableArguments {
    @Option(help: "Registrar's own object storage: an absolute directory, file:///path, s3://BUCKET/PREFIX?integration=NAME or https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME (env REGISTRAR_STORAGE_URL; default ~/.local/share/registrar/objects).")
    var storageUrl = ServerOptions.env("REGISTRAR_STORAGE_URL", "")

    /// The configured location (the default directory when none is set).
    func location() throws -> StorageLocation {
        let text = storageUrl.isEmpty ? StorageOptions.defaultDirectory : storageUrl
        do { return try StorageLocation.parse(text) } catch { throw ValidationError("--storage-url: \(error)") }
    }

    /// `REGISTRAR_LINK_SECRET` (at least 32 characters), or nil when unset.
    func linkSecret() throws -> [UInt8]? {
        let text = ServerOptions.env("REGISTRAR_LINK_SECRET", "")
        if text.isEmpty { return nil }
        guard text.utf8.count >= 32 else { throw ValidationError("REGISTRAR_LINK_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)") }
        return Array(text.utf8)
    }

    static var defaultDirectory: String {
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return home + "/.local/share/registrar/objects"
    }
}
