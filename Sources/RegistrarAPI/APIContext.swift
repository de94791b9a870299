import Hummingbird
import NIOCore
import RegistrarCore
import RegistrarRuntime

/// The request context of every API route: Hummingbird's core storage plus who is calling.
public struct APIContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` on `/v1` routes (and the status page, via its cookie).
    public var principal: Principal?
    /// The connection's peer (a proxy, when there is one: see `RequestTrust`).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Manifests stream to disk with their own cap (`APIConfiguration.maxManifestBytes`); other
    /// bodies (JSON requests) are small.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, for routes behind `AuthMiddleware`.
    func tenant() throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        return principal
    }

    /// The caller, if a workspace admin (service keys are); else 403 naming the role.
    func workspaceAdmin(_ action: String) throws -> Principal {
        let caller = try tenant()
        guard caller.workspaceRole == .admin else { throw APIError.forbidden(action, required: "workspace role admin") }
        return caller
    }
}
