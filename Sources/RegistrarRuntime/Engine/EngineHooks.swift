/// Places where tests reach into the engine: crash it at the worst moments, pace it, poison it.
/// A hook that throws is an infrastructure fault at that point (in process, the closest thing to
/// a crash: the delivery in hand is not acked and the connections are dropped).
///
/// Production code never sets these. Tests that run the engine in process set them directly;
/// the `registrar` binary sets them only from its one test-only switch (`REGISTRAR_TEST_HOOKS=1`,
/// see `TestHooks` in the executable), so no stray environment variable can change a deployment.
public struct EngineHooks: Sendable {
    /// Coordinator: after each confirmed window, with the number of chunks published so far
    /// (a test crashes the coordinator here, mid-split).
    public var afterWindow: (@Sendable (Int) throws -> Void)?
    /// Worker: every delivery before it is handled (pacing, poison chunks).
    public var beforeChunk: (@Sendable (WorkDelivery) throws -> Void)?
    /// Worker: after a chunk's commit, before its progress update and ack (the worst moment to die).
    public var afterCommit: (@Sendable (ChunkID) throws -> Void)?

    public init(afterWindow: (@Sendable (Int) throws -> Void)? = nil, beforeChunk: (@Sendable (WorkDelivery) throws -> Void)? = nil,
                afterCommit: (@Sendable (ChunkID) throws -> Void)? = nil) {
        self.afterWindow = afterWindow
        self.beforeChunk = beforeChunk
        self.afterCommit = afterCommit
    }
}
