/// An Azure Blob container (and prefix) a folder is synced with: parsed from the binding's URI
/// (`https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/`), stored as the container's URL.
public struct AzureSyncContainer: Sendable, Equatable {
    public var account: String
    public var host: String
    public var container: String
    /// The blob-name prefix synced (may be empty).
    public var prefix: String
    /// `https://HOST/CONTAINER`: what the binding keeps as its "bucket".
    public var url: String { "https://\(host)/\(container)" }

    /// The URI as given to `sync-create`; the error names the `uri` field and what is wrong.
    static func parse(_ uri: String) -> Result<AzureSyncContainer, FieldError> {
        guard uri.hasPrefix("https://"), !uri.contains("?"), !uri.contains("#") else {
            return .failure(FieldError(field: "uri", message: "'\(uri)' must be https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix/ with no query (a SAS belongs in the azure integration)"))
        }
        let rest = uri.dropFirst("https://".count)
        let host = String(rest.prefix { $0 != "/" }).lowercased()
        let path = rest.dropFirst(host.count).drop { $0 == "/" }
        let container = String(path.prefix { $0 != "/" })
        let prefix = String(path.dropFirst(container.count).drop { $0 == "/" })
        guard let suffix = CloudForms.azureSuffixes.first(where: { host.hasSuffix("." + $0) }) else {
            return .failure(FieldError(field: "uri", message: "'\(host)' is not an Azure Blob host (ACCOUNT.blob.core.windows.net)"))
        }
        let account = String(host.dropLast(suffix.count + 1))
        guard (3...24).contains(account.utf8.count), account.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            return .failure(FieldError(field: "uri", message: "the storage account '\(account)' must be 3 to 24 lower-case letters and digits"))
        }
        if let problem = AzureStorageTarget.containerProblem(container) {
            return .failure(FieldError(field: "uri", message: "the container name \(problem)"))
        }
        guard prefix.utf8.count <= 1024, !prefix.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            return .failure(FieldError(field: "uri", message: "the prefix must be at most 1024 bytes with no control characters"))
        }
        return .success(AzureSyncContainer(account: account, host: host, container: container, prefix: prefix))
    }

    /// The container of a stored binding's `bucket` (its URL), or nil when it is an S3 bucket.
    public static func parse(containerURL: String) -> AzureSyncContainer? {
        guard case .success(let c) = parse(containerURL + "/") else { return nil }
        return c
    }

    /// Why an azure integration cannot list this container (a phrase following its name), or
    /// nil: it must be for the container's storage account. The integration's kind is checked
    /// by ``SyncBindingSpec/integrationProblem(_:name:settings:)``.
    public static func accountProblem(containerURL: String, settings: IntegrationSettings) -> String? {
        if let c = parse(containerURL: containerURL), let account = settings.account, account != c.account {
            return "is for storage account '\(account)', not '\(c.account)'"
        }
        return nil
    }
}

/// Plans one signed Azure `List Blobs` page request (`?restype=container&comp=list&prefix=&marker=
/// &maxresults=`) for an azure integration (pure: the caller gives the credentials and the time).
/// The container is addressed as the integration reads blobs: at its endpoint
/// (`ENDPOINT/ACCOUNT/CONTAINER`, emulators) or at the container's own URL.
public enum AzureListRequest {
    /// Blobs per page: the service's maximum.
    public static let maxResults = 5000

    /// The page request's URL and signing headers (secrets: log the container and prefix instead).
    /// The fetcher must send `Range: bytes=0-(rangeLength-1)`: Shared Key signs it.
    public static func plan(kind: IntegrationKind, settings: IntegrationSettings, containerURL: String, prefix: String, marker: String?,
                            rangeLength: Int, auth: RequestAuth, date: SigningDate) -> Result<(url: String, headers: [(String, String)]), CloudURLError> {
        guard let c = AzureSyncContainer.parse(containerURL: containerURL) else {
            return .failure(CloudURLError(code: "invalid_url", message: "'\(containerURL)' is not an Azure container URL"))
        }
        let requests: AzureStorageRequests
        do {
            requests = try AzureStorageRequests(target: AzureStorageTarget(account: c.account, host: c.host, container: c.container, prefix: "", integration: "the binding's"),
                                                kind: kind, settings: settings)
        } catch {
            return .failure(CloudURLError(code: CloudURLError.Code.wrongIntegration, message: error.description))
        }
        do {
            let r = try requests.list(prefix: prefix, marker: marker, maxResults: maxResults, rangeLength: rangeLength, auth: auth, date: date)
            return .success((r.url, r.headers))
        } catch {
            return .failure(CloudURLError(code: UnitErrorCode.signingFailed.rawValue, message: "\(error)"))
        }
    }
}
