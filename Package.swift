// swift-tools-version:6.0
// Registrar — registers cloud-stored data for annotation at high volume.
//
// Dependencies, and why each one:
// - swift-argument-parser: the one `registrar` executable with subcommands; parsing flags,
//   help text and usage errors by hand is exactly what a well-kept package does better.
//
// Deliberately *not* used here: Foundation's JSONDecoder/JSONSerialization (they load the whole
// document; the manifest readers stream), SwiftCSV/CSV.swift (they read whole files or lack
// byte offsets for precise errors; an RFC 4180 row reader is ~150 lines of our own).
import PackageDescription

let package = Package(
    name: "Registrar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "registrar", targets: ["registrar"]),
        .executable(name: "registrar-bench", targets: ["registrar-bench"]),
        .library(name: "RegistrarCore", targets: ["RegistrarCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Pure core: manifest parsing, validation, URL normalisation. No I/O beyond reading
        // bytes handed to it through `ByteSource`.
        .target(
            name: "RegistrarCore",
            swiftSettings: [
                // The readers' byte loops live on class state; runtime exclusivity checks cost
                // ~10% there (measured with perf). Static checking stays on.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "registrar",
            dependencies: [
                "RegistrarCore",
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
        .testTarget(
            name: "RegistrarCoreTests",
            dependencies: ["RegistrarCore"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
