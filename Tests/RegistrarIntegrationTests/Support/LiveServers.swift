import Testing

/// Every suite that shares the broker's queues and Redis (each test purges them when it starts)
/// nests in this serialized suite, so no two of those tests ever run at once — while suites
/// that need no shared state still run in parallel with them.
@Suite(.serialized) enum LiveServers {}
