import Foundation
import Logging
import RegistrarCore
import RegistrarRuntime

/// The binary's only way into the engine's test hooks (`EngineHooks`): one switch,
/// `REGISTRAR_TEST_HOOKS=1`, without which every variable below is ignored, so no stray
/// environment variable can change a deployment. With it (the test suites, `scripts/faults`,
/// `scripts/bench-pipeline`):
///
/// - `REGISTRAR_FAULT_COORDINATOR_EXIT_AFTER_CHUNKS=N`: the coordinator exits (137) once N
///   chunks of a split are confirmed — a crash mid-split.
/// - `REGISTRAR_FAULT_WORKER=exit-after-commit`: a worker exits (137) between a chunk's commit
///   and its ack — the worst moment.
/// - `REGISTRAR_FAULT_POISON_UNIT=TEXT`: a worker exits (137) on any registration chunk holding a
///   URL containing TEXT — a poison chunk, dead-lettered after the delivery limit.
/// - `REGISTRAR_TEST_CHUNK_DELAY_MS=N`: a worker pauses N ms before each chunk, so crash and
///   cancel tests land mid-run and benchmarks can pace.
/// - `REGISTRAR_TEST_FRAME_DELAY_MS=N`: a worker encoding an image sequence pauses N ms before
///   each frame it sends to the encoder, so a kill lands mid-encode.
struct TestHooks {
    var engine = EngineHooks()
    /// Pause before each frame sent to the encoder (`sequence-encode`).
    var frameDelayMicroseconds: UInt32 = 0

    static func fromEnvironment(logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) -> TestHooks {
        var hooks = TestHooks()
        guard environment["REGISTRAR_TEST_HOOKS"] == "1" else { return hooks }
        logger.warning("test hooks enabled (REGISTRAR_TEST_HOOKS=1): never in production")
        if let exitAfter = environment["REGISTRAR_FAULT_COORDINATOR_EXIT_AFTER_CHUNKS"].flatMap(Int.init) {
            hooks.engine.afterWindow = { published in
                if published >= exitAfter { logger.critical("fault hook: exiting"); Glibc.exit(137) }
            }
        }
        if environment["REGISTRAR_FAULT_WORKER"] == "exit-after-commit" {
            hooks.engine.afterCommit = { _ in logger.critical("fault hook: exiting after commit"); Glibc.exit(137) }
        }
        hooks.frameDelayMicroseconds = (environment["REGISTRAR_TEST_FRAME_DELAY_MS"].flatMap(UInt32.init) ?? 0) * 1000
        let delay = environment["REGISTRAR_TEST_CHUNK_DELAY_MS"].flatMap(UInt32.init) ?? 0
        let poison = environment["REGISTRAR_FAULT_POISON_UNIT"].flatMap { $0.isEmpty ? nil : $0 }
        if delay > 0 || poison != nil {
            hooks.engine.beforeChunk = { delivery in
                if let poison, delivery.kind == .chunk, delivery.jobKind == KindQueues.registration.kind,
                   let chunk = try? ChunkCodec.decode(delivery.body),
                   chunk.entries.contains(where: { if case .unit(let u) = $0 { return u.urls.contains { $0.contains(poison) } } else { return false } }) {
                    logger.critical("fault hook: poison chunk", metadata: ["job": "\(chunk.jobID)", "seq": "\(chunk.seq)"])
                    Glibc.exit(137)
                }
                if delay > 0 { usleep(delay * 1000) }
            }
        }
        return hooks
    }
}
