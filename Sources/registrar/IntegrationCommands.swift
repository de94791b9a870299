import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarFetch
import RegistrarPostgres
import RegistrarRuntime

/// `registrar integrations add|list|test|remove|rotate-key`: cloud storage integrations whose
/// credentials jobs read private objects with. Credentials are sealed with the key ring from
/// REGISTRAR_ENCRYPTION_KEYS (or _FILE) and are never printed.
struct IntegrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integrations",
        abstract: "Manage cloud storage integrations (credentials for private buckets).",
        discussion: "Exit status: 0 ok, 1 when `test` could not read the object, 2 on usage errors.",
        subcommands: [IntegrationAddCommand.self, IntegrationListCommand.self, IntegrationTestCommand.self,
                      IntegrationRemoveCommand.self, IntegrationRotateKeyCommand.self]
    )
}

extension IntegrationKind: ExpressibleByArgument {}

/// The credential key ring from the environment, or a precise error saying how to set one.
func loadKeyRing() throws -> EncryptionKeyRing {
    do { return try KeyRingLoader.fromEnvironment() } catch { throw CommandFailure(error.description) }
}

/// `integrations add KIND --name N [--from-file F | flags]`.
struct IntegrationAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an integration (aws, s3-compatible, gcp, azure, direct).",
        discussion: """
        Secrets are best given in a file (--from-file): flags show in the process list. The file is a JSON object \
        with the same names as the flags in snake_case (access_key_id, secret_access_key, …); for gcp, the \
        service-account key file as Google issues it.
        """
    )
    @Argument(help: "aws, s3-compatible, gcp, azure or direct.") var kind: IntegrationKind
    @Option(help: "A name unique in the tenant (used by `submit --integration`).") var name: String
    @Option(help: "A JSON credentials file.") var fromFile: String?
    @Option(help: "Region used when a URL names none.") var region: String?
    @Option(help: "S3-compatible endpoint (required for s3-compatible); emulator/private endpoint otherwise.") var endpoint: String?
    @Flag(inversion: .prefixedNo, help: "Path-style URLs for s3:// objects at the endpoint.") var pathStyle: Bool?
    @Option(help: "AWS/S3 access key id.") var accessKeyId: String?
    @Option(help: "AWS/S3 secret access key (prefer --from-file).") var secretAccessKey: String?
    @Option(help: "AWS session token.") var sessionToken: String?
    @Option(help: "AWS: IAM role to assume with STS.") var roleArn: String?
    @Option(help: "AWS: external id for the role.") var externalId: String?
    @Option(help: "AWS: STS endpoint (default https://sts.amazonaws.com).") var stsEndpoint: String?
    @Option(help: "Azure storage account.") var account: String?
    @Option(help: "Azure account key, base64 (prefer --from-file).") var accountKey: String?
    @Option(help: "Azure SAS token (prefer --from-file).") var sasToken: String?
    @Option(help: "GCS HMAC access id.") var hmacAccessId: String?
    @Option(help: "GCS HMAC secret (prefer --from-file).") var hmacSecret: String?
    @Option(name: .customLong("bucket"), help: "Restrict to this bucket/container (repeatable).") var buckets: [String] = []
    @OptionGroup var servers: ServerOptions

    func run() throws {
        var fields: [String: String] = [:]
        var fileBuckets: [String]? = nil
        if let fromFile {
            guard let data = FileManager.default.contents(atPath: fromFile) else { throw CommandFailure("cannot read \(fromFile)") }
            do { (fields, fileBuckets) = try IntegrationDefinition.fields(fromFile: Array(data)) } catch {
                throw CommandFailure("\(fromFile): \(error)")
            }
        }
        let flags: [String: String?] = [
            "region": region, "endpoint": endpoint, "path_style": pathStyle.map { $0 ? "true" : "false" },
            "access_key_id": accessKeyId, "secret_access_key": secretAccessKey, "session_token": sessionToken,
            "role_arn": roleArn, "external_id": externalId, "sts_endpoint": stsEndpoint, "account": account,
            "account_key": accountKey, "sas_token": sasToken, "hmac_access_id": hmacAccessId, "hmac_secret": hmacSecret,
        ]
        for (k, v) in flags { if let v { fields[k] = v } }  // flags win over the file
        let definition: IntegrationDefinition
        do {
            definition = try IntegrationDefinition.build(kind: kind, fields: fields, buckets: buckets.isEmpty ? fileBuckets : buckets)
        } catch { throw CommandFailure("\(error)") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200 else {
            throw CommandFailure("--name must be 1-200 characters")
        }
        let ring = try loadKeyRing()
        let registry = try connectStore(servers)
        do {
            let stored = try registry.addIntegration(name: name, definition: definition, ring: ring)
            print("added \(stored.kind.rawValue) integration '\(stored.name)' (id \(stored.id), \(definition.secret.summary), key \(stored.keyID))")
        } catch let e as IntegrationStoreError { throw CommandFailure(e.description) }
    }
}

/// `integrations list [--json]`: names, kinds, settings; never credentials.
struct IntegrationListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List integrations (no secrets shown).")
    @Flag(help: "One JSON object per line: {\"id\",\"name\",\"kind\",\"settings\",\"keyId\",\"createdAt\"}.") var json = false
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let all = try connectStore(servers).integrations()
        for i in all {
            if json {
                print(JSONValue.object([("id", .string(i.id)), ("name", .string(i.name)), ("kind", .string(i.kind.rawValue)),
                                        ("settings", i.settings.json), ("keyId", .string(i.keyID)),
                                        ("createdAt", .string(i.createdAt))]).compactText)
            } else {
                let settings = i.settings.json.compactText
                print("\(i.name)\t\(i.kind.rawValue)\t\(i.id)\tkey \(i.keyID)\t\(settings == "{}" ? "" : settings)")
            }
        }
        if all.isEmpty && !json { print("no integrations") }
    }
}

/// `integrations test NAME URL`: reads one object the way a worker would.
struct IntegrationTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Read one object through an integration and show what was derived.",
        discussion: "Exit status: 0 when the object was read, 1 when it was not, 2 on usage errors.")
    @Argument(help: "The integration's name.") var name: String
    @Argument(help: "An object URL, as a manifest would give it.") var url: String
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var fetch: FetchOptions
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let registry = try connectStore(servers)
        guard let stored = try registry.integration(name: name) else { throw CommandFailure("no integration named '\(name)'") }
        let secret: IntegrationSecret
        do { secret = try stored.decryptSecret(ring: try loadKeyRing()) } catch let e as CommandFailure { throw e } catch {
            throw CommandFailure("integration '\(name)': \(error)")
        }
        let fetcher = try RangeFetcher(policy: fetch.policy(concurrency: 4))
        let result = IntegrationCheck.run(name: name, kind: stored.kind, settings: stored.settings, secret: secret, url: url, fetcher: fetcher)
        if json {
            print(result.json)
        } else {
            for (k, v) in result.members {
                if case .string(let s) = v { print("\(k): \(s)") } else { print("\(k): \(v.compactText)") }
            }
        }
        if !result.ok { throw ExitCode(1) }
    }
}

/// `integrations remove NAME`.
struct IntegrationRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an integration (refused while unfinished jobs use it).")
    @Argument(help: "The integration's name.") var name: String
    @OptionGroup var servers: ServerOptions

    func run() throws {
        do {
            guard try connectStore(servers).removeIntegration(name: name) else { throw CommandFailure("no integration named '\(name)'") }
        } catch let e as IntegrationStoreError { throw CommandFailure(e.description) }
        print("removed integration '\(name)'")
    }
}

/// `integrations rotate-key`: re-encrypts every credential with the ring's current (first) key.
struct IntegrationRotateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key", abstract: "Re-encrypt every stored credential with the current (first) key of the ring.",
        discussion: "Put the new key first in REGISTRAR_ENCRYPTION_KEYS, keep the old ones after it, run this, then drop the old keys.")
    @OptionGroup var servers: ServerOptions

    func run() throws {
        let ring = try loadKeyRing()
        do {
            let (rotated, current) = try connectStore(servers).rotateIntegrationKeys(ring: ring)
            print("re-encrypted \(rotated) credential(s) with key \(ring.currentID); \(current) already used it")
        } catch let e as IntegrationStoreError { throw CommandFailure(e.description) }
    }
}
