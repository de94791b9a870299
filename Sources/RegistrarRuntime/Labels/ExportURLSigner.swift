import RegistrarCore

/// Presigns a registered file's URL with its integration for an export with `signedUrls: true`
/// (docs/labels.md, "Signed URLs"). The adapter (`IntegrationURLSigner` in RegistrarFetch)
/// loads the integration's credentials; a twin for tests may sign however it likes.
public protocol ExportURLSigner: AnyObject {
    /// `url` presigned for a GET valid `ttlSeconds`; throws (naming the URL without its query,
    /// never a credential) when the integration is gone or cannot sign.
    func sign(_ url: String, integrationID: String, ttlSeconds: Int) throws -> String
}

/// Signs the links of an export chunk's sources: each file's link and frame links, with that
/// file's integration; files registered without one keep their URLs as registered.
public enum ExportLinkSigning {
    /// The sources with their links signed, and per source the map from registered to signed
    /// URL (to rewrite a saved label row's `data_link`s).
    public static func apply(_ sources: [ExportSource], signer: (any ExportURLSigner)?, params: ExportParams) throws -> [(ExportSource, [String: String])] {
        guard params.signedURLs, let signer else { return sources.map { ($0, [:]) } }
        return try sources.map { s in
            guard let integration = s.integrationID else { return (s, [:]) }
            var out = s
            var map: [String: String] = [:]
            func sign(_ url: String) throws -> String {
                if let done = map[url] { return done }
                let signed = try signer.sign(url, integrationID: integration, ttlSeconds: params.signedURLTTLSeconds)
                map[url] = signed
                return signed
            }
            if let link = s.facts.link { out.facts.link = try sign(link) }
            out.frameURLs = try s.frameURLs.map(sign)
            return (out, map)
        }
    }
}
