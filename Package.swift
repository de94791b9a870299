// swift-tools-version:6.0
// Registrar — registers cloud-stored data for annotation at high volume.
//
// Dependencies, and why each one:
// - swift-argument-parser: the one `registrar` executable with subcommands; parsing flags,
//   help text and usage errors by hand is exactly what a well-kept package does better.
// - swift-log: the ecosystem's logging API (Hummingbird logs through it too).
// - swift-service-lifecycle: coordinator and workers are long-running services that must drain
//   on SIGTERM; ServiceGroup does the signal handling and ordered shutdown.
// - swift-crypto: SHA-256, HMAC and ECDSA P-256 for request signing, AES-256-GCM for stored
//   credentials, and (its _CryptoExtras product) RSA PKCS#1 v1.5 for GCP service-account JWTs
//   (never hand-rolled)
// - hummingbird 2: the operator HTTP API (`registrar api`) and the metrics port of coordinator
//   and workers. A router, streaming request bodies, SSE responses and graceful shutdown via
//   service-lifecycle are exactly what a well-kept server framework does; it is the lighter of
//   the two NIO frameworks mirrored here (Vapor adds minutes to every cold build).
// - swift-metrics + swift-prometheus: counters/gauges/histograms through the ecosystem's metrics
//   API, rendered in Prometheus' text format (the format is easy; bucket bookkeeping and
//   thread-safe registries are not worth re-writing).
// - compress-nio: streaming gunzip of gzip-compressed manifest uploads over NIO ByteBuffers
//   (zlib underneath); our own InflateDecoder is whole-buffer, fine for probing headers, wrong
//   for a 150 MB upload.
// System libraries (Debian 12 -dev packages, wrapped as system-library targets): libpq,
// hiredis, rabbitmq-c and libcurl. Why C clients rather than postgres-nio/async-http-client:
// COPY and multi-transfer HTTP run at the servers' limits, and they build in seconds where the
// NIO stack adds minutes to every cold CI build (see docs/design.md, "Choices and why").
//
// Deliberately *not* used here: Foundation's JSONDecoder/JSONSerialization (they load the whole
// document; the manifest readers stream), SwiftCSV/CSV.swift (they read whole files or lack
// byte offsets for precise errors; an RFC 4180 row reader is ~150 lines of our own).
import PackageDescription

let package = Package(
    name: "Registrar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "registrar", targets: ["registrar"]),
        .executable(name: "registrar-bench", targets: ["registrar-bench"]),
        .library(name: "RegistrarCore", targets: ["RegistrarCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.4.0"),
    ],
    targets: [
        // Pure core: manifest parsing, validation, URL normalisation. No I/O beyond reading
        // bytes handed to it through `ByteSource`.
        .target(
            name: "RegistrarCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: [
                // The readers' byte loops live on class state; runtime exclusivity checks cost
                // ~10% there (measured with perf). Static checking stays on.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        // Ports (protocols each server adapter implements), the job model, and the coordinator
        // and worker logic, written against the ports only.
        .target(
            name: "RegistrarRuntime",
            dependencies: [
                "RegistrarCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // C libraries, each behind a module map and a shim for its variadic functions.
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // One adapter per server: the C calls are quarantined here; each handle is owned by one thread.
        .target(name: "RegistrarPostgres", dependencies: ["CLibpq", "RegistrarCore", "RegistrarRuntime"]),
        .target(name: "RegistrarRedis", dependencies: ["CHiredis", "RegistrarCore", "RegistrarRuntime"]),
        .target(name: "RegistrarRabbitMQ", dependencies: ["CRabbitMQ", "RegistrarCore", "RegistrarRuntime"]),
        // RegistrarFetch: the outbound side — ranged GETs over libcurl multi (retries, SSRF pinning,
        // signing per integration) and the worker's `ObjectVerifier`. (The inbound HTTP is RegistrarAPI.)
        .target(name: "RegistrarFetch", dependencies: ["CCurl", "RegistrarCore", "RegistrarRuntime",
                                               .product(name: "Metrics", package: "swift-metrics")]),
        // The operator surface: HTTP API, tenants and API keys, metrics, status page. It talks
        // to the servers through ports only (`APIBackends`); the executable wires the adapters.
        // Blocking calls run on a small pool of dedicated threads (`BlockingPool`), never on
        // NIO's event loops.
        .target(
            name: "RegistrarAPI",
            dependencies: [
                "RegistrarCore",
                "RegistrarRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .executableTarget(
            name: "registrar",
            dependencies: [
                "RegistrarAPI",
                "RegistrarCore",
                "RegistrarRuntime",
                "RegistrarPostgres",
                "RegistrarRedis",
                "RegistrarRabbitMQ",
                "RegistrarFetch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "registrar-bench",
            dependencies: [
                "RegistrarCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test support, never linked into the binary: the in-memory twin of every port, one
        // conformance suite per port (run by each adapter's tests against the twin and the real
        // server), and the engine's sample second kind (`tally`).
        .target(name: "RegistrarTesting", dependencies: ["RegistrarCore", "RegistrarRuntime"]),
        .testTarget(name: "RegistrarRuntimeTests", dependencies: ["RegistrarRuntime", "RegistrarTesting", "RegistrarCore"]),
        .testTarget(name: "RegistrarAPITests", dependencies: ["RegistrarAPI", "RegistrarRuntime", "RegistrarCore", "RegistrarTesting",
                                                          .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "RegistrarPostgresTests", dependencies: ["RegistrarPostgres", "RegistrarTesting"]),
        .testTarget(name: "RegistrarRedisTests", dependencies: ["RegistrarRedis", "RegistrarTesting"]),
        .testTarget(name: "RegistrarRabbitMQTests", dependencies: ["RegistrarRabbitMQ", "RegistrarTesting"]),
        .testTarget(name: "RegistrarFetchTests", dependencies: ["RegistrarFetch", "RegistrarCore", "RegistrarTesting"], exclude: ["Support"]),
        .testTarget(
            name: "RegistrarIntegrationTests",
            dependencies: ["RegistrarCore", "RegistrarRuntime", "RegistrarPostgres", "RegistrarRedis", "RegistrarRabbitMQ",
                           "RegistrarAPI", "RegistrarTesting", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            exclude: ["MEDIA-FIXTURES.md", "Support/moto_fixture.py", "Support/check_coco.py", "Support/check_encord.py", "Support/webhook_receiver.py",
                      "Support/presign_gate.py"]
        ),
        .testTarget(
            name: "RegistrarCoreTests",
            dependencies: ["RegistrarCore", .product(name: "_CryptoExtras", package: "swift-crypto")],
            resources: [.copy("Fixtures")]
        ),
    ]
)
