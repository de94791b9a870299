import Foundation
import Logging
import ServiceLifecycle

/// The coordinator's webhook dispatcher as a service: every `interval` seconds, one
/// `WebhookDispatcher.dispatchOnce` (`PeriodicPassService`).
public enum WebhookDispatchService {
    public static func make(interval: Double = 1, logger: Logger,
                            connect: @escaping @Sendable () throws -> (dispatcher: WebhookDispatcher, close: () -> Void)) -> PeriodicPassService {
        PeriodicPassService(name: "webhook-dispatch", what: "webhook dispatcher", interval: interval, logger: logger) {
            let (dispatcher, close) = try connect()
            return ({ let n = try dispatcher.dispatchOnce(); return n > 0 ? ["\(n) events"] : [] }, close)
        }
    }
}
