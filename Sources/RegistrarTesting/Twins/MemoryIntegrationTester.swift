import Foundation
import RegistrarCore
import RegistrarRuntime

/// The twin of the live integration tester (libcurl's `IntegrationCheck`): objects it "reads"
/// are listed up front; the report names the integration and the URL as shown (no query, no
/// userinfo), `ok` false with `not_found` for any other URL. Records every call.
public final class MemoryIntegrationTester: IntegrationTester, @unchecked Sendable {
    private let lock = NSLock()
    private let readable: Set<String>
    private var _calls: [(integration: String, url: String)] = []

    public init(readable: Set<String> = []) { self.readable = readable }

    /// (integration name, URL) of every test asked for.
    public var calls: [(integration: String, url: String)] { lock.withLock { _calls } }

    public func test(_ integration: StoredIntegration, secret: IntegrationSecret, url: String) throws -> String {
        lock.withLock { _calls.append((integration.name, url)) }
        var members: [(key: String, value: JSONValue)] = [("ok", .bool(readable.contains(url))), ("integration", .string(integration.name)),
                                                          ("kind", .string(integration.kind.rawValue)), ("url", .string(MemoryRegistry.shown(url)))]
        if !readable.contains(url) { members.append(("code", .string("not_found"))) }
        return JSONValue.object(members).compactText
    }
}
