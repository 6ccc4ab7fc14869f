// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "detour",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "detour", targets: ["detour"]),
        .executable(name: "detour-bench", targets: ["DetourBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libcurl from Debian's libcurl4-openssl-dev, and typed wrappers for its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CurlShim", dependencies: ["CCurl"]),

        // Pure domain: platforms, statuses, policy model, health tracker. No I/O.
        .target(name: "DetourCore"),

        // YAML and CSV files -> validated DetourCore values, with file:line:column diagnostics.
        .target(
            name: "DetourConfig",
            dependencies: [
                "DetourCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Async libcurl client (HTTP and SMTP) shared by probes and channels.
        .target(
            name: "DetourTransport",
            dependencies: ["CurlShim", .product(name: "Logging", package: "swift-log")]
        ),

        // One file per probe kind, and the probe scheduler.
        .target(
            name: "DetourProbes",
            dependencies: [
                "DetourCore", "DetourTransport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The Channel protocol and its three implementations: Email/, Webhook/, Banner/.
        .target(
            name: "DetourChannels",
            dependencies: [
                "DetourCore", "DetourTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The durable state: policies as loaded, status transitions, incidents, the outbox, the audit log.
        .target(
            name: "DetourStore",
            dependencies: [
                "DetourCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The running daemon: services in one ServiceGroup, the HTTP listener, the control socket, systemd.
        .target(
            name: "DetourDaemon",
            dependencies: [
                "DetourCore", "DetourConfig", "DetourProbes", "DetourTransport", "DetourChannels", "DetourStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "detour",
            dependencies: [
                "DetourCore", "DetourConfig", "DetourProbes", "DetourChannels", "DetourTransport", "DetourStore", "DetourDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Benchmarks that print figures: `swift run -c release detour-bench`.
        .executableTarget(
            name: "DetourBench",
            dependencies: [
                "DetourConfig", "DetourCore", "DetourProbes", "DetourTransport", "DetourChannels", "DetourStore", "DetourDaemon",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Shared helpers for tests: temporary directories, local servers, subprocesses.
        .target(name: "TestKit", path: "Tests/TestKit"),

        .testTarget(name: "DetourCoreTests", dependencies: ["DetourCore"]),
        .testTarget(name: "DetourConfigTests", dependencies: ["DetourConfig", "DetourCore", "TestKit"]),
        .testTarget(name: "DetourTransportTests", dependencies: ["DetourTransport", "TestKit"]),
        .testTarget(name: "DetourProbesTests", dependencies: ["DetourProbes", "DetourCore", "TestKit"]),
        .testTarget(name: "DetourChannelsTests", dependencies: ["DetourChannels", "DetourCore", "DetourTransport", "TestKit"]),
        .testTarget(name: "DetourStoreTests", dependencies: ["DetourStore", "DetourCore", "TestKit"]),
        .testTarget(name: "DetourDaemonTests", dependencies: ["DetourDaemon", "DetourStore", "DetourChannels", "DetourConfig", "DetourCore", "DetourTransport", "TestKit"]),
        // End to end: the built `detour` binary as a subprocess against real local servers.
        .testTarget(name: "DetourCLITests", dependencies: ["TestKit"]),
    ],
    swiftLanguageModes: [.v6]
)
