/// An Azure Blob Storage container and blob-name prefix Registrar writes to
/// (`REGISTRAR_STORAGE_URL=https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME`),
/// and the azure integration whose Shared Key or SAS signs the requests.
///
/// Optional `blockMiB=N` (1…4000, default 64) sets the size from which a write goes up as
/// Put Block + Put Block List (and the block size); smaller objects are one Put Blob.
public struct AzureStorageTarget: Sendable, Equatable {
    /// The storage account (`acct` in `acct.blob.core.windows.net`).
    public var account: String
    /// The host the URL named (`acct.blob.core.windows.net`, or a sovereign cloud's).
    public var host: String
    public var container: String
    /// Blob-name prefix without leading or trailing `/`; empty for the container's root.
    public var prefix: String
    /// The integration's name (looked up in the default tenant).
    public var integration: String
    /// Objects of at least this many bytes go up as blocks of this size.
    public var blockThreshold: Int

    public static let defaultBlockThreshold = 64 << 20
    /// Put Block's largest block (service version 2019-12-12 and later): 4000 MiB.
    public static let maximumBlockMiB = 4000

    public init(account: String, host: String? = nil, container: String, prefix: String, integration: String,
                blockThreshold: Int = AzureStorageTarget.defaultBlockThreshold) {
        self.account = account; self.host = host ?? "\(account).blob.core.windows.net"; self.container = container
        self.prefix = prefix; self.integration = integration; self.blockThreshold = blockThreshold
    }

    /// The blob name of a storage key.
    public func blobName(_ key: ObjectKey) -> String { prefix.isEmpty ? key.text : "\(prefix)/\(key.text)" }
    /// Where the object's metadata (size, SHA-256, content type) is kept: written after the
    /// blob, it is the commit record, as in S3 storage.
    public func metaName(_ key: ObjectKey) -> String { metaRoot + key.text }
    /// The blob-name prefix under which all metadata blobs live.
    public var metaRoot: String { prefix.isEmpty ? ".meta/" : "\(prefix)/.meta/" }
    /// `https://acct.blob.core.windows.net/container/prefix` (no query).
    public var display: String { "https://\(host)/\(container)" + (prefix.isEmpty ? "" : "/\(prefix)") }
    /// The public URL of a blob (path-encoded), as files in this storage are registered.
    public func blobURL(_ name: String) -> String { "https://\(host)/\(container)/\(SigningPercentEncoding.encodePath(name))" }

    /// Whether `text` names an Azure Blob host (`https://ACCOUNT.blob.core.windows.net/…` or a
    /// sovereign cloud's suffix).
    static func isAzureURL(_ text: String) -> Bool {
        guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return false }
        let rest = text.drop(while: { $0 != "/" }).dropFirst(2)
        let host = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != ":" }).lowercased()
        return CloudForms.azureSuffixes.contains { host.hasSuffix("." + $0) }
    }

    static func parse(_ t: String) throws(StorageLocationError) -> AzureStorageTarget {
        guard t.hasPrefix("https://") else { throw StorageLocationError("\(S3StorageTarget.withoutQuery(t)): Azure storage is reached over https://") }
        // A SAS pasted into the settings would end up in logs: it belongs in the integration.
        let parts = try StorageURLParts.parse(t, scheme: "https://", sizeName: "blockMiB", sizes: 1...maximumBlockMiB, sizeWhy: "Azure's block sizes",
                                              refused: ["sv", "sig", "se", "sp", "sr", "ss", "srt", "st", "spr"],
                                              refusal: "a SAS token does not go in the storage URL; store it in the azure integration (sas_token) and name it with integration=",
                                              integrationKinds: "an azure integration")
        let shown = parts.shown, rest = parts.location
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let host = rest[..<slash].lowercased()
        guard let suffix = CloudForms.azureSuffixes.first(where: { host.hasSuffix("." + $0) }) else {
            throw StorageLocationError("\(shown): not an Azure Blob host (ACCOUNT.blob.core.windows.net)")
        }
        let account = String(host.dropLast(suffix.count + 1))
        guard (3...24).contains(account.utf8.count), account.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            throw StorageLocationError("\(shown): the storage account '\(account)' must be 3 to 24 lower-case letters and digits")
        }
        var path = slash < rest.endIndex ? rest[rest.index(after: slash)...] : ""
        while path.hasSuffix("/") { path.removeLast() }
        let containerEnd = path.firstIndex(of: "/") ?? path.endIndex
        let container = String(path[..<containerEnd])
        if let problem = containerProblem(container) { throw StorageLocationError("\(shown): the container name \(problem)") }
        let prefix = containerEnd < path.endIndex ? String(path[path.index(after: containerEnd)...]) : ""
        try parts.checkPrefix(prefix)
        return AzureStorageTarget(account: account, host: host, container: container, prefix: prefix, integration: parts.integration,
                                  blockThreshold: parts.partBytes ?? defaultBlockThreshold)
    }

    /// Why a container name is not one Azure accepts (3–63 of `a-z 0-9 -`, starting and ending
    /// with a letter or digit, no `--`), or nil.
    static func containerProblem(_ c: String) -> String? {
        if c.isEmpty { return "is missing (https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX?integration=NAME)" }
        guard (3...63).contains(c.utf8.count) else { return "'\(c)' must be 3 to 63 characters" }
        guard c.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            return "'\(c)' may hold only lower-case letters, digits and '-'"
        }
        guard c.utf8.first != 0x2D, c.utf8.last != 0x2D, !c.contains("--") else {
            return "'\(c)' must start and end with a letter or digit and have no '--'"
        }
        return nil
    }
}
