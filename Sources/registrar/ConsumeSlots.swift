import Foundation

/// Runs a worker's consume loop `count` times at once, each on a thread of its own (slot 0 on
/// the calling thread), and returns when every one has returned.
///
/// Each slot builds its own connections (AMQP with its own prefetch, PostgreSQL, Redis) and its
/// own verifier, because every C handle belongs to one thread. The point is isolation: a chunk
/// whose objects are slow holds one slot until its fetch deadline, while the other slots keep
/// taking chunks — another tenant's work included.
enum ConsumeSlots {
    static func run(_ count: Int, name: String, _ body: @escaping @Sendable (_ slot: Int) -> Void) {
        let group = DispatchGroup()
        for slot in 1..<max(1, count) {
            group.enter()
            let thread = Thread {
                body(slot)
                group.leave()
            }
            thread.name = "\(name)-\(slot)"
            thread.start()
        }
        body(0)
        group.wait()
    }
}
